//! The listeners: `libvirt-sock` (read-write) and `libvirt-sock-ro` in
//! `unix_sock_dir`, and with `--listen` plain TCP on `listen_addr:tcp_port`.
//! Clients beyond `max_clients` are dropped on arrival, as libvirtd's
//! `virNetServerDispatchNewClient` does; connections not yet accepted wait
//! in a listen backlog of `max_queued_clients`. On shutdown the accept
//! loops stop, every session ends and the sockets are removed.

use crate::config::Config;
use crate::pool::WorkerPool;
use crate::session::{serve, SessionConfig};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// `libvirt-sock`.
pub const SOCK_RW: &str = "libvirt-sock";
/// `libvirt-sock-ro`.
pub const SOCK_RO: &str = "libvirt-sock-ro";

/// The bound listeners, before any client is served.
pub struct Server {
    unix: Vec<(UnixListener, bool, PathBuf)>,
    tcp: Option<TcpListener>,
    session: Arc<SessionConfig>,
    max_clients: usize,
}

impl Server {
    /// Bind everything the configuration asks for (inside a runtime).
    pub async fn bind(cfg: &Config, listen: bool) -> Result<Server, String> {
        std::fs::create_dir_all(&cfg.unix_sock_dir).map_err(|e| {
            format!(
                "Failed to create directory '{}': {}",
                cfg.unix_sock_dir.display(),
                rvirt_util::error::strerror(&e)
            )
        })?;
        let mut unix = Vec::new();
        for (name, readonly, perms) in [
            (SOCK_RW, false, cfg.unix_sock_rw_perms),
            (SOCK_RO, true, cfg.unix_sock_ro_perms),
        ] {
            let path = cfg.unix_sock_dir.join(name);
            let listener = bind_unix(&path, perms, cfg.unix_sock_group.as_deref())?;
            set_backlog(&listener, cfg.max_queued_clients)?;
            tracing::info!(path = %path.display(), readonly, "listening");
            unix.push((listener, readonly, path));
        }
        let tcp = if listen && cfg.listen_tcp {
            let host = cfg.listen_addr.as_deref().unwrap_or("0.0.0.0");
            let addr = if host.contains(':') {
                format!("[{host}]:{}", cfg.tcp_port)
            } else {
                format!("{host}:{}", cfg.tcp_port)
            };
            let l = TcpListener::bind(&addr).await.map_err(|e| {
                format!(
                    "Unable to bind to {addr}: {}",
                    rvirt_util::error::strerror(&e)
                )
            })?;
            set_backlog(&l, cfg.max_queued_clients)?;
            tracing::info!(%addr, "listening on TCP");
            Some(l)
        } else {
            None
        };
        Ok(Server {
            unix,
            tcp,
            session: Arc::new(SessionConfig {
                default_uri: cfg.default_uri.clone(),
                keepalive_interval: cfg.keepalive_interval,
                keepalive_count: cfg.keepalive_count,
                pool: WorkerPool::new(cfg.max_workers, cfg.prio_workers),
                max_client_requests: cfg.max_client_requests,
                max_client_queued_bytes: cfg.max_client_queued_bytes,
                max_client_streams: cfg.max_client_streams,
            }),
            max_clients: cfg.max_clients,
        })
    }

    /// The TCP port actually bound (useful with tcp_port = "0").
    pub fn tcp_port(&self) -> Option<u16> {
        self.tcp
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.port())
    }

    /// Serve until `shutdown` resolves; then end every session and remove
    /// the sockets.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let limit = Arc::new(Semaphore::new(self.max_clients));
        let mut tasks = JoinSet::new();
        let mut paths = Vec::new();
        for (listener, readonly, path) in self.unix {
            paths.push(path);
            let ctx = Accept {
                limit: limit.clone(),
                max: self.max_clients,
                session: self.session.clone(),
                stop: stop_rx.clone(),
            };
            tasks.spawn(accept_unix(listener, readonly, ctx));
        }
        if let Some(listener) = self.tcp {
            let ctx = Accept {
                limit: limit.clone(),
                max: self.max_clients,
                session: self.session.clone(),
                stop: stop_rx.clone(),
            };
            tasks.spawn(accept_tcp(listener, ctx));
        }
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(3), async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        for path in paths {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// `listen(2)` again with libvirtd's `max_queued_clients` as the backlog
/// (Linux takes a new backlog on a listening socket; the kernel caps it at
/// net.core.somaxconn).
fn set_backlog(listener: &impl std::os::fd::AsFd, queued: u32) -> Result<(), String> {
    use nix::sys::socket::{listen, Backlog};
    let backlog = i32::try_from(queued)
        .ok()
        .and_then(|n| Backlog::new(n).ok())
        .unwrap_or(Backlog::MAXCONN);
    listen(listener, backlog).map_err(|e| format!("Unable to listen on socket: {}", e.desc()))
}

fn bind_unix(path: &Path, perms: u32, group: Option<&str>) -> Result<UnixListener, String> {
    // A socket left by a daemon that died is replaced, as libvirtd does.
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(format!(
                "Failed to remove stale socket '{}': {}",
                path.display(),
                rvirt_util::error::strerror(&e)
            ))
        }
    }
    let listener = UnixListener::bind(path).map_err(|e| {
        format!(
            "Failed to bind socket to '{}': {}",
            path.display(),
            rvirt_util::error::strerror(&e)
        )
    })?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(perms))
        .map_err(|e| format!("Failed to set permissions on '{}': {e}", path.display()))?;
    if let Some(name) = group {
        let gid = match nix::unistd::Group::from_name(name) {
            Ok(Some(g)) => g.gid,
            _ => match name.parse::<u32>() {
                Ok(n) => nix::unistd::Gid::from_raw(n),
                Err(_) => return Err(format!("Failed to parse group '{name}'")),
            },
        };
        nix::unistd::chown(path, None, Some(gid))
            .map_err(|e| format!("Failed to change group of '{}': {e}", path.display()))?;
    }
    Ok(listener)
}

struct Accept {
    limit: Arc<Semaphore>,
    max: usize,
    session: Arc<SessionConfig>,
    stop: watch::Receiver<bool>,
}

impl Accept {
    /// A slot for one more client, or None (and a warning) when full.
    fn admit(&self, peer: &str) -> Option<OwnedSemaphorePermit> {
        match self.limit.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) => {
                tracing::error!(
                    "Too many active clients ({}), dropping connection from {peer}",
                    self.max
                );
                None
            }
        }
    }

    fn start<S>(&self, stream: S, readonly: bool, peer: String, permit: OwnedSemaphorePermit)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    {
        let session = self.session.clone();
        let stop = self.stop.clone();
        tokio::spawn(async move {
            serve(stream, readonly, peer, session, stop).await;
            drop(permit);
        });
    }
}

async fn accept_unix(listener: UnixListener, readonly: bool, mut ctx: Accept) {
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    let peer = format!("unix:{}", if readonly { SOCK_RO } else { SOCK_RW });
                    if let Some(permit) = ctx.admit(&peer) {
                        ctx.start(stream, readonly, peer, permit);
                    }
                }
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            _ = ctx.stop.changed() => return,
        }
    }
}

async fn accept_tcp(listener: TcpListener, mut ctx: Accept) {
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, addr)) => {
                    let peer = addr.to_string();
                    let _ = stream.set_nodelay(true);
                    if let Some(permit) = ctx.admit(&peer) {
                        ctx.start(stream, false, peer, permit);
                    }
                }
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            _ = ctx.stop.changed() => return,
        }
    }
}
