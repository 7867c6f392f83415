//! The source's entries of the driver trait (`virDomainMigrateBegin3`,
//! `Perform3`, `Confirm3` and their `_params` forms), the same for every
//! driver: the request is read and checked against the driver's rules
//! before anything moves, then the engine runs the phase. Perform picks
//! the mode from the flags: peer-to-peer ([`crate::p2p`]), the driver's
//! own direct migration, or native to the destination's migration URI.

use crate::backend::{SourceBackend, Target};
use crate::request::Request;
use crate::source::{self, Perform};
use rvirt::driver::{Begin3Args, Cookie, DomainRef, ParamsArgs, PerformArgs};
use rvirt::migration::flags;
use rvirt_util::{Error, Result, TypedParams};

/// `virDomainMigrateBegin3`.
pub fn begin3<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    a: &Begin3Args,
) -> Result<(Cookie, String)> {
    let req = Request::legacy(a.dname, a.bandwidth, a.xmlin, None);
    b.check_request(a.flags, &req.to_params())?;
    source::begin_api(b, dom, &req, a.flags)
}

/// `virDomainMigrateBegin3Params`.
pub fn begin3_params<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    params: &TypedParams,
    flags: u32,
) -> Result<(Cookie, String)> {
    let req = b.check_request(flags, params)?;
    source::begin_api(b, dom, &req, flags)
}

/// `virDomainMigratePerform3`.
pub fn perform3<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    a: &PerformArgs,
) -> Result<Cookie> {
    let req = Request::legacy(a.dname, a.bandwidth, a.xmlin, a.uri);
    b.check_request(a.flags, &req.to_params())?;
    perform_any(b, dom, a.dconnuri, &req, a.cookie_in, a.flags)
}

/// `virDomainMigratePerform3Params`.
pub fn perform3_params<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    dconnuri: Option<&str>,
    a: &ParamsArgs,
) -> Result<Cookie> {
    let req = b.check_request(a.flags, a.params)?;
    perform_any(b, dom, dconnuri, &req, a.cookie_in, a.flags)
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

/// `virDomainMigrateConfirm3` / `Confirm3Params`.
pub fn confirm3<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    flags: u32,
    cancelled: bool,
) -> Result<()> {
    source::confirm(b, dom, flags, cancelled)
}
