//! `<features>`: libvirt's `virDomainFeaturesDefParse` and
//! `virDomainDefFormatFeatures`, every hypervisor feature typed.

use super::props::{self, vir_enum, TriSwitch, VirEnum};
use super::{internal_xml, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainHyperVMode` without its `none`.
    pub enum HypervMode { Custom = "custom", Passthrough = "passthrough" }

    /// `virDomainHyperv`: the Hyper-V enlightenments.
    pub enum Hyperv {
        Relaxed = "relaxed", Vapic = "vapic", Spinlocks = "spinlocks", Vpindex = "vpindex",
        Runtime = "runtime", Synic = "synic", Stimer = "stimer", Reset = "reset",
        VendorId = "vendor_id", Frequencies = "frequencies",
        Reenlightenment = "reenlightenment", Tlbflush = "tlbflush", Ipi = "ipi",
        Evmcs = "evmcs", Avic = "avic",
    }

    /// `virDomainKVM`.
    pub enum Kvm {
        Hidden = "hidden", HintDedicated = "hint-dedicated", PollControl = "poll-control",
        PvIpi = "pv-ipi", DirtyRing = "dirty-ring",
    }

    /// `virDomainXen`.
    pub enum Xen { E820Host = "e820_host", Passthrough = "passthrough" }

    /// `virDomainXenPassthroughMode` without its `default`.
    pub enum XenPassthroughMode { SyncPt = "sync_pt", SharePt = "share_pt" }

    /// `virDomainCapabilitiesPolicy`.
    pub enum CapsPolicy { Default = "default", Allow = "allow", Deny = "deny" }

    /// `virDomainProcessCapsFeature`.
    pub enum ProcessCap {
        AuditControl = "audit_control", AuditWrite = "audit_write",
        BlockSuspend = "block_suspend", Chown = "chown", DacOverride = "dac_override",
        DacReadSearch = "dac_read_search", Fowner = "fowner", Fsetid = "fsetid",
        IpcLock = "ipc_lock", IpcOwner = "ipc_owner", Kill = "kill", Lease = "lease",
        LinuxImmutable = "linux_immutable", MacAdmin = "mac_admin",
        MacOverride = "mac_override", Mknod = "mknod", NetAdmin = "net_admin",
        NetBindService = "net_bind_service", NetBroadcast = "net_broadcast",
        NetRaw = "net_raw", Setgid = "setgid", Setfcap = "setfcap", Setpcap = "setpcap",
        Setuid = "setuid", SysAdmin = "sys_admin", SysBoot = "sys_boot",
        SysChroot = "sys_chroot", SysModule = "sys_module", SysNice = "sys_nice",
        SysPacct = "sys_pacct", SysPtrace = "sys_ptrace", SysRawio = "sys_rawio",
        SysResource = "sys_resource", SysTime = "sys_time",
        SysTtyConfig = "sys_tty_config", Syslog = "syslog", WakeAlarm = "wake_alarm",
    }

    /// `virGICVersion` without its `none` (refused: `VIR_XML_PROP_NONZERO`).
    pub enum GicVersion { Host = "host", V2 = "2", V3 = "3" }

    /// `virDomainIOAPIC` without its `none`.
    pub enum IoapicDriver { Qemu = "qemu", Kvm = "kvm" }

    /// `virDomainHPTResizing` without its `none`.
    pub enum HptResizing { Enabled = "enabled", Disabled = "disabled", Required = "required" }

    /// `virDomainCFPC`/`virDomainSBBC` without their `none`.
    pub enum SpectreFix { Broken = "broken", Workaround = "workaround", Fixed = "fixed" }

    /// `virDomainIBS` without its `none`.
    pub enum Ibs {
        Broken = "broken", Workaround = "workaround", FixedIbs = "fixed-ibs",
        FixedCcd = "fixed-ccd", FixedNa = "fixed-na",
    }

    /// `virDomainMsrsUnknown`.
    pub enum MsrsUnknown { Ignore = "ignore", Fault = "fault" }
}

/// Per-name switches of a feature's children, indexed by their enum.
pub type Switches<const N: usize> = [Option<TriSwitch>; N];

/// `<hyperv>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HypervFeatures {
    pub mode: HypervMode,
    pub features: Switches<15>,
    pub spinlocks_retries: u32,
    pub stimer_direct: Option<TriSwitch>,
    pub vendor_id: Option<String>,
}

/// `<kvm>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvmFeatures {
    pub features: Switches<5>,
    pub dirty_ring_size: u32,
}

/// `<xen>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XenFeatures {
    pub features: Switches<2>,
    pub passthrough_mode: Option<XenPassthroughMode>,
}

/// `<capabilities>` (containers): the policy and per-capability switches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessCaps {
    pub policy: CapsPolicy,
    pub caps: Switches<37>,
}

/// `<smm>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smm {
    pub state: TriSwitch,
    /// `<tseg>` in bytes, when given with SMM on.
    pub tseg_bytes: Option<u64>,
}

/// `<hpt>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hpt {
    pub resizing: Option<HptResizing>,
    pub maxpagesize_kib: u64,
}

/// Everything under `<features>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Features {
    pub acpi: bool,
    /// `<apic>` and its `eoi`.
    pub apic: Option<Option<TriSwitch>>,
    pub pae: bool,
    pub hap: Option<TriSwitch>,
    pub viridian: bool,
    pub privnet: bool,
    pub hyperv: Option<HypervFeatures>,
    pub kvm: Option<KvmFeatures>,
    pub pvspinlock: Option<TriSwitch>,
    pub capabilities: Option<ProcessCaps>,
    pub pmu: Option<TriSwitch>,
    pub vmport: Option<TriSwitch>,
    /// `<gic>` and its `version`.
    pub gic: Option<Option<GicVersion>>,
    pub smm: Option<Smm>,
    pub ioapic: Option<IoapicDriver>,
    pub hpt: Option<Hpt>,
    pub vmcoreinfo: Option<TriSwitch>,
    pub htm: Option<TriSwitch>,
    pub nested_hv: Option<TriSwitch>,
    pub msrs: Option<MsrsUnknown>,
    pub ccf_assist: Option<TriSwitch>,
    pub xen: Option<XenFeatures>,
    pub cfpc: Option<SpectreFix>,
    pub sbbc: Option<SpectreFix>,
    pub ibs: Option<Ibs>,
    /// `<tcg><tb-cache>` in KiB.
    pub tcg_tb_cache_kib: Option<u64>,
}

/// `state=` of a switch feature, `on` when absent.
fn state_or_on(e: &Element) -> Result<Option<TriSwitch>> {
    Ok(Some(props::triswitch(e, "state")?.unwrap_or(TriSwitch::On)))
}

/// `state=`, required.
fn state_required(e: &Element) -> Result<TriSwitch> {
    Ok(props::enumeration(e, "state", true)?.unwrap_or(TriSwitch::Off))
}

/// `virParseScaledValue` of a child element's text and `unit`.
fn scaled(e: &Element, child: &str, default_scale: u64) -> Result<Option<u64>> {
    props::scaled_value(
        e.child(child),
        &format!("./{child}"),
        default_scale,
        u64::MAX,
    )
}

/// The element children of `e`, each named by `T`'s table or refused with
/// `unknown` (libvirt's message prefix).
fn named_children<'a, T: VirEnum>(
    e: &'a Element,
    unknown: fn(&str) -> String,
) -> impl Iterator<Item = Result<(T, &'a Element)>> + 'a {
    e.elements().map(move |c| match T::from_str_opt(&c.name) {
        Some(t) => Ok((t, c)),
        None => Err(unsupported(unknown(&c.name))),
    })
}

/// The `<NAME state='on|off'/>` children of `e` as per-name switches
/// (`unknown` refuses other names); `on` reads what a child switched on
/// adds.
fn parse_switches<T: VirEnum, const N: usize>(
    e: &Element,
    unknown: fn(&str) -> String,
    mut on: impl FnMut(T, &Element) -> Result<()>,
) -> Result<Switches<N>> {
    let mut switches = [None; N];
    for child in named_children::<T>(e, unknown) {
        let (feature, c) = child?;
        let state = state_required(c)?;
        switches[feature.index()] = Some(state);
        if state == TriSwitch::On {
            on(feature, c)?;
        }
    }
    Ok(switches)
}

/// A `<NAME state='..'EXTRA/>` line per set switch, `extra` giving what
/// follows the state.
fn switch_lines<T: VirEnum>(
    w: &mut Writer,
    switches: &[Option<TriSwitch>],
    extra: impl Fn(T, TriSwitch) -> String,
) {
    for (i, s) in switches.iter().enumerate() {
        let Some(s) = *s else { continue };
        let name = T::from_index(i);
        let tail = extra(name, s);
        w.line(&format!(
            "<{} state='{}'{tail}/>",
            name.as_str(),
            s.as_str()
        ));
    }
}

impl Features {
    /// `virDomainFeaturesDefParse`.
    pub(crate) fn parse(root: &Element) -> Result<Features> {
        let mut f = Features::default();
        let Some(features) = root.child("features") else {
            return Ok(f);
        };
        for e in features.elements() {
            f.parse_one(e)?;
        }
        Ok(f)
    }

    fn parse_one(&mut self, e: &Element) -> Result<()> {
        match e.name.as_str() {
            "acpi" => self.acpi = true,
            "pae" => self.pae = true,
            "viridian" => self.viridian = true,
            "privnet" => self.privnet = true,
            "apic" => self.apic = Some(props::triswitch(e, "eoi")?),
            "msrs" => self.msrs = props::enumeration(e, "unknown", true)?,
            "hyperv" => self.hyperv = Some(parse_hyperv(e)?),
            "kvm" => self.kvm = Some(parse_kvm(e)?),
            "xen" => self.xen = Some(parse_xen(e)?),
            "capabilities" => self.capabilities = Some(parse_caps(e)?),
            "vmcoreinfo" => self.vmcoreinfo = state_or_on(e)?,
            "hap" => self.hap = state_or_on(e)?,
            "pmu" => self.pmu = state_or_on(e)?,
            "pvspinlock" => self.pvspinlock = state_or_on(e)?,
            "vmport" => self.vmport = state_or_on(e)?,
            "smm" => self.smm = Some(parse_smm(e)?),
            "gic" => self.gic = Some(props::enumeration(e, "version", false)?),
            "ioapic" => self.ioapic = props::enumeration(e, "driver", false)?,
            "hpt" => self.hpt = parse_hpt(e)?,
            "cfpc" => self.cfpc = props::enumeration(e, "value", false)?,
            "sbbc" => self.sbbc = props::enumeration(e, "value", false)?,
            "ibs" => self.ibs = props::enumeration(e, "value", false)?,
            "htm" => self.htm = Some(state_required(e)?),
            "nested-hv" => self.nested_hv = Some(state_required(e)?),
            "ccf-assist" => self.ccf_assist = Some(state_required(e)?),
            "tcg" => self.tcg_tb_cache_kib = parse_tcg(e)?,
            other => return Err(unsupported(format!("unexpected feature '{other}'"))),
        }
        Ok(())
    }

    /// The names of the features set, in `virDomainFeature` order.
    pub fn names(&self) -> Vec<&'static str> {
        let caps = self.capabilities.is_some();
        let present = [
            ("acpi", self.acpi),
            ("apic", self.apic.is_some()),
            ("pae", self.pae),
            ("hap", self.hap.is_some()),
            ("viridian", self.viridian),
            ("privnet", self.privnet),
            ("hyperv", self.hyperv.is_some()),
            ("kvm", self.kvm.is_some()),
            ("pvspinlock", self.pvspinlock.is_some()),
            ("capabilities", caps),
            ("pmu", self.pmu.is_some()),
            ("vmport", self.vmport.is_some()),
            ("gic", self.gic.is_some()),
            ("smm", self.smm.is_some()),
            ("ioapic", self.ioapic.is_some()),
            ("hpt", self.hpt.is_some()),
            ("vmcoreinfo", self.vmcoreinfo.is_some()),
            ("htm", self.htm.is_some()),
            ("nested-hv", self.nested_hv.is_some()),
            ("msrs", self.msrs.is_some()),
            ("ccf-assist", self.ccf_assist.is_some()),
            ("xen", self.xen.is_some()),
            ("cfpc", self.cfpc.is_some()),
            ("sbbc", self.sbbc.is_some()),
            ("ibs", self.ibs.is_some()),
            ("tcg", self.tcg_tb_cache_kib.is_some()),
        ];
        present
            .iter()
            .filter(|(_, on)| *on)
            .map(|(n, _)| *n)
            .collect()
    }

    /// Whether the I/O APIC is split (`<ioapic driver='qemu'/>`).
    pub fn split_ioapic(&self) -> bool {
        self.ioapic == Some(IoapicDriver::Qemu)
    }

    /// `virDomainDefFormatFeatures`: `virDomainFeature` order.
    /// Whether anything is written: `<capabilities>` with the default
    /// policy and no capability writes nothing.
    fn is_empty(&self) -> bool {
        let caps_silent = self
            .capabilities
            .as_ref()
            .is_some_and(|c| c.policy == CapsPolicy::Default && c.caps.iter().all(Option::is_none));
        let mut rest = self.clone();
        if caps_silent {
            rest.capabilities = None;
        }
        rest == Features::default()
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        if self.is_empty() {
            return;
        }
        w.elem_with("features", "", |w| {
            let flag = |w: &mut Writer, name: &str, on: bool| {
                if on {
                    w.line(&format!("<{name}/>"));
                }
            };
            flag(w, "acpi", self.acpi);
            if let Some(eoi) = self.apic {
                let mut a = Attrs::new();
                a.opt("eoi", eoi.map(TriSwitch::as_str));
                w.line(&format!("<apic{}/>", a.as_str()));
            }
            flag(w, "pae", self.pae);
            switch(w, "hap", self.hap);
            flag(w, "viridian", self.viridian);
            flag(w, "privnet", self.privnet);
            if let Some(h) = &self.hyperv {
                format_hyperv(w, h);
            }
            if let Some(k) = &self.kvm {
                format_kvm(w, k);
            }
            switch(w, "pvspinlock", self.pvspinlock);
            if let Some(c) = &self.capabilities {
                format_caps(w, c);
            }
            switch(w, "pmu", self.pmu);
            switch(w, "vmport", self.vmport);
            if let Some(v) = self.gic {
                let mut a = Attrs::new();
                a.opt("version", v.map(GicVersion::as_str));
                w.line(&format!("<gic{}/>", a.as_str()));
            }
            self.format_smm(w);
            if let Some(d) = self.ioapic {
                w.line(&format!("<ioapic driver='{}'/>", d.as_str()));
            }
            self.format_hpt(w);
            switch(w, "vmcoreinfo", self.vmcoreinfo);
            switch(w, "htm", self.htm);
            switch(w, "nested-hv", self.nested_hv);
            if let Some(m) = self.msrs {
                w.line(&format!("<msrs unknown='{}'/>", m.as_str()));
            }
            switch(w, "ccf-assist", self.ccf_assist);
            if let Some(x) = &self.xen {
                format_xen(w, x);
            }
            value(w, "cfpc", self.cfpc.map(SpectreFix::as_str));
            value(w, "sbbc", self.sbbc.map(SpectreFix::as_str));
            value(w, "ibs", self.ibs.map(Ibs::as_str));
            if let Some(kib) = self.tcg_tb_cache_kib {
                w.elem_with("tcg", "", |w| {
                    w.line(&format!("<tb-cache unit='KiB'>{kib}</tb-cache>"))
                });
            }
        });
    }

    fn format_smm(&self, w: &mut Writer) {
        let Some(smm) = &self.smm else { return };
        let a = format!(" state='{}'", smm.state.as_str());
        w.elem_with("smm", &a, |w| {
            if let Some(bytes) = smm.tseg_bytes.filter(|_| smm.state == TriSwitch::On) {
                let (n, unit) = props::pretty_bytes(bytes);
                w.line(&format!("<tseg unit='{unit}'>{n}</tseg>"));
            }
        });
    }

    fn format_hpt(&self, w: &mut Writer) {
        let Some(hpt) = &self.hpt else { return };
        let mut a = Attrs::new();
        a.opt("resizing", hpt.resizing.map(HptResizing::as_str));
        w.elem_with("hpt", a.as_str(), |w| {
            if hpt.maxpagesize_kib > 0 {
                w.line(&format!(
                    "<maxpagesize unit='KiB'>{}</maxpagesize>",
                    hpt.maxpagesize_kib
                ));
            }
        });
    }
}

/// `<NAME state='on|off'/>` when set.
fn switch(w: &mut Writer, name: &str, s: Option<TriSwitch>) {
    if let Some(s) = s {
        w.line(&format!("<{name} state='{}'/>", s.as_str()));
    }
}

/// `<NAME value='V'/>` when set.
fn value(w: &mut Writer, name: &str, v: Option<&str>) {
    if let Some(v) = v {
        w.line(&format!("<{name} value='{v}'/>"));
    }
}

fn parse_smm(e: &Element) -> Result<Smm> {
    let state = state_or_on(e)?.unwrap_or(TriSwitch::On);
    let tseg_bytes = match state {
        TriSwitch::On => scaled(e, "tseg", 1024 * 1024)?,
        TriSwitch::Off => None,
    };
    Ok(Smm { state, tseg_bytes })
}

/// `<hpt>`: on only with a resizing policy or a maximum page size.
fn parse_hpt(e: &Element) -> Result<Option<Hpt>> {
    let resizing = props::enumeration(e, "resizing", false)?;
    let bytes = scaled(e, "maxpagesize", 1024)
        .map_err(|_| unsupported("Unable to parse HPT maxpagesize setting"))?
        .unwrap_or(0);
    let hpt = Hpt {
        resizing,
        maxpagesize_kib: bytes.div_ceil(1024),
    };
    Ok((hpt.resizing.is_some() || hpt.maxpagesize_kib > 0).then_some(hpt))
}

/// `<tcg>`: on only with a translation block cache size.
fn parse_tcg(e: &Element) -> Result<Option<u64>> {
    let Some(c) = e.child("tb-cache") else {
        return Ok(None);
    };
    let kib = props::memory_kib(
        Some(c.text().as_str()),
        c.attr("unit"),
        "./tb-cache[1]",
        false,
    )?;
    Ok(kib.filter(|k| *k > 0))
}

/// `virDomainFeaturesHyperVDefParse`.
fn parse_hyperv(e: &Element) -> Result<HypervFeatures> {
    let mode = props::enumeration(e, "mode", false)?.unwrap_or(HypervMode::Custom);
    let (mut spinlocks_retries, mut stimer_direct, mut vendor_id) = (0, None, None);
    let unknown = |n: &str| format!("unsupported HyperV Enlightenment feature: {n}");
    let features = parse_switches(e, unknown, |feature: Hyperv, c| {
        match feature {
            Hyperv::Stimer => {
                for d in c.elements() {
                    if d.name != "direct" {
                        return Err(unsupported(format!(
                            "unsupported Hyper-V stimer feature: {}",
                            d.name
                        )));
                    }
                    stimer_direct = Some(state_required(d)?);
                }
            }
            Hyperv::Spinlocks => {
                let retries = props::uint_base0(c, "retries", true, false)?.unwrap_or(0);
                if retries < 0xFFF {
                    return Err(internal_xml(
                        "HyperV spinlock retry count must be at least 4095",
                    ));
                }
                spinlocks_retries = retries;
            }
            Hyperv::VendorId => vendor_id = Some(parse_vendor_id(c)?),
            _ => {}
        }
        Ok(())
    })?;
    Ok(HypervFeatures {
        mode,
        features,
        spinlocks_retries,
        stimer_direct,
        vendor_id,
    })
}

fn parse_vendor_id(c: &Element) -> Result<String> {
    let Some(v) = c.attr_string("value") else {
        return Err(internal_xml(
            "missing 'value' attribute for HyperV feature 'vendor_id'",
        ));
    };
    if v.len() > 12 {
        return Err(internal_xml(
            "HyperV vendor_id value must not be more than 12 characters.",
        ));
    }
    if v.contains(',') {
        return Err(internal_xml("HyperV vendor_id value is invalid"));
    }
    Ok(v)
}

fn format_hyperv(w: &mut Writer, h: &HypervFeatures) {
    w.line(&format!("<hyperv mode='{}'>", h.mode.as_str()));
    w.indent();
    for (i, s) in h.features.iter().enumerate() {
        let Some(s) = s else { continue };
        let name = Hyperv::from_index(i);
        let mut a = Attrs::new();
        a.add("state", s.as_str());
        let on = *s == TriSwitch::On;
        match name {
            Hyperv::Spinlocks if on => {
                a.add("retries", h.spinlocks_retries);
            }
            Hyperv::VendorId if on => {
                a.opt("value", h.vendor_id.as_deref());
            }
            _ => {}
        }
        let direct = name == Hyperv::Stimer && on && h.stimer_direct == Some(TriSwitch::On);
        w.elem_with(name.as_str(), a.as_str(), |w| {
            if direct {
                w.line("<direct state='on'/>");
            }
        });
    }
    w.dedent();
    w.line("</hyperv>");
}

/// `virDomainFeaturesKVMDefParse`.
fn parse_kvm(e: &Element) -> Result<KvmFeatures> {
    let mut dirty_ring_size = 0;
    let unknown = |n: &str| format!("unsupported KVM feature: {n}");
    let features = parse_switches(e, unknown, |feature: Kvm, c| {
        if feature == Kvm::DirtyRing {
            let size = props::uint_base0(c, "size", true, false)?.unwrap_or(0);
            if !size.is_power_of_two() || !(1024..=65536).contains(&size) {
                return Err(internal_xml(
                    "dirty ring must be power of 2 and ranges [1024, 65536]",
                ));
            }
            dirty_ring_size = size;
        }
        Ok(())
    })?;
    Ok(KvmFeatures {
        features,
        dirty_ring_size,
    })
}

fn format_kvm(w: &mut Writer, k: &KvmFeatures) {
    w.block("kvm", "", |w| {
        switch_lines(w, &k.features, |name: Kvm, _| {
            if name == Kvm::DirtyRing && k.dirty_ring_size > 0 {
                format!(" size='{}'", k.dirty_ring_size)
            } else {
                String::new()
            }
        });
    });
}

/// `virDomainFeaturesXENDefParse`.
fn parse_xen(e: &Element) -> Result<XenFeatures> {
    let mut passthrough_mode = None;
    let unknown = |n: &str| format!("unsupported Xen feature: {n}");
    let features = parse_switches(e, unknown, |feature: Xen, c| {
        if feature == Xen::Passthrough {
            passthrough_mode = props::enumeration(c, "mode", false)?;
        }
        Ok(())
    })?;
    Ok(XenFeatures {
        features,
        passthrough_mode,
    })
}

fn format_xen(w: &mut Writer, x: &XenFeatures) {
    w.block("xen", "", |w| {
        switch_lines(w, &x.features, |name: Xen, s| {
            x.passthrough_mode
                .filter(|_| name == Xen::Passthrough && s == TriSwitch::On)
                .map(|m| format!(" mode='{}'", m.as_str()))
                .unwrap_or_default()
        });
    });
}

/// `virDomainFeaturesCapabilitiesDefParse`.
fn parse_caps(e: &Element) -> Result<ProcessCaps> {
    let mut c = ProcessCaps {
        policy: props::enumeration(e, "policy", false)?.unwrap_or(CapsPolicy::Default),
        caps: [None; 37],
    };
    let unknown = |n: &str| format!("unexpected capability feature '{n}'");
    for child in named_children::<ProcessCap>(e, unknown) {
        let (cap, n) = child?;
        c.caps[cap.index()] = state_or_on(n)?;
    }
    Ok(c)
}

fn format_caps(w: &mut Writer, c: &ProcessCaps) {
    let any = c.caps.iter().any(Option::is_some);
    if c.policy == CapsPolicy::Default && !any {
        return;
    }
    let a = format!(" policy='{}'", c.policy.as_str());
    w.elem_with("capabilities", &a, |w| {
        switch_lines(w, &c.caps, |_: ProcessCap, _| String::new())
    });
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_after_os};

    /// Output and messages checked against stock virsh on test:///default
    /// (the clock rides along: it follows `<features>`).
    #[test]
    fn features_and_clock_as_virsh() {
        let doc = "<features><acpi/><apic eoi='on'/><hyperv><relaxed state='on'/>\
                   <spinlocks state='on' retries='4096'/><stimer state='on'><direct state='on'/></stimer>\
                   <vendor_id state='on' value='KVM Hv'/></hyperv><kvm><hidden state='on'/>\
                   <dirty-ring state='on' size='4096'/></kvm><pmu/><smm><tseg unit='KiB'>49152</tseg></smm>\
                   <hpt resizing='required'><maxpagesize unit='MiB'>1</maxpagesize></hpt>\
                   <tcg><tb-cache unit='MiB'>128</tb-cache></tcg><capabilities policy='default'/></features>\
                   <clock offset='localtime' adjustment='3600'><timer name='rtc' tickpolicy='catchup' track='guest'>\
                   <catchup threshold='123' slew='120' limit='10000'/></timer>\
                   <timer name='tsc' frequency='3504000000' mode='native'/></clock>";
        assert_dump_holds(
            dump_after_os,
            doc,
            "  <features>\n    <acpi/>\n    <apic eoi='on'/>\n    <hyperv mode='custom'>\n      <relaxed state='on'/>\n      <spinlocks state='on' retries='4096'/>\n      <stimer state='on'>\n        <direct state='on'/>\n      </stimer>\n      <vendor_id state='on' value='KVM Hv'/>\n    </hyperv>\n    <kvm>\n      <hidden state='on'/>\n      <dirty-ring state='on' size='4096'/>\n    </kvm>\n    <pmu state='on'/>\n    <smm state='on'>\n      <tseg unit='MiB'>48</tseg>\n    </smm>\n    <hpt resizing='required'>\n      <maxpagesize unit='KiB'>1024</maxpagesize>\n    </hpt>\n    <tcg>\n      <tb-cache unit='KiB'>131072</tb-cache>\n    </tcg>\n  </features>\n  <clock offset='variable' adjustment='3600' basis='localtime'>\n    <timer name='rtc' tickpolicy='catchup' track='guest'>\n      <catchup threshold='123' slew='120' limit='10000'/>\n    </timer>\n    <timer name='tsc' frequency='3504000000' mode='native'/>\n  </clock>\n",
        );
        assert_errors(
            dump_after_os,
            &[
                (
                    "<features><hyperv><spinlocks state='on' retries='10'/></hyperv></features>",
                    "XML error: HyperV spinlock retry count must be at least 4095",
                ),
                (
                    "<features><hyperv><foo state='on'/></hyperv></features>",
                    "unsupported configuration: unsupported HyperV Enlightenment feature: foo",
                ),
                (
                    "<features><kvm><dirty-ring state='on' size='1000'/></kvm></features>",
                    "XML error: dirty ring must be power of 2 and ranges [1024, 65536]",
                ),
                (
                    "<features><gic version='none'/></features>",
                    "XML error: Invalid value for attribute 'version' in element 'gic': 'none'.",
                ),
                (
                    "<features><bogus/></features>",
                    "unsupported configuration: unexpected feature 'bogus'",
                ),
                (
                    "<clock offset='absolute'/>",
                    "internal error: missing 'start' attribute for clock with offset='absolute'",
                ),
                (
                    "<clock offset='utc'><timer name='x'/></clock>",
                    "XML error: Invalid value for attribute 'name' in element 'timer': 'x'.",
                ),
            ],
        );
    }
}
