//! `virsh qemu-monitor-command` (libvirt-qemu's `virDomainQemuMonitorCommand`,
//! the QEMU program's procedure 1) against rvirtd's QEMU driver: QMP JSON
//! passed through with QEMU's reply printed as libvirt prints it (ids
//! `libvirt-N`, QEMU's key order, an error reply printed and not failed),
//! virsh's own wrapping of a bare command name, `--hmp`, `--pretty`,
//! `--return-value`; refused on a read-only connection and on a guest
//! that is not running, with libvirt's texts; python3-libvirt's
//! `libvirt_qemu` gets libvirt's error for JSON that does not parse.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::qemu_dirs::{test_image, QemuDirs};
use rvirt_testkit::tools::{
    python3, python_libvirt_ready, virsh, virsh_ok, virsh_read_only, Output,
};

fn fails(uri: &str, cmd: &str) -> String {
    let out: Output = virsh(uri, cmd);
    assert!(!out.ok, "virsh {cmd} succeeded: {}", out.stdout);
    out.stderr
}

#[test]
fn qemu_monitor_command_reaches_the_guests_monitor() {
    let dirs = QemuDirs::new();
    let d = Daemon::rvirtd(&dirs.conf());
    let uri = format!("qemu+tcp://127.0.0.1:{}/system", d.port);
    let xml = dirs.write_guest("mon", &test_image(), "");
    virsh_ok(&uri, &format!("define {}", xml.display()));

    let stopped = fails(
        &uri,
        r#"qemu-monitor-command mon '{"execute":"query-status"}'"#,
    );
    assert!(
        stopped.contains("Requested operation is not valid: domain is not running"),
        "{stopped}"
    );
    virsh_ok(&uri, "start mon");

    let status = virsh_ok(
        &uri,
        r#"qemu-monitor-command mon '{"execute":"query-status"}'"#,
    );
    assert!(
        status.starts_with(r#"{"return":{"status":"running","#)
            && status.contains(r#""id":"libvirt-"#),
        "{status}"
    );
    // virsh wraps a bare name into {"execute": ...}.
    let wrapped = virsh_ok(&uri, "qemu-monitor-command mon query-status --return-value");
    assert!(wrapped.contains(r#""status":"running""#), "{wrapped}");
    let pretty = virsh_ok(&uri, "qemu-monitor-command mon query-status --pretty");
    assert!(pretty.contains("\"return\": {\n"), "{pretty}");
    let hmp = virsh_ok(&uri, "qemu-monitor-command mon --hmp info status");
    assert_eq!(hmp.trim_end(), "VM status: running");
    // QEMU's error reply is the result, as with libvirtd.
    let unknown = virsh_ok(
        &uri,
        r#"qemu-monitor-command mon '{"execute":"no-such-command"}'"#,
    );
    assert!(
        unknown.contains(r#""class":"CommandNotFound""#),
        "{unknown}"
    );
    // The command really reached QEMU: the guest is paused behind the
    // driver's back (libvirt taints such a guest for that reason).
    virsh_ok(&uri, r#"qemu-monitor-command mon '{"execute":"stop"}'"#);
    let paused = virsh_ok(&uri, "qemu-monitor-command mon --hmp info status");
    assert_eq!(paused.trim_end(), "VM status: paused");

    let ro = virsh_read_only(&uri, "qemu-monitor-command mon query-status");
    let ro_err = &ro.stderr;
    assert!(
        !ro.ok
            && ro_err.contains(
                "operation forbidden: read only access prevents virDomainQemuMonitorCommand"
            ),
        "{ro_err}"
    );

    if python_libvirt_ready() {
        let script = format!(
            "import libvirt, libvirt_qemu\n\
             c = libvirt.open('{uri}')\n\
             d = c.lookupByName('mon')\n\
             try:\n    libvirt_qemu.qemuMonitorCommand(d, '{{bad', 0)\n    print('accepted')\n\
             except libvirt.libvirtError as e:\n    print(e.get_error_code(), e)\n"
        );
        let out = python3(["-c", &script]);
        assert!(
            out.stdout
                .starts_with("1 internal error: cannot parse json {bad"),
            "{}{}",
            out.stdout,
            out.stderr
        );
    }
    virsh_ok(&uri, "destroy mon; undefine mon");
}
