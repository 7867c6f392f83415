//! libvirt's flag values, grouped by the call that takes them. The numbers are
//! part of the wire contract and must never change.

rvirt_util::flag_bits! {
    /// `virConnectListAllDomainsFlags`.
    pub mod list = "VIR_CONNECT_LIST_DOMAINS_" {
        ACTIVE,
        INACTIVE,
        PERSISTENT,
        TRANSIENT,
        RUNNING,
        PAUSED,
        SHUTOFF,
        OTHER,
        MANAGEDSAVE,
        NO_MANAGEDSAVE,
        AUTOSTART,
        NO_AUTOSTART,
        HAS_SNAPSHOT,
        NO_SNAPSHOT,
        HAS_CHECKPOINT,
        NO_CHECKPOINT,
    }
}

rvirt_util::flag_bits! {
    /// `virDomainXMLFlags`.
    pub mod xml = "VIR_DOMAIN_XML_" {
        SECURE,
        INACTIVE,
        UPDATE_CPU,
        MIGRATABLE,
    }
}

rvirt_util::flag_bits! {
    /// `virDomainGetState` reasons live in [`crate::types::reason`]; these are
    /// `virDomainCreateFlags`.
    pub mod create = "VIR_DOMAIN_START_" {
        PAUSED,
        AUTODESTROY,
        BYPASS_CACHE,
        FORCE_BOOT,
        VALIDATE,
        RESET_NVRAM,
    }
}

/// `virDomainDefineFlags`.
pub mod define {
    pub const VALIDATE: u32 = 1 << 0;
}

rvirt_util::flag_bits! {
    /// `virDomainUndefineFlagsValues`.
    pub mod undefine = "VIR_DOMAIN_UNDEFINE_" {
        MANAGED_SAVE,
        SNAPSHOTS_METADATA,
        NVRAM,
        KEEP_NVRAM,
        CHECKPOINTS_METADATA,
        TPM,
        KEEP_TPM,
    }
}

/// `virDrvFeature` (libvirt's src/libvirt_internal.h).
pub mod feature {
    rvirt_util::int_enum! {
        virDrvFeature {
            MIGRATION_V1 = 1,
            REMOTE,
            MIGRATION_V2,
            MIGRATION_P2P,
            MIGRATION_DIRECT,
            MIGRATION_V3,
            MIGRATE_CHANGE_PROTECTION,
            FD_PASSING,
            TYPED_PARAM_STRING,
            PROGRAM_KEEPALIVE,
            XML_MIGRATABLE,
            MIGRATION_OFFLINE,
            MIGRATION_PARAMS,
            REMOTE_EVENT_CALLBACK,
            REMOTE_CLOSE_CALLBACK,
            NETWORK_UPDATE_HAS_CORRECT_ORDER,
        }
    }
}

rvirt_util::flag_bits! {
    /// `virConnectFlags` for open.
    pub mod open = "VIR_CONNECT_" {
        RO,
        NO_ALIASES,
    }
}

/// `virDomainMetadataType`.
pub mod metadata {
    rvirt_util::int_enum! {
        virDomainMetadataType {
            DESCRIPTION = 0,
            TITLE,
            ELEMENT,
        }
    }
}

rvirt_util::flag_bits! {
    /// `virDomainSnapshotCreateFlags`.
    pub mod snapshot_create = "VIR_DOMAIN_SNAPSHOT_CREATE_" {
        REDEFINE,
        CURRENT,
        NO_METADATA,
        HALT,
        DISK_ONLY,
        REUSE_EXT,
        QUIESCE,
        ATOMIC,
        LIVE,
        VALIDATE,
    }
}

/// `virDomainSnapshotListFlags` (`ROOTS` and `DESCENDANTS` share a bit:
/// the first on a domain, the second on a snapshot).
pub mod snapshot_list {
    pub const ROOTS: u32 = 1 << 0;
    pub const DESCENDANTS: u32 = 1 << 0;
    pub const METADATA: u32 = 1 << 1;
    pub const LEAVES: u32 = 1 << 2;
    pub const NO_LEAVES: u32 = 1 << 3;
    pub const NO_METADATA: u32 = 1 << 4;
    pub const INACTIVE: u32 = 1 << 5;
    pub const ACTIVE: u32 = 1 << 6;
    pub const DISK_ONLY: u32 = 1 << 7;
    pub const INTERNAL: u32 = 1 << 8;
    pub const EXTERNAL: u32 = 1 << 9;
    pub const TOPOLOGICAL: u32 = 1 << 10;
    /// `VIR_DOMAIN_SNAPSHOT_FILTERS_*`.
    pub const FILTERS_METADATA: u32 = METADATA | NO_METADATA;
    pub const FILTERS_LEAVES: u32 = LEAVES | NO_LEAVES;
    pub const FILTERS_STATUS: u32 = INACTIVE | ACTIVE | DISK_ONLY;
    pub const FILTERS_LOCATION: u32 = INTERNAL | EXTERNAL;
    pub const FILTERS_ALL: u32 =
        FILTERS_METADATA | FILTERS_LEAVES | FILTERS_STATUS | FILTERS_LOCATION;
}

rvirt_util::flag_bits! {
    /// `virDomainSnapshotRevertFlags`.
    pub mod snapshot_revert = "VIR_DOMAIN_SNAPSHOT_REVERT_" {
        RUNNING,
        PAUSED,
        FORCE,
        RESET_NVRAM,
    }
}

rvirt_util::flag_bits! {
    /// `virDomainSnapshotDeleteFlags`.
    pub mod snapshot_delete = "VIR_DOMAIN_SNAPSHOT_DELETE_" {
        CHILDREN,
        METADATA_ONLY,
        CHILDREN_ONLY,
    }
}

rvirt_util::flag_bits! {
    /// `virDomainCheckpointCreateFlags`.
    pub mod checkpoint_create = "VIR_DOMAIN_CHECKPOINT_CREATE_" {
        REDEFINE,
        QUIESCE,
        REDEFINE_VALIDATE,
    }
}

rvirt_util::flag_bits! {
    /// `virDomainCheckpointXMLFlags`.
    pub mod checkpoint_xml = "VIR_DOMAIN_CHECKPOINT_XML_" {
        SECURE,
        NO_DOMAIN,
        SIZE,
    }
}

rvirt_util::flag_bits! {
    /// `virDomainCheckpointDeleteFlags`.
    pub mod checkpoint_delete = "VIR_DOMAIN_CHECKPOINT_DELETE_" {
        CHILDREN,
        METADATA_ONLY,
        CHILDREN_ONLY,
    }
}

/// `virDomainCheckpointListFlags` (`ROOTS` and `DESCENDANTS` share a bit:
/// the first on a domain, the second on a checkpoint).
pub mod checkpoint_list {
    pub const ROOTS: u32 = 1 << 0;
    pub const DESCENDANTS: u32 = 1 << 0;
    pub const TOPOLOGICAL: u32 = 1 << 1;
    pub const LEAVES: u32 = 1 << 2;
    pub const NO_LEAVES: u32 = 1 << 3;
}
