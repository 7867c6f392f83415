//! The XDR decoders: every argument, return and event type of rvirt-rpc
//! (the list of crates/rpc/tests/fuzz.rs's decode_everything) decodes the
//! input without panicking, and whatever decodes must encode again and
//! decode to the same value (decoders and encoders agree).

use super::{mix, Target};
use rvirt_rpc::remote::connect::*;
use rvirt_rpc::remote::domain::*;
use rvirt_rpc::remote::events::*;
use rvirt_rpc::remote::migration::*;
use rvirt_rpc::remote::NonnullDomain;
use rvirt_rpc::{RemoteError, XdrDecode, XdrEncode};

pub struct Xdr;

/// Decode as `T`; on success check the round trip. Returns whether it
/// decoded.
fn check<T: XdrDecode + XdrEncode + PartialEq + std::fmt::Debug>(bytes: &[u8]) -> bool {
    let Ok(value) = T::from_xdr(bytes) else {
        return false;
    };
    let again = value.to_xdr().expect("a decoded value encodes");
    let back = T::from_xdr(&again).expect("an encoded value decodes");
    // Compared as bytes, not values: a NaN double in typed parameters is
    // unequal to itself yet round-trips exactly.
    let twice = back.to_xdr().expect("a decoded value encodes");
    assert_eq!(twice, again, "{} round trip", std::any::type_name::<T>());
    true
}

macro_rules! decode_all {
    ($bytes:expr; $($t:ty),* $(,)?) => {{
        let mut sig = 0u64;
        $( sig = mix(sig, u64::from(check::<$t>($bytes))); )*
        sig
    }};
}

fn decode_everything(bytes: &[u8]) -> u64 {
    decode_all!(bytes;
        RemoteError, NonnullDomain, rvirt_rpc::packet::StreamHole,
        AuthListRet, ConnectOpenArgs, ConnectSupportsFeatureArgs, ConnectSupportsFeatureRet,
        ConnectGetUriRet, ConnectGetHostnameRet, ConnectGetTypeRet, ConnectGetVersionRet,
        ConnectGetLibVersionRet, ConnectGetSysinfoArgs, ConnectGetSysinfoRet, NodeGetInfoRet,
        ConnectGetCapabilitiesRet, ConnectListAllDomainsArgs, ConnectListAllDomainsRet,
        ConnectListDomainsArgs, ConnectListDomainsRet, ConnectNumOfDomainsRet,
        ConnectListDefinedDomainsArgs, ConnectListDefinedDomainsRet,
        ConnectNumOfDefinedDomainsRet, ConnectIsSecureRet, ConnectGetMaxVcpusArgs,
        ConnectGetMaxVcpusRet, NodeGetSecurityModelRet,
        DomainArgs, DomainFlagsArgs, DomainRet, DomainLookupByNameArgs, DomainLookupByIdArgs,
        DomainLookupByUuidArgs, DomainGetInfoRet, DomainGetStateRet, DomainGetXmlDescRet,
        DomainDefineXmlArgs, DomainDefineXmlFlagsArgs, DomainCreateXmlArgs,
        DomainSetAutostartArgs, DomainGetAutostartRet, DomainIsActiveRet,
        DomainIsPersistentRet, DomainIsUpdatedRet, DomainGetOsTypeRet, DomainGetMaxMemoryRet,
        DomainGetSecurityLabelRet, DomainHasManagedSaveImageRet, DomainGetVcpusFlagsRet,
        ConnectDomainEventCallbackRegisterAnyArgs, ConnectDomainEventCallbackRegisterAnyRet,
        ConnectDomainEventCallbackDeregisterAnyArgs, ConnectDomainEventRegisterAnyArgs,
        ConnectDomainEventDeregisterAnyArgs, ConnectDomainEventRegisterRet,
        DomainEventLifecycleMsg, DomainEventCallbackLifecycleMsg,
        DomainEventCallbackMigrationIterationMsg, DomainEventCallbackJobCompletedMsg,
        DomainMigratePrepareArgs, DomainMigratePrepareRet, DomainMigratePerformArgs,
        DomainMigrateFinishArgs, DomainMigrateFinishRet, DomainMigratePrepare2Args,
        DomainMigrateFinish2Args, DomainMigratePrepareTunnelArgs, DomainMigrateBegin3Args,
        DomainMigrateBegin3Ret, DomainMigratePrepare3Args, DomainMigratePrepare3Ret,
        DomainMigratePrepareTunnel3Args, CookieOutRet, DomainMigratePerform3Args,
        DomainMigrateFinish3Args, DomainMigrateFinish3Ret, DomainMigrateConfirm3Args,
        DomainMigrateBegin3ParamsArgs, DomainMigratePrepare3ParamsArgs,
        DomainMigratePrepareTunnel3ParamsArgs, DomainMigratePerform3ParamsArgs,
        DomainMigrateFinish3ParamsArgs, DomainMigrateConfirm3ParamsArgs, DomainGetJobInfoRet,
        DomainGetJobStatsRet, DomainMigrateSetMaxSpeedArgs, DomainMigrateGetMaxSpeedRet,
        DomainMigrateSetMaxDowntimeArgs, DomainMigrateGetMaxDowntimeRet,
    )
}

impl Target for Xdr {
    fn name(&self) -> &'static str {
        "xdr"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        let mut seeds: Vec<Vec<u8>> = super::framer::framed_seeds()
            .iter()
            .filter_map(|f| f.get(28..).map(<[u8]>::to_vec))
            .collect();
        seeds.extend(super::dispatch::call_payloads());
        seeds
    }

    fn run(&mut self, input: &[u8]) -> u64 {
        mix(decode_everything(input), input.len().min(64) as u64)
    }
}
