//! `virDomainGetIOThreadInfo` and `virDomainPinIOThread` (libvirt's
//! `qemuDomainGetIOThreadInfo`, `qemuDomainPinIOThread`): the live
//! answer from QEMU's threads (`query-iothreads`, their affinity), the
//! configured one from `<iothreadids>` and `<iothreadpin>`; a pin moves
//! the thread (its `iothreadN` cpuset group first) and is recorded.

use crate::cgroup::files::format_cpus;
use crate::cgroup::setup::set_affinity;
use crate::cgroup::Controller;
use crate::connection::check_flags;
use crate::driver::Driver;
use crate::ops;
use crate::tuning::{
    commit_live, cpumap_to_list, def_for, default_cpus, emit_tunable, error, get_scope,
    list_to_cpumap, Live, CONFIG, LIVE,
};
use rvirt::driver::DomainRef;
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParamValue, TypedParams};

/// The bytes of a map covering every host CPU.
fn host_maplen() -> usize {
    let cpus = crate::cgroup::setup::host_cpus();
    (cpus.iter().max().map_or(0, |m| *m as usize) + 1).div_ceil(8)
}

/// QEMU's IOThreads: (id N of `iothreadN`, thread id), in its order.
fn live_threads(driver: &Driver, live: &Live) -> Result<Vec<(u32, i32)>> {
    let run = live.run.clone();
    let threads = driver
        .rt
        .run(async move { run.monitor.execute(qapi::qmp::query_iothreads {}).await })?;
    Ok(threads
        .into_iter()
        .filter_map(|t| {
            let id = t.id.strip_prefix("iothread")?.parse().ok()?;
            Some((id, t.thread_id as i32))
        })
        .collect())
}

/// The CPUs thread `tid` may run on (`virProcessGetAffinity`).
fn affinity(tid: i32) -> Result<Vec<u32>> {
    let set = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(tid)).map_err(|e| {
        Error::system(
            ErrorDomain::NONE,
            format!("cannot get CPU affinity of process {tid}"),
            &std::io::Error::from_raw_os_error(e as i32),
        )
    })?;
    Ok((0..nix::sched::CpuSet::count())
        .filter(|c| set.is_set(*c).unwrap_or(false))
        .map(|c| c as u32)
        .collect())
}

/// The pinning of IOThread `id` in `def`.
fn pin_of(def: &DomainDef, id: u32) -> Option<&[u32]> {
    let pins = &def.cputune.iothreadpins;
    pins.iter()
        .find(|(t, _)| *t == id)
        .map(|(_, cpus)| cpus.as_slice())
}

/// Each IOThread's id and CPU map.
pub(crate) fn info(driver: &Driver, dom: &DomainRef, flags: u32) -> Result<Vec<(u32, Vec<u8>)>> {
    check_flags("qemuDomainGetIOThreadInfo", flags, LIVE | CONFIG)?;
    let maplen = host_maplen();
    if !get_scope(driver, dom, flags)? {
        // virDomainDriverGetIOThreadsConfig.
        let def = def_for(driver, dom, false)?;
        return Ok(def
            .iothreads
            .ids
            .iter()
            .map(|t| {
                let cpus = pin_of(&def, t.id).map_or_else(|| default_cpus(&def), <[u32]>::to_vec);
                (t.id, list_to_cpumap(&cpus, maplen))
            })
            .collect());
    }
    ops::with_job(driver, dom, || {
        let live = Live::get(driver, dom).map_err(|_| {
            error(
                ErrorCode::OPERATION_INVALID,
                "cannot list IOThreads for an inactive domain",
            )
        })?;
        live_threads(driver, &live)?
            .into_iter()
            .map(|(id, tid)| Ok((id, list_to_cpumap(&affinity(tid)?, maplen))))
            .collect()
    })
}

fn set_pin(def: &mut DomainDef, id: u32, cpus: &[u32]) {
    let pins = &mut def.cputune.iothreadpins;
    match pins.iter_mut().find(|(t, _)| *t == id) {
        Some((_, set)) => *set = cpus.to_vec(),
        None => pins.push((id, cpus.to_vec())),
    }
    if let Some(t) = def.iothreads.ids.iter_mut().find(|t| t.id == id) {
        t.autofill = false;
    }
}

pub(crate) fn pin(driver: &Driver, dom: &DomainRef, id: u32, map: &[u8], flags: u32) -> Result<()> {
    check_flags("qemuDomainPinIOThread", flags, LIVE | CONFIG)?;
    ops::with_job(driver, dom, || {
        let (live, config) = crate::vcpus::resolve_scope(driver, dom, flags)?;
        let cpus = cpumap_to_list(map);
        if cpus.is_empty() {
            return Err(error(
                ErrorCode::INVALID_ARG,
                "Empty iothread cpumap list for pinning",
            ));
        }
        if live {
            let state = Live::get(driver, dom)?;
            let not_found = || error(ErrorCode::INVALID_ARG, format!("iothread {id} not found"));
            if !state.def.iothreads.ids.iter().any(|t| t.id == id) {
                return Err(not_found());
            }
            let tid = live_threads(driver, &state)?
                .into_iter()
                .find(|(t, _)| *t == id)
                .map(|(_, tid)| tid)
                .ok_or_else(not_found)?;
            let group = format!("iothread{id}");
            let cpuset = state
                .machine
                .as_ref()
                .and_then(|m| m.dir(Controller::Cpuset, Some(&group)));
            if let Some(dir) = cpuset {
                dir.set_cpuset("cpus", &cpus).map_err(|_| {
                    error(
                        ErrorCode::OPERATION_INVALID,
                        format!("failed to set cpuset.cpus in cgroup for iothread {id}"),
                    )
                })?;
            }
            set_affinity(tid, &cpus, false)?;
            commit_live(driver, dom, |def| set_pin(def, id, &cpus));
            let field = format!("cputune.iothreadpin{id}");
            let params =
                TypedParams::new().with(&field, TypedParamValue::String(format_cpus(&cpus)));
            emit_tunable(driver, dom, params);
        }
        if config {
            let found = {
                let domains = driver.domains.lock();
                let obj = domains.get(dom)?;
                obj.next_config().iothreads.ids.iter().any(|t| t.id == id)
            };
            if !found {
                return Err(error(
                    ErrorCode::INVALID_ARG,
                    format!("iothreadid {id} not found"),
                ));
            }
            ops::update_config(driver, dom, |def| set_pin(def, id, &cpus))?;
        }
        Ok(())
    })
}

/// `virDomainAddIOThread` or `virDomainDelIOThread`
/// (`qemuDomainChgIOThread`): the configuration checked and changed
/// first, then the running QEMU's objects.
pub(crate) fn change(
    driver: &Driver,
    dom: &DomainRef,
    id: u32,
    add: bool,
    flags: u32,
) -> Result<()> {
    let api = if add {
        "qemuDomainAddIOThread"
    } else {
        "qemuDomainDelIOThread"
    };
    check_flags(api, flags, LIVE | CONFIG)?;
    if id == 0 {
        return Err(error(
            ErrorCode::INVALID_ARG,
            "invalid value of 0 for iothread_id",
        ));
    }
    ops::with_job(driver, dom, || {
        let (live, config) = crate::vcpus::resolve_scope(driver, dom, flags)?;
        if config {
            let mut next = {
                let domains = driver.domains.lock();
                domains.get(dom)?.next_config().clone()
            };
            apply(&mut next, id, add)?;
            ops::update_config(driver, dom, |def| {
                let _ = apply(def, id, add);
            })?;
        }
        if live {
            let state = Live::get(driver, dom)?;
            let mut def = state.def.clone();
            apply(&mut def, id, add)?;
            hotplug(driver, &state, id, add)?;
            commit_live(driver, dom, |def| {
                let _ = apply(def, id, add);
            });
        }
        Ok(())
    })
}

/// `virDomainDriverAddIOThreadCheck` / `...DelIOThreadCheck`, then the
/// change to `def` (`virDomainIOThreadIDAdd` / `...Del`, its pinning
/// going with it).
fn apply(def: &mut DomainDef, id: u32, add: bool) -> Result<()> {
    let found = def.iothreads.ids.iter().any(|t| t.id == id);
    let invalid = |text: String| Err(error(ErrorCode::INVALID_ARG, text));
    if add {
        if found {
            return invalid(format!("an IOThread is already using iothread_id '{id}'"));
        }
        def.iothreads
            .ids
            .push(rvirt_conf::domain::iothreads::IoThread {
                id,
                pool_min: None,
                pool_max: None,
                autofill: false,
            });
        return Ok(());
    }
    if !found {
        return invalid(format!("cannot find IOThread '{id}' in iothreadids list"));
    }
    if let Some(disk) = def
        .devices
        .disks
        .iter()
        .find(|d| d.driver.iothread == Some(id))
    {
        return invalid(format!(
            "cannot remove IOThread {id} since it is being used by disk '{}'",
            disk.target.dev
        ));
    }
    if def
        .devices
        .controllers
        .iter()
        .any(|c| c.driver.iothread == id)
    {
        return invalid(format!(
            "cannot remove IOThread '{id}' since it is being used by controller"
        ));
    }
    def.iothreads.ids.retain(|t| t.id != id);
    def.cputune.iothreadpins.retain(|(t, _)| *t != id);
    Ok(())
}

/// `qemuDomainHotplugAddIOThread` / `...DelIOThread`: the object, then
/// QEMU's count checked; an added thread set up as at start.
fn hotplug(driver: &Driver, state: &Live, id: u32, add: bool) -> Result<()> {
    use crate::migration::storage::{ObjectAdd, ObjectDel};
    let alias = format!("iothread{id}");
    let run = state.run.clone();
    let qom = alias.clone();
    driver.rt.run(async move {
        match add {
            true => {
                let args = serde_json::json!({"qom-type": "iothread", "id": qom});
                run.monitor.execute(ObjectAdd { args }).await.map(|_| ())
            }
            false => {
                let args = serde_json::json!({ "id": qom });
                run.monitor.execute(ObjectDel { args }).await.map(|_| ())
            }
        }
    })?;
    let threads = live_threads(driver, state)?;
    let want = state.def.iothreads.ids.len() + usize::from(add) - usize::from(!add);
    if threads.len() != want {
        return Err(error(
            ErrorCode::INTERNAL_ERROR,
            format!(
                "got wrong number of IOThread ids from QEMU monitor. got {}, wanted {want}",
                threads.len()
            ),
        ));
    }
    if !add {
        if let Some(m) = &state.machine {
            m.remove_thread_group(&alias);
        }
        return Ok(());
    }
    let Some((_, tid)) = threads.into_iter().find(|(t, _)| *t == id) else {
        return Err(error(
            ErrorCode::INTERNAL_ERROR,
            format!("cannot find new IOThread '{id}' in QEMU monitor."),
        ));
    };
    let setup = crate::cgroup::setup::ThreadSetup {
        group: alias,
        tid,
        cpumask: None,
        bandwidth: state.def.cputune.iothread,
    };
    crate::cgroup::setup::setup_pid(state.machine.as_ref(), &state.def, &setup)
}
