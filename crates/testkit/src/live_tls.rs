//! An rvirtd listening for TLS with its server files in a directory of
//! their own, so that a test can replace them while it runs and have
//! `virt-admin server-update-tls` read them again.

use crate::daemon::Daemon;
use crate::dirs::TempDir;
use crate::pki::Pki;
use crate::ports::free_port;
use crate::tools::{virt_admin, Output};
use std::path::{Path, PathBuf};

/// rvirtd on a free port, its CA the PKI's, its server certificate, key
/// and CRL the files in [`LiveTls::dir`].
pub struct LiveTls {
    pki: Pki,
    live: TempDir,
    pub port: u16,
    pub daemon: Daemon,
}

impl LiveTls {
    /// Start rvirtd on `pki` with server certificate "server" and the CA's CRL.
    pub fn rvirtd(pki: Pki) -> LiveTls {
        let live = TempDir::new("live-pki");
        install_server(&pki, "server", live.path());
        std::fs::copy(pki.path("ca-crl.pem"), live.join("cacrl.pem")).expect("copy CRL");
        let port = free_port();
        let daemon = Daemon::rvirtd(&live_conf(&pki, live.path(), port));
        LiveTls {
            pki,
            live,
            port,
            daemon,
        }
    }

    pub fn pki(&self) -> &Pki {
        &self.pki
    }

    /// Where the daemon's server files are.
    pub fn dir(&self) -> &Path {
        self.live.path()
    }

    /// The daemon's certificate file (`cert_file`).
    pub fn cert_file(&self) -> PathBuf {
        self.live.join("servercert.pem")
    }

    /// Put server certificate `name` (and its key) in place of the
    /// daemon's; it reads them at the next update.
    pub fn install_server(&self, name: &str) {
        install_server(&self.pki, name, self.live.path());
    }

    /// Put the CRL at `crl` in place of the daemon's.
    pub fn install_crl(&self, crl: &Path) {
        std::fs::copy(crl, self.live.join("cacrl.pem")).expect("copy CRL");
    }

    /// The URI of client `name` to this daemon.
    pub fn uri(&self, name: &str) -> String {
        self.pki.client_uri(self.port, name)
    }

    /// `virt-admin server-update-tls libvirtd` on this daemon.
    pub fn update(&self) -> Output {
        virt_admin(&self.daemon.admin_uri(), "server-update-tls libvirtd")
    }

    /// [`LiveTls::update`], which must succeed with libvirt's text.
    pub fn assert_updated(&self) {
        let out = self.update();
        assert!(out.ok, "{out:?}\n{}", self.daemon.log());
        assert_eq!(out.stdout.trim(), "update tls related files succeed");
    }
}

/// Copy server certificate `name` and its key to where the daemon reads them.
fn install_server(pki: &Pki, name: &str, live: &Path) {
    for (from, to) in [("cert", "servercert.pem"), ("key", "serverkey.pem")] {
        let from = pki.path(&format!("{name}-{from}.pem"));
        std::fs::copy(from, live.join(to)).expect("copy server file");
    }
}

/// libvirtd.conf lines for TLS on `port` with the files in `live`.
fn live_conf(pki: &Pki, live: &Path, port: u16) -> String {
    format!(
        "listen_tls = 1\ntls_port = \"{port}\"\nca_file = \"{}\"\ncert_file = \"{}\"\n\
         key_file = \"{}\"\ncrl_file = \"{}\"\n",
        pki.path("ca-cert.pem").display(),
        live.join("servercert.pem").display(),
        live.join("serverkey.pem").display(),
        live.join("cacrl.pem").display(),
    )
}
