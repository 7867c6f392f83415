//! `<os>`, the lifecycle actions and `<pm>`.

use super::os_loader::{self, FirmwareSelection, Loader};
use super::props::{self, vir_enum, TriBool, VirEnum};
use super::{internal_xml, unsupported, FormatOptions, VirtType};
use crate::xml::{escape, Attrs, Element, Writer};
use rvirt_util::Result;

/// `<os>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OsDef {
    pub os_type: OsType,
    /// `<bootloader>` (a host program, for Xen and bhyve); with it, no
    /// boot devices are written.
    pub bootloader: Option<String>,
    /// `<bootloader_args>`, written only with a bootloader.
    pub bootloader_args: Option<String>,
    /// `None`: the driver fills in its default.
    pub arch: Option<Arch>,
    pub machine: Option<String>,
    pub firmware: FirmwareSelection,
    pub loader: Option<Loader>,
    pub kernel: Option<String>,
    pub initrd: Option<String>,
    pub cmdline: Option<String>,
    pub dtb: Option<String>,
    pub root: Option<String>,
    /// `exe` guests: the init program, its arguments and environment.
    pub init: Option<String>,
    pub initargs: Vec<String>,
    pub initenv: Vec<(String, String)>,
    pub initdir: Option<String>,
    pub inituser: Option<String>,
    pub initgroup: Option<String>,
    /// `<acpi><table type='slic'>`.
    pub slic_table: Option<String>,
    pub boot: Vec<BootDev>,
    pub bootmenu: Option<TriBool>,
    /// `<bootmenu timeout>` (ms), only read with the menu enabled.
    pub bootmenu_timeout: Option<u32>,
    /// `<bios useserial>`.
    pub bios_useserial: Option<TriBool>,
    /// `<bios rebootTimeout>` (ms).
    pub bios_reboot_timeout: Option<i32>,
    pub smbios: Option<SmbiosMode>,
}

vir_enum! {
    /// `virDomainSmbiosMode` (its `none` is written too when given).
    pub enum SmbiosMode { None = "none", Emulate = "emulate", Host = "host", Sysinfo = "sysinfo" }
}

vir_enum! {
    /// `virDomainBootOrder`: a device class `<os><boot dev>` names.
    pub enum BootDev { Fd = "fd", Cdrom = "cdrom", Hd = "hd", Network = "network" }

    /// `virDomainOSType`: the kind of guest `<os><type>` names.
    pub enum OsType {
        Hvm = "hvm", Xen = "xen", Linux = "linux", Exe = "exe", Uml = "uml",
        XenPvh = "xenpvh",
    }

    /// `virArch` without its "none" (which `virArchFromString` never
    /// yields): the architectures libvirt 9.0 names in XML.
    pub enum Arch {
        Alpha = "alpha", Armv6l = "armv6l", Armv7l = "armv7l", Armv7b = "armv7b",
        Aarch64 = "aarch64", Cris = "cris", I686 = "i686", Ia64 = "ia64",
        Lm32 = "lm32", M68k = "m68k", Microblaze = "microblaze",
        Microblazeel = "microblazeel", Mips = "mips", Mipsel = "mipsel",
        Mips64 = "mips64", Mips64el = "mips64el", Openrisc = "openrisc",
        Parisc = "parisc", Parisc64 = "parisc64", Ppc = "ppc", Ppcle = "ppcle",
        Ppc64 = "ppc64", Ppc64le = "ppc64le", Ppcemb = "ppcemb",
        Riscv32 = "riscv32", Riscv64 = "riscv64", S390 = "s390", S390x = "s390x",
        Sh4 = "sh4", Sh4eb = "sh4eb", Sparc = "sparc", Sparc64 = "sparc64",
        Unicore32 = "unicore32", X86_64 = "x86_64", Xtensa = "xtensa",
        Xtensaeb = "xtensaeb",
    }

    /// `virDomainLifecycleAction`: what `<on_poweroff>`, `<on_reboot>` and
    /// `<on_crash>` do.
    pub enum LifecycleAction {
        Destroy = "destroy", Restart = "restart", RenameRestart = "rename-restart",
        Preserve = "preserve", CoredumpDestroy = "coredump-destroy",
        CoredumpRestart = "coredump-restart",
    }
}

/// `VIR_DOMAIN_OSTYPE_HVM` is the enum's zero, a fresh definition's type.
impl Default for OsType {
    fn default() -> Self {
        OsType::Hvm
    }
}

impl Arch {
    /// `ARCH_IS_PPC64`.
    pub fn is_ppc64(self) -> bool {
        matches!(self, Arch::Ppc64 | Arch::Ppc64le)
    }
}

/// `virXPathString` of `./NAME[1]`: an empty text is no value.
fn text(os: &Element, name: &str) -> Option<String> {
    os.child_text(name).filter(|t| !t.is_empty())
}

impl OsDef {
    pub(crate) fn parse(root: &Element, virt_type: VirtType) -> Result<OsDef> {
        let bootloader = root.child_text("bootloader").filter(|b| !b.is_empty());
        let bootloader_args = root.child_text("bootloader_args").filter(|b| !b.is_empty());
        let os = root.child("os");
        let ty = os.and_then(|o| o.child("type"));
        // virXPathString: an empty <type> is none; a bootloader makes it xen.
        let type_name = ty.map(|t| t.text()).filter(|t| !t.is_empty());
        let mut os_type = match (type_name, &bootloader) {
            (Some(t), _) => OsType::parse_named(t.trim(), "OS type")?,
            (None, Some(_)) => OsType::Xen,
            (None, None) => return Err(internal_xml("an os <type> must be specified")),
        };
        let os = os.unwrap_or(root);
        // Xen's paravirt guests were once 'linux'; capabilities say 'xen'.
        if os_type == OsType::Linux && virt_type == VirtType::Xen {
            os_type = OsType::Xen;
        }
        let arch = match ty.and_then(|t| t.attr("arch")) {
            None => None,
            Some(a) => Some(
                Arch::from_str_opt(a)
                    .ok_or_else(|| unsupported(format!("Unknown architecture {a}")))?,
            ),
        };
        let mut def = OsDef {
            os_type,
            bootloader,
            bootloader_args,
            arch,
            machine: ty.and_then(|t| t.attr_string("machine")),
            ..OsDef::default()
        };
        // virDomainDefParseBootOptions: what each OS type reads.
        match def.os_type {
            OsType::Hvm => {
                def.parse_kernel(os);
                def.firmware = FirmwareSelection::parse(os)?;
                def.loader = Loader::parse(os)?;
                def.slic_table = parse_acpi(os)?;
                def.parse_boot(os)?;
            }
            OsType::Xen | OsType::XenPvh | OsType::Uml => {
                def.parse_kernel(os);
                def.loader = Loader::parse(os)?;
            }
            OsType::Exe => def.parse_init(os)?,
            OsType::Linux => {}
        }
        if let Some(m) = os.child("smbios").and_then(|s| s.attr("mode")) {
            let mode = SmbiosMode::parse_named(m, "smbios mode")?;
            def.smbios = Some(mode);
        }
        // An HVM guest without boot devices gets `hd` once the devices'
        // boot orders are known (boot::post_parse).
        def.firmware.post_parse()?;
        def.validate()?;
        Ok(def)
    }

    fn parse_kernel(&mut self, os: &Element) {
        self.kernel = text(os, "kernel");
        self.initrd = text(os, "initrd");
        self.cmdline = text(os, "cmdline");
        self.dtb = text(os, "dtb");
        self.root = text(os, "root");
    }

    /// `virDomainDefParseBootInitOptions`.
    fn parse_init(&mut self, os: &Element) -> Result<()> {
        self.init = text(os, "init");
        self.cmdline = text(os, "cmdline");
        self.initdir = text(os, "initdir");
        self.inituser = text(os, "inituser");
        self.initgroup = text(os, "initgroup");
        for a in os.children_named("initarg") {
            let v = Some(a.text()).filter(|t| !t.is_empty());
            let v = v.ok_or_else(|| internal_xml("No data supplied for <initarg> element"))?;
            self.initargs.push(v);
        }
        for e in os.children_named("initenv") {
            let Some(name) = e.attr_string("name") else {
                return Err(internal_xml("No name supplied for <initenv> element"));
            };
            let value = e.text();
            if value.is_empty() {
                return Err(internal_xml(format!(
                    "No value supplied for <initenv name='{name}'> element"
                )));
            }
            self.initenv.push((name, value));
        }
        Ok(())
    }

    /// `virDomainDefParseBootXML`: boot devices, the menu and BIOS options.
    fn parse_boot(&mut self, os: &Element) -> Result<()> {
        for b in os.children_named("boot").take(BootDev::NAMES.len()) {
            let dev: Option<BootDev> = props::enumeration(b, "dev", true)?;
            self.boot.extend(dev);
        }
        if let Some(m) = os.child("bootmenu") {
            self.bootmenu = props::tribool(m, "enable")?;
            if self.bootmenu == Some(TriBool::Yes) {
                self.bootmenu_timeout = props::uint(m, "timeout", false, false)?;
            }
        }
        if let Some(b) = os.child("bios") {
            // An invalid useserial is taken as 'no'.
            self.bios_useserial = props::tribool(b, "useserial").unwrap_or(Some(TriBool::No));
            self.bios_reboot_timeout = props::int(b, "rebootTimeout")?;
        }
        Ok(())
    }

    /// `virDomainDefBootValidate` and `virDomainDefOSValidate`.
    fn validate(&self) -> Result<()> {
        if self.bootmenu_timeout.is_some_and(|t| t > 65535) {
            return Err(unsupported(
                "invalid value for boot menu timeout, must be in range [0,65535]",
            ));
        }
        if self
            .bios_reboot_timeout
            .is_some_and(|t| !(-1..=65535).contains(&t))
        {
            return Err(unsupported(
                "invalid value for rebootTimeout, must be in range [-1,65535]",
            ));
        }
        os_loader::validate(&self.firmware, self.loader.as_ref())
    }

    pub(crate) fn format(&self, w: &mut Writer, virt_type: VirtType, opts: &FormatOptions) {
        if let Some(b) = &self.bootloader {
            w.text_elem("bootloader", Some(b));
            w.text_elem("bootloader_args", self.bootloader_args.as_deref());
        }
        let fw = self
            .firmware
            .firmware
            .map(|f| format!(" firmware='{}'", f.as_str()));
        w.block("os", &fw.unwrap_or_default(), |w| {
            let mut a = Attrs::new();
            a.opt("arch", self.arch.map(Arch::as_str));
            a.opt("machine", self.machine.as_deref());
            let os_type = if virt_type == VirtType::Xen && self.os_type == OsType::Xen {
                OsType::Linux
            } else {
                self.os_type
            };
            w.line(&format!("<type{}>{os_type}</type>", a.as_str()));
            self.firmware.format_features(w);
            w.text_elem("init", self.init.as_deref());
            for arg in &self.initargs {
                w.text_elem("initarg", Some(arg));
            }
            for (name, value) in &self.initenv {
                w.line(&format!("<initenv name='{name}'>{value}</initenv>"));
            }
            w.text_elem("initdir", self.initdir.as_deref());
            if let Some(u) = &self.inituser {
                w.line(&format!("<inituser>{u}</inituser>"));
            }
            if let Some(g) = &self.initgroup {
                w.line(&format!("<initgroup>{g}</initgroup>"));
            }
            if let Some(l) = &self.loader {
                l.format(w, opts);
            }
            w.text_elem("kernel", self.kernel.as_deref());
            w.text_elem("initrd", self.initrd.as_deref());
            w.text_elem("cmdline", self.cmdline.as_deref());
            w.text_elem("dtb", self.dtb.as_deref());
            w.text_elem("root", self.root.as_deref());
            if let Some(t) = &self.slic_table {
                w.elem_with("acpi", "", |w| {
                    w.line(&format!("<table type='slic'>{}</table>", escape(t)))
                });
            }
            if self.bootloader.is_none() {
                self.format_boot(w);
            }
            if let Some(m) = self.smbios {
                w.line(&format!("<smbios mode='{}'/>", m.as_str()));
            }
        });
    }

    fn format_boot(&self, w: &mut Writer) {
        for b in &self.boot {
            w.line(&format!("<boot dev='{b}'/>"));
        }
        if let Some(m) = self.bootmenu {
            let mut a = Attrs::new();
            a.add("enable", m.as_str());
            a.opt("timeout", self.bootmenu_timeout);
            w.line(&format!("<bootmenu{}/>", a.as_str()));
        }
        if self.bios_useserial.is_some() || self.bios_reboot_timeout.is_some() {
            let mut a = Attrs::new();
            a.opt("useserial", self.bios_useserial.map(TriBool::as_str));
            a.opt("rebootTimeout", self.bios_reboot_timeout);
            w.line(&format!("<bios{}/>", a.as_str()));
        }
    }
}

/// `virDomainDefParseBootAcpiOptions`: at most one table, of type `slic`.
fn parse_acpi(os: &Element) -> Result<Option<String>> {
    let mut tables = os.grandchildren("acpi", "table");
    let Some(t) = tables.next() else {
        return Ok(None);
    };
    if tables.next().is_some() {
        return Err(internal_xml("Only one acpi table is supported"));
    }
    match t.attr("type") {
        None => Err(internal_xml("Missing acpi table type")),
        Some("slic") => Ok(Some(super::sanitize_path(&t.text()))),
        Some(other) => Err(internal_xml(format!("Unknown acpi table type: {other}"))),
    }
}

/// `virDomainEventActionParseXML` of `<on_poweroff>` etc.: the value or
/// the default.
pub(crate) fn parse_action(
    root: &Element,
    name: &str,
    default: LifecycleAction,
) -> Result<LifecycleAction> {
    match root.child_text(name) {
        None => Ok(default),
        Some(v) => LifecycleAction::from_str_opt(&v)
            .ok_or_else(|| unsupported(format!("unknown {name} action: {v}"))),
    }
}

/// `virDomainDefLifecycleActionValidate`: only a crash may dump core.
pub(crate) fn validate_actions(poweroff: LifecycleAction, reboot: LifecycleAction) -> Result<()> {
    for (event, action) in [("poweroff", poweroff), ("reboot", reboot)] {
        if matches!(
            action,
            LifecycleAction::CoredumpDestroy | LifecycleAction::CoredumpRestart
        ) {
            return Err(unsupported(format!(
                "Lifecycle event '{event}' doesn't support '{action}' action"
            )));
        }
    }
    Ok(())
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
        w.block("pm", "", |w| {
            for (name, v) in [
                ("suspend-to-mem", self.suspend_to_mem),
                ("suspend-to-disk", self.suspend_to_disk),
            ] {
                if let Some(v) = v {
                    w.line(&format!("<{name} enabled='{}'/>", v.as_str()));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::round_trip;

    /// `<bootloader>` before `<os>`, which then writes no boot devices; with
    /// no `<os><type>` the guest is xen (written 'linux' for a xen domain);
    /// `<bootloader_args>` alone is dropped (checked against stock virsh).
    #[test]
    fn bootloader_as_virsh() {
        let out = round_trip(
            "<domain type='xen'><name>b</name><memory>1024</memory>\
             <bootloader>/usr/bin/pygrub</bootloader><bootloader_args>-q &amp; x</bootloader_args>\
             <os><boot dev='cdrom'/><bootmenu enable='yes'/></os></domain>",
        )
        .unwrap();
        let want = "  <bootloader>/usr/bin/pygrub</bootloader>
  <bootloader_args>-q &amp; x</bootloader_args>
  <os>
    <type>linux</type>
  </os>
";
        assert!(out.contains(want), "{out}");
        let out = round_trip(
            "<domain type='test'><name>b</name><memory>1024</memory>\
             <bootloader_args>-q</bootloader_args><os><type>hvm</type><boot dev='cdrom'/></os></domain>",
        )
        .unwrap();
        assert!(!out.contains("bootloader"), "{out}");
        assert!(out.contains("<boot dev='cdrom'/>"), "{out}");
        let err = round_trip("<domain type='test'><name>b</name><memory>1024</memory></domain>");
        assert_eq!(
            err.unwrap_err(),
            "XML error: an os <type> must be specified"
        );
    }
}
