//! Guest NUMA's HMAT half: each cell's memory-side `<cache>`s and the
//! `<interconnects>` (latencies and bandwidths between cells), parsed as
//! `virDomainNumaDefNodeCacheParseXML` and `virDomainNumaDefParseXML`,
//! checked as `virDomainNumaDefValidate`, formatted as
//! `virNumaCacheFormat`/`virNumaInterconnectFormat`.

use super::numa::NumaCell;
use super::props::{self, vir_enum, VirEnum};
use super::{internal_xml, xml_invalid_attr};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virNumaCacheAssociativity`.
    pub enum CacheAssociativity { None = "none", Direct = "direct", Full = "full" }

    /// `virNumaCachePolicy`.
    pub enum CachePolicy { None = "none", Writeback = "writeback", Writethrough = "writethrough" }

    /// `virMemoryLatency`.
    pub enum MemoryAccess { None = "none", Access = "access", Read = "read", Write = "write" }
}

/// One `<cell><cache>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumaCache {
    /// 1 to 3 once validated.
    pub level: u32,
    pub size_kib: u64,
    /// In bytes; 0 is unset.
    pub line: u32,
    pub associativity: CacheAssociativity,
    pub policy: CachePolicy,
}

/// `<latency>` or `<bandwidth>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterconnectKind {
    Latency,
    Bandwidth,
}

/// One `<interconnects>` child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interconnect {
    pub kind: InterconnectKind,
    pub initiator: u32,
    pub target: u32,
    /// The target's cache level; 0 for its memory.
    pub cache: u32,
    pub access: MemoryAccess,
    /// Nanoseconds for a latency, KiB/s for a bandwidth.
    pub value: u64,
}

/// A required attribute read as libvirt's cache parser reads it, with
/// its "Missing '...' attribute in cache element" message.
fn cache_attr<'a>(e: &'a Element, name: &str, cell: u32) -> Result<&'a str> {
    e.attr(name).ok_or_else(|| {
        internal_xml(format!(
            "Missing '{name}' attribute in cache element for NUMA node {cell}"
        ))
    })
}

fn parse_cache(e: &Element, cell: u32) -> Result<NumaCache> {
    let level = cache_attr(e, "level", cell)?;
    let level = level
        .parse::<u32>()
        .ok()
        .filter(|l| *l != 0)
        .ok_or_else(|| {
            internal_xml(format!(
                "Invalid 'level' attribute in cache element for NUMA node {cell}"
            ))
        })?;
    let assoc = cache_attr(e, "associativity", cell)?;
    let associativity = CacheAssociativity::from_str_opt(assoc)
        .ok_or_else(|| internal_xml(format!("Invalid cache associativity '{assoc}'")))?;
    // libvirt reports a missing policy, carries on, then fails on it.
    let policy = e.attr("policy").unwrap_or("(null)");
    let policy = CachePolicy::from_str_opt(policy)
        .ok_or_else(|| internal_xml(format!("Invalid cache policy '{policy}'")))?;
    // The unit XPaths name child elements, so units are never read: the
    // size is in KiB, the line in bytes.
    let size = e.child("size").and_then(|s| s.attr("value"));
    let size_kib = props::memory_kib(size, None, "./size/@value", true)?.unwrap_or(0);
    let line = e.child("line").and_then(|l| l.attr("value"));
    let line = props::scaled_attr(line, None, "./line/@value", 1)?;
    Ok(NumaCache {
        level,
        size_kib,
        line: line as u32,
        associativity,
        policy,
    })
}

/// The `<cache>`s of cell `cell`.
pub(crate) fn parse_caches(e: &Element, cell: u32) -> Result<Vec<NumaCache>> {
    e.children_named("cache")
        .map(|c| parse_cache(c, cell))
        .collect()
}

fn parse_interconnect(e: &Element, kind: InterconnectKind) -> Result<Interconnect> {
    let value = match kind {
        InterconnectKind::Latency => {
            let Some(v) = e.attr("value") else {
                return Err(props::missing(e, "value"));
            };
            let digits = v.trim_start();
            digits
                .strip_prefix('+')
                .unwrap_or(digits)
                .parse::<u64>()
                .map_err(|_| props::invalid_uint(e, "value", v))?
        }
        InterconnectKind::Bandwidth => {
            props::memory_kib(e.attr("value"), e.attr("unit"), "./@value", true)?.unwrap_or(0)
        }
    };
    let initiator = props::uint(e, "initiator", true, false)?.unwrap_or(0);
    let target = props::uint(e, "target", true, false)?.unwrap_or(0);
    let cache = props::uint(e, "cache", false, false)?.unwrap_or(0);
    let access = props::enumeration(e, "type", true)?.unwrap_or(MemoryAccess::None);
    if access == MemoryAccess::None {
        return Err(xml_invalid_attr("type", &e.name, "none"));
    }
    Ok(Interconnect {
        kind,
        initiator,
        target,
        cache,
        access,
        value,
    })
}

/// `./interconnects[1]/latency|bandwidth` of `<numa>`, in document order;
/// other children are ignored.
pub(crate) fn parse_interconnects(numa: &Element) -> Result<Vec<Interconnect>> {
    let Some(list) = numa.child("interconnects") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for e in list.elements() {
        let kind = match e.name.as_str() {
            "latency" => InterconnectKind::Latency,
            "bandwidth" => InterconnectKind::Bandwidth,
            _ => continue,
        };
        out.push(parse_interconnect(e, kind)?);
    }
    Ok(out)
}

/// `virDomainNumaDefValidate`.
pub(crate) fn validate(cells: &[NumaCell], links: &[Interconnect]) -> Result<()> {
    for cell in cells {
        for (i, c) in cell.caches.iter().enumerate() {
            if c.level > 3 {
                return Err(internal_xml("Ain't nobody heard of that much cache level"));
            }
            if cell.caches[..i].iter().any(|o| o.level == c.level) {
                return Err(internal_xml(format!(
                    "Cache level '{}' already defined",
                    c.level
                )));
            }
        }
    }
    for (i, l) in links.iter().enumerate() {
        let cell = |id: u32| cells.get(id as usize);
        let Some(initiator) = cell(l.initiator) else {
            return Err(internal_xml(
                "'initiator' refers to a non-existent NUMA node",
            ));
        };
        let Some(target) = cell(l.target) else {
            return Err(internal_xml("'target' refers to a non-existent NUMA node"));
        };
        if initiator.cpus.is_none() {
            return Err(internal_xml("NUMA nodes without CPUs can't be initiator"));
        }
        if l.cache > 0 && !target.caches.iter().any(|c| c.level == l.cache) {
            return Err(internal_xml(
                "'cache' refers to a non-existent NUMA node cache",
            ));
        }
        for o in &links[..i] {
            let same = (o.kind, o.initiator, o.target, o.cache, o.access)
                == (l.kind, l.initiator, l.target, l.cache, l.access);
            if same {
                return Err(internal_xml("Duplicate info for NUMA latencies"));
            }
            if l.initiator != l.target && l.initiator == o.target && l.target == o.initiator {
                return Err(internal_xml("Link already defined"));
            }
        }
    }
    Ok(())
}

pub(crate) fn format_caches(caches: &[NumaCache], w: &mut Writer) {
    for c in caches {
        let mut a = Attrs::new();
        a.add("level", c.level);
        if c.associativity != CacheAssociativity::None {
            a.add("associativity", c.associativity.as_str());
        }
        if c.policy != CachePolicy::None {
            a.add("policy", c.policy.as_str());
        }
        w.line(&format!("<cache{}>", a.as_str()));
        w.indent();
        w.line(&format!("<size value='{}' unit='KiB'/>", c.size_kib));
        if c.line != 0 {
            w.line(&format!("<line value='{}' unit='B'/>", c.line));
        }
        w.dedent();
        w.line("</cache>");
    }
}

pub(crate) fn format_interconnects(links: &[Interconnect], w: &mut Writer) {
    if links.is_empty() {
        return;
    }
    w.line("<interconnects>");
    w.indent();
    for l in links {
        let mut a = Attrs::new();
        a.add("initiator", l.initiator);
        a.add("target", l.target);
        if l.cache > 0 {
            a.add("cache", l.cache);
        }
        a.add("type", l.access.as_str());
        a.add("value", l.value);
        let (name, unit) = match l.kind {
            InterconnectKind::Latency => ("latency", ""),
            InterconnectKind::Bandwidth => ("bandwidth", " unit='KiB'"),
        };
        w.line(&format!("<{name}{}{unit}/>", a.as_str()));
    }
    w.dedent();
    w.line("</interconnects>");
}

#[cfg(test)]
#[path = "numa_hmat_tests.rs"]
mod tests;
