//! Direct migration: no destination daemon, so the destination test driver
//! runs a relocation listener (`test+reloc://HOST:PORT`). Each connection
//! migrates one guest into this process's `test:///default`, which it holds
//! open meanwhile.
//!
//! ```text
//!  source                                   relocation listener
//!    │ request{flags, cookie, xml, dname?, persistent xml?} │
//!    │──────────────────────────────────────────────────▶│ prepare
//!    │               answer{cookie} | answer{error}        │
//!    │◀──────────────────────────────────────────────────│
//!    │ memory stream (wire.rs)                             │ receive
//!    │──────────────────────────────────────────────────▶│
//!    │                verdict (digest checked)              │
//!    │◀──────────────────────────────────────────────────│
//!    │ go (1 byte)                                          │ finish: runs it
//!    │──────────────────────────────────────────────────▶│
//!    │                verdict (finish)                      │
//!    │◀──────────────────────────────────────────────────│
//!    confirm: drop ours (finish ok), resume ours (finish failed), or
//!    leave ours paused (no answer: the destination may run it)
//! ```
//!
//! The destination runs the guest only after the source said go, and the
//! source drops or resumes its own only on the destination's word, so a
//! connection lost at any point never leaves the guest running twice.

use super::destination::Destination;
use super::incoming;
use super::wire::{self, malformed};
use crate::state::TestState;
use rvirt::driver::DomainRef;
use rvirt_hypervisor::destination::{self, IncomingChannel};
use rvirt_hypervisor::source::{self as outgoing, Perform};
use rvirt_hypervisor::{Request, Target};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const MAGIC: &[u8; 8] = b"RVIRTREL";
/// The source's word that the destination may run the guest.
const GO: u8 = 0x47;
/// How long the destination waits for it.
const GO_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_FIELD: usize = 16 << 20;

fn io(e: std::io::Error) -> Error {
    Error::system(ErrorDomain::TEST, "relocation connection failed", &e)
}

fn put(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            out.extend_from_slice(&(s.len() as u32).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        None => out.push(0),
    }
}

fn get(r: &mut impl Read) -> Result<Option<String>> {
    let mut k = [0u8; 1];
    r.read_exact(&mut k).map_err(io)?;
    if k[0] == 0 {
        return Ok(None);
    }
    let mut n = [0u8; 4];
    r.read_exact(&mut n).map_err(io)?;
    let n = u32::from_be_bytes(n) as usize;
    if n > MAX_FIELD {
        return Err(malformed("relocation field too long"));
    }
    let mut b = vec![0u8; n];
    r.read_exact(&mut b).map_err(io)?;
    String::from_utf8(b)
        .map(Some)
        .map_err(|_| malformed("relocation field is not UTF-8"))
}

struct RelocRequest {
    flags: u32,
    cookie: String,
    xml: String,
    dname: Option<String>,
    persist_xml: Option<String>,
    /// Multithread compression's decompress threads, when the source
    /// compresses (`mt:DTHREADS`).
    compression: Option<String>,
}

fn read_request(r: &mut impl Read) -> Result<RelocRequest> {
    let mut head = [0u8; 12];
    r.read_exact(&mut head).map_err(io)?;
    if &head[..8] != MAGIC {
        return Err(malformed("not a relocation request"));
    }
    let flags = u32::from_be_bytes([head[8], head[9], head[10], head[11]]);
    let cookie = get(r)?.unwrap_or_default();
    let xml = get(r)?.ok_or_else(|| malformed("relocation request without XML"))?;
    Ok(RelocRequest {
        flags,
        cookie,
        xml,
        dname: get(r)?,
        persist_xml: get(r)?,
        compression: get(r)?,
    })
}

fn answer(result: &Result<Vec<u8>>) -> Vec<u8> {
    match result {
        Ok(cookie) => {
            let mut v = vec![0];
            put(&mut v, Some(&String::from_utf8_lossy(cookie)));
            v
        }
        Err(e) => {
            let mut v = vec![1];
            v.extend_from_slice(&e.code.0.to_be_bytes());
            put(&mut v, Some(&e.message));
            v
        }
    }
}

fn read_answer(r: &mut impl Read) -> Result<Vec<u8>> {
    let mut k = [0u8; 1];
    r.read_exact(&mut k).map_err(io)?;
    if k[0] == 0 {
        return Ok(get(r)?.unwrap_or_default().into_bytes());
    }
    let mut code = [0u8; 4];
    r.read_exact(&mut code).map_err(io)?;
    let msg = get(r)?.unwrap_or_default();
    Err(Error::raw(
        ErrorDomain::TEST,
        ErrorCode(i32::from_be_bytes(code)),
        msg,
    ))
}

/// A relocation listener the driver owns: one accept thread and at most
/// `max_clients` migrations served at once (each on its own thread, since a
/// migration blocks for its whole length); a connection past that bound is
/// answered with an error and closed. Dropping it stops accepting.
pub struct RelocationListener {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl RelocationListener {
    /// Listen on `addr` (e.g. `127.0.0.1:0`); migrations arrive into the
    /// `test:///default` of a host with this UUID.
    pub fn start(
        addr: &str,
        host_uuid: [u8; 16],
        max_clients: usize,
    ) -> Result<RelocationListener> {
        let listener = TcpListener::bind(addr).map_err(|e| {
            Error::system(
                ErrorDomain::TEST,
                format!("Failed to bind socket to '{addr}'"),
                &e,
            )
        })?;
        let bound = listener.local_addr().map_err(io)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let active = Arc::new(AtomicUsize::new(0));
        std::thread::Builder::new()
            .name("test-reloc".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    match conn {
                        Ok(c) => admit(c, host_uuid, &active, max_clients),
                        Err(e) => tracing::debug!("relocation accept: {e}"),
                    }
                }
            })
            .map_err(io)?;
        Ok(RelocationListener { addr: bound, stop })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for RelocationListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// Serve `conn` on a thread of its own if fewer than `max` migrations are
/// running; otherwise refuse it, so a flood of connections cannot grow the
/// daemon's thread count.
fn admit(mut conn: TcpStream, host_uuid: [u8; 16], active: &Arc<AtomicUsize>, max: usize) {
    if active.fetch_add(1, Ordering::SeqCst) >= max {
        active.fetch_sub(1, Ordering::SeqCst);
        tracing::warn!(max, "refusing a direct migration: too many at once");
        let busy = Error::new(
            ErrorDomain::TEST,
            ErrorCode::OPERATION_FAILED,
            format!("too many incoming migrations at once (at most {max})"),
        );
        // Take the request first, as a served migration would, so the
        // source reads the refusal rather than a reset; briefly, since this
        // runs on the accept thread.
        let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
        let _ = read_request(&mut conn);
        let _ = conn.write_all(&answer(&Err(busy)));
        return;
    }
    let done = active.clone();
    let spawned = std::thread::Builder::new()
        .name("test-reloc-in".into())
        .spawn(move || {
            serve(conn, host_uuid);
            done.fetch_sub(1, Ordering::SeqCst);
        });
    if let Err(e) = spawned {
        active.fetch_sub(1, Ordering::SeqCst);
        tracing::warn!("relocation: no thread for a migration: {e}");
    }
}

fn serve(mut conn: TcpStream, host_uuid: [u8; 16]) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let req = match read_request(&mut conn) {
        Ok(r) => r,
        Err(e) => {
            let _ = conn.write_all(&answer(&Err(e)));
            return;
        }
    };
    // Hold the default instance open for the whole migration.
    let state = match crate::default_state(host_uuid) {
        Ok(s) => s,
        Err(e) => {
            let _ = conn.write_all(&answer(&Err(e)));
            return;
        }
    };
    let r = Request {
        dname: req.dname.clone(),
        persist_xml: req.persist_xml.clone(),
        ..Request::default()
    };
    let r = match req.compression.as_deref().map(|c| c.strip_prefix("mt:")) {
        None => r,
        Some(dthreads) => Request {
            compression: vec!["mt".into()],
            mt_dthreads: dthreads.and_then(|d| d.parse().ok()),
            ..r
        },
    };
    let prepared = destination::prepare(
        &Destination(&state),
        req.cookie.as_bytes(),
        Some(&req.xml),
        &r,
        req.flags,
        IncomingChannel::Inline,
    );
    let (cookie, inc) = match prepared {
        Ok((c, _, inc)) => (c, inc),
        Err(e) => {
            let _ = conn.write_all(&answer(&Err(e)));
            return;
        }
    };
    if conn.write_all(&answer(&Ok(cookie))).is_err() {
        incoming::cleanup(&state, &inc);
        return;
    }
    let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
    let received = incoming::receive(&state, &inc, &mut conn, None).map(|_| ());
    let name = inc.name.lock().clone();
    let ready = conn.write_all(&wire::encode_verdict(&received)).is_ok();
    // Run the guest only on the source's go: without it, discard.
    let _ = conn.set_read_timeout(Some(GO_TIMEOUT));
    let mut go = [0u8; 1];
    if received.is_err() || !ready || conn.read_exact(&mut go).is_err() || go[0] != GO {
        let _ = destination::finish(&Destination(&state), &name, &[], req.flags, true);
        return;
    }
    let finished =
        destination::finish(&Destination(&state), &name, &[], req.flags, false).map(|_| ());
    let _ = conn.write_all(&wire::encode_verdict(&finished));
    let _ = conn.flush();
}

/// `test+reloc://HOST:PORT` → socket address text.
pub fn parse_reloc_uri(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("test+reloc://")?;
    let rest = rest.trim_end_matches('/');
    (!rest.is_empty()).then(|| rest.to_string())
}

/// The source side of a direct migration.
pub fn perform_direct(
    state: &TestState,
    dom: &DomainRef,
    uri: &str,
    req: &Request,
    flags: u32,
) -> Result<()> {
    let addr = parse_reloc_uri(uri).ok_or_else(|| {
        Error::invalid_arg(ErrorDomain::TEST, format!("unable to parse URI {uri}"))
    })?;
    if flags & rvirt::migration::flags::PARALLEL != 0 {
        return Err(Error::new(
            ErrorDomain::TEST,
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "parallel migration is not supported with direct migration",
        ));
    }
    let (cookie_a, xml) = outgoing::begin(state, dom, req, flags)?;
    let flags = outgoing::with_paused_flag(state, dom, flags);
    let negotiated = (|| -> Result<(TcpStream, Vec<u8>)> {
        let sa = addr
            .to_socket_addrs()
            .map_err(io)?
            .next()
            .ok_or_else(|| malformed("relocation address does not resolve"))?;
        let mut conn = TcpStream::connect_timeout(&sa, Duration::from_secs(10)).map_err(io)?;
        let _ = conn.set_nodelay(true);
        let mut head = MAGIC.to_vec();
        head.extend_from_slice(&flags.to_be_bytes());
        put(&mut head, Some(&String::from_utf8_lossy(&cookie_a)));
        put(&mut head, Some(&xml));
        put(&mut head, req.dname.as_deref());
        put(&mut head, req.persist_xml.as_deref());
        let mt = rvirt_hypervisor::rules::mt_of(ErrorDomain::TEST, req)?
            .map(|m| format!("mt:{}", m.dthreads));
        put(&mut head, mt.as_deref());
        conn.write_all(&head).map_err(io)?;
        let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
        let cookie_b = read_answer(&mut conn)?;
        Ok((conn, cookie_b))
    })();
    let (conn, ctl, cookie_b) = match negotiated.and_then(|(c, cookie)| {
        let ctl = c.try_clone().map_err(io)?;
        Ok((c, ctl, cookie))
    }) {
        Ok(n) => n,
        Err(e) => {
            let _ = outgoing::confirm(state, dom, flags, true);
            return Err(e);
        }
    };
    // Perform fails (and resumes ours) unless the digest matched there.
    let job = Perform::new(&cookie_b, flags, req, Target::Connected(conn));
    outgoing::perform(state, dom, job)?;
    let mut ctl = ctl;
    let _ = ctl.set_read_timeout(Some(GO_TIMEOUT + Duration::from_secs(30)));
    let answered = ctl
        .write_all(&[GO])
        .map_err(io)
        .and_then(|_| read_finish_verdict(&mut ctl));
    match answered {
        Ok(Ok(())) => outgoing::confirm(state, dom, flags, false),
        Ok(Err(e)) => {
            // The destination discarded it: ours runs again.
            let _ = outgoing::confirm(state, dom, flags, true);
            Err(e)
        }
        Err(e) => {
            outgoing::leave_paused(state, dom, &e);
            Err(e)
        }
    }
}

/// The destination's finish verdict: `Err` outside when it never came,
/// `Ok(Err)` when finish failed there.
fn read_finish_verdict(conn: &mut TcpStream) -> Result<Result<()>> {
    let mut k = [0u8; 1];
    conn.read_exact(&mut k).map_err(io)?;
    if k[0] == 0 {
        return Ok(Ok(()));
    }
    let rest = wire::read_verdict(&mut std::io::Read::chain(&[1u8][..], conn));
    match rest {
        Err(e) if e.message.contains("did not answer") => Err(e),
        r => Ok(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_past_the_bound_are_refused_and_the_listener_stops_on_drop() {
        let listener = RelocationListener::start("127.0.0.1:0", [1; 16], 1).unwrap();
        // The one slot: a source that has not sent its request yet.
        let _first = TcpStream::connect(listener.addr()).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let mut second = TcpStream::connect(listener.addr()).unwrap();
        second
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let err = read_answer(&mut second).unwrap_err();
        assert_eq!(
            err.message,
            "operation failed: too many incoming migrations at once (at most 1)"
        );
        let addr = listener.addr();
        drop(listener);
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            TcpStream::connect(addr).is_err(),
            "still accepting after drop"
        );
    }
}
