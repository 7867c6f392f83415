//! What libvirt 9.0's QEMU driver adds to a definition on define
//! (`qemuDomainDefPostParse`, `qemuDomainDefAddDefaultDevices`,
//! `qemuDomainDeviceDefPostParse`): the default CPU, root PCI bus, USB and
//! SATA controllers, PS/2 inputs, the memballoon, the audio backend and
//! device model defaults.

use super::machine::{is_i440fx, is_q35};
use crate::caps_model::QemuCaps;
use rvirt_conf::domain::audio::{Audio, AudioType};
use rvirt_conf::domain::controller::{
    ControllerModel, ControllerType, PciModel, ScsiModel, UsbModel,
};
use rvirt_conf::domain::cpu::{CpuCheck, CpuFallback, CpuMatch, CpuMode};
use rvirt_conf::domain::devices::{InputBus, InputType, MemballoonModel};
use rvirt_conf::domain::disk::StorageFormat;
use rvirt_conf::domain::interface::{NetModel, NetModelType};
use rvirt_conf::domain::props::TriSwitch;
use rvirt_conf::domain::serial::{ChrTarget, SerialModel, SerialTarget};
use rvirt_conf::domain::video::VideoModel;
use rvirt_conf::domain::{Controller, CpuDef, DomainDef, Input, Memballoon, VirtType};
use rvirt_util::Result;

pub(super) fn add_implicit_devices(def: &mut DomainDef, caps: &QemuCaps) -> Result<()> {
    if def.devices.emulator.is_none() {
        def.devices.emulator = Some(caps.binary.to_string_lossy().into_owned());
    }
    default_cpu(def);
    ps2_inputs(def);
    driver_controllers(def);
    if def.devices.memballoon.is_none() {
        def.devices.memballoon = Some(Memballoon::new(MemballoonModel::Virtio));
    }
    default_audio(def);
    device_models(def);
    serial_targets(def);
    Ok(())
}

fn has_controller(def: &DomainDef, kind: ControllerType, index: i32) -> bool {
    def.devices
        .controllers
        .iter()
        .any(|c| c.controller_type == kind && c.index == index)
}

/// `qemuDomainDefSetDefaultCPU`: x86 guests without a CPU model get
/// QEMU's default (`qemu64`) with checks off; host-passthrough is
/// migratable unless told otherwise.
fn default_cpu(def: &mut DomainDef) {
    let cpu = def.cpu.get_or_insert_with(CpuDef::default);
    match cpu.mode() {
        CpuMode::Custom if cpu.model.is_none() => {
            cpu.mode = Some(CpuMode::Custom);
            cpu.match_ = Some(CpuMatch::Exact);
            cpu.check = Some(CpuCheck::None);
            cpu.model = Some("qemu64".into());
            cpu.fallback = Some(CpuFallback::Forbid);
        }
        CpuMode::HostPassthrough if cpu.migratable.is_none() => {
            cpu.migratable = Some(TriSwitch::On);
        }
        _ => {}
    }
    // qemuDomainDefCPUPostParse: passthrough and TCG custom CPUs are not
    // compared with the host; host-model and KVM custom ones partially.
    if cpu.check.is_none() && (cpu.mode() != CpuMode::Custom || cpu.model.is_some()) {
        let none = match cpu.mode() {
            CpuMode::HostPassthrough | CpuMode::Maximum => true,
            CpuMode::Custom => def.virt_type == VirtType::Qemu,
            CpuMode::HostModel => false,
        };
        cpu.check = Some(if none {
            CpuCheck::None
        } else {
            CpuCheck::Partial
        });
    }
}

/// The controllers the QEMU driver adds (`qemuDomainDefAddDefaultDevices`)
/// in its order: USB 0, q35's AHCI, the root PCI bus. libvirt adds them
/// before the generic post-parse adds the ones disks and channels need;
/// in a parsed definition those are the trailing bare controllers (an
/// explicit bare one at the very end is taken for an implicit one: only
/// the list order can differ, never the addresses).
fn driver_controllers(def: &mut DomainDef) {
    if is_q35(def) {
        // The chipset's AHCI is the driver's even when a disk also asked
        // the generic post-parse for it.
        let bare = Controller::new(ControllerType::Sata, 0);
        def.devices.controllers.retain(|c| *c != bare);
    }
    let mut added = Vec::new();
    added.extend(usb_controller(def));
    if is_q35(def) && !has_controller(def, ControllerType::Sata, 0) {
        added.push(Controller::new(ControllerType::Sata, 0));
    }
    added.extend(root_bus(def));
    let list = &mut def.devices.controllers;
    let generic = |c: &Controller| {
        GENERIC_IMPLICIT.contains(&c.controller_type)
            && *c == Controller::new(c.controller_type, c.index)
    };
    let at = list.len() - list.iter().rev().take_while(|c| generic(c)).count();
    list.splice(at..at, added);
}

/// Controller types the generic post-parse (conf) adds for the devices
/// on them (`virDomainDefAddImplicitControllers`).
const GENERIC_IMPLICIT: &[ControllerType] = &[
    ControllerType::Ide,
    ControllerType::Sata,
    ControllerType::Scsi,
    ControllerType::Fdc,
    ControllerType::VirtioSerial,
    ControllerType::Ccid,
];

/// pci-root (i440fx) or pcie-root (q35) as controller pci 0.
fn root_bus(def: &DomainDef) -> Option<Controller> {
    let model = if is_q35(def) {
        PciModel::PcieRoot
    } else if is_i440fx(def) {
        PciModel::PciRoot
    } else {
        return None;
    };
    if has_controller(def, ControllerType::Pci, 0) {
        return None;
    }
    let mut root = Controller::new(ControllerType::Pci, 0);
    root.model = Some(ControllerModel::Pci(model));
    Some(root)
}

/// USB controller 0: piix3-uhci on i440fx, qemu-xhci on q35, unless the
/// definition has one (whose missing model gets the same default).
fn usb_controller(def: &mut DomainDef) -> Option<Controller> {
    let model = ControllerModel::Usb(if is_q35(def) {
        UsbModel::QemuXhci
    } else {
        UsbModel::Piix3Uhci
    });
    let usb = def
        .devices
        .controllers
        .iter_mut()
        .find(|c| c.controller_type == ControllerType::Usb && c.index == 0);
    match usb {
        Some(c) => {
            c.model.get_or_insert(model);
            None
        }
        None => {
            let mut c = Controller::new(ControllerType::Usb, 0);
            c.model = Some(model);
            Some(c)
        }
    }
}

/// x86 machines have a PS/2 mouse and keyboard whether listed or not.
fn ps2_inputs(def: &mut DomainDef) {
    for kind in [InputType::Mouse, InputType::Keyboard] {
        let listed = def
            .devices
            .inputs
            .iter()
            .any(|i| i.input_type == kind && i.bus == InputBus::Ps2);
        if !listed {
            def.devices.inputs.push(Input::new(kind, InputBus::Ps2));
        }
    }
}

/// `qemuDomainDefAddDefaultAudioBackend`: without `<audio>`, QEMU's sound
/// and VNC get the `none` backend (`audio_driver` default of qemu.conf).
fn default_audio(def: &mut DomainDef) {
    if !def.devices.audios.is_empty() {
        return;
    }
    def.devices.audios.push(Audio::new(1, AudioType::None));
}

/// Models a device gets when the XML names none (`qemuDomainDefaultNetModel`,
/// the SCSI controller default, `qemuDomainDeviceVideoDefPostParse`).
fn device_models(def: &mut DomainDef) {
    for disk in &mut def.devices.disks {
        let driver = &mut disk.driver;
        driver.name.get_or_insert_with(|| "qemu".into());
        driver.format.get_or_insert(StorageFormat::Raw);
    }
    for net in &mut def.devices.interfaces {
        net.model
            .get_or_insert(NetModel::Known(NetModelType::Rtl8139));
    }
    for c in &mut def.devices.controllers {
        if c.controller_type == ControllerType::Scsi && c.model.is_none() {
            c.model = Some(ControllerModel::Scsi(ScsiModel::Lsilogic));
        }
    }
    for v in &mut def.devices.videos {
        if v.model == VideoModel::Default {
            v.model = VideoModel::Vga;
        }
    }
}

/// `qemuDomainChrDefPostParse`: an x86 serial port is an ISA one unless
/// told otherwise, and its model follows its target type.
fn serial_targets(def: &mut DomainDef) {
    for serial in &mut def.devices.serials {
        let target = serial
            .target_type
            .get_or_insert(ChrTarget::Serial(SerialTarget::Isa));
        let model = match target {
            ChrTarget::Serial(SerialTarget::Isa) => SerialModel::IsaSerial,
            ChrTarget::Serial(SerialTarget::Usb) => SerialModel::UsbSerial,
            ChrTarget::Serial(SerialTarget::Pci) => SerialModel::PciSerial,
            _ => continue,
        };
        serial.target_model.get_or_insert(model);
    }
}
