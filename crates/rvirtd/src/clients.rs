//! A server's clients, as libvirtd's `virNetServer` keeps them: each gets
//! the next id of its server (from 1, `next_client_id`), its connect time,
//! transport and peer, and a handle the admin program closes it by
//! (`virAdmClientClose`). The REMOTE sessions and the ADMIN sessions each
//! register with their own server's registry; the admin program reads both.
//!
//! The registry also holds the server's client limits (`nclients_max`,
//! `nclients_unauth_max`), which `virAdmServerSetClientLimits` changes
//! while the daemon runs: a client arriving past `nclients_max` is dropped.
//! A client on a listener that asks for authentication counts as
//! unauthenticated (`nclients_unauth`) from its accept until it has
//! authenticated or left; while `nclients_unauth_max` of them are waiting
//! the server accepts no one (`virNetServerCheckLimits`).

use parking_lot::Mutex;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use tokio::sync::Notify;

/// `virClientTransport`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Unix = 0,
    Tcp = 1,
    Tls = 2,
}

/// The peer of a unix socket (`SO_PEERCRED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerCred {
    pub uid: u32,
    pub gid: u32,
    pub pid: Option<i32>,
}

/// One connected client.
#[derive(Debug)]
pub struct ClientEntry {
    pub id: u64,
    /// Seconds since the epoch when it connected.
    pub timestamp: i64,
    pub transport: Transport,
    /// `ADDR:PORT` of a TCP peer.
    pub sock_addr: Option<String>,
    pub cred: Option<PeerCred>,
    /// Came in read-only, or opened its connection with VIR_CONNECT_RO
    /// (libvirtd's `virNetServerClientSetReadonly` in CONNECT_OPEN).
    readonly: AtomicBool,
    close: Notify,
    /// Counted in its server's `nclients_unauth`.
    awaiting_auth: AtomicBool,
    identity: Mutex<Identity>,
    registry: Weak<ClientRegistry>,
    /// [`NewClient::socket`], until the session lets the connection go.
    socket: Mutex<Option<std::os::fd::OwnedFd>>,
}

/// What the client proved about itself (libvirt's `virIdentity`, the
/// parts `virAdmClientGetInfo` shows besides the unix peer).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// The SASL user name, once SASL authentication succeeded.
    pub sasl_user_name: Option<String>,
    /// The DN of the TLS client's certificate, once it was checked.
    pub x509_dname: Option<String>,
}

impl ClientEntry {
    /// Bound the kernel's receive buffer of a TCP client's socket to
    /// `bytes` (Linux doubles it for its bookkeeping), ending its
    /// autotuning, which grows it to `tcp_rmem`'s maximum (32 MiB here)
    /// while the daemon holds back a stream's data: a tunnelled
    /// migration's bytes would wait there, out of QEMU's sight, and the
    /// guest stays paused until they drain. Other transports: nothing.
    pub fn limit_receive_buffer(&self, bytes: usize) {
        use nix::sys::socket::{setsockopt, sockopt};
        if let Some(sock) = &*self.socket.lock() {
            if let Err(e) = setsockopt(sock, sockopt::RcvBuf, &bytes) {
                tracing::debug!("cannot bound the client's receive buffer: {e}");
            }
        }
    }

    /// The session is over: close the duplicate, so that the connection
    /// ends with the session's own descriptor.
    pub fn release_socket(&self) {
        drop(self.socket.lock().take());
    }

    pub fn readonly(&self) -> bool {
        self.readonly.load(Ordering::Relaxed)
    }

    pub fn set_readonly(&self, readonly: bool) {
        self.readonly.store(readonly, Ordering::Relaxed);
    }

    /// Ask the client's session to close the connection now.
    pub fn close(&self) {
        // A stored permit: the session sees it even if it is not waiting yet.
        self.close.notify_one();
    }

    /// Resolves when [`ClientEntry::close`] has been called.
    pub async fn closed(&self) {
        self.close.notified().await
    }

    pub fn identity(&self) -> Identity {
        self.identity.lock().clone()
    }

    pub fn set_x509_dname(&self, dn: Option<String>) {
        self.identity.lock().x509_dname = dn;
    }

    /// The client authenticated (as `sasl_user_name`, for SASL): it no
    /// longer counts as unauthenticated (`virNetServerSetClientAuthenticated`).
    pub fn authenticated(&self, sasl_user_name: Option<String>) {
        if sasl_user_name.is_some() {
            self.identity.lock().sasl_user_name = sasl_user_name;
        }
        self.stop_awaiting_auth();
    }

    fn stop_awaiting_auth(&self) {
        if !self.awaiting_auth.swap(false, Ordering::AcqRel) {
            return;
        }
        if let Some(registry) = self.registry.upgrade() {
            registry.unauth.fetch_sub(1, Ordering::AcqRel);
            registry.room.notify_waiters();
        }
    }
}

/// What a new client brings.
pub struct NewClient {
    pub transport: Transport,
    pub sock_addr: Option<String>,
    pub cred: Option<PeerCred>,
    pub readonly: bool,
    /// Its listener asks for authentication (SASL).
    pub needs_auth: bool,
    /// A duplicate of a TCP client's socket (under TLS too), to bound its
    /// kernel buffers while a tunnelled migration streams in.
    pub socket: Option<std::os::fd::OwnedFd>,
}

/// One server's clients and limits.
#[derive(Debug)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientEntry>>>,
    max_clients: AtomicUsize,
    max_unauth: AtomicUsize,
    /// Clients not yet authenticated (`nclients_unauth`).
    unauth: AtomicUsize,
    /// Signalled when a client leaves or the limits change: the accept
    /// loops wait on it while the server is full.
    room: Notify,
}

/// A client's place in the registry; leaving it (the session ending)
/// removes the client.
pub struct Registration {
    pub entry: Arc<ClientEntry>,
    registry: Arc<ClientRegistry>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.entry.id);
        self.entry.release_socket();
        self.entry.stop_awaiting_auth();
        self.registry.room.notify_waiters();
    }
}

impl ClientRegistry {
    pub fn new(max_clients: usize, max_unauth: usize) -> Arc<ClientRegistry> {
        Arc::new(ClientRegistry {
            next_id: AtomicU64::new(1),
            clients: Mutex::new(BTreeMap::new()),
            max_clients: AtomicUsize::new(max_clients),
            max_unauth: AtomicUsize::new(max_unauth),
            unauth: AtomicUsize::new(0),
            room: Notify::new(),
        })
    }

    fn lock(&self) -> parking_lot::MutexGuard<'_, BTreeMap<u64, Arc<ClientEntry>>> {
        self.clients.lock()
    }

    /// Admit a client, or `None` when the server already has
    /// `nclients_max` (checked and inserted under one lock).
    pub fn register(self: &Arc<Self>, new: NewClient) -> Option<Registration> {
        let mut clients = self.lock();
        if clients.len() >= self.max_clients() {
            return None;
        }
        let entry = Arc::new(ClientEntry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            timestamp: now(),
            transport: new.transport,
            sock_addr: new.sock_addr,
            cred: new.cred,
            readonly: AtomicBool::new(new.readonly),
            close: Notify::new(),
            awaiting_auth: AtomicBool::new(new.needs_auth),
            identity: Mutex::new(Identity::default()),
            registry: Arc::downgrade(self),
            socket: Mutex::new(new.socket),
        });
        if new.needs_auth {
            self.unauth.fetch_add(1, Ordering::AcqRel);
        }
        clients.insert(entry.id, entry.clone());
        Some(Registration {
            entry,
            registry: self.clone(),
        })
    }

    /// Resolves once the server has room for one more client: fewer than
    /// `nclients_max` clients, and fewer than `nclients_unauth_max` (when
    /// not 0) still authenticating. Until then the accept loops wait here,
    /// so new connections stay in the listen backlog as libvirtd's
    /// suspended services leave them (`virNetServerCheckLimits`), instead
    /// of being accepted and dropped.
    pub async fn wait_for_room(&self) {
        let mut suspended = false;
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if self.has_room() {
                if suspended {
                    tracing::info!("Re-enabling services");
                }
                return;
            }
            if !suspended {
                tracing::info!("Temporarily suspending services");
                suspended = true;
            }
            room.await;
        }
    }

    fn has_room(&self) -> bool {
        let max_unauth = self.max_unauth();
        self.count() < self.max_clients() && (max_unauth == 0 || self.unauth() < max_unauth)
    }

    /// Clients still authenticating (`nclients_unauth`).
    pub fn unauth(&self) -> usize {
        self.unauth.load(Ordering::Acquire)
    }

    /// The clients, by id.
    pub fn list(&self) -> Vec<Arc<ClientEntry>> {
        self.lock().values().cloned().collect()
    }

    /// `virNetServerGetClient`.
    pub fn get(&self, id: u64) -> Result<Arc<ClientEntry>> {
        self.lock().get(&id).cloned().ok_or_else(|| {
            Error::new(
                ErrorDomain::RPC,
                ErrorCode::NO_CLIENT,
                format!("No client with matching ID '{id}'"),
            )
        })
    }

    pub fn count(&self) -> usize {
        self.lock().len()
    }

    pub fn max_clients(&self) -> usize {
        self.max_clients.load(Ordering::Relaxed)
    }

    pub fn max_unauth(&self) -> usize {
        self.max_unauth.load(Ordering::Relaxed)
    }

    /// `virNetServerSetClientLimits`: `None` keeps a limit.
    pub fn set_limits(&self, max: Option<usize>, max_unauth: Option<usize>) -> Result<()> {
        let _held = self.lock();
        let new_max = max.unwrap_or_else(|| self.max_clients());
        let new_unauth = max_unauth.unwrap_or_else(|| self.max_unauth());
        if new_max < new_unauth {
            return Err(Error::new(
                ErrorDomain::RPC,
                ErrorCode::INVALID_ARG,
                "The overall maximum number of clients waiting for authentication \
                 must not be less than the overall maximum number of clients",
            ));
        }
        self.max_clients.store(new_max, Ordering::Relaxed);
        self.max_unauth.store(new_unauth, Ordering::Relaxed);
        self.room.notify_waiters();
        Ok(())
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The credentials of a unix peer, if the kernel gives them.
pub fn unix_peer(stream: &tokio::net::UnixStream) -> Option<PeerCred> {
    let cred = stream.peer_cred().ok()?;
    Some(PeerCred {
        uid: cred.uid(),
        gid: cred.gid(),
        pid: cred.pid(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix() -> NewClient {
        NewClient {
            transport: Transport::Unix,
            sock_addr: None,
            cred: None,
            readonly: false,
            needs_auth: false,
            socket: None,
        }
    }

    #[test]
    fn ids_count_up_and_limits_apply_live() {
        let reg = ClientRegistry::new(2, 1);
        let a = reg.register(unix()).expect("first");
        let b = reg.register(unix()).expect("second");
        assert_eq!((a.entry.id, b.entry.id), (1, 2));
        assert!(reg.register(unix()).is_none(), "nclients_max reached");
        drop(a);
        assert_eq!(reg.count(), 1);
        let c = reg.register(unix()).expect("a slot again");
        assert_eq!(c.entry.id, 3, "ids are never reused");
        assert_eq!(reg.get(7).unwrap_err().code, ErrorCode::NO_CLIENT);
        assert!(reg.set_limits(Some(0), None).is_err(), "below unauth max");
        reg.set_limits(Some(3), None).unwrap();
        assert!(reg.register(unix()).is_some());
    }

    fn sasl() -> NewClient {
        NewClient {
            needs_auth: true,
            ..unix()
        }
    }

    #[tokio::test]
    async fn unauthenticated_clients_hold_the_door_until_they_authenticate_or_leave() {
        let reg = ClientRegistry::new(10, 1);
        let room = || async { reg.wait_for_room().await };
        let first = reg.register(sasl()).expect("first");
        assert_eq!(reg.unauth(), 1);
        let wait = tokio::time::timeout(std::time::Duration::from_millis(50), room());
        assert!(wait.await.is_err(), "no room while one is authenticating");
        first.entry.authenticated(Some("fred".into()));
        first.entry.authenticated(Some("fred".into()));
        assert_eq!(reg.unauth(), 0, "counted down once");
        assert_eq!(
            first.entry.identity().sasl_user_name.as_deref(),
            Some("fred")
        );
        room().await;
        let second = reg.register(sasl()).expect("second");
        assert_eq!(reg.unauth(), 1);
        drop(second);
        assert_eq!(reg.unauth(), 0, "leaving counts down too");
        reg.set_limits(None, Some(0)).unwrap();
        let _third = reg.register(sasl()).expect("third");
        room().await;
    }

    #[test]
    fn a_tcp_clients_receive_buffer_is_bounded_until_the_session_ends() {
        use nix::sys::socket::{getsockopt, sockopt};
        use std::io::Read;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, _) = listener.accept().unwrap();
        let reg = ClientRegistry::new(2, 1);
        let client = reg
            .register(NewClient {
                transport: Transport::Tcp,
                socket: Some(
                    std::os::fd::AsFd::as_fd(&ours)
                        .try_clone_to_owned()
                        .unwrap(),
                ),
                ..unix()
            })
            .unwrap();
        client.entry.limit_receive_buffer(256 * 1024);
        // Linux doubles what it is given, for its own bookkeeping.
        assert_eq!(getsockopt(&ours, sockopt::RcvBuf).unwrap(), 512 * 1024);
        // The session's own descriptor closes: with the duplicate released
        // the peer sees the end of the connection.
        drop(ours);
        client.entry.release_socket();
        client.entry.limit_receive_buffer(4096);
        let mut rest = Vec::new();
        assert_eq!(peer.read_to_end(&mut rest).unwrap(), 0);
    }
}
