//! The daemon's host-wide secondary drivers behind `qemu:///system`
//! (libvirt's shared drivers): a secret defined on `secret:///system` is
//! the one `qemu:///system` lists, looks up and reads, and undefining it
//! there removes it from both, through stock virsh as libvirtd serves it.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::dirs::TempDir;
use rvirt_testkit::tools::{have_virsh, virsh};

const UUID: &str = "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f";

#[test]
fn qemu_connections_share_the_daemons_secrets() {
    if !have_virsh() {
        return;
    }
    let d = Daemon::rvirtd("");
    let (secrets, qemu) = (
        d.tcp_uri_of("secret", "/system"),
        d.tcp_uri_of("qemu", "/system"),
    );
    let dir = TempDir::new("shared-drivers");
    let xml = dir.path().join("secret.xml");
    std::fs::write(
        &xml,
        format!(
            "<secret ephemeral='no' private='no'><uuid>{UUID}</uuid>\
             <usage type='volume'><volume>/var/lib/images/a.img</volume></usage></secret>"
        ),
    )
    .unwrap();
    let defined = virsh(
        &secrets,
        &format!(
            "secret-define {}; secret-set-value {UUID} --base64 Zm9v",
            xml.display()
        ),
    );
    assert!(defined.ok, "{defined:?}\n{}", d.log());
    let seen = virsh(&qemu, &format!("secret-list; secret-get-value {UUID}"));
    assert!(seen.ok, "{seen:?}\n{}", d.log());
    assert!(
        seen.stdout
            .contains(&format!("{UUID}   volume /var/lib/images/a.img")),
        "{seen:?}"
    );
    assert!(seen.stdout.ends_with("Zm9v\n"), "{seen:?}");
    let gone = virsh(&qemu, &format!("secret-undefine {UUID}"));
    assert!(gone.ok, "{gone:?}");
    let left = virsh(&secrets, "secret-list");
    assert!(!left.stdout.contains(UUID), "{left:?}");
}

const PRIVATE: &str = "5f1d9a7e-0c3b-4e2a-9d6f-7b8a1c2e3d40";
const PUBLIC: &str = "5f1d9a7e-0c3b-4e2a-9d6f-7b8a1c2e3d41";
const EPHEMERAL: &str = "5f1d9a7e-0c3b-4e2a-9d6f-7b8a1c2e3d42";

/// Three secrets (private, public, ephemeral) defined and given values through `virsh` on `uri`; the XML files in `xml_dir`.
fn define_secrets(uri: &str, xml_dir: &TempDir) {
    let secrets = [
        (
            PRIVATE,
            "no",
            "yes",
            "<usage type='ceph'><name>client.admin</name></usage>",
        ),
        (
            PUBLIC,
            "no",
            "no",
            "<usage type='volume'><volume>/srv/a.img</volume></usage>",
        ),
        (
            EPHEMERAL,
            "yes",
            "no",
            "<usage type='tls'><name>tls0</name></usage>",
        ),
    ];
    for (uuid, ephemeral, private, usage) in secrets {
        let file = xml_dir.write(
            &format!("{uuid}.xml"),
            format!(
                "<secret ephemeral='{ephemeral}' private='{private}'><uuid>{uuid}</uuid>\
                 <description>made by the test</description>{usage}</secret>"
            ),
        );
        let out = virsh(uri, &format!("secret-define {}", file.display()));
        assert!(out.ok, "{out:?}");
    }
    let out = virsh(
        uri,
        &format!(
            "secret-set-value {PRIVATE} --base64 Zm9v; secret-set-value {PUBLIC} --base64 YmF6; \
             secret-set-value {EPHEMERAL} --base64 YmFy"
        ),
    );
    assert!(out.ok, "{out:?}");
}

/// The files of a secrets directory: name, mode and contents, by name.
fn secret_files(dir: &std::path::Path) -> Vec<(String, u32, String)> {
    use std::os::unix::fs::PermissionsExt;
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| {
            let mode = e.metadata().unwrap().permissions().mode() & 0o7777;
            let text = std::fs::read_to_string(e.path()).unwrap();
            (e.file_name().to_string_lossy().into_owned(), mode, text)
        })
        .collect();
    files.sort();
    files
}

/// What a read-only connection gets of the secrets.
const READ_ONLY: &[&str] = &[
    "secret-list",
    "secret-dumpxml 5f1d9a7e-0c3b-4e2a-9d6f-7b8a1c2e3d40",
    "secret-get-value 5f1d9a7e-0c3b-4e2a-9d6f-7b8a1c2e3d40",
    "secret-get-value 5f1d9a7e-0c3b-4e2a-9d6f-7b8a1c2e3d41",
    "secret-get-value 5f1d9a7e-0c3b-4e2a-9d6f-7b8a1c2e3d42",
];

/// Persistent secrets are kept as libvirtd keeps /etc/libvirt/secrets
/// (`UUID.xml`, `UUID.base64`, same modes and contents), come back after
/// a restart with their values, ephemeral ones never reach the disk, and
/// a read-only connection reads no value, as on libvirtd.
#[test]
fn secrets_are_stored_as_libvirtd_stores_them() {
    use rvirt_testkit::libvirtd_qemu::QemuLibvirtd;
    if !have_virsh() {
        return;
    }
    let dir = TempDir::new("secret-files");
    let secrets = dir.join("secrets");
    let extra = format!("secret_config_dir = \"{}\"\n", secrets.display());
    let uri = |d: &Daemon| format!("qemu:///system?socket={}", d.socket().display());
    let uri_ro = |d: &Daemon| format!("qemu:///system?socket={}", d.socket_ro().display());
    let first = Daemon::rvirtd(&extra);
    define_secrets(&uri(&first), &dir);
    let before = virsh(&uri(&first), "secret-list");
    let files = secret_files(&secrets);
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("{PRIVATE}.base64"),
            format!("{PRIVATE}.xml"),
            format!("{PUBLIC}.base64"),
            format!("{PUBLIC}.xml")
        ]
    );
    assert_eq!((files[0].2.as_str(), files[2].2.as_str()), ("Zm9v", "YmF6"));
    let read_only: Vec<_> = READ_ONLY
        .iter()
        .map(|c| virsh(&uri_ro(&first), c))
        .collect();
    drop(first);

    let second = Daemon::rvirtd(&extra);
    assert_eq!(
        virsh(&uri(&second), "secret-list").stdout,
        before
            .stdout
            .replace(&format!(" {EPHEMERAL}   tls tls0\n"), ""),
        "after the restart, without the ephemeral secret"
    );
    assert!(!before.stdout.is_empty() && before.stdout.contains(EPHEMERAL));
    let value = virsh(&uri(&second), &format!("secret-get-value {PUBLIC}"));
    assert_eq!(value.stdout, "YmF6\n", "{value:?}\n{}", second.log());
    assert_eq!(secret_files(&secrets), files, "rewritten alike");

    if let Some(stock) = QemuLibvirtd::start() {
        define_secrets(&stock.uri(), &dir);
        assert_eq!(secret_files(&stock.etc_dir().join("secrets")), files);
        let want: Vec<_> = READ_ONLY
            .iter()
            .map(|c| virsh(&stock.uri_ro(), c))
            .collect();
        assert_eq!(read_only, want, "read-only answers: rvirtd, then libvirtd");
        assert!(want[3]
            .stderr
            .contains("read only access prevents virSecretGetValue"));
    }

    let gone = virsh(
        &uri(&second),
        &format!("secret-undefine {PRIVATE}; secret-undefine {PUBLIC}"),
    );
    assert!(gone.ok, "{gone:?}");
    assert!(secret_files(&secrets).is_empty());
}
