//! Polling with a deadline, for the tests that wait on a guest or a daemon.

use std::time::{Duration, Instant};

/// Call `probe` every `every` until it gives `Ok`; once `limit` has passed
/// the test fails with what the last `Err` said (the state seen last).
pub fn poll<T>(
    limit: Duration,
    every: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let start = Instant::now();
    loop {
        match probe() {
            Ok(v) => return v,
            Err(seen) => assert!(start.elapsed() < limit, "{seen}"),
        }
        std::thread::sleep(every);
    }
}

/// [`poll`] for a condition: `Ok` when `done` holds, else `Err(seen())`.
pub fn until(
    limit: Duration,
    every: Duration,
    mut done: impl FnMut() -> bool,
    seen: impl Fn() -> String,
) {
    poll(limit, every, || if done() { Ok(()) } else { Err(seen()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_returns_the_first_ok() {
        let mut n = 0;
        let v = poll(Duration::from_secs(5), Duration::from_millis(1), || {
            n += 1;
            if n == 3 {
                Ok(n)
            } else {
                Err(format!("n={n}"))
            }
        });
        assert_eq!(v, 3);
    }

    #[test]
    #[should_panic(expected = "still 7")]
    fn poll_fails_with_the_last_state() {
        poll::<()>(Duration::from_millis(20), Duration::from_millis(5), || {
            Err("still 7".into())
        });
    }
}
