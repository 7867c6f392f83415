//! The hypervisor part of a migration: what a driver implements so the
//! shared engine can run every libvirt protocol (V2, V3, V3 with params,
//! peer-to-peer, tunnelled) for it: [`SourceBackend`] here, and
//! [`DestinationBackend`](crate::destination::DestinationBackend) for the
//! destination's prepare, finish and discard.
//!
//! # Phases
//!
//! ```text
//!  client / p2p source          source daemon                 destination daemon
//!  ───────────────────          ─────────────                 ──────────────────
//!  Begin3 ───────────────────►  engine: rules, job (Begin)
//!                               backend.begin → XML, cookie
//!  Prepare3 ─────────────────────────────────────────────────► engine: rules, cookie
//!                                                              dst backend.prepare:
//!                                                              guest paused, job
//!                                                              (Prepare), incoming
//!                                                              side, URI (QEMU:
//!                                                              -incoming defer,
//!                                                              migrate-incoming tcp:A:P)
//!  Perform3 ─────────────────►  engine: job → Perform
//!                               backend.perform(Target) ──── guest state ──►
//!                               (QEMU: migrate-set-capabilities/-parameters, migrate,
//!                                query-migrate / MIGRATION events → job.progress,
//!                                abort → job interrupt → migrate_cancel)
//!                               job → PerformDone, cookie
//!  Finish3 ──────────────────────────────────────────────────► dst backend.finish:
//!                                                              wait, check, resume the
//!                                                              guest (QEMU: cont), job
//!                                                              ends (failure or
//!                                                              cancel: backend.discard)
//!  Confirm3 ─────────────────►  engine: job → Confirm
//!                               backend.stop_migrated (QEMU: quit) or backend.resume
//!                               job ends, JobCompleted event
//! ```
//!
//! Peer-to-peer ([`crate::p2p`]) plays the client column inside the
//! source daemon over `rvirt::Connect::open(dconnuri)` (driver-remote),
//! with the same V3 runner the client uses ([`rvirt::migration::v3`]).
//! Tunnelled differs in two places: prepare gets a `virStream` instead of
//! listening, and perform gets [`Target::Stream`]; a hypervisor that
//! writes its stream to a file descriptor (QEMU's `migrate fd:NAME` after
//! `getfd`) hands the other end of a pipe to [`crate::tunnel::pump_out`],
//! which pumps it into the stream with one large reused buffer; on the
//! destination [`crate::tunnel::TunnelIn::to_writer`] feeds the stream
//! into the hypervisor's fd (`migrate-incoming fd:NAME`), a full pipe
//! holding the RPC reader back.
//!
//! # Modes for a QEMU driver
//!
//! Managed and peer-to-peer differ only in who drives the phases; the
//! backend is the same. Direct migration is [`SourceBackend::perform_direct`].
//!
//! # Job and abort
//!
//! The engine owns the [`Job`](crate::job::Job): its phase only moves
//! forward, its tunables are the domain's plus this request's one-off
//! settings, and `virDomainAbortJob` sets its abort token and runs the
//! interrupts the backend registered with
//! [`Job::on_abort`](crate::job::Job::on_abort) (shut a socket down, send
//! `migrate_cancel`). The backend reports progress into
//! `Job::update` and reads `Job::max_speed` / `Job::tunables` when it
//! starts the transfer and when `migrateSetMaxSpeed` changes them.

use crate::request::Request;
use crate::rules::MigrationSupport;
use crate::source::{Jobs, Outgoing, Perform};
use rvirt::driver::DomainRef;
use rvirt_conf::MigrationCookie;
use rvirt_util::{Error, Result, TypedParams};
use std::net::TcpStream;

/// Where perform sends the guest's state.
pub enum Target {
    /// A migration URI the destination prepared (`tcp://HOST:PORT`).
    Uri(String),
    /// Tunnelled: the stream to the destination daemon. A hypervisor that
    /// writes to a file descriptor (QEMU: `getfd`, then `migrate fd:NAME`)
    /// gets the write end of a pipe and [`crate::tunnel::pump_out`] copies
    /// the read end into this stream.
    Stream(rvirt::Stream),
    /// A socket already connected and negotiated (direct migration).
    Connected(TcpStream),
}

/// The source's hypervisor part.
pub trait SourceBackend {
    /// What the driver carries out, and its error domain.
    fn support(&self) -> &MigrationSupport;
    /// This host's jobs.
    fn jobs(&self) -> &Jobs;
    /// This host's UUID (the cookie's `hostuuid`: a migration to the same
    /// host is refused).
    fn host_uuid(&self) -> [u8; 16];
    /// The guest is paused (it then stays paused on the destination).
    fn is_paused(&self, dom: &DomainRef) -> bool;

    /// Read the request and refuse, before anything moves, what the driver
    /// does not carry out: [`MigrationSupport::check`] plus the driver's
    /// own rules.
    fn check_request(&self, flags: u32, params: &TypedParams) -> Result<Request> {
        self.support().check(flags, params)
    }

    /// Direct migration (no destination daemon) when `uri` names one this
    /// driver migrates to itself; `None` for a plain migration URI.
    fn perform_direct(
        &self,
        _dom: &DomainRef,
        _uri: &str,
        _req: &Request,
        _flags: u32,
    ) -> Option<Result<()>> {
        None
    }

    /// Begin: check the guest can go as asked; the domain XML the
    /// destination should define and the begin cookie
    /// ([`crate::cookie::source_cookie`]).
    fn begin(
        &self,
        dom: &DomainRef,
        req: &Request,
        flags: u32,
    ) -> Result<(MigrationCookie, String)>;

    /// Perform: move the guest's state to `p.target` under `out.job`
    /// (progress into the job, abort through its interrupts) and leave the
    /// guest paused here; the perform cookie. The engine has checked the
    /// destination's cookie and moved the job to Perform; on error it
    /// resumes the guest and ends the job.
    fn perform(&self, dom: &DomainRef, out: &Outgoing, p: Perform) -> Result<MigrationCookie>;

    /// The migration failed: the guest runs here again as it did before
    /// (`RUNNING_MIGRATION_CANCELED`); a guest the user paused stays paused.
    fn resume(&self, dom: &DomainRef);
    /// The migration failed after the switch to post-copy: the guest runs
    /// on the destination, so it stays paused here (libvirt's "post-copy
    /// failed" state); never resumed.
    fn postcopy_failed(&self, _dom: &DomainRef) {}
    /// The guest's state says its post-copy migration failed ("paused
    /// (post-copy failed)").
    fn is_postcopy_failed(&self, _dom: &DomainRef) -> bool {
        false
    }
    /// Begin of VIR_MIGRATE_POSTCOPY_RESUME ([`crate::resume`]): check the
    /// hypervisor's transfer is paused, not still running; our cookie and
    /// the XML for the destination.
    fn begin_resume(&self, _dom: &DomainRef) -> Result<(MigrationCookie, String)> {
        Err(crate::resume::not_supported(self.support()))
    }
    /// Perform of a resume: restart the paused transfer to `p.target`
    /// (QEMU: `migrate` with `resume`); the perform cookie.
    fn perform_resume(
        &self,
        _dom: &DomainRef,
        _out: &Outgoing,
        _p: Perform,
    ) -> Result<MigrationCookie> {
        Err(crate::resume::not_supported(self.support()))
    }
    /// Confirm after a switch to post-copy: wait until the destination has
    /// every page (the guest runs there already).
    fn complete_postcopy(&self, _dom: &DomainRef, _out: &Outgoing) -> Result<()> {
        Ok(())
    }

    /// Confirm of a migration that succeeded: the destination runs the
    /// guest; stop it here and drop its definition when `flags` has
    /// UNDEFINE_SOURCE or it is transient.
    fn stop_migrated(&self, dom: &DomainRef, flags: u32, out: &Outgoing) -> Result<()>;

    /// An error confirm must report after doing its work (the test
    /// driver's fault injection); `None` for real hypervisors.
    fn confirm_fault(&self, _dom: &DomainRef) -> Option<Error> {
        None
    }

    /// `(keepalive_interval, keepalive_count)` for the connection a
    /// peer-to-peer source opens to the destination daemon (libvirt takes
    /// them from qemu.conf); `None` keeps the remote driver's defaults.
    fn keepalive(&self) -> Option<(i32, u32)> {
        None
    }

    /// The job ended well: raise `VIR_DOMAIN_EVENT_ID_JOB_COMPLETED`.
    fn job_completed(&self, dom: &DomainRef, stats: TypedParams);
}
