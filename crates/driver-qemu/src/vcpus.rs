//! `virDomainSetVcpusFlags` (libvirt's qemuDomainSetVcpusFlags and
//! qemu_hotplug.c's vCPU part): the configuration's counts always, the
//! running guest's through QEMU's vCPU hotplug: `query-hotpluggable-cpus`
//! names the slots, `device_add` with the slot's CPU type and properties
//! fills one (id `vcpuN`, as libvirt names them), `device_del` empties a
//! hot-added one.

use crate::driver::Driver;
use crate::lifecycle;
use crate::ops::{running, update_config, with_job};
use crate::state::Running;
use qapi::qmp::{CpuInstanceProperties, HotpluggableCPU};
use rvirt::driver::DomainRef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::sync::Arc;
use std::time::{Duration, Instant};

const AFFECT_LIVE: u32 = 1;
const AFFECT_CONFIG: u32 = 2;
const VCPU_MAXIMUM: u32 = 4;
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
            // VIR_DOMAIN_VCPU_HOTPLUGGABLE marks vCPUs in <vcpus>, which
            // rvirt's model does not carry: the count is what changes.
            update_config(driver, dom, |def| {
                def.current_vcpus = (count != def.vcpus).then_some(count);
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

/// The guest's vCPU slots in vCPU order (QEMU lists them last first).
fn slots(driver: &Driver, run: &Arc<Running>) -> Result<Vec<HotpluggableCPU>> {
    let run = run.clone();
    let mut found = driver
        .rt
        .run(async move {
            run.monitor
                .execute(qapi::qmp::query_hotpluggable_cpus {})
                .await
        })
        .map_err(|_| {
            error(
                ErrorCode::OPERATION_UNSUPPORTED,
                "cpu hotplug is not supported",
            )
        })?;
    let key =
        |p: &CpuInstanceProperties| (p.node_id, p.socket_id, p.die_id, p.core_id, p.thread_id);
    found.sort_by_key(|c| key(&c.props));
    Ok(found)
}

/// Begin's check that the destination can start this QEMU's vCPUs: ones
/// plugged while the guest ran are `-device`s there that libvirt plugs
/// again on the destination from `<vcpus>` (qemuProcessSetupHotpluggableVcpus),
/// which rvirt's command line does not build yet; a destination started
/// with them as boot CPUs would have another device tree. Refused before
/// anything moves. A QEMU that cannot list its slots has plugged none.
pub(crate) fn check_migratable(driver: &Driver, run: &Arc<Running>) -> Result<()> {
    let Ok(slots) = slots(driver, run) else {
        return Ok(());
    };
    let plugged: Vec<&str> = slots.iter().filter_map(alias).collect();
    if plugged.is_empty() {
        return Ok(());
    }
    Err(error(
        ErrorCode::OPERATION_UNSUPPORTED,
        format!(
            "cannot migrate a domain with hot-plugged vCPUs ({}): the destination would start them as boot vCPUs",
            plugged.join(", ")
        ),
    ))
}

/// The id a slot was hot-plugged with (`/machine/peripheral/vcpuN`);
/// vCPUs QEMU started with have none and cannot be unplugged.
fn alias(slot: &HotpluggableCPU) -> Option<&str> {
    slot.qom_path
        .as_deref()?
        .strip_prefix("/machine/peripheral/")
}

/// qemuDomainSelectHotplugVcpuEntities + qemuDomainSetVcpusLive.
fn set_live(driver: &Driver, dom: &DomainRef, count: u32) -> Result<()> {
    let run = running(driver, dom)?;
    let slots = slots(driver, &run)?;
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
        for (index, slot) in slots.iter().enumerate().filter(|(_, s)| !online(s)) {
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
        for slot in slots
            .iter()
            .rev()
            .filter(|s| online(s) && alias(s).is_some())
        {
            if current <= target {
                break;
            }
            current -= slot.vcpus_count;
            if current < target {
                return Err(granularity());
            }
            unplug.push(alias(slot).unwrap_or_default().to_string());
        }
    }
    if current != target {
        return Err(error(
            ErrorCode::CONFIG_UNSUPPORTED,
            "failed to find appropriate hotpluggable vcpus to reach the desired target vcpu count",
        ));
    }
    let result = plug
        .iter()
        .try_for_each(|(index, slot)| add_vcpu(driver, &run, *index, slot))
        .and_then(|()| unplug.iter().try_for_each(|id| del_vcpu(driver, &run, id)));
    if !plug.is_empty() {
        place_vcpu_threads(driver, dom, &run);
    }
    // Whatever QEMU now has is what the live definition says, even after
    // a failure half way.
    let now: i64 = slots_online(driver, &run).unwrap_or(current);
    let mut domains = driver.domains.lock();
    let obj = domains.get_mut(dom)?;
    let now = u32::try_from(now).unwrap_or(obj.def.vcpus);
    obj.def.current_vcpus = (now != obj.def.vcpus).then_some(now);
    lifecycle::save_status(driver, obj);
    result
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

fn slots_online(driver: &Driver, run: &Arc<Running>) -> Result<i64> {
    let slots = slots(driver, run)?;
    Ok(slots
        .iter()
        .filter(|s| s.qom_path.is_some())
        .map(|s| s.vcpus_count)
        .sum())
}

/// qemuBuildHotpluggableCPUProps: the slot's type as the driver, `vcpuN`
/// as the id, the slot's topology properties.
fn add_vcpu(
    driver: &Driver,
    run: &Arc<Running>,
    index: usize,
    slot: &HotpluggableCPU,
) -> Result<()> {
    let props = serde_json::to_value(&slot.props)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    let command = qapi::qmp::device_add {
        bus: None,
        id: Some(format!("vcpu{index}")),
        driver: slot.type_.clone(),
        arguments: props.into_iter().collect(),
    };
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
