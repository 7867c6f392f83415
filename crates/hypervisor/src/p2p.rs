//! Peer-to-peer migration: the source driver opens the destination itself
//! (`rvirt::Connect::open(dconnuri)`) and plays the client's part, picking
//! V3-with-params, V3 or V2 from the destination's features as libvirt's
//! `qemuMigrationSrcPerformPeer2Peer` does; with TUNNELLED the memory goes
//! through a `virStream` on that connection.

use crate::backend::{SourceBackend, Target};
use crate::job::Phase;
use crate::request::Request;
use crate::source::{self as outgoing, Jobs, Perform};
use rvirt::driver::{DomainRef, FinishArgs, PrepareArgs};
use rvirt::flags::feature;
use rvirt::migration::flags;
use rvirt::migration::v3::{self, Mode, PerformTo, V3Request, V3Source};
use rvirt::{Connect, Stream};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// How often the source looks at its connection to the destination
/// while the migration runs.
const WATCH: Duration = Duration::from_millis(100);

fn no_uri(d: ErrorDomain) -> Error {
    Error::internal(d, "domainMigratePrepare2 did not set uri")
}

pub fn perform<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    dconnuri: &str,
    req: &Request,
    flags: u32,
) -> Result<()> {
    let d = b.support().domain;
    let dconn = Connect::open(dconnuri)?;
    if let Some((interval, count)) = b.keepalive() {
        dconn.set_keep_alive(interval, count)?;
    }
    if !dconn.supports_feature(feature::MIGRATION_P2P)? {
        return Err(Error::new(
            d,
            ErrorCode::OPERATION_FAILED,
            "Destination libvirt does not support peer-to-peer migration protocol",
        ));
    }
    if flags & flags::OFFLINE != 0 && !dconn.supports_feature(feature::MIGRATION_OFFLINE)? {
        return Err(Error::new(
            d,
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "offline migration is not supported by the destination host",
        ));
    }
    let v3 = dconn.supports_feature(feature::MIGRATION_V3)?;
    let use_params = v3 && dconn.supports_feature(feature::MIGRATION_PARAMS)?;
    if v3 {
        watching_destination(b.jobs(), dom, &dconn, d, || {
            perform3(b, dom, &dconn, dconnuri, req, flags, use_params)
        })
    } else if dconn.supports_feature(feature::MIGRATION_V2)? {
        watching_destination(b.jobs(), dom, &dconn, d, || {
            perform2(b, dom, (&dconn, dconnuri), req, flags)
        })
    } else {
        Err(Error::new(
            d,
            ErrorCode::OPERATION_FAILED,
            "Destination libvirt does not support any known migration protocol",
        ))
    }
}

/// Run `migrate` while watching the connection to the destination
/// daemon: once it is closed (the daemon died, the network reset it, or
/// keepalive gave up on a silent peer) a transfer still under way is
/// interrupted with libvirt's "Lost connection to destination host"
/// (`qemuMigrationSrcWaitForCompletion` checks `virConnectIsAlive`), so
/// the guest runs on here at once instead of after the transfer. A
/// migration that failed on its own while the connection died (the
/// tunnel's writes failing first) reports the lost connection too.
fn watching_destination(
    jobs: &Jobs,
    dom: &DomainRef,
    dconn: &Connect,
    d: ErrorDomain,
    migrate: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let lost = || {
        Error::new(
            d,
            ErrorCode::OPERATION_FAILED,
            "Lost connection to destination host",
        )
    };
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        scope.spawn(move || loop {
            match stopped.recv_timeout(WATCH) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => return,
            }
            if dconn.is_alive() {
                continue;
            }
            let out = jobs.outgoing(&dom.uuid);
            if let Some(o) = out.filter(|o| o.job.phase() < Phase::PerformDone) {
                o.job.interrupt_with(lost());
            }
            return;
        });
        let done = migrate();
        drop(stop);
        match done {
            Err(e) if e.code != ErrorCode::OPERATION_ABORTED && !dconn.is_alive() => Err(lost()),
            other => other,
        }
    })
}

/// Settle the outcome: confirm here according to what the destination did.
fn settle<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    flags: u32,
    perform: Result<Vec<u8>>,
    finished: Result<()>,
) -> Result<()> {
    match (perform, finished) {
        (Err(e), _) => {
            let _ = outgoing::confirm(b, dom, flags, true);
            Err(e)
        }
        (Ok(_), Err(e)) => {
            let _ = outgoing::confirm(b, dom, flags, true);
            Err(e)
        }
        (Ok(_), Ok(())) => outgoing::confirm(b, dom, flags, false),
    }
}

/// V2 prepare's arguments: the destination's name and the XML begin produced.
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

/// Where the memory goes after a V2 prepare: the destination's answer,
/// else the caller's URI.
fn tcp_target(
    d: ErrorDomain,
    uri_out: Option<String>,
    req: &Request,
    flags: u32,
) -> Result<Target> {
    let uri = uri_out
        .or_else(|| req.uri.clone())
        // Offline migration moves no memory: there is nothing to connect to.
        .or_else(|| (flags & flags::OFFLINE != 0).then(String::new))
        .ok_or_else(|| no_uri(d))?;
    Ok(Target::Uri(uri))
}

/// A failed prepare ends the job begin started here.
fn cancel_unless_prepared<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    flags: u32,
    prepared: Result<(Vec<u8>, Target)>,
) -> Result<(Vec<u8>, Target)> {
    if prepared.is_err() {
        let _ = outgoing::confirm(b, dom, flags, true);
    }
    prepared
}

/// The source end of a peer-to-peer V3 migration: this driver's engine.
struct EngineSource<'a, B: SourceBackend + ?Sized> {
    b: &'a B,
    dom: &'a DomainRef,
    req: &'a Request,
    dconnuri: &'a str,
}

impl<B: SourceBackend + ?Sized> V3Source for EngineSource<'_, B> {
    fn is_paused(&self) -> bool {
        self.b.is_paused(self.dom)
    }
    fn protection(&self) -> u32 {
        0
    }
    /// The whole migration is one job on the source.
    fn begin_keeps_job(&self) -> bool {
        true
    }
    fn begin(&self, _: &V3Request, flags: u32) -> Result<(Vec<u8>, String)> {
        outgoing::begin(self.b, self.dom, self.req, flags)
    }
    fn perform(&self, _: &V3Request, cookie: &[u8], to: PerformTo, flags: u32) -> Result<Vec<u8>> {
        let target = match to {
            PerformTo::Uri(u) => Target::Uri(chosen_uri(self.req, u, self.dconnuri)),
            PerformTo::Stream(st) => Target::Stream(st),
        };
        outgoing::perform(
            self.b,
            self.dom,
            Perform::new(cookie, flags, self.req, target),
        )
    }
    fn confirm(&self, _: &V3Request, cookie: &[u8], flags: u32, cancelled: bool) -> Result<()> {
        outgoing::confirm_with(self.b, self.dom, (cookie, flags), cancelled)
    }
}

/// `qemuMigrationSrcPerformPeer2Peer3`, through the one V3 runner.
fn perform3<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    dconn: &Connect,
    dconnuri: &str,
    req: &Request,
    flags: u32,
    use_params: bool,
) -> Result<()> {
    let request = V3Request {
        mode: Mode::PeerToPeer,
        name: &dom.name,
        use_params,
        params: req.to_params(),
        dname: req.dname.as_deref(),
        xmlin: req.dxml.as_deref(),
        uri: req.uri.clone(),
        bandwidth: req.bandwidth.unwrap_or(0),
        dconnuri: Some(dconnuri),
        flags,
    };
    let src = EngineSource {
        b,
        dom,
        req,
        dconnuri,
    };
    let outcome = v3::run(&src, dconn, request)?;
    outcome.result?;
    // Here the source is the driver: a failed confirm is its own error.
    outcome.confirm_error.map_or(Ok(()), Err)
}

/// `qemuMigrationSrcPerformPeer2Peer2`: no begin cookie, no confirm phase.
fn perform2<B: SourceBackend + ?Sized>(
    b: &B,
    dom: &DomainRef,
    (dconn, dconnuri): (&Connect, &str),
    req: &Request,
    flags: u32,
) -> Result<()> {
    let (_, xml) = outgoing::begin(b, dom, req, flags)?;
    let flags = outgoing::with_paused_flag(b, dom, flags);
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
        let uri_out = uri_out.map(|u| chosen_uri(req, &u, dconnuri));
        Ok((cookie, tcp_target(b.support().domain, uri_out, req, flags)?))
    })();
    let (cookie_b, target) = cancel_unless_prepared(b, dom, flags, prepared)?;
    let uri = match &target {
        Target::Uri(u) => u.clone(),
        _ => String::new(),
    };
    let performed = outgoing::perform(b, dom, Perform::new(&cookie_b, flags, req, target));
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
    settle(b, dom, flags, performed, finished)
}

/// The URI perform migrates to: the destination's answer, which carries
/// the destination's own name only when the client named no migration
/// URI (then [`reachable_uri`] applies; a name the client chose stands).
fn chosen_uri(req: &Request, uri: &str, dconnuri: &str) -> String {
    match req.uri {
        None => reachable_uri(uri, dconnuri),
        Some(_) => uri.to_string(),
    }
}

/// The host and port of a `tcp:HOST:PORT` or `tcp://HOST:PORT/` migration
/// URI (an IPv6 host in brackets, kept so).
fn tcp_host_port(uri: &str) -> Option<(&str, u16)> {
    let rest = uri
        .strip_prefix("tcp://")
        .or_else(|| uri.strip_prefix("tcp:"))?
        .trim_end_matches('/');
    let (host, port) = rest.rsplit_once(':')?;
    Some((host, port.parse().ok()?))
}

/// rvirt's peer-to-peer fallback where libvirt fails: the destination
/// names itself in the URI it prepared (its host name, unless
/// `migration_host` says otherwise), and when that name does not resolve
/// here the memory goes to the host the source reached the destination
/// daemon at (`dconnuri`'s), which evidently does. Any other URI is kept.
pub fn reachable_uri(uri: &str, dconnuri: &str) -> String {
    let Some((host, port)) = tcp_host_port(uri) else {
        return uri.to_string();
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if std::net::ToSocketAddrs::to_socket_addrs(&(bare, port)).is_ok_and(|mut a| a.next().is_some())
    {
        return uri.to_string();
    }
    let reached = rvirt_util::Uri::parse(dconnuri)
        .ok()
        .and_then(|u| u.server)
        .filter(|s| !s.is_empty() && s != bare);
    let Some(reached) = reached else {
        return uri.to_string();
    };
    let reached = reached.trim_start_matches('[').trim_end_matches(']');
    let reached = match reached.contains(':') {
        true => format!("[{reached}]"),
        false => reached.to_string(),
    };
    tracing::info!("destination host '{bare}' does not resolve here: migrating to {reached}");
    match uri.starts_with("tcp://") {
        true => format!("tcp://{reached}:{port}"),
        false => format!("tcp:{reached}:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unresolvable_destination_name_gives_way_to_the_daemon_address() {
        let dconnuri = "qemu+tcp://10.77.0.2:16509/system";
        assert_eq!(
            reachable_uri("tcp:no-such-host.invalid:49152", dconnuri),
            "tcp:10.77.0.2:49152"
        );
        assert_eq!(
            reachable_uri("tcp://no-such-host.invalid:49153/", dconnuri),
            "tcp://10.77.0.2:49153"
        );
        assert_eq!(
            reachable_uri(
                "tcp:no-such-host.invalid:49152",
                "qemu+tcp://[fd00::2]/system"
            ),
            "tcp:[fd00::2]:49152"
        );
        // What resolves, and what is no TCP URI, stays.
        for kept in ["tcp:127.0.0.1:49152", "tcp:[::1]:49152", "unix:/x", "tcp:h"] {
            assert_eq!(reachable_uri(kept, dconnuri), kept);
        }
        assert_eq!(
            reachable_uri("tcp:no-such-host.invalid:1", "qemu:///system"),
            "tcp:no-such-host.invalid:1"
        );
    }
}
