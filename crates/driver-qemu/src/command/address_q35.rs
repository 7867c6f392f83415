//! q35 address assignment: the ICH9 functions in slot 0x1f, the primary
//! video at 0x1, every PCIe endpoint in a pcie-root-port of its own
//! (auto-added, plus one spare for hotplug on a new definition), and the
//! root ports packed eight functions to a slot of pcie.0, as libvirt 9.0's
//! `qemuDomainAssignPCIAddresses` lays them out.

use super::address::{pci_wanting, root_port, PciSet};
use super::unsupported;
use rvirt_conf::domain::controller::{
    ControllerModel, ControllerType, PciModel, PciModelName, ScsiModel, UsbModel,
};
use rvirt_conf::domain::interface::{NetModel, NetModelType};
use rvirt_conf::domain::props::VirEnum;
use rvirt_conf::domain::video::VideoModel;
use rvirt_conf::domain::{Address, Controller, DomainDef};
use rvirt_util::Result;

/// A NIC or controller model that is conventional PCI, not PCIe: on q35
/// libvirt puts it behind a pcie-to-pci-bridge, which rvirt does not lay
/// out yet.
fn conventional_pci(nic: Option<&NetModel>, controller: Option<ControllerModel>) -> Option<&str> {
    match (nic, controller) {
        (Some(NetModel::Known(m @ (NetModelType::Rtl8139 | NetModelType::E1000))), _) => {
            Some(m.as_str())
        }
        (
            _,
            Some(
                m @ (ControllerModel::Scsi(ScsiModel::Lsilogic)
                | ControllerModel::Usb(UsbModel::Piix3Uhci | UsbModel::Piix4Uhci)),
            ),
        ) => Some(m.as_str()),
        _ => None,
    }
}

pub(super) fn assign(def: &mut DomainDef, used: &mut PciSet) -> Result<()> {
    refuse_conventional(def)?;
    for c in def.devices.controllers.iter_mut() {
        if c.controller_type == ControllerType::Sata && c.index == 0 && c.address.is_none() {
            c.address = Some(used.take(0, 0x1f, 2));
        }
    }
    for f in 0..8 {
        used.take(0, 0x1f, f);
    }
    if let Some(v) = def.devices.videos.first_mut() {
        if v.address.is_none() && v.model != VideoModel::None && used.slot_free(0, 1) {
            v.address = Some(used.take(0, 1, 0));
        }
    }
    let had_pci_controllers = def
        .devices
        .controllers
        .iter()
        .any(|c| c.controller_type == ControllerType::Pci && c.index > 0);
    let mut free_ports = empty_root_ports(def, used);
    let mut next_index = next_pci_index(def);
    let mut added = Vec::new();
    // Root ports without an address go on pcie.0 (place_root_ports);
    // everything else into a root port.
    let endpoints = pci_wanting(def)
        .into_iter()
        .filter(|w| !w.root_port)
        .map(|w| w.address);
    for slot in endpoints {
        let bus = match free_ports.first() {
            Some(_) => free_ports.remove(0),
            None => {
                added.push(root_port(next_index));
                next_index += 1;
                next_index as u32 - 1
            }
        };
        *slot = Some(used.take(bus, 0, 0));
    }
    if !had_pci_controllers && !added.is_empty() {
        added.push(root_port(next_index));
    }
    def.devices.controllers.extend(added);
    place_root_ports(def, used);
    Ok(())
}

fn refuse_conventional(def: &DomainDef) -> Result<()> {
    let d = &def.devices;
    let nics = d
        .interfaces
        .iter()
        .filter(|n| n.address.is_none())
        .filter_map(|n| conventional_pci(n.model.as_ref(), None));
    let controllers = d
        .controllers
        .iter()
        .filter(|c| c.address.is_none())
        .filter_map(|c| conventional_pci(None, c.model));
    match nics.chain(controllers).next() {
        Some(model) => Err(unsupported(format!(
            "conventional PCI device model '{model}' on a q35 machine is not supported by rvirt yet"
        ))),
        None => Ok(()),
    }
}

/// Root ports of the definition with nothing plugged in, by index.
fn empty_root_ports(def: &DomainDef, used: &PciSet) -> Vec<u32> {
    def.devices
        .controllers
        .iter()
        .filter(|c| is_root_port(c))
        .map(|c| c.index as u32)
        .filter(|i| used.slot_free(*i, 0))
        .collect()
}

fn is_root_port(c: &Controller) -> bool {
    c.pci_model() == Some(PciModel::PcieRootPort)
}

fn next_pci_index(def: &DomainDef) -> i32 {
    def.devices
        .controllers
        .iter()
        .filter(|c| c.controller_type == ControllerType::Pci)
        .map(|c| c.index + 1)
        .max()
        .unwrap_or(1)
        .max(1)
}

/// Root ports without an address fill the functions of the first free
/// slot of pcie.0, then the next (multifunction on function 0 of a
/// shared slot); each port's `port` is its devfn.
fn place_root_ports(def: &mut DomainDef, used: &mut PciSet) {
    let mut current: Option<(u32, u32)> = None;
    for c in def.devices.controllers.iter_mut() {
        if !is_root_port(c) || c.address.is_some() {
            continue;
        }
        let (slot, function) = match current {
            Some((slot, f)) if f < 7 => (slot, f + 1),
            _ => ((1..32).find(|s| used.slot_free(0, *s)).unwrap_or(31), 0),
        };
        current = Some((slot, function));
        c.address = Some(used.take(0, slot, function));
    }
    mark_multifunction(def);
    root_port_defaults(def);
}

/// The end of `qemuDomainAssignPCIAddresses`: every root port gets the
/// QEMU device name, its index as chassis and its devfn as port unless
/// the definition says otherwise.
fn root_port_defaults(def: &mut DomainDef) {
    for c in def
        .devices
        .controllers
        .iter_mut()
        .filter(|c| is_root_port(c))
    {
        c.pci.model_name.get_or_insert(PciModelName::PcieRootPort);
        c.pci.chassis.get_or_insert(c.index);
        if let Some(Address::Pci { slot, function, .. }) = c.address {
            c.pci.port.get_or_insert((slot << 3 | function) as i32);
        }
    }
}

/// `virDomainPCIAddressSetAllMulti`: function 0 of a slot with several
/// functions in use gets `multifunction='on'`.
fn mark_multifunction(def: &mut DomainDef) {
    let ports: Vec<(u32, u32)> = def
        .devices
        .controllers
        .iter()
        .filter_map(|c| match &c.address {
            Some(Address::Pci {
                bus,
                slot,
                function,
                ..
            }) if *function > 0 => Some((*bus, *slot)),
            _ => None,
        })
        .collect();
    for c in def.devices.controllers.iter_mut() {
        if let Some(Address::Pci {
            bus,
            slot,
            function: 0,
            multifunction,
            ..
        }) = &mut c.address
        {
            if multifunction.is_none() && ports.contains(&(*bus, *slot)) {
                *multifunction = Some("on".into());
            }
        }
    }
}
