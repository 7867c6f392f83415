//! The TLS listener's settings and its per-client step (libvirtd's
//! `listen_tls` socket): the daemon's [`TlsContext`] built as
//! `daemonSetupNetworking` builds it, and for each client the handshake,
//! libvirt's check of the client's certificate (`virNetServerClientCheckAccess`)
//! and the '\1' byte that tells the client it is accepted. A refused client
//! is logged and its connection closed without a word, as libvirtd does;
//! the client then reports "server verification (of our certificate or IP
//! address) failed".

use crate::config::{get_bool as boolean, get_string as string, Value};
use parking_lot::RwLock;
use rvirt_driver_remote::tls::{verify, CredentialPaths, Policy, TlsContext};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// The `tls_*` settings and credential paths of libvirtd.conf.
#[derive(Clone, Debug, PartialEq)]
pub struct TlsConfig {
    /// libvirtd's default: on whenever `--listen` is given.
    pub listen_tls: bool,
    pub tls_port: String,
    pub auth_tls: String,
    pub key_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    pub crl_file: Option<PathBuf>,
    pub no_verify_certificate: bool,
    pub no_sanity_certificate: bool,
    pub allowed_dn_list: Option<Vec<String>>,
    /// `tls_priority`: a GnuTLS priority string, mapped onto the versions,
    /// suites and groups rustls has (driver-remote's `tls::priority`); one
    /// GnuTLS would refuse stops the daemon at start.
    pub priority: Option<String>,
}

impl Default for TlsConfig {
    fn default() -> TlsConfig {
        TlsConfig {
            listen_tls: true,
            tls_port: "16514".into(),
            auth_tls: "none".into(),
            key_file: None,
            cert_file: None,
            ca_file: None,
            crl_file: None,
            no_verify_certificate: false,
            no_sanity_certificate: false,
            allowed_dn_list: None,
            priority: None,
        }
    }
}

/// `virConfGetValueStringList` without the single-string compatibility.
pub(crate) fn string_list(
    file: &str,
    key: &str,
    v: &Value,
) -> std::result::Result<Vec<String>, String> {
    let err = || format!("{file}: expected a string list for '{key}' parameter");
    match v {
        Value::List(items) => items
            .iter()
            .map(|i| match i {
                Value::Str(s) => Ok(s.clone()),
                _ => Err(err()),
            })
            .collect(),
        _ => Err(err()),
    }
}

impl TlsConfig {
    /// Take `key` if it is one of ours (Ok(false) otherwise).
    pub fn apply(&mut self, file: &str, key: &str, v: &Value) -> std::result::Result<bool, String> {
        let path = |v| string(file, key, v).map(|s| Some(PathBuf::from(s)));
        match key {
            "listen_tls" => self.listen_tls = boolean(file, key, v)?,
            "tls_port" => self.tls_port = string(file, key, v)?,
            "auth_tls" => {
                self.auth_tls = string(file, key, v)?;
                if !matches!(self.auth_tls.as_str(), "none" | "sasl" | "polkit") {
                    return Err(format!("{file}: {key}: unsupported auth {}", self.auth_tls));
                }
            }
            "key_file" => self.key_file = path(v)?,
            "cert_file" => self.cert_file = path(v)?,
            "ca_file" => self.ca_file = path(v)?,
            "crl_file" => self.crl_file = path(v)?,
            "tls_no_verify_certificate" => self.no_verify_certificate = boolean(file, key, v)?,
            "tls_no_sanity_certificate" => self.no_sanity_certificate = boolean(file, key, v)?,
            "tls_allowed_dn_list" => self.allowed_dn_list = Some(string_list(file, key, v)?),
            "tls_priority" => self.priority = Some(string(file, key, v)?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// What rvirtd cannot honour yet, refused before it listens.
    pub fn check_supported(&self) -> std::result::Result<(), String> {
        if self.tls_port.parse::<u16>().is_err() {
            return Err(format!("invalid tls_port '{}'", self.tls_port));
        }
        Ok(())
    }

    /// The credentials: the three explicit files (all or none, with
    /// libvirtd's errors) or libvirt's locations (`~/.pki/libvirt` first
    /// for an unprivileged daemon), located afresh on each load.
    fn paths(&self) -> Result<CredentialPaths> {
        let (ca, cert, key) = (&self.ca_file, &self.cert_file, &self.key_file);
        if ca.is_none() && cert.is_none() && key.is_none() {
            let unprivileged = !nix::unistd::geteuid().is_root();
            return Ok(CredentialPaths::locate(None, unprivileged, true));
        }
        let missing =
            |what: &str| Error::new(ErrorDomain::RPC, ErrorCode::CONFIG_UNSUPPORTED, what);
        Ok(CredentialPaths {
            cacert: ca
                .clone()
                .ok_or_else(|| missing("No CA certificate path set to match server key/cert"))?,
            cert: cert
                .clone()
                .ok_or_else(|| missing("No server certificate path set to match server key"))?,
            key: key
                .clone()
                .ok_or_else(|| missing("No server key path set to match server cert"))?,
            cacrl: self.crl_file.clone(),
        })
    }

    /// Load the daemon's credentials, sanity-checked unless `sanity` is
    /// off (`virNetTLSContextNew`).
    fn load(&self, sanity: bool) -> Result<TlsAcceptorCtx> {
        let ctx = TlsContext::new(
            &self.paths()?,
            Policy {
                is_server: true,
                sanity_check: sanity,
                require_valid: !self.no_verify_certificate,
                dn_acl: self.allowed_dn_list.clone(),
            },
        )?;
        let config = verify::server_config(&ctx, self.priority.as_deref())?;
        Ok(TlsAcceptorCtx {
            acceptor: TlsAcceptor::from(config),
            ctx: Arc::new(ctx),
        })
    }

    /// The TLS service of the daemon, its credentials loaded and (unless
    /// `tls_no_sanity_certificate`) sanity-checked.
    pub fn service(&self) -> std::result::Result<Arc<TlsService>, String> {
        let current = self
            .load(!self.no_sanity_certificate)
            .map_err(|e| e.message)?;
        Ok(Arc::new(TlsService {
            config: self.clone(),
            current: RwLock::new(current),
        }))
    }
}

/// The TLS listener's credentials, which `virAdmServerUpdateTlsFiles`
/// replaces while the daemon runs: each new client is served with the
/// credentials current when it connects; sessions already open keep the
/// ones they were made with.
pub struct TlsService {
    config: TlsConfig,
    current: RwLock<TlsAcceptorCtx>,
}

impl TlsService {
    /// What the next client is served with.
    pub fn current(&self) -> TlsAcceptorCtx {
        self.current.read().clone()
    }

    /// `virNetTLSContextReloadForServer`: locate the files again, always
    /// sanity-check them (whatever `tls_no_sanity_certificate` says, as
    /// libvirt does on reload), load them, and only then put them in
    /// force; on any error the old credentials stay. Unlike libvirt 9.0,
    /// which looks only in the default locations on reload, the files
    /// are the ones the configuration names (`ca_file`, ...).
    pub fn reload(&self) -> Result<()> {
        let fresh = self.config.load(true)?;
        *self.current.write() = fresh;
        tracing::debug!("update tls files success");
        Ok(())
    }
}

/// What the TLS listener does with each client.
#[derive(Clone)]
pub struct TlsAcceptorCtx {
    acceptor: TlsAcceptor,
    ctx: Arc<TlsContext>,
}

impl TlsAcceptorCtx {
    /// Handshake, check the client's certificate, confirm with '\1': the
    /// session and the client's DN (None when it was let in without a
    /// valid certificate, `tls_no_verify_certificate`). None (and a log
    /// line) when the client is refused or goes away.
    pub async fn secure(
        self,
        tcp: TcpStream,
        peer: String,
    ) -> Option<(TlsStream<TcpStream>, Option<String>)> {
        let mut stream = match self.acceptor.accept(tcp).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("TLS handshake failed with {peer}: {e}");
                return None;
            }
        };
        let certs = stream.get_ref().1.peer_certificates();
        let dn = match self.ctx.check_certificate(certs, None) {
            Ok(dn) => dn,
            Err(e) => {
                tracing::error!("{} (client {peer})", e.message);
                return None;
            }
        };
        tracing::debug!(%peer, dn = dn.as_deref().unwrap_or(""), "TLS client accepted");
        stream.write_all(&[1]).await.ok()?;
        stream.flush().await.ok()?;
        Some((stream, dn))
    }
}
