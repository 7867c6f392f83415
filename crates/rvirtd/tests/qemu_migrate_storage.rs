//! Storage migration without shared storage between two rvirtd hosts, each
//! seeing its own file at the disk's path (own network, UTS and mount
//! namespaces): the test guest writes a counter to its qcow2 disk every
//! tick. Stock `virsh migrate --copy-storage-all` moves it from A to B,
//! where the image does not exist (B creates it, qcow2 of the source's
//! size); `--suspend` keeps it paused there so `qemu-img compare` sees the
//! images at the switch-over, after the source QEMU is gone: identical.
//! Resumed, the counter continues on B's disk. `--copy-storage-inc` brings
//! it back to A's existing image (peer-to-peer, `--migrate-disks`,
//! `--disks-port`); tunnelled storage migration, an unknown disk and a
//! migration leaving the local disk behind are refused with libvirt's
//! errors. An abort during the disk copy leaves the
//! guest ticking on A and nothing on B: no QEMU, definition, listener,
//! NBD server or created image, and no mirror job or node left in A's QEMU.

use rvirt_testkit::guest::GuestArgs;
use rvirt_testkit::qemu_hosts::{
    abort_and_check, check_failed_cleanly, spawn_migration, virsh_migrate, QemuHost,
};
use rvirt_testkit::qemu_storage::{
    disk_counter, disk_counter_above, image_format_and_size, storage_hop, storage_setup,
    wait_mirroring, DISK_MIB,
};
use std::time::Instant;

fn monitor(host: &QemuHost, name: &str, command: &str) -> String {
    host.ok(&format!(
        "qemu-monitor-command {name} '{{\"execute\":\"{command}\"}}'"
    ))
}

#[test]
fn a_guest_with_a_local_disk_migrates_with_its_storage() {
    let Some(s) = storage_setup("qstor", &GuestArgs::with_disk()) else {
        return;
    };
    let (a, b, g) = (&s.a, &s.b, &s.g);
    let t0 = Instant::now();
    disk_counter_above(&s.image_on(a), 0);
    assert!(!s.image_on(b).exists());
    storage_hop(&s, a, b, "--copy-storage-all");
    eprintln!("{:?}: first hop checked", t0.elapsed());
    // B created the image the source described.
    let (format, size) = image_format_and_size(&s.image_on(b));
    assert_eq!((format.as_str(), size), ("qcow2", DISK_MIB << 20));
    // Back to A's existing (stale) image, the top layer only, peer to
    // peer, the disk named and the NBD server on a port of our choosing.
    let inc = "--p2p --copy-storage-inc --migrate-disks vda --disks-port 49200";
    storage_hop(&s, b, a, inc);
    // Refused before anything moves, with libvirt's words.
    let refused = [
        (
            "--p2p --tunnelled --copy-storage-all",
            "migration of non-shared storage is not supported with tunnelled migration",
        ),
        (
            "--copy-storage-all --migrate-disks vdz",
            "disk target vdz not found",
        ),
        // A local disk left behind, without --unsafe.
        (
            "",
            "Unsafe migration: Migration without shared storage is unsafe",
        ),
    ];
    for (how, why) in refused {
        check_failed_cleanly(a, b, g, virsh_migrate(a, b, &g.name, how), why);
    }
    eprintln!("{:?}: second hop checked", t0.elapsed());

    // Aborted while the disk is copied (1 MiB/s against 8 MiB of data).
    std::fs::remove_file(s.image_on(b)).expect("remove B's image");
    let migrating = spawn_migration(a, b, g, "--copy-storage-all --bandwidth 1");
    wait_mirroring(a, b, g);
    assert!(s.image_on(b).exists(), "B did not create the image");
    abort_and_check(a, b, g, migrating);
    assert!(!s.image_on(b).exists(), "the created image is left on B");
    let jobs = monitor(a, &g.name, "query-jobs");
    assert!(!jobs.contains("drive-virtio-disk0"), "mirror left: {jobs}");
    let nodes = monitor(a, &g.name, "query-named-block-nodes");
    assert!(!nodes.contains("migration-vda"), "NBD node left: {nodes}");
    let counted = disk_counter(&s.image_on(a));
    disk_counter_above(&s.image_on(a), counted);
}
