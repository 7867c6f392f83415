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
