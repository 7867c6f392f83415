//! `<cputune>`'s resctrl groups, `<cachetune>` and `<memorytune>`
//! (`virDomainResctrlDef`): parsed and checked as
//! `virDomainCachetuneDefParse`/`virDomainMemorytuneDefParse` with the
//! allocation rules of `util/virresctrl.c`, formatted as
//! `virDomainCachetuneDefFormat`/`virDomainMemorytuneDefFormat`.
//!
//! A group is one set of vCPUs; a `<memorytune>` naming the vCPUs of an
//! earlier group adds to it, so one group can format as both elements.

use super::props::{self, vir_enum, VirEnum};
use super::{format_bitmap, internal_xml};
use crate::xml::{Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

vir_enum! {
    /// `virCacheType`.
    pub enum CacheType { Both = "both", Code = "code", Data = "data" }
}

/// The only cache level a `<cachetune><monitor>` may name
/// (`VIR_DOMAIN_RESCTRL_MONITOR_CACHELEVEL`).
const MONITOR_CACHE_LEVEL: u32 = 3;

/// One `<cachetune><cache>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheAlloc {
    pub level: u32,
    pub kind: CacheType,
    /// The host cache's id.
    pub id: u32,
    pub bytes: u64,
}

/// What a `<monitor>` watches: its element says which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonitorKind {
    /// `<cachetune><monitor level='3'>`.
    Cache,
    /// `<memorytune><monitor>`.
    MemoryBandwidth,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Monitor {
    pub kind: MonitorKind,
    /// Sorted, a subset of the group's.
    pub vcpus: Vec<u32>,
}

/// One resctrl group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resctrl {
    /// Sorted, below the maximum vCPU count, never empty.
    pub vcpus: Vec<u32>,
    /// Sorted by (level, type, id), as `virResctrlAllocForeachCache` walks.
    pub caches: Vec<CacheAlloc>,
    /// (memory node, percent), sorted by node.
    pub bandwidths: Vec<(u32, u32)>,
    /// In document order, both kinds.
    pub monitors: Vec<Monitor>,
}

/// `VIR_FROM_RESCTRL`: the allocation rules' errors come from
/// util/virresctrl.c.
const FROM_RESCTRL: ErrorDomain = ErrorDomain(67);

fn resctrl_xml_error(msg: String) -> Error {
    Error::new(FROM_RESCTRL, ErrorCode::XML_ERROR, msg)
}

fn invalid_arg(msg: &str) -> Error {
    Error::new(ErrorDomain::DOMAIN, ErrorCode::INVALID_ARG, msg)
}

fn overlaps(a: &[u32], b: &[u32]) -> bool {
    a.iter().any(|x| b.binary_search(x).is_ok())
}

/// `virDomainResctrlParseVcpus`: the `vcpus` of `e`, cut to `max_vcpus`.
fn parse_vcpus(e: &Element, max_vcpus: u32) -> Result<Vec<u32>> {
    let Some(text) = e.attr("vcpus") else {
        return Err(internal_xml(format!(
            "Missing {} attribute 'vcpus'",
            e.name
        )));
    };
    let bits = props::bitmap(text).map_err(|_| {
        internal_xml(format!(
            "Invalid {} attribute 'vcpus' value '{text}'",
            e.name
        ))
    })?;
    Ok(bits.into_iter().filter(|b| *b < max_vcpus).collect())
}

impl Resctrl {
    fn new(vcpus: Vec<u32>) -> Resctrl {
        Resctrl {
            vcpus,
            caches: Vec::new(),
            bandwidths: Vec::new(),
            monitors: Vec::new(),
        }
    }

    /// `virResctrlAllocIsEmpty`.
    fn alloc_is_empty(&self) -> bool {
        self.caches.is_empty() && self.bandwidths.is_empty()
    }

    /// `virDomainCachetuneDefParseCache` with
    /// `virResctrlAllocCheckCollision`: `both` collides with any type of
    /// the same cache, the others with themselves.
    fn add_cache(&mut self, e: &Element) -> Result<()> {
        let id = props::uint(e, "id", true, false)?.unwrap_or(0);
        let level = props::uint(e, "level", true, false)?.unwrap_or(0);
        let kind: CacheType = props::enumeration(e, "type", true)?.unwrap_or(CacheType::Both);
        let bytes = props::scaled_attr(e.attr("size"), e.attr("unit"), "./@size", 1024)?;
        let collides = self.caches.iter().any(|c| {
            c.level == level
                && c.id == id
                && (c.kind == kind || c.kind == CacheType::Both || kind == CacheType::Both)
        });
        if collides {
            return Err(resctrl_xml_error(format!(
                "Colliding cache allocations for cache level '{level}' id '{id}', type '{kind}'"
            )));
        }
        let key = |c: &CacheAlloc| (c.level, c.kind.index(), c.id);
        let cache = CacheAlloc {
            level,
            kind,
            id,
            bytes,
        };
        let at = self.caches.partition_point(|c| key(c) < key(&cache));
        self.caches.insert(at, cache);
        Ok(())
    }

    /// `virDomainMemorytuneDefParseMemory` with
    /// `virResctrlAllocSetMemoryBandwidth`.
    fn add_bandwidth(&mut self, e: &Element) -> Result<()> {
        let node = props::uint(e, "id", true, false)?.unwrap_or(0);
        let percent = props::uint(e, "bandwidth", true, false)?.unwrap_or(0);
        if percent > 100 {
            return Err(resctrl_xml_error(
                "Memory Bandwidth value exceeding 100 is invalid.".into(),
            ));
        }
        match self.bandwidths.binary_search_by_key(&node, |(n, _)| *n) {
            Ok(_) => Err(resctrl_xml_error(format!(
                "Memory Bandwidth already defined for node {node}"
            ))),
            Err(at) => {
                self.bandwidths.insert(at, (node, percent));
                Ok(())
            }
        }
    }

    /// `virDomainResctrlMonDefParse`: the `<monitor>` children of `e`.
    fn add_monitors(&mut self, e: &Element, kind: MonitorKind, max_vcpus: u32) -> Result<()> {
        for m in e.children_named("monitor") {
            if kind == MonitorKind::Cache {
                let level = props::uint(m, "level", true, false)?.unwrap_or(0);
                if level != MONITOR_CACHE_LEVEL {
                    return Err(internal_xml(format!(
                        "Invalid monitor cache level '{level}'"
                    )));
                }
            }
            let monitor = Monitor {
                kind,
                vcpus: parse_vcpus(m, max_vcpus)?,
            };
            self.check_monitor(&monitor)?;
            self.monitors.push(monitor);
        }
        Ok(())
    }

    /// `virDomainResctrlValidateMonitor`.
    fn check_monitor(&self, monitor: &Monitor) -> Result<()> {
        let vcpus = &monitor.vcpus;
        if vcpus.is_empty() {
            return Err(invalid_arg("vcpus is empty"));
        }
        if !vcpus.iter().all(|v| self.vcpus.binary_search(v).is_ok()) {
            return Err(invalid_arg("Monitor vcpus conflicts with allocation"));
        }
        let equal_to_group = *vcpus == self.vcpus;
        let (mut overlap_any, mut overlap_outside_group) = (false, false);
        for other in &self.monitors {
            if other.vcpus == *vcpus {
                if other.kind == monitor.kind {
                    return Err(invalid_arg("Identical vcpus found in same type monitors"));
                }
                continue;
            }
            let overlap = overlaps(vcpus, &other.vcpus);
            overlap_any |= overlap;
            if !equal_to_group && other.vcpus != self.vcpus {
                overlap_outside_group |= overlap;
            }
        }
        if overlap_outside_group || (self.alloc_is_empty() && overlap_any) {
            return Err(invalid_arg("vcpus overlaps in resctrl groups"));
        }
        Ok(())
    }

    /// `virResctrlAllocGetID` as a fresh definition has it.
    fn alloc_id(&self) -> String {
        format!("vcpus_{}", format_bitmap(&self.vcpus))
    }

    fn format_element(
        &self,
        w: &mut Writer,
        name: &str,
        children: Vec<String>,
        kind: MonitorKind,
        live: bool,
    ) {
        let mut children = children;
        for m in self.monitors.iter().filter(|m| m.kind == kind) {
            let level = match kind {
                MonitorKind::Cache => format!("level='{MONITOR_CACHE_LEVEL}' "),
                MonitorKind::MemoryBandwidth => String::new(),
            };
            let vcpus = format_bitmap(&m.vcpus);
            children.push(format!("<monitor {level}vcpus='{vcpus}'/>"));
        }
        if children.is_empty() {
            return;
        }
        let id = if live {
            format!(" id='{}'", self.alloc_id())
        } else {
            String::new()
        };
        let vcpus = format_bitmap(&self.vcpus);
        w.line(&format!("<{name} vcpus='{vcpus}'{id}>"));
        w.indent();
        for c in children {
            w.line(&c);
        }
        w.dedent();
        w.line(&format!("</{name}>"));
    }

    fn format_cachetune(&self, w: &mut Writer, live: bool) {
        let caches = self.caches.iter().map(|c| {
            let (size, unit) = props::pretty_bytes(c.bytes);
            format!(
                "<cache id='{}' level='{}' type='{}' size='{size}' unit='{unit}'/>",
                c.id, c.level, c.kind
            )
        });
        self.format_element(w, "cachetune", caches.collect(), MonitorKind::Cache, live);
    }

    fn format_memorytune(&self, w: &mut Writer, live: bool) {
        let nodes = self
            .bandwidths
            .iter()
            .map(|(id, bw)| format!("<node id='{id}' bandwidth='{bw}'/>"));
        let kind = MonitorKind::MemoryBandwidth;
        self.format_element(w, "memorytune", nodes.collect(), kind, live);
    }
}

/// The group with exactly `vcpus`, if any (`virDomainResctrlVcpuMatch`);
/// a group that only overlaps them is an error.
fn find_group(groups: &[Resctrl], vcpus: &[u32]) -> Result<Option<usize>> {
    for (i, g) in groups.iter().enumerate() {
        if g.vcpus == vcpus {
            return Ok(Some(i));
        }
        if overlaps(&g.vcpus, vcpus) {
            return Err(internal_xml("Overlapping vcpus in resctrls"));
        }
    }
    Ok(None)
}

/// `virDomainCachetuneDefParse`.
fn parse_cachetune(groups: &mut Vec<Resctrl>, e: &Element, max_vcpus: u32) -> Result<()> {
    let vcpus = parse_vcpus(e, max_vcpus)?;
    if vcpus.is_empty() {
        return Ok(());
    }
    if find_group(groups, &vcpus)?.is_some() {
        return Err(internal_xml("Identical vcpus in cachetunes found"));
    }
    let mut group = Resctrl::new(vcpus);
    for c in e.children_named("cache") {
        group.add_cache(c)?;
    }
    group.add_monitors(e, MonitorKind::Cache, max_vcpus)?;
    if !group.caches.is_empty() || !group.monitors.is_empty() {
        groups.push(group);
    }
    Ok(())
}

/// `virDomainMemorytuneDefParse`: into the group of the same vCPUs when
/// there is one.
fn parse_memorytune(groups: &mut Vec<Resctrl>, e: &Element, max_vcpus: u32) -> Result<()> {
    let vcpus = parse_vcpus(e, max_vcpus)?;
    if vcpus.is_empty() {
        return Ok(());
    }
    let existing = find_group(groups, &vcpus)?;
    let mut fresh = Resctrl::new(vcpus);
    let group = match existing {
        Some(i) => &mut groups[i],
        None => &mut fresh,
    };
    let nodes = e.children_named("node").count();
    for n in e.children_named("node") {
        group.add_bandwidth(n)?;
    }
    let monitors_before = group.monitors.len();
    group.add_monitors(e, MonitorKind::MemoryBandwidth, max_vcpus)?;
    let monitors = group.monitors.len() - monitors_before;
    if existing.is_none() && (nodes > 0 || monitors > 0) {
        groups.push(fresh);
    }
    Ok(())
}

/// The groups of `<cputune>`: all `<cachetune>`s, then all
/// `<memorytune>`s, as libvirt reads them.
pub(crate) fn parse(cputune: &Element, max_vcpus: u32) -> Result<Vec<Resctrl>> {
    let mut groups = Vec::new();
    for e in cputune.children_named("cachetune") {
        parse_cachetune(&mut groups, e, max_vcpus)?;
    }
    for e in cputune.children_named("memorytune") {
        parse_memorytune(&mut groups, e, max_vcpus)?;
    }
    Ok(groups)
}

/// Every group's `<cachetune>`, then every group's `<memorytune>`; the
/// allocation `id` only in a running domain's live definition.
pub(crate) fn format(groups: &[Resctrl], w: &mut Writer, live: bool) {
    for g in groups {
        g.format_cachetune(w, live);
    }
    for g in groups {
        g.format_memorytune(w, live);
    }
}

#[cfg(test)]
#[path = "resctrl_tests.rs"]
mod tests;
