//! QEMU's part of post-copy recovery (VIR_MIGRATE_POSTCOPY_RESUME; the
//! phases and their checks are the shared engine's,
//! `rvirt_hypervisor::resume`), as libvirt 9.0 drives QEMU 7.2:
//!
//! - source begin: QEMU's outgoing migration must be `postcopy-paused`
//!   (`qemuMigrationSrcBeginResume`);
//! - destination prepare: the same on the incoming side, then
//!   `migrate-recover` on a new listener (`qemuMigrationDstPrepareResume`),
//!   sent out-of-band: a TCG guest's main loop may be blocked on a page
//!   the source can no longer send, and only QEMU's monitor thread still
//!   answers (it also accepts the recovery connection);
//! - source perform: the speed settings, then `migrate` with `resume`
//!   (`qemuMigrationSrcResume`);
//! - destination finish: wait for the last page (`qemuMigrationDstFinishResume`).
//!
//! When QEMU's transfer leaves `postcopy-paused` each guest's state goes
//! back from "post-copy failed" to "post-copy" with libvirt's events
//! (`qemuProcessHandleMigrationStatus`, POSTCOPY_RECOVER).

use super::incoming::{our_cookie, plan_listener};
use super::job::{progress_from, Incoming};
use super::qmp::{self, MigrationInfo, QueryMigrate};
use crate::driver::Driver;
use crate::lifecycle;
use crate::monitor::qmp_command;
use crate::ops;
use crate::state::Running;
use parking_lot::Mutex;
use rvirt::driver::DomainRef;
use rvirt::events::{lifecycle as ev, DomainEvent};
use rvirt::types::{reason, DomainState};
use rvirt_conf::{DomainDef, MigrationCookie};
use rvirt_hypervisor::destination::{IncomingRequest, Prepared};
use rvirt_hypervisor::incoming::IncomingStatus;
use rvirt_hypervisor::job::{cookie_figures, DomainJob, Job};
use rvirt_hypervisor::resume::FailedIncoming;
use rvirt_hypervisor::{cookie, Outgoing, Perform, Target};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// How long a monitor that does not answer is given per question while
/// the guest may wait for a page (its main loop then cannot answer).
const STUCK_ANSWER: Duration = Duration::from_secs(3);
/// How long the transfer may take to leave `postcopy-paused` once resumed.
const RECOVER_WAIT: Duration = Duration::from_secs(30);
/// How long the rest of the memory may take once post-copy runs again.
const COMPLETE_WAIT: Duration = Duration::from_secs(600);
const POLL: Duration = Duration::from_millis(100);

/// QEMU 7.2's `migrate` with `resume` (the schema crate's is newer).
#[derive(Debug, Clone, Serialize)]
struct MigrateResume {
    uri: String,
    resume: bool,
}

qmp_command!(MigrateResume = "migrate" => qapi::Empty);

fn still_running() -> Error {
    Error::operation_invalid(ErrorDomain::QEMU, "QEMU reports migration is still running")
}

fn failed_in_postcopy(what: &str) -> Error {
    Error::new(
        ErrorDomain::QEMU,
        ErrorCode::OPERATION_FAILED,
        format!("job '{what}' failed in post-copy phase"),
    )
}

/// QEMU's migration status; `None` when its monitor did not answer in
/// time (the guest waits for a page: the transfer cannot be running).
async fn status(run: &Running) -> Result<Option<MigrationInfo>> {
    let asked = run
        .monitor
        .execute_within(QueryMigrate {}, STUCK_ANSWER, None);
    match asked.await {
        Ok(info) => Ok(Some(info)),
        Err(e) if e.code == ErrorCode::OPERATION_TIMEOUT => Ok(None),
        Err(e) => Err(e),
    }
}

/// The transfer must be paused by the failure, not running.
fn check_paused(driver: &Driver, run: &Arc<Running>) -> Result<()> {
    let run = run.clone();
    let info = driver.rt.run(async move { status(&run).await })?;
    match info.and_then(|i| i.status).as_deref() {
        None | Some("postcopy-paused") => Ok(()),
        Some(_) => Err(still_running()),
    }
}

/// The guest's state says post-copy failed (either end).
pub(super) fn is_postcopy_failed(driver: &Driver, dom: &DomainRef) -> bool {
    let domains = driver.domains.lock();
    domains.get(dom).is_ok_and(failed_state)
}

fn failed_state(obj: &crate::state::DomainObj) -> bool {
    matches!(
        (obj.state, obj.reason),
        (DomainState::Paused, reason::PAUSED_POSTCOPY_FAILED)
            | (DomainState::Running, reason::RUNNING_POSTCOPY_FAILED)
    )
}

/// The transfer runs again: "post-copy failed" becomes "post-copy", with
/// libvirt's SUSPENDED_POSTCOPY or RESUMED_POSTCOPY event.
fn recovered(driver: &Driver, dom: &DomainRef) {
    let now = {
        let mut domains = driver.domains.lock();
        let Ok(obj) = domains.get_mut(dom) else {
            return;
        };
        if !failed_state(obj) {
            return;
        }
        let event = match obj.state {
            DomainState::Paused => {
                obj.reason = reason::PAUSED_POSTCOPY;
                (ev::SUSPENDED, ev::SUSPENDED_POSTCOPY)
            }
            _ => {
                obj.reason = reason::RUNNING_POSTCOPY;
                (ev::RESUMED, ev::RESUMED_POSTCOPY)
            }
        };
        lifecycle::save_status(driver, obj);
        (obj.domain_ref(), event)
    };
    driver.emit_lifecycle(&now.0, now.1 .0, now.1 .1);
}

/// Source begin: the XML and cookie for the destination, once QEMU's
/// transfer is known to be paused.
pub(super) fn begin(driver: &Driver, dom: &DomainRef) -> Result<(MigrationCookie, String)> {
    use rvirt::flags::xml::{MIGRATABLE, SECURE};
    let run = ops::running(driver, dom)?;
    check_paused(driver, &run)?;
    let (mut c, xml) = {
        let domains = driver.domains.lock();
        let obj = domains.get(dom)?;
        let host = driver.host_uuid.unwrap_or_default();
        let c = cookie::source_cookie(&obj.def, None, host, 4096);
        (c, obj.describe(SECURE | MIGRATABLE))
    };
    qmp::add_capabilities(driver, &run, qmp::Party::Source, &mut c);
    Ok((c, xml))
}

/// Source perform: this request's speeds, `migrate` with `resume`, and
/// the transfer followed until it left `postcopy-paused`.
pub(super) fn perform(
    driver: &Driver,
    dom: &DomainRef,
    out: &Outgoing,
    p: Perform,
) -> Result<MigrationCookie> {
    let run = ops::running(driver, dom)?;
    let Target::Uri(uri) = p.target else {
        return Err(Error::new(
            ErrorDomain::QEMU,
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "post-copy is not supported with tunnelled migration",
        ));
    };
    out.job.tune(|t| p.req.apply_one_off(t));
    let t = out.job.tunables();
    let speeds = qmp::SetParameters {
        max_bandwidth: Some(qmp::mib_to_bytes(t.max_speed)),
        max_postcopy_bandwidth: p.req.bandwidth_postcopy.map(qmp::mib_to_bytes),
        downtime_limit: Some(qmp::int(t.max_downtime)),
        ..qmp::SetParameters::default()
    };
    let (job, wake) = (out.job.clone(), driver.migrations.waker(&dom.uuid));
    let resume = MigrateResume {
        uri: qmp::qemu_uri(&uri),
        resume: true,
    };
    driver.rt.run(async move {
        let mon = &run.monitor;
        mon.execute(speeds).await?;
        mon.execute(resume).await?;
        // 7.2 leaves `postcopy-paused` only once connected again.
        let deadline = tokio::time::Instant::now() + RECOVER_WAIT;
        loop {
            let woken = wake.notified();
            let info = mon.execute(QueryMigrate {}).await?;
            job.update(|p| progress_from(&info, p));
            match info.status.as_deref() {
                Some("postcopy-recover" | "postcopy-active" | "completed") => return Ok(()),
                Some("failed" | "cancelled") => return Err(failed_in_postcopy("migration out")),
                _ if tokio::time::Instant::now() >= deadline => {
                    return Err(failed_in_postcopy("migration out"))
                }
                _ => {}
            }
            let _ = tokio::time::timeout(POLL, woken).await;
        }
    })?;
    recovered(driver, dom);
    let memory_kib = driver.domains.lock().get(dom)?.def.memory_kib;
    let mut c = our_cookie(driver, dom, memory_kib);
    c.stats = cookie_figures(&out.job);
    Ok(c)
}

/// Destination: the guest the request names, whose incoming post-copy
/// failed here.
pub(super) fn failed_incoming(driver: &Driver, r: &IncomingRequest) -> Result<FailedIncoming> {
    let name = match (&r.req.dname, r.dom_xml) {
        (Some(n), _) => n.clone(),
        (None, Some(xml)) => DomainDef::parse(xml)?.name,
        (None, None) => {
            return Err(Error::invalid_arg(
                ErrorDomain::QEMU,
                "no domain XML passed",
            ))
        }
    };
    let domains = driver.domains.lock();
    let obj = domains.by_name(&name)?;
    let dom = obj.domain_ref();
    Ok(FailedIncoming {
        slot: driver.migrations.jobs.slot(&dom.uuid),
        failed_state: failed_state(obj),
        dom,
    })
}

/// Destination prepare: QEMU listens again (`migrate-recover`) on a port
/// of the range; the migration to register, our cookie and the URI.
pub(super) fn prepare(
    driver: &Driver,
    dom: &DomainRef,
    (job, slot): (&Arc<Job>, &Arc<DomainJob>),
    r: IncomingRequest,
) -> Result<Prepared<Incoming>> {
    let run = ops::running(driver, dom)?;
    check_paused(driver, &run)?;
    let listener = plan_listener(driver, r.req)?;
    let recover = qapi::qmp::migrate_recover {
        uri: listener.incoming.clone(),
    };
    let sent = run.clone();
    let listening = driver
        .rt
        .run(async move { sent.monitor.execute_oob(recover).await });
    if let Err(e) = listening {
        if let Some(p) = listener.allocated {
            driver.migrations.ports.release(p);
        }
        return Err(e);
    }
    let status = IncomingStatus::default();
    status.enter_postcopy();
    let inc = Arc::new(Incoming {
        dom: dom.clone(),
        status,
        failure: Mutex::default(),
        job: job.clone(),
        slot: slot.clone(),
        run,
        port: listener.allocated,
        storage: Default::default(),
        persistent: None,
    });
    let memory_kib = driver.domains.lock().get(dom)?.def.memory_kib;
    Ok((inc, our_cookie(driver, dom, memory_kib), listener.uri_out))
}

/// Destination finish: post-copy runs again, then the last page arrives;
/// the guest is simply migrated (libvirt's `qemuMigrationDstComplete`:
/// no completed job stays, its figures would be obsolete).
pub(super) fn finish(driver: &Arc<Driver>, inc: &Incoming) -> Result<(DomainRef, MigrationCookie)> {
    let dom = inc.dom.clone();
    let (run, wake) = (inc.run.clone(), driver.migrations.waker(&dom.uuid));
    let back = driver.clone();
    let recovered_dom = dom.clone();
    driver.rt.run(async move {
        let start = tokio::time::Instant::now();
        let mut running_again = false;
        loop {
            let woken = wake.notified();
            let status = status(&run).await?.map(|i| i.status.unwrap_or_default());
            match status.as_deref() {
                Some("completed" | "none" | "") => break,
                Some("failed" | "cancelled") => return Err(failed_in_postcopy("migration in")),
                Some("postcopy-paused") if running_again => {
                    return Err(failed_in_postcopy("migration in"))
                }
                Some("postcopy-paused") | None
                    if start.elapsed() > RECOVER_WAIT && !running_again =>
                {
                    return Err(failed_in_postcopy("migration in"))
                }
                Some("postcopy-recover" | "postcopy-active") if !running_again => {
                    running_again = true;
                    recovered(&back, &recovered_dom);
                }
                _ if start.elapsed() > COMPLETE_WAIT => {
                    return Err(failed_in_postcopy("migration in"))
                }
                _ => {}
            }
            let _ = tokio::time::timeout(POLL, woken).await;
        }
        if !running_again {
            recovered(&back, &recovered_dom);
        }
        Ok(())
    })?;
    let now = {
        let mut domains = driver.domains.lock();
        let obj = domains.get_mut(&dom)?;
        if obj.state == DomainState::Running {
            obj.reason = reason::RUNNING_MIGRATED;
        }
        lifecycle::save_status(driver, obj);
        (obj.domain_ref(), obj.def.memory_kib)
    };
    driver.emit_lifecycle(&now.0, ev::RESUMED, ev::RESUMED_MIGRATED);
    let stats = inc.slot.end(&inc.job, true, None);
    inc.slot.forget_completed();
    if let Some(p) = inc.port {
        driver.migrations.ports.release(p);
    }
    driver.emit(&now.0, DomainEvent::JobCompleted { stats });
    let mut ours = our_cookie(driver, &now.0, now.1);
    ours.stats = cookie_figures(&inc.job);
    Ok((now.0, ours))
}

/// A guest re-attached by a restarted daemon in the middle of post-copy
/// (its status says so): "post-copy failed" with its job waiting for a
/// resume, as libvirt's `qemuProcessRecoverMigrationIn`/`Out` leave it.
pub(super) fn adopt(driver: &Arc<Driver>, uuid: &[u8; 16]) {
    use rvirt::job::operation;
    let (dom, op, event) = {
        let mut domains = driver.domains.lock();
        let Some(obj) = domains.by_uuid_mut(uuid) else {
            return;
        };
        let (op, failed, event) = match (obj.state, obj.reason) {
            (DomainState::Running, reason::RUNNING_POSTCOPY | reason::RUNNING_POSTCOPY_FAILED) => (
                operation::MIGRATION_IN,
                reason::RUNNING_POSTCOPY_FAILED,
                (ev::RESUMED, ev::RESUMED_POSTCOPY_FAILED),
            ),
            (DomainState::Paused, reason::PAUSED_POSTCOPY | reason::PAUSED_POSTCOPY_FAILED) => (
                operation::MIGRATION_OUT,
                reason::PAUSED_POSTCOPY_FAILED,
                (ev::SUSPENDED, ev::SUSPENDED_POSTCOPY_FAILED),
            ),
            _ => return,
        };
        let changed = obj.reason != failed;
        obj.reason = failed;
        lifecycle::save_status(driver, obj);
        (obj.domain_ref(), op, changed.then_some(event))
    };
    tracing::warn!(
        "{} was in a post-copy migration when the daemon stopped: left as post-copy failed",
        dom.name
    );
    let jobs = &driver.migrations.jobs;
    if let Err(e) = jobs.adopt_failed_postcopy(uuid, &dom.name, op, ErrorDomain::QEMU) {
        tracing::warn!(
            "cannot recover the migration job of {}: {}",
            dom.name,
            e.message
        );
    }
    if let Some((event, detail)) = event {
        driver.emit_lifecycle(&dom, event, detail);
    }
    // QEMU may have finished the transfer while the daemon was away.
    let done =
        ops::running(driver, &dom).and_then(|run| driver.rt.run(async move { status(&run).await }));
    if let Ok(Some(MigrationInfo {
        status: Some(s), ..
    })) = done
    {
        if s == "completed" {
            completed_unattended(driver, uuid);
        }
    }
}

/// QEMU completed a post-copy migration whose job was left failed (its
/// daemon restarted, or its client gave up): libvirt's
/// `qemuMigrationProcessUnattended`. The destination's guest is simply
/// migrated; the source's QEMU ends and its job completes.
pub(super) fn completed_unattended(driver: &Arc<Driver>, uuid: &[u8; 16]) {
    use rvirt::job::operation;
    let slot = driver.migrations.jobs.slot(uuid);
    let Some(job) = slot.current().filter(|j| j.is_postcopy_failed()) else {
        return;
    };
    let Ok(dom) = driver.domains.lock().by_uuid(uuid).map(|o| o.domain_ref()) else {
        return;
    };
    tracing::info!("post-copy migration of {} completed unattended", dom.name);
    if job.operation == operation::MIGRATION_OUT {
        let src = super::outgoing::Source { driver };
        if let Err(e) = rvirt_hypervisor::resume::completed_unattended(&src, &dom) {
            tracing::warn!("cannot end the migrated {}: {}", dom.name, e.message);
        }
        return;
    }
    let now = {
        let mut domains = driver.domains.lock();
        let Ok(obj) = domains.get_mut(&dom) else {
            return;
        };
        if obj.state == DomainState::Running {
            obj.reason = reason::RUNNING_MIGRATED;
        }
        lifecycle::save_status(driver, obj);
        obj.domain_ref()
    };
    let stats = slot.end(&job, true, None);
    slot.forget_completed();
    driver.emit_lifecycle(&now, ev::RESUMED, ev::RESUMED_MIGRATED);
    driver.emit(&now, DomainEvent::JobCompleted { stats });
}
