//! `virConnectGetAllDomainStats` (virsh domstats) for the QEMU driver:
//! the state, cpu, balloon, vcpu, interface, block, iothread and dirtyrate groups
//! in libvirt's field names and order, from the driver's own records,
//! /proc and what the guest's QEMU told ([`crate::stats_live`]).

use crate::driver::Driver;
use crate::state::DomainObj;
use crate::stats_live::{DirtyRate, LiveFigures, Wanted};
use rvirt::driver::DomainRef;
use rvirt_conf::domain::devices::MemballoonModel;
use rvirt_util::{TypedParamValue as V, TypedParams};
use std::collections::HashMap;

/// `VIR_DOMAIN_STATS_*` groups this driver fills.
pub const STATE: u32 = 1;
pub const CPU_TOTAL: u32 = 2;
pub const BALLOON: u32 = 4;
pub const VCPU: u32 = 8;
pub const INTERFACE: u32 = 16;
pub const BLOCK: u32 = 32;
pub const IOTHREAD: u32 = 128;
pub const DIRTYRATE: u32 = 512;
pub const SUPPORTED: u32 =
    STATE | CPU_TOTAL | BALLOON | VCPU | INTERFACE | BLOCK | IOTHREAD | DIRTYRATE;

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

/// The time each vCPU thread ran, by vCPU index, with its thread id: QEMU runs with
/// `debug-threads=on`, naming them `CPU N/TCG` (or `/KVM`).
fn vcpu_times(pid: i32) -> Vec<(u32, i32, u64)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, i32, u64)> = tasks
        .flatten()
        .filter_map(|task| {
            let dir = task.path();
            let tid = task.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
            let index = comm.strip_prefix("CPU ")?.split('/').next()?.parse().ok()?;
            let (user, system) = proc_times(&dir.join("stat").to_string_lossy());
            Some((index, tid, user + system))
        })
        .collect();
    found.sort_unstable();
    found
}

/// The records of `chosen` for `groups`: the running guests' QEMUs are
/// asked at once, without the domains lock held; a guest gone meanwhile
/// has no record.
pub fn records(
    driver: &Driver,
    chosen: &[DomainRef],
    groups: u32,
) -> Vec<(DomainRef, TypedParams)> {
    let asks: Vec<_> = {
        let domains = driver.domains.lock();
        chosen
            .iter()
            .filter_map(|r| {
                let obj = domains.get(r).ok()?;
                Some((obj.run.clone()?, wanted(obj, groups)))
            })
            .collect()
    };
    // A hung QEMU costs one monitor timeout in all, its figures left out.
    let limit = driver.monitor_timeout;
    let answers = driver.rt.run(async move {
        let asked = asks.into_iter().map(|(run, w)| {
            let token = run.token;
            async move {
                let gathered = tokio::time::timeout(limit, crate::stats_live::gather(run, w));
                (token, gathered.await.unwrap_or_default())
            }
        });
        futures::future::join_all(asked).await
    });
    let live: HashMap<u64, LiveFigures> = answers.into_iter().collect();
    let domains = driver.domains.lock();
    chosen
        .iter()
        .filter_map(|r| {
            let obj = domains.get(r).ok()?;
            let figures = obj.run.as_ref().and_then(|run| live.get(&run.token));
            Some((obj.domain_ref(), record(obj, groups, figures)))
        })
        .collect()
}

/// The balloon's QOM path: the command line names it `balloon0`.
pub const BALLOON_PATH: &str = "/machine/peripheral/balloon0";

/// What to ask a running guest's QEMU for the `groups` asked.
pub fn wanted(obj: &DomainObj, groups: u32) -> Wanted {
    let groups = if groups == 0 { SUPPORTED } else { groups };
    let has_balloon = obj
        .def
        .devices
        .memballoon
        .as_ref()
        .is_some_and(|m| m.model != MemballoonModel::None);
    Wanted {
        block: groups & BLOCK != 0,
        balloon: (groups & BALLOON != 0 && has_balloon).then_some(BALLOON_PATH),
        haltpoll: groups & CPU_TOTAL != 0,
        dirty_rate: groups & DIRTYRATE != 0,
        // QEMU has no IOThread the definition does not list: a guest
        // without any is not asked (libvirt asks and prints nothing).
        iothreads: groups & IOTHREAD != 0 && !obj.def.iothreads.ids.is_empty(),
    }
}

/// The record of one guest for the `groups` asked (0: all supported),
/// with what its QEMU told (`live`, for a running guest).
pub fn record(obj: &DomainObj, groups: u32, live: Option<&LiveFigures>) -> TypedParams {
    let groups = if groups == 0 { SUPPORTED } else { groups };
    let mut p = TypedParams::new();
    let pid = obj.run.as_ref().map(|r| r.pid);
    if groups & STATE != 0 {
        p.push("state.state", V::Int(obj.state as i32));
        p.push("state.reason", V::Int(obj.reason));
    }
    if groups & CPU_TOTAL != 0 {
        cpu_group(&mut p, pid, live);
    }
    if groups & BALLOON != 0 {
        p.push("balloon.current", V::ULLong(obj.def.current_memory_kib));
        p.push("balloon.maximum", V::ULLong(obj.def.memory_kib));
        if let (Some(pid), Some(live)) = (pid, live) {
            for (tag, value) in &live.guest_memory {
                p.push(
                    format!("balloon.{}", memory_stat_name(*tag)),
                    V::ULLong(*value),
                );
            }
            p.push("balloon.rss", V::ULLong(rss_kib(pid)));
        }
    }
    if groups & VCPU != 0 {
        p.push("vcpu.current", V::UInt(obj.vcpus(0)));
        p.push("vcpu.maximum", V::UInt(obj.vcpus(4)));
        for (index, tid, time) in pid.map(vcpu_times).unwrap_or_default() {
            let (wait, delay) = sched_wait_delay(pid.unwrap_or(0), tid);
            p.push(format!("vcpu.{index}.state"), V::Int(1));
            p.push(format!("vcpu.{index}.time"), V::ULLong(time));
            p.push(format!("vcpu.{index}.wait"), V::ULLong(wait));
            p.push(format!("vcpu.{index}.delay"), V::ULLong(delay));
        }
    }
    // Interfaces of a shut-off guest have no statistics (libvirt skips
    // the group).
    if groups & INTERFACE != 0 && pid.is_some() {
        crate::stats_host::interfaces(&mut p, obj);
    }
    if groups & BLOCK != 0 {
        block_group(&mut p, obj, live);
    }
    if groups & IOTHREAD != 0 {
        if let Some(threads) = live.and_then(|l| l.iothreads.as_deref()) {
            iothread_group(&mut p, threads);
        }
    }
    if groups & DIRTYRATE != 0 {
        if let Some(rate) = live.and_then(|l| l.dirty_rate.as_ref()) {
            dirty_rate_group(&mut p, rate);
        }
    }
    p
}

/// qemuDomainGetStatsIOThread: the count of QEMU's IOThreads (none: no
/// group), then each `iothreadN`'s polling.
fn iothread_group(p: &mut TypedParams, threads: &[crate::stats_live::IoThreadPoll]) {
    if threads.is_empty() {
        return;
    }
    p.push("iothread.count", V::UInt(threads.len() as u32));
    for t in threads {
        let Some(id) = t.id else { continue };
        let (max_ns, grow, shrink) = t.poll;
        p.push(format!("iothread.{id}.poll-max-ns"), V::ULLong(max_ns));
        p.push(format!("iothread.{id}.poll-grow"), V::UInt(grow));
        p.push(format!("iothread.{id}.poll-shrink"), V::UInt(shrink));
    }
}

fn cpu_group(p: &mut TypedParams, pid: Option<i32>, live: Option<&LiveFigures>) {
    // libvirt reads the times of pid 0 for a shut-off guest, which
    // its /proc helper takes as /proc/self: the daemon's own.
    let stat = pid.map_or("/proc/self/stat".to_string(), |p| format!("/proc/{p}/stat"));
    let (user, system) = proc_times(&stat);
    p.push("cpu.time", V::ULLong(user + system));
    p.push("cpu.user", V::ULLong(user));
    p.push("cpu.system", V::ULLong(system));
    let Some(pid) = pid else { return };
    // <cachetune> (resctrl monitors) is refused as unmodelled, so a
    // running guest never has one.
    p.push("cpu.cache.monitor.count", V::UInt(0));
    let haltpoll = live
        .and_then(|l| l.haltpoll)
        .or_else(|| crate::stats_host::debugfs_haltpoll(pid));
    if let Some((success, fail)) = haltpoll {
        p.push("cpu.haltpoll.success.time", V::ULLong(success));
        p.push("cpu.haltpoll.fail.time", V::ULLong(fail));
    }
}

/// The names domstats gives `VIR_DOMAIN_MEMORY_STAT_*` tags: virsh's,
/// but `last-update`.
fn memory_stat_name(tag: i32) -> &'static str {
    use rvirt::types::memory_stat;
    if tag == memory_stat::LAST_UPDATE {
        return "last-update";
    }
    usize::try_from(tag)
        .ok()
        .and_then(|t| memory_stat::NAMES.get(t))
        .unwrap_or(&"unknown")
}

/// QEMU's resident set in KiB (the rss field of /proc/PID/stat).
pub fn rss_kib(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let pages: u64 = rest
        .split_whitespace()
        .nth(21)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0);
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096) as u64;
    pages * page / 1024
}

/// A vCPU thread's wait time (sched's `wait_sum`, ms with a fraction;
/// kernels without CONFIG_SCHEDSTATS have none: 0) and run delay
/// (schedstat's second field), in ns, as qemuDomainHelperGetVcpus reads them.
fn sched_wait_delay(pid: i32, tid: i32) -> (u64, u64) {
    let dir = format!("/proc/{pid}/task/{tid}");
    let sched = std::fs::read_to_string(format!("{dir}/sched")).unwrap_or_default();
    let wait = sched
        .lines()
        .find(|l| l.starts_with("se.statistics.wait_sum") || l.starts_with("se.wait_sum"))
        .and_then(|l| l.split_once(':'))
        .and_then(|(_, v)| v.trim().parse::<f64>().ok())
        .map_or(0, |ms| (ms * 1_000_000.0) as u64);
    let schedstat = std::fs::read_to_string(format!("{dir}/schedstat")).unwrap_or_default();
    let delay = schedstat
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0);
    (wait, delay)
}

fn block_group(p: &mut TypedParams, obj: &DomainObj, live: Option<&LiveFigures>) {
    let disks = &obj.def.devices.disks;
    p.push("block.count", V::UInt(disks.len() as u32));
    for (i, disk) in disks.iter().enumerate() {
        p.push(
            format!("block.{i}.name"),
            V::String(disk.target.dev.clone()),
        );
        if let Some(path) = disk.source.path() {
            p.push(format!("block.{i}.path"), V::String(path.to_string()));
        }
        let Some(live) = live.filter(|_| obj.run.is_some() && !disk.source.is_empty()) else {
            continue;
        };
        let node = crate::command::disk_node_index(disks.len(), i);
        p.push(format!("block.{i}.backingIndex"), V::UInt(node as u32));
        let Some(figures) = live.blocks.get(&format!("libvirt-{node}-format")) else {
            continue;
        };
        block_figures(p, i, figures, disk.source.path());
    }
    if obj.run.is_none() {
        inactive_block_sizes(p, obj);
    }
}

/// qemuDomainGetStatsBlockExportFrontend + qemuDomainGetStatsOneBlock.
fn block_figures(
    p: &mut TypedParams,
    i: usize,
    f: &crate::stats_live::BlockFigures,
    source: Option<&str>,
) {
    const IO: [&str; 8] = [
        "rd.reqs", "rd.bytes", "rd.times", "wr.reqs", "wr.bytes", "wr.times", "fl.reqs", "fl.times",
    ];
    if let Some(io) = f.io {
        for (name, value) in IO.iter().zip(io) {
            p.push(format!("block.{i}.{name}"), V::ULLong(value));
        }
    }
    p.push(
        format!("block.{i}.allocation"),
        V::ULLong(f.wr_highest_offset),
    );
    if f.capacity > 0 {
        p.push(format!("block.{i}.capacity"), V::ULLong(f.capacity));
    }
    // No size from QEMU: the file's own (qemuDomainStorageUpdatePhysical).
    let physical = Some(f.physical).filter(|s| *s > 0).or_else(|| {
        source
            .and_then(|s| std::fs::metadata(s).ok())
            .map(|m| m.len())
    });
    if let Some(physical) = physical {
        p.push(format!("block.{i}.physical"), V::ULLong(physical));
    }
}

fn dirty_rate_group(p: &mut TypedParams, rate: &DirtyRate) {
    p.push("dirtyrate.calc_status", V::Int(rate.status));
    p.push("dirtyrate.calc_start_time", V::LLong(rate.start_time));
    p.push("dirtyrate.calc_period", V::Int(rate.period));
    p.push("dirtyrate.calc_mode", V::String(rate.mode.clone()));
    // VIR_DOMAIN_DIRTYRATE_MEASURED
    if rate.status == 2 {
        if let Some(mbps) = rate.megabytes_per_second {
            p.push("dirtyrate.megabytes_per_second", V::LLong(mbps));
        }
        if rate.mode == "dirty-ring" {
            for (vcpu, mbps) in &rate.vcpus {
                p.push(
                    format!("dirtyrate.vcpu.{vcpu}.megabytes_per_second"),
                    V::ULLong(*mbps),
                );
            }
        }
    }
}

/// The sizes libvirt reports for the disks of a shut-off guest, from the
/// image files: allocation (blocks in use, when any), capacity (the file
/// size of a raw image; other formats need their header, not read here)
/// and physical (the file size).
fn inactive_block_sizes(p: &mut TypedParams, obj: &DomainObj) {
    use std::os::unix::fs::MetadataExt;
    for (i, disk) in obj.def.devices.disks.iter().enumerate() {
        let Some(meta) = disk.source.path().and_then(|s| std::fs::metadata(s).ok()) else {
            continue;
        };
        let allocation = meta.blocks() * 512;
        if allocation > 0 {
            p.push(format!("block.{i}.allocation"), V::ULLong(allocation));
        }
        let format = disk.driver.format;
        if matches!(
            format,
            None | Some(rvirt_conf::domain::disk::StorageFormat::Raw)
        ) && meta.size() > 0
        {
            p.push(format!("block.{i}.capacity"), V::ULLong(meta.size()));
        }
        if meta.size() > 0 {
            p.push(format!("block.{i}.physical"), V::ULLong(meta.size()));
        }
    }
}
