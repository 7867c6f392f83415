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
