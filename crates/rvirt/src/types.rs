//! Plain data returned by the API, with libvirt's numbering.

rvirt_util::wire_enum! {
    /// `virDomainState`.
    pub enum DomainState {
        NoState = 0,
        Running,
        Blocked,
        Paused,
        Shutdown,
        Shutoff,
        Crashed,
        PmSuspended,
    }
}

impl DomainState {
    /// A state a newer peer reports that libvirt 9.0 lacks reads as
    /// `VIR_DOMAIN_NOSTATE`.
    pub fn from_i32_or_nostate(v: i32) -> DomainState {
        DomainState::from_i32(v).unwrap_or(DomainState::NoState)
    }

    /// Whether a domain in this state has a running (or paused) guest.
    pub fn is_active(self) -> bool {
        !matches!(self, DomainState::Shutoff | DomainState::NoState)
    }
}

/// State reasons (`virDomainRunningReason`, `virDomainPausedReason`, ...), the
/// values the test driver and migration use.
/// `VIR_DOMAIN_MEMORY_STAT_*`: the tags of `virDomainMemoryStats`.
pub mod memory_stat {
    pub const ACTUAL_BALLOON: i32 = 6;
    pub const RSS: i32 = 7;
    pub const LAST_UPDATE: i32 = 9;
    /// Every tag's name as virsh's dommemstat prints it, by tag value.
    pub const NAMES: [&str; 13] = [
        "swap_in",
        "swap_out",
        "major_fault",
        "minor_fault",
        "unused",
        "available",
        "actual",
        "rss",
        "usable",
        "last_update",
        "disk_caches",
        "hugetlb_pgalloc",
        "hugetlb_pgfail",
    ];
}

pub mod reason {
    rvirt_util::int_enum! {
        virDomainRunningReason {
            RUNNING_UNKNOWN = 0,
            RUNNING_BOOTED,
            RUNNING_MIGRATED,
            RUNNING_RESTORED,
            RUNNING_FROM_SNAPSHOT,
            RUNNING_UNPAUSED,
            RUNNING_MIGRATION_CANCELED,
            RUNNING_POSTCOPY = 10,
            RUNNING_POSTCOPY_FAILED,
        }

        virDomainPausedReason {
            PAUSED_UNKNOWN = 0,
            PAUSED_USER,
            PAUSED_MIGRATION,
            PAUSED_FROM_SNAPSHOT = 7,
            // STARTING_UP is 11 in libvirt.
            PAUSED_POSTCOPY = 12,
            PAUSED_POSTCOPY_FAILED,
        }

        virDomainShutdownReason {
            SHUTDOWN_USER = 1,
        }

        virDomainShutoffReason {
            SHUTOFF_UNKNOWN = 0,
            SHUTOFF_SHUTDOWN,
            SHUTOFF_DESTROYED,
            SHUTOFF_CRASHED,
            SHUTOFF_MIGRATED,
            SHUTOFF_SAVED,
            SHUTOFF_FAILED,
            SHUTOFF_FROM_SNAPSHOT,
        }
    }
}

/// `virDomainInfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DomainInfo {
    pub state: DomainState,
    /// Maximum memory in KiB.
    pub max_mem: u64,
    /// Current memory in KiB.
    pub memory: u64,
    pub nr_virt_cpu: u16,
    /// CPU time used, in nanoseconds.
    pub cpu_time: u64,
}

/// `virVcpuInfo`: one vCPU of a running domain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcpuInfo {
    pub number: u32,
    /// `virVcpuState`: 0 offline, 1 running, 2 blocked.
    pub state: i32,
    /// CPU time used, in nanoseconds.
    pub cpu_time: u64,
    /// The host CPU it runs on (-1: none).
    pub cpu: i32,
}

/// `virDomainBlockStatsStruct` (-1: not known).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockStats {
    pub rd_req: i64,
    pub rd_bytes: i64,
    pub wr_req: i64,
    pub wr_bytes: i64,
    pub errs: i64,
}

/// `virDomainInterfaceStatsStruct` (-1: not known).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InterfaceStats {
    pub rx_bytes: i64,
    pub rx_packets: i64,
    pub rx_errs: i64,
    pub rx_drop: i64,
    pub tx_bytes: i64,
    pub tx_packets: i64,
    pub tx_errs: i64,
    pub tx_drop: i64,
}

/// `virNodeInfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    pub model: String,
    /// Memory in KiB.
    pub memory: u64,
    pub cpus: u32,
    /// MHz.
    pub mhz: u32,
    pub nodes: u32,
    pub sockets: u32,
    pub cores: u32,
    pub threads: u32,
}

/// `virSecurityLabel`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SecurityLabel {
    pub label: String,
    pub enforcing: bool,
}

/// `virSecurityModel`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SecurityModel {
    pub model: String,
    pub doi: String,
}
