//! The destination end of a migration: prepare and finish as every driver
//! runs them. The engine keeps the bookkeeping (the source's cookie
//! checked before anything is created, the host's registry of prepared
//! migrations, finish finding them by name, what a failure or a cancel
//! removes); the driver's [`DestinationBackend`] does the hypervisor part.
//!
//! ```text
//!  prepare ── cookie from another host? ──► backend.prepare: the guest's
//!             object (paused), the incoming side started (QEMU: -incoming
//!             defer, migrate-incoming tcp:ADDR:PORT, or fd:NAME for a
//!             tunnelled stream fed by tunnel::TunnelIn) ──► registered,
//!             answer cookie, migration URI
//!  finish  ── cancelled by the source? ──► backend.discard
//!          └─ backend.finish: wait for the transfer, check it, run the
//!             guest (QEMU: cont) ──► forgotten, answer cookie
//!             (on error: backend.discard)
//! ```

use crate::cookie::{self, Sender};
use crate::incoming::{Prepared as _, Registry};
use crate::job::{DomainJob, Job};
use crate::request::Request;
use crate::resume::{self, FailedIncoming};
use crate::rules::MigrationSupport;
use rvirt::driver::{Cookie, DomainRef};
use rvirt::Stream;
use rvirt_conf::MigrationCookie;
use rvirt_util::{Error, ErrorCode, Result};
use std::sync::Arc;

/// Where the guest's state arrives.
pub enum IncomingChannel<'a> {
    /// Listen on TCP (`uri_in` may name host and port).
    Tcp { uri_in: Option<&'a str> },
    /// Tunnelled: the `virStream` from the source daemon; attach a
    /// [`crate::tunnel::TunnelIn`] to it.
    Stream(&'a Stream),
    /// The caller feeds the transfer itself (direct migration).
    Inline,
}

/// What one prepare asks for.
pub struct IncomingRequest<'a> {
    /// The source's begin cookie, checked to come from another host.
    pub cookie: Option<&'a MigrationCookie>,
    /// The definition from the source (absent for V1, which sends it with
    /// the guest's state).
    pub dom_xml: Option<&'a str>,
    pub req: &'a Request,
    pub flags: u32,
    pub channel: IncomingChannel<'a>,
}

/// What a backend's prepare gives: the migration, the cookie to answer
/// with and the URI the source should send to.
pub type Prepared<I> = (Arc<I>, MigrationCookie, Option<String>);

/// The destination's hypervisor part.
pub trait DestinationBackend {
    /// The driver's prepared incoming migration.
    type Incoming: crate::incoming::Prepared;

    fn support(&self) -> &MigrationSupport;
    /// This host's UUID (a migration from the same host is refused).
    fn host_uuid(&self) -> [u8; 16];
    /// This host's prepared migrations.
    fn registry(&self) -> &Registry<Self::Incoming>;

    /// Create the guest's object (paused, or nothing for an offline
    /// migration) and start the incoming side; the migration, the cookie
    /// to answer with and the URI the source should send to. On error
    /// nothing prepare created may be left.
    fn prepare(&self, r: IncomingRequest) -> Result<Prepared<Self::Incoming>>;

    /// Undo prepare: stop the incoming side and remove the guest, or leave
    /// it paused when it already ran here (post-copy). Idempotent.
    fn discard(&self, inc: &Arc<Self::Incoming>);

    /// Wait for the transfer, check it against the source's perform
    /// cookie and run the guest here (or define it, offline); the domain
    /// and the cookie to answer with. On error the engine discards.
    fn finish(
        &self,
        inc: &Arc<Self::Incoming>,
        cookie_in: &[u8],
        flags: u32,
    ) -> Result<(DomainRef, MigrationCookie)>;

    /// VIR_MIGRATE_POSTCOPY_RESUME ([`crate::resume`]): the guest of the
    /// request's definition whose incoming post-copy failed here
    /// (libvirt's "no domain with matching name" when there is none).
    fn failed_incoming(&self, _r: &IncomingRequest) -> Result<FailedIncoming> {
        Err(crate::resume::not_supported(self.support()))
    }
    /// Prepare of a resume, `job` in PrepareResume: check the hypervisor's
    /// transfer is paused and listen again (QEMU: `migrate-recover`); the
    /// migration (in post-copy) to register, the cookie and the URI.
    fn prepare_resume(
        &self,
        _dom: &DomainRef,
        _job: (&Arc<Job>, &Arc<DomainJob>),
        _r: IncomingRequest,
    ) -> Result<Prepared<Self::Incoming>> {
        Err(crate::resume::not_supported(self.support()))
    }
    /// Finish of a resume: wait for the guest's last page; it is simply
    /// migrated then. On error the engine discards (the guest stays).
    fn finish_resume(
        &self,
        _inc: &Arc<Self::Incoming>,
        _cookie_in: &[u8],
        _flags: u32,
    ) -> Result<(DomainRef, MigrationCookie)> {
        Err(crate::resume::not_supported(self.support()))
    }

    /// The error that ended the incoming migration of `name` before
    /// finish could look for it (its hypervisor died), taken once: finish
    /// reports it instead of "no domain" (libvirt's
    /// `qemuMigrationDstErrorReport`), and libvirt's client shows it in
    /// place of the source's less telling one.
    fn take_saved_error(&self, name: &str) -> Option<Error> {
        let _ = name;
        None
    }
}

/// `virDomainMigratePrepare*`: the answer cookie, the migration URI and
/// the registered migration.
pub fn prepare<B: DestinationBackend + ?Sized>(
    b: &B,
    cookie_in: &[u8],
    dom_xml: Option<&str>,
    req: &Request,
    flags: u32,
    channel: IncomingChannel,
) -> Result<(Cookie, Option<String>, Arc<B::Incoming>)> {
    let cookie = cookie::check_not_same_host(b.support(), Sender::Begin, cookie_in, b.host_uuid())?;
    let r = IncomingRequest {
        cookie: cookie.as_ref(),
        dom_xml,
        req,
        flags,
        channel,
    };
    let (inc, out, uri) = match resume::requested(flags) {
        true => resume::prepare(b, r)?,
        false => b.prepare(r)?,
    };
    let bytes = match cookie::encode(b.support().cookie, Sender::Prepare, &out) {
        Ok(bytes) => bytes,
        Err(e) => {
            b.discard(&inc);
            return Err(e);
        }
    };
    b.registry().add(inc.clone());
    Ok((bytes, uri, inc))
}

/// `virDomainMigrateFinish*`: the guest runs here, or (`cancelled` by the
/// source, or failing here) what prepare created is removed.
pub fn finish<B: DestinationBackend + ?Sized>(
    b: &B,
    name: &str,
    cookie_in: &[u8],
    flags: u32,
    cancelled: bool,
) -> Result<(DomainRef, Cookie)> {
    let d = b.support().domain;
    let inc = b.registry().find(name).ok_or_else(|| {
        b.take_saved_error(name).unwrap_or_else(|| {
            Error::new(
                d,
                ErrorCode::NO_DOMAIN,
                format!("no domain with matching name '{name}'"),
            )
        })
    })?;
    let finished = if cancelled {
        // libvirt's VIR_ERR_MIGRATE_FINISH_OK: nothing failed here, so
        // the client reports the source's error rather than this one.
        Err(Error::bare(d, ErrorCode::MIGRATE_FINISH_OK))
    } else if resume::requested(flags) {
        resume::finish(b, &inc, cookie_in, flags)
    } else {
        b.finish(&inc, cookie_in, flags)
    };
    match finished {
        Ok((dom, out)) => {
            b.registry().forget(&inc);
            // The guest runs here: a cookie we cannot write loses nothing.
            let bytes =
                cookie::encode(b.support().cookie, Sender::Finish, &out).unwrap_or_default();
            Ok((dom, bytes))
        }
        Err(e) => {
            b.discard(&inc);
            b.registry().forget(&inc);
            Err(e)
        }
    }
}

/// The connection that prepared `inc` closed before finish: discard it as
/// a failed migration (libvirt's close callback on the preparing
/// connection, `qemuMigrationDstPrepareCleanup`).
pub fn discard_unfinished<B: DestinationBackend + ?Sized>(b: &B, inc: &Arc<B::Incoming>) {
    if inc.status().pending() {
        tracing::debug!(
            name = %inc.name(),
            "preparing connection closed: discarding incoming migration"
        );
        b.discard(inc);
        b.registry().forget(inc);
    }
}
