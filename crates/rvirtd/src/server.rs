//! The listeners: `libvirt-sock` (read-write) and `libvirt-sock-ro` in
//! `unix_sock_dir`, and with `--listen` plain TCP on `listen_addr:tcp_port`
//! and TLS on `listen_addr:tls_port` ([`crate::tls`]), for the "libvirtd"
//! server; `libvirt-admin-sock` (0700 by default) for
//! the "admin" server. Each server has its client list and worker pool
//! ([`ServerState`]), shared with the admin program. While a server has
//! `max_clients` (changeable at run time) it stops accepting, as libvirtd
//! suspends its services: new connections wait in a listen backlog of
//! `max_queued_clients` until a client leaves. One that still slips in
//! past the limit (two listeners racing) is dropped, as libvirtd's
//! `virNetServerDispatchNewClient` does. On shutdown
//! (a signal, or the admin program's daemon timeout with no clients) the
//! accept loops stop, every session ends and the sockets are removed.

use crate::admin::session::AdminSession;
use crate::admin::{DaemonState, ServerState, SOCK_ADMIN};
use crate::auth::{ChannelInfo, ClientAuth, ListenerAuth, Method};
use crate::clients::{unix_peer, ClientRegistry, NewClient, Registration, Transport};
use crate::config::Config;
use crate::pool::WorkerPool;
use crate::session::{serve, SessionConfig};
use crate::tls::TlsService;
use rvirt_util::logging::LogControl;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// `libvirt-sock`.
pub const SOCK_RW: &str = "libvirt-sock";
/// `libvirt-sock-ro`.
pub const SOCK_RO: &str = "libvirt-sock-ro";

/// The bound listeners, before any client is served.
pub struct Server {
    unix: Vec<(UnixClients, PathBuf)>,
    tcp: Option<(TcpListener, ListenerAuth)>,
    tls: Option<(TlsClients, ListenerAuth)>,
    admin: (UnixListener, PathBuf),
    session: Arc<SessionConfig>,
    servers: Vec<Arc<ServerState>>,
    admin_max_client_requests: usize,
    log: Option<Arc<LogControl>>,
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
        let sasl = sasl_context(cfg, listen)?;
        let auth = |s: &str| ListenerAuth {
            method: Method::from_config(s),
            sasl: sasl.clone(),
        };
        let gid = unix_sock_gid(cfg.unix_sock_group.as_deref())?;
        let mut unix = Vec::new();
        for (name, readonly, perms, method) in [
            (SOCK_RW, false, cfg.unix_sock_rw_perms, &cfg.auth_unix_rw),
            (SOCK_RO, true, cfg.unix_sock_ro_perms, &cfg.auth_unix_ro),
        ] {
            let path = cfg.unix_sock_dir.join(name);
            let listener = bind_unix(&path, perms, gid)?;
            set_backlog(&listener, cfg.max_queued_clients)?;
            tracing::info!(path = %path.display(), readonly, auth = method, "listening");
            let auth = auth(method);
            unix.push((
                UnixClients {
                    listener,
                    readonly,
                    auth,
                },
                path,
            ));
        }
        // TLS before TCP: whoever sees the TCP port answer (the test kit
        // waits on it) finds the TLS port bound too.
        let tls = if listen && cfg.tls.listen_tls {
            // The credentials first, as libvirtd builds its TLS context
            // before it registers the socket.
            let tls = cfg.tls.service()?;
            let listener = bind_tcp(cfg, &cfg.tls.tls_port, "TLS").await?;
            Some((TlsClients { listener, tls }, auth(&cfg.tls.auth_tls)))
        } else {
            None
        };
        let tcp = if listen && cfg.listen_tcp {
            let l = bind_tcp(cfg, &cfg.tcp_port, "TCP").await?;
            Some((l, auth(&cfg.auth_tcp)))
        } else {
            None
        };
        let admin_path = cfg.unix_sock_dir.join(SOCK_ADMIN);
        let admin = bind_unix(&admin_path, cfg.admin.sock_perms, gid)?;
        set_backlog(&admin, cfg.admin.max_queued_clients)?;
        let service = tls.as_ref().map(|(t, _): &(TlsClients, _)| t.tls.clone());
        let (main, admin_srv) = server_states(cfg, service);
        Ok(Server {
            unix,
            tcp,
            tls,
            admin: (admin, admin_path),
            session: Arc::new(SessionConfig {
                default_uri: cfg.default_uri.clone(),
                keepalive_interval: cfg.keepalive_interval,
                keepalive_count: cfg.keepalive_count,
                pool: main.pool.clone(),
                max_client_requests: cfg.max_client_requests,
                max_client_queued_bytes: cfg.max_client_queued_bytes,
                max_client_streams: cfg.max_client_streams,
            }),
            servers: vec![main, admin_srv],
            admin_max_client_requests: cfg.admin.max_client_requests,
            log: None,
        })
    }

    /// Let the admin program read and change the process's logging.
    pub fn with_logging(mut self, log: Arc<LogControl>) -> Server {
        self.log = Some(log);
        self
    }

    /// The TCP port actually bound (useful with tcp_port = "0").
    pub fn tcp_port(&self) -> Option<u16> {
        self.tcp
            .as_ref()
            .and_then(|(l, _)| l.local_addr().ok())
            .map(|a| a.port())
    }

    /// The TLS port actually bound (useful with tls_port = "0").
    pub fn tls_port(&self) -> Option<u16> {
        self.tls
            .as_ref()
            .and_then(|(t, _)| t.listener.local_addr().ok())
            .map(|a| a.port())
    }

    /// Serve until `shutdown` resolves (or the daemon timeout set through
    /// the admin program passes without clients); then end every session
    /// and remove the sockets.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let daemon = Arc::new(DaemonState::new(self.servers.clone(), self.log.clone()));
        let main = self.servers[0].clone();
        let mut tasks = JoinSet::new();
        let mut paths = Vec::new();
        let accept = |auth: ListenerAuth| Accept {
            clients: main.clients.clone(),
            session: self.session.clone(),
            stop: stop_rx.clone(),
            auth,
        };
        for (listener, path) in self.unix {
            paths.push(path);
            let ctx = accept(listener.auth.clone());
            tasks.spawn(accept_clients(listener, ctx));
        }
        if let Some((listener, auth)) = self.tcp {
            tasks.spawn(accept_clients(listener, accept(auth)));
        }
        if let Some((listener, auth)) = self.tls {
            tasks.spawn(accept_clients(listener, accept(auth)));
        }
        let (admin_listener, admin_path) = self.admin;
        paths.push(admin_path);
        let admin = Arc::new(AdminSession {
            daemon: daemon.clone(),
            server: self.servers[1].clone(),
            max_client_requests: self.admin_max_client_requests,
        });
        tasks.spawn(accept_admin(admin_listener, admin, stop_rx.clone()));
        tokio::select! {
            _ = shutdown => {}
            _ = daemon.idle_timeout() => {}
        }
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

/// The "libvirtd" and "admin" servers, with libvirtd's settings for each
/// (the admin server has no priority workers, no anonymous clients and no
/// TLS).
fn server_states(
    cfg: &Config,
    tls: Option<Arc<TlsService>>,
) -> (Arc<ServerState>, Arc<ServerState>) {
    let main = ServerState {
        name: "libvirtd",
        tls,
        clients: ClientRegistry::new(cfg.max_clients, cfg.max_anonymous_clients),
        pool: Arc::new(WorkerPool::new(
            cfg.min_workers,
            cfg.max_workers,
            cfg.prio_workers,
        )),
    };
    let admin = ServerState {
        name: "admin",
        tls: None,
        clients: ClientRegistry::new(cfg.admin.max_clients, 0),
        pool: Arc::new(WorkerPool::new(
            cfg.admin.min_workers,
            cfg.admin.max_workers,
            0,
        )),
    };
    (Arc::new(main), Arc::new(admin))
}

/// Bind `listen_addr:port` for the TCP or the TLS socket.
async fn bind_tcp(cfg: &Config, port: &str, what: &str) -> Result<TcpListener, String> {
    let host = cfg.listen_addr.as_deref().unwrap_or("0.0.0.0");
    let addr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let l = TcpListener::bind(&addr).await.map_err(|e| {
        format!(
            "Unable to bind to {addr}: {}",
            rvirt_util::error::strerror(&e)
        )
    })?;
    set_backlog(&l, cfg.max_queued_clients)?;
    tracing::info!(%addr, "listening on {what}");
    Ok(l)
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

/// The SASL context, when a listener that will run uses SASL
/// (`virNetSASLContextNewServer`, made before any socket as libvirtd does).
fn sasl_context(
    cfg: &Config,
    listen: bool,
) -> Result<Option<Arc<rvirt_driver_remote::sasl::server::ServerContext>>, String> {
    let mut methods = vec![&cfg.auth_unix_rw, &cfg.auth_unix_ro];
    if listen && cfg.tls.listen_tls {
        methods.push(&cfg.tls.auth_tls);
    }
    if !methods.iter().any(|m| *m == "sasl") {
        return Ok(None);
    }
    let acl = cfg.sasl_allowed_username_list.clone();
    rvirt_driver_remote::sasl::server::ServerContext::new(acl)
        .map(|c| Some(Arc::new(c)))
        .map_err(|e| e.message)
}

/// `unix_sock_group` as a gid (`virGetGroupID`: a name, or a number).
fn unix_sock_gid(group: Option<&str>) -> Result<Option<nix::unistd::Gid>, String> {
    let Some(name) = group else { return Ok(None) };
    match nix::unistd::Group::from_name(name) {
        Ok(Some(g)) => Ok(Some(g.gid)),
        _ => name
            .parse::<u32>()
            .map(|n| Some(nix::unistd::Gid::from_raw(n)))
            .map_err(|_| format!("Failed to parse group '{name}'")),
    }
}

/// Bind a UNIX socket with libvirt's mode and group
/// (`virNetSocketNewListenUNIX`: made under `umask(~mask)`, then chown'd).
fn bind_unix(
    path: &Path,
    perms: u32,
    gid: Option<nix::unistd::Gid>,
) -> Result<UnixListener, String> {
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
    if let Some(gid) = gid {
        nix::unistd::chown(path, None, Some(gid))
            .map_err(|e| format!("Failed to change group of '{}': {e}", path.display()))?;
    }
    Ok(listener)
}

struct Accept {
    clients: Arc<ClientRegistry>,
    session: Arc<SessionConfig>,
    stop: watch::Receiver<bool>,
    /// How this listener's clients authenticate.
    auth: ListenerAuth,
}

impl Accept {
    /// A place for one more client, or None (and libvirtd's error) when
    /// the server is full.
    fn admit(&self, peer: &str, mut new: NewClient) -> Option<Registration> {
        new.needs_auth = self.auth.method != Method::None;
        let reg = self.clients.register(new);
        if reg.is_none() {
            tracing::error!(
                "Too many active clients ({}), dropping connection from {peer}",
                self.clients.max_clients()
            );
        }
        reg
    }

    /// Serve the client once its transport is secured (the TLS handshake
    /// and certificate check run in the client's task, not in the accept
    /// loop); a refused client gives its place back.
    fn start<F, S>(&self, secure: F, peer: String, reg: Registration, mut channel: ChannelInfo)
    where
        F: std::future::Future<Output = Option<Secured<S>>> + Send + 'static,
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    {
        let session = self.session.clone();
        let stop = self.stop.clone();
        let listener_auth = self.auth.clone();
        tokio::spawn(async move {
            if let Some(secured) = secure.await {
                channel.tls_bits = secured.tls_bits;
                reg.entry.set_x509_dname(secured.x509_dname);
                let auth = ClientAuth::new(&listener_auth, channel);
                let fd = secured.splice_fd;
                serve(secured.stream, reg, peer, session, stop, auth, fd).await;
            }
        });
    }
}

/// A client's transport once secured: the TLS session with its cipher's
/// key size in bits and the DN of the client's certificate, or the stream
/// itself.
struct Secured<S> {
    stream: S,
    tls_bits: Option<u32>,
    x509_dname: Option<String>,
    /// A duplicate of a plain socket's descriptor, for splicing stream
    /// data out of it (kept open by a pump that still uses it).
    splice_fd: Option<Arc<OwnedFd>>,
}

impl<S: AsFd> Secured<S> {
    fn plain(stream: S) -> Secured<S> {
        let splice_fd = stream.as_fd().try_clone_to_owned().ok().map(Arc::new);
        Secured {
            stream,
            tls_bits: None,
            x509_dname: None,
            splice_fd,
        }
    }
}

/// A listening socket of the server: what it yields is a client's stream,
/// the peer's name in log lines and what the client registry records;
/// `secure` turns the stream into what the session reads, None when the
/// client is refused.
trait ClientListener: Send + Sync + 'static {
    type Stream: Send + 'static;
    type Secure: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static;
    fn next_client(
        &self,
    ) -> impl std::future::Future<Output = std::io::Result<Accepted<Self::Stream>>> + Send;
    fn secure(
        &self,
        stream: Self::Stream,
        peer: &str,
    ) -> impl std::future::Future<Output = Option<Secured<Self::Secure>>> + Send + 'static;
}

/// A new connection: its stream, the peer's name, what the client list
/// records and what SASL is told about the channel.
type Accepted<S> = (S, String, NewClient, ChannelInfo);

/// The read-write or the read-only UNIX socket.
struct UnixClients {
    listener: UnixListener,
    readonly: bool,
    auth: ListenerAuth,
}

impl ClientListener for UnixClients {
    type Stream = tokio::net::UnixStream;
    type Secure = tokio::net::UnixStream;
    fn secure(
        &self,
        s: UnixStream,
        _: &str,
    ) -> impl std::future::Future<Output = Option<Secured<UnixStream>>> + Send + 'static {
        std::future::ready(Some(Secured::plain(s)))
    }
    async fn next_client(&self) -> std::io::Result<Accepted<UnixStream>> {
        let (stream, _) = self.listener.accept().await?;
        let sock = if self.readonly { SOCK_RO } else { SOCK_RW };
        let new = NewClient {
            transport: Transport::Unix,
            sock_addr: None,
            cred: unix_peer(&stream),
            readonly: self.readonly,
            needs_auth: false,
            socket: None,
        };
        Ok((stream, format!("unix:{sock}"), new, ChannelInfo::default()))
    }
}

impl ClientListener for TcpListener {
    type Stream = TcpStream;
    type Secure = TcpStream;
    async fn next_client(&self) -> std::io::Result<Accepted<TcpStream>> {
        accept_tcp(self, Transport::Tcp).await
    }
    fn secure(
        &self,
        s: TcpStream,
        _: &str,
    ) -> impl std::future::Future<Output = Option<Secured<TcpStream>>> + Send + 'static {
        std::future::ready(Some(Secured::plain(s)))
    }
}

async fn accept_tcp(l: &TcpListener, transport: Transport) -> std::io::Result<Accepted<TcpStream>> {
    let (stream, addr) = l.accept().await?;
    let channel = ChannelInfo {
        local: rvirt_driver_remote::sasl::sasl_addr(stream.local_addr().ok()),
        remote: rvirt_driver_remote::sasl::sasl_addr(Some(addr)),
        tls_bits: None,
    };
    let _ = stream.set_nodelay(true);
    let peer = addr.to_string();
    let new = NewClient {
        transport,
        sock_addr: Some(peer.clone()),
        cred: None,
        readonly: false,
        needs_auth: false,
        socket: std::os::fd::AsFd::as_fd(&stream).try_clone_to_owned().ok(),
    };
    Ok((stream, peer, new, channel))
}

/// The TLS socket: TCP, then the TLS session once the client's
/// certificate passed libvirt's checks, with the credentials in force
/// when the client connected.
struct TlsClients {
    listener: TcpListener,
    tls: Arc<TlsService>,
}

impl ClientListener for TlsClients {
    type Stream = TcpStream;
    type Secure = tokio_rustls::server::TlsStream<TcpStream>;
    async fn next_client(&self) -> std::io::Result<Accepted<TcpStream>> {
        accept_tcp(&self.listener, Transport::Tls).await
    }
    fn secure(
        &self,
        s: TcpStream,
        peer: &str,
    ) -> impl std::future::Future<Output = Option<Secured<Self::Secure>>> + Send + 'static {
        let secured = self.tls.current().secure(s, peer.to_string());
        async move {
            let (stream, x509_dname) = secured.await?;
            let suite = stream.get_ref().1.negotiated_cipher_suite();
            Some(Secured {
                stream,
                tls_bits: Some(rvirt_driver_remote::tls::cipher_key_bits(suite)),
                x509_dname,
                splice_fd: None,
            })
        }
    }
}

/// Serve every client the listener yields until the server stops.
async fn accept_clients<L: ClientListener>(listener: L, mut ctx: Accept) {
    loop {
        tokio::select! {
            _ = ctx.clients.wait_for_room() => {}
            _ = ctx.stop.changed() => return,
        }
        tokio::select! {
            r = listener.next_client() => match r {
                Ok((stream, peer, new, channel)) => {
                    if let Some(reg) = ctx.admit(&peer, new) {
                        ctx.start(listener.secure(stream, &peer), peer, reg, channel);
                    }
                }
                Err(e) => accept_failed(e).await,
            },
            _ = ctx.stop.changed() => return,
        }
    }
}

/// A failed accept (out of file descriptors, ...) is logged and retried
/// after a pause rather than spinning.
async fn accept_failed(e: std::io::Error) {
    tracing::warn!("accept failed: {e}");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
}

async fn accept_admin(
    listener: UnixListener,
    admin: Arc<AdminSession>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = admin.server.clients.wait_for_room() => {}
            _ = stop.changed() => return,
        }
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => admit_admin(stream, &admin, &stop),
                Err(e) => accept_failed(e).await,
            },
            _ = stop.changed() => return,
        }
    }
}

/// An admin client is served only when it runs as the daemon's own user
/// (`remoteAdmClientNew`) and the admin server has room for it.
fn admit_admin(stream: UnixStream, admin: &Arc<AdminSession>, stop: &watch::Receiver<bool>) {
    let cred = unix_peer(&stream);
    let euid = nix::unistd::geteuid().as_raw();
    if let Some(c) = cred.filter(|c| c.uid != euid) {
        tracing::error!(
            "Disallowing client {} with uid {}",
            c.pid.unwrap_or(-1),
            c.uid
        );
        return;
    }
    let new = NewClient {
        transport: Transport::Unix,
        sock_addr: None,
        cred,
        readonly: false,
        needs_auth: false,
        socket: None,
    };
    let Some(reg) = admin.server.clients.register(new) else {
        tracing::error!(
            "Too many active clients ({}), dropping connection from unix:{SOCK_ADMIN}",
            admin.server.clients.max_clients()
        );
        return;
    };
    tokio::spawn(admin.clone().serve(stream, reg, stop.clone()));
}
