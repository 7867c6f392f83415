//! Controllers as `-device`s (`qemuBuildControllersCommandLine`): PCI
//! ports and bridges, USB, SCSI, IDE/SATA beyond the built-in one, and
//! virtio-serial, in that type order; the chipset's own are implicit.

use super::address::device_address;
use super::json::Props;
use super::machine::is_q35;
use super::{unsupported, Args};
use rvirt_conf::domain::{Controller, DomainDef};
use rvirt_util::Result;

const ORDER: &[&str] = &["pci", "usb", "scsi", "ide", "sata", "virtio-serial"];

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
    match (c.controller_type.as_str(), c.index, c.model.as_deref()) {
        ("pci", _, Some("pci-root" | "pcie-root")) => true,
        ("usb", _, Some("none")) => true,
        ("sata", 0, _) => q35,
        ("ide", 0, _) => !q35,
        _ => false,
    }
}

/// The QEMU device name, id and model options of one controller.
fn props(c: &Controller) -> Result<Props> {
    let idx = c.index;
    let model = c.model.as_deref().unwrap_or("");
    let p = match (c.controller_type.as_str(), model) {
        ("pci", "pcie-root-port") => Props::new()
            .str("driver", "pcie-root-port")
            .num("port", c.pci.port.unwrap_or(0))
            .num("chassis", c.pci.chassis.unwrap_or(idx))
            .str("id", &format!("pci.{idx}")),
        ("pci", "pci-bridge") => Props::new()
            .str("driver", "pci-bridge")
            .num("chassis_nr", c.pci.chassis_nr.unwrap_or(idx))
            .str("id", &format!("pci.{idx}")),
        ("usb", _) => usb(c, model)?,
        ("scsi", "virtio-scsi") => Props::new()
            .str("driver", "virtio-scsi-pci")
            .str("id", &format!("scsi{idx}")),
        ("scsi", "lsilogic") => Props::new()
            .str("driver", "lsi")
            .str("id", &format!("scsi{idx}")),
        ("sata", _) => Props::new()
            .str("driver", "ahci")
            .str("id", &format!("sata{idx}")),
        ("virtio-serial", _) => {
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
                "controller type '{kind}' model '{model}' is not supported by rvirt yet"
            )))
        }
    };
    Ok(p)
}

fn usb(c: &Controller, model: &str) -> Result<Props> {
    let driver = match model {
        "piix3-uhci" => "piix3-usb-uhci",
        "piix4-uhci" => "piix4-usb-uhci",
        "ich9-ehci1" => "ich9-usb-ehci1",
        "qemu-xhci" => "qemu-xhci",
        "nec-xhci" => "nec-usb-xhci",
        other => {
            return Err(unsupported(format!(
                "USB controller model '{other}' is not supported by rvirt yet"
            )))
        }
    };
    let id = if c.index == 0 {
        "usb".to_string()
    } else {
        format!("usb{}", c.index)
    };
    let mut p = Props::new().str("driver", driver).str("id", &id);
    if let (Some(n), true) = (c.ports, driver.ends_with("xhci")) {
        p = p.num("p2", n).num("p3", n);
    }
    Ok(p)
}
