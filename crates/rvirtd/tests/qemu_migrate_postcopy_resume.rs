//! Recovery of a failed post-copy migration between two rvirtd hosts, as
//! libvirt 9.0 does it: a post-copy migration at 1 MiB/s is switched with
//! `virsh migrate-postcopy` and its QEMU connection cut, which leaves the
//! guest "paused (post-copy failed)" on A and "running (post-copy failed)"
//! on B (or `virsh domjobabort --postcopy` pauses it, QEMU's
//! `migrate-pause`); then `virsh migrate --postcopy --postcopy-resume` (managed or
//! `--p2p`) finishes it: the guest runs on B only, "running (migrated)",
//! its tick counter going on and its memory checksum unchanged, A's QEMU
//! gone, A's job completed, and each host sent libvirt's lifecycle events.
//! Also with B's daemon killed (SIGKILL) while post-copy ran and started
//! again: it re-attaches the guest as "running (post-copy failed)" from
//! its status file and the resume completes.

use rvirt_testkit::guest::{self, READY_MARKER};
use rvirt_testkit::qemu_hosts::{
    alive, cut_connections, fault_guest, field, setup_with, wait_gone,
};
use rvirt_testkit::qemu_hosts::{Setup, FAST_KEEPALIVE, MIGRATION_PORTS};
use rvirt_testkit::qemu_postcopy::{
    cut_postcopy, events_seen, pause_postcopy, state_reason, switched_postcopy, wait_reason,
    wait_source_paused, watch_lifecycle,
};
use rvirt_testkit::tools::Output;

/// `virsh migrate --postcopy --postcopy-resume` of the guest from A to B
/// (`mode` "" for managed, "--p2p"), the rest of its memory uncapped.
fn resume(s: &Setup, mode: &str) -> Output {
    s.a.virsh(&format!(
        "migrate --live {mode} --postcopy --postcopy-resume --postcopy-bandwidth 100000 {} {} \
         --migrateuri tcp://{}",
        s.g.name,
        s.b.uri(),
        s.b.host.addr
    ))
}

/// Resuming needs a failed post-copy migration of the guest on the host
/// asked: B (whose job is the incoming one) has none going out; and
/// post-copy never runs tunnelled (QEMU 7.2 has no recovery for a stream
/// it does not own either), refused by name as libvirt does.
fn check_resume_refused(s: &Setup) {
    let tunnelled = s.a.virsh(&format!(
        "migrate --live --p2p --tunnelled --postcopy --postcopy-resume {} {}",
        s.g.name,
        s.b.uri()
    ));
    assert!(!tunnelled.ok, "resumed tunnelled");
    let want = "argument unsupported: post-copy is not supported with tunnelled migration";
    assert!(tunnelled.stderr.contains(want), "{}", tunnelled.stderr);
    let out = s.b.virsh(&format!(
        "migrate --live --p2p --postcopy --postcopy-resume {} {}",
        s.g.name,
        s.a.uri()
    ));
    assert!(!out.ok, "B resumed a migration it never started");
    let want = format!(
        "Requested operation is not valid: domain '{}' is not being migrated",
        s.g.name
    );
    assert!(out.stderr.contains(&want), "{}", out.stderr);
}

/// Where the guest's console stood before the migration: its length and
/// last tick.
struct Before {
    console: usize,
    tick: u64,
    source_qemu: i32,
}

fn before(s: &Setup) -> Before {
    Before {
        console: s.g.console_len(),
        tick: guest::last_tick(&s.g.text()).unwrap_or(0),
        source_qemu: s.a.qemu_pid(&s.g.name).expect("QEMU on A"),
    }
}

/// The resume `out` finished the migration: the guest runs on B only,
/// its ticks going on from before the migration and its memory intact;
/// A's job completed, B keeps no completed job after post-copy (libvirt's
/// `qemuMigrationDstComplete`).
fn check_recovered(s: &Setup, out: &Output, was: &Before) {
    let (a, b, name) = (&s.a, &s.b, s.g.name.as_str());
    let logs = || format!("--- A:\n{}\n--- B:\n{}", a.host.log(), b.host.log());
    assert!(
        out.ok,
        "resume failed: {}{}\n{}",
        out.stdout,
        out.stderr,
        logs()
    );
    assert_eq!(state_reason(b, name), "running (migrated)");
    assert!(wait_gone(was.source_qemu, 20), "A's QEMU still runs");
    assert!(a.qemu_pid(name).is_none());
    let moved = s.g.text_from(was.console);
    assert!(
        !moved.contains(READY_MARKER),
        "the guest booted again:\n{moved}"
    );
    let now = s.g.console_len();
    s.g.tick_after(
        now,
        guest::last_tick(&moved).unwrap_or(was.tick).max(was.tick),
    );
    assert_eq!(s.g.sum_after(now), s.sum, "the guest's memory changed");
    if a.ok("list --all --name").lines().any(|n| n == name) {
        let info = a.ok(&format!("domjobinfo {name} --completed"));
        eprintln!("A's completed job after the resume:\n{info}");
        assert_eq!(field(&info, "Job type"), Some("Completed"), "{info}");
        assert!(field(&info, "Data processed").is_some(), "{info}");
    }
    let info = b.ok(&format!("domjobinfo {name} --completed"));
    assert_eq!(field(&info, "Job type"), Some("None"), "{info}");
    let info = b.ok(&format!("domjobinfo {name}"));
    assert_eq!(field(&info, "Job type"), Some("None"), "{info}");
}

/// How the post-copy migration is broken.
#[derive(Clone, Copy, Debug)]
enum Break {
    /// `ss -K` on its QEMU connection.
    Cut,
    /// `virsh domjobabort --postcopy` (QEMU's `migrate-pause`).
    Pause,
}

/// A post-copy migration broken as `how`, resumed in `mode`, with the
/// events each host sent during the resume.
fn break_and_resume(tag: &str, how: Break, mode: &str) {
    let Some(s) = setup_with(tag, &fault_guest(), FAST_KEEPALIVE) else {
        return;
    };
    let was = before(&s);
    let name = s.g.name.clone();
    let migrating = switched_postcopy(&s);
    match how {
        Break::Cut => cut_postcopy(&s.a, &s.b, &name, migrating),
        Break::Pause => pause_postcopy(&s.a, &s.b, &name, migrating),
    };
    check_resume_refused(&s);
    let (on_a, on_b) = (watch_lifecycle(&s.a), watch_lifecycle(&s.b));
    // virsh registers its callbacks before the resume's first event.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let out = resume(&s, mode);
    check_recovered(&s, &out, &was);
    let (on_a, on_b) = (events_seen(on_a, &name), events_seen(on_b, &name));
    eprintln!("{how:?}, {mode:?} resume events: A {on_a:?}, B {on_b:?}");
    assert_eq!(on_a, ["Suspended Post-copy", "Stopped Migrated"]);
    assert_eq!(on_b, ["Resumed Post-copy", "Resumed Migrated"]);
    // Nothing is left to resume.
    let again = resume(&s, mode);
    assert!(!again.ok, "a second resume succeeded");
}

#[test]
fn a_cut_postcopy_migration_resumes_peer_to_peer() {
    break_and_resume("qpr", Break::Cut, "--p2p");
}

/// Paused by the user (`domjobabort --postcopy`), resumed managed.
#[test]
fn a_paused_postcopy_migration_resumes_managed() {
    break_and_resume("qpm", Break::Pause, "");
}

/// B's daemon dies (SIGKILL) in post-copy and starts again: it finds the
/// guest from its status file, "running (post-copy failed)" with its
/// incoming job; once the connection is cut too, the resume completes.
#[test]
fn a_destination_daemon_restarted_in_postcopy_lets_the_migration_resume() {
    destination_daemon_restarted("qpk", false);
}

/// As above, B's QEMU blocked (SIGSTOP) while its daemon starts again: it
/// holds the only complete copy of the guest, so the daemon waits for its
/// monitor beyond the re-attach timeout instead of killing it, keeps the
/// guest listed, and takes it back once QEMU answers (SIGCONT).
#[test]
fn a_blocked_postcopy_destination_is_waited_for_not_killed() {
    destination_daemon_restarted("qpb", true);
}

fn destination_daemon_restarted(tag: &str, blocked: bool) {
    let Some(mut s) = setup_with(tag, &fault_guest(), FAST_KEEPALIVE) else {
        return;
    };
    let was = before(&s);
    let name = s.g.name.clone();
    let migrating = switched_postcopy(&s);
    let dest_qemu = s.b.qemu_pid(&name).expect("QEMU on B");
    s.b.host.kill9();
    // A loses B's daemon: the migration fails in post-copy there too,
    // while the QEMUs go on between themselves.
    let out: Output = migrating.wait_with_output().expect("virsh migrate").into();
    assert!(!out.ok, "the migration succeeded: {}", out.stdout);
    eprintln!("B's daemon killed in post-copy: {}", out.stderr.trim());
    wait_reason(&s.a, &name, "paused (post-copy failed)");
    if blocked {
        signal(dest_qemu, "-STOP");
    }
    s.b.host.restart();
    if blocked {
        // Longer than a re-attach waits for a monitor (10 s).
        std::thread::sleep(std::time::Duration::from_secs(14));
        assert!(alive(dest_qemu), "B's daemon killed the blocked QEMU");
        assert!(s.b.ok("list --all --name").lines().any(|n| n == name));
        let start = s.b.virsh(&format!("start {name}"));
        assert!(!start.ok, "started a second copy: {}", start.stdout);
        eprintln!("start while waiting: {}", start.stderr.trim());
        signal(dest_qemu, "-CONT");
    }
    wait_reason(&s.b, &name, "running (post-copy failed)");
    assert_eq!(s.b.qemu_pid(&name), Some(dest_qemu));
    // QEMU's own transfer still runs: libvirt's "QEMU reports migration
    // is still running" until it breaks too.
    let early = resume(&s, "--p2p");
    assert!(!early.ok, "resumed a running transfer");
    assert!(
        early
            .stderr
            .contains("QEMU reports migration is still running"),
        "{}",
        early.stderr
    );
    let killed = cut_connections(&s.a, &s.b, MIGRATION_PORTS);
    assert!(!killed.trim().is_empty(), "no migration connection to cut");
    wait_source_paused(&s.a, &name);
    let out = resume(&s, "--p2p");
    check_recovered(&s, &out, &was);
    assert_eq!(s.b.qemu_pid(&name), Some(dest_qemu));
}

/// `kill SIGNAL pid` (a QEMU this test's hosts started).
fn signal(pid: i32, signal: &str) {
    let done = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(done.success(), "kill {signal} {pid}");
}

/// B's daemon dies in post-copy and starts again while the QEMUs go on
/// between themselves: when QEMU's transfer then completes, nobody
/// following it any more, both daemons end the migration as libvirt's
/// unattended-migration handler does: the guest "running (migrated)" on
/// B, A's QEMU stopped, no job left on either.
#[test]
fn a_postcopy_migration_nobody_follows_completes_unattended() {
    let Some(mut s) = setup_with("qpu", &fault_guest(), FAST_KEEPALIVE) else {
        return;
    };
    let was = before(&s);
    let name = s.g.name.clone();
    let migrating = switched_postcopy(&s);
    s.b.host.kill9();
    let out: Output = migrating.wait_with_output().expect("virsh migrate").into();
    assert!(!out.ok, "the migration succeeded: {}", out.stdout);
    s.b.host.restart();
    wait_reason(&s.b, &name, "running (post-copy failed)");
    wait_reason(&s.a, &name, "paused (post-copy failed)");
    // The rest of the memory uncapped, straight through A's QEMU.
    s.a.ok(&format!(
        "qemu-monitor-command {name} '{{\"execute\":\"migrate-set-parameters\",\
         \"arguments\":{{\"max-postcopy-bandwidth\":0}}}}'"
    ));
    wait_reason(&s.b, &name, "running (migrated)");
    assert!(wait_gone(was.source_qemu, 30), "A's QEMU still runs");
    let logs = || format!("--- A:\n{}\n--- B:\n{}", s.a.host.log(), s.b.host.log());
    for host in [&s.a, &s.b] {
        if host.ok("list --all --name").lines().any(|n| n == name) {
            let info = host.ok(&format!("domjobinfo {name}"));
            assert_eq!(field(&info, "Job type"), Some("None"), "{info}\n{}", logs());
        }
    }
    let from = s.g.console_len();
    s.g.tick_after(from, was.tick);
    assert_eq!(s.g.sum_after(from), s.sum, "the guest's memory changed");
}

/// A's daemon dies (SIGKILL) in post-copy and starts again: it finds its
/// guest "paused (post-copy failed)" from the status file with its
/// outgoing job; when QEMU's transfer completes it stops A's QEMU, and B
/// (whose preparing connection went with A's daemon) runs the guest,
/// "running (migrated)".
#[test]
fn a_source_daemon_restarted_in_postcopy_ends_its_guest_once_migrated() {
    let Some(mut s) = setup_with("qps", &fault_guest(), FAST_KEEPALIVE) else {
        return;
    };
    let was = before(&s);
    let name = s.g.name.clone();
    let migrating = switched_postcopy(&s);
    s.a.host.kill9();
    let _ = migrating.wait_with_output();
    s.a.host.restart();
    wait_reason(&s.a, &name, "paused (post-copy failed)");
    assert_eq!(s.a.qemu_pid(&name), Some(was.source_qemu));
    s.a.ok(&format!(
        "qemu-monitor-command {name} '{{\"execute\":\"migrate-set-parameters\",\
         \"arguments\":{{\"max-postcopy-bandwidth\":0}}}}'"
    ));
    assert!(wait_gone(was.source_qemu, 60), "A's QEMU still runs");
    wait_reason(&s.b, &name, "running (migrated)");
    let from = s.g.console_len();
    s.g.tick_after(from, was.tick);
    assert_eq!(s.g.sum_after(from), s.sum, "the guest's memory changed");
}
