//! The migration job while it runs: stats, max speed changed mid-job,
//! abort of a real transfer, auto-converge throttling, post-copy.

mod migration_support;

use migration_support::*;
use rvirt::events::lifecycle as lc;
use rvirt::job::{field, job_type, operation, stats_flags};
use rvirt::migration::{flags, params};
use rvirt::types::reason;
use rvirt::{Domain, DomainState, ErrorCode, TypedParamValue, TypedParams};
use std::time::{Duration, Instant};

fn running_job(dom: &Domain) -> TypedParams {
    let mut stats = TypedParams::new();
    wait_for("a running job with progress", || {
        let (t, s) = dom.get_job_stats(0).unwrap();
        stats = s;
        t == job_type::UNBOUNDED && stats.get_u64(field::MEMORY_PROCESSED).unwrap_or(0) > 0
    });
    stats
}

#[test]
fn tunables_and_their_errors() {
    let h = host("tun-errs");
    let dom = start_guest(&h, "j0", 16, "");
    assert_eq!(dom.migrate_get_max_speed(0).unwrap(), 8_796_093_022_207);
    assert_eq!(dom.migrate_get_max_downtime(0).unwrap(), 300);
    dom.migrate_set_max_downtime(50, 0).unwrap();
    assert_eq!(dom.migrate_get_max_downtime(0).unwrap(), 50);
    dom.migrate_set_max_speed(7, 1).unwrap();
    assert_eq!(dom.migrate_get_max_speed(1).unwrap(), 7);
    let e = dom.migrate_set_max_speed(8_796_093_022_208, 0).unwrap_err();
    assert_eq!(e.code, ErrorCode::OVERFLOW);
    let e = dom.migrate_start_post_copy(0).unwrap_err();
    assert_eq!(e.code, ErrorCode::OPERATION_INVALID);
    assert!(
        e.message.contains("outgoing migration is in progress"),
        "{}",
        e.message
    );
    let e = dom.abort_job(0).unwrap_err();
    assert_eq!(
        e.message,
        "Requested operation is not valid: no job is active on the domain"
    );
    let info = dom.get_job_info().unwrap();
    assert_eq!(info.type_, job_type::NONE);
}

#[test]
fn max_speed_changes_during_the_job() {
    let (src, dst) = (host("speed-s"), host("speed-d"));
    let dom = start_guest(&src, "j1", 32, "");
    dom.migrate_set_max_speed(1, 0).unwrap(); // 32 MiB at 1 MiB/s: 32 s
    let started = Instant::now();
    let t = spawn_p2p(&dom, &dst, 0, TypedParams::new());
    let stats = running_job(&dom);
    assert_eq!(
        stats.get(field::OPERATION),
        Some(&TypedParamValue::Int(operation::MIGRATION_OUT))
    );
    assert_eq!(stats.get_u64(field::MEMORY_TOTAL), Some(32 << 20));
    let info = dom.get_job_info().unwrap();
    assert_eq!(info.type_, job_type::UNBOUNDED);
    assert!(info.mem_remaining > 0 && info.mem_remaining <= 32 << 20);
    // Lift the limit mid-job: the rest goes at full speed.
    dom.migrate_set_max_speed(0, 0).unwrap();
    assert_eq!(dom.migrate_get_max_speed(0).unwrap(), 0);
    t.join().unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(16),
        "the lifted cap still held: {:?}",
        started.elapsed()
    );
    assert_moved(&src, &dst, "j1");
}

#[test]
fn abort_during_the_transfer() {
    let (src, dst) = (host("abortx-s"), host("abortx-d"));
    let dom = start_guest(&src, "j2", 32, "");
    let p = TypedParams::new().with(params::BANDWIDTH, TypedParamValue::ULLong(4));
    let t = spawn_p2p(&dom, &dst, flags::TUNNELLED, p);
    running_job(&dom);
    // Incoming jobs are not aborted this way.
    let incoming = dst.conn.lookup_by_name("j2").unwrap();
    assert_eq!(incoming.get_job_stats(0).unwrap().0, job_type::UNBOUNDED);
    let e = incoming.abort_job(0).unwrap_err();
    assert!(
        e.message.contains("cannot abort incoming migration"),
        "{}",
        e.message
    );
    dom.abort_job(0).unwrap();
    let e = t.join().unwrap().unwrap_err();
    assert_eq!(
        e.message,
        "operation aborted: migration out job: canceled by client"
    );
    assert_stayed_on_source(&src, &dst, "j2");
    assert_eq!(
        state(&src, "j2"),
        Some((DomainState::Running, reason::RUNNING_BOOTED)),
        "aborted while live: never paused"
    );
    let (t, s) = dom.get_job_stats(stats_flags::COMPLETED).unwrap();
    assert_eq!(t, job_type::COMPLETED);
    assert_success(&s, false);
}

/// A guest that writes faster than 64 MiB/s can carry.
const BUSY: &str = "<rvirt:dirty-rate unit='KiB/s'>262144</rvirt:dirty-rate>\
                    <rvirt:working-set unit='KiB'>4096</rvirt:working-set>";

#[test]
fn auto_converge_raises_the_throttle() {
    let (src, dst) = (host("ac-s"), host("ac-d"));
    let dom = start_guest(&src, "j3", 16, BUSY);
    dom.migrate_set_max_downtime(30, 0).unwrap();
    let p = TypedParams::new()
        .with(params::BANDWIDTH, TypedParamValue::ULLong(64))
        .with(params::AUTO_CONVERGE_INCREMENT, TypedParamValue::Int(20));
    let t = spawn_p2p(&dom, &dst, flags::AUTO_CONVERGE, p);
    t.join().unwrap().unwrap();
    assert_moved(&src, &dst, "j3");
    let (_, s) = dom.get_job_stats(stats_flags::COMPLETED).unwrap();
    let throttle = match s.get(field::AUTO_CONVERGE_THROTTLE) {
        Some(TypedParamValue::Int(v)) => *v,
        other => panic!("{other:?}"),
    };
    assert!(throttle >= 20, "throttle {throttle}");
    assert!(s.get_u64(field::MEMORY_ITERATION).unwrap() >= 3);
    assert!(iterations(&src, "j3") >= 3);
}

#[test]
fn post_copy_completes() {
    let (src, dst) = (host("pc-s"), host("pc-d"));
    let dom = start_guest(&src, "j4", 16, BUSY);
    // 1 ms of downtime at 64 MiB/s is 16 pages: pre-copy cannot converge.
    dom.migrate_set_max_downtime(1, 0).unwrap();
    let p = TypedParams::new().with(params::BANDWIDTH, TypedParamValue::ULLong(64));
    let t = spawn_p2p(&dom, &dst, flags::POSTCOPY, p);
    wait_for("a second pass", || iterations(&src, "j4") >= 2);
    dom.migrate_start_post_copy(0).unwrap();
    t.join().unwrap().unwrap();
    assert_moved(&src, &dst, "j4");
    assert!(lifecycle(&src, "j4").contains(&(lc::SUSPENDED, lc::SUSPENDED_POSTCOPY)));
    let dst_ev = lifecycle(&dst, "j4");
    assert!(
        dst_ev.contains(&(lc::RESUMED, lc::RESUMED_POSTCOPY)),
        "{dst_ev:?}"
    );
    // Start post-copy without VIR_MIGRATE_POSTCOPY: refused.
    let dom = start_guest(&src, "j5", 16, BUSY);
    dom.migrate_set_max_downtime(1, 0).unwrap();
    let p = TypedParams::new().with(params::BANDWIDTH, TypedParamValue::ULLong(16));
    let t = spawn_p2p(&dom, &dst, 0, p);
    running_job(&dom);
    let e = dom.migrate_start_post_copy(0).unwrap_err();
    assert!(e.message.contains("VIR_MIGRATE_POSTCOPY"), "{}", e.message);
    dom.abort_job(0).unwrap();
    assert_eq!(
        t.join().unwrap().unwrap_err().code,
        ErrorCode::OPERATION_ABORTED
    );
}

/// The destination's completed job tells the same story as the source's:
/// totals from the stream header, nothing remaining, every page counted
/// as normal or constant, processed bytes made of those pages.
#[test]
fn destination_completed_stats_add_up() {
    let (src, dst) = (host("dstats-src"), host("dstats-dst"));
    let ws = "<rvirt:working-set unit='KiB'>4096</rvirt:working-set>";
    let dom = start_guest(&src, "j9", 32, ws);
    let h = spawn_p2p(&dom, &dst, 0, TypedParams::new());
    h.join().unwrap().unwrap();
    let ddom = dst.conn.lookup_by_name("j9").unwrap();
    let keep = stats_flags::COMPLETED | stats_flags::KEEP_COMPLETED;
    let (t, d) = ddom.get_job_stats(keep).unwrap();
    assert_eq!(t, job_type::COMPLETED);
    let (_, s) = dom.get_job_stats(keep).unwrap();
    let get = |p: &TypedParams, f: &str| p.get_u64(f).unwrap_or_else(|| panic!("{f} in {p:?}"));
    let total = 32u64 << 20;
    assert_eq!(get(&d, field::MEMORY_TOTAL), total);
    assert_eq!(get(&d, field::DATA_TOTAL), total);
    assert_eq!(get(&d, field::MEMORY_REMAINING), 0);
    assert_eq!(get(&d, field::DATA_REMAINING), 0);
    let (normal, constant) = (
        get(&d, field::MEMORY_NORMAL),
        get(&d, field::MEMORY_CONSTANT),
    );
    assert!(normal > 0 && constant > 0, "{d:?}");
    assert!(normal + constant >= total / 4096, "every page arrived once");
    assert_eq!(get(&d, field::MEMORY_NORMAL_BYTES), normal * 4096);
    assert_eq!(
        get(&d, field::MEMORY_PROCESSED),
        normal * 4096 + constant * 8
    );
    assert!(get(&d, field::DATA_PROCESSED) >= normal * 4096);
    // What the source sent is what the destination received.
    for f in [
        field::MEMORY_TOTAL,
        field::MEMORY_NORMAL,
        field::MEMORY_CONSTANT,
        field::MEMORY_PROCESSED,
    ] {
        assert_eq!(get(&d, f), get(&s, f), "{f}");
    }
    assert_eq!(
        d.get(field::OPERATION),
        Some(&TypedParamValue::Int(operation::MIGRATION_IN))
    );
}

/// `domjobinfo --completed`: the dirty rate is the last one measured while
/// the guest ran (QEMU keeps ram dirty-pages-rate), not the stopped
/// remainder's zero; the memory bandwidth is every byte over the whole
/// transfer (QEMU's completed mbps), so it never reads above the cap — nor
/// does the running job's figure.
#[test]
fn completed_stats_keep_the_dirty_rate_and_bandwidth_stays_under_the_cap() {
    let (src, dst) = (host("cstats-s"), host("cstats-d"));
    // Writes 1 MiB/s over 8 MiB; 8 MiB of data at 8 MiB/s.
    let meta = "<rvirt:dirty-rate unit='KiB/s'>1024</rvirt:dirty-rate>\
                <rvirt:working-set unit='KiB'>8192</rvirt:working-set>";
    let dom = start_guest(&src, "j10", 32, meta);
    let cap = 8u64;
    let p = TypedParams::new().with(params::BANDWIDTH, TypedParamValue::ULLong(cap));
    let t = spawn_p2p(&dom, &dst, 0, p);
    let mut seen_bps = Vec::new();
    while !t.is_finished() {
        let (ty, s) = dom.get_job_stats(0).unwrap();
        if ty == job_type::UNBOUNDED {
            seen_bps.push(s.get_u64(field::MEMORY_BPS).unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    t.join().unwrap().unwrap();
    assert_moved(&src, &dst, "j10");
    let cap_bps = cap << 20;
    assert!(
        seen_bps.iter().all(|&b| b <= cap_bps),
        "running job's memory_bps above {cap_bps}: {seen_bps:?}"
    );
    let (_, s) = dom.get_job_stats(stats_flags::COMPLETED).unwrap();
    let bps = s.get_u64(field::MEMORY_BPS).unwrap();
    assert!(bps > 0 && bps <= cap_bps, "completed memory_bps {bps}");
    // The transfer took at least its bytes at the cap, and the figure is
    // those bytes over that time.
    let data = s.get_u64(field::DATA_PROCESSED).unwrap();
    assert!(data >= 8 << 20, "{data}");
    let dirty = s.get_u64(field::MEMORY_DIRTY_RATE).unwrap();
    assert!(dirty > 0, "the guest was writing: {s:?}");
    // 1 MiB/s is 256 pages/s; the measurement is per second of a pass.
    assert!(dirty <= 2 * 256, "{dirty} pages/s");
}
