//! Domain definitions (`virDomainDef`): parse, post-parse defaults and
//! format, byte-compatible with libvirt 9.0's `virDomainDefFormat`.

mod abi;
pub mod address;
pub mod audio;
pub mod blkiotune;
pub mod boot;
pub mod channel;
pub mod chardev;
pub mod clock;
pub mod controller;
pub mod cpu;
pub mod cputune;
pub mod device_seclabel;
pub mod devices;
mod devices_more;
pub mod disk;
pub mod features;
pub mod filesystem;
pub mod graphics;
pub mod graphics_spice;
pub mod hostdev;
pub mod hostdev_caps;
pub mod hostdev_scsi;
pub mod hub;
pub mod idmap;
pub mod interface;
pub mod iommu;
pub mod iothreads;
pub mod keywrap;
pub mod launch_security;
pub mod lease;
pub mod memory;
pub mod memory_backing;
pub mod memtune;
pub mod numa;
pub mod numa_hmat;
pub mod numatune;
pub mod os;
pub mod os_loader;
pub mod panic;
pub mod perf;
pub mod props;
pub mod redirdev;
pub mod redirfilter;
pub mod resctrl;
pub mod resource;
pub mod rng;
pub mod rom;
pub mod sched;
pub mod seclabel;
pub mod serial;
pub mod shmem;
pub mod smartcard;
pub mod sound;
pub mod spapr_nvram;
pub mod sysinfo;
pub mod tpm;
mod unmodelled;
mod validate;
pub mod vcpus;
pub mod video;
pub mod virtio;
pub mod vsock;
pub mod watchdog;

pub use audio::Audio;
pub use clock::{ClockDef, Timer};
pub use cpu::CpuDef;
pub use devices::{Address, Controller, Devices, Disk, Interface};
pub use devices_more::{Input, InputSource, Memballoon, MemballoonModel};
pub use features::Features;
pub use graphics::Graphics;
pub use iothreads::IoThreads;
pub use memory_backing::MemoryBacking;
pub use numatune::Numatune;
pub use os::{Arch, BootDev, LifecycleAction, OsDef, OsType, Pm};
pub use serial::Chr;
pub use video::Video;

use crate::xml::{self, escape, Attrs, Element, Node, Writer};
use props::{vir_enum, VirEnum};
use rvirt_util::{units, uuid, Error, ErrorCode, ErrorDomain, Result};

/// How to format a definition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormatOptions {
    /// `Some` when the domain is running: emits `id='N'` on `<domain>`.
    pub id: Option<i32>,
    pub inactive: bool,
    pub secure: bool,
}

/// A domain definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainDef {
    pub virt_type: VirtType,
    pub name: String,
    pub uuid: uuid::Uuid,
    /// `<genid>`: the VM generation ID (generated when the element is empty).
    pub genid: Option<uuid::Uuid>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Children of `<metadata>`, serialized as libxml2 does (no base indent).
    pub metadata: Option<String>,
    /// (KiB, slots)
    pub max_memory: Option<(u64, u32)>,
    pub memory_kib: u64,
    /// `<memory dumpCore>`.
    pub dump_core: Option<props::TriSwitch>,
    pub current_memory_kib: u64,
    pub blkiotune: blkiotune::Blkiotune,
    pub memtune: memtune::Memtune,
    pub memory_backing: MemoryBacking,
    pub vcpus: u32,
    pub current_vcpus: Option<u32>,
    /// `<vcpus>`: each vCPU's state, when the document gave them.
    pub vcpu_states: Option<Vec<vcpus::VcpuState>>,
    pub vcpu_placement: CpuPlacement,
    /// `<vcpu cpuset>`: the host CPUs, sorted (`None` when unset).
    pub cpuset: Option<Vec<u32>>,
    pub iothreads: IoThreads,
    pub cputune: cputune::Cputune,
    pub resource: Option<resource::Resource>,
    pub sysinfo: Vec<sysinfo::Sysinfo>,
    pub numatune: Numatune,
    pub os: OsDef,
    pub features: Features,
    pub cpu: Option<CpuDef>,
    pub clock: ClockDef,
    pub on_poweroff: LifecycleAction,
    pub on_reboot: LifecycleAction,
    pub on_crash: LifecycleAction,
    pub pm: Pm,
    pub perf: perf::Perf,
    pub devices: Devices,
    pub seclabels: Vec<seclabel::Seclabel>,
    pub keywrap: Option<keywrap::KeyWrap>,
    pub launch_security: Option<launch_security::LaunchSecurity>,
    pub idmap: idmap::IdMap,
}

/// `<genid>`: at most one; an empty one asks for a fresh ID.
fn parse_genid(root: &Element) -> Result<Option<uuid::Uuid>> {
    let mut nodes = root.children_named("genid");
    let Some(g) = nodes.next() else {
        return Ok(None);
    };
    if nodes.next().is_some() {
        return Err(internal_xml("element 'genid' can only appear once"));
    }
    match g.text() {
        t if t.is_empty() => Ok(Some(uuid::generate())),
        // virUUIDParse skips blanks between the digits too.
        t => uuid::parse(&t.replace(' ', ""))
            .map(Some)
            .ok_or_else(|| internal("malformed genid element")),
    }
}

pub(crate) fn internal_xml(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorDomain::DOMAIN, ErrorCode::XML_ERROR, msg)
}

pub(crate) fn unsupported(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorDomain::DOMAIN, ErrorCode::CONFIG_UNSUPPORTED, msg)
}

/// libvirt's `virXMLCheckIllegalChars`: refuse `value` of node `what` if
/// it holds any of `illegal`, naming the first one found (VIR_ERR_XML_DETAIL
/// from the XML domain, whose format is the bare message). Drivers call it
/// at define time, e.g. the test driver with `("name", name, "\n")`.
pub fn check_illegal_chars(what: &str, value: &str, illegal: &str) -> Result<()> {
    match value.chars().find(|c| illegal.contains(*c)) {
        Some(c) => Err(Error::raw(
            ErrorDomain::XML,
            ErrorCode::XML_DETAIL,
            format!("invalid char in {what}: {c}"),
        )),
        None => Ok(()),
    }
}

pub(crate) fn internal(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorDomain::DOMAIN, ErrorCode::INTERNAL_ERROR, msg)
}

/// `Invalid value for attribute 'A' in element 'E': 'V'.`
pub(crate) fn xml_invalid_attr(attr: &str, elem: &str, value: &str) -> Error {
    internal_xml(format!(
        "Invalid value for attribute '{attr}' in element '{elem}': '{value}'."
    ))
}

vir_enum! {
    /// `virDomainVirtType`: the hypervisor a domain is for.
    pub enum VirtType {
        None = "none", Qemu = "qemu", Kqemu = "kqemu", Kvm = "kvm", Xen = "xen",
        Lxc = "lxc", Uml = "uml", Openvz = "openvz", Test = "test",
        Vmware = "vmware", Hyperv = "hyperv", Vbox = "vbox", Phyp = "phyp",
        Parallels = "parallels", Bhyve = "bhyve", Vz = "vz", Hvf = "hvf",
    }

    /// `virDomainCpuPlacementMode` of `<vcpu placement>`.
    pub enum CpuPlacement { Static = "static", Auto = "auto" }
}

/// `virDomainParseScaledValue` for `./NAME[1]`, result in KiB.
fn parse_memory(root: &Element, name: &str) -> Result<Option<u64>> {
    let Some(e) = root.child(name) else {
        return Ok(None);
    };
    let text = e.text();
    let unit = e.attr("unit").unwrap_or("");
    let value: u64 = text.trim().parse().map_err(|_| {
        internal_xml(format!(
            "Invalid value '{text}' for element or attribute './{name}[1]'"
        ))
    })?;
    let scale = units::scale_for(unit, 1024).ok_or_else(|| {
        Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::INVALID_ARG,
            format!("unknown suffix '{unit}'"),
        )
    })?;
    let bytes = value.checked_mul(scale).ok_or_else(|| {
        Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::OVERFLOW,
            format!("value too large: {text}{unit}"),
        )
    })?;
    Ok(Some(bytes.div_ceil(1024)))
}

/// The guest's NUMA node count (`<cpu><numa><cell>`), which the memory
/// checks need before the CPU is parsed.
fn numa_cell_count(root: &Element) -> usize {
    let numa = root.child("cpu").and_then(|c| c.child("numa"));
    numa.map_or(0, |n| n.children_named("cell").count())
}

/// Parse a libvirt bitmap string (`0-3,^2,7`) into sorted bit positions.
pub fn parse_bitmap(s: &str) -> Option<Vec<u32>> {
    let mut set = std::collections::BTreeSet::new();
    for part in s.split(',') {
        let part = part.trim();
        if let Some(neg) = part.strip_prefix('^') {
            set.remove(&neg.trim().parse::<u32>().ok()?);
        } else if let Some((a, b)) = part.split_once('-') {
            let (a, b): (u32, u32) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            if a > b || b > 65535 {
                return None;
            }
            set.extend(a..=b);
        } else {
            set.insert(part.parse::<u32>().ok()?);
        }
    }
    Some(set.into_iter().collect())
}

/// `virBitmapFormat`: ranges joined by commas.
pub fn format_bitmap(bits: &[u32]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bits.len() {
        let start = bits[i];
        let mut end = start;
        while i + 1 < bits.len() && bits[i + 1] == end + 1 {
            i += 1;
            end = bits[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(",")
}

/// `<metadata>`'s children as libvirt writes them: each dumped by libxml2
/// at the buffer's indentation level (`xmlNodeDump(..., indent / 2, 1)`)
/// and added with the indentation once, so lines inside text keep their
/// own starts.
pub(crate) fn format_metadata(w: &mut Writer, stored: &str) {
    let level = w.current_indent() / 2;
    match xml::parse_raw(&format!("<metadata>{stored}</metadata>")) {
        Ok(mut root) => {
            xml::strip_blanks(&mut root);
            for c in root.elements() {
                let mut s = String::new();
                xml::dump_node(&Node::Element(c.clone()), level, &mut s);
                w.line(&s);
            }
        }
        // Stored from a dump, so it reads back; line by line otherwise.
        Err(_) => stored.lines().for_each(|l| w.line(l)),
    }
}

/// Keep namespaced metadata children, first per namespace (as
/// `virXMLNodeSanitizeNamespaces`), serialized as libxml2 does.
pub(crate) fn parse_metadata(root: &Element) -> Option<String> {
    let m = root.child("metadata")?;
    let mut seen: Vec<String> = Vec::new();
    let mut parts = Vec::new();
    for c in m.elements() {
        let Some(ns) = c.namespace(&[root, m]) else {
            continue;
        };
        if !c.name.contains(':') || seen.iter().any(|s| s == ns) {
            continue;
        }
        seen.push(ns.to_string());
        let mut c = c.clone();
        // Carry the prefix declaration onto the element if it came from above.
        let key = format!("xmlns:{}", c.name.split(':').next().unwrap_or(""));
        if c.attr(&key).is_none() {
            c.attrs.insert(0, (key, ns.to_string()));
        }
        xml::strip_blanks(&mut c);
        let mut s = String::new();
        xml::dump_node(&Node::Element(c), 0, &mut s);
        parts.push(s);
    }
    Some(parts.join("\n"))
}

impl DomainDef {
    /// Parse a `<domain>` document, applying libvirt's generic post-parse
    /// defaults.
    pub fn parse(text: &str) -> Result<DomainDef> {
        let root = xml::parse(text, "(domain_definition)", ErrorDomain::DOMAIN)?;
        Self::from_element(&root)
    }

    /// Build from an already parsed `<domain>` element (libvirt's
    /// `virDomainDefParseNode`, for documents that embed domains).
    pub fn from_element(root: &Element) -> Result<DomainDef> {
        if root.name != "domain" {
            return Err(internal_xml(format!(
                "expecting root element of 'domain', not '{}'",
                root.name
            )));
        }
        let Some(virt_type) = root.attr("type") else {
            return Err(internal("missing domain type attribute"));
        };
        let virt_type = VirtType::from_str_opt(virt_type)
            .ok_or_else(|| unsupported(format!("invalid domain type {virt_type}")))?;
        let name = match root.child_text("name") {
            Some(n) if !n.is_empty() => n,
            _ => return Err(Error::bare(ErrorDomain::DOMAIN, ErrorCode::NO_NAME)),
        };
        // virDomainDefPostParseCheckFeatures: drivers without
        // VIR_DOMAIN_DEF_FEATURE_NAME_SLASH (the test driver among them)
        // refuse a '/' since the name becomes a file name.
        if name.contains('/') {
            return Err(internal_xml(format!("name {name} cannot contain '/'")));
        }
        let uuid = match root.child_text("uuid") {
            None => None,
            Some(u) => Some(uuid::parse(&u).ok_or_else(|| internal("malformed uuid element"))?),
        };
        let genid = parse_genid(root)?;
        let title = root.child_text("title");
        if title.as_deref().is_some_and(|t| t.contains('\n')) {
            return Err(internal_xml("Domain title can't contain newlines"));
        }
        // virXPathString: an empty text is no value.
        let description = root.child_text("description").filter(|d| !d.is_empty());
        unmodelled::refuse(root)?;
        let metadata = parse_metadata(root);

        let memory = parse_memory(root, "memory")?;
        let memory_backing = MemoryBacking::parse(root, numa_cell_count(root))?;
        let current = parse_memory(root, "currentMemory")?;
        let max_memory = match parse_memory(root, "maxMemory")? {
            None => None,
            Some(kib) => {
                let slots = root
                    .child("maxMemory")
                    .and_then(|e| e.attr("slots"))
                    .map(|s| s.trim().parse::<u32>())
                    .transpose()
                    .map_err(|_| internal_xml("Failed to parse memory slot count"))?
                    .unwrap_or(0);
                Some((kib, slots))
            }
        };

        let vcpus::VcpuConfig {
            max: vcpus,
            current: current_vcpus,
            placement,
            cpuset,
            states: vcpu_states,
        } = vcpus::parse_config(root)?;
        let blkiotune = blkiotune::Blkiotune::parse(root)?;
        let memtune = memtune::Memtune::parse(root)?;
        let iothreads = IoThreads::parse(root)?;
        let cputune = cputune::Cputune::parse(root, vcpus, &iothreads)?;
        let resource = resource::Resource::parse(root)?;
        // A <sysinfo> system UUID must match <uuid>, or stands in for it.
        let mut uuid = uuid;
        let sysinfo = sysinfo::Sysinfo::parse_all(root, &mut uuid)?;
        let uuid = uuid.unwrap_or_else(uuid::generate);
        let os = OsDef::parse(root, virt_type)?;
        let features = Features::parse(root)?;
        let cpu = root.child("cpu").map(CpuDef::parse).transpose()?;
        let cells = cpu.as_ref().map_or(&[][..], |c| &c.numa[..]);
        numa::check_vcpus(cells, vcpus)?;
        // Without <memory>, the cells' sum is the guest's memory.
        let numa_kib: u64 = cells.iter().map(|c| c.memory_kib).sum();
        let static_placement = placement == CpuPlacement::Static;
        let numatune = Numatune::parse(root, static_placement, numa_cell_count(root))?;
        // Memory placed by numad places the vCPUs too, unless any pin.
        let pinned = !cputune.vcpupins.is_empty()
            || cputune.emulatorpin.is_some()
            || !cputune.iothreadpins.is_empty();
        let placement = if numatune.placement_auto() && cpuset.is_none() && !pinned {
            CpuPlacement::Auto
        } else {
            placement
        };
        let clock = ClockDef::parse(root)?;
        let on_reboot = os::parse_action(root, "on_reboot", LifecycleAction::Restart)?;
        let on_poweroff = os::parse_action(root, "on_poweroff", LifecycleAction::Destroy)?;
        let on_crash = os::parse_action(root, "on_crash", LifecycleAction::Destroy)?;
        let pm = Pm::parse(root)?;
        let perf = perf::Perf::parse(root)?;
        let devices = Devices::parse(root.child("devices"), &os)?;
        let seclabels = seclabel::Seclabel::parse_all(root)?;
        let keywrap = keywrap::KeyWrap::parse(root)?;
        let launch_security = launch_security::LaunchSecurity::parse(root)?;
        let idmap = idmap::IdMap::parse(root)?;

        // Post-parse / validation.
        if vcpus == 0 {
            return Err(internal("CPU IDs in <numa> exceed the <vcpu> count"));
        }
        let memory_kib = memory::total_kib(memory, numa_kib, &devices.memories)?;
        if let Some((max, _)) = max_memory {
            if max < memory_kib {
                return Err(internal_xml(
                    "maximum memory size must be equal or greater than the actual memory size",
                ));
            }
        }
        let current_memory_kib = match current {
            Some(c) if c > 0 && c <= memory_kib => c,
            _ => memory_kib,
        };
        let mut def = DomainDef {
            dump_core: root
                .child("memory")
                .map(|m| props::triswitch(m, "dumpCore"))
                .transpose()?
                .flatten(),
            virt_type,
            name,
            uuid,
            genid,
            title,
            description,
            metadata,
            max_memory,
            memory_kib,
            current_memory_kib,
            blkiotune,
            memtune,
            memory_backing,
            vcpus,
            current_vcpus: current_vcpus.filter(|c| *c != vcpus),
            vcpu_states,
            vcpu_placement: placement,
            cpuset,
            iothreads,
            cputune,
            resource,
            sysinfo,
            numatune,
            os,
            features,
            cpu,
            clock,
            on_poweroff,
            on_reboot,
            on_crash,
            pm,
            perf,
            devices,
            seclabels,
            keywrap,
            launch_security,
            idmap,
        };
        if let Some(states) = &mut def.vcpu_states {
            vcpus::post_parse(states)?;
        }
        def.devices.post_parse(&def.os, def.virt_type)?;
        if def.os.os_type == OsType::Hvm {
            boot::post_parse(def.devices.boot_orders(), &mut def.os.boot)?;
        }
        def.blkiotune.validate()?;
        def.cputune.validate()?;
        if let Some(r) = &def.resource {
            r.validate()?;
        }
        if let Some(c) = &def.cpu {
            numa_hmat::validate(&c.numa, &c.numa_interconnects)?;
        }
        os::validate_actions(def.on_poweroff, def.on_reboot)?;
        def.idmap.validate()?;
        device_seclabel::DeviceSeclabel::validate_devices(&def.devices, &def.seclabels)?;
        let numa_nodes = def.cpu.as_ref().map_or(0, |c| c.numa.len());
        let ppc64 = def.os.arch.is_some_and(Arch::is_ppc64);
        for m in &def.devices.memories {
            m.validate(numa_nodes, ppc64)?;
        }
        if let Some(i) = &def.devices.iommu {
            i.validate_features(&def.features)?;
        }
        Ok(def)
    }

    /// Format as `virDomainDefFormat` does.
    pub fn format(&self, opts: &FormatOptions) -> String {
        self.format_indented(opts, 0)
    }

    /// Format with every line `levels` steps in, as a document that
    /// embeds a domain (a snapshot) has libvirt's buffer indented: text
    /// spanning lines keeps its own line starts.
    pub fn format_indented(&self, opts: &FormatOptions, levels: usize) -> String {
        let mut w = Writer::new();
        for _ in 0..levels {
            w.indent();
        }
        let mut a = Attrs::new();
        a.add("type", self.virt_type.as_str());
        if !opts.inactive {
            a.opt("id", opts.id);
        }
        w.line(&format!("<domain{}>", a.as_str()));
        w.indent();
        w.text_elem("name", Some(&self.name));
        w.line(&format!("<uuid>{}</uuid>", self.uuid.hyphenated()));
        if let Some(g) = &self.genid {
            w.line(&format!("<genid>{}</genid>", g.hyphenated()));
        }
        w.text_elem("title", self.title.as_deref());
        w.text_elem("description", self.description.as_deref());
        if let Some(m) = &self.metadata {
            if m.is_empty() {
                w.line("<metadata/>");
            } else {
                w.line("<metadata>");
                w.indent();
                format_metadata(&mut w, m);
                w.dedent();
                w.line("</metadata>");
            }
        }
        if let Some((kib, slots)) = self.max_memory {
            w.line(&format!(
                "<maxMemory slots='{slots}' unit='KiB'>{kib}</maxMemory>"
            ));
        }
        let dump_core = self
            .dump_core
            .map(|d| format!(" dumpCore='{}'", props::VirEnum::as_str(d)));
        w.line(&format!(
            "<memory{} unit='KiB'>{}</memory>",
            dump_core.unwrap_or_default(),
            self.memory_kib
        ));
        w.line(&format!(
            "<currentMemory unit='KiB'>{}</currentMemory>",
            self.current_memory_kib
        ));
        self.blkiotune.format(&mut w);
        self.memtune.format(&mut w);
        self.memory_backing.format(&mut w);
        let mut a = Attrs::new();
        a.add("placement", self.vcpu_placement.as_str());
        a.opt("cpuset", self.cpuset.as_deref().map(format_bitmap));
        a.opt("current", self.current_vcpus.filter(|c| *c != self.vcpus));
        w.line(&format!("<vcpu{}>{}</vcpu>", a.as_str(), self.vcpus));
        if let Some(states) = &self.vcpu_states {
            let current = self.current_vcpus.unwrap_or(self.vcpus);
            vcpus::format(states, current, &mut w);
        }
        self.iothreads.format(&mut w);
        self.cputune
            .format(&mut w, opts.id.is_some() && !opts.inactive);
        self.numatune.format(&mut w);
        if let Some(r) = &self.resource {
            r.format(&mut w);
        }
        for s in &self.sysinfo {
            s.format(&mut w);
        }
        self.os.format(&mut w, self.virt_type, opts);
        self.idmap.format(&mut w);
        self.features.format(&mut w);
        if let Some(cpu) = &self.cpu {
            cpu.format(&mut w);
        }
        self.clock.format(&mut w);
        w.text_elem("on_poweroff", Some(self.on_poweroff.as_str()));
        w.text_elem("on_reboot", Some(self.on_reboot.as_str()));
        w.text_elem("on_crash", Some(self.on_crash.as_str()));
        self.pm.format(&mut w);
        self.perf.format(&mut w);
        self.devices.format(&mut w, opts);
        for s in &self.seclabels {
            s.format(&mut w, opts.inactive);
        }
        if let Some(k) = &self.keywrap {
            k.format(&mut w);
        }
        if let Some(l) = &self.launch_security {
            l.format(&mut w);
        }
        w.dedent();
        w.line("</domain>");
        w.finish()
    }

    /// libvirt's `virDomainDefCheckABIStability`.
    pub fn check_abi_stability(&self, other: &DomainDef) -> Result<()> {
        abi::check(self, other)
    }
}

/// `virFileSanitizePath`: no doubled or trailing slashes.
pub(crate) fn sanitize_path(p: &str) -> String {
    let mut out = String::new();
    for c in p.chars() {
        if !(c == '/' && out.ends_with('/') && out.len() > 1) {
            out.push(c);
        }
    }
    if out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    out
}

/// Escape helper re-exported for device formatting.
pub(crate) fn esc(s: &str) -> String {
    escape(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = "<domain type='test'><name>a</name><memory unit='GiB'>1</memory><os><type>hvm</type></os></domain>";

    #[test]
    fn defaults() {
        let d = DomainDef::parse(MIN).unwrap();
        assert_eq!(d.memory_kib, 1048576);
        assert_eq!(d.current_memory_kib, 1048576);
        assert_eq!(d.vcpus, 1);
        assert_eq!(d.os.boot, vec![os::BootDev::Hd]);
        assert_eq!(d.os.arch, None);
        let out = d.format(&FormatOptions::default());
        assert!(out.contains("  <devices>\n  </devices>\n"));
        assert!(out.contains("<clock offset='utc'/>"));
        assert!(out.contains("<type>hvm</type>"));
    }

    #[test]
    fn bitmap() {
        assert_eq!(
            format_bitmap(&parse_bitmap("0,1,2,3,^2,7").unwrap()),
            "0-1,3,7"
        );
    }

    #[test]
    fn errors() {
        let e =
            DomainDef::parse("<domain type='test'><os><type>hvm</type></os></domain>").unwrap_err();
        assert_eq!(e.message, "missing name information");
        let e = DomainDef::parse(&MIN.replace("GiB", "parsec")).unwrap_err();
        assert_eq!(e.message, "invalid argument: unknown suffix 'parsec'");
        let e = DomainDef::parse("<domain").unwrap_err();
        assert_eq!(e.code, ErrorCode::XML_DETAIL);
    }

    /// Checked against stock virsh on test:///default: 'hvf' is in 9.0's
    /// table, a cpuset comes back normalised.
    #[test]
    fn typed_values() {
        let doc = MIN
            .replace("type='test'", "type='hvf'")
            .replace("<os>", "<vcpu cpuset=' 3 , 1,2'>2</vcpu><os>")
            .replace("<type>", "<type arch='ppc64le'>");
        let d = DomainDef::parse(&doc).unwrap();
        assert_eq!(d.virt_type, VirtType::Hvf);
        assert_eq!(
            (d.os.os_type, d.os.arch),
            (OsType::Hvm, Some(Arch::Ppc64le))
        );
        assert_eq!(d.vcpu_placement, CpuPlacement::Static);
        assert_eq!(d.cpuset, Some(vec![1, 2, 3]));
        let actions = (d.on_poweroff, d.on_reboot, d.on_crash);
        use LifecycleAction::{Destroy, Restart};
        assert_eq!(actions, (Destroy, Restart, Destroy));
        let out = d.format(&FormatOptions::default());
        assert!(out.starts_with("<domain type='hvf'>\n"), "{out}");
        assert!(out.contains("<vcpu placement='static' cpuset='1-3'>2</vcpu>"));
        assert!(out.contains("<type arch='ppc64le'>hvm</type>"));
    }

    #[test]
    fn running_id() {
        let d = DomainDef::parse(MIN).unwrap();
        let out = d.format(&FormatOptions {
            id: Some(3),
            ..Default::default()
        });
        assert!(out.starts_with("<domain type='test' id='3'>\n"));
    }

    /// Checked against stock virsh on test:///default.
    #[test]
    fn genid_as_virsh() {
        use super::test_support::{assert_errors, dump_before_os};
        let out = dump_before_os("<genid> e9392370291756 5e692bd057f46512d6 </genid>").unwrap();
        assert!(out.contains("</uuid>\n  <genid>e9392370-2917-565e-692b-d057f46512d6</genid>\n"));
        let fresh = dump_before_os("<genid/>").unwrap();
        assert!(fresh.contains("<genid>"), "{fresh}");
        assert_errors(
            dump_before_os,
            &[
                (
                    "<genid>x</genid>",
                    "internal error: malformed genid element",
                ),
                (
                    "<genid/><genid/>",
                    "XML error: element 'genid' can only appear once",
                ),
            ],
        );
    }
}

/// What the per-family unit tests share: a document in, libvirt's output
/// (or the error's text) out.
#[cfg(test)]
pub(crate) mod test_support;
