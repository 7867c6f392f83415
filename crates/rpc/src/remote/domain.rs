//! Domain lookup, lifecycle and query procedures.

use super::{SECURITY_LABEL_MAX, STRING_MAX};
use crate::packet::{NonnullDomain, UUID_BUFLEN};

crate::xdr_struct! {
    /// Arguments that are just the domain.
    pub struct DomainArgs {
        pub dom: NonnullDomain,
    }

    /// Arguments that are the domain and flags.
    pub struct DomainFlagsArgs {
        pub dom: NonnullDomain,
        pub flags: u32,
    }

    /// A return that is just a domain.
    pub struct DomainRet {
        pub dom: NonnullDomain,
    }

    /// DOMAIN_LOOKUP_BY_NAME (23): ret [`DomainRet`].
    pub struct DomainLookupByNameArgs {
        pub name: String [STRING_MAX],
    }

    /// DOMAIN_LOOKUP_BY_ID (22): ret [`DomainRet`].
    pub struct DomainLookupByIdArgs {
        pub id: i32,
    }

    /// DOMAIN_LOOKUP_BY_UUID (24): ret [`DomainRet`].
    pub struct DomainLookupByUuidArgs {
        pub uuid: [u8; UUID_BUFLEN],
    }

    /// DOMAIN_GET_INFO (16): args [`DomainArgs`]. `state` is `unsigned char`
    /// and `nr_virt_cpu` `unsigned short`, both 4 bytes in XDR.
    pub struct DomainGetInfoRet {
        pub state: u32,
        pub max_mem: u64,
        pub memory: u64,
        pub nr_virt_cpu: u32,
        pub cpu_time: u64,
    }

    /// DOMAIN_GET_STATE (212): args [`DomainFlagsArgs`].
    pub struct DomainGetStateRet {
        pub state: i32,
        pub reason: i32,
    }

    /// DOMAIN_GET_XML_DESC (14): args [`DomainFlagsArgs`].
    pub struct DomainGetXmlDescRet {
        pub xml: String [STRING_MAX],
    }

    /// DOMAIN_DEFINE_XML (11): ret [`DomainRet`].
    pub struct DomainDefineXmlArgs {
        pub xml: String [STRING_MAX],
    }

    /// DOMAIN_DEFINE_XML_FLAGS (350): ret [`DomainRet`].
    pub struct DomainDefineXmlFlagsArgs {
        pub xml: String [STRING_MAX],
        pub flags: u32,
    }

    /// DOMAIN_CREATE_XML (10): ret [`DomainRet`].
    pub struct DomainCreateXmlArgs {
        pub xml_desc: String [STRING_MAX],
        pub flags: u32,
    }

    /// DOMAIN_SET_AUTOSTART (29): ret void.
    pub struct DomainSetAutostartArgs {
        pub dom: NonnullDomain,
        pub autostart: i32,
    }

    /// DOMAIN_GET_AUTOSTART (15): args [`DomainArgs`].
    pub struct DomainGetAutostartRet {
        pub autostart: i32,
    }

    /// DOMAIN_IS_ACTIVE (150): args [`DomainArgs`].
    pub struct DomainIsActiveRet {
        pub active: i32,
    }

    /// DOMAIN_IS_PERSISTENT (151): args [`DomainArgs`].
    pub struct DomainIsPersistentRet {
        pub persistent: i32,
    }

    /// DOMAIN_IS_UPDATED (202): args [`DomainArgs`].
    pub struct DomainIsUpdatedRet {
        pub updated: i32,
    }

    /// DOMAIN_GET_OS_TYPE (19): args [`DomainArgs`].
    pub struct DomainGetOsTypeRet {
        pub type_: String [STRING_MAX],
    }

    /// DOMAIN_GET_MAX_MEMORY (17): args [`DomainArgs`].
    pub struct DomainGetMaxMemoryRet {
        pub memory: u64,
    }

    /// DOMAIN_GET_SECURITY_LABEL (121): args [`DomainArgs`]. `label` is a C
    /// string as `char label<N>` including its NUL; empty when unconfined.
    pub struct DomainGetSecurityLabelRet {
        pub label: Vec<i8> [SECURITY_LABEL_MAX],
        pub enforcing: i32,
    }

    /// DOMAIN_HAS_MANAGED_SAVE_IMAGE (183): args [`DomainFlagsArgs`].
    pub struct DomainHasManagedSaveImageRet {
        pub result: i32,
    }

    /// DOMAIN_GET_VCPUS_FLAGS (200): args [`DomainFlagsArgs`].
    pub struct DomainGetVcpusFlagsRet {
        pub num: i32,
    }
}

/// DOMAIN_LOOKUP_BY_* and DOMAIN_DEFINE_XML* / DOMAIN_CREATE_XML return this.
pub type DomainLookupByNameRet = DomainRet;
pub type DomainLookupByIdRet = DomainRet;
pub type DomainLookupByUuidRet = DomainRet;
pub type DomainDefineXmlRet = DomainRet;
pub type DomainDefineXmlFlagsRet = DomainRet;
pub type DomainCreateXmlRet = DomainRet;
/// DOMAIN_CREATE_WITH_FLAGS (196) returns the domain with its new id.
pub type DomainCreateWithFlagsRet = DomainRet;

/// DOMAIN_GET_INFO (16).
pub type DomainGetInfoArgs = DomainArgs;
/// DOMAIN_GET_STATE (212).
pub type DomainGetStateArgs = DomainFlagsArgs;
/// DOMAIN_GET_XML_DESC (14).
pub type DomainGetXmlDescArgs = DomainFlagsArgs;
/// DOMAIN_UNDEFINE (35): ret void.
pub type DomainUndefineArgs = DomainArgs;
/// DOMAIN_UNDEFINE_FLAGS (231): ret void.
pub type DomainUndefineFlagsArgs = DomainFlagsArgs;
/// DOMAIN_CREATE (9): ret void.
pub type DomainCreateArgs = DomainArgs;
/// DOMAIN_CREATE_WITH_FLAGS (196).
pub type DomainCreateWithFlagsArgs = DomainFlagsArgs;
/// DOMAIN_SHUTDOWN (33): ret void.
pub type DomainShutdownArgs = DomainArgs;
/// DOMAIN_SHUTDOWN_FLAGS (258): ret void.
pub type DomainShutdownFlagsArgs = DomainFlagsArgs;
/// DOMAIN_DESTROY (12): ret void.
pub type DomainDestroyArgs = DomainArgs;
/// DOMAIN_DESTROY_FLAGS (234): ret void.
pub type DomainDestroyFlagsArgs = DomainFlagsArgs;
/// DOMAIN_SUSPEND (34): ret void.
pub type DomainSuspendArgs = DomainArgs;
/// DOMAIN_RESUME (28): ret void.
pub type DomainResumeArgs = DomainArgs;
/// DOMAIN_REBOOT (27): ret void.
pub type DomainRebootArgs = DomainFlagsArgs;
/// DOMAIN_GET_AUTOSTART (15).
pub type DomainGetAutostartArgs = DomainArgs;
/// DOMAIN_IS_ACTIVE (150).
pub type DomainIsActiveArgs = DomainArgs;
/// DOMAIN_IS_PERSISTENT (151).
pub type DomainIsPersistentArgs = DomainArgs;
/// DOMAIN_IS_UPDATED (202).
pub type DomainIsUpdatedArgs = DomainArgs;
/// DOMAIN_GET_OS_TYPE (19).
pub type DomainGetOsTypeArgs = DomainArgs;
/// DOMAIN_GET_MAX_MEMORY (17).
pub type DomainGetMaxMemoryArgs = DomainArgs;
/// DOMAIN_GET_SECURITY_LABEL (121).
pub type DomainGetSecurityLabelArgs = DomainArgs;
/// DOMAIN_HAS_MANAGED_SAVE_IMAGE (183).
pub type DomainHasManagedSaveImageArgs = DomainFlagsArgs;
/// DOMAIN_GET_VCPUS_FLAGS (200).
pub type DomainGetVcpusFlagsArgs = DomainFlagsArgs;

impl DomainGetSecurityLabelRet {
    pub fn label_str(&self) -> String {
        super::chars_to_string(&self.label)
    }
}
