//! The ADMIN program (0x06900690), virt-admin's, on `libvirt-admin-sock`:
//! libvirtd's `virNetDaemon` seen from outside. The daemon has two
//! servers, as libvirtd does: "libvirtd" (the REMOTE and QEMU programs on
//! `libvirt-sock`, `libvirt-sock-ro` and TCP) and "admin" (this program);
//! each has its clients ([`ClientRegistry`]) and its worker pool
//! ([`WorkerPool`]), which the admin procedures list, inspect, close and
//! resize while the daemon runs. Logging filters and outputs are the
//! process's ([`LogControl`]).
//!
//! [`procs`] holds the procedure table (admin_server_dispatch.c,
//! admin_server.c), [`session`] serves one admin connection.

pub mod procs;
pub mod session;

use crate::clients::ClientRegistry;
use crate::pool::WorkerPool;
use rvirt_util::logging::LogControl;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// `libvirt-admin-sock`.
pub const SOCK_ADMIN: &str = "libvirt-admin-sock";

/// One `virNetServer`: its name, clients and workers.
pub struct ServerState {
    pub name: &'static str,
    pub clients: Arc<ClientRegistry>,
    pub pool: Arc<WorkerPool>,
    /// Its TLS listener's credentials, if it has one.
    pub tls: Option<Arc<crate::tls::TlsService>>,
}

/// What the admin program manages (libvirtd's `virNetDaemon`).
pub struct DaemonState {
    /// "libvirtd" then "admin", in libvirtd's order.
    pub servers: Vec<Arc<ServerState>>,
    /// The process's logging, when rvirtd installed it reloadably.
    pub log: Option<Arc<LogControl>>,
    /// `virAdmConnectSetDaemonTimeout`: seconds without clients after
    /// which the daemon stops; 0 never.
    timeout: AtomicU32,
}

impl DaemonState {
    pub fn new(servers: Vec<Arc<ServerState>>, log: Option<Arc<LogControl>>) -> DaemonState {
        DaemonState {
            servers,
            log,
            timeout: AtomicU32::new(0),
        }
    }

    /// `virNetDaemonGetServer`.
    pub fn server(&self, name: &str) -> Result<&Arc<ServerState>> {
        self.servers.iter().find(|s| s.name == name).ok_or_else(|| {
            Error::new(
                ErrorDomain::RPC,
                ErrorCode::NO_SERVER,
                format!("No server named '{name}'"),
            )
        })
    }

    /// Clients on every server (`virNetDaemonHasClients`).
    pub fn client_count(&self) -> usize {
        self.servers.iter().map(|s| s.clients.count()).sum()
    }

    pub fn set_timeout(&self, seconds: u32) {
        self.timeout.store(seconds, Ordering::Relaxed);
    }

    pub fn timeout(&self) -> u32 {
        self.timeout.load(Ordering::Relaxed)
    }

    /// Resolves once the daemon has had no client for the timeout set by
    /// `virAdmConnectSetDaemonTimeout` (`virNetDaemonAutoShutdownTimer`);
    /// never while no timeout is set.
    pub async fn idle_timeout(&self) {
        let tick = std::time::Duration::from_millis(250);
        let mut idle_since: Option<std::time::Instant> = None;
        loop {
            tokio::time::sleep(tick).await;
            let timeout = self.timeout();
            if timeout == 0 || self.client_count() > 0 {
                idle_since = None;
                continue;
            }
            let since = *idle_since.get_or_insert_with(std::time::Instant::now);
            if since.elapsed().as_secs() >= u64::from(timeout) {
                tracing::info!("no clients for {timeout} s: shutting down");
                return;
            }
        }
    }
}
