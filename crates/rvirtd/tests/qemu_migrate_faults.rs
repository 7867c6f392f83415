//! A QEMU migration between two rvirtd hosts (each in its own network and
//! UTS namespace) that breaks mid-transfer, in managed, peer-to-peer and
//! tunnelled mode: aborted, the destination's QEMU killed, the destination
//! daemon killed (SIGKILL, by its PID; restarted afterwards), and the
//! migration's TCP connection cut (`ss -K` in the source's namespace,
//! which resets both ends); peer-to-peer and tunnelled also lose the link
//! silently (B's veth end down, no reset: the daemons' keepalive, 1 s × 2
//! here, must notice). After each the guest runs on A exactly once,
//! its tick counter going on and its definition intact, and B has no QEMU,
//! listener or definition left; a destination daemon that was killed
//! removes, when it starts again, the half-arrived guest it had (libvirt's
//! `qemuProcessRecoverMigrationIn`). One test per mode, so they run side
//! by side, each with its own hosts and guest.

use rvirt_testkit::qemu_hosts::{
    check_left_on_source, cut_connections, fault_guest, hop, setup_with, spawn_virsh, wait_gone,
    wait_transferring, QemuHost, Setup, FAST_KEEPALIVE, MIGRATION_PORTS,
};
use rvirt_testkit::tools::Output;
use std::process::Stdio;
use std::time::Instant;

#[derive(Clone, Copy, Debug)]
enum Mode {
    Managed,
    PeerToPeer,
    Tunnelled,
}

impl Mode {
    /// `virsh migrate` from A to B in this mode, capped at 1 MiB/s so the
    /// 32 MiB of random guest memory take half a minute.
    fn command(self, s: &Setup) -> String {
        let (b, name) = (&s.b, &s.g.name);
        let flags = match self {
            Mode::Managed => "",
            Mode::PeerToPeer => "--p2p",
            Mode::Tunnelled => "--p2p --tunnelled",
        };
        let uri = match self {
            Mode::Tunnelled => String::new(),
            _ => format!("--migrateuri tcp://{}", b.host.addr),
        };
        format!(
            "migrate --live {flags} --bandwidth 1 {name} {} {uri}",
            b.uri()
        )
    }
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    Abort,
    DestinationQemuKilled,
    DestinationDaemonKilled,
    ConnectionCut,
    LinkDown,
}

fn kill9(pid: i32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// `ss -K` in A's namespace on the TCP connections to B that carry the
/// guest's memory: QEMU's own (to a port of the migration range) or, when
/// tunnelled, the source daemon's connection to the destination daemon.
/// The kernel resets both ends. Returns what ss killed.
fn cut(a: &QemuHost, b: &QemuHost, mode: Mode) -> String {
    let ports = match mode {
        Mode::Tunnelled => format!("dport = :{}", b.host.port),
        _ => MIGRATION_PORTS.to_string(),
    };
    cut_connections(a, b, &ports)
}

/// Break a migration from A to B with `fault` half-way and check that A
/// keeps the guest and B keeps nothing; the error virsh printed.
fn break_migration(s: &mut Setup, mode: Mode, fault: Fault) -> String {
    let started = Instant::now();
    let migrating = spawn_virsh(&s.a, &mode.command(s));
    wait_transferring(&s.a, &s.b, &s.g);
    let incoming = s.b.qemu_pid(&s.g.name).expect("incoming QEMU on B");
    let name = s.g.name.clone();
    match fault {
        Fault::Abort => {
            s.a.ok(&format!("domjobabort {name}"));
        }
        Fault::DestinationQemuKilled => kill9(incoming),
        Fault::DestinationDaemonKilled => {
            s.b.host.kill9();
            if let Mode::Managed = mode {
                // Nobody tells the source (the client drives): QEMU goes
                // on sending to B's QEMU, which outlives its daemon; let it
                // end soon, so that the client's finish meets the dead one.
                s.a.ok(&format!("migrate-setspeed {name} 8796093022207"));
            }
        }
        Fault::ConnectionCut => {
            let killed = cut(&s.a, &s.b, mode);
            assert!(!killed.trim().is_empty(), "no connection to cut");
        }
        Fault::LinkDown => s.set_link(false),
    }
    let out: Output = migrating.wait_with_output().expect("virsh migrate").into();
    if let Fault::LinkDown = fault {
        // B gives up on A's connection by itself; then the network is back.
        let gone = wait_gone(incoming, 20);
        s.set_link(true);
        assert!(gone, "B kept its incoming QEMU with the link down");
    }
    assert!(!out.ok, "{mode:?} {fault:?}: the migration succeeded");
    if let Fault::DestinationDaemonKilled = fault {
        s.b.host.restart();
    }
    let logs = || format!("--- A:\n{}\n--- B:\n{}", s.a.host.log(), s.b.host.log());
    let settled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert!(
            wait_gone(incoming, 10),
            "B's incoming QEMU {incoming} lives on"
        );
        check_left_on_source(&s.a, &s.b, &s.g);
    }));
    if let Err(e) = settled {
        eprintln!("{mode:?} {fault:?}: {}\n{}", out.stderr, logs());
        std::panic::resume_unwind(e);
    }
    eprintln!(
        "{mode:?} {fault:?}: failed in {:?} with {}",
        started.elapsed(),
        out.stderr.trim()
    );
    out.stderr
}

/// Every fault in turn in one mode, on one guest; each error says why.
fn every_fault(tag: &str, mode: Mode) {
    let Some(mut s) = setup_with(tag, &fault_guest(), FAST_KEEPALIVE) else {
        return;
    };
    let said = break_migration(&mut s, mode, Fault::Abort);
    assert!(said.contains("canceled by client"), "{said}");
    break_migration(&mut s, mode, Fault::DestinationQemuKilled);
    let said = break_migration(&mut s, mode, Fault::ConnectionCut);
    if let Mode::Tunnelled = mode {
        assert!(
            said.contains("Lost connection to destination host"),
            "{said}"
        );
    }
    if let Mode::PeerToPeer | Mode::Tunnelled = mode {
        // A managed migration's source has no connection to B to watch,
        // and QEMU's own stream would wait for TCP's retransmissions to
        // give up (with libvirt too).
        let said = break_migration(&mut s, mode, Fault::LinkDown);
        assert!(
            said.contains("Lost connection to destination host"),
            "{said}"
        );
    }
    let said = break_migration(&mut s, mode, Fault::DestinationDaemonKilled);
    if let Mode::PeerToPeer = mode {
        assert!(
            said.contains("Lost connection to destination host"),
            "{said}"
        );
        unresolvable_destination_name(&s);
    }
}

/// B's host name (its own UTS name) does not resolve from A: a managed
/// migration without a migration URI fails cleanly, as with libvirt
/// (QEMU cannot reach the name B's URI carries), but peer-to-peer goes to
/// the address A's daemon reached B's at, and the guest moves.
fn unresolvable_destination_name(s: &Setup) {
    let (a, b, g) = (&s.a, &s.b, &s.g);
    let lookup = a
        .host
        .command("getent")
        .args(["hosts", &b.host.hostname])
        .stdin(Stdio::null())
        .output()
        .expect("run getent");
    assert!(!lookup.status.success(), "{} resolves", b.host.hostname);
    let out = a.virsh(&format!("migrate --live {} {}", g.name, b.uri()));
    assert!(!out.ok, "a managed migration to an unknown name succeeded");
    eprintln!("managed to an unknown name: {}", out.stderr.trim());
    check_left_on_source(a, b, g);
    hop(a, b, g, &s.sum, || {
        a.virsh(&format!("migrate --live --p2p {} {}", g.name, b.uri()))
    });
}

#[test]
fn managed_migration_faults_leave_the_guest_on_the_source() {
    every_fault("qfm", Mode::Managed);
}

#[test]
fn peer_to_peer_migration_faults_leave_the_guest_on_the_source() {
    every_fault("qfp", Mode::PeerToPeer);
}

#[test]
fn tunnelled_migration_faults_leave_the_guest_on_the_source() {
    every_fault("qft", Mode::Tunnelled);
}
