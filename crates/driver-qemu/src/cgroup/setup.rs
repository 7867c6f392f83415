//! The tunables applied when a guest starts, where libvirt applies them:
//! the guest group's blkio, memory and CPU shares
//! (`virDomainCgroupSetupCgroup`), the global bandwidth
//! (`virDomainCgroupSetupGlobalCpuCgroup`), and for the emulator and each
//! vCPU thread its group's cpuset, memory nodes and bandwidth plus the
//! thread's affinity (`qemuProcessSetupPid`). Without a cgroup only the
//! affinities are set, as in libvirt, and bandwidth is an error.

use super::files::{parse_cpus, BlkioKey, MemoryLimit, MEMORY_UNLIMITED};
use super::{Controller, Machine};
use crate::monitor::Monitor;
use rvirt_conf::domain::cputune::Bandwidth;
use rvirt_conf::domain::numatune::{MemMode, Placement};
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

fn unsupported(domain: ErrorDomain, message: &str) -> Error {
    Error::new(domain, ErrorCode::CONFIG_UNSUPPORTED, message)
}

/// `virMemoryLimitIsSet`.
fn limit_set(v: Option<u64>) -> Option<u64> {
    v.filter(|kib| *kib < MEMORY_UNLIMITED)
}

impl Machine {
    /// `virDomainCgroupSetupBlkioCgroup`, `...MemoryCgroup` and
    /// `...CpuCgroup`, in libvirt's order.
    pub fn setup_domain(&self, def: &DomainDef) -> Result<()> {
        self.setup_blkio(def)?;
        self.setup_memory(def)?;
        let shares = def.cputune.shares;
        match (self.dir(Controller::Cpu, None), shares) {
            (_, None) => Ok(()),
            (None, Some(_)) => Err(unsupported(
                ErrorDomain::DOMAIN,
                "CPU tuning is not available on this host",
            )),
            (Some(dir), Some(shares)) => dir.set_cpu_shares(shares),
        }
    }

    fn setup_blkio(&self, def: &DomainDef) -> Result<()> {
        let tune = &def.blkiotune;
        let Some(dir) = self.dir(Controller::Blkio, None) else {
            if tune.weight != 0 || !tune.devices.is_empty() {
                return Err(unsupported(
                    ErrorDomain::DOMAIN,
                    "Block I/O tuning is not available on this host",
                ));
            }
            return Ok(());
        };
        if tune.weight != 0 {
            dir.set_blkio_weight(tune.weight)?;
        }
        for dev in &tune.devices {
            let values = [
                (BlkioKey::Weight, u64::from(dev.weight)),
                (BlkioKey::ReadIops, u64::from(dev.read_iops_sec)),
                (BlkioKey::WriteIops, u64::from(dev.write_iops_sec)),
                (BlkioKey::ReadBps, dev.read_bytes_sec),
                (BlkioKey::WriteBps, dev.write_bytes_sec),
            ];
            for (key, value) in values.into_iter().filter(|(_, v)| *v != 0) {
                dir.set_blkio_device(key, &dev.path, value)?;
            }
        }
        Ok(())
    }

    fn setup_memory(&self, def: &DomainDef) -> Result<()> {
        let m = &def.memtune;
        let limits = [
            (MemoryLimit::Hard, limit_set(m.hard_limit)),
            (MemoryLimit::Soft, limit_set(m.soft_limit)),
            (MemoryLimit::Swap, limit_set(m.swap_hard_limit)),
        ];
        let Some(dir) = self.dir(Controller::Memory, None) else {
            if limits.iter().any(|(_, v)| v.is_some()) {
                return Err(unsupported(
                    ErrorDomain::DOMAIN,
                    "Memory cgroup is not available on this host",
                ));
            }
            return Ok(());
        };
        for (limit, kib) in limits {
            if let Some(kib) = kib {
                dir.set_memory(limit, kib)?;
            }
        }
        Ok(())
    }
}

/// `qemuDomainGetMemLockLimitBytes` + `virProcessSetMaxMemLock`: with a
/// `<hard_limit>` QEMU may lock that much memory, no more (libvirt sets
/// it between fork and exec; rvirtd right after the spawn).
pub fn set_max_memlock(def: &DomainDef, pid: i32) -> Result<()> {
    let Some(kib) = limit_set(def.memtune.hard_limit) else {
        return Ok(());
    };
    let bytes = kib << 10;
    let rlim = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    // SAFETY: prlimit reads `rlim` and writes nothing (old limit NULL).
    let rc = unsafe { libc::prlimit(pid, libc::RLIMIT_MEMLOCK, &rlim, std::ptr::null_mut()) };
    if rc == 0 {
        return Ok(());
    }
    Err(Error::system(
        ErrorDomain::NONE,
        format!("cannot limit locked memory of process {pid} to {bytes}"),
        &std::io::Error::last_os_error(),
    ))
}

/// `virDomainCgroupSetupGlobalCpuCgroup`: `<global_period>`/`_quota` on
/// the guest's group.
pub fn setup_global(machine: Option<&Machine>, def: &DomainDef) -> Result<()> {
    let bw = def.cputune.global;
    if bw == Bandwidth::default() {
        return Ok(());
    }
    match machine.and_then(|m| m.dir(Controller::Cpu, None)) {
        Some(dir) => dir.set_bandwidth(bw.period, bw.quota),
        None => Err(cpu_required()),
    }
}

fn cpu_required() -> Error {
    unsupported(
        ErrorDomain::QEMU,
        "cgroup cpu is required for scheduler tuning",
    )
}

/// The memory nodes of the threads' groups: `<numatune><memory>` in
/// strict or restrictive mode with a static nodeset.
fn mem_mask(def: &DomainDef) -> Option<&[u32]> {
    let m = def.numatune.memory.as_ref()?;
    match (&m.placement, m.mode) {
        (Placement::Static(nodes), MemMode::Strict | MemMode::Restrictive) => Some(nodes),
        _ => None,
    }
}

/// The host's online CPUs (`virHostCPUGetOnlineBitmap`).
pub fn host_cpus() -> Vec<u32> {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .map(|t| parse_cpus(&t))
        .unwrap_or_default()
}

/// `virProcessSetAffinity`: failures to reset to every host CPU are only
/// logged (`quiet`), a requested pinning that fails is an error.
pub fn set_affinity(tid: i32, cpus: &[u32], quiet: bool) -> Result<()> {
    use nix::sched::{sched_setaffinity, CpuSet};
    use nix::unistd::Pid;
    let mut set = CpuSet::new();
    for cpu in cpus {
        // A CPU beyond the set's size cannot be pinned to; as libvirt, the
        // kernel decides about the rest.
        let _ = set.set(*cpu as usize);
    }
    match sched_setaffinity(Pid::from_raw(tid), &set) {
        Ok(()) => Ok(()),
        Err(e) if quiet => {
            tracing::debug!("cannot reset the affinity of {tid}: {e}");
            Ok(())
        }
        Err(e) => Err(Error::system(
            ErrorDomain::NONE,
            format!("cannot set CPU affinity on process {tid}"),
            &std::io::Error::from_raw_os_error(e as i32),
        )),
    }
}

/// One thread to set up: its group name, thread id, the pinning it was
/// given and its bandwidth.
pub struct ThreadSetup<'a> {
    pub group: String,
    pub tid: i32,
    pub cpumask: Option<&'a [u32]>,
    pub bandwidth: Bandwidth,
}

/// `qemuProcessSetupPid`.
pub fn setup_pid(machine: Option<&Machine>, def: &DomainDef, t: &ThreadSetup) -> Result<()> {
    let has = |c| machine.is_some_and(|m| m.has(c));
    let bw = t.bandwidth;
    if bw != Bandwidth::default() && !has(Controller::Cpu) {
        return Err(cpu_required());
    }
    let use_cpumask = t.cpumask.or(def.cpuset.as_deref());
    if let Some(m) = machine.filter(|_| has(Controller::Cpu) || has(Controller::Cpuset)) {
        if let Some((layout, rel)) = m.thread_group(&t.group) {
            let sub = Some(t.group.as_str());
            if let Some(dir) = m.dir(Controller::Cpuset, sub) {
                if let Some(cpus) = use_cpumask {
                    dir.set_cpuset("cpus", cpus)?;
                }
                if let Some(nodes) = mem_mask(def) {
                    dir.set_cpuset("mems", nodes)?;
                }
            }
            if let Some(dir) = m.dir(Controller::Cpu, sub) {
                dir.set_bandwidth(bw.period, bw.quota)?;
            }
            m.place_thread(&layout, &rel, t.tid);
        }
    }
    match use_cpumask {
        Some(cpus) => set_affinity(t.tid, cpus, false),
        None => set_affinity(t.tid, &host_cpus(), true),
    }
}

/// `qemuProcessSetupEmulator`: QEMU's main thread, then every other
/// thread it already has, into `emulator` (libvirt places QEMU before
/// exec, so all its non-vCPU threads start there).
pub fn setup_emulator(machine: Option<&Machine>, def: &DomainDef, pid: i32) -> Result<()> {
    let t = &def.cputune;
    let setup = ThreadSetup {
        group: "emulator".into(),
        tid: pid,
        cpumask: t.emulatorpin.as_deref(),
        bandwidth: t.emulator,
    };
    setup_pid(machine, def, &setup)?;
    if let Some(m) = machine {
        m.add_emulator_threads(pid);
    }
    Ok(())
}

/// The vCPU threads QEMU reports: (vCPU index, thread id).
pub async fn vcpu_threads(monitor: &Monitor, pid: i32) -> Result<Vec<(u32, i32)>> {
    let cpus = monitor.execute(qapi::qmp::query_cpus_fast {}).await?;
    let mut out = Vec::new();
    for cpu in cpus {
        let Ok(info) = serde_json::to_value(&cpu) else {
            continue;
        };
        let field = |k: &str| info.get(k).and_then(serde_json::Value::as_i64);
        if let (Some(index), Some(tid)) = (field("cpu-index"), field("thread-id")) {
            if tid > 0 && tid != i64::from(pid) {
                out.push((index as u32, tid as i32));
            }
        }
    }
    Ok(out)
}

/// `qemuProcessSetupIOThreads`: each IOThread QEMU reports
/// (`query-iothreads`, ids `iothreadN`) into group `iothreadN` with its
/// `<iothreadpin>` and the `<iothread_period>`/`<iothread_quota>`
/// bandwidth.
pub async fn setup_iothreads(
    machine: Option<&Machine>,
    def: &DomainDef,
    monitor: &Monitor,
) -> Result<()> {
    if def.iothreads.ids.is_empty() {
        return Ok(());
    }
    let bw = def.cputune.iothread;
    if bw != Bandwidth::default() && !machine.is_some_and(|m| m.has(Controller::Cpu)) {
        return Err(cpu_required());
    }
    for thread in monitor.execute(qapi::qmp::query_iothreads {}).await? {
        let Some(id) = thread
            .id
            .strip_prefix("iothread")
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let pins = &def.cputune.iothreadpins;
        let setup = ThreadSetup {
            group: format!("iothread{id}"),
            tid: thread.thread_id as i32,
            cpumask: pins
                .iter()
                .find(|(t, _)| *t == id)
                .map(|(_, cpus)| cpus.as_slice()),
            bandwidth: bw,
        };
        setup_pid(machine, def, &setup)?;
    }
    Ok(())
}

/// The pinning of vCPU `index` in `def` (`<vcpupin>`).
pub fn vcpu_pin(def: &DomainDef, index: u32) -> Option<&[u32]> {
    let pins = &def.cputune.vcpupins;
    pins.iter()
        .find(|(v, _)| *v == index)
        .map(|(_, cpus)| cpus.as_slice())
}

/// `qemuProcessSetupVcpus`: each vCPU thread into `vcpuN` with its
/// pinning and the `<period>`/`<quota>` bandwidth.
pub async fn setup_vcpus(
    machine: Option<&Machine>,
    def: &DomainDef,
    monitor: &Monitor,
    pid: i32,
) -> Result<()> {
    let bw = def.cputune.vcpus;
    if bw != Bandwidth::default() && !machine.is_some_and(|m| m.has(Controller::Cpu)) {
        return Err(cpu_required());
    }
    for (index, tid) in vcpu_threads(monitor, pid).await? {
        let setup = ThreadSetup {
            group: format!("vcpu{index}"),
            tid,
            cpumask: vcpu_pin(def, index),
            bandwidth: bw,
        };
        setup_pid(machine, def, &setup)?;
    }
    Ok(())
}
