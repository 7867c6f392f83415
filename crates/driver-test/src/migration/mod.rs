//! Live migration in the test driver: a simulated guest whose memory really
//! moves between two test-driver hosts (two node files, or two processes)
//! over TCP, a tunnelled `virStream` or the direct relocation listener,
//! through every libvirt phase (V1, V2, V3, params, peer-to-peer).
//!
//! * [`memory`]: the guest's pages, dirtying, digest; `<rvirt:guest>` metadata.
//! * [`wire`]: the one-way memory stream protocol.
//! * [`sender`] / [`receiver`]: the two ends of the stream.
//! * [`job`]: per-domain jobs, stats, tunables.
//! * `outgoing` / `incoming`: the source's and destination's phases.
//! * `p2p`: the source driving the destination itself (PEER2PEER).
//! * `reloc`: direct migration to a relocation listener.

pub mod channels;
pub mod compress;
pub mod job;
pub mod limiter;
pub mod memory;
pub mod options;
pub mod receiver;
pub mod sender;
pub mod transport;
pub mod wire;

mod driver;
mod incoming;
mod outgoing;
mod p2p;
mod reloc;

pub use reloc::RelocationListener;

use job::DomainJob;
use parking_lot::Mutex;
use rvirt::migration::{flags, params};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParamValue, TypedParams};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// The flags this driver carries out.
pub const HONOURED_FLAGS: u32 = flags::LIVE
    | flags::PEER2PEER
    | flags::TUNNELLED
    | flags::PERSIST_DEST
    | flags::UNDEFINE_SOURCE
    | flags::PAUSED
    | flags::CHANGE_PROTECTION
    | flags::UNSAFE
    | flags::OFFLINE
    | flags::ABORT_ON_ERROR
    | flags::AUTO_CONVERGE
    | flags::POSTCOPY
    | flags::COMPRESSED
    | flags::PARALLEL;

/// The params this driver carries out.
pub const HONOURED_PARAMS: &[&str] = &[
    params::URI,
    params::DEST_NAME,
    params::DEST_XML,
    params::PERSIST_XML,
    params::BANDWIDTH,
    params::BANDWIDTH_POSTCOPY,
    params::LISTEN_ADDRESS,
    params::AUTO_CONVERGE_INITIAL,
    params::AUTO_CONVERGE_INCREMENT,
    params::COMPRESSION,
    params::COMPRESSION_MT_LEVEL,
    params::COMPRESSION_MT_THREADS,
    params::COMPRESSION_MT_DTHREADS,
    params::PARALLEL_CONNECTIONS,
];

/// Refuse, before anything moves, what this driver does not carry out and
/// the combinations libvirt refuses.
pub fn check_request(flags: u32, params: &TypedParams) -> Result<()> {
    rvirt::migration::check_supported(flags, params, HONOURED_FLAGS, HONOURED_PARAMS)?;
    options::check(flags, &Request::from_params(params)?)
}

fn uuid_from(bytes: &[u8]) -> [u8; 16] {
    let h = Sha256::digest(bytes);
    let mut u = [0u8; 16];
    u.copy_from_slice(&h[..16]);
    // A version-4-shaped, RFC 4122 variant UUID.
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    u
}

/// The host UUID when the daemon configures none: derived from
/// /etc/machine-id, else from the host name (stable either way).
pub fn derived_host_uuid() -> [u8; 16] {
    let seed = std::fs::read_to_string("/etc/machine-id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| rvirt_util::host::hostname().ok())
        .unwrap_or_else(|| "rvirt-test-host".into());
    uuid_from(format!("rvirt-test-host:{seed}").as_bytes())
}

/// One test-driver host's migration state: jobs per domain and the
/// incoming migrations it has prepared.
pub struct HostMigration {
    /// `test:///default` has the driver's host UUID; each node-file host
    /// one derived from it and the file's path.
    host_uuid: [u8; 16],
    jobs: Mutex<HashMap<[u8; 16], Arc<DomainJob>>>,
    incoming: Mutex<Vec<Arc<incoming::Incoming>>>,
    outgoing: Mutex<HashMap<[u8; 16], Arc<outgoing::Outgoing>>>,
}

impl HostMigration {
    /// `base` is the driver's host UUID (configured or derived).
    pub fn new(node_path: Option<&str>, base: [u8; 16]) -> HostMigration {
        let host_uuid = node_path.map_or(base, |p| {
            let path = std::fs::canonicalize(p)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| p.to_string());
            let mut seed = base.to_vec();
            seed.extend_from_slice(path.as_bytes());
            uuid_from(&seed)
        });
        HostMigration {
            host_uuid,
            jobs: Mutex::default(),
            incoming: Mutex::default(),
            outgoing: Mutex::default(),
        }
    }

    pub fn host_uuid(&self) -> [u8; 16] {
        self.host_uuid
    }

    /// The job slot of a domain (created on first use).
    pub fn job(&self, uuid: &[u8; 16]) -> Arc<DomainJob> {
        self.jobs.lock().entry(*uuid).or_default().clone()
    }

    /// Whether a migration job holds this domain (CHANGE_PROTECTION).
    pub fn is_protected(&self, uuid: &[u8; 16]) -> bool {
        self.outgoing
            .lock()
            .get(uuid)
            .is_some_and(|o| o.flags & flags::CHANGE_PROTECTION != 0)
    }
}

/// The incoming migrations one connection prepared: libvirt ties each to
/// its preparing `virConnectPtr` and discards it when that connection
/// closes before finish.
#[derive(Default)]
pub struct PreparedIncoming {
    list: Mutex<Vec<Arc<incoming::Incoming>>>,
}

impl PreparedIncoming {
    fn track(&self, inc: Arc<incoming::Incoming>) {
        let mut list = self.list.lock();
        list.retain(|i| i.pending());
        list.push(inc);
    }

    /// The connection closes: abort what it prepared and did not finish.
    pub fn discard_all(&self, state: &crate::state::TestState) {
        let list = std::mem::take(&mut *self.list.lock());
        for inc in &list {
            incoming::discard(state, inc);
        }
    }
}

/// The typed migration parameters, read once.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub uri: Option<String>,
    pub dname: Option<String>,
    pub dxml: Option<String>,
    pub persist_xml: Option<String>,
    pub bandwidth: Option<u64>,
    pub bandwidth_postcopy: Option<u64>,
    pub listen_address: Option<String>,
    pub ac_initial: Option<u32>,
    pub ac_increment: Option<u32>,
    /// `compression` (may repeat), as given.
    pub compression: Vec<String>,
    pub mt_level: Option<i32>,
    pub mt_threads: Option<i32>,
    pub mt_dthreads: Option<i32>,
    pub parallel_connections: Option<i32>,
}

fn percent(p: &TypedParams, name: &str) -> Result<Option<u32>> {
    match p.get(name) {
        None => Ok(None),
        Some(TypedParamValue::Int(v)) if (0..=100).contains(v) => Ok(Some(*v as u32)),
        Some(_) => Err(Error::new(
            ErrorDomain::TEST,
            ErrorCode::INVALID_ARG,
            format!("invalid value for '{name}'"),
        )),
    }
}

fn int(p: &TypedParams, name: &str) -> Option<i32> {
    match p.get(name) {
        Some(TypedParamValue::Int(v)) => Some(*v),
        _ => None,
    }
}

impl Request {
    pub fn from_params(p: &TypedParams) -> Result<Request> {
        let s = |n: &str| p.get_string(n).map(str::to_string);
        Ok(Request {
            uri: s(params::URI),
            dname: s(params::DEST_NAME),
            dxml: s(params::DEST_XML),
            persist_xml: s(params::PERSIST_XML),
            bandwidth: p.get_u64(params::BANDWIDTH),
            bandwidth_postcopy: p.get_u64(params::BANDWIDTH_POSTCOPY),
            listen_address: s(params::LISTEN_ADDRESS),
            ac_initial: percent(p, params::AUTO_CONVERGE_INITIAL)?,
            ac_increment: percent(p, params::AUTO_CONVERGE_INCREMENT)?,
            compression: p
                .iter()
                .filter(|x| x.field == params::COMPRESSION)
                .filter_map(|x| match &x.value {
                    TypedParamValue::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            mt_level: int(p, params::COMPRESSION_MT_LEVEL),
            mt_threads: int(p, params::COMPRESSION_MT_THREADS),
            mt_dthreads: int(p, params::COMPRESSION_MT_DTHREADS),
            parallel_connections: int(p, params::PARALLEL_CONNECTIONS),
        })
    }

    pub fn to_params(&self) -> TypedParams {
        let mut p = TypedParams::new();
        let mut s = |n: &str, v: &Option<String>| {
            if let Some(v) = v {
                p.push(n, TypedParamValue::String(v.clone()));
            }
        };
        s(params::URI, &self.uri);
        s(params::DEST_NAME, &self.dname);
        s(params::DEST_XML, &self.dxml);
        s(params::PERSIST_XML, &self.persist_xml);
        s(params::LISTEN_ADDRESS, &self.listen_address);
        if let Some(b) = self.bandwidth {
            p.push(params::BANDWIDTH, TypedParamValue::ULLong(b));
        }
        if let Some(b) = self.bandwidth_postcopy {
            p.push(params::BANDWIDTH_POSTCOPY, TypedParamValue::ULLong(b));
        }
        if let Some(v) = self.ac_initial {
            p.push(
                params::AUTO_CONVERGE_INITIAL,
                TypedParamValue::Int(v as i32),
            );
        }
        if let Some(v) = self.ac_increment {
            p.push(
                params::AUTO_CONVERGE_INCREMENT,
                TypedParamValue::Int(v as i32),
            );
        }
        for m in &self.compression {
            p.push(params::COMPRESSION, TypedParamValue::String(m.clone()));
        }
        for (n, v) in [
            (params::COMPRESSION_MT_LEVEL, self.mt_level),
            (params::COMPRESSION_MT_THREADS, self.mt_threads),
            (params::COMPRESSION_MT_DTHREADS, self.mt_dthreads),
            (params::PARALLEL_CONNECTIONS, self.parallel_connections),
        ] {
            if let Some(v) = v {
                p.push(n, TypedParamValue::Int(v));
            }
        }
        p
    }

    /// The legacy (non-params) phases' arguments.
    pub fn legacy(
        dname: Option<&str>,
        bandwidth: u64,
        dxml: Option<&str>,
        uri: Option<&str>,
    ) -> Request {
        Request {
            uri: uri.map(str::to_string),
            dname: dname.map(str::to_string),
            dxml: dxml.map(str::to_string),
            bandwidth: (bandwidth != 0).then_some(bandwidth),
            ..Request::default()
        }
    }
}

/// A phase failed because a fault was injected into it.
pub fn injected(phase: memory::Phase) -> Error {
    Error::new(
        ErrorDomain::TEST,
        ErrorCode::OPERATION_FAILED,
        format!("injected fault in migration {} phase", phase.name()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_uuids() {
        let base = derived_host_uuid();
        let a = HostMigration::new(Some("/tmp/a.xml"), base);
        let b = HostMigration::new(Some("/tmp/b.xml"), base);
        assert_ne!(a.host_uuid(), b.host_uuid());
        assert_eq!(
            a.host_uuid(),
            HostMigration::new(Some("/tmp/a.xml"), base).host_uuid()
        );
        assert_eq!(HostMigration::new(None, base).host_uuid(), base);
        let configured = [7u8; 16];
        assert_eq!(HostMigration::new(None, configured).host_uuid(), configured);
    }

    #[test]
    fn request_round_trip() {
        let r = Request {
            uri: Some("tcp://h:1".into()),
            dname: Some("n".into()),
            bandwidth: Some(5),
            ac_initial: Some(30),
            ..Request::default()
        };
        let r = Request {
            compression: vec!["mt".into()],
            mt_level: Some(4),
            parallel_connections: Some(3),
            ..r
        };
        let back = Request::from_params(&r.to_params()).unwrap();
        assert_eq!(back.compression, vec!["mt".to_string()]);
        assert_eq!(back.mt_level, Some(4));
        assert_eq!(back.parallel_connections, Some(3));
        assert_eq!(back.uri, r.uri);
        assert_eq!(back.dname, r.dname);
        assert_eq!(back.bandwidth, Some(5));
        assert_eq!(back.ac_initial, Some(30));
        let bad = TypedParams::new().with(params::AUTO_CONVERGE_INITIAL, TypedParamValue::Int(400));
        assert!(Request::from_params(&bad).is_err());
    }
}
