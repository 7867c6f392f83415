//! `<memoryBacking>`: how guest memory is backed (the `virDomainMemtune`
//! fields of `virDomainDefParseMemory`), with the hugepage checks of
//! `virDomainDefPostParseMemtune` / `virDomainDefMemtuneValidate`, and
//! `virDomainMemorybackingFormat`.

use super::props::{self, vir_enum, VirEnum};
use super::{format_bitmap, internal_xml, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

vir_enum! {
    /// `virDomainMemorySource` (its "none" is the unset value).
    pub enum MemorySource { None = "none", File = "file", Anonymous = "anonymous", Memfd = "memfd" }

    /// `virDomainMemoryAccess` (its "default" is the unset value).
    pub enum MemoryAccess { Default = "default", Shared = "shared", Private = "private" }

    /// `virDomainMemoryAllocation` (its "none" is the unset value).
    pub enum MemoryAllocation { None = "none", Immediate = "immediate", OnDemand = "ondemand" }
}

/// One `<page>`; a bare `<hugepages/>` is one page of size 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HugePage {
    pub size_kib: u64,
    /// Guest NUMA nodes, sorted.
    pub nodeset: Option<Vec<u32>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryBacking {
    pub hugepages: Vec<HugePage>,
    pub nosharepages: bool,
    pub locked: bool,
    pub source: Option<MemorySource>,
    pub access: Option<MemoryAccess>,
    pub allocation: Option<MemoryAllocation>,
    /// 0 is unset.
    pub allocation_threads: u32,
    pub discard: bool,
}

fn detail(msg: String) -> Error {
    Error::new(ErrorDomain::DOMAIN, ErrorCode::XML_DETAIL, msg)
}

/// The `./memoryBacking/CHILD/@ATTR` enums: the zero entry counts as
/// unknown, as `TypeFromString(...) <= 0` does.
fn mode<T: VirEnum>(mb: &Element, child: &str, attr: &str) -> Result<Option<T>> {
    let Some(v) = mb.child(child).and_then(|c| c.attr(attr)) else {
        return Ok(None);
    };
    match T::from_str_opt(v) {
        _ if v.is_empty() => Ok(None),
        Some(t) if t.index() > 0 => Ok(Some(t)),
        _ => Err(unsupported(format!(
            "unknown memoryBacking/{child}/{attr} '{v}'"
        ))),
    }
}

/// `virDomainHugepagesParseXML`.
fn parse_page(p: &Element) -> Result<HugePage> {
    let size_kib = props::memory_kib(p.attr("size"), p.attr("unit"), "./@size", true)?.unwrap_or(0);
    if size_kib == 0 {
        return Err(detail("hugepage size can't be zero".into()));
    }
    let nodeset = match p.attr("nodeset") {
        None => None,
        Some(s) => {
            let bits = props::bitmap(s)?;
            if bits.is_empty() {
                return Err(unsupported(format!("Invalid value of 'nodeset': {s}")));
            }
            Some(bits)
        }
    };
    Ok(HugePage { size_kib, nodeset })
}

impl MemoryBacking {
    /// `numa_nodes` is the guest's NUMA cell count (for the nodeset checks).
    pub(crate) fn parse(root: &Element, numa_nodes: usize) -> Result<MemoryBacking> {
        let Some(mb) = root.child("memoryBacking") else {
            return Ok(MemoryBacking::default());
        };
        let threads = mb.child("allocation").and_then(|a| a.attr("threads"));
        let mut m = MemoryBacking {
            source: mode(mb, "source", "type")?,
            access: mode(mb, "access", "mode")?,
            allocation: mode(mb, "allocation", "mode")?,
            allocation_threads: match threads.filter(|t| !t.is_empty()) {
                None => 0,
                Some(t) => t
                    .trim_start()
                    .parse()
                    .map_err(|_| internal_xml("Failed to parse memory allocation threads"))?,
            },
            nosharepages: mb.child("nosharepages").is_some(),
            locked: mb.child("locked").is_some(),
            discard: mb.child("discard").is_some(),
            hugepages: Vec::new(),
        };
        if let Some(h) = mb.child("hugepages") {
            for p in h.children_named("page") {
                m.hugepages.push(parse_page(p)?);
            }
            if m.hugepages.is_empty() {
                m.hugepages.push(HugePage {
                    size_kib: 0,
                    nodeset: None,
                });
            }
        }
        m.post_parse(numa_nodes);
        m.validate(numa_nodes)?;
        Ok(m)
    }

    /// Without guest NUMA, a nodeset of only node 0 means "everywhere".
    fn post_parse(&mut self, numa_nodes: usize) {
        if numa_nodes > 0 {
            return;
        }
        for p in &mut self.hugepages {
            if p.nodeset.as_deref() == Some(&[0]) {
                p.nodeset = None;
            }
        }
    }

    fn validate(&self, numa_nodes: usize) -> Result<()> {
        for (i, p) in self.hugepages.iter().enumerate() {
            for q in &self.hugepages[..i] {
                match (&p.nodeset, &q.nodeset) {
                    (Some(a), Some(b)) if a.iter().any(|n| b.contains(n)) => {
                        return Err(detail(format!(
                            "nodeset attribute of hugepages of sizes {} and {} intersect",
                            p.size_kib, q.size_kib
                        )));
                    }
                    (None, None) => {
                        return Err(detail(format!(
                            "two master hugepages detected: {} and {}",
                            p.size_kib, q.size_kib
                        )));
                    }
                    _ => {}
                }
            }
            // virBitmapNextSetBit(nodemask, count - 1): the first node past
            // the last cell (any node when there are none).
            let first_bad = p
                .nodeset
                .iter()
                .flatten()
                .find(|n| numa_nodes == 0 || **n as usize >= numa_nodes);
            if let Some(n) = first_bad {
                return Err(detail(format!("hugepages: node {n} not found")));
            }
        }
        Ok(())
    }

    /// `virXMLFormatElement`: nothing set, nothing written.
    pub(crate) fn format(&self, w: &mut Writer) {
        if *self == MemoryBacking::default() {
            return;
        }
        w.elem_with("memoryBacking", "", |w| {
            self.format_hugepages(w);
            if self.nosharepages {
                w.line("<nosharepages/>");
            }
            if self.locked {
                w.line("<locked/>");
            }
            if let Some(s) = self.source {
                w.line(&format!("<source type='{}'/>", s.as_str()));
            }
            if let Some(a) = self.access {
                w.line(&format!("<access mode='{}'/>", a.as_str()));
            }
            let mut a = Attrs::new();
            a.opt("mode", self.allocation.map(VirEnum::as_str));
            a.opt("threads", Some(self.allocation_threads).filter(|t| *t > 0));
            w.attrs_elem("allocation", a.as_str());
            if self.discard {
                w.line("<discard/>");
            }
        });
    }

    /// `virDomainHugepagesFormat`: the lone size-0 page is a bare element.
    fn format_hugepages(&self, w: &mut Writer) {
        if self.hugepages.is_empty() {
            return;
        }
        if self.hugepages.len() == 1 && self.hugepages[0].size_kib == 0 {
            w.line("<hugepages/>");
            return;
        }
        w.block("hugepages", "", |w| {
            for p in &self.hugepages {
                let mut a = Attrs::new();
                a.add("size", p.size_kib);
                a.add("unit", "KiB");
                a.opt("nodeset", p.nodeset.as_deref().map(format_bitmap));
                w.line(&format!("<page{}/>", a.as_str()));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_before_os as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn memory_backing_as_virsh() {
        let out = dump(
            "<memoryBacking><discard/><hugepages><page size='2' unit='M' nodeset='0'/></hugepages>\
             <allocation threads='0'/><access mode='shared'/></memoryBacking>",
        )
        .unwrap();
        assert!(out.contains(
            "</currentMemory>\n  <memoryBacking>\n    <hugepages>\n      <page size='2048' unit='KiB'/>\n    </hugepages>\n    <access mode='shared'/>\n    <discard/>\n  </memoryBacking>\n  <vcpu"
        ));
        let out = dump("<memoryBacking><allocation/></memoryBacking>").unwrap();
        assert!(!out.contains("memoryBacking"));
        assert_errors(
            dump,
            &[
                ("<memoryBacking><source type='none'/></memoryBacking>", "unsupported configuration: unknown memoryBacking/source/type 'none'"),
                ("<memoryBacking><hugepages><page size='4'/><page size='8'/></hugepages></memoryBacking>", "two master hugepages detected: 8 and 4"),
                ("<memoryBacking><hugepages><page/></hugepages></memoryBacking>", "XML error: missing element or attribute './@size'"),
                ("<memoryBacking><hugepages><page size='4' nodeset='1'/></hugepages></memoryBacking>", "hugepages: node 1 not found"),
            ],
        );
    }
}
