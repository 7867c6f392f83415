//! The QEMU driver's tuning calls (qemu_driver.c's
//! `qemuDomain{Get,Set}SchedulerParametersFlags`,
//! `qemuDomain{Get,Set}MemoryParameters`, `qemuDomainPinVcpuFlags`,
//! `qemuDomainGetVcpuPinInfo`, `qemuDomainPinEmulator`,
//! `qemuDomainGetEmulatorPinInfo`; blkio and NUMA in [`crate::tuning_io`]):
//! a live change goes to the guest's cgroup files and threads, then to
//! the live definition; a config change to the persistent one.

use crate::cgroup::files::{format_cpus, Dir, MemoryLimit, MEMORY_UNLIMITED, PERIOD, QUOTA};
use crate::cgroup::setup::{host_cpus, set_affinity, vcpu_threads};
use crate::cgroup::{Controller, Machine};
use crate::connection::{check_flags, QemuConnection};
use crate::driver::Driver;
use crate::state::Running;
use crate::{lifecycle, ops};
use rvirt::driver::{DomainRef, TuningDriver};
use rvirt::events::DomainEvent;
use rvirt_conf::DomainDef;
use rvirt_util::TypedParams;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParamType, TypedParamValue};
use std::sync::Arc;

pub(crate) const LIVE: u32 = 1;
pub(crate) const CONFIG: u32 = 2;
pub(crate) const STRING_OKAY: u32 = 4;

pub(crate) fn error(code: ErrorCode, text: impl AsRef<str>) -> Error {
    Error::new(ErrorDomain::QEMU, code, text)
}

/// A running guest as the live calls need it.
pub(crate) struct Live {
    pub def: DomainDef,
    pub run: Arc<Running>,
    pub machine: Option<Machine>,
}

impl Live {
    pub fn get(driver: &Driver, dom: &DomainRef) -> Result<Live> {
        let domains = driver.domains.lock();
        let obj = domains.get(dom)?;
        let run = obj
            .run
            .clone()
            .ok_or_else(|| Error::operation_invalid(ErrorDomain::QEMU, "domain is not running"))?;
        let machine = driver.cgroups.existing(&obj.def, obj.id, run.pid);
        Ok(Live {
            def: obj.def.clone(),
            run,
            machine,
        })
    }

    /// The directory of `c` for the guest's group or a thread group, or
    /// libvirt's "not mounted" error.
    pub fn dir(&self, c: Controller, sub: Option<&str>, missing: &str) -> Result<Dir> {
        self.machine
            .as_ref()
            .and_then(|m| m.dir(c, sub))
            .ok_or_else(|| Error::operation_invalid(ErrorDomain::QEMU, missing))
    }
}

/// Change the live definition and record the status. A persistent
/// guest's configuration is the running definition until something
/// differs: it is kept apart first, so a live change stays live.
pub(crate) fn commit_live(driver: &Driver, dom: &DomainRef, change: impl FnOnce(&mut DomainDef)) {
    let mut domains = driver.domains.lock();
    if let Ok(obj) = domains.get_mut(dom) {
        if obj.persistent && obj.new_def.is_none() {
            let mut config = obj.def.clone();
            if let Some(cpu) = &obj.config_cpu {
                config.cpu = Some(cpu.clone());
            }
            if let Some(resource) = &obj.config_resource {
                config.resource = resource.clone();
            }
            obj.new_def = Some(config);
        }
        change(&mut obj.def);
        lifecycle::save_status(driver, obj);
    }
}

/// `virDomainEventTunableNewFromDom` for what a live change set.
pub(crate) fn emit_tunable(driver: &Driver, dom: &DomainRef, params: TypedParams) {
    if params.is_empty() {
        return;
    }
    let found = driver.domains.lock().get(dom).map(|o| o.domain_ref());
    if let Ok(r) = found {
        driver.emit(&r, DomainEvent::Tunable { params });
    }
}

/// The definition a getter reads: the live one or the next config.
pub(crate) fn def_for(driver: &Driver, dom: &DomainRef, live: bool) -> Result<DomainDef> {
    let domains = driver.domains.lock();
    let obj = domains.get(dom)?;
    Ok(match live {
        true => obj.def.clone(),
        false => obj.next_config().clone(),
    })
}

/// `virDomainObjGetDefs` for a getter (one of live or config).
pub(crate) fn get_scope(driver: &Driver, dom: &DomainRef, flags: u32) -> Result<bool> {
    let (live, config) = crate::vcpus::resolve_scope(driver, dom, flags)?;
    if live && config {
        return Err(error(
            ErrorCode::INVALID_ARG,
            "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive",
        ));
    }
    Ok(live)
}

pub(crate) fn privileged(driver: &Driver, code: ErrorCode, what: &str) -> Result<()> {
    match driver.security.privileged {
        true => Ok(()),
        false => Err(error(
            code,
            format!("{what} is not available in session mode"),
        )),
    }
}

const SCHED_PARAMS: [(&str, TypedParamType, bool); 9] = [
    ("cpu_shares", TypedParamType::ULLong, false),
    ("vcpu_period", TypedParamType::ULLong, false),
    ("vcpu_quota", TypedParamType::LLong, false),
    ("emulator_period", TypedParamType::ULLong, false),
    ("emulator_quota", TypedParamType::LLong, false),
    ("global_period", TypedParamType::ULLong, false),
    ("global_quota", TypedParamType::LLong, false),
    ("iothread_period", TypedParamType::ULLong, false),
    ("iothread_quota", TypedParamType::LLong, false),
];

fn sched_list(shares: u64, bws: [(u64, i64); 4]) -> TypedParams {
    let mut p = TypedParams::new().with("cpu_shares", TypedParamValue::ULLong(shares));
    for (i, (period, quota)) in bws.into_iter().enumerate() {
        p.push(SCHED_PARAMS[1 + 2 * i].0, TypedParamValue::ULLong(period));
        p.push(SCHED_PARAMS[2 + 2 * i].0, TypedParamValue::LLong(quota));
    }
    p
}

fn get_sched(driver: &Driver, dom: &DomainRef, flags: u32) -> Result<TypedParams> {
    check_flags(
        "qemuDomainGetSchedulerParametersFlags",
        flags,
        LIVE | CONFIG | STRING_OKAY,
    )?;
    privileged(driver, ErrorCode::CONFIG_UNSUPPORTED, "CPU tuning")?;
    if !get_scope(driver, dom, flags & (LIVE | CONFIG))? {
        let t = def_for(driver, dom, false)?.cputune;
        let bw = |b: rvirt_conf::domain::cputune::Bandwidth| (b.period, b.quota);
        let bws = [bw(t.vcpus), bw(t.emulator), bw(t.global), bw(t.iothread)];
        return Ok(sched_list(t.shares.unwrap_or(0), bws));
    }
    let live = Live::get(driver, dom)?;
    let missing = "cgroup CPU controller is not mounted";
    let guest = live.dir(Controller::Cpu, None, missing)?;
    let shares = guest.cpu_shares()?;
    let vcpus = live.dir(Controller::Cpu, Some("vcpu0"), missing)?;
    let emulator = live.dir(Controller::Cpu, Some("emulator"), missing)?;
    let global = guest.cfs_period_quota()?;
    // qemuGetIOThreadsBWLive reads the first IOThread's group; without
    // IOThreads libvirt reads the guest's group for them.
    let iothreads = match live.def.iothreads.ids.first() {
        Some(t) => {
            let group = format!("iothread{}", t.id);
            live.dir(Controller::Cpu, Some(&group), missing)?
                .cfs_period_quota()?
        }
        None => global,
    };
    let bws = [
        vcpus.cfs_period_quota()?,
        emulator.cfs_period_quota()?,
        global,
        iothreads,
    ];
    Ok(sched_list(shares, bws))
}

/// One scheduler parameter, range-checked as `SCHED_RANGE_CHECK`.
fn sched_value(field: &str, value: &TypedParamValue) -> Result<(u64, i64)> {
    let (ul, l) = match value {
        TypedParamValue::ULLong(v) => (*v, *v as i64),
        TypedParamValue::LLong(v) => (*v as u64, *v),
        _ => (0, 0),
    };
    let check = |v: i128, min: i128, max: i128| {
        if (v > 0 && v < min) || v > max {
            return Err(error(
                ErrorCode::INVALID_ARG,
                format!("value of '{field}' is out of range [{min}, {max}]"),
            ));
        }
        Ok(())
    };
    match field {
        f if f.ends_with("_period") => check(ul as i128, PERIOD.0 as i128, PERIOD.1 as i128)?,
        f if f.ends_with("_quota") => check(l as i128, QUOTA.0 as i128, QUOTA.1 as i128)?,
        _ => {}
    }
    Ok((ul, l))
}

/// The thread groups whose bandwidth `field` sets.
fn bandwidth_groups(field: &str, vcpus: &[(u32, i32)], def: &DomainDef) -> Vec<Option<String>> {
    match field.split('_').next() {
        Some("vcpu") => vcpus
            .iter()
            .map(|(i, _)| Some(format!("vcpu{i}")))
            .collect(),
        Some("emulator") => vec![Some("emulator".into())],
        Some("global") => vec![None],
        // Every IOThread's group (none without), as qemuSetIOThreadsBWLive.
        Some("iothread") => def
            .iothreads
            .ids
            .iter()
            .map(|t| Some(format!("iothread{}", t.id)))
            .collect(),
        _ => Vec::new(),
    }
}

fn apply_sched(def: &mut DomainDef, field: &str, ul: u64, l: i64) {
    let t = &mut def.cputune;
    let bw = match field.split('_').next() {
        Some("vcpu") => &mut t.vcpus,
        Some("emulator") => &mut t.emulator,
        Some("global") => &mut t.global,
        Some("iothread") => &mut t.iothread,
        _ => {
            t.shares = Some(ul);
            return;
        }
    };
    match field.ends_with("_period") {
        true => bw.period = ul,
        false => bw.quota = l,
    }
}

fn set_sched(driver: &Driver, dom: &DomainRef, params: &TypedParams, flags: u32) -> Result<()> {
    check_flags(
        "qemuDomainSetSchedulerParametersFlags",
        flags,
        LIVE | CONFIG,
    )?;
    params.validate(&SCHED_PARAMS)?;
    privileged(driver, ErrorCode::CONFIG_UNSUPPORTED, "CPU tuning")?;
    ops::with_job(driver, dom, || {
        let (live, config) = crate::vcpus::resolve_scope(driver, dom, flags)?;
        let mut values = Vec::new();
        for p in params.iter() {
            let (ul, l) = sched_value(&p.field, &p.value)?;
            values.push((p.field.clone(), ul, l));
        }
        let mut events = TypedParams::new();
        if live {
            let state = Live::get(driver, dom)?;
            let missing = "cgroup CPU controller is not mounted";
            let guest = state.dir(Controller::Cpu, None, missing)?;
            let vcpus = driver.rt.run({
                let run = state.run.clone();
                async move { vcpu_threads(&run.monitor, run.pid).await }
            })?;
            for (field, ul, l) in &values {
                if field == "cpu_shares" {
                    guest.set_cpu_shares(*ul)?;
                } else if (*ul != 0 && field.ends_with("_period"))
                    || (*l != 0 && field.ends_with("_quota"))
                {
                    let (period, quota) = match field.ends_with("_period") {
                        true => (*ul, 0),
                        false => (0, *l),
                    };
                    for sub in bandwidth_groups(field, &vcpus, &state.def) {
                        let dir = state.dir(Controller::Cpu, sub.as_deref(), missing)?;
                        dir.set_bandwidth(period, quota)?;
                    }
                } else {
                    continue;
                }
                commit_live(driver, dom, |def| apply_sched(def, field, *ul, *l));
                let value = match field.ends_with("_quota") {
                    true => TypedParamValue::LLong(*l),
                    false => TypedParamValue::ULLong(*ul),
                };
                events.push(format!("cputune.{field}"), value);
            }
        }
        if config {
            ops::update_config(driver, dom, |def| {
                for (field, ul, l) in &values {
                    apply_sched(def, field, *ul, *l);
                }
            })?;
        }
        emit_tunable(driver, dom, events);
        Ok(())
    })
}

fn unlimited_if_unset(v: Option<u64>) -> u64 {
    v.unwrap_or(MEMORY_UNLIMITED)
}

/// The first `nparams` of `params` (libvirt fills at most that many).
pub(crate) fn first(mut params: TypedParams, nparams: i32) -> (TypedParams, i32) {
    params.0.truncate(nparams.max(0) as usize);
    let count = params.len() as i32;
    (params, count)
}

fn get_memory(
    driver: &Driver,
    dom: &DomainRef,
    nparams: i32,
    flags: u32,
) -> Result<(TypedParams, i32)> {
    check_flags(
        "qemuDomainGetMemoryParameters",
        flags,
        LIVE | CONFIG | STRING_OKAY,
    )?;
    privileged(driver, ErrorCode::OPERATION_UNSUPPORTED, "Memory tuning")?;
    let live = get_scope(driver, dom, flags & (LIVE | CONFIG))?;
    if nparams == 0 {
        return Ok((TypedParams::new(), 3)); // QEMU_NB_MEM_PARAM
    }
    let values = if live {
        let live = Live::get(driver, dom)?;
        let dir = live.dir(
            Controller::Memory,
            None,
            "cgroup memory controller is not mounted",
        )?;
        let swap = match dir.memory(MemoryLimit::Swap) {
            Err(e) if [libc::ENOENT, libc::EOPNOTSUPP].contains(&e.int1) => MEMORY_UNLIMITED,
            other => other?,
        };
        [
            dir.memory(MemoryLimit::Hard)?,
            dir.memory(MemoryLimit::Soft)?,
            swap,
        ]
    } else {
        let m = def_for(driver, dom, false)?.memtune;
        [m.hard_limit, m.soft_limit, m.swap_hard_limit].map(unlimited_if_unset)
    };
    let names = ["hard_limit", "soft_limit", "swap_hard_limit"];
    let mut p = TypedParams::new();
    for (name, v) in names.into_iter().zip(values) {
        p.push(name, TypedParamValue::ULLong(v));
    }
    Ok(first(p, nparams))
}

fn stored(kib: u64) -> Option<u64> {
    (kib < MEMORY_UNLIMITED).then_some(kib)
}

/// `virDomainCgroupSetMemoryLimitParameters`.
fn set_memory(driver: &Driver, dom: &DomainRef, params: &TypedParams, flags: u32) -> Result<()> {
    check_flags("qemuDomainSetMemoryParameters", flags, LIVE | CONFIG)?;
    let ull = TypedParamType::ULLong;
    params.validate(&[
        ("hard_limit", ull, false),
        ("soft_limit", ull, false),
        ("swap_hard_limit", ull, false),
    ])?;
    privileged(driver, ErrorCode::OPERATION_UNSUPPORTED, "Memory tuning")?;
    ops::with_job(driver, dom, || {
        let (live, config) = crate::vcpus::resolve_scope(driver, dom, flags)?;
        let (hard, soft, swap) = (
            params.get_u64("hard_limit"),
            params.get_u64("soft_limit"),
            params.get_u64("swap_hard_limit"),
        );
        let current = def_for(driver, dom, true)?.memtune;
        if hard.is_some() || swap.is_some() {
            let mem = hard.unwrap_or(unlimited_if_unset(current.hard_limit));
            let sw = swap.unwrap_or(unlimited_if_unset(current.swap_hard_limit));
            if mem > sw {
                return Err(error(
                    ErrorCode::INVALID_ARG,
                    "memory hard_limit tunable value must be lower than or equal to swap_hard_limit",
                ));
            }
        }
        if live {
            let state = Live::get(driver, dom)?;
            let dir = state.dir(
                Controller::Memory,
                None,
                "cgroup memory controller is not mounted",
            )?;
            let old_hard = unlimited_if_unset(current.hard_limit);
            // Soft first; a lower hard limit before the swap limit, a
            // higher one after it.
            let mut order = vec![(MemoryLimit::Soft, soft)];
            let hard_first = hard.is_some_and(|h| old_hard > h);
            if hard_first {
                order.push((MemoryLimit::Hard, hard));
            }
            order.push((MemoryLimit::Swap, swap));
            if !hard_first {
                order.push((MemoryLimit::Hard, hard));
            }
            for (limit, value) in order {
                let Some(kib) = value else { continue };
                dir.set_memory(limit, kib)?;
                commit_live(driver, dom, |def| match limit {
                    MemoryLimit::Hard => def.memtune.hard_limit = stored(kib),
                    MemoryLimit::Soft => def.memtune.soft_limit = stored(kib),
                    MemoryLimit::Swap => def.memtune.swap_hard_limit = stored(kib),
                });
            }
        }
        if config {
            ops::update_config(driver, dom, |def| {
                let m = &mut def.memtune;
                for (slot, value) in [
                    (&mut m.hard_limit, hard),
                    (&mut m.soft_limit, soft),
                    (&mut m.swap_hard_limit, swap),
                ] {
                    if let Some(kib) = value {
                        *slot = stored(kib);
                    }
                }
            })?;
        }
        Ok(())
    })
}

/// libvirt's cpumap: bit N of byte N/8 for host CPU N.
pub(crate) fn cpumap_to_list(map: &[u8]) -> Vec<u32> {
    (0..map.len() * 8)
        .filter(|i| map[i / 8] & (1 << (i % 8)) != 0)
        .map(|i| i as u32)
        .collect()
}

pub(crate) fn list_to_cpumap(cpus: &[u32], maplen: usize) -> Vec<u8> {
    let mut map = vec![0u8; maplen];
    for cpu in cpus.iter().map(|c| *c as usize).filter(|c| c / 8 < maplen) {
        map[cpu / 8] |= 1 << (cpu % 8);
    }
    map
}

fn pin_vcpu(driver: &Driver, dom: &DomainRef, vcpu: u32, map: &[u8], flags: u32) -> Result<()> {
    check_flags("qemuDomainPinVcpuFlags", flags, LIVE | CONFIG)?;
    ops::with_job(driver, dom, || {
        let (live, config) = crate::vcpus::resolve_scope(driver, dom, flags)?;
        if config {
            let max = def_for(driver, dom, false)?.vcpus;
            if vcpu >= max {
                return Err(error(
                    ErrorCode::INVALID_ARG,
                    format!("vcpu {vcpu} is out of range of persistent cpu count {max}"),
                ));
            }
        }
        let cpus = cpumap_to_list(map);
        if cpus.is_empty() {
            return Err(error(ErrorCode::INVALID_ARG, "Empty cpu list for pinning"));
        }
        if live {
            let state = Live::get(driver, dom)?;
            if vcpu >= state.def.vcpus {
                return Err(error(
                    ErrorCode::INVALID_ARG,
                    format!(
                        "vcpu {vcpu} is out of range of live cpu count {}",
                        state.def.vcpus
                    ),
                ));
            }
            let run = state.run.clone();
            let threads = driver
                .rt
                .run(async move { vcpu_threads(&run.monitor, run.pid).await })?;
            if let Some((_, tid)) = threads.iter().find(|(i, _)| *i == vcpu) {
                let sub = format!("vcpu{vcpu}");
                let machine = state.machine.as_ref();
                if let Some(dir) =
                    machine.and_then(|m| m.dir(Controller::Cpuset, Some(sub.as_str())))
                {
                    dir.set_cpuset("cpus", &cpus)?;
                }
                set_affinity(*tid, &cpus, false)?;
            }
            commit_live(driver, dom, |def| set_pin(def, vcpu, &cpus));
            let field = format!("cputune.vcpupin{vcpu}");
            let value = TypedParamValue::String(format_cpus(&cpus));
            emit_tunable(driver, dom, TypedParams::new().with(field, value));
        }
        if config {
            ops::update_config(driver, dom, |def| set_pin(def, vcpu, &cpus))?;
        }
        Ok(())
    })
}

fn set_pin(def: &mut DomainDef, vcpu: u32, cpus: &[u32]) {
    let pins = &mut def.cputune.vcpupins;
    pins.retain(|(v, _)| *v != vcpu);
    pins.push((vcpu, cpus.to_vec()));
    pins.sort_by_key(|(v, _)| *v);
}

/// The CPUs a thread without its own pinning may use: `<vcpu cpuset>`
/// or every host CPU (`virHostCPUGetAvailableCPUsBitmap`).
pub(crate) fn default_cpus(def: &DomainDef) -> Vec<u32> {
    def.cpuset.clone().unwrap_or_else(host_cpus)
}

fn vcpu_pin_info(
    driver: &Driver,
    dom: &DomainRef,
    ncpumaps: usize,
    maplen: usize,
    flags: u32,
) -> Result<(Vec<u8>, i32)> {
    check_flags("qemuDomainGetVcpuPinInfo", flags, LIVE | CONFIG)?;
    let def = def_for(driver, dom, get_scope(driver, dom, flags)?)?;
    let count = (def.vcpus as usize).min(ncpumaps);
    let mut maps = vec![0u8; ncpumaps * maplen];
    for vcpu in 0..count {
        let cpus = crate::cgroup::setup::vcpu_pin(&def, vcpu as u32)
            .map(<[u32]>::to_vec)
            .unwrap_or_else(|| default_cpus(&def));
        maps[vcpu * maplen..(vcpu + 1) * maplen].copy_from_slice(&list_to_cpumap(&cpus, maplen));
    }
    Ok((maps, count as i32))
}

fn pin_emulator(driver: &Driver, dom: &DomainRef, map: &[u8], flags: u32) -> Result<()> {
    check_flags("qemuDomainPinEmulator", flags, LIVE | CONFIG)?;
    ops::with_job(driver, dom, || {
        let (live, config) = crate::vcpus::resolve_scope(driver, dom, flags)?;
        let cpus = cpumap_to_list(map);
        if cpus.is_empty() {
            return Err(error(ErrorCode::INVALID_ARG, "Empty cpu list for pinning"));
        }
        if live {
            let state = Live::get(driver, dom)?;
            let sub = Some("emulator");
            if let Some(dir) = state
                .machine
                .as_ref()
                .and_then(|m| m.dir(Controller::Cpuset, sub))
            {
                dir.set_cpuset("cpus", &cpus)?;
            }
            set_affinity(state.run.pid, &cpus, false)?;
            commit_live(driver, dom, |def| {
                def.cputune.emulatorpin = Some(cpus.clone())
            });
            let value = TypedParamValue::String(format_cpus(&cpus));
            let params = TypedParams::new().with("cputune.emulatorpin", value);
            emit_tunable(driver, dom, params);
        }
        if config {
            ops::update_config(driver, dom, |def| {
                def.cputune.emulatorpin = Some(cpus.clone())
            })?;
        }
        Ok(())
    })
}

fn emulator_pin_info(
    driver: &Driver,
    dom: &DomainRef,
    maplen: usize,
    flags: u32,
) -> Result<(Vec<u8>, i32)> {
    check_flags("qemuDomainGetEmulatorPinInfo", flags, LIVE | CONFIG)?;
    let def = def_for(driver, dom, get_scope(driver, dom, flags)?)?;
    let cpus = def
        .cputune
        .emulatorpin
        .clone()
        .unwrap_or_else(|| default_cpus(&def));
    Ok((list_to_cpumap(&cpus, maplen), 1))
}

impl TuningDriver for QemuConnection {
    fn get_scheduler_type(&self, dom: &DomainRef) -> Result<(String, i32)> {
        let driver = &self.driver;
        privileged(driver, ErrorCode::OPERATION_UNSUPPORTED, "CPU tuning")?;
        let active = driver.domains.lock().get(dom)?.is_active();
        if active {
            let live = Live::get(driver, dom)?;
            live.dir(
                Controller::Cpu,
                None,
                "cgroup CPU controller is not mounted",
            )?;
        }
        Ok(("posix".into(), 9))
    }
    fn get_scheduler_parameters(&self, dom: &DomainRef, flags: u32) -> Result<TypedParams> {
        get_sched(&self.driver, dom, flags)
    }
    fn set_scheduler_parameters(&self, dom: &DomainRef, p: &TypedParams, flags: u32) -> Result<()> {
        set_sched(&self.driver, dom, p, flags)
    }
    fn get_memory_parameters(
        &self,
        dom: &DomainRef,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)> {
        get_memory(&self.driver, dom, nparams, flags)
    }
    fn set_memory_parameters(&self, dom: &DomainRef, p: &TypedParams, flags: u32) -> Result<()> {
        set_memory(&self.driver, dom, p, flags)
    }
    fn get_blkio_parameters(
        &self,
        dom: &DomainRef,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)> {
        crate::tuning_io::get_blkio(&self.driver, dom, nparams, flags)
    }
    fn set_blkio_parameters(&self, dom: &DomainRef, p: &TypedParams, flags: u32) -> Result<()> {
        crate::tuning_io::set_blkio(&self.driver, dom, p, flags)
    }
    fn get_numa_parameters(
        &self,
        dom: &DomainRef,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)> {
        crate::tuning_io::get_numa(&self.driver, dom, nparams, flags)
    }
    fn set_numa_parameters(&self, dom: &DomainRef, p: &TypedParams, flags: u32) -> Result<()> {
        crate::tuning_io::set_numa(&self.driver, dom, p, flags)
    }
    fn pin_vcpu(&self, dom: &DomainRef, vcpu: u32, cpumap: &[u8], flags: u32) -> Result<()> {
        pin_vcpu(&self.driver, dom, vcpu, cpumap, flags)
    }
    fn get_vcpu_pin_info(
        &self,
        dom: &DomainRef,
        ncpumaps: usize,
        maplen: usize,
        flags: u32,
    ) -> Result<(Vec<u8>, i32)> {
        vcpu_pin_info(&self.driver, dom, ncpumaps, maplen, flags)
    }
    fn pin_emulator(&self, dom: &DomainRef, cpumap: &[u8], flags: u32) -> Result<()> {
        pin_emulator(&self.driver, dom, cpumap, flags)
    }
    fn get_iothread_info(&self, dom: &DomainRef, flags: u32) -> Result<Vec<(u32, Vec<u8>)>> {
        crate::iothread_api::info(&self.driver, dom, flags)
    }
    fn pin_iothread(&self, dom: &DomainRef, id: u32, cpumap: &[u8], flags: u32) -> Result<()> {
        crate::iothread_api::pin(&self.driver, dom, id, cpumap, flags)
    }
    fn add_iothread(&self, dom: &DomainRef, id: u32, flags: u32) -> Result<()> {
        crate::iothread_api::change(&self.driver, dom, id, true, flags)
    }
    fn del_iothread(&self, dom: &DomainRef, id: u32, flags: u32) -> Result<()> {
        crate::iothread_api::change(&self.driver, dom, id, false, flags)
    }
    fn set_iothread_params(
        &self,
        dom: &DomainRef,
        id: u32,
        params: &TypedParams,
        flags: u32,
    ) -> Result<()> {
        crate::iothread_params::set(&self.driver, dom, id, params, flags)
    }
    fn get_emulator_pin_info(
        &self,
        dom: &DomainRef,
        maplen: usize,
        flags: u32,
    ) -> Result<(Vec<u8>, i32)> {
        emulator_pin_info(&self.driver, dom, maplen, flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpumaps_round_trip() {
        assert_eq!(cpumap_to_list(&[0b0000_0101, 0b1]), vec![0, 2, 8]);
        assert_eq!(list_to_cpumap(&[0, 2, 8], 2), vec![0b0000_0101, 0b1]);
        assert_eq!(list_to_cpumap(&[9], 1), vec![0]);
    }

    #[test]
    fn scheduler_ranges() {
        let err = sched_value("vcpu_period", &TypedParamValue::ULLong(10)).unwrap_err();
        assert_eq!(
            err.message,
            "invalid argument: value of 'vcpu_period' is out of range [1000, 1000000]"
        );
        assert!(sched_value("vcpu_quota", &TypedParamValue::LLong(-1)).is_ok());
        assert!(sched_value("global_period", &TypedParamValue::ULLong(0)).is_ok());
        let mut def = DomainDef::parse(
            "<domain type='qemu'><name>t</name><memory>1024</memory>\
             <os><type arch='x86_64'>hvm</type></os></domain>",
        )
        .unwrap();
        apply_sched(&mut def, "emulator_quota", 0, 5000);
        apply_sched(&mut def, "cpu_shares", 300, 300);
        assert_eq!(
            (def.cputune.emulator.quota, def.cputune.shares),
            (5000, Some(300))
        );
        set_pin(&mut def, 1, &[0]);
        set_pin(&mut def, 0, &[1]);
        set_pin(&mut def, 1, &[1]);
        assert_eq!(def.cputune.vcpupins, vec![(0, vec![1]), (1, vec![1])]);
    }
}
