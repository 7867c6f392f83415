//! Controllers as `-device`s (`qemuBuildControllersCommandLine`): PCI
//! ports and bridges, USB, SCSI, IDE/SATA beyond the built-in one, and
//! virtio-serial, in that type order; the chipset's own are implicit.

use super::address::device_address;
use super::json::Props;
use super::machine::is_q35;
use super::{unsupported, Args};
use rvirt_conf::domain::controller::{
    ControllerModel, ControllerType as T, PciModel, ScsiModel, UsbModel,
};
use rvirt_conf::domain::props::VirEnum;
use rvirt_conf::domain::{Controller, DomainDef};
use rvirt_util::Result;

const ORDER: &[T] = &[T::Pci, T::Usb, T::Scsi, T::Ide, T::Sata, T::VirtioSerial];

pub(super) fn controllers(a: &mut Args, def: &DomainDef) -> Result<()> {
    for kind in ORDER {
        for c in def
            .devices
            .controllers
            .iter()
            .filter(|c| c.controller_type == *kind)
        {
            if is_implicit(c, def) {
                continue;
            }
            let p = props(c)?;
            a.json("-device", device_address(p, &c.address, def));
        }
    }
    Ok(())
}

/// `qemuBuildSkipController` and USB "none".
fn is_implicit(c: &Controller, def: &DomainDef) -> bool {
    let q35 = is_q35(def);
    match (c.controller_type, c.index) {
        (T::Pci, _) => matches!(c.pci_model(), Some(PciModel::PciRoot | PciModel::PcieRoot)),
        (T::Usb, _) => c.is_usb_none(),
        (T::Sata, 0) => q35,
        (T::Ide, 0) => !q35,
        _ => false,
    }
}

/// The QEMU device name, id and model options of one controller.
fn props(c: &Controller) -> Result<Props> {
    let idx = c.index;
    let p = match (c.controller_type, c.model) {
        (T::Pci, Some(ControllerModel::Pci(PciModel::PcieRootPort))) => Props::new()
            .str("driver", "pcie-root-port")
            .num("port", c.pci.port.unwrap_or(0))
            .num("chassis", c.pci.chassis.unwrap_or(idx))
            .str("id", &format!("pci.{idx}")),
        (T::Pci, Some(ControllerModel::Pci(PciModel::PciBridge))) => Props::new()
            .str("driver", "pci-bridge")
            .num("chassis_nr", c.pci.chassis_nr.unwrap_or(idx))
            .str("id", &format!("pci.{idx}")),
        (T::Usb, _) => usb(c)?,
        (T::Scsi, Some(ControllerModel::Scsi(ScsiModel::VirtioScsi))) => Props::new()
            .str("driver", "virtio-scsi-pci")
            .opt_str(
                "iothread",
                Some(c.driver.iothread)
                    .filter(|n| *n != 0)
                    .map(super::iothreads::alias)
                    .as_deref(),
            )
            .str("id", &format!("scsi{idx}")),
        (T::Scsi, Some(ControllerModel::Scsi(ScsiModel::Lsilogic))) => Props::new()
            .str("driver", "lsi")
            .str("id", &format!("scsi{idx}")),
        (T::Sata, _) => Props::new()
            .str("driver", "ahci")
            .str("id", &format!("sata{idx}")),
        (T::VirtioSerial, _) => {
            let mut p = Props::new()
                .str("driver", "virtio-serial-pci")
                .str("id", &format!("virtio-serial{idx}"));
            if let Some(n) = c.ports {
                p = p.num("max_ports", n);
            }
            if let Some(n) = c.vectors {
                p = p.num("vectors", n);
            }
            p
        }
        (kind, model) => {
            return Err(unsupported(format!(
                "controller type '{}' model '{}' is not supported by rvirt yet",
                kind.as_str(),
                model.map_or("", ControllerModel::as_str)
            )))
        }
    };
    Ok(p)
}

fn usb(c: &Controller) -> Result<Props> {
    let driver = match c.usb_model() {
        Some(UsbModel::Piix3Uhci) => "piix3-usb-uhci",
        Some(UsbModel::Piix4Uhci) => "piix4-usb-uhci",
        Some(UsbModel::Ich9Ehci1) => "ich9-usb-ehci1",
        Some(UsbModel::Ich9Uhci1) => "ich9-usb-uhci1",
        Some(UsbModel::Ich9Uhci2) => "ich9-usb-uhci2",
        Some(UsbModel::Ich9Uhci3) => "ich9-usb-uhci3",
        Some(UsbModel::QemuXhci) => "qemu-xhci",
        Some(UsbModel::NecXhci) => "nec-usb-xhci",
        other => {
            return Err(unsupported(format!(
                "USB controller model '{}' is not supported by rvirt yet",
                other.map_or("", VirEnum::as_str)
            )))
        }
    };
    // The alias of the controller of this index, which is the master
    // of a companion (libvirt's qemuBuildUSBControllerFindMasterAlias).
    let alias = if c.index == 0 {
        "usb".to_string()
    } else {
        format!("usb{}", c.index)
    };
    let mut p = Props::new().str("driver", driver);
    if let (Some(n), true) = (c.ports, driver.ends_with("xhci")) {
        p = p.num("p2", n).num("p3", n);
    }
    // A companion joins its master's bus and has no id of its own.
    Ok(match c.master_startport {
        Some(first) => p
            .str("masterbus", &format!("{alias}.0"))
            .num("firstport", first),
        None => p.str("id", &alias),
    })
}
