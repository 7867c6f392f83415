//! Jobs: one per domain object, as libvirt's `qemuDomainJobObj` — the
//! running migration's operation, phase, progress, abort token and
//! post-copy request, plus the tunables that outlive a job (max speed,
//! max downtime) and the stats of the last completed job.

use parking_lot::Mutex;
use rvirt::job::{field, job_type, operation};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParamValue, TypedParams};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// QEMU's "unlimited" max speed, in MiB/s.
pub const UNLIMITED_MIB: u64 = 8_796_093_022_207;
/// QEMU's default max downtime, ms.
pub const DEFAULT_DOWNTIME_MS: u64 = 300;

/// Figures of a running or finished job (bytes, ms, pages).
#[derive(Clone, Debug, Default)]
pub struct Progress {
    pub memory_total: u64,
    pub memory_processed: u64,
    pub memory_remaining: u64,
    pub data_processed: u64,
    pub memory_bps: u64,
    /// Pages per second.
    pub dirty_rate: u64,
    pub iteration: u64,
    pub constant_pages: u64,
    pub normal_pages: u64,
    pub normal_bytes: u64,
    pub downtime_ms: Option<u64>,
    pub setup_time_ms: u64,
    pub throttle: u32,
    pub time_remaining_ms: Option<u64>,
    pub elapsed_ms: u64,
    /// Multithread compression is on: pages deflated and their bytes.
    pub compression: bool,
    pub compressed_pages: u64,
    pub compressed_bytes: u64,
}

/// One running migration job.
pub struct Job {
    pub operation: i32,
    pub started: Instant,
    pub abort: AtomicBool,
    pub postcopy_allowed: bool,
    pub postcopy_requested: AtomicBool,
    pub progress: Mutex<Progress>,
    /// What unblocks the transfer on abort (shutting its sockets down), so
    /// a sender stuck in a write or in the wait for the destination's
    /// answer returns at once instead of at the next batch.
    interrupts: Mutex<Vec<(u64, Interrupt)>>,
    next_interrupt: AtomicU64,
}

/// Unblocks a transfer's blocking I/O; must be safe to call from any thread
/// and more than once.
pub type Interrupt = Arc<dyn Fn() + Send + Sync>;

/// Keeps an interrupt registered with its job; dropping it unregisters it
/// (once the transfer is over, abort must not touch its sockets).
pub struct InterruptGuard {
    job: Arc<Job>,
    id: u64,
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        self.job.interrupts.lock().retain(|(id, _)| *id != self.id);
    }
}

impl Job {
    pub fn new(operation: i32, postcopy_allowed: bool) -> Arc<Job> {
        Arc::new(Job {
            operation,
            started: Instant::now(),
            abort: AtomicBool::new(false),
            postcopy_allowed,
            postcopy_requested: AtomicBool::new(false),
            progress: Mutex::new(Progress::default()),
            interrupts: Mutex::new(Vec::new()),
            next_interrupt: AtomicU64::new(0),
        })
    }

    /// `virDomainAbortJob`: flag the job and interrupt its blocking I/O.
    pub fn request_abort(&self) {
        self.abort.store(true, Ordering::SeqCst);
        let hooks: Vec<Interrupt> = self
            .interrupts
            .lock()
            .iter()
            .map(|(_, f)| f.clone())
            .collect();
        for f in hooks {
            f();
        }
    }

    /// Register `f` to run on abort (at once when the job is already
    /// aborted) for as long as the guard lives.
    pub fn on_abort(self: &Arc<Self>, f: Interrupt) -> InterruptGuard {
        let id = self.next_interrupt.fetch_add(1, Ordering::SeqCst);
        self.interrupts.lock().push((id, f.clone()));
        // An abort that came before the push did not see it.
        if self.aborted() {
            f();
        }
        InterruptGuard {
            job: self.clone(),
            id,
        }
    }

    pub fn aborted(&self) -> bool {
        self.abort.load(Ordering::SeqCst)
    }

    /// `VIR_ERR_OPERATION_ABORTED` unless the client asked to cancel.
    pub fn check_abort(&self) -> Result<()> {
        if self.aborted() {
            return Err(aborted_error(self.operation));
        }
        Ok(())
    }

    pub fn update(&self, f: impl FnOnce(&mut Progress)) {
        let mut p = self.progress.lock();
        f(&mut p);
    }

    pub fn snapshot(&self) -> Progress {
        let mut p = self.progress.lock().clone();
        p.elapsed_ms = self.started.elapsed().as_millis() as u64;
        p
    }
}

pub fn aborted_error(op: i32) -> Error {
    let what = if op == operation::MIGRATION_IN {
        "migration in"
    } else {
        "migration out"
    };
    Error::new(
        ErrorDomain::TEST,
        ErrorCode::OPERATION_ABORTED,
        format!("{what} job: canceled by client"),
    )
}

/// The per-domain job slot.
pub struct DomainJob {
    pub current: Mutex<Option<Arc<Job>>>,
    pub completed: Mutex<Option<TypedParams>>,
    /// MiB/s.
    pub max_speed: AtomicU64,
    pub max_speed_postcopy: AtomicU64,
    /// ms.
    pub max_downtime: AtomicU64,
}

impl Default for DomainJob {
    fn default() -> DomainJob {
        DomainJob {
            current: Mutex::new(None),
            completed: Mutex::new(None),
            max_speed: AtomicU64::new(UNLIMITED_MIB),
            max_speed_postcopy: AtomicU64::new(UNLIMITED_MIB),
            max_downtime: AtomicU64::new(DEFAULT_DOWNTIME_MS),
        }
    }
}

impl DomainJob {
    pub fn current(&self) -> Option<Arc<Job>> {
        self.current.lock().clone()
    }

    /// Start a job on domain `name`; refused while another one runs
    /// (libvirt's `qemuMigrationJobIsAllowed`).
    pub fn begin(&self, job: Arc<Job>, name: &str) -> Result<()> {
        let mut cur = self.current.lock();
        if cur.is_some() {
            return Err(Error::new(
                ErrorDomain::TEST,
                ErrorCode::OPERATION_INVALID,
                format!("another migration job is already running for domain '{name}'"),
            ));
        }
        *cur = Some(job);
        Ok(())
    }

    /// End `job` (if it is still the current one), keeping its stats.
    pub fn end(&self, job: &Arc<Job>, success: bool, errmsg: Option<&str>) -> TypedParams {
        let mut stats = stats_of(job.operation, &job.snapshot());
        stats.push(field::SUCCESS, TypedParamValue::Boolean(success));
        if let Some(m) = errmsg {
            stats.push(field::ERRMSG, TypedParamValue::String(m.to_string()));
        }
        let mut cur = self.current.lock();
        if cur.as_ref().is_some_and(|c| Arc::ptr_eq(c, job)) {
            *cur = None;
        }
        *self.completed.lock() = Some(stats.clone());
        stats
    }

    /// Drop `job` (if it is still the current one) without it counting as
    /// a completed job: begin's job when the client did not ask for
    /// CHANGE_PROTECTION.
    pub fn release(&self, job: &Arc<Job>) {
        let mut cur = self.current.lock();
        if cur.as_ref().is_some_and(|c| Arc::ptr_eq(c, job)) {
            *cur = None;
        }
    }

    /// `virDomainGetJobStats`.
    pub fn stats(&self, flags: u32) -> (i32, TypedParams) {
        use rvirt::job::stats_flags::{COMPLETED, KEEP_COMPLETED};
        if flags & COMPLETED != 0 {
            let mut done = self.completed.lock();
            let out = match done.as_ref() {
                Some(s) => (job_type::COMPLETED, s.clone()),
                None => (job_type::NONE, TypedParams::new()),
            };
            if flags & KEEP_COMPLETED == 0 {
                *done = None;
            }
            return out;
        }
        match self.current() {
            Some(job) => (
                job_type::UNBOUNDED,
                stats_of(job.operation, &job.snapshot()),
            ),
            None => (job_type::NONE, TypedParams::new()),
        }
    }
}

/// The `VIR_DOMAIN_JOB_*` parameters that mean something here.
pub fn stats_of(op: i32, p: &Progress) -> TypedParams {
    let mut s = TypedParams::new();
    let ull = |s: &mut TypedParams, f: &str, v: u64| s.push(f, TypedParamValue::ULLong(v));
    s.push(field::OPERATION, TypedParamValue::Int(op));
    ull(&mut s, field::TIME_ELAPSED, p.elapsed_ms);
    if let Some(r) = p.time_remaining_ms {
        ull(&mut s, field::TIME_REMAINING, r);
    }
    if let Some(d) = p.downtime_ms {
        ull(&mut s, field::DOWNTIME, d);
    }
    ull(&mut s, field::SETUP_TIME, p.setup_time_ms);
    ull(&mut s, field::DATA_TOTAL, p.memory_total);
    ull(&mut s, field::DATA_PROCESSED, p.data_processed);
    ull(&mut s, field::DATA_REMAINING, p.memory_remaining);
    ull(&mut s, field::MEMORY_TOTAL, p.memory_total);
    ull(&mut s, field::MEMORY_PROCESSED, p.memory_processed);
    ull(&mut s, field::MEMORY_REMAINING, p.memory_remaining);
    ull(&mut s, field::MEMORY_CONSTANT, p.constant_pages);
    ull(&mut s, field::MEMORY_NORMAL, p.normal_pages);
    ull(&mut s, field::MEMORY_NORMAL_BYTES, p.normal_bytes);
    ull(&mut s, field::MEMORY_BPS, p.memory_bps);
    ull(&mut s, field::MEMORY_DIRTY_RATE, p.dirty_rate);
    ull(
        &mut s,
        field::MEMORY_PAGE_SIZE,
        super::memory::PAGE_SIZE as u64,
    );
    ull(&mut s, field::MEMORY_ITERATION, p.iteration);
    s.push(
        field::AUTO_CONVERGE_THROTTLE,
        TypedParamValue::Int(p.throttle as i32),
    );
    if p.compression {
        ull(&mut s, COMPRESSION_PAGES, p.compressed_pages);
        ull(&mut s, COMPRESSION_BYTES, p.compressed_bytes);
    }
    s
}

/// `VIR_DOMAIN_JOB_COMPRESSION_PAGES` / `_BYTES`: pages sent compressed
/// and the compressed bytes that carried them.
pub const COMPRESSION_PAGES: &str = "compression_pages";
pub const COMPRESSION_BYTES: &str = "compression_bytes";

/// The stats as cookie figures (every unsigned one).
pub fn stats_to_pairs(s: &TypedParams) -> Vec<(String, u64)> {
    s.iter()
        .filter_map(|p| match p.value {
            TypedParamValue::ULLong(v) => Some((p.field.clone(), v)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_slot_rules() {
        let slot = DomainJob::default();
        assert_eq!(slot.stats(0).0, job_type::NONE);
        let job = Job::new(operation::MIGRATION_OUT, false);
        slot.begin(job.clone(), "g").unwrap();
        let e = slot
            .begin(Job::new(operation::MIGRATION_OUT, false), "g")
            .unwrap_err();
        assert_eq!(
            e.message,
            "Requested operation is not valid: another migration job is already running for domain 'g'"
        );
        job.update(|p| p.memory_total = 4096);
        let (t, s) = slot.stats(0);
        assert_eq!(t, job_type::UNBOUNDED);
        assert_eq!(s.get_u64(field::MEMORY_TOTAL), Some(4096));
        job.abort.store(true, Ordering::SeqCst);
        let e = job.check_abort().unwrap_err();
        assert_eq!(
            e.message,
            "operation aborted: migration out job: canceled by client"
        );
        slot.end(&job, true, None);
        assert!(slot.current().is_none());
        let (t, s) = slot.stats(rvirt::job::stats_flags::COMPLETED);
        assert_eq!(t, job_type::COMPLETED);
        assert_eq!(s.get(field::SUCCESS), Some(&TypedParamValue::Boolean(true)));
        assert_eq!(
            slot.stats(rvirt::job::stats_flags::COMPLETED).0,
            job_type::NONE
        );
    }
}
