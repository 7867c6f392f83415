//! Peer-to-peer migration: the source driver opens the destination itself
//! (`rvirt::Connect::open(dconnuri)`) and plays the client's part, picking
//! V3-with-params, V3 or V2 from the destination's features as libvirt's
//! `qemuMigrationSrcPerformPeer2Peer` does; with TUNNELLED the memory goes
//! through a `virStream` on that connection.

use super::outgoing::{self, Perform, Target};
use super::Request;
use crate::state::TestState;
use rvirt::driver::{DomainRef, FinishArgs, PrepareArgs};
use rvirt::flags::feature;
use rvirt::migration::flags;
use rvirt::{Connect, Stream};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

fn no_uri() -> Error {
    Error::internal(
        ErrorDomain::TEST,
        "destination did not return a migration URI",
    )
}

pub fn perform(
    state: &TestState,
    dom: &DomainRef,
    dconnuri: &str,
    req: &Request,
    flags: u32,
) -> Result<()> {
    let dconn = Connect::open(dconnuri)?;
    if !dconn.supports_feature(feature::MIGRATION_P2P)? {
        return Err(Error::new(
            ErrorDomain::TEST,
            ErrorCode::OPERATION_FAILED,
            "Destination libvirt does not support peer-to-peer migration protocol",
        ));
    }
    if flags & flags::OFFLINE != 0 && !dconn.supports_feature(feature::MIGRATION_OFFLINE)? {
        return Err(Error::new(
            ErrorDomain::TEST,
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "offline migration is not supported by the destination host",
        ));
    }
    let v3 = dconn.supports_feature(feature::MIGRATION_V3)?;
    let use_params = v3 && dconn.supports_feature(feature::MIGRATION_PARAMS)?;
    if v3 {
        perform3(state, dom, &dconn, dconnuri, req, flags, use_params)
    } else if dconn.supports_feature(feature::MIGRATION_V2)? {
        perform2(state, dom, &dconn, req, flags)
    } else {
        Err(Error::new(
            ErrorDomain::TEST,
            ErrorCode::OPERATION_FAILED,
            "Destination libvirt does not support any known migration protocol",
        ))
    }
}

/// Settle the outcome: confirm here according to what the destination did.
fn settle(
    state: &TestState,
    dom: &DomainRef,
    flags: u32,
    perform: Result<Vec<u8>>,
    finished: Result<()>,
) -> Result<()> {
    match (perform, finished) {
        (Err(e), _) => {
            let _ = outgoing::confirm(state, dom, flags, true);
            Err(e)
        }
        (Ok(_), Err(e)) => {
            let _ = outgoing::confirm(state, dom, flags, true);
            Err(e)
        }
        (Ok(_), Ok(())) => outgoing::confirm(state, dom, flags, false),
    }
}

/// The positional prepare both V2 and V3 send: the destination's name and
/// the XML begin produced (the V3 cookie is added by the caller).
fn prepare_args<'a>(req: &'a Request, dname: &'a str, xml: &'a str, flags: u32) -> PrepareArgs<'a> {
    PrepareArgs {
        uri_in: req.uri.as_deref(),
        flags,
        dname: Some(dname),
        bandwidth: req.bandwidth.unwrap_or(0),
        dom_xml: xml,
        ..PrepareArgs::default()
    }
}

/// Where the memory goes after a TCP prepare: the destination's answer,
/// else the caller's URI.
fn tcp_target(uri_out: Option<String>, req: &Request, flags: u32) -> Result<Target> {
    let uri = uri_out
        .or_else(|| req.uri.clone())
        // Offline migration moves no memory: there is nothing to connect to.
        .or_else(|| (flags & flags::OFFLINE != 0).then(String::new))
        .ok_or_else(no_uri)?;
    Ok(Target::Tcp(uri))
}

/// A failed prepare ends the job begin started here.
fn cancel_unless_prepared(
    state: &TestState,
    dom: &DomainRef,
    flags: u32,
    prepared: Result<(Vec<u8>, Target)>,
) -> Result<(Vec<u8>, Target)> {
    if prepared.is_err() {
        let _ = outgoing::confirm(state, dom, flags, true);
    }
    prepared
}

fn perform3(
    state: &TestState,
    dom: &DomainRef,
    dconn: &Connect,
    dconnuri: &str,
    req: &Request,
    flags: u32,
    use_params: bool,
) -> Result<()> {
    let (cookie_a, xml) = outgoing::begin(state, dom, req, flags)?;
    let flags = outgoing::with_paused_flag(state, dom, flags);
    let dname = req.dname.clone().unwrap_or_else(|| dom.name.clone());
    let mut dreq = req.clone();
    dreq.dxml = Some(xml.clone());
    dreq.dname = Some(dname.clone());
    let args = prepare_args(req, &dname, &xml, flags);
    let prepared = (|| -> Result<(Vec<u8>, Target)> {
        if flags & flags::TUNNELLED != 0 {
            let st = Stream::new(dconn, 0)?;
            let cookie = if use_params {
                dconn.migrate_prepare_tunnel3_params(&st, &dreq.to_params(), &cookie_a, flags)?
            } else {
                let args = PrepareArgs {
                    cookie_in: &cookie_a,
                    uri_in: None,
                    ..args
                };
                dconn.migrate_prepare_tunnel3(&st, &args)?
            };
            return Ok((cookie, Target::Stream(st)));
        }
        let (cookie, uri_out) = if use_params {
            dconn.migrate_prepare3_params(&dreq.to_params(), &cookie_a, flags)?
        } else {
            let args = PrepareArgs {
                cookie_in: &cookie_a,
                ..args
            };
            dconn.migrate_prepare3(&args)?
        };
        Ok((cookie, tcp_target(uri_out, req, flags)?))
    })();
    let (cookie_b, target) = cancel_unless_prepared(state, dom, flags, prepared)?;
    let performed = outgoing::perform(state, dom, Perform::new(&cookie_b, flags, req, target));
    let cancelled = performed.is_err();
    let cookie_c = performed.as_ref().cloned().unwrap_or_default();
    let finished = if use_params {
        let mut fp = Request {
            dname: Some(dname.clone()),
            uri: req.uri.clone(),
            ..Request::default()
        }
        .to_params();
        if fp.is_empty() {
            fp = Request::default().to_params();
        }
        dconn
            .migrate_finish3_params(&fp, &cookie_c, flags, cancelled)
            .map(|_| ())
    } else {
        let args = FinishArgs {
            dname: &dname,
            cookie_in: &cookie_c,
            dconnuri: Some(dconnuri),
            uri: req.uri.as_deref(),
            flags,
        };
        dconn.migrate_finish3(&args, cancelled).map(|_| ())
    };
    settle(state, dom, flags, performed, finished)
}

fn perform2(
    state: &TestState,
    dom: &DomainRef,
    dconn: &Connect,
    req: &Request,
    flags: u32,
) -> Result<()> {
    let (_, xml) = outgoing::begin(state, dom, req, flags)?;
    let flags = outgoing::with_paused_flag(state, dom, flags);
    let dname = req.dname.clone().unwrap_or_else(|| dom.name.clone());
    let args = prepare_args(req, &dname, &xml, flags);
    let prepared = (|| -> Result<(Vec<u8>, Target)> {
        if flags & flags::TUNNELLED != 0 {
            let st = Stream::new(dconn, 0)?;
            let args = PrepareArgs {
                uri_in: None,
                ..args
            };
            dconn.migrate_prepare_tunnel(&st, &args)?;
            return Ok((Vec::new(), Target::Stream(st)));
        }
        let (cookie, uri_out) = dconn.migrate_prepare2(&args)?;
        Ok((cookie, tcp_target(uri_out, req, flags)?))
    })();
    let (cookie_b, target) = cancel_unless_prepared(state, dom, flags, prepared)?;
    let uri = match &target {
        Target::Tcp(u) => u.clone(),
        _ => String::new(),
    };
    let performed = outgoing::perform(state, dom, Perform::new(&cookie_b, flags, req, target));
    let retcode = if performed.is_ok() { 0 } else { -1 };
    let cookie_c = performed.as_ref().cloned().unwrap_or_default();
    let args = FinishArgs {
        dname: &dname,
        cookie_in: &cookie_c,
        uri: Some(&uri),
        flags,
        ..FinishArgs::default()
    };
    let finished = dconn.migrate_finish2(&args, retcode).map(|_| ());
    settle(state, dom, flags, performed, finished)
}
