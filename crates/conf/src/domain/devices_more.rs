//! Input (`virDomainInputDefParseXML` / `...Format`) and the memory
//! balloon (`virDomainMemballoonDefParseXML` / `...Format`).

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::os::OsDef;
use super::props::{self, vir_enum, TriSwitch, VirEnum};
use super::virtio::VirtioOptions;
use super::{internal, internal_xml, sanitize_path};
use crate::xml::{escape, Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainInputType`.
    pub enum InputType { Mouse = "mouse", Tablet = "tablet", Keyboard = "keyboard",
        Passthrough = "passthrough", Evdev = "evdev" }

    /// `virDomainInputBus`.
    pub enum InputBus { Ps2 = "ps2", Usb = "usb", Xen = "xen", Parallels = "parallels",
        Virtio = "virtio", None = "none" }

    /// `virDomainMemballoonModel`.
    pub enum MemballoonModel { Virtio = "virtio", Xen = "xen", None = "none",
        VirtioTransitional = "virtio-transitional",
        VirtioNonTransitional = "virtio-non-transitional" }

    /// `virDomainInputModel` without its unset `default`.
    pub enum InputModel { Virtio = "virtio", VirtioTransitional = "virtio-transitional",
        VirtioNonTransitional = "virtio-non-transitional" }

    /// `virDomainInputSourceGrab` without its unset `default`.
    pub enum InputGrab { All = "all" }

    /// `virDomainInputSourceGrabToggle` without its unset `default`.
    pub enum InputGrabToggle { CtrlCtrl = "ctrl-ctrl", AltAlt = "alt-alt",
        ShiftShift = "shift-shift", MetaMeta = "meta-meta", ScrollLock = "scrolllock" }
}

/// `<input><source>`: the host event device and, for `evdev`, how it is
/// grabbed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputSource {
    pub evdev: Option<String>,
    pub grab: Option<InputGrab>,
    pub grab_toggle: Option<InputGrabToggle>,
    pub repeat: Option<TriSwitch>,
}

/// `<input>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub input_type: InputType,
    /// `none` is not formatted.
    pub bus: InputBus,
    pub model: Option<InputModel>,
    pub source: InputSource,
    pub virtio: VirtioOptions,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

/// The bus an input without `bus=` is on.
fn default_input_bus(t: InputType, os: &OsDef) -> InputBus {
    let arch = os.arch.map_or("x86_64", VirEnum::as_str);
    match os.os_type.as_str() {
        "hvm" => {
            let x86 = matches!(arch, "i686" | "x86_64");
            if matches!(t, InputType::Mouse | InputType::Keyboard) && x86 {
                InputBus::Ps2
            } else if arch.starts_with("s390") || t == InputType::Passthrough {
                InputBus::Virtio
            } else if t == InputType::Evdev {
                InputBus::None
            } else {
                InputBus::Usb
            }
        }
        "xen" | "xenpvh" => InputBus::Xen,
        _ => InputBus::Ps2,
    }
}

fn parse_input_source(e: &Element, t: InputType) -> Result<InputSource> {
    let Some(s) = e.child("source") else {
        return Ok(InputSource::default());
    };
    let evdev = match t {
        InputType::Passthrough => s.attr("evdev"),
        InputType::Evdev => s.attr("dev"),
        _ => None,
    };
    let mut source = InputSource {
        evdev: evdev.map(sanitize_path),
        ..InputSource::default()
    };
    if matches!(t, InputType::Passthrough | InputType::Evdev) && source.evdev.is_none() {
        return Err(internal_xml("Missing evdev path for input device"));
    }
    if t == InputType::Evdev {
        source.grab = props::enumeration(s, "grab", false)?;
        source.grab_toggle = props::enumeration(s, "grabToggle", false)?;
        source.repeat = props::triswitch(s, "repeat")?;
    }
    Ok(source)
}

impl Input {
    /// An input with nothing but its type and bus.
    pub fn new(input_type: InputType, bus: InputBus) -> Input {
        Input {
            input_type,
            bus,
            model: None,
            source: InputSource::default(),
            virtio: VirtioOptions::default(),
            info: DeviceInfo::default(),
            address: None,
        }
    }

    pub(crate) fn parse(e: &Element, os: &OsDef) -> Result<Input> {
        let Some(t) = e.attr("type") else {
            return Err(internal("missing input device type"));
        };
        let t = InputType::parse_named(t, "input device type")?;
        let model = match e.attr("model") {
            Some(m) => Some(InputModel::parse_named(m, "input model")?),
            None => None,
        };
        let bus = match e.attr("bus") {
            Some(b) => InputBus::parse_named(b, "input bus type")?,
            None => default_input_bus(t, os),
        };
        Ok(Input {
            input_type: t,
            bus,
            model,
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
            source: parse_input_source(e, t)?,
            virtio: VirtioOptions::parse(e.child("driver"))?,
        })
    }

    fn format_source(&self, w: &mut Writer) {
        let s = &self.source;
        let mut a = Attrs::new();
        let dev = if self.input_type == InputType::Evdev {
            "dev"
        } else {
            "evdev"
        };
        a.opt(dev, s.evdev.as_deref().map(escape));
        a.opt("grab", s.grab.map(VirEnum::as_str));
        a.opt("grabToggle", s.grab_toggle.map(VirEnum::as_str));
        a.opt("repeat", s.repeat.map(VirEnum::as_str));
        w.attrs_elem("source", a.as_str());
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = format!(" type='{}'", self.input_type.as_str());
        if self.bus != InputBus::None {
            a.push_str(&format!(" bus='{}'", self.bus.as_str()));
        }
        if let Some(m) = self.model {
            a.push_str(&format!(" model='{}'", m.as_str()));
        }
        w.elem_with("input", &a, |w| {
            self.virtio.format_driver(w);
            self.format_source(w);
            format_info_addr(&self.info, &self.address, w)
        });
    }
}

/// `<memballoon>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Memballoon {
    pub model: MemballoonModel,
    pub autodeflate: Option<TriSwitch>,
    pub free_page_reporting: Option<TriSwitch>,
    /// `<stats period>` in seconds; 0 is none.
    pub period: i32,
    pub virtio: VirtioOptions,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

impl Memballoon {
    /// A balloon with nothing but its model.
    pub fn new(model: MemballoonModel) -> Memballoon {
        Memballoon {
            model,
            autodeflate: None,
            free_page_reporting: None,
            period: 0,
            virtio: VirtioOptions::default(),
            info: DeviceInfo::default(),
            address: None,
        }
    }

    pub(crate) fn parse(e: &Element) -> Result<Memballoon> {
        let Some(m) = props::enumeration(e, "model", true)? else {
            return Err(props::missing(e, "model"));
        };
        let period = match e.child("stats") {
            Some(s) => props::int_base0(s, "period")?.unwrap_or(0).max(0),
            None => 0,
        };
        // A model `none` balloon has no device info at all.
        let none = m == MemballoonModel::None;
        Ok(Memballoon {
            model: m,
            autodeflate: props::triswitch(e, "autodeflate")?,
            free_page_reporting: props::triswitch(e, "freePageReporting")?,
            period,
            info: if none {
                DeviceInfo::default()
            } else {
                DeviceInfo::parse(e)?
            },
            address: if none { None } else { parse_addr(e)? },
            virtio: VirtioOptions::parse(e.child("driver"))?,
        })
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("model", self.model.as_str());
        a.opt("autodeflate", self.autodeflate.map(VirEnum::as_str));
        a.opt(
            "freePageReporting",
            self.free_page_reporting.map(VirEnum::as_str),
        );
        w.elem_with("memballoon", a.as_str(), |w| {
            if self.period != 0 {
                w.line(&format!("<stats period='{}'/>", self.period));
            }
            format_info_addr(&self.info, &self.address, w);
            self.virtio.format_driver(w);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_devices as dump};

    /// User aliases of inputs and the pSeries NVRAM, a malformed one
    /// dropped, duplicates refused in libvirt's device order: as stock
    /// virsh 9.0 on test:///default.
    #[test]
    fn user_aliases_as_virsh() {
        let doc = "<input type='tablet' bus='usb'><alias name='ua-in'/><address type='usb' bus='0' port='1'/></input>\
            <input type='mouse' bus='ps2'><alias name='bad alias'/></input>\
            <nvram><alias name='ua-nv'/><address type='spapr-vio' reg='0x3000'/></nvram>";
        let want = "    <input type='tablet' bus='usb'>
      <alias name='ua-in'/>
      <address type='usb' bus='0' port='1'/>
    </input>
    <input type='mouse' bus='ps2'/>
    <nvram>
      <alias name='ua-nv'/>
      <address type='spapr-vio' reg='0x00003000'/>
    </nvram>
";
        assert_dump_holds(dump, doc, want);
        let dup = "unsupported configuration: non unique alias detected: ua-x";
        assert_errors(
            dump,
            &[
                ("<nvram><alias name='ua-x'/></nvram><input type='tablet' bus='usb'><alias name='ua-x'/></input>", dup),
                ("<interface type='user'><alias name='ua-x'/></interface><disk type='file'><source file='/x'/><target dev='vda'/><alias name='ua-x'/></disk>", dup),
            ],
        );
    }

    /// User aliases of the other devices libvirt keeps them on, each
    /// written where its device info goes (the console standing for serial
    /// port 0 with the port's); a duplicate anywhere is refused.
    #[test]
    fn more_user_aliases_as_virsh() {
        let doc = "<watchdog model='i6300esb'><alias name='ua-wd'/></watchdog>\
            <rng model='virtio'><backend model='random'/><alias name='ua-rng'/></rng>\
            <memballoon model='virtio'><alias name='ua-mb'/></memballoon>\
            <sound model='ich9'><alias name='ua-snd'/></sound>\
            <hub type='usb'><alias name='ua-hub'/></hub>\
            <panic model='isa'><alias name='ua-p'/></panic>\
            <shmem name='s'><alias name='ua-shm'/></shmem>\
            <tpm model='tpm-tis'><backend type='emulator'/><alias name='ua-tpm'/></tpm>\
            <vsock model='virtio'><cid auto='yes'/><alias name='ua-vs'/></vsock>";
        let want = "    <tpm model='tpm-tis'>
      <backend type='emulator'/>
      <alias name='ua-tpm'/>
    </tpm>
    <sound model='ich9'>
      <alias name='ua-snd'/>
    </sound>
    <hub type='usb'>
      <alias name='ua-hub'/>
    </hub>
    <watchdog model='i6300esb' action='reset'>
      <alias name='ua-wd'/>
    </watchdog>
    <memballoon model='virtio'>
      <alias name='ua-mb'/>
    </memballoon>
    <rng model='virtio'>
      <backend model='random'>/dev/random</backend>
      <alias name='ua-rng'/>
    </rng>
    <panic model='isa'>
      <alias name='ua-p'/>
    </panic>
    <shmem name='s'>
      <model type='ivshmem'/>
      <alias name='ua-shm'/>
    </shmem>
    <vsock model='virtio'>
      <cid auto='yes'/>
      <alias name='ua-vs'/>
    </vsock>
";
        assert_dump_holds(dump, doc, want);
        let chr = "<serial type='pty'><alias name='ua-s'/></serial><console type='pty'><alias name='ua-c'/></console>\
            <channel type='pty'><target type='virtio' name='x'/><alias name='ua-ch'/></channel>";
        let want = "    <serial type='pty'>
      <target port='0'/>
      <alias name='ua-s'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
      <alias name='ua-s'/>
    </console>
    <channel type='pty'>
      <target type='virtio' name='x'/>
      <alias name='ua-ch'/>
    </channel>
";
        assert_dump_holds(dump, chr, want);
        // Serial port 0 behind the first console is not checked (libvirt's
        // console backcompat): a channel may take its alias.
        let shared = "<serial type='pty'><alias name='ua-s'/></serial>\
            <channel type='pty'><target type='virtio' name='x'/><alias name='ua-s'/></channel>";
        assert!(dump(shared).is_ok());
        let none = dump("<memballoon model='none'><alias name='ua-mb'/></memballoon>").unwrap();
        assert!(none.contains("    <memballoon model='none'/>\n"), "{none}");
        assert_errors(
            dump,
            &[
                ("<watchdog model='ib700'><alias name='ua-x'/></watchdog><rng model='virtio'><backend model='random'/><alias name='ua-x'/></rng>", "unsupported configuration: non unique alias detected: ua-x"),
                ("<parallel type='pty'><alias name='ua-s'/></parallel><channel type='pty'><target type='virtio' name='x'/><alias name='ua-s'/></channel>", "unsupported configuration: non unique alias detected: ua-s"),
                ("<parallel type='pty'><alias name='ua-p'/></parallel><console type='pty'><target type='virtio'/><alias name='ua-p'/></console>", "unsupported configuration: non unique alias detected: ua-p"),
            ],
        );
    }

    /// `<crypto>` came with libvirt 9.1: 9.0 (and rvirt) ignore it as an
    /// unknown element.
    #[test]
    fn crypto_is_ignored_as_in_libvirt_9_0() {
        let out = dump(
            "<crypto model='virtio' type='qemu'><backend model='builtin' queues='1'/></crypto>",
        )
        .unwrap();
        assert!(out.contains("  <devices>\n  </devices>\n"), "{out}");
    }
}
