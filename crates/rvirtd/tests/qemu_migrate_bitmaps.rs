//! Block dirty bitmaps in storage migration, as libvirt 9.0 moves them:
//! the test guest's qcow2 disk gets a recording persistent bitmap `b0` and
//! a disabled one `off` (`qemu-img bitmap --add --enable/--disable` while
//! the guest is off).
//! With `--copy-storage-all` to a host where the image does not exist (the
//! destination creates it), `b0` arrives in the destination's QEMU,
//! persistent and recording, and `off` does not (libvirt offers only
//! recording bitmaps) — between two rvirtd hosts and both ways between
//! stock libvirtd and rvirtd. Once the last QEMU closes the image, `b0` is
//! stored in it (`qemu-img info`).
//!
//! The rvirtd pair also shows the cookie's `<cpu>` surviving a restart: the
//! guest arrives on B with A's running CPU (the cookie's) and its
//! configured one; B's rvirtd is SIGKILLed and restarted; the hop back
//! starts A's QEMU with the same running CPU and keeps the configured one
//! as A's definition, which only a remembered configured CPU gives.
//! Last, the guest's disk on A becomes an overlay whose base has `b0` too
//! (and `base`, which the overlay lacks): a full copy squashes the chain,
//! so A merges each travelling bitmap down the chain into a temporary one
//! (libvirt's `libvirt-migration-ALIAS`) that arrives on B as `b0`,
//! persistent; `base` is not offered (libvirt's chain starts at the top).

use rvirt_testkit::guest::{GuestArgs, READY_MARKER};
use rvirt_testkit::qemu_hosts::{abort_and_check, spawn_migration, HostKind, MigrationHost};
use rvirt_testkit::qemu_storage::{
    add_bitmap, image_bitmaps, live_bitmaps, make_overlay, storage_hop, storage_setup_bitmaps,
    storage_setup_kinds_bitmaps, wait_mirroring, Bitmap,
};
use std::path::Path;

const BITMAPS: &[(&str, bool)] = &[("b0", true), ("off", false)];

fn bitmap(name: &str, recording: bool) -> Bitmap {
    Bitmap {
        name: name.into(),
        recording,
        persistent: true,
    }
}

/// What the guest's QEMU on `host` has: both bitmaps where it started,
/// only the recording one where it arrived.
fn check_live(host: &dyn MigrationHost, name: &str, want: &[Bitmap]) {
    let live = live_bitmaps(host, name);
    assert_eq!(
        live,
        want,
        "{} ({}): bitmaps of {name}",
        host.hostname(),
        host.kind().name()
    );
}

/// After the guest's last QEMU closed `image`: `b0` is stored in it.
fn check_stored(image: &Path) {
    let stored = image_bitmaps(image);
    assert!(
        stored.iter().any(|b| b.name == "b0" && b.recording),
        "b0 not in {}: {stored:?}",
        image.display()
    );
}

/// The `<cpu>` element of a domain XML.
fn cpu_of(xml: &str) -> String {
    let start = xml.find("<cpu").expect("a <cpu> element");
    let end = xml[start..].find("</cpu>").expect("</cpu>") + start;
    xml[start..end].to_string()
}

#[test]
fn bitmaps_travel_between_rvirtd_hosts_and_the_cookie_cpu_survives_a_restart() {
    let Some(mut s) = storage_setup_bitmaps("qbmp", &GuestArgs::with_disk(), "", BITMAPS) else {
        return;
    };
    let name = s.g.name.clone();
    check_live(&s.a, &name, &[bitmap("b0", true), bitmap("off", false)]);
    let configured = cpu_of(&s.a.ok(&format!("dumpxml --inactive {name}")));
    let running = cpu_of(&s.a.ok(&format!("dumpxml {name}")));
    assert_ne!(configured, running, "the start filled in no CPU feature");
    assert!(!s.image_on(&s.b).exists());
    storage_hop(&s, &s.a, &s.b, "--copy-storage-all");
    check_live(&s.b, &name, &[bitmap("b0", true)]);
    // B runs A's CPU (the cookie's) and keeps the configured one.
    assert_eq!(cpu_of(&s.b.ok(&format!("dumpxml {name}"))), running);
    let migratable = cpu_of(&s.b.ok(&format!("dumpxml --migratable {name}")));
    assert_eq!(migratable, configured);

    s.b.host.kill9();
    s.b.host.restart();
    assert_eq!(cpu_of(&s.b.ok(&format!("dumpxml {name}"))), running);
    let after = cpu_of(&s.b.ok(&format!("dumpxml --migratable {name}")));
    assert_eq!(after, configured, "the configured CPU was forgotten");

    std::fs::remove_file(s.image_on(&s.a)).expect("remove A's image");
    storage_hop(&s, &s.b, &s.a, "--copy-storage-all --p2p");
    check_live(&s.a, &name, &[bitmap("b0", true)]);
    // A started QEMU with the cookie's CPU, the definition's stays.
    assert_eq!(cpu_of(&s.a.ok(&format!("dumpxml {name}"))), running);
    let inactive = cpu_of(&s.a.ok(&format!("dumpxml --inactive {name}")));
    assert_eq!(inactive, configured);
    s.a.ok(&format!("destroy {name}"));
    check_stored(&s.image_on(&s.a));

    // b0 on the overlay and on its base (base's only there): merged.
    let image = s.image_on(&s.a);
    let base = make_overlay(&image);
    add_bitmap(&base, "base", true);
    add_bitmap(&image, "b0", true);
    let from = s.g.console_len();
    s.a.ok(&format!("start {name}"));
    s.g.wait_for(from, 90, READY_MARKER, |t| {
        t.contains(READY_MARKER).then_some(())
    });
    // A new boot: a new memory checksum.
    s.sum = s.g.sum_after(from);
    std::fs::remove_file(s.image_on(&s.b)).expect("remove B's image");
    // Aborted during the disk copy: the temporary bitmap goes again.
    let migrating = spawn_migration(&s.a, &s.b, &s.g, "--copy-storage-all --bandwidth 1");
    wait_mirroring(&s.a, &s.b, &s.g);
    abort_and_check(&s.a, &s.b, &s.g, migrating);
    let left = live_bitmaps(&s.a, &name);
    assert!(
        !left
            .iter()
            .any(|b| b.name.starts_with("libvirt-migration-")),
        "{left:?}"
    );
    storage_hop(&s, &s.a, &s.b, "--copy-storage-all");
    check_live(&s.b, &name, &[bitmap("b0", true)]);
}

#[test]
fn bitmaps_travel_between_libvirtd_and_rvirtd_both_ways() {
    let kinds = (HostKind::Libvirtd, HostKind::Rvirtd);
    let Some(s) = storage_setup_kinds_bitmaps("mixbmp", &GuestArgs::with_disk(), kinds, BITMAPS)
    else {
        return;
    };
    let (a, b, name) = (&s.a, &s.b, s.g.name.clone());
    check_live(a, &name, &[bitmap("b0", true), bitmap("off", false)]);
    assert!(!s.image_on(b).exists());
    // libvirtd offers, rvirtd takes.
    storage_hop(&s, a, b, "--copy-storage-all");
    check_live(b, &name, &[bitmap("b0", true)]);
    // rvirtd offers, libvirtd takes (into an image it creates again).
    std::fs::remove_file(s.image_on(a)).expect("remove A's image");
    storage_hop(&s, b, a, "--copy-storage-all --p2p");
    check_live(a, &name, &[bitmap("b0", true)]);
    a.ok(&format!("destroy {name}"));
    check_stored(&s.image_on(a));
}
