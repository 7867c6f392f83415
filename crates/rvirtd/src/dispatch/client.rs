//! Per-client state (libvirtd's `daemonClientPrivate`): the open
//! connection, whether the client came in on the read-only socket, its event
//! callback registrations, and the outbox its replies and events go through.

use super::stream::Streams;
use crate::clients::ClientEntry;
use parking_lot::Mutex;
use rvirt::{Connect, Domain, DomainRef};
use rvirt_rpc::{NonnullDomain, Packet};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;

pub use crate::outbox::Outbox;

/// The client's hypervisor connection, through its life.
enum ConnState {
    /// Before CONNECT_OPEN.
    NotOpen,
    Open(Connect),
    /// After CONNECT_CLOSE or the end of the session: an open finishing
    /// late on a worker closes what it opened there, so a close that
    /// waits (a remote connection) never runs on a reactor thread.
    Closed,
}

pub struct Client {
    /// Came in on `libvirt-sock-ro`: every connection it opens is read-only.
    pub readonly: bool,
    /// The URI opened when CONNECT_OPEN names none.
    pub default_uri: String,
    conn: Mutex<ConnState>,
    outbox: Outbox,
    callbacks: Mutex<Callbacks>,
    keepalive_wanted: AtomicBool,
    close_requested: AtomicBool,
    streams: Streams,
    /// Its entry in the server's client list, once a session serves it.
    entry: Option<Arc<ClientEntry>>,
    /// How it authenticates, and whether it has.
    auth: crate::auth::ClientAuth,
}

/// Event callbacks this client registered with its connection.
#[derive(Default)]
pub(super) struct Callbacks {
    /// CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY registrations.
    pub modern: Vec<ModernCallback>,
    /// CONNECT_DOMAIN_EVENT_REGISTER_ANY (legacy): event id → driver id.
    pub legacy: Vec<(i32, i32)>,
    /// CONNECT_NETWORK_EVENT_REGISTER_ANY: the driver's callback ids.
    pub network: Vec<i32>,
    /// CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY: driver id, event id and
    /// the pool filtered on.
    pub pools: Vec<(i32, i32, Option<[u8; 16]>)>,
}

/// One CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY registration: what
/// libvirt's virObjectEventCallbackLookup compares to find a duplicate.
pub(super) struct ModernCallback {
    /// The driver's callback id, which the client deregisters by.
    pub id: i32,
    pub event_id: i32,
    /// The UUID of the domain the events are filtered on, if any.
    pub domain: Option<[u8; 16]>,
}

impl Client {
    pub fn new(readonly: bool, default_uri: impl Into<String>, outbox: Outbox) -> Client {
        Client {
            readonly,
            default_uri: default_uri.into(),
            conn: Mutex::new(ConnState::NotOpen),
            outbox,
            callbacks: Mutex::new(Callbacks::default()),
            keepalive_wanted: AtomicBool::new(false),
            close_requested: AtomicBool::new(false),
            streams: Streams::default(),
            entry: None,
            auth: crate::auth::ClientAuth::open(),
        }
    }

    /// The listener's authentication for this client.
    pub fn set_auth(&mut self, auth: crate::auth::ClientAuth) {
        self.auth = auth;
    }

    pub fn auth(&self) -> &crate::auth::ClientAuth {
        &self.auth
    }

    /// Tie the client to its entry in the server's client list.
    pub fn attach(&mut self, entry: Arc<ClientEntry>) {
        self.entry = Some(entry);
    }

    /// Bound the kernel's receive buffer of the client's connection
    /// ([`ClientEntry::limit_receive_buffer`]).
    pub(super) fn limit_receive_buffer(&self, bytes: usize) {
        if let Some(e) = &self.entry {
            e.limit_receive_buffer(bytes);
        }
    }

    /// Once SASL has `complete`d, the client's entry records its user
    /// name and stops counting as unauthenticated.
    pub(super) fn note_authenticated(&self, complete: bool) {
        if let (true, Some(e)) = (complete, &self.entry) {
            e.authenticated(self.auth.username());
        }
    }

    /// CONNECT_OPEN decided whether the client is read-only
    /// (`virNetServerClientSetReadonly`), as virt-admin's client-info shows.
    pub(super) fn opened_readonly(&self, readonly: bool) {
        if let Some(e) = &self.entry {
            e.set_readonly(readonly);
        }
    }

    /// The open connection, or libvirtd's error for calls before
    /// CONNECT_OPEN (`remoteGetHypervisorConn`).
    pub fn conn(&self) -> Result<Connect> {
        match &*self.conn_state() {
            ConnState::Open(c) => Ok(c.clone()),
            ConnState::NotOpen | ConnState::Closed => Err(Error::new(
                ErrorDomain::RPC,
                ErrorCode::INTERNAL_ERROR,
                "hypervisor connection not open",
            )),
        }
    }

    fn conn_state(&self) -> parking_lot::MutexGuard<'_, ConnState> {
        self.conn.lock()
    }

    pub fn is_open(&self) -> bool {
        matches!(*self.conn_state(), ConnState::Open(_))
    }

    /// Whether the open connection answers reads from memory, asked
    /// without cloning it (a clone dropped last on a reactor thread would
    /// close the connection there).
    pub fn reads_are_quick(&self) -> bool {
        match &*self.conn_state() {
            ConnState::Open(c) => c.reads_are_quick(),
            _ => false,
        }
    }

    /// Keep the connection CONNECT_OPEN made, unless the client has gone
    /// meanwhile: then it is closed here, on the worker that opened it.
    pub(super) fn set_conn(&self, conn: Connect) {
        let mut state = self.conn_state();
        match *state {
            ConnState::Closed => {
                drop(state);
                tracing::debug!("client gone while opening: closing its connection");
                drop(conn);
            }
            _ => *state = ConnState::Open(conn),
        }
    }

    /// A second CONNECT_OPEN fails and, as in libvirtd (whose error path
    /// clears `priv->conn`), takes the open connection with it: later calls
    /// get "connection not open". Dropped here, on the worker, not the reactor.
    pub(super) fn forget_conn(&self) {
        let mut state = self.conn_state();
        if let ConnState::Open(_) = *state {
            let old = std::mem::replace(&mut *state, ConnState::NotOpen);
            drop(state);
            drop(old);
        }
    }

    /// A handle for the domain a call names (`get_nonnull_domain`): no
    /// lookup here, the driver finds it again by UUID.
    pub fn domain(&self, d: &NonnullDomain) -> Result<Domain> {
        let conn = self.conn()?;
        Ok(Domain::from_ref(
            &conn,
            DomainRef {
                name: d.name.clone(),
                uuid: d.uuid,
                id: d.id,
            },
        ))
    }

    /// Queue a packet for the client (events, pings). A closed connection
    /// just drops it.
    pub fn send(&self, p: Packet) {
        if let Err(e) = self.outbox.send(p) {
            tracing::debug!("not queued for the client: {e:?}");
        }
    }

    pub fn outbox(&self) -> Outbox {
        self.outbox.clone()
    }

    /// Register (`register`, which answers the callback id) a callback
    /// that queues each event to the client as the message `message`
    /// builds from the callback id, the object and the event (None: not
    /// sent). Events before the id is known are dropped, as libvirtd drops
    /// them while `callbackID` is still -1.
    pub fn queue_events<K: ?Sized + 'static, E: 'static>(
        &self,
        message: impl Fn(i32, &K, &E) -> Option<Packet> + Send + Sync + 'static,
        register: impl FnOnce(Arc<dyn Fn(&K, &E) + Send + Sync>) -> Result<i32>,
    ) -> Result<i32> {
        let outbox = self.outbox();
        let id_cell = Arc::new(AtomicI32::new(-1));
        let cell = id_cell.clone();
        let callback = Arc::new(move |key: &K, event: &E| {
            let id = cell.load(Ordering::Acquire);
            if id < 0 {
                return;
            }
            if let Some(packet) = message(id, key, event) {
                let _ = outbox.send(packet);
            }
        });
        let id = register(callback)?;
        id_cell.store(id, Ordering::Release);
        Ok(id)
    }

    /// The client's open incoming streams.
    pub fn streams(&self) -> &Streams {
        &self.streams
    }

    pub(super) fn callbacks(&self) -> parking_lot::MutexGuard<'_, Callbacks> {
        self.callbacks.lock()
    }

    /// The client asked about VIR_DRV_FEATURE_PROGRAM_KEEPALIVE: libvirtd
    /// starts pinging it from then on (`virNetServerClientStartKeepAlive`).
    pub fn want_keepalive(&self) {
        self.keepalive_wanted.store(true, Ordering::Relaxed);
    }

    pub fn keepalive_wanted(&self) -> bool {
        self.keepalive_wanted.load(Ordering::Relaxed)
    }

    /// After CONNECT_CLOSE the connection closes once the reply is out
    /// (`virNetServerClientDelayedClose`).
    pub fn request_close(&self) {
        self.close_requested.store(true, Ordering::Relaxed);
    }

    pub fn close_requested(&self) -> bool {
        self.close_requested.load(Ordering::Relaxed)
    }

    /// Abort open streams, deregister every event callback and close the
    /// connection (`remoteClientCloseFunc`). Idempotent. May wait (closing
    /// a remote connection is a round trip): call it off the reactor.
    pub fn cleanup(&self) {
        self.streams.clear();
        let conn = match std::mem::replace(&mut *self.conn_state(), ConnState::Closed) {
            ConnState::Open(c) => Some(c),
            ConnState::NotOpen | ConnState::Closed => None,
        };
        let callbacks = std::mem::take(&mut *self.callbacks());
        if let Some(conn) = conn {
            let ids = callbacks
                .modern
                .iter()
                .map(|cb| &cb.id)
                .chain(callbacks.legacy.iter().map(|(_, id)| id));
            for id in ids {
                if let Err(e) = conn.domain_event_deregister_any(*id) {
                    tracing::debug!("deregistering event callback {id}: {e}");
                }
            }
            for id in &callbacks.network {
                if let Err(e) = conn.network_event_deregister_any(*id) {
                    tracing::debug!("deregistering network event callback {id}: {e}");
                }
            }
            for (id, ..) in &callbacks.pools {
                if let Err(e) = conn.storage_pool_event_deregister_any(*id) {
                    tracing::debug!("deregistering pool event callback {id}: {e}");
                }
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// The wire form of a domain handle.
pub fn nonnull(dom: &Domain) -> NonnullDomain {
    let r = dom.domain_ref();
    NonnullDomain {
        name: r.name.clone(),
        uuid: r.uuid,
        id: r.id,
    }
}
