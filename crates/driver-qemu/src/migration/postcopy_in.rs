//! The destination's side of post-copy (libvirt's
//! `qemuMigrationDstFinishFresh` / `qemuMigrationDstComplete` /
//! `qemuMigrationDstPostcopyFailed`): the guest runs here while QEMU pulls
//! the rest of its memory; once the last page is in it is simply migrated,
//! and if the source goes away first it stays, "running (post-copy
//! failed)", never killed.

use super::job::Incoming;
use super::qmp;
use crate::driver::Driver;
use crate::lifecycle;
use rvirt::driver::DomainRef;
use rvirt::events::lifecycle as ev;
use rvirt::migration::flags;
use rvirt::types::{reason, DomainState};
use rvirt_hypervisor::incoming::IncomingState;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::time::Duration;

/// Post-copy failed with the guest here: it stays, running (post-copy
/// failed), or paused for its own reason with just the event.
pub(super) fn postcopy_failed(driver: &Driver, dom: &DomainRef) {
    tracing::warn!(
        "Incoming migration of domain '{}' failed during post-copy; leaving the domain running",
        dom.name
    );
    let (now, event) = {
        let mut domains = driver.domains.lock();
        let Ok(obj) = domains.get_mut(dom) else {
            return;
        };
        let event = if obj.state == DomainState::Running {
            obj.reason = reason::RUNNING_POSTCOPY_FAILED;
            (ev::RESUMED, ev::RESUMED_POSTCOPY_FAILED)
        } else {
            (ev::SUSPENDED, ev::SUSPENDED_POSTCOPY_FAILED)
        };
        lifecycle::save_status(driver, obj);
        (obj.domain_ref(), event)
    };
    driver.emit_lifecycle(&now, event.0, event.1);
}

/// Post-copy: the guest may run here while QEMU still pulls pages from
/// the source, whose QEMU must live until the last is in. Finish returns
/// only then, as libvirt's does (`qemuMigrationDstWaitForCompletion`): a
/// libvirtd source stops its QEMU as soon as confirm comes.
/// QEMU's incoming migration status now.
pub(super) fn incoming_status(driver: &Driver, inc: &Incoming) -> Result<String> {
    let run = inc.run.clone();
    let info = driver
        .rt
        .run(async move { run.monitor.execute(qmp::QueryMigrate {}).await })?;
    Ok(info.status.unwrap_or_default())
}

/// Post-copy ran here: once the last page arrived the guest is simply
/// migrated (libvirt's `qemuMigrationDstComplete` and its second RESUMED).
pub(super) fn wait_postcopy_done(
    driver: &Driver,
    dom: &DomainRef,
    inc: &Incoming,
    flags: u32,
) -> Result<()> {
    if flags & flags::POSTCOPY == 0 {
        return Ok(());
    }
    pulled_last_page(driver, dom, inc)?;
    // Post-copy ran here, and may have been given up as failed meanwhile
    // (the preparing connection closed): the last page is in all the same.
    if inc.status.get() != IncomingState::PostCopy && !inc.job.is_postcopy_failed() {
        return Ok(());
    }
    let now = {
        let mut domains = driver.domains.lock();
        let obj = domains.get_mut(dom)?;
        if obj.state == DomainState::Running {
            obj.reason = reason::RUNNING_MIGRATED;
        }
        lifecycle::save_status(driver, obj);
        obj.domain_ref()
    };
    driver.emit_lifecycle(&now, ev::RESUMED, ev::RESUMED_MIGRATED);
    Ok(())
}

/// Wait until QEMU has pulled the guest's last page from the source.
fn pulled_last_page(driver: &Driver, dom: &DomainRef, inc: &Incoming) -> Result<()> {
    let (run, wake) = (inc.run.clone(), driver.migrations.waker(&dom.uuid));
    driver.rt.run(async move {
        let failed = || {
            Error::new(
                ErrorDomain::QEMU,
                ErrorCode::OPERATION_FAILED,
                "job 'migration in' failed in post-copy phase",
            )
        };
        loop {
            let woken = wake.notified();
            let info = match run.monitor.execute(qmp::QueryMigrate {}).await {
                Ok(info) => info,
                // A QEMU whose main loop waits for a page the source can no
                // longer send does not answer: post-copy broke.
                Err(e) if e.code == ErrorCode::OPERATION_TIMEOUT => return Err(failed()),
                Err(e) => return Err(e),
            };
            match info.status.as_deref() {
                None | Some("completed" | "none") => return Ok(()),
                Some("failed" | "cancelled" | "postcopy-paused") => return Err(failed()),
                Some(_) => {}
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), woken).await;
        }
    })
}
