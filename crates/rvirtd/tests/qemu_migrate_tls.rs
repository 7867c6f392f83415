//! QEMU migration over TLS (`virsh migrate --tls`) between two rvirtd
//! hosts in their own network namespaces, with the test kit's PKI in
//! QEMU's layout as `migrate_tls_x509_cert_dir` (one server certificate
//! naming both hosts, so either can be the destination). The guest goes
//! A→B managed and back peer-to-peer, its ticks and memory checksum going
//! on; while it moves, both QEMUs migrate with the `tls-creds-x509` object
//! (`query-migrate-parameters` through `qemu-monitor-command`, which a
//! migration lets through as libvirt does), and afterwards the object is
//! gone. With `migrate_tls_force = 1` a migration without `--tls` is
//! refused with libvirt's words; so are `--tls --tunnelled` and a
//! destination whose certificate is missing (QEMU's error), the guest left
//! running on A each time. A disk migrates with `--copy-storage-all --tls`
//! (NBD server and mirror over TLS). With the private keys encrypted and
//! `migrate_tls_x509_secret_uuid` naming their passphrase's secret, the
//! guest migrates once each host's secret driver holds it, and not before
//! (the secret driver's error) or with a wrong one (QEMU's).

use rvirt_testkit::guest::{self, GuestArgs};
use rvirt_testkit::pki::{have_certtool, Pki};
use rvirt_testkit::qemu_hosts::{
    check_failed_cleanly, hop, setup_with, spawn_migration, virsh_migrate, virsh_migrate_tunnelled,
    QemuHost,
};
use rvirt_testkit::qemu_storage::{
    disk_counter, disk_counter_above, images_identical, storage_setup_with,
};
use rvirt_testkit::tools::Output;
use std::time::{Duration, Instant};

/// The credentials object libvirt names on both ends.
const ALIAS: &str = "objlibvirt_migrate_tls0";

fn guest_args(disk: Option<&str>) -> GuestArgs {
    GuestArgs {
        fill_mib: 32,
        sum_seconds: Some(2),
        disk: disk.map(str::to_string),
        ..GuestArgs::default()
    }
}

/// The hosts' config: the PKI's QEMU directory for both (the test kit's
/// LAN puts A at 10.77.0.1 and B at 10.77.0.2), `force` as
/// `migrate_tls_force`.
fn tls_conf(pki: &Pki, force: bool) -> String {
    let dir = pki.qemu_dir(&[("rvirt-qa", "10.77.0.1"), ("rvirt-qb", "10.77.0.2")]);
    format!(
        "migrate_tls_x509_cert_dir = \"{}\"\nmigrate_tls_force = {}\n",
        dir.display(),
        u8::from(force)
    )
}

/// The hosts' config for keys encrypted with [`PASSPHRASE`], whose
/// secret is [`KEY_SECRET`].
fn encrypted_key_conf(pki: &Pki) -> String {
    let dir = pki.qemu_dir(&[("rvirt-qa", "10.77.0.1"), ("rvirt-qb", "10.77.0.2")]);
    pki.encrypt_qemu_keys(&dir, PASSPHRASE);
    format!(
        "migrate_tls_x509_cert_dir = \"{}\"\nmigrate_tls_x509_secret_uuid = \"{KEY_SECRET}\"\n",
        dir.display()
    )
}

const PASSPHRASE: &str = "rvirt-tls-key";
/// `PASSPHRASE` in base64, as `virsh secret-set-value` takes it.
const PASSPHRASE_B64: &str = "cnZpcnQtdGxzLWtleQ==";
const KEY_SECRET: &str = "5b0e4c2a-1d3f-4e6a-8b7c-9d0e1f2a3b4c";

/// Define the keys' secret on `host` (a private TLS secret, as an operator
/// would) with the value whose base64 is `value`.
fn define_key_secret(host: &QemuHost, pki: &Pki, value: &str) {
    let xml = pki.path("key-secret.xml");
    let text = format!(
        "<secret ephemeral='no' private='yes'><uuid>{KEY_SECRET}</uuid>\
         <usage type='tls'><name>migration keys</name></usage></secret>"
    );
    std::fs::write(&xml, text).expect("write the secret's XML");
    host.ok(&format!("secret-define {}", xml.display()));
    host.ok(&format!("secret-set-value {KEY_SECRET} --base64 {value}"));
}

/// The test PKI, `None` (with a note) without certtool.
fn pki() -> Option<Pki> {
    if !have_certtool() {
        eprintln!("certtool missing (gnutls-bin): skipped");
        return None;
    }
    Some(Pki::new())
}

fn monitor(host: &QemuHost, name: &str, command: &str) -> Output {
    host.virsh(&format!(
        "qemu-monitor-command {name} '{{\"execute\":\"{command}\"}}'"
    ))
}

/// The `tls-creds` QEMU on `host` migrates with, if it answers.
fn tls_creds(host: &QemuHost, name: &str) -> Option<String> {
    let out = monitor(host, name, "query-migrate-parameters");
    let text: String = out.stdout.split_whitespace().collect();
    let rest = text.split("\"tls-creds\":\"").nth(1)?;
    Some(rest.split('"').next()?.to_string())
}

/// Both QEMUs, polled while the migration `migrating` runs, showed the
/// TLS credentials; the migration's output.
fn watch_tls(
    a: &QemuHost,
    b: &QemuHost,
    name: &str,
    migrating: std::process::Child,
) -> (Output, bool, bool) {
    let (mut on_a, mut on_b) = (false, false);
    let start = Instant::now();
    while !(on_a && on_b) && start.elapsed() < Duration::from_secs(60) {
        on_a |= tls_creds(a, name).as_deref() == Some(ALIAS);
        on_b |= tls_creds(b, name).as_deref() == Some(ALIAS);
        std::thread::sleep(Duration::from_millis(300));
    }
    // Seen: the rest goes at full speed. A long capped migration under a
    // starved host CPU can lose guest memory in QEMU 7.2's TCG (stock
    // libvirtd's guests too: `migrate_soak`), so it is kept short.
    let _ = a.virsh(&format!("migrate-setspeed {name} 8192"));
    let out = migrating.wait_with_output().expect("virsh migrate").into();
    (out, on_a, on_b)
}

/// After the migration the guest's QEMU on `host` holds no credentials.
fn check_tls_gone(host: &QemuHost, name: &str) {
    assert_eq!(tls_creds(host, name).as_deref(), Some(""));
    let objects = host.virsh(&format!(
        "qemu-monitor-command {name} --hmp 'info qom-tree /objects'"
    ));
    assert!(objects.ok, "{}", objects.stderr);
    assert!(!objects.stdout.contains(ALIAS), "{}", objects.stdout);
}

#[test]
fn a_guest_migrates_over_tls_both_ways_and_tls_is_enforced() {
    let Some(pki) = pki() else {
        return;
    };
    let Some(s) = setup_with("qtls", &guest_args(None), &tls_conf(&pki, true)) else {
        return;
    };
    let (a, b, g) = (&s.a, &s.b, &s.g);
    // A→B managed, slowed so both ends can be asked during the job.
    hop(a, b, g, &s.sum, || {
        let migrating = spawn_migration(a, b, g, "--tls --bandwidth 4");
        let (out, on_a, on_b) = watch_tls(a, b, &g.name, migrating);
        assert!(on_a && on_b, "tls-creds not seen: A {on_a}, B {on_b}");
        out
    });
    check_tls_gone(b, &g.name);
    // Back peer-to-peer.
    hop(b, a, g, &s.sum, || {
        virsh_migrate(b, a, &g.name, "--p2p --tls")
    });
    check_tls_gone(a, &g.name);
    // Refused before anything moves, the guest left ticking on A.
    let forced = "this libvirtd instance allows migration only with VIR_MIGRATE_TLS flag";
    check_failed_cleanly(a, b, g, virsh_migrate(a, b, &g.name, ""), forced);
    let tunnelled = virsh_migrate_tunnelled(a, b, &g.name, "--tls");
    let why = "TLS migration is not supported with tunnelled migration";
    check_failed_cleanly(a, b, g, tunnelled, why);
    // The destination's certificate is missing: QEMU's error from B's
    // object-add, as libvirt reports it.
    let dir = pki.path("qemu");
    let (cert, away) = (dir.join("server-cert.pem"), dir.join("away.pem"));
    std::fs::rename(&cert, &away).expect("hide the server certificate");
    let out = virsh_migrate(a, b, &g.name, "--tls");
    std::fs::rename(&away, &cert).expect("restore the server certificate");
    let why = format!("Unable to access credentials {}", cert.display());
    assert!(
        out.stderr
            .contains("unable to execute QEMU command 'object-add'"),
        "{}",
        out.stderr
    );
    check_failed_cleanly(a, b, g, out, &why);
}

#[test]
fn a_disk_migrates_over_tls() {
    let Some(pki) = pki() else {
        return;
    };
    let conf = tls_conf(&pki, false);
    let Some(s) = storage_setup_with("qtlsdisk", &guest_args(Some("vda")), &conf) else {
        return;
    };
    let (a, b, g) = (&s.a, &s.b, &s.g);
    let counted = disk_counter_above(&s.image_on(a), 0);
    let ticked = guest::last_tick(&g.text()).unwrap_or(0);
    let from = g.console_len();
    let how = "--copy-storage-all --tls --suspend";
    let out = virsh_migrate(a, b, &g.name, how);
    let logs = || format!("--- A:\n{}\n--- B:\n{}", a.host.log(), b.host.log());
    assert!(out.ok, "{}{}\n{}", out.stdout, out.stderr, logs());
    assert!(a.qemu_pid(&g.name).is_none(), "QEMU left on A");
    assert_eq!(b.ok(&format!("domstate {}", g.name)).trim(), "paused");
    let same = images_identical(&s.image_on(a), &s.image_on(b));
    assert!(same.ok, "images differ: {}{}", same.stdout, same.stderr);
    let at_switch = disk_counter(&s.image_on(b));
    assert!(at_switch >= counted, "{at_switch} < {counted}");
    check_tls_gone(b, &g.name);
    b.ok(&format!("resume {}", g.name));
    let moved = g.text_from(from);
    g.tick_after(g.console_len(), guest::last_tick(&moved).unwrap_or(ticked));
    disk_counter_above(&s.image_on(b), at_switch);
}

#[test]
fn encrypted_keys_open_with_the_secret_named_in_qemu_conf() {
    let Some(pki) = pki() else {
        return;
    };
    let conf = encrypted_key_conf(&pki);
    let Some(s) = setup_with("qtlskey", &guest_args(None), &conf) else {
        return;
    };
    let (a, b, g) = (&s.a, &s.b, &s.g);
    // No secret yet: the secret driver's error, before anything moves.
    let out = virsh_migrate(a, b, &g.name, "--tls");
    let why = format!("no secret with matching uuid '{KEY_SECRET}'");
    check_failed_cleanly(a, b, g, out, &why);
    // A wrong passphrase on B (base64 of "wrong"): B's QEMU cannot open
    // its key (QEMU's error from object-add), the guest stays on A.
    define_key_secret(a, &pki, PASSPHRASE_B64);
    define_key_secret(b, &pki, "d3Jvbmc=");
    let out = virsh_migrate(a, b, &g.name, "--tls");
    check_failed_cleanly(a, b, g, out, "unable to execute QEMU command 'object-add'");
    b.ok(&format!(
        "secret-set-value {KEY_SECRET} --base64 {PASSPHRASE_B64}"
    ));
    hop(a, b, g, &s.sum, || virsh_migrate(a, b, &g.name, "--tls"));
    check_tls_gone(b, &g.name);
    let objects = b.virsh(&format!(
        "qemu-monitor-command {} --hmp 'info qom-tree /objects'",
        g.name
    ));
    assert!(!objects.stdout.contains("libvirt_migrate-secret0"));
}
