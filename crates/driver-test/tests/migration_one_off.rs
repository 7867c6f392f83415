//! One-migration settings apply to that migration only: the `bandwidth`
//! param caps its own transfer and leaves the domain's max speed as it
//! was, whether the migration succeeds or is aborted (libvirt restores the
//! domain's migration parameters when the job ends).

mod migration_support;

use migration_support::*;
use rvirt::job::{field, job_type};
use rvirt::migration::params;
use rvirt::{TypedParamValue, TypedParams};
use std::time::{Duration, Instant};

const UNLIMITED: u64 = 8_796_093_022_207;

fn bandwidth(mib_s: u64) -> TypedParams {
    TypedParams::new().with(params::BANDWIDTH, TypedParamValue::ULLong(mib_s))
}

#[test]
fn bandwidth_of_a_finished_migration_is_not_the_domains() {
    let (src, dst) = (host("oneoff-s"), host("oneoff-d"));
    let dom = start_guest(&src, "o1", 16, "");
    spawn_p2p(&dom, &dst, 0, bandwidth(50))
        .join()
        .unwrap()
        .unwrap();
    assert_moved(&src, &dst, "o1");
    // The source keeps the (inactive, persistent) definition: its setting
    // is the domain's own, not the migration's.
    assert_eq!(dom.migrate_get_max_speed(0).unwrap(), UNLIMITED);
    let back = dst.conn.lookup_by_name("o1").unwrap();
    assert_eq!(back.migrate_get_max_speed(0).unwrap(), UNLIMITED);
}

#[test]
fn an_aborted_crawl_does_not_slow_the_next_migration() {
    let (src, dst) = (host("oneoff-abort-s"), host("oneoff-abort-d"));
    let dom = start_guest(&src, "o2", 32, "");
    dom.migrate_set_max_speed(64, 0).unwrap();
    let t = spawn_p2p(&dom, &dst, 0, bandwidth(1));
    wait_for("the capped job to run", || {
        let (t, s) = dom.get_job_stats(0).unwrap();
        t == job_type::UNBOUNDED && s.get_u64(field::MEMORY_PROCESSED).unwrap_or(0) > 0
    });
    assert_eq!(dom.migrate_get_max_speed(0).unwrap(), 64);
    dom.abort_job(0).unwrap();
    assert!(t.join().unwrap().is_err());
    assert_stayed_on_source(&src, &dst, "o2");
    assert_eq!(dom.migrate_get_max_speed(0).unwrap(), 64);
    // 32 MiB at 1 MiB/s would take 32 s; at the domain's 64 MiB/s, half a second.
    let started = Instant::now();
    spawn_p2p(&dom, &dst, 0, TypedParams::new())
        .join()
        .unwrap()
        .unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(12), "took {took:?}");
    assert_moved(&src, &dst, "o2");
}
