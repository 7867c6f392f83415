//! Device addresses: assigned on define as libvirt 9.0's
//! `qemu_domain_address.c` assigns them (PCI slots in its device order,
//! pcie-root-ports auto-added on q35, virtio-serial ports, USB ports), and
//! written into `-device` props as `qemuBuildDeviceAddressProps` does.

use super::json::Props;
use super::machine::is_q35;
use super::unsupported;
use rvirt_conf::domain::controller::{
    ControllerModel, ControllerType, PciModel, PciModelName, UsbModel,
};
use rvirt_conf::domain::devices::{InputBus, MemballoonModel};
use rvirt_conf::domain::disk::DiskBus;
use rvirt_conf::domain::video::VideoModel;
use rvirt_conf::domain::{Address, Controller, DomainDef};
use rvirt_util::Result;
use std::collections::BTreeSet;

/// `"bus":"pci.0","addr":"0x3"` (bus 0 is `pcie.0` on q35; other buses are
/// named by their controller's alias `pci.N`); multifunction before addr.
pub(super) fn device_address(mut p: Props, address: &Option<Address>, def: &DomainDef) -> Props {
    match address {
        Some(Address::Pci {
            bus,
            slot,
            function,
            multifunction,
            ..
        }) => {
            let bus_name = if *bus == 0 && is_q35(def) {
                "pcie.0".to_string()
            } else {
                format!("pci.{bus}")
            };
            p = p.str("bus", &bus_name);
            match multifunction.as_deref() {
                Some("on") => p = p.bool("multifunction", true),
                Some("off") => p = p.bool("multifunction", false),
                _ => {}
            }
            let addr = match function {
                0 => format!("0x{slot:x}"),
                f => format!("0x{slot:x}.0x{f:x}"),
            };
            p.str("addr", &addr)
        }
        Some(Address::Usb { bus, port }) => {
            let port: Vec<String> = port
                .iter()
                .take_while(|n| **n != 0)
                .map(u32::to_string)
                .collect();
            p.str("bus", &format!("usb.{bus}"))
                .str("port", &port.join("."))
        }
        _ => p,
    }
}

fn pci(bus: u32, slot: u32, function: u32) -> Address {
    Address::Pci {
        domain: 0,
        bus,
        slot,
        function,
        multifunction: None,
        zpci: None,
    }
}

/// Every address missing from `def`, in libvirt's order.
pub(super) fn assign_addresses(def: &mut DomainDef) -> Result<()> {
    let mut used = PciSet::of(def);
    if is_q35(def) {
        super::address_q35::assign(def, &mut used)?;
    } else {
        assign_i440fx(def, &mut used)?;
    }
    assign_virtio_serial(def);
    assign_usb(def);
    Ok(())
}

/// Occupied PCI (bus, slot, function)s.
pub(super) struct PciSet(BTreeSet<(u32, u32, u32)>);

impl PciSet {
    fn of(def: &DomainDef) -> PciSet {
        let mut set = BTreeSet::new();
        for a in all_addresses(def).into_iter().flatten() {
            if let Address::Pci {
                bus,
                slot,
                function,
                ..
            } = a
            {
                set.insert((*bus, *slot, *function));
            }
        }
        set.insert((0, 0, 0));
        PciSet(set)
    }

    pub(super) fn slot_free(&self, bus: u32, slot: u32) -> bool {
        !self.0.iter().any(|(b, s, _)| *b == bus && *s == slot)
    }

    pub(super) fn take(&mut self, bus: u32, slot: u32, function: u32) -> Address {
        self.0.insert((bus, slot, function));
        pci(bus, slot, function)
    }

    /// The first wholly free slot of `bus` from `first`, taken.
    pub(super) fn next_slot(&mut self, bus: u32, first: u32) -> Result<Address> {
        let slot = self.free_slot(bus, first)?;
        Ok(self.take(bus, slot, 0))
    }

    /// The number of the first wholly free slot of `bus` from `first`.
    fn free_slot(&self, bus: u32, first: u32) -> Result<u32> {
        (first..32)
            .find(|s| self.slot_free(bus, *s))
            .ok_or_else(|| unsupported(format!("No more available PCI slots on bus {bus}")))
    }
}

fn all_addresses(def: &DomainDef) -> Vec<&Option<Address>> {
    let d = &def.devices;
    let mut v: Vec<&Option<Address>> = Vec::new();
    v.extend(d.disks.iter().map(|x| &x.address));
    v.extend(d.controllers.iter().map(|x| &x.address));
    v.extend(d.interfaces.iter().map(|x| &x.address));
    v.extend(d.serials.iter().map(|x| &x.address));
    v.extend(d.channels.iter().map(|x| &x.address));
    v.extend(d.consoles.iter().map(|x| &x.address));
    v.extend(d.inputs.iter().map(|x| &x.address));
    v.extend(d.videos.iter().map(|x| &x.address));
    v.extend(d.rngs.iter().map(|x| &x.address));
    v.extend(d.memballoon.iter().map(|x| &x.address));
    v
}

/// Whether a controller takes a PCI slot of its own
/// (`qemuDomainAssignDevicePCISlots`: not the roots, the built-in IDE/SATA,
/// FDC, CCID or a USB "none").
fn controller_wants_pci(c: &Controller, q35: bool) -> bool {
    match c.controller_type {
        ControllerType::Pci => {
            !matches!(c.pci_model(), Some(PciModel::PciRoot | PciModel::PcieRoot))
        }
        ControllerType::Usb => !c.is_usb_none(),
        ControllerType::Fdc
        | ControllerType::Ccid
        | ControllerType::Xenbus
        | ControllerType::Isa => false,
        ControllerType::Ide => c.index != 0 || q35,
        ControllerType::Sata => !(c.index == 0 && q35),
        ControllerType::Scsi | ControllerType::VirtioSerial => true,
    }
}

/// Where an ICH9 USB2 controller (EHCI1 or a UHCI companion) goes in
/// the one slot its group shares (`qemuDomainAssignDevicePCISlots`):
/// EHCI1 at function 7, UHCI1..3 at 0..2, UHCI1 with multifunction on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Usb2Part {
    pub index: i32,
    pub function: u32,
    pub multifunction: bool,
}

fn usb2_part(c: &Controller) -> Option<Usb2Part> {
    let (function, multifunction) = match c.usb_model()? {
        UsbModel::Ich9Ehci1 => (7, false),
        UsbModel::Ich9Uhci1 => (0, true),
        UsbModel::Ich9Uhci2 => (1, false),
        UsbModel::Ich9Uhci3 => (2, false),
        _ => return None,
    };
    Some(Usb2Part {
        index: c.index,
        function,
        multifunction,
    })
}

/// The slot each USB2 group of `def` already has (an address given in
/// the definition), by controller index.
fn usb2_slots(def: &DomainDef) -> Vec<(i32, u32, u32)> {
    def.devices
        .controllers
        .iter()
        .filter(|c| usb2_part(c).is_some())
        .filter_map(|c| match c.address {
            Some(Address::Pci { bus, slot, .. }) => Some((c.index, bus, slot)),
            _ => None,
        })
        .collect()
}

/// A device wanting a PCI address, and its place in a USB2 group if it
/// is part of one.
pub(super) struct Wanting<'a> {
    pub address: &'a mut Option<Address>,
    pub usb2: Option<Usb2Part>,
    /// A pcie-root-port, which q35 places on pcie.0 itself.
    pub root_port: bool,
}

/// The devices wanting a PCI address, in `qemuDomainAssignDevicePCISlots`
/// order (primary video excluded: the chipset rules place it), each with
/// its USB2 group part.
pub(super) fn pci_wanting(def: &mut DomainDef) -> Vec<Wanting<'_>> {
    let q35 = is_q35(def);
    let d = &mut def.devices;
    let (pci_ctrls, other_ctrls): (Vec<_>, Vec<_>) = d
        .controllers
        .iter_mut()
        .partition(|c| c.controller_type == ControllerType::Pci);
    let wants = |c: &&mut Controller| controller_wants_pci(c, q35);
    let plain = |address| Wanting {
        address,
        usb2: None,
        root_port: false,
    };
    let mut out: Vec<Wanting> = Vec::new();
    out.extend(pci_ctrls.into_iter().filter(wants).map(|c| Wanting {
        root_port: c.pci_model() == Some(PciModel::PcieRootPort),
        usb2: None,
        address: &mut c.address,
    }));
    out.extend(d.interfaces.iter_mut().map(|n| plain(&mut n.address)));
    out.extend(other_ctrls.into_iter().filter(wants).map(|c| Wanting {
        usb2: usb2_part(c),
        root_port: false,
        address: &mut c.address,
    }));
    for disk in d.disks.iter_mut().filter(|x| x.bus() == DiskBus::Virtio) {
        out.push(plain(&mut disk.address));
    }
    for balloon in d
        .memballoon
        .iter_mut()
        .filter(|m| m.model != MemballoonModel::None)
    {
        out.push(plain(&mut balloon.address));
    }
    out.extend(d.rngs.iter_mut().map(|r| plain(&mut r.address)));
    // The primary video is placed by the chipset rules.
    for video in d
        .videos
        .iter_mut()
        .skip(1)
        .filter(|v| v.model != VideoModel::None)
    {
        out.push(plain(&mut video.address));
    }
    for input in d.inputs.iter_mut().filter(|i| i.bus == InputBus::Virtio) {
        out.push(plain(&mut input.address));
    }
    out.retain(|w| w.address.is_none());
    out
}

/// i440fx: slot 1 is the PIIX3 (IDE at .1, USB at .2), the primary video
/// takes slot 2, then each device the next free slot of bus 0.
fn assign_i440fx(def: &mut DomainDef, used: &mut PciSet) -> Result<()> {
    for c in def.devices.controllers.iter_mut() {
        let builtin = match (c.controller_type, c.index, c.usb_model()) {
            (ControllerType::Ide, 0, _) => Some(1),
            (ControllerType::Usb, 0, Some(UsbModel::Piix3Uhci)) => Some(2),
            _ => None,
        };
        if let (Some(function), None) = (builtin, &c.address) {
            c.address = Some(used.take(0, 1, function));
        }
    }
    for f in 0..8 {
        used.0.insert((0, 1, f));
    }
    if let Some(v) = def.devices.videos.first_mut() {
        if v.address.is_none() && v.model != VideoModel::None && used.slot_free(0, 2) {
            v.address = Some(used.take(0, 2, 0));
        }
    }
    let mut usb2_slots = usb2_slots(def);
    for w in pci_wanting(def) {
        let Some(part) = w.usb2 else {
            *w.address = Some(used.next_slot(0, 1)?);
            continue;
        };
        let (bus, slot) = match usb2_slots.iter().find(|(i, _, _)| *i == part.index) {
            Some((_, bus, slot)) => (*bus, *slot),
            None => {
                let slot = used.free_slot(0, 1)?;
                usb2_slots.push((part.index, 0, slot));
                (0, slot)
            }
        };
        let mut address = used.take(bus, slot, part.function);
        if let (true, Address::Pci { multifunction, .. }) = (part.multifunction, &mut address) {
            *multifunction = Some("on".into());
        }
        *w.address = Some(address);
    }
    Ok(())
}

/// A new pcie-root-port controller `index` (chassis = index, port from
/// its address once it has one).
pub(super) fn root_port(index: i32) -> Controller {
    let mut c = Controller::new(ControllerType::Pci, index);
    c.model = Some(ControllerModel::Pci(PciModel::PcieRootPort));
    c.pci.model_name = Some(PciModelName::PcieRootPort);
    c.pci.chassis = Some(index);
    c
}

/// virtio-serial channels: controller 0, bus 0, ports from 1 in order
/// (`qemuDomainAssignVirtioSerialAddresses`; port 0 is left to a
/// virtconsole, which libvirt leaves unaddressed).
fn assign_virtio_serial(def: &mut DomainDef) {
    use rvirt_conf::domain::channel::ChannelTarget;
    let channels = &mut def.devices.channels;
    let mut taken: BTreeSet<(u32, u32)> = BTreeSet::new();
    for c in channels.iter() {
        if let Some(Address::VirtioSerial {
            controller, port, ..
        }) = &c.address
        {
            taken.insert((*controller, *port));
        }
    }
    let wanting = channels
        .iter_mut()
        .filter(|c| matches!(c.target, ChannelTarget::Virtio { .. }) && c.address.is_none());
    for channel in wanting {
        let port = (1..).find(|p| !taken.contains(&(0, *p))).unwrap_or(1);
        taken.insert((0, port));
        channel.address = Some(Address::VirtioSerial {
            controller: 0,
            bus: 0,
            port,
        });
    }
}

/// USB devices (tablets, keyboards, mice on bus usb) get ports 1, 2, ...
/// of controller 0 in order (`qemuDomainAssignUSBAddresses`).
fn assign_usb(def: &mut DomainDef) {
    let mut taken: BTreeSet<u32> = BTreeSet::new();
    for i in &def.devices.inputs {
        if let Some(Address::Usb { port, .. }) = &i.address {
            taken.insert(port[0]);
        }
    }
    for input in def
        .devices
        .inputs
        .iter_mut()
        .filter(|i| i.bus == InputBus::Usb && i.address.is_none())
    {
        let port = (1..).find(|p| !taken.contains(p)).unwrap_or(1);
        taken.insert(port);
        input.address = Some(Address::Usb {
            bus: 0,
            port: [port, 0, 0, 0],
        });
    }
}
