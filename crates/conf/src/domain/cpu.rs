//! `<cpu>` of a guest: parsed as `virCPUDefParseXML` (guest type),
//! formatted as `virCPUDefFormatBufFull`.

use super::props::{self, vir_enum, TriSwitch, VirEnum};
use super::{internal_xml, unsupported};
use crate::xml::{escape, Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virCPUMode`.
    pub enum CpuMode { Custom = "custom", HostModel = "host-model",
        HostPassthrough = "host-passthrough", Maximum = "maximum" }

    /// `virCPUMatch`.
    pub enum CpuMatch { Exact = "exact", Minimum = "minimum", Strict = "strict" }

    /// `virCPUCheck` (`default` is the unset value, never formatted).
    pub enum CpuCheck { Default = "default", None = "none", Partial = "partial", Full = "full" }

    /// `virCPUFallback`.
    pub enum CpuFallback { Allow = "allow", Forbid = "forbid" }

    /// `virCPUFeaturePolicy`.
    pub enum FeaturePolicy { Force = "force", Require = "require", Optional = "optional",
        Disable = "disable", Forbid = "forbid" }

    /// `virCPUCacheMode`.
    pub enum CacheMode { Emulate = "emulate", Passthrough = "passthrough", Disable = "disable" }

    /// `virCPUMaxPhysAddrMode`.
    pub enum MaxPhysAddrMode { Emulate = "emulate", Passthrough = "passthrough" }
}

/// `<topology>`: sockets, dies, cores, threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Topology {
    pub sockets: u32,
    pub dies: u32,
    pub cores: u32,
    pub threads: u32,
}

/// `<cache level mode>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuCache {
    pub level: Option<i32>,
    pub mode: CacheMode,
}

/// `<maxphysaddr mode bits>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPhysAddr {
    pub mode: MaxPhysAddrMode,
    pub bits: Option<i32>,
}

/// `<feature policy name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuFeature {
    pub policy: FeaturePolicy,
    pub name: String,
}

/// `<cpu>` of a guest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuDef {
    /// `None` is libvirt's default, custom.
    pub mode: Option<CpuMode>,
    /// `None` is libvirt's default, exact.
    pub match_: Option<CpuMatch>,
    pub check: Option<CpuCheck>,
    pub migratable: Option<TriSwitch>,
    pub model: Option<String>,
    /// `None` is libvirt's default, allow.
    pub fallback: Option<CpuFallback>,
    pub vendor_id: Option<String>,
    pub vendor: Option<String>,
    pub topology: Option<Topology>,
    pub cache: Option<CpuCache>,
    pub maxphysaddr: Option<MaxPhysAddr>,
    pub features: Vec<CpuFeature>,
    /// Guest NUMA cells.
    pub numa: Vec<super::numa::NumaCell>,
    /// Their `<interconnects>` (HMAT).
    pub numa_interconnects: Vec<super::numa_hmat::Interconnect>,
}

fn parse_topology(t: &Element) -> Result<Topology> {
    let required =
        |name| Ok::<u32, rvirt_util::Error>(props::uint(t, name, true, true)?.unwrap_or(1));
    Ok(Topology {
        sockets: required("sockets")?,
        dies: props::uint(t, "dies", false, true)?.unwrap_or(1),
        cores: required("cores")?,
        threads: required("threads")?,
    })
}

fn parse_cache(e: &Element) -> Result<Option<CpuCache>> {
    let mut nodes = e.children_named("cache");
    let Some(c) = nodes.next() else {
        return Ok(None);
    };
    if nodes.next().is_some() {
        return Err(internal_xml(
            "at most one CPU cache element may be specified",
        ));
    }
    let level = props::int_nonneg(c, "level")?;
    if level.is_some_and(|l| !(1..=3).contains(&l)) {
        return Err(internal_xml(
            "invalid CPU cache level, must be in range [1,3]",
        ));
    }
    let mode = props::enumeration(c, "mode", true)?.unwrap_or(CacheMode::Emulate);
    Ok(Some(CpuCache { level, mode }))
}

fn parse_maxphysaddr(e: &Element) -> Result<Option<MaxPhysAddr>> {
    let Some(m) = e.child("maxphysaddr") else {
        return Ok(None);
    };
    Ok(Some(MaxPhysAddr {
        mode: props::enumeration(m, "mode", true)?.unwrap_or(MaxPhysAddrMode::Emulate),
        bits: props::int_nonneg(m, "bits")?,
    }))
}

fn parse_features(e: &Element, def: &CpuDef) -> Result<Vec<CpuFeature>> {
    let mut features: Vec<CpuFeature> = Vec::new();
    for f in e.children_named("feature") {
        if def.model.is_none() && def.mode() == CpuMode::Custom {
            return Err(internal_xml(
                "Non-empty feature list specified without CPU model",
            ));
        }
        let policy = match f.attr("policy") {
            None => FeaturePolicy::Require,
            Some(p) => FeaturePolicy::from_str_opt(p)
                .ok_or_else(|| unsupported("Invalid CPU feature policy"))?,
        };
        let name = f.attr("name").filter(|n| !n.is_empty());
        let Some(name) = name else {
            return Err(internal_xml("Invalid CPU feature name"));
        };
        if features.iter().any(|g| g.name == name) {
            return Err(internal_xml(format!(
                "CPU feature '{name}' specified more than once"
            )));
        }
        features.push(CpuFeature {
            policy,
            name: name.to_string(),
        });
    }
    Ok(features)
}

/// `<model fallback vendor_id>`, read only for CPUs that have a model.
fn parse_model_attrs(m: &Element, def: &mut CpuDef) -> Result<()> {
    if let Some(f) = m.attr("fallback") {
        let f = CpuFallback::from_str_opt(f)
            .ok_or_else(|| unsupported("Invalid fallback attribute"))?;
        def.fallback = Some(f);
    }
    if let Some(v) = m.attr("vendor_id") {
        if v.len() != 12 {
            return Err(internal_xml("vendor_id must be exactly 12 characters long"));
        }
        if v.contains(',') {
            return Err(internal_xml("vendor id is invalid"));
        }
        def.vendor_id = Some(v.to_string());
    }
    Ok(())
}

impl CpuDef {
    /// The mode, custom when unset.
    pub fn mode(&self) -> CpuMode {
        self.mode.unwrap_or(CpuMode::Custom)
    }

    pub(crate) fn parse(e: &Element) -> Result<CpuDef> {
        let (numa, numa_interconnects) = super::numa::parse(e)?;
        let mut def = CpuDef {
            numa,
            numa_interconnects,
            ..CpuDef::default()
        };
        if let Some(m) = e.attr("mode") {
            let mode = CpuMode::from_str_opt(m)
                .ok_or_else(|| unsupported(format!("Invalid mode attribute '{m}'")))?;
            def.mode = Some(mode);
        }
        def.migratable = props::triswitch(e, "migratable")?;
        let passthrough = matches!(def.mode(), CpuMode::HostPassthrough | CpuMode::Maximum);
        if def.migratable.is_some() && !passthrough {
            return Err(unsupported(
                "Attribute migratable is only allowed for 'host-passthrough' / 'maximum' CPU mode",
            ));
        }
        def.match_ = props::enumeration(e, "match", false)?;
        def.check = props::enumeration(e, "check", false)?.filter(|c| *c != CpuCheck::Default);
        let model = e.child("model");
        // virXPathString: an empty text is no value.
        def.model = model.map(Element::text).filter(|m| !m.is_empty());
        if let Some(m) = model.filter(|_| !passthrough) {
            parse_model_attrs(m, &mut def)?;
        }
        def.vendor = e
            .child("vendor")
            .map(Element::text)
            .filter(|v| !v.is_empty());
        if def.vendor.is_some() && def.model.is_none() {
            return Err(internal_xml("CPU vendor specified without CPU model"));
        }
        def.topology = e.child("topology").map(parse_topology).transpose()?;
        def.features = parse_features(e, &def)?;
        def.cache = parse_cache(e)?;
        def.maxphysaddr = parse_maxphysaddr(e)?;
        Ok(def)
    }

    /// The `<cpu>` attributes, formatted unless the CPU only gives
    /// topology, cache or NUMA cells.
    fn attrs(&self) -> Attrs {
        let mut a = Attrs::new();
        let mode = self.mode();
        if mode == CpuMode::Custom && self.model.is_none() {
            return a;
        }
        a.add("mode", mode.as_str());
        if mode == CpuMode::Custom {
            a.add("match", self.match_.unwrap_or(CpuMatch::Exact).as_str());
        }
        a.opt("check", self.check.map(VirEnum::as_str));
        if matches!(mode, CpuMode::HostPassthrough | CpuMode::Maximum) {
            a.opt("migratable", self.migratable.map(VirEnum::as_str));
        }
        a
    }

    fn format_model(&self, w: &mut Writer) {
        if !matches!(self.mode(), CpuMode::Custom | CpuMode::HostModel) {
            return;
        }
        if self.model.is_some() || self.vendor_id.is_some() {
            let mut a = Attrs::new();
            if self.model.is_some() {
                a.add(
                    "fallback",
                    self.fallback.unwrap_or(CpuFallback::Allow).as_str(),
                );
            }
            a.opt("vendor_id", self.vendor_id.as_deref());
            match &self.model {
                Some(m) => w.line(&format!("<model{}>{}</model>", a.as_str(), escape(m))),
                None => w.line(&format!("<model{}/>", a.as_str())),
            }
        }
        w.text_elem("vendor", self.vendor.as_deref());
    }

    /// Nothing for a `<cpu/>` with neither attributes nor children
    /// (`virXMLFormatElement`).
    pub(crate) fn format(&self, w: &mut Writer) {
        let attrs = self.attrs();
        let mut body = Writer::default();
        self.format_body(&mut body);
        if attrs.as_str().is_empty() && body.finish().is_empty() {
            return;
        }
        w.elem_with("cpu", attrs.as_str(), |w| self.format_body(w));
    }

    /// The `<cpu>` element on its own (a driver's status file keeps the
    /// configured CPU this way, as libvirt's `origCPU`); empty when it
    /// has nothing to say.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new();
        self.format(&mut w);
        w.finish()
    }

    /// A `<cpu>` element read on its own (what [`CpuDef::to_xml`] wrote).
    pub fn from_element(e: &Element) -> Result<CpuDef> {
        CpuDef::parse(e)
    }

    fn format_body(&self, w: &mut Writer) {
        {
            self.format_model(w);
            if let Some(t) = self.topology {
                w.line(&format!(
                    "<topology sockets='{}' dies='{}' cores='{}' threads='{}'/>",
                    t.sockets, t.dies, t.cores, t.threads
                ));
            }
            if let Some(c) = self.cache {
                let level = c.level.map(|l| format!("level='{l}' ")).unwrap_or_default();
                w.line(&format!("<cache {level}mode='{}'/>", c.mode.as_str()));
            }
            if let Some(m) = self.maxphysaddr {
                let bits = m.bits.map(|b| format!(" bits='{b}'")).unwrap_or_default();
                w.line(&format!("<maxphysaddr mode='{}'{bits}/>", m.mode.as_str()));
            }
            for f in &self.features {
                w.line(&format!(
                    "<feature policy='{}' name='{}'/>",
                    f.policy.as_str(),
                    escape(&f.name)
                ));
            }
            super::numa::format(&self.numa, &self.numa_interconnects, w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_around_os};

    fn dump(cpu: &str) -> Result<String, String> {
        dump_around_os("<memory>1024</memory><vcpu>4</vcpu>", cpu)
    }

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn cpu_as_virsh() {
        assert_dump_holds(
            dump,
            "<cpu><model fallback='forbid' vendor_id='GenuineIntel'>core2duo</model><vendor>Intel</vendor>\
             <topology sockets='1' cores='2' threads='2'/><cache level='3' mode='emulate'/>\
             <maxphysaddr mode='emulate' bits='42'/><feature name='vmx'/><feature policy='optional' name='lahf_lm'/></cpu>",
            "  <cpu mode='custom' match='exact'>
    <model fallback='forbid' vendor_id='GenuineIntel'>core2duo</model>
    <vendor>Intel</vendor>
    <topology sockets='1' dies='1' cores='2' threads='2'/>
    <cache level='3' mode='emulate'/>
    <maxphysaddr mode='emulate' bits='42'/>
    <feature policy='require' name='vmx'/>
    <feature policy='optional' name='lahf_lm'/>
  </cpu>
",
        );
        assert_dump_holds(
            dump,
            "<cpu mode='host-model'><model vendor_id='GenuineIntel'/><cache mode='passthrough'/></cpu>",
            "  <cpu mode='host-model'>
    <model vendor_id='GenuineIntel'/>
    <cache mode='passthrough'/>
  </cpu>
",
        );
        assert!(!dump("<cpu/>").unwrap().contains("<cpu"));
        assert_errors(
            dump,
            &[
                ("<cpu mode='host-passthrough'><model fallback='bad'>x</model><cache level='0' mode='disable'/></cpu>", "XML error: invalid CPU cache level, must be in range [1,3]"),
                ("<cpu><feature name='x'/></cpu>", "XML error: Non-empty feature list specified without CPU model"),
            ],
        );
    }
}
