//! libvirt's `virNetTLSContext` over rustls: the credentials (CA list,
//! CRL, own certificate and key) found where libvirt looks for them, the
//! sanity check of our own certificate at start-up, and the check of the
//! peer's certificate after the handshake.
//!
//! As libvirt with GnuTLS, the handshake itself accepts any certificate
//! the peer proves it holds the key of (the verifiers in [`super::verify`]
//! check only the handshake signatures); the chain, revocation, dates,
//! constraints, usage, purpose, the DN allow-list and the host name are
//! then checked by [`TlsContext::check_certificate`], so refusals carry
//! libvirt's texts and happen at the same step: a server that refuses a
//! client closes the connection without sending the '\1' byte, and the
//! client reports "server verification (of our certificate or IP address)
//! failed".

use super::x509::{self, Role};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::path::{Path, PathBuf};

pub const LIBVIRT_CACERT: &str = "/etc/pki/CA/cacert.pem";
pub const LIBVIRT_CACRL: &str = "/etc/pki/CA/cacrl.pem";
pub const LIBVIRT_SERVERKEY: &str = "/etc/pki/libvirt/private/serverkey.pem";
pub const LIBVIRT_SERVERCERT: &str = "/etc/pki/libvirt/servercert.pem";
pub const LIBVIRT_CLIENTKEY: &str = "/etc/pki/libvirt/private/clientkey.pem";
pub const LIBVIRT_CLIENTCERT: &str = "/etc/pki/libvirt/clientcert.pem";

/// Where the credentials are (`virNetTLSContextLocateCredentials`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialPaths {
    pub cacert: PathBuf,
    /// None: no revocation list (the daemon's explicit files without crl_file).
    pub cacrl: Option<PathBuf>,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl CredentialPaths {
    /// An explicit `pkipath` is used whether or not the files exist there;
    /// otherwise (for a non-root user) `~/.pki/libvirt` where its files
    /// exist, the system paths for the rest.
    pub fn locate(pkipath: Option<&Path>, try_user_path: bool, is_server: bool) -> Self {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty() && try_user_path)
            .map(PathBuf::from);
        Self::locate_from(pkipath, home.as_deref(), Path::new("/"), is_server)
    }

    /// [`CredentialPaths::locate`] with the user's home (None: no user
    /// path, as for root) and the root the system paths are under (`/`)
    /// given.
    pub fn locate_from(
        pkipath: Option<&Path>,
        home: Option<&Path>,
        root: &Path,
        is_server: bool,
    ) -> Self {
        let (key, cert) = if is_server {
            ("serverkey.pem", "servercert.pem")
        } else {
            ("clientkey.pem", "clientcert.pem")
        };
        let in_dir = |dir: &Path| CredentialPaths {
            cacert: dir.join("cacert.pem"),
            cacrl: Some(dir.join("cacrl.pem")),
            cert: dir.join(cert),
            key: dir.join(key),
        };
        let system = |path: &str| root.join(path.trim_start_matches('/'));
        let system = CredentialPaths {
            cacert: system(LIBVIRT_CACERT),
            cacrl: Some(system(LIBVIRT_CACRL)),
            cert: system(if is_server {
                LIBVIRT_SERVERCERT
            } else {
                LIBVIRT_CLIENTCERT
            }),
            key: system(if is_server {
                LIBVIRT_SERVERKEY
            } else {
                LIBVIRT_CLIENTKEY
            }),
        };
        if let Some(dir) = pkipath {
            return in_dir(dir);
        }
        let Some(home) = home else {
            return system;
        };
        let user = in_dir(&home.join(".pki/libvirt"));
        let pair = user.key.exists() && user.cert.exists();
        CredentialPaths {
            cacert: if user.cacert.exists() {
                user.cacert
            } else {
                system.cacert
            },
            cacrl: user.cacrl.filter(|p| p.exists()).or(system.cacrl),
            cert: if pair { user.cert } else { system.cert },
            key: if pair { user.key } else { system.key },
        }
    }
}

/// What the TLS context needs besides the paths.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub is_server: bool,
    /// `tls_no_sanity_certificate` / `no_sanity` turned around.
    pub sanity_check: bool,
    /// `tls_no_verify_certificate` / `no_verify` turned around.
    pub require_valid: bool,
    /// `tls_allowed_dn_list` (server only; None: every DN).
    pub dn_acl: Option<Vec<String>>,
}

/// Loaded credentials and the rules to check a peer with.
#[derive(Debug)]
pub struct TlsContext {
    pub policy: Policy,
    pub ca_file: String,
    pub cas: Vec<CertificateDer<'static>>,
    pub crls: Vec<CertificateRevocationListDer<'static>>,
    /// Our certificate chain and key; a client may have none.
    pub identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
}

fn sys_err(text: String) -> Error {
    Error::new(ErrorDomain::RPC, ErrorCode::SYSTEM_ERROR, text)
}

fn read_file(what: &str, path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::system(
            ErrorDomain::RPC,
            format!("Cannot read {what} '{}'", path.display()),
            &e,
        )
    })
}

fn pem_certs(data: &[u8]) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(data)
        .filter_map(|c| c.ok())
        .collect()
}

impl TlsContext {
    /// `virNetTLSContextNew`: sanity-check (when asked) and load.
    pub fn new(paths: &CredentialPaths, policy: Policy) -> Result<TlsContext> {
        let ca_file = paths.cacert.display().to_string();
        if policy.sanity_check {
            sanity_check(policy.is_server, &paths.cacert, &paths.cert)?;
        }
        let ca_pem = read_file("CA certificate", &paths.cacert)?;
        let cas = pem_certs(&ca_pem);
        if cas.is_empty() {
            return Err(sys_err(format!(
                "Unable to set x509 CA certificate: {ca_file}: Base64 decoding error."
            )));
        }
        let mut crls = Vec::new();
        if let Some(crl) = paths.cacrl.as_ref().filter(|p| p.exists()) {
            let data = read_file("CA revocation list", crl)?;
            crls = CertificateRevocationListDer::pem_slice_iter(&data)
                .filter_map(|c| c.ok())
                .collect();
            if crls.is_empty() {
                return Err(sys_err(format!(
                    "Unable to set x509 certificate revocation list: {}: Base64 decoding error.",
                    crl.display()
                )));
            }
        }
        let identity = load_identity(paths, policy.is_server)?;
        Ok(TlsContext {
            policy,
            ca_file,
            cas,
            crls,
            identity,
        })
    }

    /// `virNetTLSContextCheckCertificate`: the peer's certificate as libvirt
    /// checks it; a failure is logged and, unless verification is off,
    /// becomes "Failed to verify peer's certificate". The peer's DN (when
    /// it had a certificate) is returned for the client's identity.
    pub fn check_certificate(
        &self,
        peer_certs: Option<&[CertificateDer<'_>]>,
        host: Option<&str>,
    ) -> Result<Option<String>> {
        match self.valid_certificate(peer_certs.unwrap_or(&[]), host) {
            Ok(dn) => Ok(Some(dn)),
            Err(e) => {
                tracing::warn!("Certificate check failed {}", e.message);
                if self.policy.require_valid {
                    return Err(Error::new(
                        ErrorDomain::RPC,
                        ErrorCode::AUTH_FAILED,
                        "Failed to verify peer's certificate",
                    ));
                }
                tracing::info!("Ignoring bad certificate at user request");
                Ok(None)
            }
        }
    }

    /// `virNetTLSContextValidCertificate`.
    fn valid_certificate(
        &self,
        certs: &[CertificateDer<'_>],
        host: Option<&str>,
    ) -> Result<String> {
        let Some((end, intermediates)) = certs.split_first() else {
            return Err(sys_err(
                "Unable to verify TLS peer: No certificate was found.".into(),
            ));
        };
        if let Err(reason) = super::verify::verify_chain(self, end, intermediates) {
            return Err(sys_err(format!("Certificate failed validation: {reason}")));
        }
        let peer_role = if self.policy.is_server {
            Role::Client
        } else {
            Role::Server
        };
        let mut dn = String::new();
        for (i, der) in certs.iter().enumerate() {
            let cert = x509::parse(der)?;
            x509::check_times(&cert, "[session]", if i > 0 { Role::Ca } else { peer_role })?;
            if i > 0 {
                continue;
            }
            dn = x509::dn_string(cert.subject());
            tracing::debug!("Peer DN is {dn}");
            if let Some(acl) = &self.policy.dn_acl {
                x509::check_dn_acl(&dn, acl)?;
            }
            if let Some(host) = host {
                x509::check_host(&cert, "[session]", host)?;
            }
            x509::check_basic_constraints(&cert, "[session]", peer_role)?;
            x509::check_key_usage(&cert, "[session]", false)?;
            x509::check_key_purpose(&cert, "[session]", peer_role == Role::Server)?;
        }
        Ok(dn)
    }
}

/// Our certificate and key: required for a server, optional for a client
/// (libvirt skips a client's missing pair).
fn load_identity(
    paths: &CredentialPaths,
    is_server: bool,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>> {
    let have_pair = paths.cert.exists() && paths.key.exists();
    if !is_server && !have_pair {
        tracing::debug!(
            "Skipping non-existent cert {:?} key {:?} on client",
            paths.cert,
            paths.key
        );
        return Ok(None);
    }
    let cert_pem = read_file("certificate", &paths.cert)?;
    let key_pem = read_file("private key", &paths.key)?;
    let chain = pem_certs(&cert_pem);
    let key = PrivateKeyDer::from_pem_slice(&key_pem);
    match (chain.is_empty(), key) {
        (false, Ok(key)) => Ok(Some((chain, key))),
        _ => Err(sys_err(format!(
            "Unable to set x509 key and certificate: {}, {}: Base64 decoding error.",
            paths.key.display(),
            paths.cert.display()
        ))),
    }
}

/// `virNetTLSContextSanityCheckCredentials`: our own certificate and the
/// CA certificates checked as libvirt does, then ours against the CAs.
fn sanity_check(is_server: bool, cacert: &Path, cert: &Path) -> Result<()> {
    let own_role = if is_server {
        Role::Server
    } else {
        Role::Client
    };
    let own = std::fs::read(cert).ok();
    let own_der = match &own {
        Some(pem) => Some(pem_certs(pem).into_iter().next().ok_or_else(|| {
            sys_err(format!(
                "Unable to import {} certificate {}",
                if is_server { "server" } else { "client" },
                cert.display()
            ))
        })?),
        None => None,
    };
    let cas = match std::fs::read(cacert) {
        Ok(pem) => {
            let cas = pem_certs(&pem);
            if cas.is_empty() {
                return Err(sys_err(format!(
                    "Unable to import CA certificate list {}",
                    cacert.display()
                )));
            }
            cas
        }
        Err(_) => Vec::new(),
    };
    let cert_name = cert.display().to_string();
    let ca_name = cacert.display().to_string();
    if let Some(der) = &own_der {
        x509::check_cert(&x509::parse(der)?, &cert_name, own_role)?;
    }
    for der in &cas {
        x509::check_cert(&x509::parse(der)?, &ca_name, Role::Ca)?;
    }
    if let (Some(der), false) = (&own_der, cas.is_empty()) {
        if let Err(reason) = super::verify::verify_against(&cas, &[], der, &[]) {
            return Err(sys_err(format!(
                "Our own certificate {cert_name} failed validation against {ca_name}: {reason}"
            )));
        }
    }
    Ok(())
}

/// The current time for webpki.
pub(crate) fn now() -> UnixTime {
    UnixTime::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory standing for `/` (and a home under it).
    struct Root(PathBuf);

    impl Root {
        fn new(name: &str) -> Root {
            let dir =
                std::env::temp_dir().join(format!("rvirt-locate-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Root(dir)
        }

        fn home(&self) -> PathBuf {
            self.0.join("home/u")
        }

        /// Create these files of the user's `~/.pki/libvirt`.
        fn user_files(&self, names: &[&str]) {
            let dir = self.home().join(".pki/libvirt");
            std::fs::create_dir_all(&dir).unwrap();
            for name in names {
                std::fs::write(dir.join(name), "x").unwrap();
            }
        }

        fn user(&self, name: &str) -> PathBuf {
            self.home().join(".pki/libvirt").join(name)
        }

        fn system(&self, path: &str) -> PathBuf {
            self.0.join(path.trim_start_matches('/'))
        }

        fn locate(&self, home: bool, is_server: bool) -> CredentialPaths {
            let home = home.then(|| self.home());
            CredentialPaths::locate_from(None, home.as_deref(), &self.0, is_server)
        }
    }

    impl Drop for Root {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn the_system_layout_by_default_and_for_root() {
        let want = CredentialPaths {
            cacert: "/etc/pki/CA/cacert.pem".into(),
            cacrl: Some("/etc/pki/CA/cacrl.pem".into()),
            cert: "/etc/pki/libvirt/servercert.pem".into(),
            key: "/etc/pki/libvirt/private/serverkey.pem".into(),
        };
        assert_eq!(CredentialPaths::locate(None, false, true), want);
        let root = Root::new("system");
        // A user's files count only when a user path is tried.
        root.user_files(&["cacert.pem", "clientcert.pem", "clientkey.pem"]);
        let client = root.locate(false, false);
        assert_eq!(
            client,
            CredentialPaths {
                cacert: root.system("/etc/pki/CA/cacert.pem"),
                cacrl: Some(root.system("/etc/pki/CA/cacrl.pem")),
                cert: root.system("/etc/pki/libvirt/clientcert.pem"),
                key: root.system("/etc/pki/libvirt/private/clientkey.pem"),
            }
        );
    }

    #[test]
    fn a_pkipath_is_taken_whether_or_not_its_files_exist() {
        let dir = Path::new("/nowhere/pki");
        let paths = CredentialPaths::locate_from(Some(dir), None, Path::new("/"), false);
        assert_eq!(
            paths,
            CredentialPaths {
                cacert: dir.join("cacert.pem"),
                cacrl: Some(dir.join("cacrl.pem")),
                cert: dir.join("clientcert.pem"),
                key: dir.join("clientkey.pem"),
            }
        );
        let server = CredentialPaths::locate_from(Some(dir), None, Path::new("/"), true);
        assert_eq!(server.cert, dir.join("servercert.pem"));
        assert_eq!(server.key, dir.join("serverkey.pem"));
    }

    #[test]
    fn the_users_files_where_they_exist() {
        let root = Root::new("user");
        // Nothing in ~/.pki/libvirt: the system paths.
        assert_eq!(root.locate(true, false), root.locate(false, false));
        // The user's CA and CRL alone.
        root.user_files(&["cacert.pem", "cacrl.pem"]);
        let paths = root.locate(true, false);
        assert_eq!(paths.cacert, root.user("cacert.pem"));
        assert_eq!(paths.cacrl, Some(root.user("cacrl.pem")));
        assert_eq!(paths.cert, root.system("/etc/pki/libvirt/clientcert.pem"));
        // A certificate without its key: neither is the user's.
        root.user_files(&["clientcert.pem"]);
        let paths = root.locate(true, false);
        assert_eq!(paths.cert, root.system("/etc/pki/libvirt/clientcert.pem"));
        assert_eq!(
            paths.key,
            root.system("/etc/pki/libvirt/private/clientkey.pem")
        );
        // The pair: both the user's (the key beside the certificate, not
        // in a private/ directory).
        root.user_files(&["clientkey.pem"]);
        let paths = root.locate(true, false);
        assert_eq!(paths.cert, root.user("clientcert.pem"));
        assert_eq!(paths.key, root.user("clientkey.pem"));
        // A daemon run by the user looks for the server's pair there.
        let server = root.locate(true, true);
        assert_eq!(server.cacert, root.user("cacert.pem"));
        assert_eq!(server.cert, root.system("/etc/pki/libvirt/servercert.pem"));
        root.user_files(&["servercert.pem", "serverkey.pem"]);
        assert_eq!(root.locate(true, true).key, root.user("serverkey.pem"));
    }

    #[test]
    fn no_user_crl_falls_back_to_the_systems() {
        let root = Root::new("crl");
        root.user_files(&["cacert.pem"]);
        let paths = root.locate(true, true);
        assert_eq!(paths.cacert, root.user("cacert.pem"));
        assert_eq!(paths.cacrl, Some(root.system("/etc/pki/CA/cacrl.pem")));
    }
}
