//! The domain job, as libvirt's `virDomainJobObj` (src/hypervisor/
//! domain_job.h): one [`DomainJob`] per domain object holds the running
//! [`Job`] (operation, [`Phase`], progress, abort token, post-copy
//! request), the domain's own migration [`Tunables`] and the stats of the
//! last completed job.
//!
//! A job copies the domain's tunables when it starts and a request's
//! one-migration settings (the `bandwidth` param, say) change only that
//! copy, so they end with the job whatever its outcome, as libvirt restores
//! the domain's migration parameters when the job ends
//! (`qemuMigrationParamsReset`). `migrateSetMaxSpeed` during the job
//! changes both: the domain's setting and the running transfer.

use parking_lot::Mutex;
use rvirt::job::{field, job_type, operation};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParamValue, TypedParams};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::times::now_ms;
pub use crate::times::JobTimes;

/// QEMU's "unlimited" max speed, in MiB/s.
pub const UNLIMITED_MIB: u64 = 8_796_093_022_207;
/// QEMU's default max downtime, ms.
pub const DEFAULT_DOWNTIME_MS: u64 = 300;
/// QEMU's default xbzrle cache, bytes (64 MiB).
pub const DEFAULT_XBZRLE_CACHE: u64 = 64 << 20;
/// The page size the stats report unless the hypervisor says otherwise.
pub const DEFAULT_PAGE_SIZE: u64 = 4096;

/// A migration job's phases in the order they run (libvirt's
/// `qemuMigrationJobPhase`, folded for both ends): the source goes
/// Begin → Perform → PerformDone → Confirm, the destination
/// Prepare → Finish. A phase never runs twice and never goes backwards;
/// V1/V2 and direct migration start the source at Perform.
///
/// After a failure in post-copy the job stays, in [`Phase::PostcopyFailed`],
/// and VIR_MIGRATE_POSTCOPY_RESUME runs the resume phases after it (source
/// BeginResume → PerformResume → ConfirmResume, destination PrepareResume →
/// FinishResume). That marker is the one phase a job may return to, and
/// only through [`Job::fail_postcopy`]: a resume attempt that fails leaves
/// the job ready for the next one (libvirt's
/// `QEMU_MIGRATION_PHASE_POSTCOPY_FAILED` and `qemuMigrationCheckPhase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Begin,
    Prepare,
    Perform,
    /// The memory is on the destination; the source guest is paused until
    /// confirm learns whether the destination runs it.
    PerformDone,
    Finish,
    Confirm,
    /// Post-copy broke: the guest runs on the destination while part of
    /// its memory is still on the source; waiting for a resume.
    PostcopyFailed,
    BeginResume,
    PerformResume,
    ConfirmResume,
    PrepareResume,
    FinishResume,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Begin => "begin",
            Phase::Prepare => "prepare",
            Phase::Perform => "perform",
            Phase::PerformDone => "perform_done",
            Phase::Finish => "finish",
            Phase::Confirm => "confirm",
            Phase::PostcopyFailed => "postcopy_failed",
            Phase::BeginResume => "begin_resume",
            Phase::PerformResume => "perform_resume",
            Phase::ConfirmResume => "confirm_resume",
            Phase::PrepareResume => "prepare_resume",
            Phase::FinishResume => "finish_resume",
        }
    }
}

/// The migration settings a transfer follows, in libvirt's units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tunables {
    /// MiB/s.
    pub max_speed: u64,
    /// MiB/s, once post-copy runs.
    pub max_speed_postcopy: u64,
    /// ms.
    pub max_downtime: u64,
    /// Bytes (`compression.xbzrle.cache`, `virDomainMigrateSetCompressionCache`).
    pub xbzrle_cache: u64,
}

impl Default for Tunables {
    fn default() -> Tunables {
        Tunables {
            max_speed: UNLIMITED_MIB,
            max_speed_postcopy: UNLIMITED_MIB,
            max_downtime: DEFAULT_DOWNTIME_MS,
            xbzrle_cache: DEFAULT_XBZRLE_CACHE,
        }
    }
}

/// Figures of a running or finished job (bytes, ms, pages), the fields
/// of QEMU's `query-migrate` that libvirt turns into job stats.
#[derive(Clone, Debug)]
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
    pub page_size: u64,
    pub downtime_ms: Option<u64>,
    pub setup_time_ms: u64,
    pub throttle: u32,
    pub time_remaining_ms: Option<u64>,
    pub elapsed_ms: u64,
    /// Multithread compression is on: pages deflated and their bytes.
    pub compression: bool,
    pub compressed_pages: u64,
    pub compressed_bytes: u64,
    /// Pages the destination asked for during post-copy.
    pub postcopy_requests: u64,
    /// Disk copy (storage migration's mirrors), bytes and bytes/s.
    pub disk: DiskProgress,
    pub times: JobTimes,
}

/// The disks' part of a storage migration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskProgress {
    pub total: u64,
    pub processed: u64,
    pub remaining: u64,
    pub bps: u64,
}

impl Default for Progress {
    fn default() -> Progress {
        Progress {
            memory_total: 0,
            memory_processed: 0,
            memory_remaining: 0,
            data_processed: 0,
            memory_bps: 0,
            dirty_rate: 0,
            iteration: 0,
            constant_pages: 0,
            normal_pages: 0,
            normal_bytes: 0,
            page_size: DEFAULT_PAGE_SIZE,
            downtime_ms: None,
            setup_time_ms: 0,
            throttle: 0,
            time_remaining_ms: None,
            elapsed_ms: 0,
            compression: false,
            compressed_pages: 0,
            compressed_bytes: 0,
            postcopy_requests: 0,
            disk: DiskProgress::default(),
            times: JobTimes::default(),
        }
    }
}

/// Unblocks a transfer's blocking I/O; must be safe to call from any thread
/// and more than once.
pub type Interrupt = Arc<dyn Fn() + Send + Sync>;

/// How the guest's memory moves: all of it before the destination runs
/// the guest, or (post-copy) the rest after it, on demand. Only forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferMode {
    PreCopy,
    /// The destination runs the guest; the source must never run it again.
    PostCopy,
}

/// One running migration job.
pub struct Job {
    pub operation: i32,
    /// The error domain of the driver running it.
    pub domain: ErrorDomain,
    pub started: Instant,
    abort: AtomicBool,
    /// Why the job was interrupted when it was not the client's abort
    /// (the destination went away): what the transfer fails with.
    failure: Mutex<Option<Error>>,
    pub postcopy_allowed: bool,
    postcopy_requested: AtomicBool,
    mode: Mutex<TransferMode>,
    phase: Mutex<Phase>,
    /// This job's settings: the domain's when it started, then the
    /// request's and `migrateSetMaxSpeed`'s.
    tunables: Mutex<Tunables>,
    pub progress: Mutex<Progress>,
    /// What unblocks the transfer on abort (shutting its sockets down, or
    /// QEMU's `migrate_cancel`), so a transfer stuck in a write or in the
    /// wait for the destination's answer returns at once.
    interrupts: Mutex<Vec<(u64, Interrupt)>>,
    next_interrupt: AtomicU64,
}

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
    /// A job in its first `phase`, following `tunables`.
    pub fn new(
        operation: i32,
        domain: ErrorDomain,
        phase: Phase,
        postcopy_allowed: bool,
        tunables: Tunables,
    ) -> Arc<Job> {
        Arc::new(Job {
            operation,
            domain,
            started: Instant::now(),
            abort: AtomicBool::new(false),
            failure: Mutex::new(None),
            postcopy_allowed,
            postcopy_requested: AtomicBool::new(false),
            mode: Mutex::new(TransferMode::PreCopy),
            phase: Mutex::new(phase),
            tunables: Mutex::new(tunables),
            progress: Mutex::new(Progress {
                times: JobTimes::starting(),
                ..Progress::default()
            }),
            interrupts: Mutex::new(Vec::new()),
            next_interrupt: AtomicU64::new(0),
        })
    }

    pub fn phase(&self) -> Phase {
        *self.phase.lock()
    }

    /// Move to `to`, refused when it is not later than the current phase
    /// (a phase runs once, never backwards).
    pub fn advance(&self, to: Phase) -> Result<()> {
        let mut cur = self.phase.lock();
        if to <= *cur {
            return Err(Error::operation_invalid(
                self.domain,
                format!(
                    "migration phase '{}' cannot follow phase '{}'",
                    to.name(),
                    cur.name()
                ),
            ));
        }
        *cur = to;
        Ok(())
    }

    /// Post-copy failed (or a resume attempt did): the job stays, in the
    /// [`Phase::PostcopyFailed`] marker, for VIR_MIGRATE_POSTCOPY_RESUME.
    /// The only way back to an earlier phase, and only to that one.
    pub fn fail_postcopy(&self) {
        self.enter_postcopy();
        *self.phase.lock() = Phase::PostcopyFailed;
    }

    /// Post-copy failed and no resume runs now.
    pub fn is_postcopy_failed(&self) -> bool {
        self.phase() == Phase::PostcopyFailed
    }

    pub fn tunables(&self) -> Tunables {
        *self.tunables.lock()
    }

    pub fn tune(&self, f: impl FnOnce(&mut Tunables)) {
        f(&mut self.tunables.lock());
    }

    /// The speed cap now, MiB/s: the post-copy one once post-copy was asked for.
    pub fn max_speed(&self) -> u64 {
        let t = self.tunables();
        if self.postcopy_requested() {
            t.max_speed_postcopy
        } else {
            t.max_speed
        }
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

    /// Interrupt the transfer as an abort does, failing it with `why`
    /// rather than "canceled by client" (the first reason stays).
    pub fn interrupt_with(&self, why: Error) {
        self.failure.lock().get_or_insert(why);
        self.request_abort();
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

    /// `VIR_ERR_OPERATION_ABORTED` once the client asked to cancel.
    pub fn check_abort(&self) -> Result<()> {
        if self.aborted() {
            return Err(self.aborted_error());
        }
        Ok(())
    }

    /// libvirt's "migration out job: canceled by client".
    pub fn aborted_error(&self) -> Error {
        if let Some(why) = self.failure.lock().clone() {
            return why;
        }
        let what = if self.operation == operation::MIGRATION_IN {
            "migration in"
        } else {
            "migration out"
        };
        Error::new(
            self.domain,
            ErrorCode::OPERATION_ABORTED,
            format!("{what} job: canceled by client"),
        )
    }

    /// `virDomainMigrateStartPostCopy` was called (and allowed).
    pub fn request_postcopy(&self) {
        self.postcopy_requested.store(true, Ordering::SeqCst);
    }

    pub fn postcopy_requested(&self) -> bool {
        self.postcopy_requested.load(Ordering::SeqCst)
    }

    /// The hypervisor switched to post-copy; true the first time only.
    pub fn enter_postcopy(&self) -> bool {
        let mut mode = self.mode.lock();
        let first = *mode == TransferMode::PreCopy;
        *mode = TransferMode::PostCopy;
        first
    }

    pub fn in_postcopy(&self) -> bool {
        *self.mode.lock() == TransferMode::PostCopy
    }

    pub fn update(&self, f: impl FnOnce(&mut Progress)) {
        f(&mut self.progress.lock());
    }

    pub fn snapshot(&self) -> Progress {
        let mut p = self.progress.lock().clone();
        p.elapsed_ms = match p.times.started {
            // A destination's job started with the source's.
            Some(t) => now_ms().saturating_sub(t),
            None => self.started.elapsed().as_millis() as u64,
        };
        p
    }
}

/// The per-domain job slot.
pub struct DomainJob {
    current: Mutex<Option<Arc<Job>>>,
    completed: Mutex<Option<TypedParams>>,
    /// The domain's own settings, which outlive jobs.
    tunables: Mutex<Tunables>,
}

impl Default for DomainJob {
    fn default() -> DomainJob {
        DomainJob {
            current: Mutex::new(None),
            completed: Mutex::new(None),
            tunables: Mutex::new(Tunables::default()),
        }
    }
}

impl DomainJob {
    pub fn current(&self) -> Option<Arc<Job>> {
        self.current.lock().clone()
    }

    /// The domain's own settings (what `migrateGetMaxSpeed` reports).
    pub fn tunables(&self) -> Tunables {
        *self.tunables.lock()
    }

    /// Change the domain's settings and the running job's
    /// (`migrateSetMaxSpeed` / `SetMaxDowntime` during a migration).
    pub fn tune(&self, f: impl Fn(&mut Tunables)) {
        f(&mut self.tunables.lock());
        if let Some(job) = self.current() {
            job.tune(f);
        }
    }

    /// Start a job on domain `name`; refused while another one runs
    /// (libvirt's `qemuMigrationJobIsAllowed`). The job's tunables start
    /// as the domain's, then `one_off` applies the request's own.
    pub fn begin(
        &self,
        job: Arc<Job>,
        name: &str,
        one_off: impl FnOnce(&mut Tunables),
    ) -> Result<()> {
        let mut cur = self.current.lock();
        if cur.is_some() {
            return Err(Error::operation_invalid(
                job.domain,
                format!("another migration job is already running for domain '{name}'"),
            ));
        }
        let mut t = self.tunables();
        one_off(&mut t);
        *job.tunables.lock() = t;
        *cur = Some(job);
        Ok(())
    }

    fn take_if_current(&self, job: &Arc<Job>) {
        let mut cur = self.current.lock();
        if cur.as_ref().is_some_and(|c| Arc::ptr_eq(c, job)) {
            *cur = None;
        }
    }

    /// End `job` (if it is still the current one), keeping its stats.
    pub fn end(&self, job: &Arc<Job>, success: bool, errmsg: Option<&str>) -> TypedParams {
        let mut stats = stats_of(job.operation, &job.snapshot());
        stats.push(field::SUCCESS, TypedParamValue::Boolean(success));
        if let Some(m) = errmsg {
            stats.push(field::ERRMSG, TypedParamValue::String(m.to_string()));
        }
        self.take_if_current(job);
        *self.completed.lock() = Some(stats.clone());
        stats
    }

    /// Forget the completed job's stats (libvirt's destination after
    /// post-copy: all but the times would be obsolete).
    pub fn forget_completed(&self) {
        *self.completed.lock() = None;
    }

    /// Drop `job` (if it is still the current one) without it counting as
    /// a completed job: begin's job when the client did not ask for
    /// CHANGE_PROTECTION.
    pub fn release(&self, job: &Arc<Job>) {
        self.take_if_current(job);
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

/// `VIR_DOMAIN_JOB_COMPRESSION_PAGES` / `_BYTES`: pages sent compressed
/// and the compressed bytes that carried them.
pub const COMPRESSION_PAGES: &str = "compression_pages";
pub const COMPRESSION_BYTES: &str = "compression_bytes";

/// The `VIR_DOMAIN_JOB_*` parameters of `p`, in the order and with the
/// omissions of libvirt's `qemuDomainMigrationJobDataToParams`.
pub fn stats_of(op: i32, p: &Progress) -> TypedParams {
    let mut s = TypedParams::new();
    let ull = |s: &mut TypedParams, f: &str, v: u64| s.push(f, TypedParamValue::ULLong(v));
    let opt = |s: &mut TypedParams, f: &str, v: Option<u64>| {
        if let Some(v) = v {
            s.push(f, TypedParamValue::ULLong(v))
        }
    };
    let nonzero = |v: u64| (v != 0).then_some(v);
    s.push(field::OPERATION, TypedParamValue::Int(op));
    ull(&mut s, field::TIME_ELAPSED, p.elapsed_ms);
    opt(
        &mut s,
        field::TIME_ELAPSED_NET,
        p.times.without_delta(p.elapsed_ms),
    );
    opt(&mut s, field::TIME_REMAINING, p.time_remaining_ms);
    opt(&mut s, field::DOWNTIME, p.downtime_ms);
    let downtime_net = p.downtime_ms.and_then(|d| p.times.without_delta(d));
    opt(&mut s, field::DOWNTIME_NET, downtime_net);
    ull(&mut s, field::SETUP_TIME, p.setup_time_ms);
    let disk = &p.disk;
    ull(&mut s, field::DATA_TOTAL, p.memory_total + disk.total);
    ull(
        &mut s,
        field::DATA_PROCESSED,
        p.data_processed + disk.processed,
    );
    ull(
        &mut s,
        field::DATA_REMAINING,
        p.memory_remaining + disk.remaining,
    );
    ull(&mut s, field::MEMORY_TOTAL, p.memory_total);
    ull(&mut s, field::MEMORY_PROCESSED, p.memory_processed);
    ull(&mut s, field::MEMORY_REMAINING, p.memory_remaining);
    opt(&mut s, field::MEMORY_BPS, nonzero(p.memory_bps));
    ull(&mut s, field::MEMORY_CONSTANT, p.constant_pages);
    ull(&mut s, field::MEMORY_NORMAL, p.normal_pages);
    ull(&mut s, field::MEMORY_NORMAL_BYTES, p.normal_bytes);
    ull(&mut s, field::MEMORY_DIRTY_RATE, p.dirty_rate);
    ull(&mut s, field::MEMORY_ITERATION, p.iteration);
    ull(&mut s, field::MEMORY_POSTCOPY_REQS, p.postcopy_requests);
    opt(&mut s, field::MEMORY_PAGE_SIZE, nonzero(p.page_size));
    ull(&mut s, field::DISK_TOTAL, disk.total);
    ull(&mut s, field::DISK_PROCESSED, disk.processed);
    ull(&mut s, field::DISK_REMAINING, disk.remaining);
    opt(&mut s, field::DISK_BPS, nonzero(disk.bps));
    if p.compression {
        ull(&mut s, COMPRESSION_PAGES, p.compressed_pages);
        ull(&mut s, COMPRESSION_BYTES, p.compressed_bytes);
    }
    if p.throttle != 0 {
        let throttle = TypedParamValue::Int(p.throttle as i32);
        s.push(field::AUTO_CONVERGE_THROTTLE, throttle);
    }
    s
}

/// What a migration cookie's `<statistics>` carries of `job`: its stats
/// and its wall-clock times ([`crate::times`]). The disk mirrors' figures
/// stay with the source, as libvirt's `mirrorStats` do.
pub fn cookie_figures(job: &Job) -> Vec<(String, u64)> {
    let p = Progress {
        disk: DiskProgress::default(),
        ..job.snapshot()
    };
    let mut figures = stats_to_pairs(&stats_of(job.operation, &p));
    figures.extend(p.times.to_figures(p.downtime_ms));
    figures
}

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

    fn out_job() -> Arc<Job> {
        Job::new(
            operation::MIGRATION_OUT,
            ErrorDomain::TEST,
            Phase::Begin,
            false,
            Tunables::default(),
        )
    }

    #[test]
    fn job_slot_rules() {
        let slot = DomainJob::default();
        assert_eq!(slot.stats(0).0, job_type::NONE);
        let job = out_job();
        slot.begin(job.clone(), "g", |_| {}).unwrap();
        let e = slot.begin(out_job(), "g", |_| {}).unwrap_err();
        assert_eq!(
            e.message,
            "Requested operation is not valid: another migration job is already running for domain 'g'"
        );
        job.update(|p| p.memory_total = 4096);
        let (t, s) = slot.stats(0);
        assert_eq!(t, job_type::UNBOUNDED);
        assert_eq!(s.get_u64(field::MEMORY_TOTAL), Some(4096));
        assert_eq!(s.get_u64(field::MEMORY_PAGE_SIZE), Some(4096));
        job.request_abort();
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

    #[test]
    fn phases_run_once_and_forward() {
        let job = out_job();
        job.advance(Phase::Perform).unwrap();
        let e = job.advance(Phase::Perform).unwrap_err();
        assert_eq!(e.code, ErrorCode::OPERATION_INVALID);
        assert!(e
            .message
            .contains("'perform' cannot follow phase 'perform'"));
        assert!(job.advance(Phase::Begin).is_err());
        job.advance(Phase::PerformDone).unwrap();
        job.advance(Phase::Confirm).unwrap();
        assert_eq!(job.phase(), Phase::Confirm);
    }

    #[test]
    fn a_failed_postcopy_job_returns_only_to_its_marker() {
        let job = out_job();
        job.advance(Phase::PerformDone).unwrap();
        job.fail_postcopy();
        assert!(job.in_postcopy() && job.is_postcopy_failed());
        job.advance(Phase::BeginResume).unwrap();
        assert!(job.advance(Phase::Confirm).is_err());
        job.advance(Phase::PerformResume).unwrap();
        // The resume failed: ready for another one.
        job.fail_postcopy();
        job.advance(Phase::BeginResume).unwrap();
        assert!(job.advance(Phase::BeginResume).is_err());
    }

    #[test]
    fn one_off_settings_stay_with_their_job() {
        let slot = DomainJob::default();
        slot.tune(|t| t.max_speed = 30);
        let job = out_job();
        slot.begin(job.clone(), "g", |t| t.max_speed = 1).unwrap();
        assert_eq!(job.max_speed(), 1);
        assert_eq!(slot.tunables().max_speed, 30);
        // migrateSetMaxSpeed during the job reaches both.
        slot.tune(|t| t.max_speed = 7);
        assert_eq!(job.max_speed(), 7);
        slot.end(&job, false, Some("aborted"));
        assert_eq!(slot.tunables().max_speed, 7);
        let next = out_job();
        slot.begin(next.clone(), "g", |_| {}).unwrap();
        assert_eq!(next.max_speed(), 7);
    }
}
