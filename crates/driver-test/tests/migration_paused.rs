//! A guest the user paused (`virDomainSuspend`) does not run, so it writes
//! no memory while a migration moves it: it converges in one pass plus the
//! remainder, stays paused on the destination (VIR_MIGRATE_PAUSED, as
//! libvirt adds for a paused source), and dirties memory again once resumed.

mod migration_support;

use migration_support::*;
use rvirt::events::lifecycle as lc;
use rvirt::job::{field, job_type};
use rvirt::migration::params;
use rvirt::types::reason;
use rvirt::{Domain, DomainState, ErrorCode, TypedParamValue, TypedParams};
use std::thread::JoinHandle;

/// A guest writing 256 MiB/s over 4 MiB: while it runs, no pass can leave
/// less than the 1 ms downtime budget (about 16 pages at 64 MiB/s).
const BUSY: &str = "<rvirt:dirty-rate unit='KiB/s'>262144</rvirt:dirty-rate>\
                    <rvirt:working-set unit='KiB'>4096</rvirt:working-set>";

/// A [`BUSY`] guest `name` on a new source `{tag}-s`, paused, with a 1 ms
/// downtime budget; the source, a new destination `{tag}-d`, the guest.
fn paused_busy_guest(tag: &str, name: &str) -> (Host, Host, Domain) {
    let (src, dst) = (host(&format!("{tag}-s")), host(&format!("{tag}-d")));
    let dom = start_guest(&src, name, 16, BUSY);
    dom.suspend().unwrap();
    dom.migrate_set_max_downtime(1, 0).unwrap();
    (src, dst, dom)
}

/// A live peer-to-peer migration to `dst` at `mib_s` MiB/s, on a thread.
fn spawn_p2p_at(dom: &Domain, dst: &Host, mib_s: u64) -> JoinHandle<rvirt::Result<Vec<u8>>> {
    let p = TypedParams::new().with(params::BANDWIDTH, TypedParamValue::ULLong(mib_s));
    spawn_p2p(dom, dst, 0, p)
}

#[test]
fn a_paused_guest_converges_in_one_pass_plus_the_remainder() {
    let (src, dst, dom) = paused_busy_guest("psd", "p1");
    spawn_p2p_at(&dom, &dst, 64).join().unwrap().unwrap();
    let s = completed(&dom);
    assert_eq!(s.get_u64(field::MEMORY_ITERATION), Some(2), "{s:?}");
    assert_eq!(iterations(&src, "p1"), 2);
    assert_eq!(
        s.get_u64(field::MEMORY_DIRTY_RATE),
        Some(0),
        "a paused guest dirties nothing"
    );
    // Every page went exactly once: nothing was written meanwhile.
    assert_eq!(
        s.get_u64(field::MEMORY_NORMAL).unwrap() + s.get_u64(field::MEMORY_CONSTANT).unwrap(),
        16 << 8
    );
    // It stays paused where it lands, as the user left it.
    assert_eq!(
        state(&dst, "p1"),
        Some((DomainState::Paused, reason::PAUSED_USER))
    );
    assert_eq!(
        state(&src, "p1"),
        Some((DomainState::Shutoff, reason::SHUTOFF_MIGRATED))
    );
    assert!(
        !lifecycle(&src, "p1").contains(&(lc::SUSPENDED, lc::SUSPENDED_MIGRATED)),
        "already paused: the migration did not pause it again"
    );
}

#[test]
fn resume_dirties_again_and_pausing_lets_it_converge() {
    let (src, dst, dom) = paused_busy_guest("prs", "p2");
    // 4 MiB of written pages at 1 MiB/s: a first pass of about four seconds.
    let t = spawn_p2p_at(&dom, &dst, 1);
    wait_for("the first pass under way", || {
        let (t, s) = dom.get_job_stats(0).unwrap();
        t == job_type::UNBOUNDED && s.get_u64(field::MEMORY_PROCESSED).unwrap_or(0) > 0
    });
    // Running again (and at full speed), the guest writes faster than any
    // pass can carry: passes follow one another and each measures writes.
    dom.resume().unwrap();
    dom.migrate_set_max_speed(64, 0).unwrap();
    let mut running_rate = 0;
    wait_for("passes with a measured dirty rate", || {
        let s = dom.get_job_stats(0).unwrap().1;
        running_rate = s.get_u64(field::MEMORY_DIRTY_RATE).unwrap_or(0);
        s.get_u64(field::MEMORY_ITERATION).unwrap_or(0) >= 3 && running_rate > 0
    });
    assert_eq!(
        state(&src, "p2"),
        Some((DomainState::Running, reason::RUNNING_UNPAUSED)),
        "a running guest this busy does not converge"
    );
    // Paused again, the next pass leaves nothing dirty and it converges.
    dom.suspend().unwrap();
    t.join().unwrap().unwrap();
    let s = completed(&dom);
    assert_success(&s, true);
    assert!(s.get_u64(field::MEMORY_ITERATION).unwrap() >= 4, "{s:?}");
    // The last live pass either ran wholly paused (0) or was cut short by
    // the suspend after a handful of writes (that is why it converged).
    let last = s.get_u64(field::MEMORY_DIRTY_RATE).unwrap();
    assert!(
        last <= running_rate / 10,
        "last measured {last} pages/s, {running_rate} while running"
    );
    assert!(
        dst.conn.lookup_by_name("p2").unwrap().is_active().unwrap(),
        "moved"
    );
    assert_ne!(state(&src, "p2").map(|s| s.0), Some(DomainState::Running));
}

#[test]
fn a_failed_migration_leaves_a_paused_guest_paused() {
    let (src, dst) = (host("pab-s"), host("pab-d"));
    let dom = start_guest(&src, "p3", 32, "");
    dom.suspend().unwrap();
    let t = spawn_p2p_at(&dom, &dst, 4);
    wait_for("the job under way", || {
        let (t, s) = dom.get_job_stats(0).unwrap();
        t == job_type::UNBOUNDED && s.get_u64(field::MEMORY_PROCESSED).unwrap_or(0) > 0
    });
    dom.abort_job(0).unwrap();
    let e = t.join().unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::OPERATION_ABORTED);
    assert_eq!(
        state(&src, "p3"),
        Some((DomainState::Paused, reason::PAUSED_USER)),
        "not resumed: the user paused it"
    );
    assert!(
        dst.conn.lookup_by_name("p3").is_err(),
        "nothing on the destination"
    );
}
