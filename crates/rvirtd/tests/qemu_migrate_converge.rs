//! Convergence of a live QEMU migration between two rvirtd hosts (each in
//! its own network and UTS namespace): the test guest rewrites 32 MiB of
//! random bytes every tick, far faster than the 8 MiB/s bandwidth cap, so
//! plain pre-copy is still copying after 15 s (then aborted: the guest
//! ticks on A, nothing on B), while the same guest completes with
//! `--auto-converge` (QEMU throttles its vCPU) and with `--postcopy` plus
//! `virsh migrate-postcopy` (the destination runs it and pulls the rest).
//! The dirtied bytes live apart from the filled region, so after each
//! completed hop the checksum the guest prints is still the original.

use rvirt_testkit::guest::GuestArgs;
use rvirt_testkit::qemu_hosts::{
    abort_and_check, field, hop, postcopy_migration, setup, spawn_migration, wait_transferring,
    QemuHost, TestGuest,
};
use std::time::Duration;

/// The migration's bandwidth cap, far below what the guest dirties.
const CAP: &str = "--bandwidth 8";

/// Plain pre-copy against the dirtying guest: still transferring after
/// 15 s; `domjobabort` leaves it ticking on A and no QEMU on B.
fn check_precopy_does_not_converge(a: &QemuHost, b: &QemuHost, g: &TestGuest) {
    let mut migrating = spawn_migration(a, b, g, CAP);
    wait_transferring(a, b, g);
    std::thread::sleep(Duration::from_secs(15));
    let still = migrating.try_wait().expect("virsh migrate").is_none();
    let info = a.ok(&format!("domjobinfo {}", g.name));
    assert!(still, "pre-copy ended within 15 s: {info}");
    assert_eq!(field(&info, "Job type"), Some("Unbounded"), "{info}");
    abort_and_check(a, b, g, migrating);
}

#[test]
fn a_guest_dirtying_faster_than_the_cap_converges_only_with_auto_converge_or_postcopy() {
    let Some(s) = setup("qconv", &GuestArgs::dirtying()) else {
        return;
    };
    let (a, b, g, sum) = (&s.a, &s.b, &s.g, &s.sum);
    check_precopy_does_not_converge(a, b, g);
    // A steep throttle, so QEMU reaches the guest's dirtying rate quickly.
    let converge =
        format!("--auto-converge --auto-converge-initial 90 --auto-converge-increment 10 {CAP}");
    hop(a, b, g, sum, || {
        let migrating = spawn_migration(a, b, g, &converge);
        migrating.wait_with_output().expect("virsh migrate").into()
    });
    hop(b, a, g, sum, || postcopy_migration(b, a, g, CAP));
}
