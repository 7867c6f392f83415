//! The one V3 runner: begin → prepare → perform → finish → confirm with
//! the cookies passed along and libvirt's error precedence, used by the
//! managed migration of the client API (`virDomainMigrateVersion3Full`)
//! and by every driver's peer-to-peer migration
//! (`qemuMigrationSrcPerformPeer2Peer3`), through `rvirt_hypervisor::p2p`.
//!
//! It lives here rather than in the hypervisor crate because the client
//! API needs it and rvirt cannot depend on the crate that depends on it;
//! the two callers differ only in who plays each end:
//!
//! * managed: the source is the source connection's driver, the
//!   destination the destination connection;
//! * peer-to-peer: the source is the source driver's own engine (no RPC),
//!   the destination a `Connect` the source daemon opened (driver-remote).
//!
//! ```text
//!  source                         runner                        destination
//!  begin(flags|protection) ◄───── 1 ─┐
//!                                    2 ─── prepare(destflags) ───► (or prepare_tunnel)
//!  (prepare failed: confirm(cancelled) when begin's job lasts)
//!  perform(cookie, uri | stream) ◄ 3 ─┘ (skipped offline; a failed perform
//!                                        already put the guest back)
//!                                    4 ─── finish(cancelled?) ──► the domain, or error
//!  confirm(cancelled = no domain) ◄ 5
//! ```

use super::{flags, params as param};
use crate::driver::{Cookie, FinishArgs, ParamsArgs, PrepareArgs};
use crate::stream::Stream;
use crate::{Connect, Domain};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParams};

/// Who drives the phases: the peer-to-peer source follows
/// `qemuMigrationSrcPerformPeer2Peer3` where it differs from the client
/// API (offline skips perform before the URI is needed; tunnelled needs no
/// URI).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Managed,
    PeerToPeer,
}

/// The arguments of one V3 migration, in both forms: the typed params of
/// the `_params` phases and the positional fields of plain V3.
#[derive(Clone, Debug)]
pub struct V3Request<'a> {
    pub mode: Mode,
    /// The guest's name on the source (finish's name unless `dname`).
    pub name: &'a str,
    pub use_params: bool,
    /// The `_params` list; the runner fills in DEST_XML, URI and DEST_NAME
    /// as libvirt does.
    pub params: TypedParams,
    pub dname: Option<&'a str>,
    pub xmlin: Option<&'a str>,
    pub uri: Option<String>,
    pub bandwidth: u64,
    /// Plain V3 finish's `dconnuri` (peer-to-peer passes the destination's).
    pub dconnuri: Option<&'a str>,
    pub flags: u32,
}

/// Where perform sends the guest.
pub enum PerformTo<'a> {
    Uri(&'a str),
    Stream(Stream),
}

/// The source end, as the runner calls it.
pub trait V3Source {
    /// The guest is paused (the destination keeps it paused).
    fn is_paused(&self) -> bool;
    /// CHANGE_PROTECTION when begin's job should last until confirm and
    /// the source can keep it so (managed); 0 otherwise.
    fn protection(&self) -> u32;
    /// Begin's job lasts until confirm, which must then end it even when
    /// prepare failed.
    fn begin_keeps_job(&self) -> bool;
    fn begin(&self, r: &V3Request, flags: u32) -> Result<(Cookie, String)>;
    fn perform(&self, r: &V3Request, cookie: &[u8], to: PerformTo, flags: u32) -> Result<Cookie>;
    fn confirm(&self, r: &V3Request, cookie: &[u8], flags: u32, cancelled: bool) -> Result<()>;
}

/// What prepare gives: the cookie, the URI to migrate to, and for a
/// tunnelled migration the stream perform writes to.
type Prepared = (Cookie, Option<String>, Option<Stream>);

/// How a V3 migration ended.
pub struct V3Outcome<D> {
    /// The domain on the destination, or the first error.
    pub result: Result<D>,
    /// Confirm failed after finish succeeded: the destination runs the
    /// guest and the source copy may be left paused. The client API only
    /// warns; peer-to-peer reports it.
    pub confirm_error: Option<Error>,
}

fn internal(text: &str) -> Error {
    Error::new(ErrorDomain::DOMAIN, ErrorCode::INTERNAL_ERROR, text)
}

fn no_uri() -> Error {
    internal("domainMigratePrepare3 did not set uri")
}

/// Run begin → prepare → perform → finish → confirm.
/// The destination is reached through its connection (the client's
/// destination connection, or the one a peer-to-peer source opened).
pub fn run<S>(src: &S, dst: &Connect, mut r: V3Request) -> Result<V3Outcome<Domain>>
where
    S: V3Source + ?Sized,
{
    let protection = src.protection();
    let (cookie, xml) = src.begin(&r, r.flags | protection)?;
    // A guest paused by its failed post-copy is not paused by the user.
    if src.is_paused() && r.flags & flags::POSTCOPY_RESUME == 0 {
        r.flags |= flags::PAUSED;
    }
    let flags = r.flags;
    let destflags = flags & !(flags::ABORT_ON_ERROR | flags::AUTO_CONVERGE);
    let tunnelled = flags & flags::TUNNELLED != 0;
    let offline = flags & flags::OFFLINE != 0;
    if r.use_params {
        r.params.replace_string(param::DEST_XML, &xml);
    }
    let prepared = match tunnelled {
        true => r.prepare_tunnel(dst, &cookie, &xml, destflags),
        false => r.prepare(dst, &cookie, &xml, destflags),
    };
    let (cookie, uri_out, stream) = match prepared {
        Ok(v) => v,
        Err(e) => {
            if src.begin_keeps_job() {
                let _ = src.confirm(&r, &[], flags | protection, true);
            }
            return Err(e);
        }
    };
    if let Some(u) = uri_out {
        if r.use_params {
            r.params.replace_string(param::URI, &u);
        }
        r.uri = Some(u);
    } else if r.uri.is_none() {
        r.uri = r.params.get_string(param::URI).map(str::to_string);
    }

    let mut first_err: Option<Error> = None;
    let mut notify_source = true;
    let mut cookie_for_finish: Cookie = Vec::new();
    let uri = r.uri.clone();
    let to = match stream {
        Some(st) => Some(PerformTo::Stream(st)),
        None => uri.as_deref().map(PerformTo::Uri),
    };
    match (r.mode, to) {
        // Peer-to-peer skips perform before it needs a URI, the client
        // API after (libvirt's order in each).
        (Mode::PeerToPeer, _) if offline => {}
        (_, None) => first_err = Some(no_uri()),
        (_, Some(_)) if offline => {}
        (_, Some(to)) => match src.perform(&r, &cookie, to, flags | protection) {
            Ok(c) => cookie_for_finish = c,
            Err(e) => {
                // A failed perform already cancelled on the source.
                first_err = Some(e);
                notify_source = false;
            }
        },
    }
    let cancelled = first_err.is_some();

    if r.use_params && r.params.get_string(param::DEST_NAME).is_none() {
        let name = r.name;
        r.params.replace_string(param::DEST_NAME, name);
    }
    let (ddomain, cookie_for_confirm) =
        match r.finish(dst, &cookie_for_finish, destflags, cancelled) {
            Ok((d, c)) => (Some(d), c),
            Err(e) => {
                first_err.get_or_insert(e);
                (None, Vec::new())
            }
        };
    if cancelled && ddomain.is_some() {
        tracing::error!("finish step ignored that migration was cancelled");
    }
    let cancelled = ddomain.is_none();
    let mut confirm_error = None;
    if notify_source {
        if let Err(e) = src.confirm(&r, &cookie_for_confirm, flags | protection, cancelled) {
            tracing::warn!(
                "Guest {} probably left in 'paused' state on source: {e}",
                r.name
            );
            if !cancelled {
                confirm_error = Some(e);
            }
        }
    }
    let result = match (ddomain, first_err) {
        (Some(d), _) => Ok(d),
        (None, Some(e)) => Err(e),
        (None, None) => Err(internal("migration failed")),
    };
    Ok(V3Outcome {
        result,
        confirm_error,
    })
}

impl V3Request<'_> {
    /// A `_params` phase's arguments.
    pub(crate) fn params_args<'b>(&'b self, cookie_in: &'b [u8], flags: u32) -> ParamsArgs<'b> {
        ParamsArgs {
            params: &self.params,
            cookie_in,
            flags,
        }
    }

    /// Plain V3 prepare's arguments.
    fn prepare_args<'b>(
        &'b self,
        cookie_in: &'b [u8],
        xml: &'b str,
        flags: u32,
    ) -> PrepareArgs<'b> {
        PrepareArgs {
            cookie_in,
            uri_in: self.uri.as_deref(),
            flags,
            dname: self.dname,
            bandwidth: self.bandwidth,
            dom_xml: xml,
        }
    }

    /// Prepare on the destination: (cookie, uri_out, no stream).
    fn prepare(&self, dst: &Connect, cookie: &[u8], xml: &str, flags: u32) -> Result<Prepared> {
        let (cookie, uri) = if self.use_params {
            dst.migrate_prepare3_params(&self.params, cookie, flags)?
        } else {
            dst.migrate_prepare3(&self.prepare_args(cookie, xml, flags))?
        };
        Ok((cookie, uri, None))
    }

    /// Tunnelled prepare: (cookie, no uri, the stream perform writes to).
    fn prepare_tunnel(
        &self,
        dst: &Connect,
        cookie: &[u8],
        xml: &str,
        flags: u32,
    ) -> Result<Prepared> {
        let st = Stream::new(dst, 0)?;
        let cookie = if self.use_params {
            dst.migrate_prepare_tunnel3_params(&st, &self.params, cookie, flags)?
        } else {
            let args = PrepareArgs {
                uri_in: None,
                ..self.prepare_args(cookie, xml, flags)
            };
            dst.migrate_prepare_tunnel3(&st, &args)?
        };
        Ok((cookie, None, Some(st)))
    }

    fn finish(
        &self,
        dst: &Connect,
        cookie: &[u8],
        flags: u32,
        cancelled: bool,
    ) -> Result<(Domain, Cookie)> {
        if self.use_params {
            return dst.migrate_finish3_params(&self.params, cookie, flags, cancelled);
        }
        let args = FinishArgs {
            dname: self.dname.unwrap_or(self.name),
            cookie_in: cookie,
            dconnuri: self.dconnuri,
            uri: self.uri.as_deref(),
            flags,
        };
        dst.migrate_finish3(&args, cancelled)
    }
}
