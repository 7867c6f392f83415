//! The bandwidth limit (`migrate_set_max_speed`, the `bandwidth` param):
//! a virtual clock that every byte on the wire advances by bytes ÷ speed.
//! The sender never gets ahead of it and unused time is not banked, so over
//! any stretch of the transfer the bytes sent never exceed speed × time —
//! the figure `memory_bps` reports stays at or under the cap, as QEMU's
//! rate limit keeps its `mbps`.

use rvirt_hypervisor::job::{Job, UNLIMITED_MIB};
use rvirt_util::Result;
use std::time::{Duration, Instant};

/// Longest single sleep, so abort and speed changes act promptly.
const SLICE: Duration = Duration::from_millis(20);

pub struct Limiter {
    /// When the bytes accounted so far may all have gone at the limit.
    next: Instant,
}

/// The time `n` bytes take at `speed` MiB/s, rounded up to the nanosecond.
fn cost(n: u64, speed: u64) -> Duration {
    let nanos = (n as f64 * 1e9 / (speed as f64 * 1048576.0)).ceil();
    Duration::from_nanos(nanos.min(u64::MAX as f64) as u64)
}

fn unlimited(speed: u64) -> bool {
    speed == 0 || speed >= UNLIMITED_MIB
}

impl Limiter {
    pub fn new(now: Instant) -> Limiter {
        Limiter { next: now }
    }

    /// Account `n` bytes just written at the current speed and sleep until
    /// the clock allows them. A speed change while waiting re-prices what
    /// is still owed; abort ends the wait with the job's error.
    pub fn pace(&mut self, n: u64, speed_of: impl Fn() -> u64, job: &Job) -> Result<()> {
        let mut speed = speed_of();
        let now = Instant::now();
        if unlimited(speed) {
            self.next = now;
            return Ok(());
        }
        self.next = self.next.max(now) + cost(n, speed);
        loop {
            job.check_abort()?;
            let now = Instant::now();
            if now >= self.next {
                return Ok(());
            }
            let current = speed_of();
            if current != speed {
                if unlimited(current) {
                    self.next = now;
                    return Ok(());
                }
                // What is still owed, in bytes, at the new speed.
                let owed = (self.next - now).as_secs_f64() * speed as f64 * 1048576.0;
                self.next = now + cost(owed.ceil() as u64, current);
                speed = current;
                continue;
            }
            std::thread::sleep((self.next - now).min(SLICE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvirt::job::operation;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    fn perform_job() -> Arc<Job> {
        Job::new(
            operation::MIGRATION_OUT,
            rvirt_util::ErrorDomain::TEST,
            rvirt_hypervisor::Phase::Perform,
            false,
            rvirt_hypervisor::Tunables::default(),
        )
    }

    #[test]
    fn bytes_never_outrun_the_cap() {
        let job = perform_job();
        let start = Instant::now();
        let mut l = Limiter::new(start);
        let mut sent = 0u64;
        for _ in 0..8 {
            l.pace(64 * 1024, || 8, &job).unwrap();
            sent += 64 * 1024;
            let secs = start.elapsed().as_secs_f64();
            assert!(sent as f64 / secs <= 8.0 * 1048576.0, "{sent} in {secs}");
        }
        // Idle time is not banked: after a pause the next bytes still wait.
        std::thread::sleep(Duration::from_millis(100));
        let t = Instant::now();
        l.pace(80 * 1024, || 8, &job).unwrap();
        assert!(t.elapsed() >= cost(80 * 1024, 8));
    }

    #[test]
    fn lifting_the_limit_and_abort_end_the_wait() {
        let job = perform_job();
        let speed = AtomicU64::new(1);
        let mut l = Limiter::new(Instant::now());
        let t = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(50));
                speed.store(0, Ordering::SeqCst);
            });
            // 10 MiB at 1 MiB/s would take 10 s.
            l.pace(10 << 20, || speed.load(Ordering::SeqCst), &job)
                .unwrap();
        });
        assert!(t.elapsed() < Duration::from_secs(5));
        job.request_abort();
        let e = l.pace(10 << 20, || 1, &job).unwrap_err();
        assert_eq!(e.code, rvirt_util::ErrorCode::OPERATION_ABORTED);
    }
}
