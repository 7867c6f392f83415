//! `virDomainSetVcpusFlags` (libvirt's qemuDomainSetVcpusFlags and
//! qemu_hotplug.c's vCPU part): the configuration's counts always, the
//! running guest's through QEMU's vCPU hotplug: `query-hotpluggable-cpus`
//! names the slots, `device_add` with the slot's CPU type and properties
//! fills one (id `vcpuN`, as libvirt names them), `device_del` empties a
//! hot-added one.

use crate::command::vcpu_states;
use crate::driver::Driver;
use crate::lifecycle;
use crate::ops::{running, update_config, with_job};
use crate::state::Running;
use crate::vcpu_hotplug::{self, alias};
use qapi::qmp::HotpluggableCPU;
use rvirt::driver::DomainRef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::sync::Arc;
use std::time::{Duration, Instant};

const AFFECT_LIVE: u32 = 1;
const AFFECT_CONFIG: u32 = 2;
const VCPU_MAXIMUM: u32 = 4;
/// VIR_DOMAIN_VCPU_HOTPLUGGABLE: vCPUs cold-plugged into the
/// configuration may be unplugged while the guest runs.
const VCPU_HOTPLUGGABLE: u32 = 16;
/// How long an unplug may take before libvirt gives up waiting
/// (QEMU_UNPLUG_TIMEOUT).
const UNPLUG_TIMEOUT: Duration = Duration::from_secs(5);

fn error(code: ErrorCode, text: impl AsRef<str>) -> Error {
    Error::new(ErrorDomain::QEMU, code, text)
}

/// virDomainObjGetDefs: CURRENT (0) becomes live or config by the state;
/// live needs a running guest, config a persistent one.
pub(crate) fn resolve_scope(driver: &Driver, dom: &DomainRef, flags: u32) -> Result<(bool, bool)> {
    let domains = driver.domains.lock();
    let obj = domains.get(dom)?;
    let (live, config) = match flags & (AFFECT_LIVE | AFFECT_CONFIG) {
        0 => (obj.is_active(), !obj.is_active()),
        f => (f & AFFECT_LIVE != 0, f & AFFECT_CONFIG != 0),
    };
    if live && !obj.is_active() {
        return Err(error(ErrorCode::OPERATION_INVALID, "domain is not running"));
    }
    if config && !obj.persistent {
        return Err(error(
            ErrorCode::OPERATION_INVALID,
            "transient domains do not have any persistent config",
        ));
    }
    Ok((live, config))
}

pub fn set_vcpus(driver: &Driver, dom: &DomainRef, count: u32, flags: u32) -> Result<()> {
    with_job(driver, dom, || {
        let (live, config) = resolve_scope(driver, dom, flags)?;
        if flags & VCPU_MAXIMUM != 0 {
            if live {
                return Err(error(
                    ErrorCode::OPERATION_UNSUPPORTED,
                    "maximum vcpu count of a live domain can't be modified",
                ));
            }
            return set_config_maximum(driver, dom, count);
        }
        let (live_max, config_max) = {
            let domains = driver.domains.lock();
            let obj = domains.get(dom)?;
            (
                obj.vcpus(VCPU_MAXIMUM),
                obj.vcpus(AFFECT_CONFIG | VCPU_MAXIMUM),
            )
        };
        for (applies, max, which) in [(live, live_max, "live"), (config, config_max, "persistent")]
        {
            if applies && count > max {
                return Err(error(
                    ErrorCode::INVALID_ARG,
                    format!(
                        "requested vcpus is greater than max allowable vcpus for the {which} domain: {count} > {max}"
                    ),
                ));
            }
        }
        if live {
            set_live(driver, dom, count)?;
        }
        if config {
            let hotpluggable = flags & VCPU_HOTPLUGGABLE != 0;
            update_config(driver, dom, |def| {
                vcpu_states::set_config(def, count, hotpluggable);
            })?;
        }
        Ok(())
    })
}

/// qemuDomainSetVcpusMax on the persistent definition.
fn set_config_maximum(driver: &Driver, dom: &DomainRef, count: u32) -> Result<()> {
    let topology = {
        let domains = driver.domains.lock();
        let obj = domains.get(dom)?;
        obj.next_config().cpu.as_ref().and_then(|c| c.topology)
    };
    if let Some(t) = topology {
        if t.sockets * t.dies * t.cores * t.threads != count {
            return Err(error(
                ErrorCode::INVALID_ARG,
                "CPU topology doesn't match the desired vcpu count",
            ));
        }
    }
    update_config(driver, dom, |def| {
        let current = def.current_vcpus.unwrap_or(def.vcpus).min(count);
        def.vcpus = count;
        def.current_vcpus = (current != count).then_some(current);
    })
}

/// The guest's hotplug entities in libvirt's order.
fn slots(driver: &Driver, run: &Arc<Running>) -> Result<Vec<HotpluggableCPU>> {
    let run = run.clone();
    driver
        .rt
        .run(async move { vcpu_hotplug::slots(&run.monitor).await })
        .map_err(|_| {
            error(
                ErrorCode::OPERATION_UNSUPPORTED,
                "cpu hotplug is not supported",
            )
        })
}

/// qemuDomainSelectHotplugVcpuEntities + qemuDomainSetVcpusLive.
fn set_live(driver: &Driver, dom: &DomainRef, count: u32) -> Result<()> {
    let run = running(driver, dom)?;
    let slots = slots(driver, &run)?;
    let entities = vcpu_hotplug::by_vcpu(&slots);
    let online = |s: &HotpluggableCPU| s.qom_path.is_some();
    let mut current: i64 = slots
        .iter()
        .filter(|s| online(s))
        .map(|s| s.vcpus_count)
        .sum();
    let target = i64::from(count);
    let granularity = || {
        error(
            ErrorCode::CONFIG_UNSUPPORTED,
            "target vm vcpu granularity does not allow the desired vcpu count",
        )
    };
    let mut plug = Vec::new();
    let mut unplug = Vec::new();
    if target > current {
        for (index, slot) in entities.iter().copied().filter(|(_, s)| !online(s)) {
            if current >= target {
                break;
            }
            current += slot.vcpus_count;
            if current > target {
                return Err(granularity());
            }
            plug.push((index, slot));
        }
    } else {
        for (index, slot) in entities
            .iter()
            .copied()
            .rev()
            .filter(|(_, s)| online(s) && alias(s).is_some())
        {
            if current <= target {
                break;
            }
            current -= slot.vcpus_count;
            if current < target {
                return Err(granularity());
            }
            unplug.push((index, slot));
        }
    }
    if current != target {
        return Err(error(
            ErrorCode::CONFIG_UNSUPPORTED,
            "failed to find appropriate hotpluggable vcpus to reach the desired target vcpu count",
        ));
    }
    let mut plugged = Vec::new();
    let mut unplugged = Vec::new();
    let mut result = Ok(());
    for (index, slot) in &plug {
        result = add_vcpu(driver, &run, *index, slot);
        if result.is_err() {
            break;
        }
        plugged.extend(*index..*index + width(slot));
    }
    for (index, slot) in &unplug {
        if result.is_err() {
            break;
        }
        result = del_vcpu(driver, &run, alias(slot).unwrap_or_default());
        if result.is_err() {
            break;
        }
        unplugged.extend(*index..*index + width(slot));
    }
    if !plug.is_empty() {
        place_vcpu_threads(driver, dom, &run);
    }
    // What QEMU now has is what the live definition says, even after a
    // failure half way: the (un)plugged vCPUs and QEMU's enable order.
    let max = {
        let domains = driver.domains.lock();
        domains.get(dom)?.def.vcpus
    };
    let monitor = run.clone();
    let enabled = driver
        .rt
        .run(async move { vcpu_hotplug::enable_ids(&monitor.monitor, max).await });
    let mut domains = driver.domains.lock();
    let obj = domains.get_mut(dom)?;
    if !plugged.is_empty() {
        vcpu_states::set_online(&mut obj.def, &plugged, true);
    }
    if !unplugged.is_empty() {
        vcpu_states::set_online(&mut obj.def, &unplugged, false);
    }
    if let Ok(ids) = enabled {
        vcpu_states::persist_order(&mut obj.def, &ids);
    }
    lifecycle::save_status(driver, obj);
    result
}

/// How many vCPUs a hotplug entity holds.
fn width(slot: &HotpluggableCPU) -> usize {
    usize::try_from(slot.vcpus_count.max(1)).unwrap_or(1)
}

/// Plugged vCPUs' threads go to their `vcpuN` groups, as at start
/// (`qemuDomainHotplugAddVcpu`), when the guest has a cgroup.
fn place_vcpu_threads(driver: &Driver, dom: &DomainRef, run: &Arc<Running>) {
    let (machine, def) = {
        let domains = driver.domains.lock();
        let Ok(obj) = domains.get(dom) else { return };
        let machine = driver.cgroups.existing(&obj.def, obj.id, run.pid);
        (machine, obj.def.clone())
    };
    let run = run.clone();
    let placed = driver.rt.run(async move {
        let machine = machine.as_ref();
        crate::cgroup::setup::setup_vcpus(machine, &def, &run.monitor, run.pid).await
    });
    if let Err(e) = placed {
        tracing::warn!(
            "cannot set up the new vCPU threads of {}: {}",
            dom.name,
            e.message
        );
    }
}

/// `qemuDomainHotplugAddVcpu`'s `device_add`.
fn add_vcpu(
    driver: &Driver,
    run: &Arc<Running>,
    index: usize,
    slot: &HotpluggableCPU,
) -> Result<()> {
    let command = vcpu_hotplug::device_add(index, slot);
    let run = run.clone();
    driver
        .rt
        .run(async move { run.monitor.execute(command).await.map(|_| ()) })
}

/// qemuDomainHotplugDelVcpu: ask, then wait for the guest to let go.
fn del_vcpu(driver: &Driver, run: &Arc<Running>, id: &str) -> Result<()> {
    let command = qapi::qmp::device_del { id: id.to_string() };
    let sent = run.clone();
    driver
        .rt
        .run(async move { sent.monitor.execute(command).await.map(|_| ()) })?;
    let start = Instant::now();
    while start.elapsed() < UNPLUG_TIMEOUT {
        let slots = slots(driver, run)?;
        if !slots.iter().any(|s| alias(s) == Some(id)) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(error(
        ErrorCode::OPERATION_TIMEOUT,
        "vcpu unplug request timed out. Unplug result must be manually inspected in the domain",
    ))
}
