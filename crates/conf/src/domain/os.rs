//! `<os>`, `<features>`, `<clock>`, the lifecycle actions and `<pm>`.

use super::props::{self, TriBool, VirEnum};
use super::{internal_xml, unsupported, xml_invalid_attr};
use crate::xml::{escape, Attrs, Element, Writer};
use rvirt_util::Result;

/// `<os>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OsDef {
    pub os_type: String,
    pub arch: Option<String>,
    pub machine: Option<String>,
    pub loader: Option<String>,
    pub kernel: Option<String>,
    pub initrd: Option<String>,
    pub cmdline: Option<String>,
    pub dtb: Option<String>,
    pub init: Option<String>,
    pub boot: Vec<String>,
    pub bootmenu: Option<String>,
}

const OS_TYPES: &[&str] = &["hvm", "xen", "linux", "exe", "uml", "xenpvh"];
const BOOT_DEVS: &[&str] = &["fd", "hd", "cdrom", "network"];
pub(crate) const ARCHES: &[&str] = &[
    "aarch64",
    "alpha",
    "armv6l",
    "armv7l",
    "armv7b",
    "cris",
    "i686",
    "ia64",
    "lm32",
    "loongarch64",
    "m68k",
    "microblaze",
    "microblazeel",
    "mips",
    "mipsel",
    "mips64",
    "mips64el",
    "openrisc",
    "parisc",
    "parisc64",
    "ppc",
    "ppcle",
    "ppc64",
    "ppc64le",
    "ppcemb",
    "riscv32",
    "riscv64",
    "s390",
    "s390x",
    "sh4",
    "sh4eb",
    "sparc",
    "sparc64",
    "unicore32",
    "x86_64",
    "xtensa",
    "xtensaeb",
];

impl OsDef {
    pub(crate) fn parse(root: &Element) -> Result<OsDef> {
        let os = root.child("os");
        let ty = os.and_then(|o| o.child("type"));
        let Some(ty) = ty else {
            return Err(internal_xml("an os <type> must be specified"));
        };
        let os = os.unwrap_or(root);
        let os_type = ty.text().trim().to_string();
        if !OS_TYPES.contains(&os_type.as_str()) {
            return Err(unsupported(format!("unknown OS type '{os_type}'")));
        }
        let arch = ty.attr_string("arch");
        if let Some(a) = &arch {
            if !ARCHES.contains(&a.as_str()) {
                return Err(unsupported(format!("Unknown architecture {a}")));
            }
        }
        let mut boot = Vec::new();
        for b in os.children_named("boot") {
            let dev = b.attr("dev").unwrap_or("");
            if b.attr("dev").is_none() {
                return Err(internal_xml("missing boot device"));
            }
            if !BOOT_DEVS.contains(&dev) {
                return Err(xml_invalid_attr("dev", "boot", dev));
            }
            boot.push(dev.to_string());
        }
        let mut def = OsDef {
            os_type,
            arch,
            machine: ty.attr_string("machine"),
            loader: os.child_text("loader"),
            kernel: os.child_text("kernel"),
            initrd: os.child_text("initrd"),
            cmdline: os.child_text("cmdline"),
            dtb: os.child_text("dtb"),
            init: os.child_text("init"),
            boot,
            bootmenu: os
                .child("bootmenu")
                .and_then(|b| b.attr("enable"))
                .map(str::to_string),
        };
        if def.os_type == "hvm" && def.boot.is_empty() {
            def.boot.push("hd".to_string());
        }
        Ok(def)
    }

    pub(crate) fn format(&self, w: &mut Writer, virt_type: &str) {
        w.line("<os>");
        w.indent();
        let mut a = Attrs::new();
        a.opt("arch", self.arch.as_deref());
        a.opt("machine", self.machine.as_deref());
        w.line(&format!(
            "<type{}>{}</type>",
            a.as_str(),
            if virt_type == "xen" && self.os_type == "xen" {
                "linux".to_string()
            } else {
                escape(&self.os_type)
            }
        ));
        w.text_elem("init", self.init.as_deref());
        if let Some(l) = &self.loader {
            w.line(&format!("<loader type='rom'>{}</loader>", escape(l)));
        }
        w.text_elem("kernel", self.kernel.as_deref());
        w.text_elem("initrd", self.initrd.as_deref());
        w.text_elem("cmdline", self.cmdline.as_deref());
        w.text_elem("dtb", self.dtb.as_deref());
        for b in &self.boot {
            w.line(&format!("<boot dev='{b}'/>"));
        }
        if let Some(m) = &self.bootmenu {
            w.line(&format!("<bootmenu enable='{}'/>", escape(m)));
        }
        w.dedent();
        w.line("</os>");
    }
}

/// One `<features>` entry: its name and attributes (children dropped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feature {
    pub name: String,
    pub attrs: Vec<(String, String)>,
}

/// libvirt's `virDomainFeature` order, which is the output order.
const FEATURES: &[&str] = &[
    "acpi",
    "apic",
    "pae",
    "hap",
    "viridian",
    "privnet",
    "hyperv",
    "kvm",
    "pvspinlock",
    "capabilities",
    "pmu",
    "vmport",
    "gic",
    "smm",
    "ioapic",
    "hpt",
    "vmcoreinfo",
    "htm",
    "nested-hv",
    "msrs",
    "ccf-assist",
    "xen",
    "cfpc",
    "sbbc",
    "ibs",
    "tcg",
];

pub(crate) fn parse_features(root: &Element) -> Result<Vec<Feature>> {
    let mut out: Vec<Feature> = Vec::new();
    if let Some(f) = root.child("features") {
        for e in f.elements() {
            if !FEATURES.contains(&e.name.as_str()) {
                return Err(unsupported(format!("unexpected feature '{}'", e.name)));
            }
            if out.iter().any(|x| x.name == e.name) {
                continue;
            }
            out.push(Feature {
                name: e.name.clone(),
                attrs: e.attrs.clone(),
            });
        }
    }
    out.sort_by_key(|f| FEATURES.iter().position(|n| *n == f.name));
    Ok(out)
}

pub(crate) fn format_features(features: &[Feature], w: &mut Writer) {
    if features.is_empty() {
        return;
    }
    w.line("<features>");
    w.indent();
    for f in features {
        let mut a = Attrs::new();
        for (k, v) in &f.attrs {
            a.add(k, v);
        }
        w.line(&format!("<{}{}/>", f.name, a.as_str()));
    }
    w.dedent();
    w.line("</features>");
}

/// `<clock>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockDef {
    pub offset: String,
    pub adjustment: Option<String>,
    pub basis: Option<String>,
    pub timezone: Option<String>,
    pub timers: Vec<Timer>,
}

impl Default for ClockDef {
    fn default() -> ClockDef {
        ClockDef {
            offset: "utc".into(),
            adjustment: None,
            basis: None,
            timezone: None,
            timers: Vec::new(),
        }
    }
}

/// `<timer>` inside `<clock>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timer {
    pub name: String,
    pub present: Option<String>,
    pub tickpolicy: Option<String>,
    pub track: Option<String>,
    pub frequency: Option<String>,
    pub mode: Option<String>,
}

const OFFSETS: &[&str] = &["utc", "localtime", "variable", "timezone", "absolute"];

impl ClockDef {
    pub(crate) fn parse(root: &Element) -> Result<ClockDef> {
        let Some(c) = root.child("clock") else {
            return Ok(ClockDef::default());
        };
        let offset = c.attr("offset").unwrap_or("utc").to_string();
        if !OFFSETS.contains(&offset.as_str()) {
            return Err(unsupported(format!("unknown clock offset '{offset}'")));
        }
        let mut def = ClockDef {
            offset,
            adjustment: c.attr_string("adjustment"),
            basis: None,
            timezone: None,
            timers: Vec::new(),
        };
        match def.offset.as_str() {
            "variable" => {
                def.adjustment = Some(def.adjustment.unwrap_or_else(|| "0".into()));
                def.basis = Some(c.attr("basis").unwrap_or("utc").to_string());
            }
            "timezone" => def.timezone = c.attr_string("timezone"),
            _ => {}
        }
        for t in c.children_named("timer") {
            def.timers.push(Timer {
                name: t.attr("name").unwrap_or("").to_string(),
                present: t.attr_string("present"),
                tickpolicy: t.attr_string("tickpolicy"),
                track: t.attr_string("track"),
                frequency: t.attr_string("frequency"),
                mode: t.attr_string("mode"),
            });
        }
        Ok(def)
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("offset", &self.offset);
        a.opt("adjustment", self.adjustment.as_deref());
        a.opt("basis", self.basis.as_deref());
        a.opt("timezone", self.timezone.as_deref());
        w.elem_with("clock", a.as_str(), |w| {
            for t in &self.timers {
                let mut a = Attrs::new();
                a.add("name", &t.name);
                a.opt("present", t.present.as_deref());
                a.opt("tickpolicy", t.tickpolicy.as_deref());
                a.opt("track", t.track.as_deref());
                a.opt("frequency", t.frequency.as_deref());
                a.opt("mode", t.mode.as_deref());
                w.line(&format!("<timer{}/>", a.as_str()));
            }
        });
    }
}

const ACTIONS: &[&str] = &["destroy", "restart", "preserve", "rename-restart"];
const CRASH_ACTIONS: &[&str] = &[
    "destroy",
    "restart",
    "preserve",
    "rename-restart",
    "coredump-destroy",
    "coredump-restart",
];

/// `<on_poweroff>` etc.: the value or the default, checked.
pub(crate) fn parse_action(root: &Element, name: &str, default: &str) -> Result<String> {
    let Some(v) = root.child_text(name) else {
        return Ok(default.to_string());
    };
    let allowed = if name == "on_crash" {
        CRASH_ACTIONS
    } else {
        ACTIONS
    };
    if !allowed.contains(&v.as_str()) {
        return Err(unsupported(format!("unknown {name} action: {v}")));
    }
    Ok(v)
}

/// `<pm>`: whether the guest may suspend to memory (S3) or disk (S4);
/// `None` leaves it to the hypervisor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pm {
    pub suspend_to_mem: Option<TriBool>,
    pub suspend_to_disk: Option<TriBool>,
}

impl Pm {
    /// `virDomainPMStateParseXML` for both states (only the first of each).
    pub(crate) fn parse(root: &Element) -> Result<Pm> {
        let state = |name: &str| -> Result<Option<TriBool>> {
            match root.child("pm").and_then(|pm| pm.child(name)) {
                Some(e) => props::tribool(e, "enabled"),
                None => Ok(None),
            }
        };
        Ok(Pm {
            suspend_to_mem: state("suspend-to-mem")?,
            suspend_to_disk: state("suspend-to-disk")?,
        })
    }

    /// Written only when a state is set, after the lifecycle actions.
    pub(crate) fn format(&self, w: &mut Writer) {
        if self.suspend_to_mem.is_none() && self.suspend_to_disk.is_none() {
            return;
        }
        w.line("<pm>");
        w.indent();
        for (name, v) in [
            ("suspend-to-mem", self.suspend_to_mem),
            ("suspend-to-disk", self.suspend_to_disk),
        ] {
            if let Some(v) = v {
                w.line(&format!("<{name} enabled='{}'/>", v.as_str()));
            }
        }
        w.dedent();
        w.line("</pm>");
    }
}
