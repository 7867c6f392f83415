//! What QEMU reports on its own, turned into guest state and lifecycle
//! events (libvirt's `qemuProcessHandle*` callbacks): pauses and resumes
//! the driver did not ask for, guest shutdowns, resets, and the end of
//! the process.

use crate::driver::Driver;
use crate::lifecycle::{self, finish_stop};
use crate::monitor::MonitorEvent;
use crate::process;
use crate::state::Running;
use qapi::qmp::Event;
use rvirt::events::{lifecycle as ev, DomainEvent};
use rvirt::types::{reason, DomainState};
use rvirt_util::{Error, ErrorDomain};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// How long a QEMU whose monitor closed may take to exit before it
/// counts as gone anyway.
const EXIT_WAIT: Duration = Duration::from_secs(5);

/// Follow run `run` of guest `uuid` until its monitor closes.
pub fn spawn(
    driver: &Arc<Driver>,
    uuid: [u8; 16],
    run: Arc<Running>,
    mut events: UnboundedReceiver<MonitorEvent>,
) {
    let weak_driver = Arc::downgrade(driver);
    let token = run.token;
    // The task holds the run weakly: a run the driver dropped (stopped)
    // ends its watch with its monitor.
    let run = Arc::downgrade(&run);
    driver.rt.handle().spawn(async move {
        while let Some(event) = events.recv().await {
            if !handle(&weak_driver, uuid, token, &run, event).await {
                break;
            }
        }
    });
}

/// Act on one event; false once the run is over.
async fn handle(
    driver: &Weak<Driver>,
    uuid: [u8; 16],
    token: u64,
    run: &Weak<Running>,
    event: MonitorEvent,
) -> bool {
    let (Some(driver), Some(run)) = (driver.upgrade(), run.upgrade()) else {
        return false;
    };
    if matches!(event, MonitorEvent::Qmp(Event::STOP { .. })) {
        crate::migration::note_source_stop(&driver, &uuid);
    }
    match event {
        MonitorEvent::Qmp(Event::STOP { .. }) if run.take_own(true) => {}
        MonitorEvent::Qmp(Event::RESUME { .. }) if run.take_own(false) => {}
        MonitorEvent::Qmp(Event::STOP { .. }) => {
            let (why, detail) = crate::migration::pause_cause(&driver, &uuid)
                .unwrap_or((reason::PAUSED_UNKNOWN, ev::SUSPENDED_PAUSED));
            transition(
                &driver,
                &uuid,
                token,
                DomainState::Running,
                DomainState::Paused,
                why,
                ev::SUSPENDED,
                detail,
            );
        }
        MonitorEvent::Qmp(Event::MIGRATION { data, .. }) => {
            crate::migration::on_migration_event(&driver, &uuid);
            if matches!(data.status, qapi::qmp::MigrationStatus::completed) {
                crate::migration::on_migration_completed(&driver, uuid);
            }
        }
        MonitorEvent::Qmp(Event::MIGRATION_PASS { data, .. }) => {
            if let Some(dom) = current_ref(&driver, &uuid, token) {
                let iteration = i32::try_from(data.pass).unwrap_or(i32::MAX);
                driver.emit(&dom, DomainEvent::MigrationIteration { iteration });
            }
        }
        MonitorEvent::Qmp(Event::RESUME { .. }) => {
            transition(
                &driver,
                &uuid,
                token,
                DomainState::Paused,
                DomainState::Running,
                reason::RUNNING_UNPAUSED,
                ev::RESUMED,
                ev::RESUMED_UNPAUSED,
            );
        }
        MonitorEvent::Qmp(Event::RESET { .. }) => {
            run.resets.fetch_add(1, Ordering::SeqCst);
            if let Some(dom) = current_ref(&driver, &uuid, token) {
                driver.emit(&dom, DomainEvent::Reboot);
            }
        }
        MonitorEvent::Qmp(Event::BALLOON_CHANGE { data, .. }) => {
            // The guest moved its balloon: current memory follows
            // (libvirt's qemuProcessHandleBalloonChange).
            let mut domains = driver.domains.lock();
            if let Some(obj) = domains.by_uuid_mut(&uuid) {
                if obj.run.as_ref().map(|r| r.token) == Some(token) {
                    obj.def.current_memory_kib = u64::try_from(data.actual / 1024).unwrap_or(0);
                    lifecycle::save_status(&driver, obj);
                }
            }
        }
        MonitorEvent::Qmp(Event::SHUTDOWN { .. }) => {
            guest_shut_down(&driver, &uuid, &run).await;
            return false;
        }
        MonitorEvent::Closed => {
            monitor_closed(&driver, &uuid, &run).await;
            return false;
        }
        _ => {}
    }
    true
}

fn current_ref(driver: &Driver, uuid: &[u8; 16], token: u64) -> Option<rvirt::driver::DomainRef> {
    let mut domains = driver.domains.lock();
    let obj = domains.by_uuid_mut(uuid)?;
    (obj.run.as_ref().map(|r| r.token) == Some(token)).then(|| obj.domain_ref())
}

/// Move from `from` to `to` when the guest is in `from` (a state the API
/// already set makes this a no-op, so each change is announced once).
#[allow(clippy::too_many_arguments)]
fn transition(
    driver: &Driver,
    uuid: &[u8; 16],
    token: u64,
    from: DomainState,
    to: DomainState,
    why: i32,
    event: i32,
    detail: i32,
) {
    let dom = {
        let mut domains = driver.domains.lock();
        let Some(obj) = domains.by_uuid_mut(uuid) else {
            return;
        };
        if obj.run.as_ref().map(|r| r.token) != Some(token) || obj.state != from {
            return;
        }
        obj.state = to;
        obj.reason = why;
        lifecycle::save_status(driver, obj);
        obj.domain_ref()
    };
    driver.emit_lifecycle(&dom, event, detail);
}

/// The guest powered off (QEMU runs with -no-shutdown, so it waits): tell
/// the clients, then end QEMU and mark the guest shut off (shutdown).
async fn guest_shut_down(driver: &Arc<Driver>, uuid: &[u8; 16], run: &Running) {
    run.got_shutdown.store(true, Ordering::SeqCst);
    if run.stop_reason.load(Ordering::SeqCst) != 0 {
        return; // the driver is stopping it already
    }
    run.stop_reason
        .store(reason::SHUTOFF_SHUTDOWN, Ordering::SeqCst);
    if let Some(dom) = current_ref(driver, uuid, run.token) {
        driver.emit_lifecycle(&dom, ev::SHUTDOWN, ev::SHUTDOWN_FINISHED);
    }
    if let Err(e) = process::terminate(run.pid, false).await {
        tracing::warn!("{}", e.message);
    }
    finish_stop(
        driver,
        uuid,
        run.token,
        reason::SHUTOFF_SHUTDOWN,
        ev::STOPPED_SHUTDOWN,
    );
}

/// The monitor closed without the driver stopping QEMU: it exited or
/// crashed (libvirt's `qemuProcessHandleMonitorEOF`).
/// An incoming migration's QEMU went away: what its finish will report,
/// QEMU's last words included (libvirt's monitor EOF during
/// `VIR_ASYNC_JOB_MIGRATION_IN`).
fn save_incoming_error(driver: &Driver, uuid: &[u8; 16]) {
    let Some(name) = driver
        .domains
        .lock()
        .by_uuid_mut(uuid)
        .map(|o| o.def.name.clone())
    else {
        return;
    };
    let tail = process::log_tail_of_last_run(&driver.dirs.log_file(&name));
    let text = match tail.is_empty() {
        true => "qemu unexpectedly closed the monitor".to_string(),
        false => format!("qemu unexpectedly closed the monitor: {tail}"),
    };
    driver
        .migrations
        .save_error(&name, Error::internal(ErrorDomain::QEMU, text));
}

async fn monitor_closed(driver: &Arc<Driver>, uuid: &[u8; 16], run: &Running) {
    if run.stop_reason.load(Ordering::SeqCst) != 0 {
        return;
    }
    let deadline = tokio::time::Instant::now() + EXIT_WAIT;
    while process::is_alive(run.pid) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if process::is_alive(run.pid) {
        // A monitor that closed on a live QEMU: libvirt kills such a guest.
        let _ = process::terminate(run.pid, false).await;
    }
    let (why, detail) = if run.got_shutdown.load(Ordering::SeqCst) {
        (reason::SHUTOFF_SHUTDOWN, ev::STOPPED_SHUTDOWN)
    } else {
        (reason::SHUTOFF_CRASHED, ev::STOPPED_FAILED)
    };
    if run.incoming.load(Ordering::SeqCst) {
        save_incoming_error(driver, uuid);
    }
    finish_stop(driver, uuid, run.token, why, detail);
}
