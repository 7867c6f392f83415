//! The test driver: libvirt's `test:///default` and `test:///PATH.xml`, an
//! in-memory hypervisor with libvirt's figures, used by CI and demos to run
//! every API (and, later, every migration mode) without a real hypervisor.
//!
//! As in libvirt, every connection to `test:///default` within one process
//! shares a single state, created by the first open and dropped after the
//! last close; a node-description file gives each connection its own state.

mod caps;
mod checkpoints;
mod connection;
mod device_stats;
mod guest;
mod host;
mod host_objects;
mod ifaces;
mod iothreads;
mod memory;
pub mod migration;
mod moments;
mod network;
#[cfg(test)]
mod network_tests;
mod node;
mod nodedevs;
mod objects;
mod pinning;
mod save;
mod scope;
mod screenshot;
mod snapshot_align;
mod snapshot_list;
mod snapshot_revert;
mod snapshots;
mod state;
mod storage;
mod storage_driver;
#[cfg(test)]
mod storage_tests;
mod tuning;
mod tuning_params;

use connection::TestConnection;
pub use migration::RelocationListener;
use parking_lot::Mutex;
use rvirt::driver::{ConnectDriver, OpenOutcome, StateConfig};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, Uri};
use state::TestState;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};

/// `virCheckFlags` in test_driver.c's object drivers (networks, pools,
/// node devices, interfaces, snapshots): reported from the test driver's
/// error domain (`VIR_FROM_TEST`).
pub(crate) fn check_flags(api: &str, given: u32, allowed: u32) -> Result<()> {
    rvirt::connect::check_flags_in(ErrorDomain::TEST, api, given, allowed)
}

/// The shared state behind `test:///default` while any connection holds it.
static DEFAULT_STATE: Mutex<Weak<TestState>> = Mutex::new(Weak::new());

/// Node-file hosts by path, shared while any connection holds them, so a
/// peer-to-peer source opening `test:///PATH.xml` reaches the same host as
/// the caller that opened it (two paths are two hosts).
static NODE_STATES: Mutex<Option<HashMap<String, Weak<TestState>>>> = Mutex::new(None);

/// The driver: what the daemon configured it with, and the relocation
/// listener it owns (libvirt's test driver keeps such state in its
/// `testDriver`).
#[derive(Default)]
pub struct TestDriver {
    host_uuid: OnceLock<[u8; 16]>,
    relocation: Mutex<Option<RelocationListener>>,
}

/// The daemon keys this driver reads (rvirtd.conf): where direct
/// migrations arrive, and how many may arrive at once.
pub const RELOCATION_LISTEN: &str = "test_relocation_listen";
pub const RELOCATION_MAX_CLIENTS: &str = "test_relocation_max_clients";
/// Direct migrations one host takes at once unless configured.
const DEFAULT_RELOCATION_MAX_CLIENTS: usize = 8;

/// Register the test driver with the public API.
pub fn register() {
    rvirt::registry::register(Arc::new(TestDriver::default()));
}

impl TestDriver {
    /// The configured host UUID (`host_uuid`), else one derived from the
    /// machine.
    fn host_uuid(&self) -> [u8; 16] {
        *self.host_uuid.get_or_init(migration::derived_host_uuid)
    }
}

impl ConnectDriver for TestDriver {
    fn name(&self) -> &'static str {
        "Test"
    }

    fn state_initialize(&self, config: &StateConfig) -> Result<()> {
        if let Some(uuid) = config.host_uuid {
            let _ = self.host_uuid.set(uuid);
        }
        let Some(addr) = config.setting(RELOCATION_LISTEN) else {
            return Ok(());
        };
        let max = match config.setting(RELOCATION_MAX_CLIENTS) {
            None => DEFAULT_RELOCATION_MAX_CLIENTS,
            Some(n) => n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                Error::invalid_arg(
                    ErrorDomain::TEST,
                    format!("{RELOCATION_MAX_CLIENTS} must be a positive number, not '{n}'"),
                )
            })?,
        };
        let listener = RelocationListener::start(addr, self.host_uuid(), max)
            .map_err(|e| e.prefixed("cannot listen for test migrations"))?;
        tracing::info!(bound = %listener.addr(), max, "test driver relocation listener");
        *self.relocation.lock() = Some(listener);
        Ok(())
    }

    fn open(&self, uri: &Uri, _flags: u32) -> Result<OpenOutcome> {
        if uri.scheme != "test" || uri.server.is_some() {
            return Ok(OpenOutcome::Declined);
        }
        let state = match uri.path.as_str() {
            "/default" => default_state(self.host_uuid())?,
            "" | "/" => {
                return Err(Error::new(
                    ErrorDomain::TEST,
                    ErrorCode::INVALID_ARG,
                    "testOpen: supply a path or use test:///default",
                ))
            }
            path => node_state(path, self.host_uuid())?,
        };
        authenticate(&state)?;
        let conn = TestConnection::new(state, uri.to_string());
        Ok(OpenOutcome::Opened(Arc::new(conn)))
    }
}

/// libvirt's `testConnectAuthenticate` for a node file with `<auth>`
/// users: it asks the connection's auth callbacks for a username, and a
/// driver opened in a daemon has none (`remoteDispatchConnectOpen` opens
/// with no auth), so libvirt's `virAuthGetUsername` refuses. (libvirt
/// would first look in the daemon's own auth.conf; rvirt keeps no
/// credentials there.)
fn authenticate(state: &TestState) -> Result<()> {
    if state.auth_users.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorDomain::AUTH,
        ErrorCode::INVALID_ARG,
        "Missing authentication credentials",
    ))
}

fn node_state(path: &str, host_uuid: [u8; 16]) -> Result<Arc<TestState>> {
    let key = std::fs::canonicalize(path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_string());
    let mut slot = NODE_STATES.lock();
    let map = slot.get_or_insert_with(HashMap::new);
    map.retain(|_, w| w.strong_count() > 0);
    if let Some(state) = map.get(&key).and_then(Weak::upgrade) {
        return Ok(state);
    }
    let state = Arc::new(TestState::from_file(path, host_uuid)?);
    map.insert(key, Arc::downgrade(&state));
    Ok(state)
}

pub(crate) fn default_state(host_uuid: [u8; 16]) -> Result<Arc<TestState>> {
    let mut slot = DEFAULT_STATE.lock();
    if let Some(state) = slot.upgrade() {
        return Ok(state);
    }
    let state = Arc::new(TestState::default_config(host_uuid)?);
    *slot = Arc::downgrade(&state);
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvirt::events::{event_id, lifecycle, DomainEvent};
    use rvirt::flags::list;
    use rvirt::{Connect, DomainState};
    use std::sync::Mutex as StdMutex;

    const FOO: &str = "<domain type='test'><name>foo</name><memory>1024</memory><os><type>hvm</type></os></domain>";

    fn open(uri: &str) -> Connect {
        register();
        Connect::open(uri).expect("open")
    }

    /// A host of our own from a node file, so these tests do not share
    /// test:///default with each other. The file is only read at open.
    fn open_private(tag: &str) -> Connect {
        let path =
            std::env::temp_dir().join(format!("rvirt-test-node-{}-{tag}.xml", std::process::id()));
        std::fs::write(&path, node::DEFAULT_NODE_XML).unwrap();
        let conn = open(&format!("test://{}", path.display()));
        std::fs::remove_file(&path).unwrap();
        conn
    }

    #[test]
    fn default_state_is_shared_while_open_and_fresh_after() {
        let a = open("test:///default");
        let b = open("test:///default");
        a.define_xml(FOO, 0).unwrap();
        assert!(
            b.lookup_by_name("foo").is_ok(),
            "second connection shares the host"
        );
        drop(a);
        drop(b);
        let c = open("test:///default");
        assert!(
            c.lookup_by_name("foo").is_err(),
            "last close resets the host"
        );
    }

    #[test]
    fn lifecycle_events_reach_every_connection() {
        let conn = open_private("events");
        let seen: Arc<StdMutex<Vec<(String, i32, i32)>>> = Arc::default();
        let sink = seen.clone();
        conn.domain_event_register_any(
            None,
            event_id::LIFECYCLE,
            Arc::new(move |dom, ev| {
                if let DomainEvent::Lifecycle { event, detail } = ev {
                    sink.lock()
                        .unwrap()
                        .push((dom.name.clone(), *event, *detail));
                }
            }),
        )
        .unwrap();
        let mut dom = conn.define_xml(FOO, 0).unwrap();
        dom.create(0).unwrap();
        dom.suspend().unwrap();
        dom.resume().unwrap();
        dom.destroy(0).unwrap();
        let got = seen.lock().unwrap().clone();
        let want: Vec<(String, i32, i32)> = [
            (lifecycle::DEFINED, lifecycle::DEFINED_ADDED),
            (lifecycle::STARTED, lifecycle::STARTED_BOOTED),
            (lifecycle::SUSPENDED, lifecycle::SUSPENDED_PAUSED),
            (lifecycle::RESUMED, lifecycle::RESUMED_UNPAUSED),
            (lifecycle::STOPPED, lifecycle::STOPPED_DESTROYED),
        ]
        .iter()
        .map(|(e, d)| ("foo".to_string(), *e, *d))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn list_filters() {
        let conn = open_private("list");
        conn.define_xml(FOO, 0).unwrap();
        let names = |flags| -> Vec<String> {
            let mut v: Vec<String> = conn
                .list_all_domains(flags)
                .unwrap()
                .iter()
                .map(|d| d.name().to_string())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(0), ["foo", "test"]);
        assert_eq!(names(list::ACTIVE), ["test"]);
        assert_eq!(names(list::INACTIVE), ["foo"]);
        assert_eq!(names(list::RUNNING), ["test"]);
        assert_eq!(names(list::SHUTOFF | list::PERSISTENT), ["foo"]);
        assert!(names(list::TRANSIENT).is_empty());
        assert!(conn.list_all_domains(1 << 20).is_err());
    }

    #[test]
    fn transient_domain_vanishes_on_destroy() {
        let conn = open_private("transient");
        let dom = conn.create_xml(FOO, 0).unwrap();
        assert_eq!(dom.get_state().unwrap().0, DomainState::Running);
        assert!(!dom.is_persistent().unwrap());
        dom.destroy(0).unwrap();
        assert!(conn.lookup_by_name("foo").is_err());
    }

    /// A node file with `<auth>` users cannot be opened without
    /// credentials, which a driver in the daemon never has (libvirt-python's
    /// test_conn.TestLibvirtConnAuth against libvirtd); an unnamed user is
    /// refused as libvirt's parser refuses it.
    #[test]
    fn node_file_with_auth_users_needs_credentials() {
        register();
        let open_node = |tag: &str, auth: &str| {
            let path = std::env::temp_dir()
                .join(format!("rvirt-test-auth-{}-{tag}.xml", std::process::id()));
            std::fs::write(&path, format!("<node><auth>{auth}</auth></node>")).unwrap();
            let conn = Connect::open(&format!("test://{}", path.display()));
            std::fs::remove_file(&path).unwrap();
            conn
        };
        let e = open_node(
            "users",
            "<user password='87539319'>srinivasa</user><user>marin</user>",
        )
        .err()
        .expect("credentials needed");
        assert_eq!(
            (e.code, e.domain, e.to_string()),
            (
                ErrorCode::INVALID_ARG,
                ErrorDomain::AUTH,
                "invalid argument: Missing authentication credentials".to_string()
            )
        );
        let e = open_node("unnamed", "<user password='1'/>")
            .err()
            .expect("refused");
        assert_eq!(
            e.to_string(),
            "XML error: missing username in /node/auth/user field"
        );
        assert!(open_node("empty", "").is_ok());
    }
}
