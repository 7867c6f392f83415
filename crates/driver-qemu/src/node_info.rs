//! `virNodeGetInfo` for the QEMU driver, as libvirt's Linux
//! `virHostCPUGetInfo` and `virHostMemGetInfo` read the host: the
//! architecture, MemTotal, the online CPUs, "cpu MHz", and the
//! nodes/sockets/cores/threads topology from sysfs, replaced by
//! 1/1/CPUs/1 when it does not multiply out to the CPU count.

use crate::cgroup::files::parse_cpus;
use rvirt::types::NodeInfo;
use rvirt_util::{Error, ErrorDomain, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn read(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The integer part of the first "cpu MHz" (virHostCPUParseFrequency).
fn parse_mhz(cpuinfo: &str) -> u32 {
    cpuinfo
        .lines()
        .filter(|l| l.starts_with("cpu MHz"))
        .find_map(|l| l.split(':').nth(1)?.trim().split('.').next()?.parse().ok())
        .unwrap_or(0)
}

/// MemTotal in KiB.
fn parse_memtotal(meminfo: &str) -> u64 {
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// (socket, core) of each online CPU of one node, from
/// `cpu/cpuN/topology`.
type Topology = BTreeMap<u32, (u32, u32)>;

/// `virHostCPUParseNode`'s counts: (cpus, sockets, cores, threads).
fn node_counts(cpus: &Topology) -> (u32, u32, u32, u32) {
    let sockets: BTreeSet<u32> = cpus.values().map(|(s, _)| *s).collect();
    let mut cores_per_socket: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    let mut threads_per_core: BTreeMap<(u32, u32), u32> = BTreeMap::new();
    for (socket, core) in cpus.values() {
        cores_per_socket.entry(*socket).or_default().insert(*core);
        *threads_per_core.entry((*socket, *core)).or_default() += 1;
    }
    let cores = cores_per_socket.values().map(|c| c.len() as u32).max();
    let threads = threads_per_core.values().copied().max();
    (
        cpus.len() as u32,
        sockets.len() as u32,
        cores.unwrap_or(0),
        threads.unwrap_or(0),
    )
}

/// The topology as nodeinfo reports it: each node's maxima, checked
/// against the CPU count.
fn topology(nodes: &[Topology]) -> (u32, u32, u32, u32, u32) {
    let counts: Vec<_> = nodes.iter().map(node_counts).collect();
    let cpus: u32 = counts.iter().map(|c| c.0).sum();
    let max = |f: fn(&(u32, u32, u32, u32)) -> u32| counts.iter().map(f).max().unwrap_or(0);
    let (n, s, c, t) = (nodes.len() as u32, max(|c| c.1), max(|c| c.2), max(|c| c.3));
    if n * s * c * t != cpus {
        return (cpus, 1, 1, cpus, 1);
    }
    (cpus, n, s, c, t)
}

fn cpu_topology(cpu: u32) -> Option<(u32, u32)> {
    let dir = format!("/sys/devices/system/cpu/cpu{cpu}/topology");
    let socket = read(format!("{dir}/physical_package_id"))?
        .trim()
        .parse()
        .ok()?;
    let core = read(format!("{dir}/core_id"))?.trim().parse().ok()?;
    Some((socket, core))
}

/// The online CPUs of each NUMA node (one node of every CPU without
/// sysfs nodes).
fn host_nodes() -> Vec<Topology> {
    let online = parse_cpus(&read("/sys/devices/system/cpu/online").unwrap_or_default());
    let with_topology = |cpus: Vec<u32>| -> Topology {
        cpus.into_iter()
            .filter(|c| online.contains(c))
            .filter_map(|c| Some((c, cpu_topology(c)?)))
            .collect()
    };
    let mut nodes: Vec<(u32, Topology)> = std::fs::read_dir("/sys/devices/system/node")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let id: u32 = name.strip_prefix("node")?.parse().ok()?;
            let cpus = parse_cpus(&read(e.path().join("cpulist")).unwrap_or_default());
            Some((id, with_topology(cpus)))
        })
        .collect();
    nodes.sort_by_key(|(id, _)| *id);
    let nodes: Vec<Topology> = nodes.into_iter().map(|(_, t)| t).collect();
    if nodes.iter().all(|t| t.is_empty()) {
        return vec![with_topology(online.clone())];
    }
    nodes
}

pub fn node_get_info() -> Result<NodeInfo> {
    let (cpus, nodes, sockets, cores, threads) = topology(&host_nodes());
    if cpus == 0 {
        return Err(Error::internal(ErrorDomain::NONE, "no CPUs found"));
    }
    Ok(NodeInfo {
        model: std::env::consts::ARCH.to_string(),
        memory: parse_memtotal(&read("/proc/meminfo").unwrap_or_default()),
        cpus,
        mhz: parse_mhz(&read("/proc/cpuinfo").unwrap_or_default()),
        nodes,
        sockets,
        cores,
        threads,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_fallback() {
        let node: Topology = [(0, (0, 0)), (1, (0, 1)), (2, (0, 0)), (3, (0, 1))]
            .into_iter()
            .collect();
        assert_eq!(topology(&[node]), (4, 1, 1, 2, 2));
        // Cores that do not multiply out: 3 CPUs reported as 1/1/3/1.
        let odd: Topology = [(0, (0, 0)), (1, (0, 0)), (2, (0, 1))]
            .into_iter()
            .collect();
        assert_eq!(topology(&[odd]), (3, 1, 1, 3, 1));
        assert_eq!(parse_mhz("model\t: x\ncpu MHz\t\t: 2596.098\n"), 2596);
        assert_eq!(parse_memtotal("MemTotal:       24683792 kB\n"), 24683792);
    }
}
