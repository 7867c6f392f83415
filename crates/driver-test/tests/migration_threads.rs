//! Failed migrations leave no threads behind: the listener, the page
//! channel readers and writers, the compression workers all end. (One test
//! in its own process, so the thread count is this test's alone.)

mod migration_support;

use migration_support::*;
use rvirt::migration::{flags, params};
use rvirt::{TypedParamValue, TypedParams};
use std::time::{Duration, Instant};

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

#[test]
fn failed_migrations_leave_no_threads() {
    let (src, dst) = (host("thr-s"), host("thr-d"));
    let f = flags::LIVE | flags::PEER2PEER;
    // Warm up whatever a first migration starts for good (event loops).
    let dom = start_guest(&src, "t0", 16, "");
    dom.migrate_perform3_params(Some(&dst.uri), &TypedParams::new(), &[], f)
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let before = threads();

    let corrupt = "<rvirt:inject-fault action='corrupt-page'/>";
    let mt = TypedParams::new().with(params::COMPRESSION, TypedParamValue::String("mt".into()));
    for (i, (extra, p)) in [
        (flags::PARALLEL, TypedParams::new()),
        (flags::COMPRESSED, mt.clone()),
        (flags::COMPRESSED | flags::TUNNELLED, mt),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("t{}", i + 1);
        let dom = start_guest(&src, &name, 16, corrupt);
        let e = dom
            .migrate_perform3_params(Some(&dst.uri), &p, &[], f | extra)
            .unwrap_err();
        assert!(e.message.contains("digest"), "{e}");
        assert_stayed_on_source(&src, &dst, &name);
    }
    // Prepared on the destination, then abandoned before perform.
    let dom = start_guest(&src, "t9", 16, "");
    let pf = flags::LIVE | flags::PARALLEL;
    let (ca, dp) = begin(&dom, "t9", pf);
    dst.conn.migrate_prepare3_params(&dp, &ca, pf).unwrap();
    let _ = dst.conn.migrate_finish3_params(&dp, &[], pf, true);
    dom.migrate_confirm3(&[], pf, true).unwrap();
    assert_stayed_on_source(&src, &dst, "t9");

    let until = Instant::now() + Duration::from_secs(5);
    while threads() > before && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        threads() <= before,
        "{} threads, {before} before",
        threads()
    );
}
