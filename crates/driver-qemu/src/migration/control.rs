//! The job calls during a migration, answered by the shared engine
//! ([`rvirt_hypervisor::calls`]: statistics, abort through the job — its
//! interrupt sends `migrate_cancel` —, the speed and downtime limits,
//! post-copy) with only QEMU's part here: `migrate-set-parameters` when a
//! limit changes during the transfer, `migrate-start-postcopy`, and
//! libvirt's "domain is not running" where QEMU asks for a running guest.

use super::qmp::SetParameters;
use super::request::SUPPORT;
use crate::driver::Driver;
use crate::ops;
use rvirt::driver::DomainRef;
use rvirt::job::operation;
use rvirt_hypervisor::calls::{Limit, MAX_SPEED_POSTCOPY};
use rvirt_hypervisor::job::{DomainJob, Phase};
use rvirt_util::{Result, TypedParams};
use std::sync::Arc;

/// The job slot of an existing domain.
pub fn slot(driver: &Driver, dom: &DomainRef) -> Result<Arc<DomainJob>> {
    driver.domains.lock().get(dom)?;
    Ok(driver.migrations.jobs.slot(&dom.uuid))
}

/// `virDomainGetJobStats`: the running migration, or with COMPLETED the
/// last finished one (forgotten unless KEEP_COMPLETED).
pub fn job_stats(driver: &Driver, dom: &DomainRef, flags: u32) -> Result<(i32, TypedParams)> {
    use rvirt::job::stats_flags::{COMPLETED, KEEP_COMPLETED};
    crate::connection::check_flags("qemuDomainGetJobStats", flags, COMPLETED | KEEP_COMPLETED)?;
    Ok(SUPPORT.job_stats(&*slot(driver, dom)?, flags))
}

/// `virDomainAbortJobFlags`: with VIR_DOMAIN_ABORT_JOB_POSTCOPY an
/// outgoing post-copy migration is interrupted (`migrate-pause`,
/// out-of-band) and fails in post-copy, ready for a resume.
pub fn abort_job(driver: &Driver, dom: &DomainRef, flags: u32) -> Result<()> {
    let pause = || -> Result<()> {
        let run = ops::running(driver, dom)?;
        let paused = async move { run.monitor.execute_oob(qapi::qmp::migrate_pause {}).await };
        driver.rt.run(paused).map(|_| ())
    };
    SUPPORT.abort_job_with(&*slot(driver, dom)?, flags, Some(&pause))
}

/// Apply `params` to QEMU while an outgoing migration of `dom` runs.
fn apply_live(driver: &Driver, dom: &DomainRef, params: SetParameters) -> Result<()> {
    let running = slot(driver, dom)?
        .current()
        .is_some_and(|j| j.operation == operation::MIGRATION_OUT && j.phase() == Phase::Perform);
    if !running {
        return Ok(());
    }
    let run = ops::running(driver, dom)?;
    driver
        .rt
        .run(async move { run.monitor.execute(params).await })
        .map(|_| ())
}

fn bytes(mib: u64) -> i64 {
    i64::try_from(mib.saturating_mul(1 << 20)).unwrap_or(i64::MAX)
}

pub fn set_max_speed(driver: &Driver, dom: &DomainRef, mib: u64, flags: u32) -> Result<()> {
    let live = if flags & MAX_SPEED_POSTCOPY != 0 {
        SetParameters {
            max_postcopy_bandwidth: Some(bytes(mib)),
            ..SetParameters::default()
        }
    } else {
        SetParameters {
            max_bandwidth: Some(bytes(mib)),
            ..SetParameters::default()
        }
    };
    let apply = || apply_live(driver, dom, live);
    SUPPORT.set_limit_with(&*slot(driver, dom)?, Limit::Speed(mib), flags, apply)
}

/// `virDomainMigrateSetMaxDowntime`: QEMU's `downtime-limit`, for the
/// running migration at once and the next ones.
pub fn set_max_downtime(driver: &Driver, dom: &DomainRef, ms: u64, flags: u32) -> Result<()> {
    ops::running(driver, dom)?;
    let live = SetParameters {
        downtime_limit: Some(i64::try_from(ms).unwrap_or(i64::MAX)),
        ..SetParameters::default()
    };
    let apply = || apply_live(driver, dom, live);
    SUPPORT.set_limit_with(&*slot(driver, dom)?, Limit::Downtime(ms), flags, apply)
}

pub fn get_max_downtime(driver: &Driver, dom: &DomainRef, flags: u32) -> Result<u64> {
    ops::running(driver, dom)?;
    SUPPORT.get_max_downtime(&*slot(driver, dom)?, flags)
}

/// `virDomainMigrateStartPostCopy`: `migrate-start-postcopy` on a
/// migration started with VIR_MIGRATE_POSTCOPY.
pub fn start_post_copy(driver: &Driver, dom: &DomainRef, flags: u32) -> Result<()> {
    let switch = || {
        let run = ops::running(driver, dom)?;
        driver.rt.run(async move {
            run.monitor
                .execute(qapi::qmp::migrate_start_postcopy {})
                .await
        })?;
        Ok(())
    };
    SUPPORT
        .start_post_copy_with(&*slot(driver, dom)?, flags, switch)
        .map(|_| ())
}
