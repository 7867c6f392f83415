//! QEMU's side of the shared job (`rvirt_hypervisor::job`): the figures of
//! `query-migrate` as the engine's progress, and the incoming migrations
//! this host prepared (the QEMU, its port and what finish needs).

use super::qmp::MigrationInfo;
use crate::state::Running;
use parking_lot::Mutex;
use rvirt::driver::DomainRef;
use rvirt::job::field;
use rvirt_hypervisor::incoming::{IncomingStatus, Prepared};
use rvirt_hypervisor::job::{DomainJob, Job, Progress};
use std::sync::Arc;

/// QEMU's figures (`query-migrate`) as the job's progress.
pub fn progress_from(info: &MigrationInfo, p: &mut Progress) {
    if let Some(t) = info.total_time {
        p.elapsed_ms = t;
    }
    p.downtime_ms = info.downtime.or(info.expected_downtime);
    p.setup_time_ms = info.setup_time.unwrap_or(p.setup_time_ms);
    p.throttle = info
        .cpu_throttle_percentage
        .map_or(0, |t| t.min(100) as u32);
    if let Some(ram) = &info.ram {
        p.memory_total = ram.total;
        p.memory_processed = ram.transferred;
        p.memory_remaining = ram.remaining;
        p.data_processed = ram.transferred;
        p.memory_bps = (ram.mbps * 1_000_000.0 / 8.0) as u64;
        p.dirty_rate = ram.dirty_pages_rate;
        p.iteration = ram.dirty_sync_count;
        p.constant_pages = ram.duplicate;
        p.normal_pages = ram.normal;
        p.normal_bytes = ram.normal_bytes;
        p.postcopy_requests = ram.postcopy_requests;
        if ram.page_size > 0 {
            p.page_size = ram.page_size;
        }
    }
}

/// The source's completed figures (its perform cookie) as the
/// destination's progress: QEMU reports nothing once the incoming side
/// finished, and libvirt's destination shows the source's numbers too.
pub fn progress_from_figures(figures: &[(String, u64)], p: &mut Progress) {
    for (name, v) in figures {
        let v = *v;
        match name.as_str() {
            field::TIME_ELAPSED => p.elapsed_ms = v,
            field::DOWNTIME => p.downtime_ms = Some(v),
            field::SETUP_TIME => p.setup_time_ms = v,
            field::DATA_PROCESSED => p.data_processed = v,
            field::MEMORY_TOTAL => p.memory_total = v,
            field::MEMORY_PROCESSED => p.memory_processed = v,
            field::MEMORY_REMAINING => p.memory_remaining = v,
            field::MEMORY_BPS => p.memory_bps = v,
            field::MEMORY_CONSTANT => p.constant_pages = v,
            field::MEMORY_NORMAL => p.normal_pages = v,
            field::MEMORY_NORMAL_BYTES => p.normal_bytes = v,
            field::MEMORY_ITERATION => p.iteration = v,
            field::MEMORY_PAGE_SIZE => p.page_size = v,
            field::MEMORY_POSTCOPY_REQS => p.postcopy_requests = v,
            field::MEMORY_DIRTY_RATE => p.dirty_rate = v,
            field::DISK_TOTAL => p.disk.total = v,
            field::DISK_PROCESSED => p.disk.processed = v,
            field::DISK_REMAINING => p.disk.remaining = v,
            field::DISK_BPS => p.disk.bps = v,
            _ => {}
        }
    }
}

/// One incoming migration between prepare and finish.
pub struct Incoming {
    /// The guest as prepare admitted it.
    pub dom: DomainRef,
    pub status: IncomingStatus,
    /// Why finish failed, for the job's record when the engine discards.
    pub failure: Mutex<Option<String>>,
    pub job: Arc<Job>,
    pub slot: Arc<DomainJob>,
    pub run: Arc<Running>,
    /// The port taken from the range for QEMU's listener.
    pub port: Option<u16>,
    /// Storage migration: what the NBD server holds until finish.
    pub storage: super::storage::IncomingStorage,
    /// The definition PERSIST_DEST makes persistent.
    pub persistent: Option<String>,
}

impl Prepared for Incoming {
    fn name(&self) -> String {
        self.dom.name.clone()
    }
    fn status(&self) -> &IncomingStatus {
        &self.status
    }
    fn job(&self) -> Option<Arc<Job>> {
        Some(self.job.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::qmp::RamStats;
    use rvirt_hypervisor::job::{stats_of, stats_to_pairs};

    #[test]
    fn qemu_figures_reach_the_stats_and_the_destination() {
        let info = MigrationInfo {
            status: Some("completed".into()),
            total_time: Some(1500),
            downtime: Some(42),
            ram: Some(RamStats {
                transferred: 100,
                total: 400,
                mbps: 8.0,
                ..RamStats::default()
            }),
            ..MigrationInfo::default()
        };
        let mut p = Progress::default();
        progress_from(&info, &mut p);
        let stats = stats_of(rvirt::job::operation::MIGRATION_OUT, &p);
        assert_eq!(stats.get_u64(field::TIME_ELAPSED), Some(1500));
        assert_eq!(stats.get_u64(field::DOWNTIME), Some(42));
        assert_eq!(stats.get_u64(field::DATA_PROCESSED), Some(100));
        assert_eq!(stats.get_u64(field::MEMORY_BPS), Some(1_000_000));
        let mut dest = Progress::default();
        progress_from_figures(&stats_to_pairs(&stats), &mut dest);
        assert_eq!((dest.downtime_ms, dest.data_processed), (Some(42), 100));
    }
}
