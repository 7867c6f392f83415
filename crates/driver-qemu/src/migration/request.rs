//! What the QEMU driver carries out, for the shared engine's rules
//! (`rvirt_hypervisor::rules`): every other flag and parameter is refused
//! by name (`VIR_ERR_ARGUMENT_UNSUPPORTED`) before anything moves.

use rvirt::migration::{flags, params};
use rvirt_hypervisor::MigrationSupport;
use rvirt_util::ErrorDomain;
use std::sync::LazyLock;

/// The flags QEMU cannot honour here yet: offline, RDMA and zero-copy.
const REFUSED_FLAGS: u32 = flags::OFFLINE | flags::RDMA_PIN_ALL | flags::ZEROCOPY;

/// Managed, peer-to-peer and tunnelled migration with every other flag.
pub const HONOURED_FLAGS: u32 = flags::ALL & !REFUSED_FLAGS;

/// The parameters QEMU cannot honour here yet: graphics relocation.
/// Every other `VIR_MIGRATE_PARAM_*` is carried out.
const REFUSED_PARAMS: &[&str] = &[params::GRAPHICS_URI];

pub static SUPPORT: LazyLock<MigrationSupport> = LazyLock::new(|| {
    let honoured: Vec<&'static str> = rvirt::migration::PARAM_TYPES
        .iter()
        .map(|(name, _, _)| *name)
        .filter(|name| !REFUSED_PARAMS.contains(name))
        .collect();
    MigrationSupport {
        driver: "QEMU",
        prefix: "qemu",
        domain: ErrorDomain::QEMU,
        flags: HONOURED_FLAGS,
        params: Box::leak(honoured.into_boxed_slice()),
        compression: &["xbzrle", "mt"],
        cookie: rvirt_hypervisor::cookie::CookieFormat::Qemu,
    }
});

#[cfg(test)]
mod tests {
    use super::*;
    use rvirt_util::{ErrorCode, TypedParamValue, TypedParams};

    #[test]
    fn what_qemu_cannot_do_is_refused_by_name() {
        let e = SUPPORT
            .check(flags::LIVE | flags::ZEROCOPY, &TypedParams::new())
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::ARGUMENT_UNSUPPORTED);
        assert!(e.message.contains("VIR_MIGRATE_ZEROCOPY"), "{}", e.message);
        let storage = flags::LIVE | flags::NON_SHARED_DISK;
        let p = TypedParams::new()
            .with(params::MIGRATE_DISKS, TypedParamValue::String("vda".into()))
            .with(params::DISKS_PORT, TypedParamValue::Int(10809));
        let req = SUPPORT.check(storage, &p).unwrap();
        assert_eq!(
            (req.migrate_disks, req.disks_port),
            (vec!["vda".into()], Some(10809))
        );
        for name in REFUSED_PARAMS {
            let p = TypedParams::new().with(*name, TypedParamValue::String("x".into()));
            let e = SUPPORT.check(flags::LIVE, &p).unwrap_err();
            assert!(e.message.contains(&format!("'{name}'")), "{}", e.message);
        }
        let p = TypedParams::new().with(params::COMPRESSION, TypedParamValue::String("mt".into()));
        assert!(SUPPORT.check(flags::LIVE | flags::COMPRESSED, &p).is_ok());
    }
}
