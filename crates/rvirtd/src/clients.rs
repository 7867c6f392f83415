//! A server's clients, as libvirtd's `virNetServer` keeps them: each gets
//! the next id of its server (from 1, `next_client_id`), its connect time,
//! transport and peer, and a handle the admin program closes it by
//! (`virAdmClientClose`). The REMOTE sessions and the ADMIN sessions each
//! register with their own server's registry; the admin program reads both.
//!
//! The registry also holds the server's client limits (`nclients_max`,
//! `nclients_unauth_max`), which `virAdmServerSetClientLimits` changes
//! while the daemon runs: a client arriving past `nclients_max` is dropped.

use parking_lot::Mutex;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
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
}

impl ClientEntry {
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
}

/// What a new client brings.
pub struct NewClient {
    pub transport: Transport,
    pub sock_addr: Option<String>,
    pub cred: Option<PeerCred>,
    pub readonly: bool,
}

/// One server's clients and limits.
#[derive(Debug)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientEntry>>>,
    max_clients: AtomicUsize,
    max_unauth: AtomicUsize,
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
        });
        clients.insert(entry.id, entry.clone());
        Some(Registration {
            entry,
            registry: self.clone(),
        })
    }

    /// Resolves once the server has room for one more client. While it is
    /// full the accept loops wait here, so new connections stay in the
    /// listen backlog as libvirtd's suspended services leave them
    /// (`virNetServerCheckLimits`), instead of being accepted and dropped.
    pub async fn wait_for_room(&self) {
        let mut suspended = false;
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if self.count() < self.max_clients() {
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
}
