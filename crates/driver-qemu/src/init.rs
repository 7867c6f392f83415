//! Driver start-up (libvirt's `qemuStateInitialize`): the persistent
//! definitions from the config directory, every QEMU still running
//! re-attached from its status file (or its guest marked crashed when it
//! died meanwhile), then the autostart guests started.

use crate::driver::Driver;
use crate::lifecycle::{self, StartRequest};
use crate::monitor::Monitor;
use crate::process;
use crate::state::Running;
use crate::status::Status;
use rvirt::types::{reason, DomainState};
use rvirt_conf::DomainDef;
use rvirt_util::object_files::ObjectFiles;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long a re-attached monitor may take to answer.
const REATTACH_TIMEOUT: Duration = Duration::from_secs(10);

fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "xml") && p.is_file())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

pub fn initialize(driver: &Arc<Driver>) {
    load_configs(driver);
    for file in xml_files(&driver.dirs.state) {
        match Status::read(&file) {
            Ok(status) => reattach(driver, status),
            Err(e) => tracing::warn!("ignoring {}: {}", file.display(), e.message),
        }
    }
    autostart(driver);
}

fn load_configs(driver: &Driver) {
    for file in xml_files(&driver.dirs.config) {
        let def = std::fs::read_to_string(&file)
            .map_err(|e| e.to_string())
            .and_then(|xml| DomainDef::parse(&xml).map_err(|e| e.message));
        let def = match def {
            Ok(def) => def,
            Err(e) => {
                tracing::warn!("cannot load {}: {e}", file.display());
                continue;
            }
        };
        let autostart = driver.dirs.autostart_link(&def.name).exists();
        let mut domains = driver.domains.lock();
        if let Err(e) = domains.admit(&def, false) {
            tracing::warn!("cannot load {}: {}", file.display(), e.message);
            continue;
        }
        let obj = domains.store(def, false);
        obj.persistent = true;
        obj.autostart = autostart;
    }
}

/// Take the guest of `status` back: its QEMU when it still runs, else a
/// shut-off (crashed) guest, or nothing for a transient one.
fn reattach(driver: &Arc<Driver>, status: Status) {
    let alive = process::is_our_qemu(status.pid, &status.monitor);
    let attached = match (alive, status.incoming) {
        // A half-arrived incoming guest: its migration cannot finish
        // without the daemon that prepared it (the source has given up or
        // will), so it is killed, not adopted
        // (`qemuProcessRecoverMigrationIn` in the prepare phase).
        (true, true) => Err(reason::SHUTOFF_FAILED),
        (true, false) => connect(driver, &status),
        (false, _) => Err(reason::SHUTOFF_CRASHED),
    };
    match attached {
        Ok(attached) => adopt(driver, status, attached),
        // A post-copy guest's QEMU may hold the only complete copy of the
        // guest and be blocked on a page the source has yet to send: its
        // monitor is waited for, never given up on.
        Err(reason::SHUTOFF_CRASHED)
            if alive && crate::migration::in_postcopy(status.state, status.reason) =>
        {
            wait_for_monitor(driver, status)
        }
        Err(why) => discard(driver, status, why),
    }
}

/// The guest of `status` stays, its job held so that nobody starts it a
/// second time, while a thread of its own retries the monitor until QEMU
/// answers (the guest is adopted) or dies (it is marked crashed).
fn wait_for_monitor(driver: &Arc<Driver>, status: Status) {
    tracing::warn!(
        "the monitor of {}, in a post-copy migration, does not answer: waiting for it",
        status.def.name
    );
    let job = {
        let mut domains = driver.domains.lock();
        let obj = domains.store(status.def.clone(), false);
        (obj.state, obj.reason) = (status.state, status.reason);
        obj.job.clone()
    };
    let (locked, held) = std::sync::mpsc::channel();
    let driver = driver.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("reattach-{}", status.def.name))
        .spawn(move || {
            let _job = job.lock();
            let _ = locked.send(());
            loop {
                if !process::is_our_qemu(status.pid, &status.monitor) {
                    return discard(&driver, status, reason::SHUTOFF_CRASHED);
                }
                match connect(&driver, &status) {
                    Ok(attached) => return adopt(&driver, status, attached),
                    Err(reason::SHUTOFF_CRASHED) => std::thread::sleep(Duration::from_secs(1)),
                    Err(why) => return discard(&driver, status, why),
                }
            }
        });
    match spawned {
        Ok(_) => {
            let _ = held.recv();
        }
        Err(e) => tracing::error!("cannot wait for a post-copy guest's monitor: {e}"),
    }
}

/// A guest whose QEMU is gone, or alive but finished or unmanageable
/// (killed then): its run files, cgroups and labels go, and it is marked
/// stopped for `why`.
fn discard(driver: &Arc<Driver>, status: Status, why: i32) {
    let name = status.def.name.clone();
    let lib_dir = driver.dirs.domain_lib(status.id, &name);
    match status.incoming {
        true => tracing::info!("killing {name}, whose incoming migration never finished"),
        false => tracing::info!("guest {name} ended while the daemon was down"),
    }
    lifecycle::remove_run_files(driver, &name, &lib_dir);
    if process::is_our_qemu(status.pid, &status.monitor) {
        let pid = status.pid;
        let _ = driver
            .rt
            .run(async move { process::terminate(pid, false).await });
    }
    driver
        .cgroups
        .remove(&status.def, status.id, driver.security.privileged);
    // Its files go back to their owners (`qemuProcessStop`).
    if let Some(remember) = status.labelled {
        driver.security.restore_all(&status.def, remember, false);
    }
    let mut domains = driver.domains.lock();
    if let Some(obj) = domains.by_uuid_mut(status.def.uuid.as_bytes()) {
        obj.mark_stopped(why);
    }
}

/// The guest of `status` running again under this daemon, its monitor
/// `attached`.
fn adopt(driver: &Arc<Driver>, status: Status, (run, events, state): Attached) {
    let name = status.def.name.clone();
    restore_labelling(&run, status.labelled);
    driver.reserve_id(status.id);
    let uuid = *status.def.uuid.as_bytes();
    // Neither a pty's path nor the aliases and image indexes are read
    // back from the status: QEMU tells the one, the definition the others.
    let mut def = status.def;
    if let Err(e) = crate::command::add_runtime_details(&mut def) {
        tracing::warn!("cannot name the devices of {name}: {}", e.message);
    }
    if let Err(e) = crate::disk_pool::translate_disks(&mut def) {
        tracing::warn!("cannot find the pool volumes of {name}: {}", e.message);
    }
    if let Err(e) = crate::network_iface::restore_ports(&mut def) {
        tracing::warn!("cannot find the network ports of {name}: {}", e.message);
    }
    crate::macvtap::restore_links(&mut def);
    if let Err(e) = crate::console::record_ptys(driver, &run, &mut def) {
        tracing::warn!("cannot find the ptys of {name}: {}", e.message);
    }
    {
        let mut domains = driver.domains.lock();
        if domains.admit(&def, true).is_err() && domains.by_uuid_mut(&uuid).is_none() {
            tracing::warn!("status of {name} clashes with another guest");
        }
        let obj = domains.store(def, true);
        obj.id = status.id;
        obj.config_cpu = status.config_cpu;
        obj.run = Some(run.clone());
        (obj.state, obj.reason) = match state {
            Some(s) => s,
            None => (status.state, status.reason),
        };
        lifecycle::save_status(driver, obj);
    }
    crate::migration::adopt_postcopy(driver, &uuid);
    crate::watch::spawn(driver, uuid, run, events);
}

/// What a re-attached run remembers of its labelling (from the status).
fn restore_labelling(run: &Running, labelled: Option<bool>) {
    use std::sync::atomic::Ordering;
    run.labelled.store(labelled.is_some(), Ordering::SeqCst);
    run.remember_owner
        .store(labelled.unwrap_or(false), Ordering::SeqCst);
}

type Attached = (
    Arc<Running>,
    tokio::sync::mpsc::UnboundedReceiver<crate::monitor::MonitorEvent>,
    Option<(DomainState, i32)>,
);

/// Reconnect the monitor and read whether the vCPUs run now; else the
/// shut-off reason to record (crashed, or shutdown for a guest that
/// powered off while the daemon was down and waits under -no-shutdown).
fn connect(driver: &Driver, status: &Status) -> Result<Attached, i32> {
    let socket = status.monitor.clone();
    let timeout = driver.monitor_timeout;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let result = driver.rt.run(async move {
        let mon = Monitor::connect(&socket, REATTACH_TIMEOUT, tx)
            .await?
            .with_timeout(timeout);
        let st = mon.execute(qapi::qmp::query_status {}).await?;
        Ok::<_, rvirt_util::Error>((mon, st))
    });
    let (monitor, running) = match result {
        Ok((_, st)) if st.status == qapi::qmp::RunState::shutdown => {
            return Err(reason::SHUTOFF_SHUTDOWN)
        }
        Ok((mon, st)) => (mon, st.running),
        Err(e) => {
            tracing::warn!("cannot re-attach to {}: {}", status.def.name, e.message);
            return Err(reason::SHUTOFF_CRASHED);
        }
    };
    // The recorded reason stands while the state agrees with QEMU.
    let state = match (running, status.state) {
        (true, DomainState::Running) | (false, DomainState::Paused) => None,
        (true, _) => Some((DomainState::Running, reason::RUNNING_UNKNOWN)),
        (false, _) => Some((DomainState::Paused, reason::PAUSED_UNKNOWN)),
    };
    let run = Arc::new(Running::new(status.pid, monitor, driver.next_token()));
    Ok((run, rx, state))
}

fn autostart(driver: &Arc<Driver>) {
    let pending: Vec<_> = driver
        .domains
        .lock()
        .iter()
        .filter(|o| o.autostart && !o.is_active())
        .map(|o| o.domain_ref())
        .collect();
    for dom in pending {
        let started = crate::ops::with_job(driver, &dom, || {
            lifecycle::start(driver, &dom, StartRequest { paused: false })
        });
        if let Err(e) = started {
            tracing::error!("Failed to autostart VM '{}': {}", dom.name, e.message);
        }
    }
}
