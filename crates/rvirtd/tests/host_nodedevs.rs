//! `qemu:///system`'s node devices: rvirtd and a private stock libvirtd
//! 9.0 with its udev node device backend, both on this machine (libvirtd
//! in its own mount namespace over the same /sys): stock virsh's
//! `nodedev-list` (plain, per capability, `--tree`, `--inactive`),
//! `nodedev-dumpxml` and `nodedev-info` of every device listed, and the
//! errors and refusals of detach, re-attach and reset print the same.
//!
//! Nothing is normalised: both daemons read the same devices. The host's
//! devices can change while the two are asked (another test's links come
//! and go), so a comparison that differs is asked again, a few times,
//! before it fails.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::libvirtd_qemu::QemuLibvirtd;
use rvirt_testkit::tools::{virsh, Output};

/// libvirt 9.0's `virNodeDevCapType` names, as `--cap` takes them.
const CAPS: &[&str] = &rvirt_util::names::NODE_DEVICE_CAPS;

/// The commands whose answers do not depend on which devices exist.
const FIXED: &[&str] = &[
    "nodedev-list",
    "nodedev-list --tree",
    "nodedev-list --inactive",
    "nodedev-list --all",
    "nodedev-list --cap pci,net",
    "nodedev-list --cap storage --tree",
    "nodedev-list --cap nosuchcap",
    "nodedev-dumpxml nope",
    "nodedev-info nope",
    "nodedev-detach computer",
    "nodedev-detach computer --driver kvm",
    "nodedev-detach computer --driver xen",
    "nodedev-reattach computer",
    "nodedev-reset computer",
    "nodedev-destroy computer",
    "nodedev-undefine computer",
    "nodedev-autostart computer",
    "nodedev-start computer",
];

/// Every command to compare: the fixed ones, each capability, and the
/// description of each device libvirtd lists.
fn commands(libvirtd: &str) -> Vec<String> {
    let listed = virsh(libvirtd, "nodedev-list");
    assert!(listed.ok, "libvirtd's nodedev-list: {}", listed.stderr);
    let mut cmds: Vec<String> = FIXED.iter().map(|c| c.to_string()).collect();
    cmds.extend(CAPS.iter().map(|c| format!("nodedev-list --cap {c}")));
    for dev in listed.stdout.lines().filter(|l| !l.is_empty()) {
        cmds.push(format!("nodedev-dumpxml {dev}"));
        cmds.push(format!("nodedev-info {dev}"));
        // Re-attach of a device no stub driver holds is libvirt's no-op.
        if dev.starts_with("net_") || dev.starts_with("block_") {
            cmds.push(format!("nodedev-reattach {dev}"));
            cmds.push(format!("nodedev-reset {dev}"));
        }
    }
    cmds
}

/// The command's answer from both, asked again while they differ.
fn compare(cmd: &str, rvirtd: &str, libvirtd: &str) -> Option<(Output, Output)> {
    for _ in 0..4 {
        let (got, want) = (virsh(rvirtd, cmd), virsh(libvirtd, cmd));
        if got == want {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        let (got2, want2) = (virsh(rvirtd, cmd), virsh(libvirtd, cmd));
        if got2 == want2 {
            return None;
        }
        if got2 == got && want2 == want {
            return Some((got, want));
        }
    }
    Some((virsh(rvirtd, cmd), virsh(libvirtd, cmd)))
}

#[test]
fn host_devices_are_listed_and_described_as_by_libvirtds_udev_backend() {
    let Some(stock) = QemuLibvirtd::start() else {
        return;
    };
    let daemon = Daemon::rvirtd("");
    let rvirtd = format!("qemu:///system?socket={}", daemon.socket().display());
    let libvirtd = stock.uri();
    let cmds = commands(&libvirtd);
    let listed = virsh(&libvirtd, "nodedev-list --cap pci").stdout;
    assert!(
        listed.contains("pci_"),
        "this host lists no PCI device: {listed}"
    );
    let differ: Vec<String> = cmds
        .iter()
        .filter_map(|cmd| {
            compare(cmd, &rvirtd, &libvirtd)
                .map(|(g, w)| format!("`{cmd}`:\n rvirtd:   {g:?}\n libvirtd: {w:?}"))
        })
        .collect();
    assert!(
        differ.is_empty(),
        "{} of {} differ:\n{}",
        differ.len(),
        cmds.len(),
        differ.join("\n")
    );
}

/// python3-libvirt's node device calls (tests/python/nodedev_host.py:
/// every device's parent, capabilities, XML and state, every error with
/// its code and domain) give the same transcript through both daemons.
#[test]
fn python_sees_the_host_devices_as_through_libvirtd() {
    use rvirt_testkit::tools::{
        assert_python_transcripts_agree, python_libvirt_ready, python_script,
    };
    if !python_libvirt_ready() {
        return;
    }
    let Some(stock) = QemuLibvirtd::start() else {
        return;
    };
    let daemon = Daemon::rvirtd("");
    let rvirtd = format!("qemu:///system?socket={}", daemon.socket().display());
    let want = assert_python_transcripts_agree(
        &python_script("nodedev_host.py"),
        &stock.uri(),
        &[rvirtd],
        &|| daemon.log(),
    );
    assert!(want.contains("computer XMLDesc"), "{want}");
}
