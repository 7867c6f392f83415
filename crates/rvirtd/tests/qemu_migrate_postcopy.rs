//! Post-copy between two rvirtd hosts (each in its own network and UTS
//! namespace), as libvirt runs it: once `virsh migrate-postcopy` switches
//! the migration, the destination runs the guest ("running (post-copy)")
//! while the source, "paused (post-copy)", still sends the rest of its
//! memory. When the migration's connection is then cut, neither end may
//! kill or resume the guest: the source holds pages the destination lacks
//! and the destination holds the only running copy. The source stays
//! "paused (post-copy failed)", the destination "running (post-copy
//! failed)", each QEMU alive (libvirt's `qemuMigrationSrcPostcopyFailed`
//! and `qemuMigrationDstPostcopyFailed`).

use rvirt_testkit::qemu_hosts::{
    cut_connections, fault_guest, setup_with, spawn_virsh, wait_transferring, QemuHost,
    FAST_KEEPALIVE, MIGRATION_PORTS,
};
use rvirt_testkit::tools::Output;
use std::time::{Duration, Instant};

fn reason(host: &QemuHost, name: &str) -> String {
    host.ok(&format!("domstate {name} --reason"))
        .trim()
        .to_string()
}

/// Wait until `host` says `want` for guest `name`.
fn wait_reason(host: &QemuHost, name: &str, want: &str) {
    let start = Instant::now();
    loop {
        let now = reason(host, name);
        if now == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{}: {now}, not {want}\n{}",
            host.host.hostname,
            host.host.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_failure_in_postcopy_leaves_the_guest_running_on_the_destination_only() {
    let Some(s) = setup_with("qpc", &fault_guest(), FAST_KEEPALIVE) else {
        return;
    };
    let (a, b, name) = (&s.a, &s.b, s.g.name.clone());
    let source_qemu = a.qemu_pid(&name).expect("QEMU on A");
    // Slow both before and after the switch, so the cut comes mid-way.
    let migrate = format!(
        "migrate --live --p2p --postcopy --bandwidth 1 --postcopy-bandwidth 1 {name} {} \
         --migrateuri tcp://{}",
        b.uri(),
        b.host.addr
    );
    let mut migrating = spawn_virsh(a, &migrate);
    let moving = std::panic::catch_unwind(|| wait_transferring(a, b, &s.g));
    if let Err(e) = moving {
        let _ = migrating.kill();
        let out: Output = migrating.wait_with_output().expect("virsh migrate").into();
        eprintln!("virsh migrate: {}{}", out.stdout, out.stderr);
        eprintln!("--- A:\n{}\n--- B:\n{}", a.host.log(), b.host.log());
        std::panic::resume_unwind(e);
    }
    a.ok(&format!("migrate-postcopy {name}"));
    wait_reason(b, &name, "running (post-copy)");
    wait_reason(a, &name, "paused (post-copy)");
    let dest_qemu = b.qemu_pid(&name).expect("QEMU on B");

    let killed = cut_connections(a, b, MIGRATION_PORTS);
    assert!(!killed.trim().is_empty(), "no migration connection to cut");
    let out: Output = migrating.wait_with_output().expect("virsh migrate").into();
    assert!(!out.ok, "the migration succeeded: {}", out.stdout);
    eprintln!("cut in post-copy: {}", out.stderr.trim());
    assert!(out.stderr.contains("post-copy"), "{}", out.stderr);

    wait_reason(a, &name, "paused (post-copy failed)");
    wait_reason(b, &name, "running (post-copy failed)");
    // Some time later nothing has changed: A never resumed its copy and
    // neither end killed its QEMU.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(reason(a, &name), "paused (post-copy failed)");
    assert_eq!(reason(b, &name), "running (post-copy failed)");
    assert_eq!(a.qemu_pid(&name), Some(source_qemu));
    assert_eq!(b.qemu_pid(&name), Some(dest_qemu));
    let qemu_state = a.ok(&format!(
        "qemu-monitor-command {name} '{{\"execute\":\"query-status\"}}'"
    ));
    assert!(qemu_state.contains("\"running\":false"), "{qemu_state}");
    b.ok(&format!("destroy {name}"));
    a.ok(&format!("destroy {name}"));
}
