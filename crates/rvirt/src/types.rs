//! Plain data returned by the API, with libvirt's numbering.

/// `virDomainState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum DomainState {
    NoState = 0,
    Running = 1,
    Blocked = 2,
    Paused = 3,
    Shutdown = 4,
    Shutoff = 5,
    Crashed = 6,
    PmSuspended = 7,
}

impl DomainState {
    pub fn from_i32(v: i32) -> DomainState {
        use DomainState::*;
        match v {
            1 => Running,
            2 => Blocked,
            3 => Paused,
            4 => Shutdown,
            5 => Shutoff,
            6 => Crashed,
            7 => PmSuspended,
            _ => NoState,
        }
    }

    /// Whether a domain in this state has a running (or paused) guest.
    pub fn is_active(self) -> bool {
        !matches!(self, DomainState::Shutoff | DomainState::NoState)
    }
}

/// State reasons (`virDomainRunningReason`, `virDomainPausedReason`, ...), the
/// values the test driver and migration use.
pub mod reason {
    pub const RUNNING_UNKNOWN: i32 = 0;
    pub const RUNNING_BOOTED: i32 = 1;
    pub const RUNNING_MIGRATED: i32 = 2;
    pub const RUNNING_RESTORED: i32 = 3;
    pub const RUNNING_FROM_SNAPSHOT: i32 = 4;
    pub const RUNNING_UNPAUSED: i32 = 5;
    pub const RUNNING_MIGRATION_CANCELED: i32 = 6;
    pub const RUNNING_POSTCOPY: i32 = 10;

    pub const PAUSED_UNKNOWN: i32 = 0;
    pub const PAUSED_USER: i32 = 1;
    pub const PAUSED_MIGRATION: i32 = 2;
    pub const PAUSED_POSTCOPY: i32 = 11;
    pub const PAUSED_POSTCOPY_FAILED: i32 = 12;

    pub const SHUTDOWN_USER: i32 = 1;

    pub const SHUTOFF_UNKNOWN: i32 = 0;
    pub const SHUTOFF_SHUTDOWN: i32 = 1;
    pub const SHUTOFF_DESTROYED: i32 = 2;
    pub const SHUTOFF_CRASHED: i32 = 3;
    pub const SHUTOFF_MIGRATED: i32 = 4;
    pub const SHUTOFF_SAVED: i32 = 5;
    pub const SHUTOFF_FAILED: i32 = 6;
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
