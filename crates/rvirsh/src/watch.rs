//! Watching a domain job while the call that runs it blocks (virsh's
//! virshWatchJob): a second thread polls the source's job stats every
//! 100 ms, draws progress with `--verbose`, runs the `--timeout` action once
//! the time is up, and switches to post-copy after the first pre-copy pass
//! with `--postcopy-after-precopy`.
//!
//! Ctrl-C (SIGINT) during the job aborts it, as virsh does: a handler is
//! installed for the job's duration only and the watcher calls
//! virDomainAbortJob; the job call then fails with the driver's error.
//! Outside a watched job SIGINT keeps whatever disposition it had.
//!
//! Progress goes to stderr: a live bar when stderr is a terminal, else
//! virsh's own `\rMigration: [ NN %]` updates every 500 ms, so scripts that
//! read virsh's output read ours.

use crate::progress::{bar_message, virsh_progress_text, RateMeter, Snapshot};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use rvirt::{Domain, ErrorCode};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// What `--timeout` does when the time is up (virshMigrateTimeoutAction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutAction {
    Suspend,
    Postcopy,
}

#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// "Migration", as virsh labels the progress.
    pub label: &'static str,
    pub verbose: bool,
    pub timeout: Option<(Duration, TimeoutAction)>,
    pub postcopy_after_precopy: bool,
}

const POLL: Duration = Duration::from_millis(100);
/// virsh prints a plain update every 500 ms: every fifth poll.
const PLAIN_EVERY: u32 = 5;

/// Set by the SIGINT handler, taken by the watcher (an atomic store is all a
/// signal handler may safely do).
pub(crate) static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn catch_int(_: nix::libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Our SIGINT handler while it lives; the previous disposition after.
pub(crate) struct SigintGuard {
    previous: Option<SigAction>,
}

impl SigintGuard {
    pub(crate) fn install() -> SigintGuard {
        INTERRUPTED.store(false, Ordering::SeqCst);
        // SA_RESTART: the job call blocked in a read must not see EINTR.
        let action = SigAction::new(
            SigHandler::Handler(catch_int),
            SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        // SAFETY: the handler only stores to an atomic.
        let previous = unsafe { signal::sigaction(Signal::SIGINT, &action) }.ok();
        SigintGuard { previous }
    }
}

impl Drop for SigintGuard {
    fn drop(&mut self) {
        if let Some(previous) = &self.previous {
            // SAFETY: puts back the disposition sigaction returned.
            let _ = unsafe { signal::sigaction(Signal::SIGINT, previous) };
        }
    }
}

/// Run `job` (the blocking API call) while watching `dom`'s job; after a
/// successful job with `--verbose`, print virsh's final `[100 %]`.
pub fn watch_job<T, E>(
    dom: &Domain,
    opts: &WatchOptions,
    job: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let tty = std::io::stderr().is_terminal();
    let sigint = SigintGuard::install();
    let result = std::thread::scope(|s| {
        let watcher = s.spawn(move || watch_loop(dom, opts, tty, stop_rx));
        let r = job();
        let _ = stop_tx.send(());
        let _ = watcher.join();
        r
    });
    drop(sigint);
    if result.is_ok() && opts.verbose {
        progress_out(&virsh_progress_text(opts.label, 0, 1));
    }
    result
}

/// virsh flushes stdout first so the two streams interleave in order.
fn progress_out(text: &str) {
    let _ = std::io::stdout().flush();
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// Job figures from virDomainGetJobStats, or virDomainGetJobInfo where the
/// driver has only that.
struct Poller<'a> {
    dom: &'a Domain,
    stats_unsupported: bool,
}

impl Poller<'_> {
    fn poll(&mut self) -> Option<Snapshot> {
        if !self.stats_unsupported {
            match self.dom.get_job_stats(0) {
                Ok((ty, stats)) => return Some(Snapshot::from_stats(ty, &stats)),
                Err(e) if e.code == ErrorCode::NO_SUPPORT => self.stats_unsupported = true,
                Err(_) => return None,
            }
        }
        self.dom
            .get_job_info()
            .ok()
            .map(|i| Snapshot::from_info(&i))
    }
}

fn new_bar(label: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{prefix}: [{bar:30}] {percent:>3}% {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(label.to_string());
    bar
}

fn watch_loop(dom: &Domain, opts: &WatchOptions, tty: bool, stop: mpsc::Receiver<()>) {
    let start = Instant::now();
    let mut poller = Poller {
        dom,
        stats_unsupported: false,
    };
    let mut timeout_pending = opts.timeout;
    let mut postcopy_pending = opts.postcopy_after_precopy;
    let mut meter = RateMeter::new();
    let bar = (opts.verbose && tty).then(|| new_bar(opts.label));
    let mut tick: u32 = 0;
    // A message or a hung-up sender both mean the job call returned.
    while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(POLL) {
        tick = tick.wrapping_add(1);
        if INTERRUPTED.swap(false, Ordering::SeqCst) {
            // virsh ignores a failed abort; the job call reports the end.
            let _ = dom.abort_job(0);
        }
        if let Some((after, action)) = timeout_pending {
            if start.elapsed() >= after {
                timeout_pending = None;
                // virsh only logs a failure of the timeout action.
                let _ = match action {
                    TimeoutAction::Suspend => dom.suspend(),
                    TimeoutAction::Postcopy => dom.migrate_start_post_copy(0),
                };
            }
        }
        if !opts.verbose && !postcopy_pending {
            continue;
        }
        let Some(snap) = poller.poll() else { continue };
        // virsh switches when MIGRATION_ITERATION reports pass 2, i.e. once
        // the first full pass is done.
        if postcopy_pending && snap.iteration.is_some_and(|i| i >= 2) {
            postcopy_pending = false;
            let _ = dom.migrate_start_post_copy(0);
        }
        if !opts.verbose {
            continue;
        }
        let rate = meter.update(start.elapsed().as_secs_f64(), snap.processed());
        match &bar {
            Some(bar) => {
                let total = snap.total();
                if total > 0 {
                    bar.set_length(total);
                    bar.set_position(total.saturating_sub(snap.remaining()));
                }
                bar.set_message(bar_message(&snap, rate));
            }
            None => {
                if tick.is_multiple_of(PLAIN_EVERY) && snap.data_total > 0 {
                    progress_out(&virsh_progress_text(
                        opts.label,
                        snap.data_remaining,
                        snap.data_total,
                    ));
                }
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}
