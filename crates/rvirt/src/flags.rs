//! libvirt's flag values, grouped by the call that takes them. The numbers are
//! part of the wire contract and must never change.

/// `virConnectListAllDomainsFlags`.
pub mod list {
    pub const ACTIVE: u32 = 1 << 0;
    pub const INACTIVE: u32 = 1 << 1;
    pub const PERSISTENT: u32 = 1 << 2;
    pub const TRANSIENT: u32 = 1 << 3;
    pub const RUNNING: u32 = 1 << 4;
    pub const PAUSED: u32 = 1 << 5;
    pub const SHUTOFF: u32 = 1 << 6;
    pub const OTHER: u32 = 1 << 7;
    pub const MANAGEDSAVE: u32 = 1 << 8;
    pub const NO_MANAGEDSAVE: u32 = 1 << 9;
    pub const AUTOSTART: u32 = 1 << 10;
    pub const NO_AUTOSTART: u32 = 1 << 11;
    pub const HAS_SNAPSHOT: u32 = 1 << 12;
    pub const NO_SNAPSHOT: u32 = 1 << 13;
    pub const HAS_CHECKPOINT: u32 = 1 << 14;
    pub const NO_CHECKPOINT: u32 = 1 << 15;
    pub const ALL: u32 = (1 << 16) - 1;
}

/// `virDomainXMLFlags`.
pub mod xml {
    pub const SECURE: u32 = 1 << 0;
    pub const INACTIVE: u32 = 1 << 1;
    pub const UPDATE_CPU: u32 = 1 << 2;
    pub const MIGRATABLE: u32 = 1 << 3;
}

/// `virDomainGetState` reasons live in [`crate::types::reason`]; these are
/// `virDomainCreateFlags`.
pub mod create {
    pub const PAUSED: u32 = 1 << 0;
    pub const AUTODESTROY: u32 = 1 << 1;
    pub const BYPASS_CACHE: u32 = 1 << 2;
    pub const FORCE_BOOT: u32 = 1 << 3;
    pub const VALIDATE: u32 = 1 << 4;
    pub const RESET_NVRAM: u32 = 1 << 5;
}

/// `virDomainDefineFlags`.
pub mod define {
    pub const VALIDATE: u32 = 1 << 0;
}

/// `virDomainUndefineFlagsValues`.
pub mod undefine {
    pub const MANAGED_SAVE: u32 = 1 << 0;
    pub const SNAPSHOTS_METADATA: u32 = 1 << 1;
    pub const NVRAM: u32 = 1 << 2;
    pub const KEEP_NVRAM: u32 = 1 << 3;
    pub const CHECKPOINTS_METADATA: u32 = 1 << 4;
    pub const TPM: u32 = 1 << 5;
    pub const KEEP_TPM: u32 = 1 << 6;
}

/// `virDrvFeature` (libvirt's src/libvirt_internal.h).
pub mod feature {
    pub const MIGRATION_V1: i32 = 1;
    pub const REMOTE: i32 = 2;
    pub const MIGRATION_V2: i32 = 3;
    pub const MIGRATION_P2P: i32 = 4;
    pub const MIGRATION_DIRECT: i32 = 5;
    pub const MIGRATION_V3: i32 = 6;
    pub const MIGRATE_CHANGE_PROTECTION: i32 = 7;
    pub const FD_PASSING: i32 = 8;
    pub const TYPED_PARAM_STRING: i32 = 9;
    pub const PROGRAM_KEEPALIVE: i32 = 10;
    pub const XML_MIGRATABLE: i32 = 11;
    pub const MIGRATION_OFFLINE: i32 = 12;
    pub const MIGRATION_PARAMS: i32 = 13;
    pub const REMOTE_EVENT_CALLBACK: i32 = 14;
    pub const REMOTE_CLOSE_CALLBACK: i32 = 15;
    pub const NETWORK_UPDATE_HAS_CORRECT_ORDER: i32 = 16;
}

/// `virConnectFlags` for open.
pub mod open {
    pub const RO: u32 = 1 << 0;
    pub const NO_ALIASES: u32 = 1 << 1;
}

/// `virDomainMetadataType`.
pub mod metadata {
    pub const DESCRIPTION: i32 = 0;
    pub const TITLE: i32 = 1;
    pub const ELEMENT: i32 = 2;
}
