//! One udev device as a node device definition, as libvirt's
//! `udevAddOneDevice` builds it: the capability from `udevGetDeviceType`,
//! its details from the `udevProcess*` function of that type, the name
//! from `nodeDeviceGenerateName`, and the parent from the nearest listed
//! ancestor (`udevSetParent`). A device libvirt would discard (a failed
//! read, an unknown storage type) is `None`.
//!
//! The types rvirt's node device XML does not model (mdev, ccw, css,
//! vdpa, ap_*, mtty parents) are not listed.

use crate::netdev;
use crate::pci;
use crate::udev::{parse_i32, parse_u32, parse_unsigned, Sysfs, UdevDevice};
use rvirt_conf::nodedev::{
    Capability, DrmType, NetCap, NodeDeviceDef, ScsiCap, ScsiHostCap, ScsiTargetCap, StorageCap,
    SystemCap, UsbDevCap, UsbIfCap,
};

/// What processing a device needs besides the device.
pub struct Host<'a> {
    pub sysfs: &'a Sysfs,
    /// Whether the daemon may read PCI config space (runs as root).
    pub privileged: bool,
}

/// `nodeDeviceGenerateName`: SUBSYSTEM_SYSNAME[_EXTRA], every character
/// but ASCII letters and digits made `_`.
fn generate_name(dev: &UdevDevice, extra: Option<&str>) -> String {
    let mut name = format!(
        "{}_{}",
        dev.subsystem.as_deref().unwrap_or("(null)"),
        dev.sysname
    );
    if let Some(e) = extra {
        name.push('_');
        name.push_str(e);
    }
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `udevGetDeviceType`: the capability type name, if libvirt lists it.
fn device_type(dev: &UdevDevice) -> Option<&'static str> {
    if let Some(devtype) = dev.devtype() {
        return Some(match devtype {
            "usb_device" => "usb_device",
            "usb_interface" => "usb",
            "scsi_host" => "scsi_host",
            "scsi_target" => "scsi_target",
            "scsi_device" => "scsi",
            "disk" => "storage",
            "wlan" => "net",
            "drm_minor" => "drm",
            _ => return None,
        });
    }
    let mut kind = None;
    if dev.prop("PCI_CLASS").is_some() {
        kind = Some("pci");
    }
    if dev.prop("INTERFACE").is_some() {
        kind = Some("net");
    }
    match dev.subsystem.as_deref() {
        Some("scsi_generic") => Some("scsi_generic"),
        // Types rvirt's node device XML does not model.
        Some("mdev" | "ccw" | "css" | "vdpa" | "matrix" | "mtty") => None,
        _ => kind,
    }
}

/// `udevAddOneDevice` up to the parent: the definition without it.
pub fn build(dev: &UdevDevice, host: &Host) -> Option<NodeDeviceDef> {
    let kind = device_type(dev)?;
    let mut name = generate_name(dev, None);
    let cap = match kind {
        "pci" => Capability::Pci(Box::new(pci::process(dev, host.sysfs, host.privileged)?)),
        "usb_device" => Capability::UsbDev(usb_device(dev)?),
        "usb" => Capability::UsbInterface(usb_interface(dev)?),
        "net" => {
            let net = network(dev, host.sysfs)?;
            name = generate_name(dev, net.address.as_deref());
            Capability::Net(net)
        }
        "scsi_host" => Capability::ScsiHost(scsi_host(dev, host.sysfs)?),
        "scsi_target" => Capability::ScsiTarget(scsi_target(dev, host.sysfs)),
        "scsi" => Capability::Scsi(scsi_device(dev)?),
        "storage" => {
            let storage = storage(dev)?;
            name = generate_name(dev, storage.serial.as_deref());
            Capability::Storage(storage)
        }
        "drm" => Capability::Drm(drm(dev)?),
        // udevProcessSCSIGeneric.
        "scsi_generic" => Capability::ScsiGeneric(dev.devnode()?),
        _ => return None,
    };
    Some(NodeDeviceDef {
        name,
        sysfs_path: Some(dev.shown_path.clone()),
        devnode: dev.devnode(),
        devlinks: dev.devlinks.clone(),
        driver: driver_name(dev),
        caps: vec![cap],
        ..NodeDeviceDef::default()
    })
}

/// `nodeDeviceUpdateDriverName`: the `driver` link's last component.
pub fn driver_name(dev: &UdevDevice) -> Option<String> {
    let target = std::fs::read_link(dev.syspath.join("driver")).ok()?;
    Some(target.file_name()?.to_string_lossy().into_owned())
}

/// `udevGetUintProperty`.
fn uint_prop(dev: &UdevDevice, key: &str, base: u32) -> Option<u32> {
    parse_u32(dev.prop(key)?, base)
}

/// `udevGetUintSysfsAttr`: 0 when absent, `None` when unparsable.
fn uint_attr(dev: &UdevDevice, name: &str, base: u32) -> Option<u32> {
    match dev.attr(name) {
        Some(v) => parse_u32(&v, base),
        None => Some(0),
    }
}

/// `udevGetUint64SysfsAttr` (C's base 0).
fn u64_attr(dev: &UdevDevice, name: &str) -> Option<u64> {
    match dev.attr(name) {
        Some(v) => parse_unsigned(&v, 0),
        None => Some(0),
    }
}

fn usb_device(dev: &UdevDevice) -> Option<UsbDevCap> {
    let vendor_name = dev
        .prop("ID_VENDOR_FROM_DATABASE")
        .map(str::to_string)
        .or_else(|| dev.string_attr("manufacturer"));
    let product_name = dev
        .prop("ID_MODEL_FROM_DATABASE")
        .map(str::to_string)
        .or_else(|| dev.string_attr("product"));
    Some(UsbDevCap {
        bus: uint_prop(dev, "BUSNUM", 10)?,
        device: uint_prop(dev, "DEVNUM", 10)?,
        vendor: uint_prop(dev, "ID_VENDOR_ID", 16)?,
        vendor_name,
        product: uint_prop(dev, "ID_MODEL_ID", 16)?,
        product_name,
    })
}

fn usb_interface(dev: &UdevDevice) -> Option<UsbIfCap> {
    Some(UsbIfCap {
        number: uint_attr(dev, "bInterfaceNumber", 16)?,
        class: uint_attr(dev, "bInterfaceClass", 16)?,
        subclass: uint_attr(dev, "bInterfaceSubClass", 16)?,
        protocol: uint_attr(dev, "bInterfaceProtocol", 16)?,
        description: None,
    })
}

/// `udevProcessNetworkInterface`.
fn network(dev: &UdevDevice, sysfs: &Sysfs) -> Option<NetCap> {
    let ifname = dev.prop("INTERFACE")?.to_string();
    uint_attr(dev, "addr_len", 0)?;
    let (link_state, link_speed) = netdev::link_info(sysfs, &ifname)?;
    let subtype = match dev.devtype() {
        Some("wlan") => "80211",
        _ => "80203",
    };
    Some(NetCap {
        address: dev.string_attr("address"),
        link_speed,
        link_state,
        features: netdev::features(sysfs, &ifname),
        subtype: Some(subtype.into()),
        ifname,
    })
}

/// `udevProcessSCSIHost` and `virNodeDeviceGetSCSIHostCaps`.
fn scsi_host(dev: &UdevDevice, sysfs: &Sysfs) -> Option<ScsiHostCap> {
    let number = dev.sysname.strip_prefix("host")?;
    let host = parse_u32(number, 0)?;
    Some(scsi_host_caps(sysfs, host))
}

/// `virNodeDeviceGetSCSIHostCaps`: unique id, FC host WWNs and vport
/// counts from the scsi_host and fc_host classes.
pub fn scsi_host_caps(sysfs: &Sysfs, host: u32) -> ScsiHostCap {
    let fc = |entry: &str| {
        sysfs
            .read(&format!("sys/class/fc_host/host{host}/{entry}"))
            .map(|v| match v.find("0x") {
                Some(i) => v[i + 2..].to_string(),
                None => v,
            })
    };
    let mut cap = ScsiHostCap {
        host,
        unique_id: sysfs
            .read(&format!("sys/class/scsi_host/host{host}/unique_id"))
            .and_then(|v| parse_i32(&v, 10))
            .unwrap_or(-1),
        ..ScsiHostCap::default()
    };
    if sysfs
        .path(&format!("sys/class/fc_host/host{host}"))
        .exists()
    {
        match (fc("port_name"), fc("node_name")) {
            (Some(wwpn), Some(wwnn)) => {
                cap.fc_host = true;
                cap.wwpn = Some(wwpn);
                cap.wwnn = Some(wwnn);
                cap.fabric_wwn = fc("fabric_name");
            }
            _ => return cap,
        }
    }
    let vport_capable = ["fc_host", "scsi_host"].iter().any(|class| {
        sysfs
            .path(&format!("sys/class/{class}/host{host}/vport_create"))
            .exists()
    });
    if vport_capable {
        let count = |entry: &str| fc(entry).and_then(|v| parse_i32(&v, 10));
        match (count("max_npiv_vports"), count("npiv_vports_inuse")) {
            (Some(max), Some(used)) => {
                cap.vport_ops = true;
                cap.max_vports = max;
                cap.vports = used;
            }
            _ => {
                // libvirt clears both flags and the WWNs when a read fails.
                cap.fc_host = false;
                cap.wwnn = None;
                cap.wwpn = None;
                cap.fabric_wwn = None;
            }
        }
    }
    cap
}

/// `udevProcessSCSITarget` and `virNodeDeviceGetSCSITargetCaps`.
fn scsi_target(dev: &UdevDevice, sysfs: &Sysfs) -> ScsiTargetCap {
    let rport = dev
        .syspath
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|r| {
            sysfs
                .path(&format!("sys/class/fc_remote_ports/{r}"))
                .exists()
        })
        .and_then(|r| {
            let wwpn = sysfs.read(&format!("sys/class/fc_remote_ports/{r}/port_name"))?;
            Some((r, wwpn))
        });
    ScsiTargetCap {
        name: dev.sysname.clone(),
        rport,
    }
}

/// `udevProcessSCSIDevice`: "host:bus:target:lun" and the SCSI type.
fn scsi_device(dev: &UdevDevice) -> Option<ScsiCap> {
    let mut parts = dev.sysname.split(':').map(|p| parse_u32(p, 10));
    let (host, bus, target, lun) = (
        parts.next()??,
        parts.next()??,
        parts.next()??,
        parts.next()??,
    );
    let kind = match dev.attr("type") {
        Some(t) => scsi_type(parse_u32(&t, 0)?),
        None => None,
    };
    Some(ScsiCap {
        host,
        bus,
        target,
        lun,
        kind: kind.map(str::to_string),
    })
}

/// `udevGetSCSIType`.
fn scsi_type(code: u32) -> Option<&'static str> {
    Some(match code {
        0x00 => "disk",
        0x01 => "tape",
        0x03 => "processor",
        0x04 => "worm",
        0x05 => "cdrom",
        0x06 => "scanner",
        0x07 => "mod",
        0x08 => "changer",
        0x0d => "enclosure",
        0x0c => "raid",
        _ => return None,
    })
}

/// `udevProcessStorage` with its per-type helpers.
fn storage(dev: &UdevDevice) -> Option<StorageCap> {
    let block = dev.devnode()?;
    let trimmed = |name: &str| dev.string_attr(name).map(|v| v.trim().to_string());
    let mut cap = StorageCap {
        bus: dev.prop("ID_BUS").map(str::to_string),
        serial: dev.prop("ID_SERIAL").map(str::to_string),
        vendor: trimmed("device/vendor"),
        model: trimmed("device/model"),
        drive_type: dev.prop("ID_TYPE").map(str::to_string),
        block,
        ..StorageCap::default()
    };
    if cap.drive_type.as_deref().is_none_or(|t| t == "generic") {
        cap.drive_type = Some(
            if dev.prop("ID_DRIVE_FLOPPY").is_some() {
                "floppy"
            } else if dev.prop("ID_CDROM").is_some() {
                "cd"
            } else if dev.prop("ID_DRIVE_FLASH_SD").is_some() {
                "sd"
            } else {
                // udevKludgeStorageType.
                [
                    ("/dev/vd", "disk"),
                    ("/dev/dasd", "dasd"),
                    ("/dev/nvme", "disk"),
                ]
                .iter()
                .find(|(prefix, _)| cap.block.starts_with(prefix))?
                .1
            }
            .to_string(),
        );
    }
    match cap.drive_type.as_deref()? {
        "cd" | "cd/dvd" => {
            cap.drive_type = Some("cdrom".into());
            let media = match dev.prop("ID_CDROM_MEDIA") {
                Some(v) => parse_i32(v, 10)? != 0,
                None => false,
            };
            removable_media(dev, &mut cap, media)?;
        }
        "disk" | "sd" => blocks(dev, &mut cap)?,
        "floppy" => removable_media(dev, &mut cap, dev.prop("ID_FS_LABEL").is_some())?,
        "dasd" => {
            cap.serial = dev.string_attr("device/uid");
            blocks(dev, &mut cap)?;
        }
        _ => return None,
    }
    Some(cap)
}

/// `udevProcessDisk`: size as libvirt computes it (512-byte sectors times
/// the logical block size).
fn blocks(dev: &UdevDevice, cap: &mut StorageCap) -> Option<()> {
    cap.num_blocks = u64_attr(dev, "size")?;
    cap.logical_block_size = u64_attr(dev, "queue/logical_block_size")?;
    cap.size = cap.num_blocks.wrapping_mul(cap.logical_block_size);
    Some(())
}

/// `udevProcessRemoveableMedia`.
fn removable_media(dev: &UdevDevice, cap: &mut StorageCap, media: bool) -> Option<()> {
    let removable = match dev.attr("removable") {
        Some(v) => parse_i32(&v, 0)?,
        None => 0,
    };
    cap.removable = removable == 1;
    if !media {
        return Some(());
    }
    cap.media_available = true;
    cap.media_label = dev.prop("ID_FS_LABEL").map(str::to_string);
    cap.num_blocks = u64_attr(dev, "size")?;
    cap.logical_block_size = u64_attr(dev, "queue/logical_block_size")?;
    cap.media_size = cap.num_blocks.wrapping_mul(cap.logical_block_size);
    Some(())
}

/// `udevProcessDRMDevice`.
fn drm(dev: &UdevDevice) -> Option<DrmType> {
    let minor = parse_i32(dev.prop("MINOR")?, 10)?;
    match minor >> 6 {
        _ if minor < 0 => None,
        0 => Some(DrmType::Primary),
        1 => Some(DrmType::Control),
        2 => Some(DrmType::Render),
        _ => None,
    }
}

/// `udevSetupSystemDev`: the "computer" device, with the DMI data of
/// x86 hosts (nothing when /sys/devices/virtual/dmi/id is missing, as
/// libvirt's lookup of that device then fails).
pub fn computer(sysfs: &Sysfs, host_uuid: [u8; 16]) -> NodeDeviceDef {
    let mut system = SystemCap::default();
    let dmi = "sys/devices/virtual/dmi/id";
    if cfg!(any(target_arch = "x86_64", target_arch = "x86")) && sysfs.path(dmi).is_dir() {
        let attr = |name: &str| {
            sysfs
                .read(&format!("{dmi}/{name}"))
                .map(|v| v.chars().filter(|c| !c.is_control()).collect::<String>())
                .filter(|v| !v.is_empty())
        };
        system = SystemCap {
            product: attr("product_name"),
            hw_vendor: attr("sys_vendor"),
            hw_version: attr("product_version"),
            hw_serial: attr("product_serial"),
            hw_uuid: host_uuid,
            fw_vendor: attr("bios_vendor"),
            fw_version: attr("bios_version"),
            fw_release_date: attr("bios_date"),
        };
    }
    NodeDeviceDef {
        name: "computer".into(),
        caps: vec![Capability::System(system)],
        ..NodeDeviceDef::default()
    }
}
