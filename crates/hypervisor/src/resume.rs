//! Recovery of a failed post-copy migration (VIR_MIGRATE_POSTCOPY_RESUME),
//! as libvirt's `qemuMigrationAnyCanResume` and its resume phases run it.
//!
//! Once post-copy broke, the guest runs on the destination while part of
//! its memory is still on the source, so neither end can end it: both
//! jobs stay, in [`Phase::PostcopyFailed`], the source "paused (post-copy
//! failed)", the destination "running (post-copy failed)". A new
//! migration with `--postcopy --postcopy-resume` then runs the same V3
//! sequence over them:
//!
//! ```text
//!  source                                   destination
//!  begin   → BeginResume: the hypervisor
//!            confirms its transfer paused
//!                                           prepare → PrepareResume: the
//!                                           hypervisor listens again (QEMU:
//!                                           migrate-recover), answers a URI
//!  perform → PerformResume: the transfer
//!            restarts there (QEMU: migrate
//!            with resume)
//!                                           finish → FinishResume: wait for
//!                                           the last page; running (migrated)
//!  confirm → ConfirmResume: the source
//!            guest ends, the job completes
//! ```
//!
//! A phase that fails puts its job back to the marker, the guest stays
//! where post-copy left it, and the client may try again.

use crate::backend::{SourceBackend, Target};
use crate::cookie::{self, Sender};
use crate::destination::{DestinationBackend, IncomingRequest};
use crate::incoming::Prepared as _;
use crate::job::{DomainJob, Job, Phase};
use crate::source::{Outgoing, Perform};
use rvirt::driver::{Cookie, DomainRef};
use rvirt::job::operation;
use rvirt::migration::flags;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::sync::Arc;

/// What the resume checks know of the guest.
pub struct Resumable<'a> {
    pub name: &'a str,
    pub domain: ErrorDomain,
    /// `operation::MIGRATION_OUT` on the source, `_IN` on the destination.
    pub operation: i32,
    /// The guest's state says post-copy failed (paused or running with
    /// the POSTCOPY_FAILED reason), whatever the job knows yet.
    pub failed_state: bool,
}

/// A driver without post-copy recovery (its rules refuse the flag first).
pub fn not_supported(s: &crate::MigrationSupport) -> Error {
    Error::new(
        s.domain,
        ErrorCode::ARGUMENT_UNSUPPORTED,
        format!(
            "the {} driver cannot resume a post-copy migration",
            s.driver
        ),
    )
}

/// Whether `flags` ask to resume a failed post-copy migration.
pub fn requested(flags: u32) -> bool {
    flags & flags::POSTCOPY_RESUME != 0
}

/// libvirt's `qemuMigrationAnyCanResume`: the job that may run the next
/// resume phase, which must not come after `expected`; errors with
/// libvirt's codes and texts, in its order.
pub fn can_resume(
    current: Option<Arc<Job>>,
    r: &Resumable,
    flags: u32,
    expected: Phase,
) -> Result<Arc<Job>> {
    let (d, name) = (r.domain, r.name);
    let unsupported = |text: &str| Error::new(d, ErrorCode::ARGUMENT_UNSUPPORTED, text);
    if flags & flags::POSTCOPY == 0 {
        return Err(unsupported(
            "resuming failed post-copy migration requires post-copy to be enabled",
        ));
    }
    let outgoing = r.operation == operation::MIGRATION_OUT;
    if outgoing
        && expected < Phase::PerformResume
        && flags & (flags::CHANGE_PROTECTION | flags::PEER2PEER) == 0
    {
        return Err(unsupported(
            "resuming failed post-copy migration requires change protection",
        ));
    }
    let job = current
        .filter(|j| j.operation == r.operation)
        .ok_or_else(|| {
            let text = match outgoing {
                true => format!("domain '{name}' is not being migrated"),
                false => format!("domain '{name}' is not processing incoming migration"),
            };
            Error::operation_invalid(d, text)
        })?;
    let invalid = |text: String| Err(Error::operation_invalid(d, text));
    if !job.in_postcopy() && !r.failed_state {
        return invalid(format!(
            "migration of domain {name} is not in post-copy phase"
        ));
    }
    if job.phase() < Phase::PostcopyFailed && !r.failed_state {
        return invalid(format!(
            "post-copy migration of domain {name} has not failed"
        ));
    }
    if job.phase() > expected {
        return invalid(format!(
            "resuming failed post-copy migration of domain {name} already in progress"
        ));
    }
    Ok(job)
}

/// Move `job` into resume phase `to`; the marker first when post-copy
/// failed while the job was still in its first run's phases.
fn start_phase(job: &Job, to: Phase) -> Result<()> {
    if job.phase() < Phase::PostcopyFailed {
        job.fail_postcopy();
    }
    job.advance(to)
}

/// Run `f` in resume phase `to` of `job`; on failure the job goes back to
/// the marker, ready for another attempt.
fn in_phase<T>(job: &Job, to: Phase, f: impl FnOnce() -> Result<T>) -> Result<T> {
    start_phase(job, to)?;
    f().inspect_err(|_| job.fail_postcopy())
}

fn source_check<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    flags: u32,
    expected: Phase,
) -> Result<(Arc<Outgoing>, Arc<Job>)> {
    let slot = b.jobs().slot(&dom.uuid);
    let r = Resumable {
        name: &dom.name,
        domain: b.support().domain,
        operation: operation::MIGRATION_OUT,
        failed_state: b.is_postcopy_failed(dom),
    };
    let job = can_resume(slot.current(), &r, flags, expected)?;
    let out = b
        .jobs()
        .outgoing(&dom.uuid)
        .filter(|o| Arc::ptr_eq(&o.job, &job))
        .ok_or_else(|| {
            Error::operation_invalid(
                r.domain,
                format!("domain '{}' is not being migrated", r.name),
            )
        })?;
    Ok((out, job))
}

/// Begin of a resume: the cookie and the XML for the destination.
pub fn begin<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    flags: u32,
) -> Result<(Cookie, String)> {
    let (_, job) = source_check(b, dom, flags, Phase::PostcopyFailed)?;
    in_phase(&job, Phase::BeginResume, || {
        let (cookie, xml) = b.begin_resume(dom)?;
        let bytes = cookie::encode(b.support().cookie, Sender::BeginResume, &cookie)?;
        Ok((bytes, xml))
    })
}

/// Perform of a resume: the transfer restarts to the destination's new
/// URI. The guest stays paused here whatever happens.
pub fn perform<B: SourceBackend + ?Sized>(b: &B, dom: &DomainRef, p: Perform) -> Result<Cookie> {
    let (out, job) = source_check(b, dom, p.flags, Phase::BeginResume)?;
    if let Target::Stream(_) = p.target {
        return Err(Error::new(
            b.support().domain,
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "post-copy is not supported with tunnelled migration",
        ));
    }
    in_phase(&job, Phase::PerformResume, || {
        cookie::check_not_same_host(b.support(), Sender::Prepare, p.cookie_in, b.host_uuid())?;
        let c = b.perform_resume(dom, &out, p)?;
        cookie::encode(b.support().cookie, Sender::Perform, &c)
    })
    .inspect_err(|_| b.postcopy_failed(dom))
}

/// Confirm of a resume: the destination has every page and runs the guest
/// (ours ends and the job completes), or the resume failed (`cancelled`:
/// the job waits for another).
pub fn confirm<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    (cookie_in, flags): (&[u8], u32),
    cancelled: bool,
) -> Result<()> {
    let (out, job) = source_check(b, dom, flags, Phase::PerformResume)?;
    start_phase(&job, Phase::ConfirmResume)?;
    let completed = match cancelled {
        true => Err(None),
        false => b.complete_postcopy(dom, &out).map_err(Some),
    };
    if let Err(e) = completed {
        job.fail_postcopy();
        b.postcopy_failed(dom);
        return e.map_or(Ok(()), Err);
    }
    b.stop_migrated(dom, flags, &out)?;
    crate::source::finish_confirmed(b, dom, &out, cookie_in);
    Ok(())
}

/// The hypervisor completed a post-copy migration whose job was left
/// failed here (nobody followed it any more): the guest here ends and the
/// job completes, as a confirm would (libvirt's unattended migration).
pub fn completed_unattended<B: SourceBackend + ?Sized>(b: &B, dom: &DomainRef) -> Result<()> {
    let out = b.jobs().outgoing(&dom.uuid);
    let Some(out) = out.filter(|o| o.job.is_postcopy_failed()) else {
        return Ok(());
    };
    // Out of the marker, so that the stop does not end the job as failed.
    start_phase(&out.job, Phase::ConfirmResume)?;
    b.stop_migrated(dom, out.flags, &out)?;
    crate::source::finish_confirmed(b, dom, &out, &[]);
    Ok(())
}

/// The destination's guest whose post-copy failed: found by name, with
/// its job slot and whether its state says so.
pub struct FailedIncoming {
    pub dom: DomainRef,
    pub slot: Arc<DomainJob>,
    pub failed_state: bool,
}

/// Prepare of a resume: the destination's hypervisor listens again for
/// the source; the registered migration, its cookie and URI.
pub fn prepare<B: DestinationBackend + ?Sized>(
    b: &B,
    r: IncomingRequest,
) -> Result<crate::destination::Prepared<B::Incoming>> {
    let found = b.failed_incoming(&r)?;
    let check = Resumable {
        name: &found.dom.name,
        domain: b.support().domain,
        operation: operation::MIGRATION_IN,
        failed_state: found.failed_state,
    };
    let job = can_resume(found.slot.current(), &check, r.flags, Phase::PostcopyFailed)?;
    in_phase(&job, Phase::PrepareResume, || {
        b.prepare_resume(&found.dom, (&job, &found.slot), r)
    })
}

/// Finish of a resume: wait until the guest's last page is here.
pub fn finish<B: DestinationBackend + ?Sized>(
    b: &B,
    inc: &Arc<B::Incoming>,
    cookie_in: &[u8],
    flags: u32,
) -> Result<(DomainRef, rvirt_conf::MigrationCookie)> {
    let check = Resumable {
        name: &inc.name(),
        domain: b.support().domain,
        operation: operation::MIGRATION_IN,
        failed_state: false,
    };
    let job = can_resume(inc.job(), &check, flags, Phase::PrepareResume)?;
    start_phase(&job, Phase::FinishResume)?;
    // On error the engine discards `inc`, which leaves the guest running
    // and the job at the marker again.
    b.finish_resume(inc, cookie_in, flags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Tunables;

    fn job(op: i32) -> Arc<Job> {
        Job::new(
            op,
            ErrorDomain::QEMU,
            Phase::Begin,
            true,
            Tunables::default(),
        )
    }

    fn check(j: Option<Arc<Job>>, failed: bool, flags: u32, at: Phase) -> Result<Arc<Job>> {
        let r = Resumable {
            name: "g",
            domain: ErrorDomain::QEMU,
            operation: operation::MIGRATION_OUT,
            failed_state: failed,
        };
        can_resume(j, &r, flags, at)
    }

    fn message(r: Result<Arc<Job>>) -> String {
        r.err().map(|e| e.message).unwrap_or_default()
    }

    #[test]
    fn resuming_follows_libvirts_preconditions_in_order() {
        let pc = flags::POSTCOPY | flags::PEER2PEER;
        let at = Phase::PostcopyFailed;
        let e = check(None, true, flags::PEER2PEER, at).err().unwrap();
        assert_eq!(e.code, ErrorCode::ARGUMENT_UNSUPPORTED);
        assert!(e.message.contains("requires post-copy to be enabled"));
        let e = message(check(None, true, flags::POSTCOPY, at));
        assert!(e.ends_with("requires change protection"), "{e}");
        let e = message(check(None, true, pc, at));
        assert!(e.ends_with("domain 'g' is not being migrated"), "{e}");
        let incoming = job(operation::MIGRATION_IN);
        let e = message(check(Some(incoming), true, pc, at));
        assert!(e.ends_with("is not being migrated"), "{e}");
        let j = job(operation::MIGRATION_OUT);
        let e = message(check(Some(j.clone()), false, pc, at));
        assert!(
            e.ends_with("migration of domain g is not in post-copy phase"),
            "{e}"
        );
        j.enter_postcopy();
        let e = message(check(Some(j.clone()), false, pc, at));
        assert!(
            e.ends_with("post-copy migration of domain g has not failed"),
            "{e}"
        );
        j.fail_postcopy();
        assert!(check(Some(j.clone()), false, pc, at).is_ok());
        start_phase(&j, Phase::BeginResume).unwrap();
        let e = message(check(Some(j.clone()), false, pc, at));
        assert!(e.ends_with("of domain g already in progress"), "{e}");
        assert!(check(Some(j.clone()), false, pc, Phase::BeginResume).is_ok());
    }

    #[test]
    fn a_failed_resume_phase_leaves_the_job_ready_for_another() {
        let j = job(operation::MIGRATION_OUT);
        j.advance(Phase::Perform).unwrap();
        j.enter_postcopy();
        let failed: Result<()> = in_phase(&j, Phase::BeginResume, || {
            Err(Error::internal(ErrorDomain::QEMU, "no"))
        });
        assert!(failed.is_err());
        assert_eq!(j.phase(), Phase::PostcopyFailed);
        in_phase(&j, Phase::BeginResume, || Ok(())).unwrap();
        assert!(in_phase(&j, Phase::BeginResume, || Ok(())).is_err());
    }
}
