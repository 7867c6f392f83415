//! The fuzzing loop for one target: pick a corpus entry, mutate it, run it
//! under `catch_unwind`, and keep inputs that show a behaviour not seen
//! before (the target's outcome signature: which error, which procedure,
//! which types decoded), a cheap stand-in for coverage on stable Rust.
//!
//! A panic writes the input to `crash-TARGET-HASH.bin`; a run slower than
//! the time limit writes `slow-…`; a run that never returns is caught by a
//! watchdog thread, which writes `hang-…` and exits the process, since a
//! stuck thread cannot be stopped from outside.

use crate::mutate::mutate;
use crate::rng::{fnv, Rng};
use crate::targets::Target;
use parking_lot::Mutex;
use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Options {
    pub runs: u64,
    pub seed: u64,
    pub slow: Duration,
    pub out: PathBuf,
}

#[derive(Default, Debug)]
pub struct Stats {
    pub execs: u64,
    pub crashes: u64,
    pub slow: u64,
    pub corpus: usize,
    pub signatures: usize,
    pub slowest: Duration,
}

/// The corpus never holds more than this, so memory stays bounded over
/// 10^7 runs; new entries replace random old ones.
const MAX_CORPUS: usize = 4096;

/// Inputs that hang get this long before the watchdog gives up on them.
const HANG: Duration = Duration::from_secs(20);

/// What the watchdog sees: when the current run started (ms since the
/// epoch of the loop, 0 = idle) and its input.
pub struct Current {
    started_ms: AtomicU64,
    pub input: Mutex<Vec<u8>>,
}

impl Current {
    /// Whether a run is in progress.
    pub fn running(&self) -> bool {
        self.started_ms.load(Ordering::SeqCst) != 0
    }
}

thread_local! {
    static IN_RUN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is inside a target's run (its panics are findings).
pub fn in_run() -> bool {
    IN_RUN.with(|f| f.get())
}

pub fn fuzz(target: &mut dyn Target, opts: &Options) -> Stats {
    let mut rng = Rng::new(opts.seed ^ fnv(target.name().as_bytes()));
    let mut corpus = target.seeds();
    assert!(!corpus.is_empty(), "{}: no seeds", target.name());
    let mut seen = HashSet::new();
    let mut stats = Stats::default();
    let epoch = Instant::now();
    let current = Arc::new(Current {
        started_ms: AtomicU64::new(0),
        input: Mutex::new(Vec::new()),
    });
    spawn_watchdog(current.clone(), epoch, target.name(), opts.out.clone());
    crate::signals::watch(current.clone(), target.name(), opts.out.clone());
    // Seeds run first, unmutated.
    let seeds = corpus.clone();
    let mut queue = seeds.into_iter();
    while stats.execs < opts.runs {
        let input = match queue.next() {
            Some(seed) => seed,
            None => {
                let mut b = corpus[rng.below(corpus.len())].clone();
                let other = &corpus[rng.below(corpus.len())];
                mutate(&mut rng, &mut b, other);
                b
            }
        };
        {
            let mut slot = current.input.lock();
            slot.clear();
            slot.extend_from_slice(&input);
        }
        let start = Instant::now();
        current
            .started_ms
            .store(epoch.elapsed().as_millis() as u64 + 1, Ordering::SeqCst);
        IN_RUN.with(|f| f.set(true));
        let outcome = catch_unwind(AssertUnwindSafe(|| target.run(&input)));
        IN_RUN.with(|f| f.set(false));
        current.started_ms.store(0, Ordering::SeqCst);
        let took = start.elapsed();
        stats.execs += 1;
        stats.slowest = stats.slowest.max(took);
        match outcome {
            Err(panic) => {
                stats.crashes += 1;
                let what = panic_text(&panic);
                let file = save(&opts.out, "crash", target.name(), &input);
                eprintln!(
                    "{}: PANIC ({what}); input in {}",
                    target.name(),
                    file.display()
                );
            }
            Ok(signature) => {
                if took > opts.slow && slow_again(target, &input, opts.slow) {
                    stats.slow += 1;
                    let file = save(&opts.out, "slow", target.name(), &input);
                    eprintln!(
                        "{}: slow run {took:?}; input in {}",
                        target.name(),
                        file.display()
                    );
                }
                if seen.insert(signature) {
                    if corpus.len() < MAX_CORPUS {
                        corpus.push(input);
                    } else {
                        let i = rng.below(corpus.len());
                        corpus[i] = input;
                    }
                }
            }
        }
        if stats.execs % 1_000_000 == 0 {
            eprintln!(
                "{}: {} execs, {:.0}s, corpus {}, signatures {}",
                target.name(),
                stats.execs,
                epoch.elapsed().as_secs_f64(),
                corpus.len(),
                seen.len()
            );
        }
    }
    stats.corpus = corpus.len();
    stats.signatures = seen.len();
    stats
}

/// Time a slow input once more: on a loaded machine one run can be
/// descheduled for a second, and only an input slow twice is reported.
fn slow_again(target: &mut dyn Target, input: &[u8], limit: Duration) -> bool {
    let start = Instant::now();
    IN_RUN.with(|f| f.set(true));
    let _ = catch_unwind(AssertUnwindSafe(|| target.run(input)));
    IN_RUN.with(|f| f.set(false));
    start.elapsed() > limit
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic".into())
}

/// Write a finding; the name carries the content hash, so the same input
/// found twice is one file.
pub fn save(dir: &Path, kind: &str, target: &str, input: &[u8]) -> PathBuf {
    let path = dir.join(format!("{kind}-{target}-{:016x}.bin", fnv(input)));
    let _ = std::fs::create_dir_all(dir);
    if let Err(e) = std::fs::write(&path, input) {
        eprintln!("cannot write {}: {e}", path.display());
    }
    path
}

fn spawn_watchdog(current: Arc<Current>, epoch: Instant, target: &'static str, out: PathBuf) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(250));
        let started = current.started_ms.load(Ordering::SeqCst);
        if started == 0 {
            continue;
        }
        let now = epoch.elapsed().as_millis() as u64 + 1;
        if now.saturating_sub(started) > HANG.as_millis() as u64 {
            let input = current.input.lock().clone();
            let file = save(&out, "hang", target, &input);
            eprintln!("{target}: HANG over {HANG:?}; input in {}", file.display());
            std::process::exit(3);
        }
    });
}
