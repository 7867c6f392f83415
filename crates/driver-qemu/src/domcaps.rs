//! `virConnectGetDomainCapabilities` (virsh domcapabilities) for the QEMU
//! driver, as libvirt's `virDomainCapsFormat` lays it out: what one
//! emulator / machine / virt type can run, the device enums derived from
//! the QOM types the probe found.

use crate::caps_model::{host_arch, same_arch_family, QemuCaps};
use rvirt_conf::domain::props::VirEnum;
use rvirt_conf::domain::{Arch, VirtType};
use rvirt_conf::xml::{escape, Writer};
use rvirt_util::{Error, ErrorDomain, Result};

/// What the caller asked about; `None` takes the default.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Request<'a> {
    pub machine: Option<&'a str>,
    pub arch: Option<Arch>,
    pub virt_type: Option<VirtType>,
}

impl<'a> Request<'a> {
    /// `virQEMUCapsCacheLookupDefault`'s checks of the names, made before
    /// any emulator is looked up: the virt type first, then the arch.
    pub fn parse(
        arch: Option<&str>,
        machine: Option<&'a str>,
        virt_type: Option<&str>,
    ) -> Result<Request<'a>> {
        let virt_type = match virt_type {
            None => None,
            Some(v) => Some(
                VirtType::from_str_opt(v)
                    .ok_or_else(|| invalid(format!("unknown virttype: {v}")))?,
            ),
        };
        let arch = match arch {
            None => None,
            Some(a) => Some(
                Arch::from_str_opt(a)
                    .ok_or_else(|| invalid(format!("unknown architecture: {a}")))?,
            ),
        };
        Ok(Request {
            machine,
            arch,
            virt_type,
        })
    }
}

/// `virQEMUCapsAccelStr`.
fn accel_name(virt_type: VirtType) -> &'static str {
    match virt_type {
        VirtType::Kvm => "kvm",
        VirtType::Hvf => "hvf",
        _ => "tcg",
    }
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
    let arch = req.arch.or_else(host_arch);
    let arch = match arch {
        Some(a) if same_arch_family(a, caps.arch) => a,
        other => {
            return Err(invalid(format!(
                "architecture from emulator '{}' doesn't match given architecture '{}'",
                caps.arch,
                other.map_or("none", VirEnum::as_str)
            )))
        }
    };
    // The emulator's own type: kvm where KVM proved usable.
    let caps_type = if caps.kvm_usable {
        VirtType::Kvm
    } else {
        VirtType::Qemu
    };
    let virt_type = req.virt_type.unwrap_or(caps_type);
    if virt_type != VirtType::Qemu && caps_type == VirtType::Qemu {
        return Err(invalid(format!(
            "the accel '{}' is not supported by '{binary}' on this host",
            accel_name(virt_type)
        )));
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
        w.text_elem("domain", Some(virt_type.as_str()));
        w.text_elem("machine", Some(&machine.name));
        w.text_elem("arch", Some(arch.as_str()));
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

fn cpu(w: &mut Writer, caps: &QemuCaps, virt_type: VirtType) {
    // Host passthrough needs an accelerator (`virQEMUCapsIsCPUModeSupported`).
    let kvm = virt_type != VirtType::Qemu;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::test_caps::qemu_7_2;

    fn error(r: Result<impl std::fmt::Debug>) -> String {
        r.unwrap_err().to_string()
    }

    /// libvirt's texts for names it does not know, checked before the
    /// emulator: the virt type first.
    #[test]
    fn unknown_names_are_refused_as_libvirt_does() {
        assert_eq!(
            error(Request::parse(Some("vax"), None, Some("bogus"))),
            "invalid argument: unknown virttype: bogus"
        );
        assert_eq!(
            error(Request::parse(Some("vax"), None, Some("kvm"))),
            "invalid argument: unknown architecture: vax"
        );
        let req = Request::parse(Some("i686"), Some("pc"), Some("qemu")).unwrap();
        assert_eq!(req.arch, Some(Arch::I686));
        assert_eq!(req.virt_type, Some(VirtType::Qemu));
    }

    /// Without usable KVM, any accelerated type is refused with the
    /// accelerator's name; the default is then qemu.
    #[test]
    fn accel_without_kvm_is_refused() {
        let caps = QemuCaps {
            kvm_usable: false,
            ..qemu_7_2()
        };
        let ask = |v: VirtType| {
            let req = Request {
                virt_type: Some(v),
                arch: Some(Arch::X86_64),
                ..Request::default()
            };
            format(&caps, &req)
        };
        assert_eq!(
            error(ask(VirtType::Kvm)),
            "invalid argument: the accel 'kvm' is not supported by \
             '/usr/bin/qemu-system-x86_64' on this host"
        );
        assert!(error(ask(VirtType::Xen)).contains("the accel 'tcg' is not supported"));
        let doc = format(
            &caps,
            &Request {
                arch: Some(Arch::X86_64),
                ..Request::default()
            },
        )
        .unwrap();
        assert!(doc.contains("<domain>qemu</domain>"), "{doc}");
        assert!(doc.contains("<mode name='host-passthrough' supported='no'/>"));
    }

    /// The arch printed is the one asked for, when the emulator's is of its
    /// family; another family is refused.
    #[test]
    fn arch_of_the_same_family_is_served() {
        let caps = qemu_7_2();
        let req = Request {
            arch: Some(Arch::I686),
            ..Request::default()
        };
        let doc = format(&caps, &req).unwrap();
        assert!(doc.contains("<arch>i686</arch>") && doc.contains("<domain>kvm</domain>"));
        let req = Request {
            arch: Some(Arch::Aarch64),
            ..Request::default()
        };
        assert_eq!(
            error(format(&caps, &req)),
            "invalid argument: architecture from emulator 'x86_64' doesn't match \
             given architecture 'aarch64'"
        );
    }
}
