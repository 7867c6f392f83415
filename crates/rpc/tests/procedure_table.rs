//! What the generated procedure tables carry beside number, priority and
//! access: libvirt's `@acl` checks, and each procedure's own argument
//! decoding (`Procedure::args_decode`).

use rvirt_rpc::{admin, qemu, remote};

#[test]
fn acl_annotations_are_libvirts() {
    assert_eq!(
        remote::Procedure::ConnectOpen.info().acl,
        ["connect:getattr"]
    );
    assert_eq!(remote::Procedure::ConnectClose.info().acl, ["none"]);
    assert_eq!(
        remote::Procedure::DomainGetXmlDesc.info().acl,
        [
            "domain:read",
            "domain:read_secure:VIR_DOMAIN_XML_SECURE",
            "domain:read_secure:VIR_DOMAIN_XML_MIGRATABLE"
        ]
    );
    assert_eq!(
        qemu::Procedure::DomainAttach.info().acl,
        ["domain:start", "domain:write"]
    );
    // libvirt annotates every REMOTE and QEMU procedure, no ADMIN one.
    assert!(remote::Procedure::ALL
        .iter()
        .all(|p| !p.info().acl.is_empty()));
    assert!(qemu::Procedure::ALL
        .iter()
        .all(|p| !p.info().acl.is_empty()));
    assert!(admin::Procedure::ALL
        .iter()
        .all(|p| p.info().acl.is_empty()));
}

#[test]
fn arguments_decode_as_their_procedure_declares() {
    // remote_connect_open_args: an absent name and the flags.
    let open = [0u8; 8];
    assert!(remote::Procedure::ConnectOpen.args_decode(&open));
    assert!(!remote::Procedure::ConnectOpen.args_decode(&open[..4]));
    // CONNECT_CLOSE takes nothing.
    assert!(remote::Procedure::ConnectClose.args_decode(&[]));
    // qemu_domain_monitor_command_args starts with a domain: not 8 bytes.
    assert!(!qemu::Procedure::DomainMonitorCommand.args_decode(&open));
}
