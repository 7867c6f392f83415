//! The job entry points of the driver trait, answered the same way by
//! every driver from the domain's [`DomainJob`]: `virDomainGetJobInfo`,
//! `GetJobStats`, `AbortJob`, `MigrateSetMaxSpeed` / `GetMaxSpeed`,
//! `SetMaxDowntime` / `GetMaxDowntime`, `MigrateStartPostCopy`, with
//! libvirt's checks and error texts (`qemuDomainAbortJob`,
//! `qemuDomainMigrateSetMaxSpeed`, ...). A driver looks the domain's slot
//! up (refusing unknown domains its own way) and forwards.
//!
//! What reaches the hypervisor during a job (QEMU's
//! `migrate-set-parameters`, `migrate_cancel`, `migrate-start-postcopy`)
//! follows from the job: the backend reads [`Job::max_speed`] and
//! [`Job::tunables`], runs its abort interrupts, and polls
//! [`Job::postcopy_requested`].

use crate::job::{DomainJob, Job, UNLIMITED_MIB};
use crate::rules::MigrationSupport;
use rvirt::driver::DomainRef;
use rvirt::job::{operation, JobInfo};
use rvirt_util::{Error, ErrorCode, Result, TypedParams};
use std::sync::Arc;

/// A driver's job entries over its domains' job slots: each answers from
/// the slot by the driver's rules unless the driver overrides it (what
/// also reaches its hypervisor). [`crate::migration_job_slots!`] writes
/// the `MigrationDriver` entries over them.
pub trait JobCalls {
    /// The driver's rules and error texts.
    fn job_rules(&self) -> &MigrationSupport;
    /// The domain's job slot (unknown domains refused the driver's way).
    fn job_slot(&self, dom: &DomainRef) -> Result<Arc<DomainJob>>;

    fn job_info(&self, dom: &DomainRef) -> Result<JobInfo> {
        Ok(self.job_rules().job_info(&*self.job_slot(dom)?))
    }
    fn job_stats(&self, dom: &DomainRef, flags: u32) -> Result<(i32, TypedParams)> {
        Ok(self.job_rules().job_stats(&*self.job_slot(dom)?, flags))
    }
    fn abort_job(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        self.job_rules().abort_job(&*self.job_slot(dom)?, flags)
    }
    fn set_max_speed(&self, dom: &DomainRef, mib: u64, flags: u32) -> Result<()> {
        self.job_rules()
            .set_max_speed(&*self.job_slot(dom)?, mib, flags)
    }
    fn get_max_speed(&self, dom: &DomainRef, flags: u32) -> Result<u64> {
        self.job_rules().get_max_speed(&*self.job_slot(dom)?, flags)
    }
    fn set_max_downtime(&self, dom: &DomainRef, ms: u64, flags: u32) -> Result<()> {
        self.job_rules()
            .set_max_downtime(&*self.job_slot(dom)?, ms, flags)
    }
    fn get_max_downtime(&self, dom: &DomainRef, flags: u32) -> Result<u64> {
        self.job_rules()
            .get_max_downtime(&*self.job_slot(dom)?, flags)
    }
    fn start_post_copy(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        let slot = self.job_slot(dom)?;
        self.job_rules().start_post_copy(&slot, flags).map(|_| ())
    }
}

/// `VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY`.
pub const MAX_SPEED_POSTCOPY: u32 = 1;

/// A migration limit a job call sets.
#[derive(Clone, Copy)]
pub enum Limit {
    /// MiB/s (the post-copy one with MAX_SPEED_POSTCOPY).
    Speed(u64),
    /// Milliseconds.
    Downtime(u64),
}

impl MigrationSupport {
    /// `virCheckFlags` in the driver's function `<prefix>Domain<call>`.
    fn check_flags(&self, call: &str, given: u32, allowed: u32) -> Result<()> {
        if given & !allowed != 0 {
            let api = format!("{}Domain{call}", self.prefix);
            return Err(rvirt::connect::unsupported_flags(&api, given & !allowed));
        }
        Ok(())
    }

    pub fn job_info(&self, slot: &DomainJob) -> JobInfo {
        let (t, stats) = slot.stats(0);
        JobInfo::from_stats(t, &stats)
    }

    pub fn job_stats(&self, slot: &DomainJob, flags: u32) -> (i32, TypedParams) {
        slot.stats(flags)
    }

    /// `virDomainAbortJob`: an outgoing migration stops and the guest
    /// stays here; an incoming one is not aborted this way.
    pub fn abort_job(&self, slot: &DomainJob, flags: u32) -> Result<()> {
        self.abort_job_with(slot, flags, None)
    }

    /// [`Self::abort_job`] for a driver that can interrupt a post-copy
    /// migration (`pause_postcopy`, QEMU's `migrate-pause`): with
    /// VIR_DOMAIN_ABORT_JOB_POSTCOPY it then fails in post-copy and waits
    /// for VIR_MIGRATE_POSTCOPY_RESUME (libvirt's `qemuDomainAbortJobFlags`).
    pub fn abort_job_with(
        &self,
        slot: &DomainJob,
        flags: u32,
        pause_postcopy: Option<&dyn Fn() -> Result<()>>,
    ) -> Result<()> {
        use rvirt::job::abort_flags::POSTCOPY;
        let allowed = if pause_postcopy.is_some() {
            POSTCOPY
        } else {
            0
        };
        self.check_flags("AbortJob", flags, allowed)?;
        let invalid = |text: &str| Err(Error::operation_invalid(self.domain, text));
        let current = slot.current();
        let in_postcopy = |j: &Job| j.postcopy_requested() || j.in_postcopy();
        let outgoing_postcopy = current
            .as_ref()
            .is_some_and(|j| j.operation == operation::MIGRATION_OUT && in_postcopy(j));
        if flags & POSTCOPY != 0 && !outgoing_postcopy {
            return invalid("current job is not outgoing migration in post-copy mode");
        }
        let Some(job) = current else {
            return invalid("no job is active on the domain");
        };
        if job.operation == operation::MIGRATION_IN {
            return invalid("cannot abort incoming migration; use virDomainDestroy instead");
        }
        if in_postcopy(&job) {
            return match (flags & POSTCOPY != 0, pause_postcopy) {
                (true, Some(pause)) => pause(),
                _ => invalid("cannot abort migration in post-copy mode"),
            };
        }
        job.request_abort();
        Ok(())
    }

    /// `virDomainMigrateSetMaxSpeed` (MiB/s): the domain's setting, and the
    /// running migration's.
    pub fn set_max_speed(&self, slot: &DomainJob, bandwidth: u64, flags: u32) -> Result<()> {
        self.set_limit_with(slot, Limit::Speed(bandwidth), flags, || Ok(()))
    }

    /// `virDomainMigrateSetMaxSpeed` or `SetMaxDowntime` for a hypervisor
    /// told of the change itself (QEMU's `migrate-set-parameters`): `apply`
    /// runs once the request is checked, and the setting is kept only
    /// when it succeeds.
    pub fn set_limit_with(
        &self,
        slot: &DomainJob,
        limit: Limit,
        flags: u32,
        apply: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        let postcopy = flags & MAX_SPEED_POSTCOPY != 0;
        match limit {
            Limit::Speed(bandwidth) => {
                self.check_flags("MigrateSetMaxSpeed", flags, MAX_SPEED_POSTCOPY)?;
                if bandwidth > UNLIMITED_MIB {
                    return Err(Error::new(
                        self.domain,
                        ErrorCode::OVERFLOW,
                        format!("bandwidth must be less than {}", UNLIMITED_MIB + 1),
                    ));
                }
            }
            Limit::Downtime(_) => self.check_flags("MigrateSetMaxDowntime", flags, 0)?,
        }
        apply()?;
        slot.tune(|t| match limit {
            Limit::Speed(bandwidth) if postcopy => t.max_speed_postcopy = bandwidth,
            Limit::Speed(bandwidth) => t.max_speed = bandwidth,
            Limit::Downtime(ms) => t.max_downtime = ms,
        });
        Ok(())
    }

    /// `virDomainMigrateGetMaxSpeed`: the domain's own setting, never a
    /// migration's one-off `bandwidth`.
    pub fn get_max_speed(&self, slot: &DomainJob, flags: u32) -> Result<u64> {
        self.check_flags("MigrateGetMaxSpeed", flags, MAX_SPEED_POSTCOPY)?;
        let t = slot.tunables();
        Ok(if flags & MAX_SPEED_POSTCOPY != 0 {
            t.max_speed_postcopy
        } else {
            t.max_speed
        })
    }

    /// `virDomainMigrateSetMaxDowntime` (ms).
    pub fn set_max_downtime(&self, slot: &DomainJob, downtime: u64, flags: u32) -> Result<()> {
        self.set_limit_with(slot, Limit::Downtime(downtime), flags, || Ok(()))
    }

    pub fn get_max_downtime(&self, slot: &DomainJob, flags: u32) -> Result<u64> {
        self.check_flags("MigrateGetMaxDowntime", flags, 0)?;
        Ok(slot.tunables().max_downtime)
    }

    /// `virDomainMigrateStartPostCopy`: only during an outgoing migration
    /// started with VIR_MIGRATE_POSTCOPY.
    pub fn start_post_copy(&self, slot: &DomainJob, flags: u32) -> Result<Arc<Job>> {
        self.start_post_copy_with(slot, flags, || Ok(()))
    }

    /// [`Self::start_post_copy`] for a hypervisor that switches itself
    /// (QEMU's `migrate-start-postcopy`): the job records the switch only
    /// once `switch` succeeded.
    pub fn start_post_copy_with(
        &self,
        slot: &DomainJob,
        flags: u32,
        switch: impl FnOnce() -> Result<()>,
    ) -> Result<Arc<Job>> {
        self.check_flags("MigrateStartPostCopy", flags, 0)?;
        let job = slot
            .current()
            .filter(|j| j.operation == operation::MIGRATION_OUT)
            .ok_or_else(|| {
                Error::operation_invalid(
                    self.domain,
                    "post-copy can only be started while outgoing migration is in progress",
                )
            })?;
        if !job.postcopy_allowed {
            return Err(Error::operation_invalid(
                self.domain,
                "switching to post-copy requires migration to be started with VIR_MIGRATE_POSTCOPY flag",
            ));
        }
        switch()?;
        job.request_postcopy();
        Ok(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{Phase, Tunables};
    use crate::rules::TEST;
    use rvirt_util::ErrorDomain;

    fn job(op: i32, postcopy: bool) -> Arc<Job> {
        Job::new(
            op,
            ErrorDomain::TEST,
            Phase::Perform,
            postcopy,
            Tunables::default(),
        )
    }

    #[test]
    fn tunables_and_their_refusals() {
        let slot = DomainJob::default();
        assert_eq!(TEST.get_max_speed(&slot, 0).unwrap(), UNLIMITED_MIB);
        TEST.set_max_speed(&slot, 7, MAX_SPEED_POSTCOPY).unwrap();
        assert_eq!(TEST.get_max_speed(&slot, MAX_SPEED_POSTCOPY).unwrap(), 7);
        let e = TEST.set_max_speed(&slot, UNLIMITED_MIB + 1, 0).unwrap_err();
        assert_eq!(e.code, ErrorCode::OVERFLOW);
        let e = TEST.get_max_downtime(&slot, 4).unwrap_err();
        assert_eq!(
            e.message,
            "unsupported flags (0x4) in function testDomainMigrateGetMaxDowntime"
        );
        TEST.set_max_downtime(&slot, 50, 0).unwrap();
        assert_eq!(TEST.get_max_downtime(&slot, 0).unwrap(), 50);
    }

    #[test]
    fn abort_and_post_copy_follow_the_job() {
        let slot = DomainJob::default();
        let e = TEST.abort_job(&slot, 0).unwrap_err();
        assert!(e.message.ends_with("no job is active on the domain"));
        slot.begin(job(operation::MIGRATION_IN, false), "g", |_| {})
            .unwrap();
        assert!(TEST.abort_job(&slot, 0).is_err());
        assert!(TEST.start_post_copy(&slot, 0).is_err());
        let slot = DomainJob::default();
        let out = job(operation::MIGRATION_OUT, true);
        slot.begin(out.clone(), "g", |_| {}).unwrap();
        TEST.start_post_copy(&slot, 0).unwrap();
        let e = TEST.abort_job(&slot, 0).unwrap_err();
        assert!(e
            .message
            .ends_with("cannot abort migration in post-copy mode"));
        assert!(!out.aborted());
    }

    #[test]
    fn a_postcopy_migration_is_paused_only_with_the_postcopy_flag() {
        use rvirt::job::abort_flags::POSTCOPY;
        let paused = std::sync::atomic::AtomicU32::new(0);
        let pause = || -> Result<()> {
            paused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        };
        let slot = DomainJob::default();
        let e = TEST.abort_job(&slot, POSTCOPY).unwrap_err();
        assert!(
            e.message.contains("unsupported flags (0x1)"),
            "{}",
            e.message
        );
        let e = TEST
            .abort_job_with(&slot, POSTCOPY, Some(&pause))
            .unwrap_err();
        assert!(e
            .message
            .ends_with("current job is not outgoing migration in post-copy mode"));
        let out = job(operation::MIGRATION_OUT, true);
        slot.begin(out.clone(), "g", |_| {}).unwrap();
        assert!(TEST.abort_job_with(&slot, POSTCOPY, Some(&pause)).is_err());
        out.enter_postcopy();
        let e = TEST.abort_job_with(&slot, 0, Some(&pause)).unwrap_err();
        assert!(e
            .message
            .ends_with("cannot abort migration in post-copy mode"));
        TEST.abort_job_with(&slot, POSTCOPY, Some(&pause)).unwrap();
        assert_eq!(paused.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(!out.aborted());
    }
}
