//! Domain jobs as the public API reports them: `virDomainJobInfo`, the typed
//! parameters of `virDomainGetJobStats` (`VIR_DOMAIN_JOB_*` names, libvirt
//! 9.0's spelling and types) and the related enums.

use rvirt_util::{TypedParamValue, TypedParams};

/// `virDomainJobType`.
pub mod job_type {
    rvirt_util::int_enum! {
        virDomainJobType {
            NONE = 0,
            BOUNDED,
            UNBOUNDED,
            COMPLETED,
            FAILED,
            CANCELLED,
        }
    }
}

/// `virDomainJobOperation`.
pub mod operation {
    rvirt_util::int_enum! {
        virDomainJobOperation {
            UNKNOWN = 0,
            START,
            SAVE,
            RESTORE,
            MIGRATION_IN,
            MIGRATION_OUT,
        }
    }
}

/// `virDomainGetJobStatsFlags`.
pub mod stats_flags {
    pub const COMPLETED: u32 = 1 << 0;
    pub const KEEP_COMPLETED: u32 = 1 << 1;
}

/// `virDomainAbortJobFlagsValues`.
pub mod abort_flags {
    pub const POSTCOPY: u32 = 1 << 0;
}

/// `VIR_DOMAIN_JOB_*` typed-parameter names.
pub mod field {
    pub const OPERATION: &str = "operation";
    pub const TIME_ELAPSED: &str = "time_elapsed";
    pub const TIME_ELAPSED_NET: &str = "time_elapsed_net";
    pub const TIME_REMAINING: &str = "time_remaining";
    pub const DOWNTIME: &str = "downtime";
    pub const DOWNTIME_NET: &str = "downtime_net";
    pub const SETUP_TIME: &str = "setup_time";
    pub const DATA_TOTAL: &str = "data_total";
    pub const DATA_PROCESSED: &str = "data_processed";
    pub const DATA_REMAINING: &str = "data_remaining";
    pub const MEMORY_TOTAL: &str = "memory_total";
    pub const MEMORY_PROCESSED: &str = "memory_processed";
    pub const MEMORY_REMAINING: &str = "memory_remaining";
    pub const MEMORY_CONSTANT: &str = "memory_constant";
    pub const MEMORY_NORMAL: &str = "memory_normal";
    pub const MEMORY_NORMAL_BYTES: &str = "memory_normal_bytes";
    pub const MEMORY_BPS: &str = "memory_bps";
    pub const MEMORY_DIRTY_RATE: &str = "memory_dirty_rate";
    pub const MEMORY_PAGE_SIZE: &str = "memory_page_size";
    pub const MEMORY_ITERATION: &str = "memory_iteration";
    pub const MEMORY_POSTCOPY_REQS: &str = "memory_postcopy_requests";
    pub const DISK_TOTAL: &str = "disk_total";
    pub const DISK_PROCESSED: &str = "disk_processed";
    pub const DISK_REMAINING: &str = "disk_remaining";
    pub const DISK_BPS: &str = "disk_bps";
    pub const AUTO_CONVERGE_THROTTLE: &str = "auto_converge_throttle";
    pub const SUCCESS: &str = "success";
    pub const ERRMSG: &str = "errmsg";
}

/// `virDomainJobInfo` (what `virDomainGetJobInfo` returns). Times in ms,
/// sizes in bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobInfo {
    pub type_: i32,
    pub time_elapsed: u64,
    pub time_remaining: u64,
    pub data_total: u64,
    pub data_processed: u64,
    pub data_remaining: u64,
    pub mem_total: u64,
    pub mem_processed: u64,
    pub mem_remaining: u64,
    pub file_total: u64,
    pub file_processed: u64,
    pub file_remaining: u64,
}

impl JobInfo {
    /// The `virDomainGetJobInfo` view of a job-stats answer, as libvirt's
    /// drivers derive one from the other.
    pub fn from_stats(type_: i32, stats: &TypedParams) -> JobInfo {
        let ull = |name: &str| match stats.get(name) {
            Some(TypedParamValue::ULLong(v)) => *v,
            _ => 0,
        };
        JobInfo {
            type_,
            time_elapsed: ull(field::TIME_ELAPSED),
            time_remaining: ull(field::TIME_REMAINING),
            data_total: ull(field::DATA_TOTAL),
            data_processed: ull(field::DATA_PROCESSED),
            data_remaining: ull(field::DATA_REMAINING),
            mem_total: ull(field::MEMORY_TOTAL),
            mem_processed: ull(field::MEMORY_PROCESSED),
            mem_remaining: ull(field::MEMORY_REMAINING),
            ..JobInfo::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_reads_stats() {
        let stats = TypedParams::new()
            .with(field::TIME_ELAPSED, TypedParamValue::ULLong(1500))
            .with(field::DATA_TOTAL, TypedParamValue::ULLong(4096))
            .with(field::MEMORY_REMAINING, TypedParamValue::ULLong(12));
        let info = JobInfo::from_stats(job_type::UNBOUNDED, &stats);
        assert_eq!(info.time_elapsed, 1500);
        assert_eq!(info.data_total, 4096);
        assert_eq!(info.mem_remaining, 12);
        assert_eq!(info.type_, job_type::UNBOUNDED);
    }
}
