//! What libvirt 9.0's QEMU driver adds to a definition on define
//! (`qemuDomainDefPostParse`, `qemuDomainDefAddDefaultDevices`,
//! `qemuDomainDeviceDefPostParse`): the default CPU, root PCI bus, USB and
//! SATA controllers, PS/2 inputs, the memballoon, the audio backend and
//! device model defaults.

use super::machine::{is_i440fx, is_q35};
use crate::caps_model::QemuCaps;
use rvirt_conf::domain::audio::{Audio, AudioIo, AudioType};
use rvirt_conf::domain::{Controller, CpuDef, DomainDef, Input, Memballoon};
use rvirt_util::Result;

pub(super) fn add_implicit_devices(def: &mut DomainDef, caps: &QemuCaps) -> Result<()> {
    if def.devices.emulator.is_none() {
        def.devices.emulator = Some(caps.binary.to_string_lossy().into_owned());
    }
    default_cpu(def);
    ps2_inputs(def);
    // In libvirt's order: they are appended to the controller list.
    usb_controller(def);
    if is_q35(def) && !has_controller(def, "sata", 0) {
        def.devices.controllers.push(Controller::new("sata", 0));
    }
    root_bus(def);
    if def.devices.memballoon.is_none() {
        def.devices.memballoon = Some(Memballoon {
            model: "virtio".into(),
            address: None,
        });
    }
    default_audio(def);
    device_models(def);
    Ok(())
}

fn has_controller(def: &DomainDef, kind: &str, index: i32) -> bool {
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
    match cpu.mode.as_deref() {
        None | Some("custom") if cpu.model.is_none() => {
            cpu.mode = Some("custom".into());
            cpu.match_ = Some("exact".into());
            cpu.check = Some("none".into());
            cpu.model = Some("qemu64".into());
            cpu.fallback = Some("forbid".into());
        }
        Some("host-passthrough") if cpu.migratable.is_none() => {
            cpu.migratable = Some("on".into());
        }
        _ => {}
    }
}

/// pci-root (i440fx) or pcie-root (q35) as controller pci 0.
fn root_bus(def: &mut DomainDef) {
    let model = if is_q35(def) {
        "pcie-root"
    } else if is_i440fx(def) {
        "pci-root"
    } else {
        return;
    };
    if !has_controller(def, "pci", 0) {
        let mut root = Controller::new("pci", 0);
        root.model = Some(model.into());
        def.devices.controllers.push(root);
    }
}

/// USB controller 0: piix3-uhci on i440fx, qemu-xhci on q35, unless the
/// definition has one (whose missing model gets the same default).
fn usb_controller(def: &mut DomainDef) {
    let model = if is_q35(def) {
        "qemu-xhci"
    } else {
        "piix3-uhci"
    };
    let usb = def
        .devices
        .controllers
        .iter_mut()
        .find(|c| c.controller_type == "usb" && c.index == 0);
    match usb {
        Some(c) if c.model.is_none() => c.model = Some(model.into()),
        Some(_) => {}
        None => {
            let mut c = Controller::new("usb", 0);
            c.model = Some(model.into());
            def.devices.controllers.push(c);
        }
    }
}

/// x86 machines have a PS/2 mouse and keyboard whether listed or not.
fn ps2_inputs(def: &mut DomainDef) {
    for kind in ["mouse", "keyboard"] {
        let listed = def
            .devices
            .inputs
            .iter()
            .any(|i| i.input_type == kind && i.bus == "ps2");
        if !listed {
            def.devices.inputs.push(Input {
                input_type: kind.into(),
                bus: "ps2".into(),
                address: None,
            });
        }
    }
}

/// `qemuDomainDefAddDefaultAudioBackend`: without `<audio>`, QEMU's sound
/// and VNC get the `none` backend (`audio_driver` default of qemu.conf).
fn default_audio(def: &mut DomainDef) {
    if !def.devices.audios.is_empty() {
        return;
    }
    def.devices.audios.push(Audio {
        id: 1,
        audio_type: AudioType::None,
        timer_period: None,
        input: AudioIo::default(),
        output: AudioIo::default(),
        try_mmap: None,
        exclusive: None,
        dsp_policy: None,
        server_name: None,
        sdl_driver: None,
        path: None,
    });
}

/// Models a device gets when the XML names none (`qemuDomainDefaultNetModel`,
/// the SCSI controller default, `qemuDomainDeviceVideoDefPostParse`).
fn device_models(def: &mut DomainDef) {
    for net in &mut def.devices.interfaces {
        net.model.get_or_insert_with(|| "rtl8139".into());
    }
    for c in &mut def.devices.controllers {
        if c.controller_type == "scsi" && c.model.is_none() {
            c.model = Some("lsilogic".into());
        }
    }
    for v in &mut def.devices.videos {
        if v.model == "default" || v.model.is_empty() {
            v.model = "vga".into();
        }
    }
}
