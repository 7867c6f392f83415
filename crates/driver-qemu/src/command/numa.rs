//! Guest NUMA cells (`<cpu><numa>`) as `qemuBuildNumaCommandLine` builds
//! them for QEMU 7.2, whose machines no longer take a cell's legacy
//! `mem=`: each cell's RAM is a `memory-backend-ram` named `ram-nodeN`
//! (the RAM block names a migration with libvirt depends on), with the
//! host nodes and policy of its `<numatune><memnode>` (else of
//! `<numatune><memory>`), and `-numa node,nodeid=N,cpus=…,memdev=ram-nodeN`;
//! `-numa dist` for every pair once any distance is given. A cell with
//! `memAccess` gets a `memory-backend-file` in the memory backing
//! directory instead, shared or private, with its `discard`. The cells'
//! vCPUs are completed at define time (`qemuDomainDefNumaCPUsRectify`).

use super::json::Props;
use super::{unsupported, Args, RunContext};
use rvirt_conf::domain::memory_backing::MemoryAccess;
use rvirt_conf::domain::numa::NumaCell;
use rvirt_conf::domain::numatune::{MemMode, Placement};
use rvirt_conf::domain::props::TriBool;
use rvirt_conf::domain::{format_bitmap, DomainDef};
use rvirt_util::Result;
use std::path::{Path, PathBuf};

/// `LOCAL_DISTANCE` and `REMOTE_DISTANCE`.
const LOCAL: u32 = 10;
const REMOTE: u32 = 20;

pub(super) fn cells(def: &DomainDef) -> &[NumaCell] {
    def.cpu.as_ref().map_or(&[][..], |c| &c.numa[..])
}

/// A cell's memory after `qemuDomainAlignMemorySizes` (x86: whole MiB).
fn aligned_kib(cell: &NumaCell) -> u64 {
    cell.memory_kib.div_ceil(1024) * 1024
}

/// The guest's RAM in MiB: the aligned cells' sum when there are cells.
pub(super) fn memory_mib(def: &DomainDef) -> Option<u64> {
    let cells = cells(def);
    (!cells.is_empty()).then(|| cells.iter().map(aligned_kib).sum::<u64>() / 1024)
}

/// `qemuDomainDefNumaCPUsRectify`: when the cells name fewer CPUs than
/// the guest has, cell 0 takes every vCPU no other cell has.
pub(super) fn rectify_cpus(def: &mut DomainDef) {
    let max = def.vcpus;
    let Some(cpu) = def.cpu.as_mut() else { return };
    if cpu.numa.is_empty() {
        return;
    }
    let named: usize = cpu
        .numa
        .iter()
        .filter_map(|c| c.cpus.as_ref())
        .map(Vec::len)
        .sum();
    if named >= max as usize {
        return;
    }
    let elsewhere: Vec<u32> = cpu.numa[1..]
        .iter()
        .filter_map(|c| c.cpus.as_ref())
        .flatten()
        .copied()
        .collect();
    let first: Vec<u32> = (0..max).filter(|v| !elsewhere.contains(v)).collect();
    cpu.numa[0].cpus = Some(first);
}

/// The QEMU driver parses definitions with ABI updates allowed
/// (`VIR_DOMAIN_DEF_PARSE_ABI_UPDATE`), so `virDomainDefPostParseMemory`
/// makes the cells' sum (plus memory devices) the guest's memory; a
/// current memory above it, or equal to the old total (as when none was
/// given), follows.
pub(super) fn update_memory(def: &mut DomainDef) {
    let cells: u64 = cells(def).iter().map(|c| c.memory_kib).sum();
    if cells == 0 {
        return;
    }
    let devices: u64 = def.devices.memories.iter().map(|m| m.target.size_kib).sum();
    let total = cells + devices;
    let old = def.memory_kib;
    def.memory_kib = total;
    if def.current_memory_kib > total || def.current_memory_kib == old {
        def.current_memory_kib = total;
    }
}

/// What the cells ask for that rvirt does not build yet: HMAT.
fn refuse_unexpressed(def: &DomainDef) -> Result<()> {
    let cpu = def.cpu.as_ref();
    let hmat = cpu.is_some_and(|c| !c.numa_interconnects.is_empty())
        || cells(def).iter().any(|c| !c.caches.is_empty());
    if !hmat {
        return Ok(());
    }
    Err(unsupported(
        "guest NUMA HMAT (<cache>, <interconnects>) is not supported by rvirt's QEMU driver yet",
    ))
}

/// `qemuGetMemoryBackingDomainPath`: the guest's directory under the
/// memory backing directory (`LIB/ram`, beside the private
/// `LIB/domain-ID-NAME` directories), named by the short name.
pub fn memory_backing_dir(lib_dir: &Path, id: i32, name: &str) -> PathBuf {
    let base = lib_dir.parent().unwrap_or(Path::new("/"));
    base.join("ram").join(short_name(id, name))
}

/// `virDomainDefGetShortName`: `ID-NAME`, the name cut to 20 characters.
fn short_name(id: i32, name: &str) -> String {
    let short: String = name.chars().take(20).collect();
    format!("{id}-{short}")
}

/// Whether a cell asks for a file-backed backend (`memAccess`), so the
/// memory backing directory is made before QEMU starts
/// (`qemuProcessNeedMemoryBackingPath`).
pub fn needs_memory_backing_dir(def: &DomainDef) -> bool {
    cells(def).iter().any(|c| access(c).is_some())
}

/// A cell's `memAccess` (the domain's `<memoryBacking><access>` is
/// refused, so it is the only source).
fn access(cell: &NumaCell) -> Option<bool> {
    match cell.mem_access {
        Some(MemoryAccess::Shared) => Some(true),
        Some(MemoryAccess::Private) => Some(false),
        _ => None,
    }
}

/// The backend type and its file part: a cell with `memAccess` is a
/// `memory-backend-file` in the memory backing directory, with
/// `discard-data` when the cell sets `discard` and `share` for the
/// access; else `memory-backend-ram` (where `discard` means nothing).
fn backend_kind(cell: &NumaCell, index: usize, backing: &Path) -> Props {
    let id = format!("ram-node{index}");
    let Some(share) = access(cell) else {
        return Props::new()
            .str("qom-type", "memory-backend-ram")
            .str("id", &id);
    };
    let path = backing.join(&id);
    let props = Props::new()
        .str("qom-type", "memory-backend-file")
        .str("id", &id)
        .str("mem-path", &path.to_string_lossy());
    let props = match cell.discard {
        Some(d) => props.bool("discard-data", d == TriBool::Yes),
        None => props,
    };
    props.bool("share", share)
}

/// `qemuBuildMemoryBackendProps`'s NUMA part for cell `cell`: its
/// `<memnode>`'s nodeset and mode, else `<numatune><memory>`'s (strict
/// by default), as `host-nodes` and `policy`, but for restrictive mode,
/// which only the cgroup enforces.
fn cell_backend(def: &DomainDef, cell: usize, backing: &Path) -> Result<Props> {
    super::tunables::refuse_auto(def)?;
    let numa = &cells(def)[cell];
    let props = backend_kind(numa, cell, backing).num("size", aligned_kib(numa) * 1024);
    let memnode = def
        .numatune
        .memnodes
        .iter()
        .find(|m| m.cellid as usize == cell);
    let memory = def.numatune.memory.as_ref();
    let nodes = match (memnode, memory.map(|m| &m.placement)) {
        (Some(m), _) => &m.nodeset,
        (None, Some(Placement::Static(nodes))) => nodes,
        _ => return Ok(props),
    };
    super::tunables::check_nodes_available(nodes)?;
    let mode = memnode
        .map(|m| m.mode)
        .or(memory.map(|m| m.mode))
        .unwrap_or(MemMode::Strict);
    if mode == MemMode::Restrictive {
        return Ok(props);
    }
    Ok(props
        .nums("host-nodes", nodes)
        .str("policy", super::tunables::policy(mode)))
}

/// `-object memory-backend-ram` and `-numa node` per cell, then the
/// distances.
pub(super) fn numa(a: &mut Args, def: &DomainDef, ctx: &RunContext) -> Result<()> {
    let cells = cells(def);
    if cells.is_empty() {
        return Ok(());
    }
    refuse_unexpressed(def)?;
    if cells.iter().all(|c| c.cpus.is_none()) {
        return Err(unsupported("At least one NUMA node has to have CPUs"));
    }
    let backing = memory_backing_dir(&ctx.lib_dir, ctx.domain_id, &def.name);
    let backends = (0..cells.len())
        .map(|i| cell_backend(def, i, &backing))
        .collect::<Result<Vec<_>>>()?;
    for (i, (cell, backend)) in cells.iter().zip(backends).enumerate() {
        a.json("-object", backend);
        let mut node = format!("node,nodeid={i}");
        if let Some(cpus) = &cell.cpus {
            for range in format_bitmap(cpus).split(',') {
                node.push_str(&format!(",cpus={range}"));
            }
        }
        node.push_str(&format!(",memdev=ram-node{i}"));
        a.opt("-numa", node);
    }
    if cells.iter().any(|c| !c.distances.is_empty()) {
        for (i, cell) in cells.iter().enumerate() {
            for j in 0..cells.len() {
                let set = cell.distances.iter().find(|(to, _)| *to as usize == j);
                let default = if i == j { LOCAL } else { REMOTE };
                let val = set.map_or(default, |(_, d)| *d);
                a.opt("-numa", format!("dist,src={i},dst={j},val={val}"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(inner: &str, cells: &str) -> DomainDef {
        let xml = format!(
            "<domain type='qemu'><name>n</name><vcpu>2</vcpu>{inner}\
             <os><type arch='x86_64'>hvm</type></os><cpu><numa>{cells}</numa></cpu></domain>"
        );
        let mut def = DomainDef::parse(&xml).expect("parses");
        rectify_cpus(&mut def);
        update_memory(&mut def);
        def
    }

    fn args(def: &DomainDef) -> Result<Vec<String>> {
        let mut a = Args::default();
        let lib_dir = PathBuf::from("/var/lib/libvirt/qemu/domain-3-n");
        let ctx = RunContext {
            accel: crate::caps_model::Accel::Tcg,
            monitor_socket: lib_dir.join("monitor.sock"),
            lib_dir,
            domain_id: 3,
            incoming: None,
            tap_fds: Default::default(),
        };
        numa(&mut a, def, &ctx).map(|()| a.0)
    }

    #[test]
    fn cells_get_ram_backends_with_their_memnode_policy() {
        let cells = "<cell id='0' cpus='0' memory='1000'/><cell id='1' memory='2048'/>";
        let tune = "<numatune><memory mode='interleave' nodeset='0'/>\
                    <memnode cellid='1' mode='strict' nodeset='0'/></numatune>";
        let d = def(tune, cells);
        assert_eq!(d.memory_kib, 3048);
        assert_eq!(memory_mib(&d), Some(3));
        assert_eq!(
            args(&d).unwrap(),
            [
                "-object",
                r#"{"qom-type":"memory-backend-ram","id":"ram-node0","size":1048576,"host-nodes":[0],"policy":"interleave"}"#,
                "-numa",
                "node,nodeid=0,cpus=0-1,memdev=ram-node0",
                "-object",
                r#"{"qom-type":"memory-backend-ram","id":"ram-node1","size":2097152,"host-nodes":[0],"policy":"bind"}"#,
                "-numa",
                "node,nodeid=1,memdev=ram-node1",
            ]
        );
    }

    #[test]
    fn cells_with_memory_access_are_file_backed() {
        let cells = "<cell id='0' cpus='0' memory='1024' memAccess='shared' discard='yes'/>\
                     <cell id='1' cpus='1' memory='1024' memAccess='private'/>\
                     <cell id='2' memory='1024' discard='no'/>";
        let d = def("", cells);
        assert_eq!(
            args(&d).unwrap()[..6],
            [
                "-object",
                r#"{"qom-type":"memory-backend-file","id":"ram-node0","mem-path":"/var/lib/libvirt/qemu/ram/3-n/ram-node0","discard-data":true,"share":true,"size":1048576}"#,
                "-numa",
                "node,nodeid=0,cpus=0,memdev=ram-node0",
                "-object",
                r#"{"qom-type":"memory-backend-file","id":"ram-node1","mem-path":"/var/lib/libvirt/qemu/ram/3-n/ram-node1","share":false,"size":1048576}"#,
            ]
        );
        assert_eq!(
            args(&d).unwrap()[9],
            r#"{"qom-type":"memory-backend-ram","id":"ram-node2","size":1048576}"#
        );
        assert!(needs_memory_backing_dir(&d));
        assert_eq!(
            short_name(7, "a-name-longer-than-twenty"),
            "7-a-name-longer-than-t"
        );
    }

    #[test]
    fn what_is_not_built_is_refused() {
        let hmat = def(
            "",
            "<cell id='0' cpus='0-1' memory='1024'><cache level='1' associativity='direct' \
             policy='writeback'><size value='8' unit='KiB'/><line value='64' unit='B'/>\
             </cache></cell>",
        );
        assert_eq!(
            args(&hmat).unwrap_err().message,
            "unsupported configuration: guest NUMA HMAT (<cache>, <interconnects>) is not supported by rvirt's QEMU driver yet"
        );
    }
}
