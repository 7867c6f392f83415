//! `<cpu>`.

use super::{unsupported, xml_invalid_attr};
use crate::xml::{escape, Attrs, Element, Writer};
use rvirt_util::Result;

/// `<cpu>` of a guest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuDef {
    pub mode: Option<String>,
    pub match_: Option<String>,
    pub check: Option<String>,
    pub migratable: Option<String>,
    pub model: Option<String>,
    pub fallback: Option<String>,
    pub vendor_id: Option<String>,
    pub vendor: Option<String>,
    /// (sockets, dies, cores, threads)
    pub topology: Option<(u32, u32, u32, u32)>,
    /// (policy, name)
    pub features: Vec<(String, String)>,
    /// Guest NUMA cells.
    pub numa: Vec<super::numa::NumaCell>,
}

const MODES: &[&str] = &["custom", "host-model", "host-passthrough", "maximum"];
const MATCHES: &[&str] = &["minimum", "exact", "strict"];
const CHECKS: &[&str] = &["none", "partial", "full"];
const POLICIES: &[&str] = &["force", "require", "optional", "disable", "forbid"];

fn topo_attr(t: &Element, name: &str, default: u32) -> Result<u32> {
    match t.attr(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .map_err(|_| super::internal_xml(format!("Invalid '{name}' value in CPU topology"))),
    }
}

impl CpuDef {
    pub(crate) fn parse(e: &Element) -> Result<CpuDef> {
        let mut def = CpuDef {
            numa: super::numa::parse(e)?,
            ..CpuDef::default()
        };
        if let Some(m) = e.attr("mode") {
            if !MODES.contains(&m) {
                return Err(unsupported(format!("Invalid mode attribute '{m}'")));
            }
            def.mode = Some(m.to_string());
        }
        if let Some(m) = e.attr("match") {
            if !MATCHES.contains(&m) {
                return Err(xml_invalid_attr("match", "cpu", m));
            }
            def.match_ = Some(m.to_string());
        }
        if let Some(c) = e.attr("check") {
            if !CHECKS.contains(&c) {
                return Err(xml_invalid_attr("check", "cpu", c));
            }
            def.check = Some(c.to_string());
        }
        def.migratable = e.attr_string("migratable");
        if let Some(m) = e.child("model") {
            def.model = Some(m.text());
            def.fallback = m.attr_string("fallback");
            def.vendor_id = m.attr_string("vendor_id");
            if def.fallback.is_none() && def.mode.as_deref() != Some("host-passthrough") {
                def.fallback = Some("allow".into());
            }
        }
        def.vendor = e.child_text("vendor");
        if let Some(t) = e.child("topology") {
            def.topology = Some((
                topo_attr(t, "sockets", 1)?,
                topo_attr(t, "dies", 1)?,
                topo_attr(t, "cores", 1)?,
                topo_attr(t, "threads", 1)?,
            ));
        }
        for f in e.children_named("feature") {
            let policy = f.attr("policy").unwrap_or("require");
            if !POLICIES.contains(&policy) {
                return Err(xml_invalid_attr("policy", "feature", policy));
            }
            let Some(name) = f.attr("name") else {
                return Err(super::internal_xml("Invalid CPU feature name"));
            };
            def.features.push((policy.to_string(), name.to_string()));
        }
        if def.model.is_some() {
            if def.mode.is_none() {
                def.mode = Some("custom".into());
            }
            if def.match_.is_none() && def.mode.as_deref() == Some("custom") {
                def.match_ = Some("exact".into());
            }
        }
        Ok(def)
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.opt("mode", self.mode.as_deref());
        if self.mode.as_deref().unwrap_or("custom") == "custom" {
            a.opt("match", self.match_.as_deref());
        }
        a.opt("check", self.check.as_deref());
        a.opt("migratable", self.migratable.as_deref());
        w.elem_with("cpu", a.as_str(), |w| {
            if let Some(m) = &self.model {
                let mut a = Attrs::new();
                a.opt("fallback", self.fallback.as_deref());
                a.opt("vendor_id", self.vendor_id.as_deref());
                w.line(&format!("<model{}>{}</model>", a.as_str(), escape(m)));
            }
            w.text_elem("vendor", self.vendor.as_deref());
            if let Some((s, d, c, t)) = self.topology {
                w.line(&format!(
                    "<topology sockets='{s}' dies='{d}' cores='{c}' threads='{t}'/>"
                ));
            }
            for (p, n) in &self.features {
                w.line(&format!(
                    "<feature policy='{}' name='{}'/>",
                    escape(p),
                    escape(n)
                ));
            }
            super::numa::format(&self.numa, w);
        });
    }
}
