//! `virConnectGetAllDomainStats` (virsh domstats) for the QEMU driver:
//! the state, cpu, balloon and vcpu groups from the driver's own records
//! and /proc, without a monitor round trip, in libvirt's field names.

use crate::state::DomainObj;
use rvirt_util::{TypedParamValue as V, TypedParams};

/// `VIR_DOMAIN_STATS_*` groups this driver fills.
pub const STATE: u32 = 1;
pub const CPU_TOTAL: u32 = 2;
pub const BALLOON: u32 = 4;
pub const VCPU: u32 = 8;
pub const INTERFACE: u32 = 16;
pub const BLOCK: u32 = 32;
pub const SUPPORTED: u32 = STATE | CPU_TOTAL | BALLOON | VCPU | INTERFACE | BLOCK;

/// Clock ticks per second, for /proc's times.
fn ticks_to_ns(ticks: u64) -> u64 {
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|h| *h > 0)
        .unwrap_or(100) as u64;
    ticks.saturating_mul(1_000_000_000 / hz)
}

/// (user, system) CPU time in nanoseconds from a /proc `stat` file: the
/// 14th and 15th fields, counted after the parenthesised command name.
pub fn proc_times(stat_path: &str) -> (u64, u64) {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let mut fields = rest.split_whitespace().skip(11);
    let mut next = || fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
    let (user, system) = (next(), next());
    (ticks_to_ns(user), ticks_to_ns(system))
}

/// CPU time of the whole QEMU process.
pub fn cpu_time_ns(pid: i32) -> u64 {
    let (user, system) = proc_times(&format!("/proc/{pid}/stat"));
    user + system
}

/// The time each vCPU thread ran, by vCPU index: QEMU runs with
/// `debug-threads=on`, naming them `CPU N/TCG` (or `/KVM`).
fn vcpu_times(pid: i32) -> Vec<(u32, u64)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, u64)> = tasks
        .flatten()
        .filter_map(|task| {
            let dir = task.path();
            let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
            let index = comm.strip_prefix("CPU ")?.split('/').next()?.parse().ok()?;
            let (user, system) = proc_times(&dir.join("stat").to_string_lossy());
            Some((index, user + system))
        })
        .collect();
    found.sort_unstable();
    found
}

/// The record of one guest for the `groups` asked (0: all supported).
pub fn record(obj: &DomainObj, groups: u32) -> TypedParams {
    let groups = if groups == 0 { SUPPORTED } else { groups };
    let mut p = TypedParams::new();
    let pid = obj.run.as_ref().map(|r| r.pid);
    if groups & STATE != 0 {
        p.push("state.state", V::Int(obj.state as i32));
        p.push("state.reason", V::Int(obj.reason));
    }
    if groups & CPU_TOTAL != 0 {
        // libvirt reads the times of pid 0 for a shut-off guest, which
        // its /proc helper takes as /proc/self: the daemon's own.
        let stat = pid.map_or("/proc/self/stat".to_string(), |p| format!("/proc/{p}/stat"));
        let (user, system) = proc_times(&stat);
        p.push("cpu.time", V::ULLong(user + system));
        p.push("cpu.user", V::ULLong(user));
        p.push("cpu.system", V::ULLong(system));
        if pid.is_some() {
            // <cachetune> (resctrl monitors) is refused as unmodelled, so a
            // running guest never has one.
            p.push("cpu.cache.monitor.count", V::UInt(0));
        }
    }
    if groups & BALLOON != 0 {
        p.push("balloon.current", V::ULLong(obj.def.current_memory_kib));
        p.push("balloon.maximum", V::ULLong(obj.def.memory_kib));
    }
    if groups & VCPU != 0 {
        p.push("vcpu.current", V::UInt(obj.vcpus(0)));
        p.push("vcpu.maximum", V::UInt(obj.vcpus(4)));
        for (index, time) in pid.map(vcpu_times).unwrap_or_default() {
            p.push(format!("vcpu.{index}.state"), V::Int(1));
            p.push(format!("vcpu.{index}.time"), V::ULLong(time));
        }
    }
    // Interfaces of a shut-off guest have no statistics (libvirt skips
    // the group).
    if groups & INTERFACE != 0 && pid.is_some() {
        devices(
            &mut p,
            "net",
            obj.def
                .devices
                .interfaces
                .iter()
                .map(|n| (n.target_dev.clone(), None)),
        );
    }
    if groups & BLOCK != 0 {
        let disks = obj.def.devices.disks.iter();
        devices(
            &mut p,
            "block",
            disks.map(|d| (Some(d.target_dev.clone()), d.source.clone())),
        );
        if pid.is_none() {
            inactive_block_sizes(&mut p, obj);
        }
    }
    p
}

/// The sizes libvirt reports for the disks of a shut-off guest, from the
/// image files: allocation (blocks in use, when any), capacity (the file
/// size of a raw image; other formats need their header, not read here)
/// and physical (the file size).
fn inactive_block_sizes(p: &mut TypedParams, obj: &DomainObj) {
    use std::os::unix::fs::MetadataExt;
    for (i, disk) in obj.def.devices.disks.iter().enumerate() {
        let Some(meta) = disk.source.as_ref().and_then(|s| std::fs::metadata(s).ok()) else {
            continue;
        };
        let allocation = meta.blocks() * 512;
        if allocation > 0 {
            p.push(format!("block.{i}.allocation"), V::ULLong(allocation));
        }
        let format = disk.driver.as_ref().and_then(|d| d.format.as_deref());
        if matches!(format, None | Some("raw")) && meta.size() > 0 {
            p.push(format!("block.{i}.capacity"), V::ULLong(meta.size()));
        }
        if meta.size() > 0 {
            p.push(format!("block.{i}.physical"), V::ULLong(meta.size()));
        }
    }
}

/// `PREFIX.count` and each device's `PREFIX.N.name` / `PREFIX.N.path`
/// (the I/O counters need the monitor and are not reported yet).
fn devices(
    p: &mut TypedParams,
    prefix: &str,
    list: impl ExactSizeIterator<Item = (Option<String>, Option<String>)>,
) {
    p.push(format!("{prefix}.count"), V::UInt(list.len() as u32));
    for (i, (name, path)) in list.enumerate() {
        if let Some(name) = name {
            p.push(format!("{prefix}.{i}.name"), V::String(name));
        }
        if let Some(path) = path {
            p.push(format!("{prefix}.{i}.path"), V::String(path));
        }
    }
}
