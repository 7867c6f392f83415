//! Guest NUMA cells, `<cpu><numa>` (`virDomainNuma`'s topology half):
//! parsed as `virDomainNumaDefParseXML`, formatted as
//! `virDomainNumaDefFormatXML`, with each cell's distances; the HMAT
//! parts (caches, interconnects) are in [`super::numa_hmat`].

use super::memory_backing::MemoryAccess;
use super::numa_hmat::{self, Interconnect, NumaCache};
use super::props::{self, TriBool, VirEnum};
use super::{format_bitmap, internal, internal_xml, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

/// One `<cell>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumaCell {
    /// The guest CPUs of the cell, sorted; `None` for a memory-only cell.
    pub cpus: Option<Vec<u32>>,
    pub memory_kib: u64,
    pub mem_access: Option<MemoryAccess>,
    pub discard: Option<TriBool>,
    /// `<distances>`: (cell, distance), by cell, only those set.
    pub distances: Vec<(u32, u32)>,
    pub caches: Vec<NumaCache>,
}

/// `LOCAL_DISTANCE`, `UNREACHABLE`.
const LOCAL: u32 = 10;
const UNREACHABLE: u32 = 255;

/// `virDomainNumaDefNodeDistanceParseXML`: cell `cell`'s first
/// `<distances>` into the matrix (0 is unset), mirrored where the other
/// cell gave no distance back.
fn parse_distances(c: &Element, cell: u32, matrix: &mut [Vec<u32>]) -> Result<()> {
    let Some(d) = c.child("distances") else {
        return Ok(());
    };
    let n = matrix.len() as u32;
    let mut siblings = d.children_named("sibling").peekable();
    if siblings.peek().is_none() {
        return Err(internal_xml("NUMA distances defined without siblings"));
    }
    for s in siblings {
        let id = props::uint(s, "id", true, false)?.unwrap_or(0);
        if id >= n {
            return Err(internal_xml(format!(
                "'sibling_id {id}' does not refer to a valid cell within NUMA 'cell id {cell}'"
            )));
        }
        let value = props::uint(s, "value", true, false)?.unwrap_or(0);
        let local = id == cell;
        if !(LOCAL..=UNREACHABLE).contains(&value) || local != (value == LOCAL) {
            return Err(internal_xml(format!(
                "'value {value}' is invalid for 'sibling id {id}' under NUMA 'cell id {cell}'"
            )));
        }
        for from in [cell, id] {
            let row = &mut matrix[from as usize];
            if row.is_empty() {
                *row = vec![0; n as usize];
                row[from as usize] = LOCAL;
            }
        }
        matrix[cell as usize][id as usize] = value;
        let back = &mut matrix[id as usize][cell as usize];
        if *back == 0 {
            *back = value;
        }
    }
    Ok(())
}

fn parse_cell(c: &Element) -> Result<NumaCell> {
    let cpus = match c.attr("cpus") {
        Some(s) => Some(props::bitmap(s)?).filter(|b| !b.is_empty()),
        None => None,
    };
    let memory_kib =
        props::memory_kib(c.attr("memory"), c.attr("unit"), "./@memory", true)?.unwrap_or(0);
    let mem_access: Option<MemoryAccess> = props::enumeration(c, "memAccess", false)?;
    if mem_access == Some(MemoryAccess::Default) {
        return Err(props::invalid(c, "memAccess", "default"));
    }
    Ok(NumaCell {
        cpus,
        memory_kib,
        mem_access,
        discard: props::tribool(c, "discard")?,
        distances: Vec::new(),
        caches: Vec::new(),
    })
}

/// The cells of `<cpu>`'s first `<numa>`, in cell-id order, and its
/// interconnects.
pub(crate) fn parse(cpu: &Element) -> Result<(Vec<NumaCell>, Vec<Interconnect>)> {
    let Some(numa) = cpu.child("numa") else {
        return Ok((Vec::new(), Vec::new()));
    };
    let nodes: Vec<&Element> = numa.children_named("cell").collect();
    if nodes.is_empty() {
        return Err(internal_xml("NUMA topology defined without NUMA cells"));
    }
    let mut cells: Vec<Option<NumaCell>> = vec![None; nodes.len()];
    let mut distances = vec![Vec::new(); nodes.len()];
    for (i, c) in nodes.iter().enumerate() {
        let id = props::uint(c, "id", false, false)?.map_or(i, |n| n as usize);
        if id >= nodes.len() {
            return Err(internal_xml(
                "Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous ranges or ranges not starting from 0 are not allowed",
            ));
        }
        if cells[id].is_some() {
            return Err(internal_xml(format!(
                "Duplicate NUMA cell info for cell id '{id}'"
            )));
        }
        let mut cell = parse_cell(c)?;
        for (j, other) in cells.iter().enumerate() {
            let overlap = match (other.as_ref().and_then(|o| o.cpus.as_ref()), &cell.cpus) {
                (Some(a), Some(b)) => a.iter().any(|x| b.contains(x)),
                _ => false,
            };
            if overlap {
                return Err(unsupported(format!(
                    "NUMA cells {id} and {j} have overlapping vCPU ids"
                )));
            }
        }
        parse_distances(c, id as u32, &mut distances)?;
        cell.caches = numa_hmat::parse_caches(c, id as u32)?;
        cells[id] = Some(cell);
    }
    let mut cells: Vec<NumaCell> = cells.into_iter().flatten().collect();
    for (cell, row) in cells.iter_mut().zip(distances) {
        let set = row.into_iter().enumerate().filter(|(_, v)| *v != 0);
        cell.distances = set.map(|(id, v)| (id as u32, v)).collect();
    }
    Ok((cells, numa_hmat::parse_interconnects(numa)?))
}

/// `REMOTE_DISTANCE`: what an unset distance between two cells means.
const REMOTE: u32 = 20;

/// `virDomainNumaGetNodeDistance`.
fn distance(cells: &[NumaCell], from: usize, to: usize) -> u32 {
    let set = cells[from]
        .distances
        .iter()
        .find(|(id, _)| *id as usize == to);
    match set {
        Some((_, v)) => *v,
        None if from == to => LOCAL,
        None => REMOTE,
    }
}

/// `virDomainNumaCheckABIStability`: the cells' count, sizes, CPUs and
/// distances.
pub(crate) fn check_abi(src: &[NumaCell], dst: &[NumaCell]) -> Result<()> {
    if src.len() != dst.len() {
        return Err(unsupported(format!(
            "Target NUMA node count '{}' doesn't match source '{}'",
            dst.len(),
            src.len()
        )));
    }
    for (i, (s, d)) in src.iter().zip(dst).enumerate() {
        if s.memory_kib != d.memory_kib {
            return Err(unsupported(format!(
                "Size of target NUMA node {i} ({}) doesn't match source ({})",
                d.memory_kib, s.memory_kib
            )));
        }
        if s.cpus != d.cpus {
            return Err(unsupported(format!(
                "Processor mask of target NUMA node {i} doesn't match source"
            )));
        }
        for j in 0..src.len() {
            if distance(src, i, j) != distance(dst, i, j) {
                return Err(unsupported(format!(
                    "Target NUMA distance from {i} to {j} doesn't match source"
                )));
            }
        }
    }
    Ok(())
}

/// The `<vcpu>` checks of `virDomainDefParseXML` on the cells.
pub(crate) fn check_vcpus(cells: &[NumaCell], vcpus: u32) -> Result<()> {
    let all = cells.iter().filter_map(|c| c.cpus.as_ref()).flatten();
    if all.clone().count() > vcpus as usize {
        return Err(internal(
            "Number of CPUs in <numa> exceeds the <vcpu> count",
        ));
    }
    if all.max().is_some_and(|m| *m >= vcpus) {
        return Err(internal("CPU IDs in <numa> exceed the <vcpu> count"));
    }
    Ok(())
}

pub(crate) fn format(cells: &[NumaCell], links: &[Interconnect], w: &mut Writer) {
    if cells.is_empty() {
        return;
    }
    w.block("numa", "", |w| {
        for (i, c) in cells.iter().enumerate() {
            let mut a = Attrs::new();
            a.add("id", i);
            a.opt("cpus", c.cpus.as_deref().map(format_bitmap));
            a.add("memory", c.memory_kib);
            a.add("unit", "KiB");
            a.opt("memAccess", c.mem_access.map(VirEnum::as_str));
            a.opt("discard", c.discard.map(VirEnum::as_str));
            if c.distances.is_empty() && c.caches.is_empty() {
                w.line(&format!("<cell{}/>", a.as_str()));
                continue;
            }
            w.line(&format!("<cell{}>", a.as_str()));
            w.indent();
            if !c.distances.is_empty() {
                w.block("distances", "", |w| {
                    for (id, value) in &c.distances {
                        w.line(&format!("<sibling id='{id}' value='{value}'/>"));
                    }
                });
            }
            numa_hmat::format_caches(&c.caches, w);
            w.dedent();
            w.line("</cell>");
        }
        numa_hmat::format_interconnects(links, w);
    });
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_around_os};

    /// Without `<memory>`: the cells' sizes make it.
    fn dump(body: &str) -> Result<String, String> {
        dump_around_os("<vcpu>4</vcpu>", body)
    }

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn numa_cells_as_virsh() {
        let out = dump(
            "<cpu><numa><cell id='1' cpus='2,3' memory='5' discard='yes'/>\
             <cell id='0' cpus='0-1' memory='1' unit='MiB' memAccess='shared'/></numa></cpu>",
        )
        .unwrap();
        assert!(out.contains("<memory unit='KiB'>1029</memory>"), "{out}");
        let want = "  <cpu>
    <numa>
      <cell id='0' cpus='0-1' memory='1024' unit='KiB' memAccess='shared'/>
      <cell id='1' cpus='2-3' memory='5' unit='KiB' discard='yes'/>
    </numa>
  </cpu>
";
        assert!(out.contains(want), "{out}");
        assert_errors(
            dump,
            &[
                ("<cpu><numa/></cpu>", "XML error: NUMA topology defined without NUMA cells"),
                ("<cpu><numa><cell id='2' cpus='0' memory='1'/></numa></cpu>", "XML error: Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous ranges or ranges not starting from 0 are not allowed"),
                ("<cpu><numa><cell cpus='0-1' memory='1'/><cell cpus='1' memory='1'/></numa></cpu>", "unsupported configuration: NUMA cells 1 and 0 have overlapping vCPU ids"),
                ("<cpu><numa><cell cpus='5' memory='1'/></numa></cpu>", "internal error: CPU IDs in <numa> exceed the <vcpu> count"),
            ],
        );
    }
}
