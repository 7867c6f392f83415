//! The source end of a migration: begin, perform and confirm as every
//! driver runs them. The engine keeps the bookkeeping (the job and its
//! phases, the outgoing migration, one-migration settings, the cookie
//! checks, what happens to the guest when a phase fails); the driver's
//! [`SourceBackend`] does the hypervisor part (see [`crate::backend`]).
//!
//! The guest stays on the source until confirm says the destination runs
//! it: a failed perform resumes it here at once, a cancelled confirm too.

use crate::backend::{SourceBackend, Target};
use crate::cookie::{self, Sender};
use crate::job::{DomainJob, Job, JobTimes, Phase};
use crate::request::Request;
use crate::resume;
use parking_lot::Mutex;
use rvirt::driver::{Cookie, DomainRef};
use rvirt::job::{field, operation};
use rvirt::migration::flags;
use rvirt_util::{Error, ErrorCode, Result};
use std::collections::HashMap;
use std::sync::Arc;

/// An outgoing migration between its phases.
pub struct Outgoing {
    pub flags: u32,
    pub job: Arc<Job>,
    pub slot: Arc<DomainJob>,
}

impl Outgoing {
    /// Perform moved the guest's state to the destination, or there was
    /// none to move (offline: only the definition goes, in the cookie).
    pub fn transferred(&self) -> bool {
        self.job.phase() == Phase::PerformDone || self.flags & flags::OFFLINE != 0
    }
}

/// One host's migration jobs: the job slot of each domain and the
/// outgoing migrations between their phases.
#[derive(Default)]
pub struct Jobs {
    slots: Mutex<HashMap<[u8; 16], Arc<DomainJob>>>,
    outgoing: Mutex<HashMap<[u8; 16], Arc<Outgoing>>>,
}

impl Jobs {
    /// The job slot of a domain (created on first use).
    pub fn slot(&self, uuid: &[u8; 16]) -> Arc<DomainJob> {
        self.slots.lock().entry(*uuid).or_default().clone()
    }

    pub fn outgoing(&self, uuid: &[u8; 16]) -> Option<Arc<Outgoing>> {
        self.outgoing.lock().get(uuid).cloned()
    }

    /// Whether a migration job holds this domain (CHANGE_PROTECTION).
    pub fn is_protected(&self, uuid: &[u8; 16]) -> bool {
        self.outgoing(uuid)
            .is_some_and(|o| o.flags & flags::CHANGE_PROTECTION != 0)
    }

    /// The guest stopped: a job kept for a post-copy resume can no longer
    /// have one (libvirt ends it when the domain's process stops).
    pub fn forget_failed_postcopy(&self, uuid: &[u8; 16]) {
        let slot = self.slot(uuid);
        if let Some(job) = slot.current().filter(|j| j.is_postcopy_failed()) {
            slot.end(&job, false, Some("domain stopped"));
            let out = self.outgoing(uuid).filter(|o| Arc::ptr_eq(&o.job, &job));
            if let Some(out) = out {
                self.forget(uuid, &out);
            }
        }
    }

    /// A restarted daemon found guest `name` in a post-copy migration
    /// (`op` says which way): its job comes back as failed
    /// post-copy, waiting for VIR_MIGRATE_POSTCOPY_RESUME, since nobody
    /// follows its transfer any more (libvirt's
    /// `qemuProcessRecoverMigration`).
    pub fn adopt_failed_postcopy(
        &self,
        uuid: &[u8; 16],
        name: &str,
        op: i32,
        domain: rvirt_util::ErrorDomain,
    ) -> Result<()> {
        let slot = self.slot(uuid);
        let job = Job::new(op, domain, Phase::PostcopyFailed, true, slot.tunables());
        job.fail_postcopy();
        slot.begin(job.clone(), name, |_| {})?;
        if op == operation::MIGRATION_OUT {
            let flags = flags::LIVE | flags::POSTCOPY;
            let out = Arc::new(Outgoing { flags, job, slot });
            self.outgoing.lock().insert(*uuid, out);
        }
        Ok(())
    }

    fn forget(&self, uuid: &[u8; 16], out: &Arc<Outgoing>) {
        let mut map = self.outgoing.lock();
        if map.get(uuid).is_some_and(|o| Arc::ptr_eq(o, out)) {
            map.remove(uuid);
        }
    }
}

/// Start the outgoing job in `phase` (begin, or perform of V1/V2 which
/// have no begin), with the request's one-migration settings.
fn start<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    req: &Request,
    flags: u32,
    phase: Phase,
) -> Result<Arc<Outgoing>> {
    let slot = b.jobs().slot(&dom.uuid);
    let job = Job::new(
        operation::MIGRATION_OUT,
        b.support().domain,
        phase,
        flags & flags::POSTCOPY != 0,
        slot.tunables(),
    );
    slot.begin(job.clone(), &dom.name, |t| req.apply_one_off(t))?;
    let out = Arc::new(Outgoing { flags, job, slot });
    b.jobs().outgoing.lock().insert(dom.uuid, out.clone());
    Ok(out)
}

/// End the job as failed and forget the migration.
fn abandon<B: SourceBackend + ?Sized>(b: &B, dom: &DomainRef, out: &Arc<Outgoing>, err: &Error) {
    out.slot.end(&out.job, false, Some(&err.message));
    b.jobs().forget(&dom.uuid, out);
}

/// libvirt's rule when the source drives the destination itself: a guest
/// paused on the source is migrated with VIR_MIGRATE_PAUSED, so it stays
/// paused on the destination.
pub fn with_paused_flag<B: SourceBackend + ?Sized>(b: &B, dom: &DomainRef, flags: u32) -> u32 {
    if b.is_paused(dom) {
        flags | flags::PAUSED
    } else {
        flags
    }
}

/// Begin: returns (cookie, XML for the destination); the job starts.
pub fn begin<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    req: &Request,
    flags: u32,
) -> Result<(Cookie, String)> {
    if resume::requested(flags) {
        return resume::begin(b, dom, flags);
    }
    let (cookie, xml) = b.begin(dom, req, flags)?;
    let bytes = cookie::encode(b.support().cookie, Sender::Begin, &cookie)?;
    start(b, dom, req, flags, Phase::Begin)?;
    Ok((bytes, xml))
}

/// Begin through the API: libvirt's begin job ends when begin returns
/// unless CHANGE_PROTECTION asked it to last until confirm; perform then
/// starts its own job.
pub fn begin_api<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    req: &Request,
    flags: u32,
) -> Result<(Cookie, String)> {
    let begun = begin(b, dom, req, flags)?;
    // A resume continues the failed migration's job (which it requires
    // change protection for).
    if flags & flags::CHANGE_PROTECTION == 0 && !resume::requested(flags) {
        if let Some(o) = b.jobs().outgoing.lock().remove(&dom.uuid) {
            o.slot.release(&o.job);
        }
    }
    Ok(begun)
}

/// What one perform phase moves and where.
pub struct Perform<'a> {
    /// The destination's prepare cookie.
    pub cookie_in: &'a [u8],
    pub flags: u32,
    pub req: &'a Request,
    pub target: Target,
    /// V1/V2: the domain XML travels with the guest's state.
    pub xml_in_header: bool,
}

impl<'a> Perform<'a> {
    pub fn new(cookie_in: &'a [u8], flags: u32, req: &'a Request, target: Target) -> Self {
        Perform {
            cookie_in,
            flags,
            req,
            target,
            xml_in_header: false,
        }
    }
}

/// Perform: move the guest's state. On failure the guest runs here again
/// and the job ends; on success it stays paused until confirm.
pub fn perform<B: SourceBackend + ?Sized>(b: &B, dom: &DomainRef, p: Perform) -> Result<Cookie> {
    if resume::requested(p.flags) {
        return resume::perform(b, dom, p);
    }
    let out = match b.jobs().outgoing(&dom.uuid) {
        Some(o) if o.job.phase() == Phase::Begin => {
            o.job.tune(|t| p.req.apply_one_off(t));
            o
        }
        _ => start(b, dom, p.req, p.flags, Phase::Perform)?,
    };
    let done = out
        .job
        .advance(Phase::Perform)
        .or_else(|e| match out.job.phase() {
            // V1/V2 and direct jobs start in perform.
            Phase::Perform => Ok(()),
            _ => Err(e),
        })
        .and_then(|()| {
            cookie::check_not_same_host(b.support(), Sender::Prepare, p.cookie_in, b.host_uuid())?;
            b.perform(dom, &out, p)
        })
        .and_then(|c| cookie::encode(b.support().cookie, Sender::Perform, &c))
        .and_then(|c| out.job.advance(Phase::PerformDone).map(|()| c));
    match done {
        Ok(c) => Ok(c),
        Err(e) => {
            // A transfer the abort interrupted fails with an I/O error;
            // what happened is the abort.
            let e = if out.job.aborted() {
                out.job.aborted_error()
            } else {
                e
            };
            fail(b, dom, &out, &e);
            Err(e)
        }
    }
}

/// The destination may already run the guest but never said so: end the
/// job as failed and leave ours paused (libvirt's "guest probably left
/// paused on source"), since resuming could run it twice.
pub fn leave_paused<B: SourceBackend + ?Sized>(b: &B, dom: &DomainRef, err: &Error) {
    if let Some(out) = b.jobs().outgoing(&dom.uuid) {
        abandon(b, dom, &out, err);
    }
}

/// Confirm: the destination runs the guest (drop ours) or the migration
/// failed (`cancelled`: resume ours).
pub fn confirm<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    flags: u32,
    cancelled: bool,
) -> Result<()> {
    confirm_with(b, dom, (&[], flags), cancelled)
}

/// [`confirm`] with the destination's finish cookie.
pub fn confirm_with<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    (cookie_in, flags): (&[u8], u32),
    cancelled: bool,
) -> Result<()> {
    if resume::requested(flags) {
        return resume::confirm(b, dom, (cookie_in, flags), cancelled);
    }
    let d = b.support().domain;
    let Some(out) = b.jobs().outgoing(&dom.uuid) else {
        if cancelled {
            // Perform already put the guest back.
            return Ok(());
        }
        return Err(Error::operation_invalid(
            d,
            format!("domain '{}' is not being migrated", dom.name),
        ));
    };
    if !cancelled && !out.transferred() {
        // Nothing reached the destination: dropping ours would lose the guest.
        let e = Error::operation_invalid(
            d,
            format!(
                "cannot confirm migration of domain '{}': its perform phase did not complete",
                dom.name
            ),
        );
        fail(b, dom, &out, &e);
        return Err(e);
    }
    if cancelled && out.job.is_postcopy_failed() {
        // Perform failed in post-copy: the job stays for a resume.
        return Ok(());
    }
    let _ = out.job.advance(Phase::Confirm);
    let injected = b.confirm_fault(dom);
    if cancelled {
        let e = Error::new(d, ErrorCode::OPERATION_FAILED, "migration cancelled");
        fail(b, dom, &out, &e);
        return injected.map_or(Ok(()), Err);
    }
    if out.job.in_postcopy() {
        if let Err(e) = b.complete_postcopy(dom, &out) {
            fail(b, dom, &out, &e);
            return Err(e);
        }
    }
    // The destination runs the guest now: ours goes, whatever else fails.
    b.stop_migrated(dom, flags, &out)?;
    finish_confirmed(b, dom, &out, cookie_in);
    injected.map_or(Ok(()), Err)
}

/// The migration (or its resume) succeeded and the guest here is gone:
/// the job completes with the destination's times.
pub(crate) fn finish_confirmed<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    out: &Arc<Outgoing>,
    cookie_in: &[u8],
) {
    take_destination_times(b, out, cookie_in);
    let stats = out.slot.end(&out.job, true, None);
    b.jobs().forget(&dom.uuid, out);
    b.job_completed(dom, stats);
}

/// The delta and the guest-visible downtime the destination measured
/// (its finish cookie), as libvirt's `qemuMigrationSrcConfirmPhase` takes
/// them. A cookie that does not parse only costs those figures.
fn take_destination_times<B: SourceBackend + ?Sized>(b: &B, out: &Outgoing, cookie_in: &[u8]) {
    let Ok(Some(c)) = cookie::decode(b.support().cookie, Sender::Finish, cookie_in) else {
        return;
    };
    let delta = JobTimes::delta_of(&c.stats);
    let downtime = crate::times::figure(&c.stats, field::DOWNTIME);
    out.job.update(|p| {
        p.times.delta = delta.or(p.times.delta);
        p.downtime_ms = downtime.or(p.downtime_ms);
    });
}

/// A failed migration puts the guest back to running here and ends the
/// job, unless the destination already runs it (post-copy): then the
/// guest stays paused, "post-copy failed", and the job stays for
/// VIR_MIGRATE_POSTCOPY_RESUME (libvirt's `qemuMigrationJobContinue`).
fn fail<B: SourceBackend + ?Sized>(b: &B, dom: &DomainRef, out: &Arc<Outgoing>, err: &Error) {
    if out.job.in_postcopy() {
        tracing::warn!(
            "migration of {} failed in post-copy ({}): kept for --postcopy-resume",
            dom.name,
            err.message
        );
        out.job.fail_postcopy();
        b.postcopy_failed(dom);
    } else {
        b.resume(dom);
        abandon(b, dom, out, err);
    }
}
