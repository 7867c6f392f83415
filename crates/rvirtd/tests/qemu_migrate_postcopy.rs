//! Post-copy between two rvirtd hosts (each in its own network and UTS
//! namespace), as libvirt runs it: once `virsh migrate-postcopy` switches
//! the migration, the destination runs the guest ("running (post-copy)")
//! while the source, "paused (post-copy)", still sends the rest of its
//! memory. When the migration's connection is then cut, neither end may
//! kill or resume the guest: the source holds pages the destination lacks
//! and the destination holds the only running copy. The source stays
//! "paused (post-copy failed)", the destination "running (post-copy
//! failed)", each QEMU alive (libvirt's `qemuMigrationSrcPostcopyFailed`
//! and `qemuMigrationDstPostcopyFailed`). Recovery is
//! `qemu_migrate_postcopy_resume`'s.

use rvirt_testkit::qemu_hosts::{fault_guest, setup_with, FAST_KEEPALIVE};
use rvirt_testkit::qemu_postcopy::{cut_postcopy, state_reason, switched_postcopy};
use std::time::Duration;

#[test]
fn a_failure_in_postcopy_leaves_the_guest_running_on_the_destination_only() {
    let Some(s) = setup_with("qpc", &fault_guest(), FAST_KEEPALIVE) else {
        return;
    };
    let (a, b, name) = (&s.a, &s.b, s.g.name.clone());
    let source_qemu = a.qemu_pid(&name).expect("QEMU on A");
    let migrating = switched_postcopy(&s);
    let dest_qemu = b.qemu_pid(&name).expect("QEMU on B");
    cut_postcopy(a, b, &name, migrating);
    // Some time later nothing has changed: A never resumed its copy and
    // neither end killed its QEMU.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(state_reason(a, &name), "paused (post-copy failed)");
    assert_eq!(state_reason(b, &name), "running (post-copy failed)");
    assert_eq!(a.qemu_pid(&name), Some(source_qemu));
    assert_eq!(b.qemu_pid(&name), Some(dest_qemu));
    let qemu_state = a.ok(&format!(
        "qemu-monitor-command {name} '{{\"execute\":\"query-status\"}}'"
    ));
    assert!(qemu_state.contains("\"running\":false"), "{qemu_state}");
    b.ok(&format!("destroy {name}"));
    a.ok(&format!("destroy {name}"));
}
