//! The TLS handshake as rvirtd and the remote driver run it: rustls
//! connections made from driver-remote's `verify::server_config` and
//! `verify::client_config` over [`TlsContext`]s loaded (and sanity-checked)
//! from fixed certificates (crates/fuzz/data/tls, see its README), fed
//! hostile bytes through `read_tls` / `process_new_packets`.
//!
//! Input: a mode byte, then the mode's bytes. The mode's low two bits:
//! - 0: the bytes are what a client sends the server (seeds: recorded
//!   ClientHellos, and a TLS 1.2 client's second flight, whose Certificate
//!   message is in clear);
//! - 1: the bytes are what a server sends the client after its
//!   ClientHello (seeds: recorded server flights);
//! - 2, 3: a real handshake between the two in memory, one flight
//!   (`bytes[0]`, 0 = the ClientHello) XORed with `bytes[3..]` from offset
//!   `bytes[1..3]`; a handshake left intact must complete, both ends'
//!   certificate checks (libvirt's, `check_certificate`) must pass and the
//!   server's '\1' confirmation must reach the client (a client without a
//!   certificate must be refused by the server's check instead).
//!
//! Bit 2 holds both ends to TLS 1.2 (`tls_priority` "NORMAL:-VERS-TLS1.3"),
//! bit 3 makes the client one without a certificate.
//!
//! Whatever the input: no panic, no hang, bounded buffers.

use super::{mix, Target};
use crate::rng::fnv;
use rustls::{ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection};
use rvirt_driver_remote::tls::{verify, CredentialPaths, Policy, TlsContext};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

/// The fixed credentials (generated once with certtool; see the README
/// beside them for how).
const CACERT: &str = include_str!("../../data/tls/cacert.pem");
const SERVERCERT: &str = include_str!("../../data/tls/servercert.pem");
const SERVERKEY: &str = include_str!("../../data/tls/serverkey.pem");
const CLIENTCERT: &str = include_str!("../../data/tls/clientcert.pem");
const CLIENTKEY: &str = include_str!("../../data/tls/clientkey.pem");

/// The host the server's certificate names.
const HOST: &str = "localhost";

const TLS12_ONLY: &str = "NORMAL:-VERS-TLS1.3";

/// Flights a handshake takes at most (TLS 1.2 with a client certificate:
/// four; more means a loop).
const MAX_FLIGHTS: usize = 8;

/// The priorities a mode picks from: the default, then TLS 1.2 only.
const PRIORITIES: [Option<&str>; 2] = [None, Some(TLS12_ONLY)];

pub struct Handshake {
    server: TlsContext,
    /// One configuration per priority, shared by every connection as
    /// rvirtd's listener shares its own.
    server_configs: [Arc<ServerConfig>; 2],
    /// With a client certificate, then without. Their configurations are
    /// made afresh for each connection as the remote driver makes them (so
    /// no session is ever resumed, as with rvirsh).
    clients: [TlsContext; 2],
}

/// Load a context from the fixed PEM written to a scratch directory, as
/// rvirtd and rvirsh load theirs, sanity check included.
fn context(dir: &Path, is_server: bool, with_identity: bool) -> TlsContext {
    let (cert, key) = match (is_server, with_identity) {
        (true, _) => ("servercert.pem", "serverkey.pem"),
        (false, true) => ("clientcert.pem", "clientkey.pem"),
        (false, false) => ("none-cert.pem", "none-key.pem"),
    };
    let paths = CredentialPaths {
        cacert: dir.join("cacert.pem"),
        cacrl: None,
        cert: dir.join(cert),
        key: dir.join(key),
    };
    let policy = Policy {
        is_server,
        sanity_check: true,
        require_valid: true,
        dn_acl: is_server.then(|| vec!["C=GB,O=rvirt fuzz,CN=*".to_string()]),
    };
    TlsContext::new(&paths, policy).unwrap_or_else(|e| panic!("fuzz TLS context: {}", e.message))
}

impl Handshake {
    pub fn new() -> Handshake {
        let dir = std::env::temp_dir().join(format!("rvirt-fuzz-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        for (name, pem) in [
            ("cacert.pem", CACERT),
            ("servercert.pem", SERVERCERT),
            ("serverkey.pem", SERVERKEY),
            ("clientcert.pem", CLIENTCERT),
            ("clientkey.pem", CLIENTKEY),
        ] {
            std::fs::write(dir.join(name), pem).expect("write fixed PEM");
        }
        let server = context(&dir, true, true);
        let clients = [context(&dir, false, true), context(&dir, false, false)];
        let _ = std::fs::remove_dir_all(&dir);
        let server_configs =
            PRIORITIES.map(|p| verify::server_config(&server, p).expect("server config"));
        Handshake {
            server,
            server_configs,
            clients,
        }
    }

    fn client_ctx(&self, mode: u8) -> &TlsContext {
        &self.clients[usize::from(mode & 8 != 0)]
    }

    fn pair(&self, mode: u8) -> (Connection, Connection) {
        let tls12 = usize::from(mode & 4 != 0);
        let server = ServerConnection::new(self.server_configs[tls12].clone()).expect("server");
        let config: Arc<ClientConfig> =
            verify::client_config(self.client_ctx(mode), PRIORITIES[tls12]).expect("client config");
        let name = HOST.try_into().expect("server name");
        let client = ClientConnection::new(config, name).expect("client");
        (client.into(), server.into())
    }

    /// A clean handshake of `mode`'s flavour: its flights, after checking
    /// that it completed as rvirtd and rvirsh need it to.
    fn recorded(&self, mode: u8) -> Vec<Vec<u8>> {
        let (mut client, mut server) = self.pair(mode);
        let mut flights = Vec::new();
        let out = self.converse(mode, &mut client, &mut server, |_, f| {
            flights.push(f.to_vec());
        });
        assert_eq!(
            out,
            expected(mode),
            "an untouched handshake (mode {mode}) ended otherwise"
        );
        flights
    }

    /// Run the handshake between `client` and `server`, each flight seen
    /// (and maybe altered) by `tamper`; then libvirt's checks and the
    /// confirmation byte. Err: what stopped it, as a signature.
    fn converse(
        &self,
        mode: u8,
        client: &mut Connection,
        server: &mut Connection,
        mut tamper: impl FnMut(usize, &mut Vec<u8>),
    ) -> Result<(), u64> {
        for i in 0..MAX_FLIGHTS {
            let done = !client.is_handshaking() && !server.is_handshaking();
            let (from, to) = if i % 2 == 0 {
                (&mut *client, &mut *server)
            } else {
                (&mut *server, &mut *client)
            };
            let mut flight = drain(from);
            if flight.is_empty() && done {
                break;
            }
            tamper(i, &mut flight);
            feed(to, &flight).map_err(|e| mix(i as u64, e))?;
        }
        if client.is_handshaking() || server.is_handshaking() {
            return Err(0x100);
        }
        let server_check = self
            .server
            .check_certificate(server.peer_certificates(), None);
        let client_check = self
            .client_ctx(mode)
            .check_certificate(client.peer_certificates(), Some(HOST));
        if let Err(e) = server_check.and(client_check) {
            return Err(refused(&e.message));
        }
        server.writer().write_all(&[1]).map_err(|_| 0x300u64)?;
        let confirmation = drain(server);
        match feed(client, &confirmation).map_err(|e| mix(0x400, e))?[..] {
            [1] => Ok(()),
            _ => Err(0x500),
        }
    }
}

/// How an untouched handshake ends: the client is accepted, or refused by
/// libvirt's check when it has no certificate.
fn expected(mode: u8) -> Result<(), u64> {
    if mode & 8 == 0 {
        return Ok(());
    }
    Err(REFUSED)
}

/// The signature of libvirt's refusal of a peer's certificate.
const REFUSED: u64 = 0x201;

/// The signature of a failure of libvirt's certificate checks.
fn refused(text: &str) -> u64 {
    if text.ends_with("Failed to verify peer's certificate") {
        return REFUSED;
    }
    mix(0x200, fnv(text.as_bytes()))
}

/// Every record a connection has queued.
fn drain(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    while conn.wants_write() {
        if conn.write_tls(&mut out).is_err() {
            break;
        }
    }
    out
}

/// Plaintext kept from a feed (the rest is read and dropped, so buffers
/// stay bounded).
const KEEP: usize = 16;

/// Give `bytes` to `conn` as rvirtd's and rvirsh's loops do (read_tls,
/// then process_new_packets, until all is taken): the first [`KEEP`]
/// bytes of plaintext that came out. Err: the failure's signature.
fn feed(conn: &mut Connection, mut bytes: &[u8]) -> Result<Vec<u8>, u64> {
    let mut kept = Vec::new();
    while !bytes.is_empty() {
        match conn.read_tls(&mut bytes) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(mix(1, fnv(e.to_string().as_bytes()))),
        }
        let state = conn.process_new_packets();
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = conn.reader().read(&mut chunk) {
            let room = KEEP.saturating_sub(kept.len()).min(n);
            kept.extend_from_slice(&chunk[..room]);
        }
        if let Err(e) = state {
            // The alert it sends back is drained too, as a server would.
            let _ = drain(conn);
            return Err(mix(2, fnv(format!("{e:?}").as_bytes())));
        }
    }
    Ok(kept)
}

/// XOR `patch` into `flight` from `offset` (clipped): whether anything
/// changed.
fn xor_into(flight: &mut [u8], offset: usize, patch: &[u8]) -> bool {
    let mut changed = false;
    for (b, p) in flight.iter_mut().skip(offset).zip(patch) {
        changed |= *p != 0;
        *b ^= p;
    }
    changed
}

impl Target for Handshake {
    fn name(&self) -> &'static str {
        "tls-handshake"
    }

    fn all_runs_divisor(&self) -> u64 {
        8
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        let mut seeds = Vec::new();
        for flavour in [0u8, 4, 8, 12] {
            let flights = self.recorded(flavour);
            let with = |mode: u8, bytes: &[u8]| [&[mode | flavour][..], bytes].concat();
            seeds.push(with(0, &flights[0]));
            if let Some(second) = flights.get(2) {
                seeds.push(with(0, &[&flights[0][..], second].concat()));
            }
            seeds.push(with(1, &flights[1]));
            for (i, flight) in flights.iter().enumerate() {
                // Untouched, then a bit flipped in a record header and one
                // in the middle of the flight.
                let mid = (flight.len() / 2) as u16;
                for (offset, patch) in [(0u16, 0u8), (1, 1), (mid, 0x80)] {
                    let mut s = vec![2 | flavour, i as u8];
                    s.extend(offset.to_be_bytes());
                    s.push(patch);
                    seeds.push(s);
                }
            }
        }
        seeds
    }

    fn run(&mut self, input: &[u8]) -> u64 {
        let Some((&mode, bytes)) = input.split_first() else {
            return 0;
        };
        let sig = u64::from(mode & 0x0f);
        let (mut client, mut server) = self.pair(mode);
        let outcome = match mode & 3 {
            0 => feed(&mut server, bytes).map(|_| ()),
            1 => {
                let _hello = drain(&mut client);
                feed(&mut client, bytes).map(|_| ())
            }
            _ => {
                let flight = bytes.first().map_or(0, |f| usize::from(*f));
                let offset = bytes.get(1..3).map_or(0, |o| {
                    usize::from(u16::from_be_bytes(o.try_into().expect("two bytes")))
                });
                let patch = bytes.get(3..).unwrap_or_default();
                let mut changed = false;
                let out = self.converse(mode, &mut client, &mut server, |i, f| {
                    if i == flight {
                        changed = xor_into(f, offset, patch);
                    }
                });
                assert!(
                    changed || out == expected(mode),
                    "an untouched handshake ended otherwise: {out:?}"
                );
                out
            }
        };
        let state = u64::from(client.is_handshaking()) << 1 | u64::from(server.is_handshaking());
        mix(mix(sig, state), outcome.err().unwrap_or(0))
    }
}
