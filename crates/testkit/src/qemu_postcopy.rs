//! Post-copy faults for the QEMU migration tests: a peer-to-peer
//! post-copy migration slowed to 1 MiB/s, switched with `virsh
//! migrate-postcopy`, then its QEMU connection cut (`ss -K`) or paused
//! (`virsh domjobabort --postcopy`), which leaves
//! the source guest "paused (post-copy failed)" and the destination's
//! "running (post-copy failed)"; the guests' states and lifecycle events
//! as stock virsh shows them.

use crate::qemu_hosts::{cut_connections, spawn_virsh, wait_transferring, QemuHost, Setup};
use crate::qemu_hosts::{MigrationHost, MIGRATION_PORTS};
use crate::tools::Output;
use std::process::Child;
use std::time::{Duration, Instant};

/// `domstate --reason` of guest `name` on `host`.
pub fn state_reason(host: &dyn MigrationHost, name: &str) -> String {
    host.ok(&format!("domstate {name} --reason"))
        .trim()
        .to_string()
}

/// Wait (30 s at most) until `host` says `want` for guest `name`.
pub fn wait_reason(host: &dyn MigrationHost, name: &str, want: &str) {
    let start = Instant::now();
    loop {
        let now = state_reason(host, name);
        if now == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{}: {now}, not {want}\n{}",
            host.hostname(),
            host.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The peer-to-peer post-copy migration of the setup's guest from A to B
/// at 1 MiB/s before and after the switch, so a cut comes mid-way.
pub fn slow_postcopy(s: &Setup) -> String {
    format!(
        "migrate --live --p2p --postcopy --bandwidth 1 --postcopy-bandwidth 1 {} {} \
         --migrateuri tcp://{}",
        s.g.name,
        s.b.uri(),
        s.b.host.addr
    )
}

/// Start [`slow_postcopy`], switch it to post-copy once bytes move and
/// the destination runs the guest ("running (post-copy)" on B, "paused
/// (post-copy)" on A); the running `virsh migrate`.
pub fn switched_postcopy(s: &Setup) -> Child {
    let (a, b, name) = (&s.a, &s.b, &s.g.name);
    let mut migrating = spawn_virsh(a, &slow_postcopy(s));
    let moving = std::panic::catch_unwind(|| wait_transferring(a, b, &s.g));
    if let Err(e) = moving {
        let _ = migrating.kill();
        let out: Output = migrating.wait_with_output().expect("virsh migrate").into();
        eprintln!("virsh migrate: {}{}", out.stdout, out.stderr);
        eprintln!("--- A:\n{}\n--- B:\n{}", a.host.log(), b.host.log());
        std::panic::resume_unwind(e);
    }
    a.ok(&format!("migrate-postcopy {name}"));
    wait_reason(b, name, "running (post-copy)");
    wait_reason(a, name, "paused (post-copy)");
    migrating
}

/// Cut the QEMUs' migration connection of `migrating` (see
/// [`switched_postcopy`]): virsh fails in post-copy and both ends say
/// "post-copy failed". What virsh printed.
pub fn cut_postcopy(a: &QemuHost, b: &QemuHost, name: &str, migrating: Child) -> Output {
    let killed = cut_connections(a, b, MIGRATION_PORTS);
    assert!(!killed.trim().is_empty(), "no migration connection to cut");
    failed_in_postcopy(a, b, name, migrating)
}

/// As [`cut_postcopy`], the migration interrupted by `virsh domjobabort
/// --postcopy` on A instead (QEMU's `migrate-pause`).
pub fn pause_postcopy(a: &QemuHost, b: &QemuHost, name: &str, migrating: Child) -> Output {
    a.ok(&format!("domjobabort --postcopy {name}"));
    failed_in_postcopy(a, b, name, migrating)
}

fn failed_in_postcopy(a: &QemuHost, b: &QemuHost, name: &str, migrating: Child) -> Output {
    let out: Output = migrating.wait_with_output().expect("virsh migrate").into();
    assert!(!out.ok, "the migration succeeded: {}", out.stdout);
    eprintln!("broken in post-copy: {}", out.stderr.trim());
    assert!(out.stderr.contains("post-copy"), "{}", out.stderr);
    wait_reason(a, name, "paused (post-copy failed)");
    wait_reason(b, name, "running (post-copy failed)");
    wait_source_paused(a, name);
    out
}

/// Wait (30 s at most) until A's QEMU itself reports its outgoing
/// migration `postcopy-paused` (what a resume needs), asked through
/// `qemu-monitor-command`.
pub fn wait_source_paused(a: &QemuHost, name: &str) {
    let ask = format!("qemu-monitor-command {name} '{{\"execute\":\"query-migrate\"}}'");
    let start = Instant::now();
    loop {
        let now = a.ok(&ask);
        if now.contains("\"status\":\"postcopy-paused\"") {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "A's QEMU is not paused: {now}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `virsh event --event lifecycle --loop` on `host`, printing each event
/// as it comes (virsh flushes every line); end it with [`events_seen`].
pub fn watch_lifecycle(host: &dyn MigrationHost) -> Child {
    spawn_virsh(host, "event --event lifecycle --loop")
}

/// The lifecycle events `watch` printed so far for guest `name`, one
/// detail a line ("Resumed Post-copy"), in order.
pub fn events_seen(mut watch: Child, name: &str) -> Vec<String> {
    let _ = watch.kill();
    let out: Output = watch.wait_with_output().expect("virsh event").into();
    let prefix = format!("event 'lifecycle' for domain '{name}': ");
    out.stdout
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(str::to_string)
        .collect()
}
