//! PCI devices as libvirt's `udevProcessPCI` and
//! `virNodeDeviceGetPCIDynamicCaps` read them: class and ids from udev and
//! sysfs, names from pci.ids (what libpciaccess's `pci_get_strings`
//! answers), SR-IOV functions, IOMMU group and mediated device types from
//! sysfs links, header type and PCI Express link from config space.

use crate::udev::{parse_i32, parse_u32, parse_unsigned, read_dir_paths, Sysfs, UdevDevice};
use rvirt_conf::nodedev::{MdevType, PciAddress, PciCap, PcieLink};
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

/// Where libpciaccess (and other distributions' hwdata) keep pci.ids.
const PCI_IDS: [&str; 2] = ["usr/share/misc/pci.ids", "usr/share/hwdata/pci.ids"];

/// pci.ids: vendor names and, per vendor, device names.
#[derive(Default)]
pub struct PciIds {
    vendors: HashMap<u32, (String, HashMap<u32, String>)>,
}

impl PciIds {
    /// Parse pci.ids as libpciaccess does: a vendor line is four hex
    /// digits and its name, a device line one tab, four hex digits and
    /// its name; subsystem lines (two tabs), comments and the class
    /// section are skipped.
    pub fn parse(text: &str) -> PciIds {
        let mut ids = PciIds::default();
        let mut vendor: Option<u32> = None;
        for line in text.lines() {
            if line.starts_with('#') || line.is_empty() || line.starts_with("\t\t") {
                continue;
            }
            if let Some(rest) = line.strip_prefix('\t') {
                let (Some(v), Some((id, name))) = (vendor, hex_entry(rest)) else {
                    continue;
                };
                if let Some(entry) = ids.vendors.get_mut(&v) {
                    entry.1.entry(id).or_insert(name);
                }
            } else {
                vendor = hex_entry(line).map(|(id, name)| {
                    ids.vendors.entry(id).or_insert((name, HashMap::new()));
                    id
                });
            }
        }
        ids
    }

    /// `pci_get_strings` with any subsystem: (vendor name, device name).
    pub fn names(&self, vendor: u32, device: u32) -> (Option<String>, Option<String>) {
        match self.vendors.get(&vendor) {
            Some((name, devices)) => (Some(name.clone()), devices.get(&device).cloned()),
            None => (None, None),
        }
    }
}

/// "1af4  Red Hat, Inc." → (0x1af4, "Red Hat, Inc.").
fn hex_entry(line: &str) -> Option<(u32, String)> {
    let id = line.get(..4)?;
    if !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let name = line[4..].trim();
    (!name.is_empty() && line[4..].starts_with(char::is_whitespace))
        .then(|| (u32::from_str_radix(id, 16).ok(), name.to_string()))
        .and_then(|(id, name)| Some((id?, name)))
}

/// The host's pci.ids, read once.
pub fn host_pci_ids(sysfs: &Sysfs) -> &'static PciIds {
    static IDS: OnceLock<PciIds> = OnceLock::new();
    IDS.get_or_init(|| {
        PCI_IDS
            .iter()
            .find_map(|p| std::fs::read(sysfs.path(p)).ok())
            .map(|bytes| PciIds::parse(&String::from_utf8_lossy(&bytes)))
            .unwrap_or_default()
    })
}

/// `virPCIDeviceAddressParse` of "dddd:bb:ss.f".
pub fn parse_address(text: &str) -> Option<PciAddress> {
    let (domain, rest) = text.split_once(':')?;
    let (bus, rest) = rest.split_once(':')?;
    let (slot, function) = rest.split_once('.')?;
    Some(PciAddress {
        domain: parse_u32(domain, 16)?,
        bus: parse_u32(bus, 16)?,
        slot: parse_u32(slot, 16)?,
        function: parse_u32(function, 16)?,
    })
}

/// `virPCIGetDeviceAddressFromSysfsLink`.
fn link_address(link: &Path) -> Option<PciAddress> {
    let target = link.canonicalize().ok()?;
    parse_address(&target.file_name()?.to_string_lossy())
}

/// `udevProcessPCI`: `None` where libvirt discards the device.
pub fn process(dev: &UdevDevice, sysfs: &Sysfs, privileged: bool) -> Option<PciCap> {
    let class = parse_i32(dev.prop("PCI_CLASS")?, 16)?;
    let address = parse_address(dev.shown_path.rsplit('/').next()?)?;
    let hex_attr = |name: &str| match dev.attr(name) {
        Some(v) => parse_u32(&v, 16),
        None => Some(0),
    };
    let (vendor, product) = (hex_attr("vendor")?, hex_attr("device")?);
    let (vendor_name, product_name) = host_pci_ids(sysfs).names(vendor, product);
    let numa_node = match dev.attr("numa_node") {
        Some(v) => parse_i32(&v, 10)?,
        None => -1,
    };
    let mut cap = PciCap {
        class,
        domain: address.domain,
        bus: address.bus,
        slot: address.slot,
        function: address.function,
        vendor,
        vendor_name,
        product,
        product_name,
        numa_node,
        ..PciCap::default()
    };
    dynamic_caps(dev, sysfs, &mut cap)?;
    if privileged {
        let config = std::fs::read(dev.syspath.join("config")).ok()?;
        cap.header_type = match config.get(0x0e)? & 0x7f {
            t @ 0..=2 => t as usize,
            _ => return None,
        };
        cap.pci_express = express(&config);
    }
    Some(cap)
}

/// `virNodeDeviceGetPCIDynamicCaps` without VPD (which rvirt's node
/// device XML does not carry): SR-IOV, IOMMU group, mdev types.
pub fn dynamic_caps(dev: &UdevDevice, sysfs: &Sysfs, cap: &mut PciCap) -> Option<()> {
    let path = &dev.syspath;
    cap.phys_function = link_address(&path.join("physfn"));
    let max = match std::fs::read_to_string(path.join("sriov_totalvfs")) {
        Ok(text) => parse_unsigned(text.trim_end(), 10)? as u32,
        Err(_) => 0,
    };
    let vfs: Vec<PciAddress> = (0..)
        .map_while(|i| link_address(&path.join(format!("virtfn{i}"))))
        .collect();
    cap.max_virt_functions = max;
    cap.virt_functions = (!vfs.is_empty() || max > 0).then_some(vfs);
    cap.iommu_group = std::fs::read_link(path.join("iommu_group"))
        .ok()
        .and_then(|l| l.file_name()?.to_str()?.parse::<u32>().ok())
        .map(|group| {
            let members = sysfs.path(&format!("sys/kernel/iommu_groups/{group}/devices"));
            let addrs = read_dir_paths(&members)
                .iter()
                .filter_map(|p| parse_address(&p.file_name()?.to_string_lossy()))
                .collect();
            (group, addrs)
        });
    cap.mdev_types = mdev_types(path);
    Some(())
}

/// `virMediatedDeviceGetMdevTypes`: mdev_supported_types/* in directory
/// order.
fn mdev_types(path: &Path) -> Vec<MdevType> {
    read_dir_paths(&path.join("mdev_supported_types"))
        .iter()
        .filter_map(|t| {
            let read = |name: &str| {
                std::fs::read_to_string(t.join(name))
                    .ok()
                    .map(|s| s.trim_end_matches('\n').to_string())
            };
            Some(MdevType {
                id: t.file_name()?.to_string_lossy().into_owned(),
                name: read("name").filter(|n| !n.is_empty()),
                device_api: read("device_api")?,
                available: parse_u32(&read("available_instances")?, 10)?,
            })
        })
        .collect()
}

fn byte(config: &[u8], pos: usize) -> Option<u8> {
    config.get(pos).copied()
}

fn word(config: &[u8], pos: usize) -> Option<u16> {
    Some(u16::from_le_bytes([
        byte(config, pos)?,
        byte(config, pos + 1)?,
    ]))
}

fn dword(config: &[u8], pos: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        byte(config, pos)?,
        byte(config, pos + 1)?,
        byte(config, pos + 2)?,
        byte(config, pos + 3)?,
    ]))
}

/// `virPCIDeviceFindCapabilityOffset` for the PCI Express capability:
/// `Err` where libvirt's walk fails (no capability list, a short read),
/// `Ok(0)` for none.
fn express_offset(config: &[u8]) -> Result<usize, ()> {
    let status = word(config, 0x06).ok_or(())?;
    if status & 0x10 == 0 {
        return Err(());
    }
    let mut pos = byte(config, 0x34).ok_or(())? as usize;
    // libvirt follows the list without a loop guard; a list is at most
    // 48 capabilities long in the 256 bytes it lives in.
    for _ in 0..48 {
        if !(0x40..0xff).contains(&pos) {
            break;
        }
        if byte(config, pos).ok_or(())? == 0x10 {
            return Ok(pos);
        }
        pos = byte(config, pos + 1).ok_or(())? as usize;
    }
    Ok(0)
}

/// `virPCIDeviceIsPCIExpress`, `virPCIDeviceHasPCIExpressLink` and
/// `virPCIDeviceGetLinkCapSta`: `Some` for a PCI Express device, with its
/// links when it has one. Where the capability walk fails libvirt guesses
/// from the config file's length: 256 bytes is conventional PCI.
fn express(config: &[u8]) -> Option<(Option<PcieLink>, Option<PcieLink>)> {
    let pos = match express_offset(config) {
        Ok(0) => return None,
        Ok(pos) => pos,
        Err(()) if config.len() == 256 => return None,
        Err(()) => return Some((None, None)),
    };
    let kind = (word(config, pos + 2).unwrap_or(0) & 0xf0) >> 4;
    if kind == 0x9 || kind == 0xa {
        return Some((None, None));
    }
    let cap = dword(config, pos + 0x0c).unwrap_or(0);
    let sta = word(config, pos + 0x12).unwrap_or(0) as u32;
    let speed = |s: u32| if s <= 6 { s as usize } else { 0 };
    Some((
        Some(PcieLink {
            port: (cap >> 24) as i32,
            speed: speed(cap & 0xf),
            width: (cap & 0x3f0) >> 4,
        }),
        Some(PcieLink {
            port: -1,
            speed: speed(sta & 0xf),
            width: (sta & 0x3f0) >> 4,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pci_ids_give_vendor_and_device_names_as_libpciaccess() {
        let ids = PciIds::parse(
            "# comment\n1af4  Red Hat, Inc.\n\t1041  Virtio 1.0 network device\n\t\t1af4 1100  QEMU\n8086  Intel Corporation\n\t0d57  \nC 00  Unclassified device\n",
        );
        assert_eq!(
            ids.names(0x1af4, 0x1041),
            (
                Some("Red Hat, Inc.".into()),
                Some("Virtio 1.0 network device".into())
            )
        );
        assert_eq!(
            ids.names(0x8086, 0x0d57),
            (Some("Intel Corporation".into()), None)
        );
        assert_eq!(ids.names(0x1234, 1), (None, None));
    }

    #[test]
    fn config_space_tells_header_type_and_express_links() {
        // A conventional device with a capability list but no Express cap.
        let mut cfg = vec![0u8; 256];
        cfg[0x06] = 0x10;
        cfg[0x34] = 0x40;
        cfg[0x40] = 0x09;
        assert_eq!(express(&cfg), None);
        // No capability list, 4096 bytes: libvirt guesses Express, no link.
        let cfg = vec![0u8; 4096];
        assert_eq!(express(&cfg), Some((None, None)));
        // An endpoint with an 8 GT/s x4 link running at 2.5 GT/s x1.
        let mut cfg = vec![0u8; 4096];
        cfg[0x06] = 0x10;
        cfg[0x34] = 0x50;
        cfg[0x50] = 0x10;
        cfg[0x5c..0x60].copy_from_slice(&0x0200_0043u32.to_le_bytes());
        cfg[0x62..0x64].copy_from_slice(&0x0011u16.to_le_bytes());
        let (cap, sta) = express(&cfg).unwrap();
        assert_eq!(
            cap,
            Some(PcieLink {
                port: 2,
                speed: 3,
                width: 4
            })
        );
        assert_eq!(
            sta,
            Some(PcieLink {
                port: -1,
                speed: 1,
                width: 1
            })
        );
    }
}
