//! A mixed fleet: the test guest (TCG, its memory filled with random bytes
//! whose md5 it prints itself) started by stock libvirtd 9.0 on host A
//! migrates live to rvirtd on host B and back, each host in its own network,
//! UTS (and, for libvirtd, mount) namespace. Both daemons' QEMU drivers
//! speak libvirt's `<qemu-migration>` cookie, and rvirtd starts the
//! incoming QEMU with the device tree, RAM blocks, machine type and CPU the
//! libvirtd-started one has (and the other way round: the command lines
//! are compared). After every hop the serial tick counter went on without
//! a reboot, the checksum computed inside the guest is unchanged, and
//! `domjobinfo --completed` reports the job on both hosts (`hop`).

use rvirt_testkit::guest::GuestArgs;
use rvirt_testkit::qemu_hosts::{
    hop, setup_kinds, virsh_migrate, virsh_migrate_tunnelled, HostKind, MigrationHost,
};

fn guest_args() -> GuestArgs {
    GuestArgs {
        fill_mib: 32,
        sum_seconds: Some(2),
        ..GuestArgs::default()
    }
}

/// The running QEMU's arguments for guest `name` on `host`.
fn qemu_argv(host: &dyn MigrationHost, name: &str) -> Vec<String> {
    let pid = host.qemu_pid(name).expect("QEMU runs");
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).expect("QEMU's cmdline");
    raw.split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// What decides the migration stream's layout: machine, CPU, memory
/// (backend ids are RAM block names), SMP, and the devices (drivers and
/// bus addresses). Paths, sockets, secrets and `-incoming` differ by host.
fn layout(argv: &[String]) -> Vec<String> {
    const SHAPING: &[&str] = &["-machine", "-cpu", "-m", "-object", "-smp", "-device", "-global"];
    argv.windows(2)
        .filter(|w| SHAPING.contains(&w[0].as_str()))
        .filter(|w| !w[1].contains("\"qom-type\":\"secret\""))
        .map(|w| format!("{} {}", w[0], w[1]))
        .collect()
}

#[test]
fn libvirtd_to_rvirtd_and_back_managed_p2p_and_tunnelled() {
    let Some(s) = setup_kinds(
        "mixmig",
        &guest_args(),
        HostKind::Libvirtd,
        HostKind::Rvirtd,
        128,
    ) else {
        return;
    };
    let (a, b, g, sum) = (&s.a, &s.b, &s.g, &s.sum);
    assert_eq!((a.kind(), b.kind()), (HostKind::Libvirtd, HostKind::Rvirtd));
    let state = |h: &dyn MigrationHost| h.ok(&format!("domstate {}", g.name)).trim().to_string();
    let started_by_libvirtd = layout(&qemu_argv(a, &g.name));

    // Managed (virsh drives both daemons); the definition moves along in
    // the perform cookie's <domain> and leaves the source.
    let moving = "--persistent --undefinesource";
    hop(a, b, g, sum, || virsh_migrate(a, b, &g.name, moving));
    assert_eq!(state(b), "running");
    assert_eq!(layout(&qemu_argv(b, &g.name)), started_by_libvirtd);
    assert!(b.ok("list --persistent --name").contains(&g.name));
    assert!(!a.ok("list --all --name").contains(&g.name));
    hop(b, a, g, sum, || virsh_migrate(b, a, &g.name, moving));
    assert_eq!(state(a), "running");
    assert_eq!(layout(&qemu_argv(a, &g.name)), started_by_libvirtd);
    assert!(a.ok("list --persistent --name").contains(&g.name));
    assert!(!b.ok("list --all --name").contains(&g.name));

    // Peer-to-peer: each source daemon talks to the other kind itself.
    hop(a, b, g, sum, || virsh_migrate(a, b, &g.name, "--p2p --auto-converge"));
    hop(b, a, g, sum, || virsh_migrate(b, a, &g.name, "--p2p"));

    // Tunnelled: the memory rides the daemons' connection.
    hop(a, b, g, sum, || virsh_migrate_tunnelled(a, b, &g.name, ""));
    hop(b, a, g, sum, || virsh_migrate_tunnelled(b, a, &g.name, ""));
    assert_eq!(state(a), "running");
    assert_eq!(layout(&qemu_argv(a, &g.name)), started_by_libvirtd);
}
