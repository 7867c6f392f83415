//! The tunables answer at once while a transfer runs flat out: the
//! sender must not hold the host's lock so often that
//! `migrateSetMaxSpeed` (which looks the domain up under it) starves.

mod migration_support;

use migration_support::*;
use rvirt::job::{field, job_type};
use rvirt::TypedParams;
use std::time::{Duration, Instant};

#[test]
fn set_max_speed_answers_promptly_during_an_unlimited_transfer() {
    let (src, dst) = (host("speed-starve-s"), host("speed-starve-d"));
    // Dirties 4 GiB/s, far faster than loopback carries: with a 1 ms
    // downtime budget the transfer never converges until it is aborted.
    let dom = start_guest(&src, "s1", 64, &dirtying(4 << 20, 64 << 10));
    dom.migrate_set_max_downtime(1, 0).unwrap();
    let t = spawn_p2p(&dom, &dst, 0, TypedParams::new());
    wait_for("the transfer to run", || {
        let (t, s) = dom.get_job_stats(0).unwrap();
        t == job_type::UNBOUNDED && s.get_u64(field::MEMORY_ITERATION).unwrap_or(0) >= 2
    });
    let mut slowest = Duration::ZERO;
    for speed in [0, 1000, 0, 2000, 0] {
        let started = Instant::now();
        dom.migrate_set_max_speed(speed, 0).unwrap();
        assert_eq!(dom.migrate_get_max_speed(0).unwrap(), speed);
        slowest = slowest.max(started.elapsed());
        std::thread::sleep(Duration::from_millis(50));
    }
    dom.abort_job(0).unwrap();
    assert!(t.join().unwrap().is_err());
    assert_stayed_on_source(&src, &dst, "s1");
    assert!(
        slowest < Duration::from_millis(500),
        "migrateSetMaxSpeed took {slowest:?}"
    );
}
