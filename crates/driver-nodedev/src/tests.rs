use super::*;
use std::path::PathBuf;

/// A fake root (sys/, usr/share/misc/pci.ids) under a scratch directory,
/// removed when dropped.
struct FakeRoot(PathBuf);

impl FakeRoot {
    fn new(tag: &str) -> FakeRoot {
        let dir = std::env::temp_dir().join(format!("rvirt-nodedev-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        FakeRoot(dir)
    }
    fn file(&self, path: &str, text: &str) {
        let p = self.0.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    /// A symlink at `path` to `target` (relative, as sysfs's).
    fn link(&self, path: &str, target: &str) {
        let p = self.0.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, p).unwrap();
    }
    fn backend(&self) -> HostNodeDevices {
        HostNodeDevices::new(Sysfs::new(&self.0), [0; 16])
    }
}

impl Drop for FakeRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PCI: &str = "sys/devices/pci0000:00/0000:00:02.0";
const VDA: &str = "sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda";

/// A virtio block function with its disk, a loop device (which libvirt
/// cannot type and drops) and a tty (an ignored subsystem).
fn host(tag: &str) -> FakeRoot {
    let root = FakeRoot::new(tag);
    root.file(
        "usr/share/misc/pci.ids",
        "1af4  Red Hat, Inc.\n\t1042  Virtio 1.0 block device\n",
    );
    root.file(
        &format!("{PCI}/uevent"),
        "DRIVER=virtio-pci\nPCI_CLASS=18000\nPCI_SLOT_NAME=0000:00:02.0\n",
    );
    root.file(&format!("{PCI}/vendor"), "0x1af4\n");
    root.file(&format!("{PCI}/device"), "0x1042\n");
    root.file(&format!("{PCI}/numa_node"), "-1\n");
    root.file(&format!("{PCI}/config"), &"\0".repeat(256));
    root.link(&format!("{PCI}/subsystem"), "../../../bus/pci");
    root.link(
        &format!("{PCI}/driver"),
        "../../../bus/pci/drivers/virtio-pci",
    );
    root.link(
        "sys/bus/pci/devices/0000:00:02.0",
        "../../../devices/pci0000:00/0000:00:02.0",
    );
    root.file(&format!("{PCI}/virtio1/uevent"), "DRIVER=virtio_blk\n");
    root.file(&format!("{PCI}/virtio1/vendor"), "0x1af4\n");
    root.link(
        &format!("{PCI}/virtio1/subsystem"),
        "../../../../bus/virtio",
    );
    root.link(
        "sys/bus/virtio/devices/virtio1",
        "../../../devices/pci0000:00/0000:00:02.0/virtio1",
    );
    root.file(
        &format!("{VDA}/uevent"),
        "MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n",
    );
    root.file(&format!("{VDA}/size"), "2048\n");
    root.file(&format!("{VDA}/queue/logical_block_size"), "512\n");
    root.link(&format!("{VDA}/device"), "../../../virtio1");
    root.link(&format!("{VDA}/subsystem"), "../../../../../../class/block");
    root.link(
        "sys/class/block/vda",
        "../../devices/pci0000:00/0000:00:02.0/virtio1/block/vda",
    );
    let loop0 = "sys/devices/virtual/block/loop0";
    root.file(
        &format!("{loop0}/uevent"),
        "MAJOR=7\nMINOR=0\nDEVNAME=loop0\nDEVTYPE=disk\n",
    );
    root.link(&format!("{loop0}/subsystem"), "../../../../class/block");
    root.link("sys/class/block/loop0", "../../devices/virtual/block/loop0");
    let tty = "sys/devices/virtual/tty/tty0";
    root.file(&format!("{tty}/uevent"), "MAJOR=4\nMINOR=0\nDEVNAME=tty0\n");
    root.link(&format!("{tty}/subsystem"), "../../../../class/tty");
    root.link("sys/class/tty/tty0", "../../devices/virtual/tty/tty0");
    root
}

#[test]
fn devices_are_named_and_parented_as_by_the_udev_backend() {
    let root = host("list");
    let devs = root.backend().list_all(0).unwrap();
    let got: Vec<(String, Option<String>)> = devs.into_iter().map(|d| (d.name, d.parent)).collect();
    assert_eq!(
        got,
        vec![
            ("computer".to_string(), None),
            ("pci_0000_00_02_0".into(), Some("computer".into())),
            ("block_vda".into(), Some("pci_0000_00_02_0".into())),
        ]
    );
    let b = root.backend();
    assert_eq!(
        b.list_devices(Some("storage"), 10, 0).unwrap(),
        ["block_vda"]
    );
    assert_eq!(b.num_of_devices(Some("pci"), 0).unwrap(), 1);
    let inactive = b.list_all(list_flags::INACTIVE).unwrap();
    assert!(inactive.is_empty());
    assert_eq!(b.list_caps("computer", 5).unwrap(), ["system"]);
    assert!(b.get_parent("computer").is_err());
}

#[test]
fn device_xml_is_what_libvirt_formats() {
    let root = host("xml");
    let b = root.backend();
    assert_eq!(
        b.get_xml_desc("block_vda", 0).unwrap(),
        format!(
            "<device>\n  <name>block_vda</name>\n  <path>/{VDA}</path>\n  \
             <devnode type='dev'>/dev/vda</devnode>\n  <parent>pci_0000_00_02_0</parent>\n  \
             <capability type='storage'>\n    <block>/dev/vda</block>\n    \
             <drive_type>disk</drive_type>\n    <vendor>0x1af4</vendor>\n    \
             <size>1048576</size>\n    <logical_block_size>512</logical_block_size>\n    \
             <num_blocks>2048</num_blocks>\n  </capability>\n</device>\n"
        )
    );
    let pci = b.get_xml_desc("pci_0000_00_02_0", 0).unwrap();
    assert!(
        pci.contains("<driver>\n    <name>virtio-pci</name>\n  </driver>")
            && pci.contains("<class>0x018000</class>")
            && pci.contains("<product id='0x1042'>Virtio 1.0 block device</product>")
            && pci.contains("<vendor id='0x1af4'>Red Hat, Inc.</vendor>")
            && !pci.contains("pci-express"),
        "{pci}"
    );
    let computer = b.get_xml_desc("computer", 0).unwrap();
    assert!(computer.contains("<uuid>00000000-0000-0000-0000-000000000000</uuid>"));
    let err = b.get_xml_desc("nope", 0).unwrap_err();
    assert_eq!(
        err.message,
        "Node device not found: no node device with matching name 'nope'"
    );
}

#[test]
fn assignment_is_refused_with_libvirts_words_without_vfio() {
    let root = host("vfio");
    let b = root.backend();
    let msg = |r: Result<()>| r.unwrap_err().message;
    assert_eq!(
        msg(b.detach("pci_0000_00_02_0", None, 0)),
        "argument unsupported: VFIO device assignment is currently not supported on this system"
    );
    assert_eq!(
        msg(b.detach("pci_0000_00_02_0", Some("kvm"), 0)),
        "argument unsupported: KVM device assignment is no longer supported on this system"
    );
    assert_eq!(
        msg(b.detach("pci_0000_00_02_0", Some("xen"), 0)),
        "invalid argument: unknown driver name 'xen'"
    );
    assert_eq!(
        msg(b.reattach("block_vda")),
        "invalid argument: device block_vda is not a PCI device"
    );
    // Held by its own driver, not a stub: nothing to re-attach.
    b.reattach("pci_0000_00_02_0").unwrap();
    assert!(msg(b.reset("pci_0000_00_02_0")).contains("not supported"));
    root.file("sys/kernel/iommu_groups/0/devices/.keep", "");
    root.file("dev/vfio/vfio", "");
    assert!(msg(b.detach("pci_0000_00_02_0", None, 0)).contains("not supported by rvirt"));
}

#[test]
fn numbers_parse_as_libvirts_string_helpers() {
    use crate::udev::{parse_i32, parse_u32};
    assert_eq!(parse_u32("-1", 10), Some(u32::MAX));
    assert_eq!(parse_u32("0x1af4", 16), Some(0x1af4));
    assert_eq!(parse_u32("010", 0), Some(8));
    assert_eq!(parse_i32("18000", 16), Some(0x18000));
    assert_eq!(parse_i32("-1", 10), Some(-1));
    assert_eq!(parse_u32("x", 10), None);
}

#[test]
fn network_links_are_named_by_address_with_libvirts_link_state() {
    let root = host("net");
    let net = "sys/devices/virtual/net/rvnd9";
    root.file(&format!("{net}/uevent"), "INTERFACE=rvnd9\nIFINDEX=77\n");
    root.file(&format!("{net}/address"), "52:54:00:aa:bb:cc\n");
    root.file(&format!("{net}/addr_len"), "6\n");
    root.link(&format!("{net}/subsystem"), "../../../../class/net");
    root.link("sys/class/net/rvnd9", "../../devices/virtual/net/rvnd9");
    // A bridge (DEVTYPE=bridge) is not a node device.
    let br = "sys/devices/virtual/net/rvbr9";
    root.file(&format!("{br}/uevent"), "DEVTYPE=bridge\nINTERFACE=rvbr9\n");
    root.link(&format!("{br}/subsystem"), "../../../../class/net");
    root.link("sys/class/net/rvbr9", "../../devices/virtual/net/rvbr9");
    let b = root.backend();
    let up = |speed: &str| {
        root.file(&format!("{net}/operstate"), "up\n");
        root.file(&format!("{net}/speed"), speed);
        b.get_xml_desc("net_rvnd9_52_54_00_aa_bb_cc", 0).unwrap()
    };
    // A virtio link's speed is -1: libvirt's unsigned parse wraps it.
    let xml = up("-1\n");
    assert!(
        xml.contains("<interface>rvnd9</interface>\n    <address>52:54:00:aa:bb:cc</address>\n    <link speed='4294967295' state='up'/>")
            && xml.contains("<capability type='80203'/>")
            && xml.contains("<parent>computer</parent>"),
        "{xml}"
    );
    root.file(&format!("{net}/operstate"), "down\n");
    let xml = b.get_xml_desc("net_rvnd9_52_54_00_aa_bb_cc", 0).unwrap();
    assert!(xml.contains("<link state='down'/>"), "{xml}");
    assert_eq!(
        b.list_devices(Some("net"), 10, 0).unwrap(),
        ["net_rvnd9_52_54_00_aa_bb_cc"]
    );
}

#[test]
fn udevd_database_gives_disk_type_serial_and_links() {
    let root = host("udevdb");
    let sda = "sys/devices/platform/host0/target0:0:0/0:0:0:0/block/sda";
    root.file(
        &format!("{sda}/uevent"),
        "MAJOR=8\nMINOR=0\nDEVNAME=sda\nDEVTYPE=disk\n",
    );
    root.file(&format!("{sda}/size"), "16\n");
    root.file(&format!("{sda}/queue/logical_block_size"), "4096\n");
    root.file(&format!("{sda}/device/vendor"), "QEMU    \n");
    root.file(&format!("{sda}/device/model"), "QEMU HARDDISK   \n");
    root.link(
        &format!("{sda}/subsystem"),
        "../../../../../../../class/block",
    );
    root.link(
        "sys/class/block/sda",
        "../../devices/platform/host0/target0:0:0/0:0:0:0/block/sda",
    );
    root.file(
        "run/udev/data/b8:0",
        "S:disk/by-path/pci-0\nS:disk/by-id/scsi-0QEMU\nE:ID_TYPE=disk\nE:ID_BUS=scsi\nE:ID_SERIAL=0QEMU_QEMU_HARDDISK_drive0\n",
    );
    let xml = root
        .backend()
        .get_xml_desc("block_sda_0QEMU_QEMU_HARDDISK_drive0", 0)
        .unwrap();
    assert_eq!(
        xml,
        format!(
            "<device>\n  <name>block_sda_0QEMU_QEMU_HARDDISK_drive0</name>\n  <path>/{sda}</path>\n  \
             <devnode type='dev'>/dev/sda</devnode>\n  \
             <devnode type='link'>/dev/disk/by-id/scsi-0QEMU</devnode>\n  \
             <devnode type='link'>/dev/disk/by-path/pci-0</devnode>\n  <parent>computer</parent>\n  \
             <capability type='storage'>\n    <block>/dev/sda</block>\n    <bus>scsi</bus>\n    \
             <drive_type>disk</drive_type>\n    <model>QEMU HARDDISK</model>\n    \
             <vendor>QEMU</vendor>\n    <serial>0QEMU_QEMU_HARDDISK_drive0</serial>\n    \
             <size>65536</size>\n    <logical_block_size>4096</logical_block_size>\n    \
             <num_blocks>16</num_blocks>\n  </capability>\n</device>\n"
        )
    );
}

#[test]
fn scsi_generic_nodes_are_listed_with_their_character_device() {
    let root = host("sg");
    let sg = "sys/devices/platform/host0/target0:0:0/0:0:0:0/scsi_generic/sg0";
    root.file(&format!("{sg}/uevent"), "MAJOR=21\nMINOR=0\nDEVNAME=sg0\n");
    root.link(
        &format!("{sg}/subsystem"),
        "../../../../../../../class/scsi_generic",
    );
    root.link(
        "sys/class/scsi_generic/sg0",
        "../../devices/platform/host0/target0:0:0/0:0:0:0/scsi_generic/sg0",
    );
    let b = root.backend();
    let xml = b.get_xml_desc("scsi_generic_sg0", 0).unwrap();
    assert!(
        xml.contains("<devnode type='dev'>/dev/sg0</devnode>")
            && xml.contains(
                "<capability type='scsi_generic'>\n    <char>/dev/sg0</char>\n  </capability>"
            ),
        "{xml}"
    );
    assert_eq!(
        b.list_devices(Some("scsi_generic"), 5, 0).unwrap(),
        ["scsi_generic_sg0"]
    );
}
