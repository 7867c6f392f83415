//! Sampling both hosts' view of a guest during a migration, to prove it
//! never ran on both.

use super::{virsh, Host, Pair};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// One sample of a guest's state on one host.
#[derive(Clone, Debug)]
pub struct Sample {
    pub host: &'static str,
    pub state: Option<String>,
}

/// Samples `domstate` of a guest on both hosts, alternately, until
/// stopped: enough to tell whether the guest ever ran on both at once.
pub struct Watch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<Sample>>>,
}

impl Watch {
    pub fn start(src: &Host, src_name: &str, dst: &Host, dst_name: &str) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let (su, sn, du, dn) = (
            src.uri(),
            src_name.to_string(),
            dst.uri(),
            dst_name.to_string(),
        );
        let s = stop.clone();
        let state = |uri: &str, name: &str| {
            let out = virsh(uri, &format!("domstate {name}"));
            out.ok.then(|| out.stdout.trim().to_string())
        };
        let thread = std::thread::spawn(move || {
            // At least one full round, however quick the migration.
            let mut samples = Vec::new();
            loop {
                samples.push(Sample {
                    host: "src",
                    state: state(&su, &sn),
                });
                samples.push(Sample {
                    host: "dst",
                    state: state(&du, &dn),
                });
                if s.load(Ordering::Relaxed) {
                    break;
                }
            }
            samples.push(Sample {
                host: "src",
                state: state(&su, &sn),
            });
            samples
        });
        Watch {
            stop,
            thread: Some(thread),
        }
    }

    /// Sample guest `name`, under that name on both hosts of `pair`.
    pub fn guest(pair: &Pair, name: &str) -> Watch {
        Watch::start(&pair.src, name, &pair.dst, name)
    }

    /// Stop sampling and check the guest never ran on both hosts at once;
    /// the samples.
    pub fn finish_apart(self, what: &str) -> Vec<Sample> {
        let samples = self.finish();
        assert!(!ran_on_both(&samples), "{what}: ran on both: {samples:?}");
        samples
    }

    /// Stop sampling; the samples in order (src, dst, src, ...).
    pub fn finish(mut self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .expect("watch thread")
            .join()
            .expect("watch thread panicked")
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn is_running(s: &Sample) -> bool {
    s.state.as_deref() == Some("running")
}

/// Whether the samples show the guest running on both hosts at once: a
/// destination sample of "running" between two source samples of
/// "running" (the source never resumes after handing over, so that is an
/// overlap, not a hand-over).
pub fn ran_on_both(samples: &[Sample]) -> bool {
    samples.windows(3).any(|w| {
        w[0].host == "src"
            && w[1].host == "dst"
            && w[2].host == "src"
            && is_running(&w[0])
            && is_running(&w[1])
            && is_running(&w[2])
    })
}

/// Assert what a failed migration must leave in the samples: the guest
/// never ran on the destination and never left the source.
pub fn assert_never_left_source(samples: &[Sample]) {
    assert!(samples.len() >= 3, "too few samples: {samples:?}");
    for s in samples {
        match s.host {
            "dst" => assert!(
                !is_running(s),
                "guest ran on the destination during a failed migration: {samples:?}"
            ),
            _ => assert!(
                matches!(s.state.as_deref(), Some("running" | "paused")),
                "guest left the source during a failed migration: {samples:?}"
            ),
        }
    }
}
