//! Live migration in the test driver: a simulated guest whose memory really
//! moves between two test-driver hosts (two node files, or two processes)
//! over TCP, a tunnelled `virStream` or the direct relocation listener,
//! through every libvirt phase (V1, V2, V3, params, peer-to-peer).
//!
//! * [`memory`]: the guest's pages, dirtying, digest; `<rvirt:guest>` metadata.
//! * [`wire`]: the one-way memory stream protocol.
//! * [`sender`] / [`receiver`]: the two ends of the stream.
//! * `outgoing` / `incoming`: the source's and destination's hypervisor
//!   part. The phases, jobs, rules and peer-to-peer are the shared engine's
//!   (`rvirt_hypervisor`).
//! * `reloc`: direct migration to a relocation listener.

pub mod channels;
pub mod compress;
pub mod limiter;
pub mod memory;
pub mod options;
pub mod receiver;
pub mod sender;
pub mod transport;
pub mod wire;

mod destination;
mod driver;
mod incoming;
mod outgoing;
mod reloc;

pub use reloc::RelocationListener;

use rvirt::migration::{flags, params};
use rvirt_hypervisor::incoming::{PreparedBy, Registry};
use rvirt_hypervisor::{Jobs, MigrationSupport, Request};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParams};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// What the test driver carries out.
pub const SUPPORT: MigrationSupport = MigrationSupport {
    driver: "test",
    prefix: "test",
    domain: ErrorDomain::TEST,
    flags: HONOURED_FLAGS,
    params: HONOURED_PARAMS,
    compression: &["mt"],
    cookie: rvirt_hypervisor::cookie::CookieFormat::Rvirt,
};

/// The flags this driver carries out.
const HONOURED_FLAGS: u32 = flags::LIVE
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
const HONOURED_PARAMS: &[&str] = &[
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
pub fn check_request(flags: u32, params: &TypedParams) -> Result<Request> {
    let req = SUPPORT.check(flags, params)?;
    options::check_compressed(flags, &req)?;
    Ok(req)
}

/// [`check_request`] on the destination (which reads only its party's params).
pub fn check_incoming(flags: u32, params: &TypedParams) -> Result<Request> {
    let req = SUPPORT.check_incoming(flags, params)?;
    options::check_compressed(flags, &req)?;
    Ok(req)
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
    jobs: Jobs,
    pub(crate) incoming: Registry<incoming::Incoming>,
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
            jobs: Jobs::default(),
            incoming: Registry::default(),
        }
    }

    pub fn host_uuid(&self) -> [u8; 16] {
        self.host_uuid
    }

    /// The migration jobs of this host's domains.
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// Whether a migration job holds this domain (CHANGE_PROTECTION).
    pub fn is_protected(&self, uuid: &[u8; 16]) -> bool {
        self.jobs.is_protected(uuid)
    }
}

/// The incoming migrations one connection prepared: libvirt ties each to
/// its preparing `virConnectPtr` and discards it when that connection
/// closes before finish.
#[derive(Default)]
pub struct PreparedIncoming(PreparedBy<incoming::Incoming>);

impl PreparedIncoming {
    fn track(&self, inc: Arc<incoming::Incoming>) {
        self.0.track(inc);
    }

    /// The connection closes: abort what it prepared and did not finish.
    pub fn discard_all(&self, state: &Arc<crate::state::TestState>) {
        let dst = destination::Destination(state);
        for inc in self.0.take_pending() {
            rvirt_hypervisor::destination::discard_unfinished(&dst, &inc);
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
}
