//! A QEMU 7.2 (Debian 1:7.2+dfsg-7) capabilities fixture: its real
//! `-machine help` text (tests/argv/qemu-7.2-machine-help.txt) and the
//! device and object types the command line uses, which
//! `real_binary_has_the_fixture_facts` checks against the installed binary.

use crate::caps_model::{machines_from_help, QemuCaps};
use std::path::PathBuf;

pub(crate) const TYPES: &[&str] = &[
    "virtio-blk-pci",
    "virtio-net-pci",
    "virtio-scsi-pci",
    "virtio-serial-pci",
    "virtio-balloon-pci",
    "virtio-rng-pci",
    "virtio-vga",
    "VGA",
    "cirrus-vga",
    "piix3-usb-uhci",
    "qemu-xhci",
    "usb-tablet",
    "isa-serial",
    "ide-hd",
    "ide-cd",
    "scsi-hd",
    "scsi-cd",
    "pcie-root-port",
    "e1000e",
    "rtl8139",
    "virtserialport",
];

pub(crate) fn qemu_7_2() -> QemuCaps {
    QemuCaps {
        binary: PathBuf::from("/usr/bin/qemu-system-x86_64"),
        version: (7, 2, 22),
        arch: rvirt_conf::domain::Arch::X86_64,
        machines: machines_from_help(include_str!("../../tests/argv/qemu-7.2-machine-help.txt")),
        types: TYPES.iter().map(|t| t.to_string()).collect(),
        cpu_models: vec!["qemu64".into(), "Skylake-Client".into()],
        kvm_usable: true,
    }
}

#[test]
fn real_binary_has_the_fixture_facts() {
    let run = |arg: &str| {
        std::process::Command::new("/usr/bin/qemu-system-x86_64")
            .args([arg, "help"])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let (Some(machines), Some(devices)) = (run("-machine"), run("-device")) else {
        eprintln!("qemu-system-x86_64 not installed: skipping");
        return;
    };
    assert_eq!(machines_from_help(&machines), qemu_7_2().machines);
    for t in TYPES {
        assert!(
            devices.contains(&format!("name \"{t}\"")),
            "{t} missing from -device help"
        );
    }
}
