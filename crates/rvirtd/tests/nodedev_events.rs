//! `qemu:///system`'s node device events, as libvirt's udev backend raises
//! them: python3-libvirt (tests/python/nodedev_events.py), registered for
//! lifecycle and update events on an rvirtd in its own network namespace,
//! sees a veth link the script adds there CREATED, a `change` uevent as
//! an UPDATE, a rename as DELETED under the old name and CREATED under
//! the new, and its removal as DELETED.
//!
//! Stock libvirtd hears of devices from udevd only, which does not run on
//! these machines, so it cannot be the reference here; the expected
//! transcript is what libvirt's `udevHandleOneDevice` would report.

use rvirt_testkit::hosts::Lan;
use rvirt_testkit::qemu_hosts::QemuHost;
use rvirt_testkit::tools::{python_libvirt_ready, python_script, Output, PYTHON3};

const WANT: &str = "\
add = [('lifecycle', 'net_rvtev0_02_00_00_0a_0b_0c', 0, 0)]
listed = True
change = [('update', 'net_rvtev0_02_00_00_0a_0b_0c')]
rename = [('lifecycle', 'net_rvtev0_02_00_00_0a_0b_0c', 1, 0), ('lifecycle', 'net_rvtev1_02_00_00_0a_0b_0c', 0, 0)]
delete = [('lifecycle', 'net_rvtev1_02_00_00_0a_0b_0c', 1, 0)]
DONE
";

#[test]
fn a_link_added_changed_renamed_and_deleted_raises_libvirts_events() {
    if !python_libvirt_ready() {
        return;
    }
    let Some(lan) = Lan::create() else { return };
    let host = QemuHost::start(&lan.a, "nodedevev");
    let out: Output = host
        .host
        .command(PYTHON3)
        .args([python_script("nodedev_events.py"), host.uri()])
        .output()
        .expect("python3")
        .into();
    assert_eq!(
        out.stdout,
        WANT,
        "stderr: {}\n--- daemon log:\n{}",
        out.stderr,
        host.host.log()
    );
}
