//! The V3 entries of the driver trait (`virDomainMigrateBegin3`,
//! `Prepare3`, `PrepareTunnel3`, `Perform3`, `Finish3`, `Confirm3` and
//! their `_params` forms), the same for every driver: each reads its
//! arguments into one [`Request`], checks it against the driver's rules
//! before anything moves, then runs the driver's phase ([`V3Phases`]).
//! [`crate::migration_v3_slots!`] writes the twelve trait entries, so a
//! driver supplies the phases once and never the forwarding.
//!
//! [`perform_any`] picks the mode from the flags: peer-to-peer
//! ([`crate::p2p`]), the driver's own direct migration, or native to the
//! destination's migration URI.

use crate::backend::{SourceBackend, Target};
use crate::destination::IncomingChannel;
use crate::request::Request;
use crate::source::{self, Perform};
use rvirt::driver::PrepareArgs;
use rvirt::driver::{Begin3Args, Cookie, DomainRef, FinishArgs, ParamsArgs, PerformArgs};
use rvirt::migration::flags;
use rvirt::Stream;
use rvirt_util::{Error, ErrorDomain, Result, TypedParams};

/// Prepare's answer: the cookie and the URI the source sends the memory to.
pub type Prepared = (Cookie, Option<String>);

/// A phase's request, read and checked, with its flags and the cookie the
/// other side sent.
#[derive(Clone, Copy)]
pub struct Checked<'a> {
    pub req: &'a Request,
    pub flags: u32,
    pub cookie_in: &'a [u8],
}

/// What differs between drivers in the V3 phases, over a request already
/// read and checked.
pub trait V3Phases {
    /// The driver's error domain.
    fn error_domain(&self) -> ErrorDomain;
    /// Read the source's request and refuse what the driver does not
    /// carry out.
    fn check_source(&self, flags: u32, params: &TypedParams) -> Result<Request>;
    /// The same on the destination (which reads only its party's params).
    fn check_incoming(&self, flags: u32, params: &TypedParams) -> Result<Request>;
    /// Source: the begin cookie and the XML for the destination.
    fn begin(&self, dom: &DomainRef, req: &Request, flags: u32) -> Result<(Cookie, String)>;
    /// Destination: start the incoming guest from `xml`, its memory
    /// arriving over `channel`.
    fn prepare(&self, xml: &str, c: Checked, channel: IncomingChannel) -> Result<Prepared>;
    /// Source: move the guest (`dconnuri` names the destination daemon
    /// for peer-to-peer).
    fn perform(&self, dom: &DomainRef, c: Checked, dconnuri: Option<&str>) -> Result<Cookie>;
    /// Destination: keep or (`cancelled`) discard the incoming guest.
    fn finish(&self, a: &FinishArgs, cancelled: bool) -> Result<(DomainRef, Cookie)>;
    /// Source: end the guest here, or (`cancelled`) resume it.
    fn confirm(&self, dom: &DomainRef, cookie_in: &[u8], flags: u32, cancelled: bool)
        -> Result<()>;
}

fn checked<'a>(req: &'a Request, flags: u32, cookie_in: &'a [u8]) -> Checked<'a> {
    Checked {
        req,
        flags,
        cookie_in,
    }
}

/// The request of a positional source phase, checked.
fn legacy_source<P: V3Phases + ?Sized>(p: &P, flags: u32, req: Request) -> Result<Request> {
    p.check_source(flags, &req.to_params())?;
    Ok(req)
}

/// The request of a positional prepare, checked.
fn legacy_incoming<P: V3Phases + ?Sized>(
    p: &P,
    a: &PrepareArgs,
    uri: Option<&str>,
) -> Result<Request> {
    let req = Request::legacy(a.dname, a.bandwidth, None, uri);
    p.check_incoming(a.flags, &req.to_params())?;
    Ok(req)
}

/// The domain XML a `_params` prepare must carry, and its checked request.
fn params_incoming<P: V3Phases + ?Sized>(p: &P, a: &ParamsArgs) -> Result<(Request, String)> {
    let req = p.check_incoming(a.flags, a.params)?;
    let xml = req
        .dxml
        .clone()
        .ok_or_else(|| Error::invalid_arg(p.error_domain(), "no domain XML passed"))?;
    Ok((req, xml))
}

/// `virDomainMigrateBegin3`.
pub fn begin3<P: V3Phases + ?Sized>(
    p: &P,
    dom: &DomainRef,
    a: &Begin3Args,
) -> Result<(Cookie, String)> {
    let req = Request::legacy(a.dname, a.bandwidth, a.xmlin, None);
    p.begin(dom, &legacy_source(p, a.flags, req)?, a.flags)
}

/// `virDomainMigrateBegin3Params`.
pub fn begin3_params<P: V3Phases + ?Sized>(
    p: &P,
    dom: &DomainRef,
    params: &TypedParams,
    flags: u32,
) -> Result<(Cookie, String)> {
    p.begin(dom, &p.check_source(flags, params)?, flags)
}

/// `virDomainMigratePrepare3`.
pub fn prepare3<P: V3Phases + ?Sized>(p: &P, a: &PrepareArgs) -> Result<Prepared> {
    let req = legacy_incoming(p, a, a.uri_in)?;
    let channel = IncomingChannel::Tcp { uri_in: a.uri_in };
    p.prepare(a.dom_xml, checked(&req, a.flags, a.cookie_in), channel)
}

/// `virDomainMigratePrepareTunnel3`.
pub fn prepare_tunnel3<P: V3Phases + ?Sized>(
    p: &P,
    st: &Stream,
    a: &PrepareArgs,
) -> Result<Cookie> {
    let req = legacy_incoming(p, a, None)?;
    let channel = IncomingChannel::Stream(st);
    Ok(
        p.prepare(a.dom_xml, checked(&req, a.flags, a.cookie_in), channel)?
            .0,
    )
}

/// `virDomainMigratePrepare3Params`.
pub fn prepare3_params<P: V3Phases + ?Sized>(p: &P, a: &ParamsArgs) -> Result<Prepared> {
    let (req, xml) = params_incoming(p, a)?;
    let channel = IncomingChannel::Tcp {
        uri_in: req.uri.as_deref(),
    };
    p.prepare(&xml, checked(&req, a.flags, a.cookie_in), channel)
}

/// `virDomainMigratePrepareTunnel3Params`.
pub fn prepare_tunnel3_params<P: V3Phases + ?Sized>(
    p: &P,
    st: &Stream,
    a: &ParamsArgs,
) -> Result<Cookie> {
    let (req, xml) = params_incoming(p, a)?;
    let channel = IncomingChannel::Stream(st);
    Ok(
        p.prepare(&xml, checked(&req, a.flags, a.cookie_in), channel)?
            .0,
    )
}

/// `virDomainMigratePerform3`.
pub fn perform3<P: V3Phases + ?Sized>(p: &P, dom: &DomainRef, a: &PerformArgs) -> Result<Cookie> {
    let req = Request::legacy(a.dname, a.bandwidth, a.xmlin, a.uri);
    let req = legacy_source(p, a.flags, req)?;
    p.perform(dom, checked(&req, a.flags, a.cookie_in), a.dconnuri)
}

/// `virDomainMigratePerform3Params`.
pub fn perform3_params<P: V3Phases + ?Sized>(
    p: &P,
    dom: &DomainRef,
    dconnuri: Option<&str>,
    a: &ParamsArgs,
) -> Result<Cookie> {
    let req = p.check_source(a.flags, a.params)?;
    p.perform(dom, checked(&req, a.flags, a.cookie_in), dconnuri)
}

/// `virDomainMigrateFinish3`.
pub fn finish3<P: V3Phases + ?Sized>(
    p: &P,
    a: &FinishArgs,
    cancelled: bool,
) -> Result<(DomainRef, Cookie)> {
    p.finish(a, cancelled)
}

/// `virDomainMigrateFinish3Params`: the guest is found by the
/// destination name the source sent.
pub fn finish3_params<P: V3Phases + ?Sized>(
    p: &P,
    a: &ParamsArgs,
    cancelled: bool,
) -> Result<(DomainRef, Cookie)> {
    let dname = a
        .params
        .get_string(rvirt::migration::params::DEST_NAME)
        .ok_or_else(|| Error::invalid_arg(p.error_domain(), "missing destination name"))?;
    let finish = FinishArgs {
        dname,
        cookie_in: a.cookie_in,
        flags: a.flags,
        ..FinishArgs::default()
    };
    p.finish(&finish, cancelled)
}

/// `virDomainMigrateConfirm3`.
pub fn confirm3<P: V3Phases + ?Sized>(
    p: &P,
    dom: &DomainRef,
    cookie_in: &[u8],
    flags: u32,
    cancelled: bool,
) -> Result<()> {
    p.confirm(dom, cookie_in, flags, cancelled)
}

/// `virDomainMigrateConfirm3Params`.
pub fn confirm3_params<P: V3Phases + ?Sized>(
    p: &P,
    dom: &DomainRef,
    a: &ParamsArgs,
    cancelled: bool,
) -> Result<()> {
    p.confirm(dom, a.cookie_in, a.flags, cancelled)
}

/// Perform in whichever mode the flags ask for.
pub fn perform_any<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    dconnuri: Option<&str>,
    req: &Request,
    cookie_in: &[u8],
    flags: u32,
) -> Result<Cookie> {
    let d = b.support().domain;
    if flags & flags::PEER2PEER != 0 {
        let dconnuri = dconnuri.ok_or_else(|| {
            Error::invalid_arg(d, "peer-to-peer migration needs a destination URI")
        })?;
        crate::p2p::perform(b, dom, dconnuri, req, flags)?;
        return Ok(Vec::new());
    }
    if flags & flags::TUNNELLED != 0 {
        return Err(Error::invalid_arg(
            d,
            "cannot perform tunnelled migration without using peer2peer flag",
        ));
    }
    let uri = req.uri.as_deref().or(dconnuri);
    if let Some(done) = uri.and_then(|u| b.perform_direct(dom, u, req, flags)) {
        return done.map(|()| Vec::new());
    }
    let uri = uri.ok_or_else(|| Error::invalid_arg(d, "migration URI is required"))?;
    let target = Target::Uri(uri.to_string());
    source::perform(b, dom, Perform::new(cookie_in, flags, req, target))
}
