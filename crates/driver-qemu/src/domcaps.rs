//! `virConnectGetDomainCapabilities` (virsh domcapabilities) for the QEMU
//! driver, as libvirt's `virDomainCapsFormat` lays it out: what one
//! emulator / machine / virt type can run, the device enums derived from
//! the QOM types the probe found.

use crate::caps_model::QemuCaps;
use rvirt_conf::xml::{escape, Writer};
use rvirt_util::{Error, ErrorDomain, Result};

/// What the caller asked about, completed with the defaults.
pub struct Request<'a> {
    pub machine: Option<&'a str>,
    pub arch: Option<&'a str>,
    pub virt_type: Option<&'a str>,
}

/// (value libvirt prints, QOM type that must exist) for each enum value.
type Gated = &'static [(&'static str, &'static str)];

const DISK_BUS: Gated = &[
    ("ide", "ide-hd"),
    ("fdc", "isa-fdc"),
    ("scsi", "scsi-hd"),
    ("virtio", "virtio-blk-pci"),
    ("usb", "usb-storage"),
    ("sata", "ich9-ahci"),
];
const GRAPHICS: Gated = &[
    ("vnc", "VGA"),
    ("spice", "qxl"),
    ("egl-headless", "virtio-gpu-gl-pci"),
];
const VIDEO: Gated = &[
    ("vga", "VGA"),
    ("cirrus", "cirrus-vga"),
    ("virtio", "virtio-vga"),
    ("none", "VGA"),
    ("bochs", "bochs-display"),
    ("ramfb", "ramfb"),
];
const RNG_BACKEND: Gated = &[
    ("random", "rng-random"),
    ("egd", "rng-egd"),
    ("builtin", "rng-builtin"),
];
const VIRTIO_MODELS: &[&str] = &["virtio", "virtio-transitional", "virtio-non-transitional"];

fn enum_values(w: &mut Writer, name: &str, values: &[&str]) {
    w.elem_with("enum", &format!(" name='{name}'"), |w| {
        for v in values {
            w.line(&format!("<value>{v}</value>"));
        }
    });
}

fn gated(caps: &QemuCaps, list: Gated) -> Vec<&'static str> {
    list.iter()
        .filter(|(_, ty)| caps.has_type(ty))
        .map(|(value, _)| *value)
        .collect()
}

fn invalid(msg: String) -> Error {
    Error::invalid_arg(ErrorDomain::QEMU, msg)
}

/// The document, or libvirt's refusal of an arch, machine or virt type the
/// emulator does not offer.
pub fn format(caps: &QemuCaps, req: &Request) -> Result<String> {
    let binary = caps.binary.display().to_string();
    if let Some(arch) = req.arch.filter(|a| *a != caps.arch) {
        return Err(invalid(format!(
            "architecture from emulator '{}' doesn't match given architecture '{arch}'",
            caps.arch
        )));
    }
    let virt_type = req
        .virt_type
        .unwrap_or(if caps.kvm_usable { "kvm" } else { "qemu" });
    if virt_type == "kvm" && !caps.kvm_usable {
        return Err(invalid(format!(
            "KVM is not supported by '{binary}' on this host"
        )));
    }
    if virt_type != "kvm" && virt_type != "qemu" {
        return Err(invalid(format!("unknown virttype: {virt_type}")));
    }
    let machine = match req.machine {
        Some(m) => caps.machine(m).ok_or_else(|| {
            invalid(format!(
                "the machine '{m}' is not supported by emulator '{binary}'"
            ))
        })?,
        None => caps
            .default_machine()
            .ok_or_else(|| invalid(format!("emulator '{binary}' has no default machine")))?,
    };
    let mut w = Writer::new();
    w.elem_with("domainCapabilities", "", |w| {
        w.text_elem("path", Some(&binary));
        w.text_elem("domain", Some(virt_type));
        w.text_elem("machine", Some(&machine.name));
        w.text_elem("arch", Some(&caps.arch));
        w.line(&format!("<vcpu max='{}'/>", machine.max_cpus));
        w.line("<iothreads supported='yes'/>");
        os(w);
        cpu(w, caps, virt_type);
        devices(w, caps);
        w.elem_with("features", "", |w| {
            for (name, yes) in [
                ("gic", false),
                ("vmcoreinfo", caps.has_type("vmcoreinfo")),
                ("genid", caps.has_type("vmgenid")),
                ("backingStoreInput", true),
                ("backup", true),
                ("sev", false),
                ("sgx", false),
            ] {
                w.line(&format!(
                    "<{name} supported='{}'/>",
                    if yes { "yes" } else { "no" }
                ));
            }
        });
    });
    Ok(w.finish())
}

fn os(w: &mut Writer) {
    w.elem_with("os", " supported='yes'", |w| {
        w.line("<enum name='firmware'/>");
        w.elem_with("loader", " supported='yes'", |w| {
            enum_values(w, "type", &["rom", "pflash"]);
            enum_values(w, "readonly", &["yes", "no"]);
            enum_values(w, "secure", &["no"]);
        });
    });
}

fn cpu(w: &mut Writer, caps: &QemuCaps, virt_type: &str) {
    let kvm = virt_type == "kvm";
    w.elem_with("cpu", "", |w| {
        w.line(&format!(
            "<mode name='host-passthrough' supported='{}'/>",
            if kvm { "yes" } else { "no" }
        ));
        w.elem_with("mode", " name='maximum' supported='yes'", |w| {
            enum_values(w, "maximumMigratable", &["on", "off"]);
        });
        w.line("<mode name='host-model' supported='no'/>");
        w.elem_with("mode", " name='custom' supported='yes'", |w| {
            for model in &caps.cpu_models {
                w.line(&format!(
                    "<model usable='unknown'>{}</model>",
                    escape(model)
                ));
            }
        });
    });
}

fn devices(w: &mut Writer, caps: &QemuCaps) {
    w.elem_with("devices", "", |w| {
        w.elem_with("disk", " supported='yes'", |w| {
            enum_values(w, "diskDevice", &["disk", "cdrom", "floppy", "lun"]);
            enum_values(w, "bus", &gated(caps, DISK_BUS));
            enum_values(w, "model", VIRTIO_MODELS);
        });
        w.elem_with("graphics", " supported='yes'", |w| {
            enum_values(w, "type", &gated(caps, GRAPHICS));
        });
        w.elem_with("video", " supported='yes'", |w| {
            enum_values(w, "modelType", &gated(caps, VIDEO));
        });
        w.elem_with("rng", " supported='yes'", |w| {
            enum_values(w, "model", VIRTIO_MODELS);
            enum_values(w, "backendModel", &gated(caps, RNG_BACKEND));
        });
    });
}
