//! Two stock libvirtd 9.0 hosts, each in its own network, UTS and mount
//! namespace on either side of a veth pair: the test guest (its memory
//! filled with random bytes it sums itself) started on A moves to B and
//! back by stock `virsh migrate --live` managed, `--p2p` and
//! `--p2p --tunnelled`, checked by the same hop as the rvirtd hosts' tests.
//! This proves the setup the mixed-daemon tests and the migration benchmark
//! stand on.

use rvirt_testkit::guest::GuestArgs;
use rvirt_testkit::qemu_hosts::{
    hop, setup_kinds, virsh_migrate, virsh_migrate_tunnelled, HostKind, MigrationHost,
};

#[test]
fn the_test_guest_migrates_between_two_stock_libvirtd_hosts() {
    let args = GuestArgs {
        fill_mib: 32,
        sum_seconds: Some(2),
        ..GuestArgs::default()
    };
    let kind = HostKind::Libvirtd;
    let Some(s) = setup_kinds("lvmig", &args, kind, kind, 128) else {
        return;
    };
    let (a, b, g, sum) = (&s.a, &s.b, &s.g, &s.sum);
    // Each daemon answers with its own host name, from its own namespace.
    assert_eq!(a.ok("hostname").trim(), "rvirt-qa");
    assert_eq!(b.ok("hostname").trim(), "rvirt-qb");
    hop(a, b, g, sum, || virsh_migrate(a, b, &g.name, ""));
    assert_eq!(b.ok(&format!("domstate {}", g.name)).trim(), "running");
    assert_eq!(a.ok(&format!("domstate {}", g.name)).trim(), "shut off");
    hop(b, a, g, sum, || virsh_migrate(b, a, &g.name, "--p2p"));
    hop(a, b, g, sum, || virsh_migrate_tunnelled(a, b, &g.name, ""));
    assert_eq!(b.ok(&format!("domstate {}", g.name)).trim(), "running");
}
