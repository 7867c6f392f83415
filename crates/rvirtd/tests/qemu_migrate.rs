//! Live migration of a real QEMU guest between two rvirtd hosts, each in
//! its own network namespace (a veth pair between them) and UTS namespace:
//! the test kit's guest (TCG, its memory filled with random bytes whose md5
//! it prints itself) moved by stock `virsh migrate --live` (managed) from A
//! to B and back, by python3-libvirt's `migrateToURI3` with params
//! (peer-to-peer), by `virsh migrate --p2p` and `--p2p --tunnelled`. After
//! each hop QEMU runs only on the destination, the serial tick counter
//! went on without restarting, the checksum computed inside the guest is
//! unchanged, and `domjobinfo --completed` reports bytes and downtime on
//! both hosts. An aborted migration leaves the guest ticking on A and
//! nothing on B; what QEMU cannot honour is refused by name first.

use rvirt_testkit::guest::GuestArgs;
use rvirt_testkit::qemu_hosts::{
    check_failed_cleanly, hop, setup, spawn_migration, virsh_migrate, wait_transferring, QemuHost,
    TestGuest,
};
use rvirt_testkit::tools::{python_libvirt_ready, Output};
use std::process::Stdio;

/// The guest: 32 MiB of random bytes (QEMU sends zero pages as markers),
/// summed every 2 s.
fn guest_args() -> GuestArgs {
    GuestArgs {
        fill_mib: 32,
        sum_seconds: Some(2),
        ..GuestArgs::default()
    }
}

/// `virsh migrate --bandwidth 1` from A to B in the background: against
/// 32 MiB of random bytes it is still running seconds later.
fn spawn_slow_migration(a: &QemuHost, b: &QemuHost, g: &TestGuest) -> std::process::Child {
    spawn_migration(a, b, g, "--bandwidth 1")
}

/// python3-libvirt: `migrateToURI3` peer-to-peer with params, printing the
/// lifecycle, migration-iteration and job-completed events of both hosts.
const PYTHON_P2P: &str = r#"import libvirt, threading, time
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
src = libvirt.open('SRC')
dst = libvirt.open('DST')
seen = []
def life(conn, dom, event, detail, tag):
    seen.append('%s lifecycle %d %d' % (tag, event, detail))
def iteration(conn, dom, n, tag):
    seen.append('%s iteration' % tag)
def completed(conn, dom, params, tag):
    seen.append('%s job-completed %s' % (tag, params.get('data_processed', 0) > 0))
for conn, tag in ((src, 'src'), (dst, 'dst')):
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, life, tag)
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION, iteration, tag)
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, completed, tag)
params = {libvirt.VIR_MIGRATE_PARAM_URI: 'tcp://ADDR', libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 1000}
flags = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER
         | libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)
src.lookupByName('NAME').migrateToURI3('DST', params, flags)
time.sleep(1.5)
print(chr(10).join(seen))
"#;

#[test]
fn virsh_and_python_move_a_real_guest_between_two_hosts() {
    let Some(s) = setup("qmig", &guest_args()) else {
        return;
    };
    let (a, b, g, sum) = (&s.a, &s.b, &s.g, &s.sum);
    hop(a, b, g, sum, || virsh_migrate(a, b, &g.name, ""));
    assert_eq!(a.ok(&format!("domstate {}", g.name)).trim(), "shut off");
    assert_eq!(b.ok(&format!("domstate {}", g.name)).trim(), "running");
    hop(b, a, g, sum, || virsh_migrate(b, a, &g.name, ""));
    assert_eq!(a.ok(&format!("domstate {}", g.name)).trim(), "running");
    if python_libvirt_ready() {
        // Peer-to-peer through python3-libvirt (the source daemon drives B),
        // with both hosts' events recorded.
        let code = PYTHON_P2P
            .replace("SRC", &a.uri())
            .replace("DST", &b.uri())
            .replace("NAME", &g.name)
            .replace("ADDR", &b.host.addr);
        let mut said = String::new();
        hop(a, b, g, sum, || {
            let out: Output = a
                .host
                .command("/usr/bin/python3")
                .args(["-c", &code])
                .stdin(Stdio::null())
                .output()
                .expect("run python3")
                .into();
            said = out.stdout.clone();
            out
        });
        // libvirt's numbers: STARTED/MIGRATED 2 1, RESUMED/MIGRATED 4 1,
        // SUSPENDED/MIGRATED 3 1, STOPPED/MIGRATED 5 3.
        for wanted in [
            "dst lifecycle 2 1",
            "dst lifecycle 4 1",
            "src lifecycle 3 1",
            "src lifecycle 5 3",
            "src iteration",
            "src job-completed True",
            "dst job-completed True",
        ] {
            assert!(
                said.contains(wanted),
                "no '{wanted}' among the events:\n{said}"
            );
        }
        assert!(b.ok("list --persistent --name").contains(&g.name));
        assert!(!a.ok("list --all --name").contains(&g.name));
        hop(b, a, g, sum, || virsh_migrate(b, a, &g.name, "--p2p"));
        assert_eq!(a.ok(&format!("domstate {}", g.name)).trim(), "running");
        // Tunnelled: the memory rides the daemons' connection.
        hop(a, b, g, sum, || {
            a.virsh(&format!(
                "migrate --live --p2p --tunnelled {} {}",
                g.name,
                b.uri()
            ))
        });
    }
}

#[test]
fn an_aborted_or_broken_migration_leaves_the_guest_on_the_source_and_nothing_on_the_destination() {
    let Some(s) = setup("qabort", &guest_args()) else {
        return;
    };
    let (a, b, g) = (&s.a, &s.b, &s.g);
    // Refused before anything moves: what QEMU cannot do, named.
    let out = virsh_migrate(a, b, &g.name, "--parallel --zerocopy");
    check_failed_cleanly(a, b, g, out, "VIR_MIGRATE_ZEROCOPY");
    // Aborted mid-transfer, the limits changed during the job first
    // (QEMU's parameters at once).
    let migrating = spawn_slow_migration(a, b, g);
    wait_transferring(a, b, g);
    a.ok(&format!("migrate-setspeed {} 2", g.name));
    assert_eq!(a.ok(&format!("migrate-getspeed {}", g.name)).trim(), "2");
    a.ok(&format!("migrate-setmaxdowntime {} 400", g.name));
    let downtime = a.ok(&format!("migrate-getmaxdowntime {}", g.name));
    assert_eq!(downtime.trim(), "400");
    a.ok(&format!("domjobabort {}", g.name));
    let out = migrating.wait_with_output().expect("virsh migrate").into();
    check_failed_cleanly(a, b, g, out, "canceled by client");
    let info = a.ok(&format!("domjobinfo {} --completed", g.name));
    assert!(info.contains("canceled by client"), "{info}");
    // The destination's QEMU killed mid-transfer.
    let migrating = spawn_slow_migration(a, b, g);
    wait_transferring(a, b, g);
    let pid = b.qemu_pid(&g.name).expect("incoming QEMU");
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
    let out: Output = migrating.wait_with_output().expect("virsh migrate").into();
    // The client reports the source's failure or, as with libvirt, the
    // error the destination kept when its incoming QEMU went away
    // (whichever the timing gives, as with libvirtd).
    let why = if out.stderr.contains("unexpectedly closed the monitor") {
        "internal error: qemu unexpectedly closed the monitor"
    } else {
        "job 'migration out' failed"
    };
    check_failed_cleanly(a, b, g, out, why);
    // And the guest still migrates afterwards.
    a.ok(&format!("migrate-setspeed {} 8796093022207", g.name));
    hop(a, b, g, &s.sum, || virsh_migrate(a, b, &g.name, ""));
}
