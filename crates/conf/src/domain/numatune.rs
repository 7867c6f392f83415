//! `<numatune>`: host NUMA policy for guest memory (`virDomainNuma`'s
//! tuning half), parsed as `virDomainNumatuneParseXML` with
//! `virDomainNumatuneSet`'s defaults, formatted as
//! `virDomainNumatuneFormatXML`.

use super::props::{self, vir_enum, VirEnum};
use super::{format_bitmap, internal_xml, unsupported};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainNumatuneMemMode`.
    pub enum MemMode {
        Strict = "strict", Preferred = "preferred",
        Interleave = "interleave", Restrictive = "restrictive",
    }
}

/// Where guest memory goes: a host nodeset, or numad's advice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    Static(Vec<u32>),
    Auto,
}

/// `<memory>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryTune {
    pub mode: MemMode,
    pub placement: Placement,
}

/// `<memnode>`: the policy of one guest NUMA cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemNode {
    pub cellid: u32,
    pub mode: MemMode,
    pub nodeset: Vec<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Numatune {
    pub memory: Option<MemoryTune>,
    /// Sorted by cell.
    pub memnodes: Vec<MemNode>,
}

/// A non-empty nodeset (`virBitmapParse` + `virBitmapIsAllClear`).
fn nodeset(s: &str) -> Result<Vec<u32>> {
    let bits = props::bitmap(s)?;
    if bits.is_empty() {
        return Err(unsupported(format!("Invalid value of 'nodeset': {s}")));
    }
    Ok(bits)
}

/// `<memory>` of `<numatune>` with `virDomainNumatuneSet`'s defaults;
/// `placement_static` is `<vcpu placement='static'>`.
fn parse_memory(m: Option<&Element>, placement_static: bool) -> Result<Option<MemoryTune>> {
    let Some(m) = m else {
        // Without <memory>, automatic vCPU placement implies it for memory.
        let auto = MemoryTune {
            mode: MemMode::Strict,
            placement: Placement::Auto,
        };
        return Ok((!placement_static).then_some(auto));
    };
    let mode = match m.attr("mode") {
        None => None,
        Some(v) => Some(
            MemMode::from_str_opt(v)
                .ok_or_else(|| unsupported(format!("Unsupported NUMA memory tuning mode '{v}'")))?,
        ),
    };
    let placement = match m.attr("placement") {
        None => None,
        Some(v @ ("default" | "static" | "auto")) => Some(v),
        Some(v) => {
            return Err(unsupported(format!(
                "Unsupported NUMA memory placement mode '{v}'"
            )))
        }
    };
    let set = m.attr("nodeset").map(nodeset).transpose()?;
    if mode.is_none() && placement.is_none() && set.is_none() {
        return Ok(None);
    }
    let auto = match placement.unwrap_or(if set.is_some() { "static" } else { "default" }) {
        "default" => set.is_none() && !placement_static,
        p => p == "auto",
    };
    let placement = match (auto, set) {
        // A nodeset with automatic placement is dropped.
        (true, _) => Placement::Auto,
        (false, Some(s)) => Placement::Static(s),
        (false, None) => {
            return Err(unsupported(
                "nodeset for NUMA memory tuning must be set if 'placement' is 'static'",
            ))
        }
    };
    let mode = mode.unwrap_or(MemMode::Strict);
    Ok(Some(MemoryTune { mode, placement }))
}

/// `virDomainNumatuneNodeParseXML`.
fn parse_memnodes(nt: &Element, memory: &Option<MemoryTune>, cells: usize) -> Result<Vec<MemNode>> {
    let nodes: Vec<&Element> = nt.children_named("memnode").collect();
    if nodes.is_empty() {
        return Ok(Vec::new());
    }
    if memory
        .as_ref()
        .is_some_and(|m| m.placement == Placement::Auto)
    {
        return Err(unsupported(
            "Per-node binding is not compatible with automatic NUMA placement.",
        ));
    }
    if cells == 0 {
        return Err(internal_xml(
            "Element 'memnode' is invalid without any guest NUMA cells",
        ));
    }
    let restrictive = memory
        .as_ref()
        .is_some_and(|m| m.mode == MemMode::Restrictive);
    let mut out: Vec<MemNode> = Vec::new();
    for n in nodes {
        let cellid = props::uint(n, "cellid", true, false)?.unwrap_or(0);
        if cellid as usize >= cells {
            return Err(internal_xml(
                "Argument 'cellid' in memnode element must correspond to existing guest's NUMA cell",
            ));
        }
        if out.iter().any(|m| m.cellid == cellid) {
            return Err(internal_xml(format!(
                "Multiple memnode elements with cellid {cellid}"
            )));
        }
        let mode = props::enumeration(n, "mode", false)?.unwrap_or(MemMode::Strict);
        if restrictive && mode != MemMode::Restrictive {
            return Err(internal_xml(
                "'restrictive' mode is required in memnode element when mode is 'restrictive' in memory element",
            ));
        }
        let Some(set) = n.attr("nodeset") else {
            return Err(internal_xml(
                "Missing required nodeset attribute in memnode element",
            ));
        };
        out.push(MemNode {
            cellid,
            mode,
            nodeset: nodeset(set)?,
        });
    }
    out.sort_by_key(|m| m.cellid);
    Ok(out)
}

impl Numatune {
    /// `placement_static`: `<vcpu placement='static'>`; `cells`: the guest's
    /// NUMA cell count.
    pub(crate) fn parse(root: &Element, placement_static: bool, cells: usize) -> Result<Numatune> {
        let mut tunes = root.children_named("numatune");
        let nt = tunes.next();
        if tunes.next().is_some() {
            return Err(internal_xml("only one numatune is supported"));
        }
        let memory = parse_memory(nt.and_then(|n| n.child("memory")), placement_static)?;
        let memnodes = match nt {
            Some(nt) => parse_memnodes(nt, &memory, cells)?,
            None => Vec::new(),
        };
        Ok(Numatune { memory, memnodes })
    }

    /// Whether numad places memory (which then places vCPUs too).
    pub fn placement_auto(&self) -> bool {
        self.memory
            .as_ref()
            .is_some_and(|m| m.placement == Placement::Auto)
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        if self.memory.is_none() && self.memnodes.is_empty() {
            return;
        }
        w.block("numatune", "", |w| {
            if let Some(m) = &self.memory {
                let where_ = match &m.placement {
                    Placement::Static(set) => format!("nodeset='{}'", format_bitmap(set)),
                    Placement::Auto => "placement='auto'".to_string(),
                };
                w.line(&format!("<memory mode='{}' {where_}/>", m.mode.as_str()));
            }
            for n in &self.memnodes {
                w.line(&format!(
                    "<memnode cellid='{}' mode='{}' nodeset='{}'/>",
                    n.cellid,
                    n.mode.as_str(),
                    format_bitmap(&n.nodeset)
                ));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_before_os as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn numatune_as_virsh() {
        let auto = "  <numatune>\n    <memory mode='strict' placement='auto'/>\n  </numatune>\n";
        let out = dump("<vcpu placement='auto'>2</vcpu>").unwrap();
        assert!(out.contains(&format!("<vcpu placement='auto'>2</vcpu>\n{auto}")));
        // numad's memory placement moves the vCPUs too, unless pinned.
        let out = dump("<vcpu>2</vcpu><numatune><memory placement='auto'/></numatune>").unwrap();
        assert!(out.contains(&format!("<vcpu placement='auto'>2</vcpu>\n{auto}")));
        let out = dump(
            "<vcpu cpuset='1'>2</vcpu><numatune><memory placement='auto' nodeset='3'/></numatune>",
        )
        .unwrap();
        assert!(out.contains(&format!(
            "<vcpu placement='static' cpuset='1'>2</vcpu>\n{auto}"
        )));
        let out =
            dump("<numatune><memory mode='interleave' nodeset='0-3,^2'/></numatune>").unwrap();
        assert!(out.contains("<memory mode='interleave' nodeset='0-1,3'/>"));
        assert!(!dump("<numatune/>").unwrap().contains("numatune"));
        assert_errors(
            dump,
            &[
                ("<numatune><memory placement='static'/></numatune>", "unsupported configuration: nodeset for NUMA memory tuning must be set if 'placement' is 'static'"),
                ("<numatune><memory mode='bogus'/></numatune>", "unsupported configuration: Unsupported NUMA memory tuning mode 'bogus'"),
                ("<numatune><memnode cellid='0' nodeset='1'/></numatune>", "XML error: Element 'memnode' is invalid without any guest NUMA cells"),
                ("<numatune/><numatune/>", "XML error: only one numatune is supported"),
            ],
        );
    }
}
