//! PCI detach, re-attach and reset (`virNodeDeviceDetachFlags` & co, which
//! libvirt's QEMU driver answers through its host device manager). rvirt
//! binds no device to vfio-pci and resets none: detach is refused with
//! libvirt's own words where the host has no usable VFIO (no IOMMU group
//! or no /dev/vfio/vfio) and with rvirt's where it has; re-attaching a
//! device that no stub driver holds leaves it with its driver, as
//! libvirt's re-attach does; reset is refused.

use crate::udev::Sysfs;
use rvirt_conf::nodedev::{Capability, NodeDeviceDef};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// The QEMU driver's errors (`qemuNodeDeviceDetachFlags`).
const QEMU: ErrorDomain = ErrorDomain::QEMU;
/// The shared hypervisor helpers' (hypervisor/domain_driver.c).
const DOMAIN: ErrorDomain = ErrorDomain::DOMAIN;

/// `virHostdevHostSupportsPassthroughVFIO`: an IOMMU group and the VFIO
/// container device.
fn vfio_usable(sysfs: &Sysfs) -> bool {
    let groups = std::fs::read_dir(sysfs.path("sys/kernel/iommu_groups"))
        .is_ok_and(|mut d| d.next().is_some());
    groups && sysfs.path("dev/vfio/vfio").exists()
}

/// `virDomainDriverNodeDeviceGetPCIInfo`: the device's PCI address as
/// "dddd:bb:ss.f".
fn pci_name(def: &NodeDeviceDef) -> Result<String> {
    def.caps
        .iter()
        .find_map(|c| match c {
            Capability::Pci(p) => Some(format!(
                "{:04x}:{:02x}:{:02x}.{:x}",
                p.domain, p.bus, p.slot, p.function
            )),
            _ => None,
        })
        .ok_or_else(|| {
            Error::new(
                DOMAIN,
                ErrorCode::INVALID_ARG,
                format!("device {} is not a PCI device", def.name),
            )
        })
}

fn unsupported(msg: String) -> Error {
    Error::new(QEMU, ErrorCode::OPERATION_UNSUPPORTED, msg)
}

/// `qemuNodeDeviceDetachFlags`: the driver name is checked, then VFIO,
/// before the device is looked at.
pub fn detach(
    sysfs: &Sysfs,
    name: &str,
    driver: Option<&str>,
    find: impl FnOnce() -> Result<NodeDeviceDef>,
) -> Result<()> {
    match driver.unwrap_or("vfio") {
        "vfio" => {}
        "kvm" => {
            return Err(Error::new(
                QEMU,
                ErrorCode::ARGUMENT_UNSUPPORTED,
                "KVM device assignment is no longer supported on this system",
            ))
        }
        other => {
            return Err(Error::new(
                QEMU,
                ErrorCode::INVALID_ARG,
                format!("unknown driver name '{other}'"),
            ))
        }
    }
    if !vfio_usable(sysfs) {
        return Err(Error::new(
            QEMU,
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "VFIO device assignment is currently not supported on this system",
        ));
    }
    let address = pci_name(&find()?)?;
    Err(unsupported(format!(
        "detaching PCI device {address} ({name}) for VFIO assignment is not supported by rvirt yet"
    )))
}

/// `virDomainDriverNodeDeviceReAttach`: nothing to undo for a device no
/// stub driver (vfio-pci, pci-stub) holds.
pub fn reattach(sysfs: &Sysfs, def: &NodeDeviceDef) -> Result<()> {
    let address = pci_name(def)?;
    let link = sysfs.path(&format!("sys/bus/pci/devices/{address}/driver"));
    let driver = std::fs::read_link(link)
        .ok()
        .and_then(|l| Some(l.file_name()?.to_string_lossy().into_owned()));
    match driver.as_deref() {
        Some(stub @ ("vfio-pci" | "pci-stub")) => Err(unsupported(format!(
            "re-attaching PCI device {address} from {stub} to its host driver is not supported by rvirt yet"
        ))),
        _ => Ok(()),
    }
}

/// `virDomainDriverNodeDeviceReset`: refused for every PCI device.
pub fn reset(def: &NodeDeviceDef) -> Result<()> {
    let address = pci_name(def)?;
    Err(unsupported(format!(
        "resetting PCI device {address} is not supported by rvirt"
    )))
}
