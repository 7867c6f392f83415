//! Certificates for TLS tests, made with GnuTLS's `certtool` as libvirt's
//! docs make them (docs/kbase/tlscerts.rst): a CA, the server's and the
//! clients' certificates, plus what a test needs refused: an expired
//! client certificate, a revoked one (with the CA's CRL), one from a
//! second CA and one whose DN is not on a daemon's allow-list.
//!
//! [`Pki::client_dir`] lays a client's files out as a URI's `pkipath`
//! wants them (`cacert.pem`, `clientcert.pem`, `clientkey.pem`);
//! [`Pki::server_conf`] gives the daemon's `ca_file`/`cert_file`/
//! `key_file`/`crl_file` lines.

use crate::dirs::TempDir;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where certtool is (Debian's gnutls-bin, scripts/install-deps.sh).
pub const CERTTOOL: &str = "certtool";

/// The DN prefix of every client certificate the kit makes.
pub const CLIENT_DN_PREFIX: &str = "C=GB,ST=London,L=London,O=Libvirt Project,CN=";

/// A test PKI in a temporary directory.
pub struct Pki {
    dir: TempDir,
}

/// Whether certtool can be run (tests skip with a note otherwise).
pub fn have_certtool() -> bool {
    Command::new(CERTTOOL)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

impl Pki {
    /// Make the CA (with its CRL revoking "revoked"), the server certificate
    /// for 127.0.0.1 / localhost ("server"; "elsewhere" names another host),
    /// and the clients "client" (good),
    /// "expired", "revoked", "stranger" (the same CA, a DN the tests keep
    /// off allow-lists) and "foreign" (signed by a second CA).
    pub fn new() -> Pki {
        let pki = Pki {
            dir: TempDir::new("pki"),
        };
        pki.make_ca("ca", "Libvirt Test CA");
        pki.make_ca("ca2", "Another Test CA");
        pki.make_cert("ca", "server", &server_template("localhost", "127.0.0.1"));
        pki.make_cert(
            "ca",
            "elsewhere",
            &server_template("elsewhere.example", "192.0.2.1"),
        );
        for name in ["client", "revoked", "stranger"] {
            pki.make_cert("ca", name, &client_template(name, ""));
        }
        let expired = "activation_date = \"2019-01-01 00:00:00\"\n\
                       expiration_date = \"2020-01-01 00:00:00\"\n";
        pki.make_cert("ca", "expired", &client_template("expired", expired));
        pki.make_cert("ca2", "foreign", &client_template("foreign", ""));
        pki.make_crl("ca", "revoked");
        pki
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The DN libvirt compares for client `name`.
    pub fn client_dn(name: &str) -> String {
        format!("{CLIENT_DN_PREFIX}{name}")
    }

    /// A `pkipath` directory for client `name` (its CA's certificate is the
    /// main CA's: the server is always the main CA's).
    pub fn client_dir(&self, name: &str) -> PathBuf {
        let dir = self.dir.join(format!("client-{name}"));
        std::fs::create_dir_all(&dir).expect("client dir");
        copy(&self.path("ca-cert.pem"), &dir.join("cacert.pem"));
        copy(
            &self.path(&format!("{name}-cert.pem")),
            &dir.join("clientcert.pem"),
        );
        copy(
            &self.path(&format!("{name}-key.pem")),
            &dir.join("clientkey.pem"),
        );
        dir
    }

    /// The `test+tls://` URI of client `name` to a daemon listening on
    /// 127.0.0.1:`port`.
    pub fn client_uri(&self, port: u16, name: &str) -> String {
        format!(
            "test+tls://127.0.0.1:{port}/default?pkipath={}",
            self.client_dir(name).display()
        )
    }

    /// A `pkipath` directory for a server (as libvirt lays one out).
    pub fn server_dir(&self) -> PathBuf {
        let dir = self.dir.join("server-dir");
        std::fs::create_dir_all(&dir).expect("server dir");
        copy(&self.path("ca-cert.pem"), &dir.join("cacert.pem"));
        copy(&self.path("server-cert.pem"), &dir.join("servercert.pem"));
        copy(&self.path("server-key.pem"), &dir.join("serverkey.pem"));
        dir
    }

    /// A QEMU credentials directory (qemu.conf's `*_tls_x509_cert_dir`,
    /// QEMU's file names): the CA, a server certificate for every host
    /// name and address of `hosts`, and the "client" certificate, so each
    /// of those hosts can be either end.
    pub fn qemu_dir(&self, hosts: &[(&str, &str)]) -> PathBuf {
        self.make_cert("ca", "qemu-server", &hosts_template(hosts));
        let dir = self.dir.join("qemu");
        std::fs::create_dir_all(&dir).expect("qemu cert dir");
        for (from, to) in [
            ("ca-cert.pem", "ca-cert.pem"),
            ("qemu-server-cert.pem", "server-cert.pem"),
            ("qemu-server-key.pem", "server-key.pem"),
            ("client-cert.pem", "client-cert.pem"),
            ("client-key.pem", "client-key.pem"),
        ] {
            copy(&self.path(from), &dir.join(to));
            // QEMU reads them as its own user (libvirt-qemu), as libvirt's
            // docs ask of /etc/pki/qemu.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join(to), std::fs::Permissions::from_mode(0o644))
                .expect("chmod qemu cert");
        }
        dir
    }

    /// Encrypt the private keys of a [`Pki::qemu_dir`] with `passphrase`
    /// (PKCS#8, AES-256), as a host whose qemu.conf names the passphrase's
    /// secret in `migrate_tls_x509_secret_uuid` keeps them.
    pub fn encrypt_qemu_keys(&self, dir: &Path, passphrase: &str) {
        for key in ["server-key.pem", "client-key.pem"] {
            let (path, clear) = (dir.join(key), dir.join(format!("clear-{key}")));
            std::fs::rename(&path, &clear).expect("move the clear key");
            certtool(&[
                "--to-p8",
                "--load-privkey",
                &clear.display().to_string(),
                "--password",
                passphrase,
                "--pkcs-cipher",
                "aes-256",
                "--outfile",
                &path.display().to_string(),
            ]);
            std::fs::remove_file(&clear).expect("remove the clear key");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
                .expect("chmod qemu key");
        }
    }

    /// libvirtd.conf lines for a TLS listener on `port` whose certificate
    /// ("lan-server") names every host name and address of `hosts`: one
    /// configuration for each daemon of a LAN.
    pub fn lan_server_conf(&self, port: u16, hosts: &[(&str, &str)]) -> String {
        self.make_cert("ca", "lan-server", &hosts_template(hosts));
        self.server_conf_as("lan-server", port)
    }

    /// libvirtd.conf lines for the TLS listener on `port` with this PKI.
    pub fn server_conf(&self, port: u16) -> String {
        self.server_conf_as("server", port)
    }

    /// As [`Pki::server_conf`] with server certificate `name`.
    pub fn server_conf_as(&self, name: &str, port: u16) -> String {
        format!(
            "listen_tls = 1\ntls_port = \"{port}\"\nca_file = \"{}\"\ncert_file = \"{}\"\n\
             key_file = \"{}\"\ncrl_file = \"{}\"\n",
            self.path("ca-cert.pem").display(),
            self.path(&format!("{name}-cert.pem")).display(),
            self.path(&format!("{name}-key.pem")).display(),
            self.path("ca-crl.pem").display(),
        )
    }

    /// A CRL of the main CA revoking client `name` (and no other): its
    /// path, for a daemon's `crl_file` (a later one than `ca-crl.pem`).
    pub fn crl_revoking(&self, name: &str) -> PathBuf {
        let out = format!("ca-revoking-{name}");
        let loads = [
            ("ca-privkey", &"ca-key.pem".to_string()),
            ("ca-certificate", &"ca-cert.pem".to_string()),
            ("certificate", &format!("{name}-cert.pem")),
        ];
        let template = "crl_next_update = 365\ncrl_number = 2\n";
        self.generate("crl", &out, &loads, template, "crl");
        self.path(&format!("{out}-crl.pem"))
    }

    /// A server certificate `name` of the main CA for localhost /
    /// 127.0.0.1 whose usage and date lines are `lines` (certtool's
    /// template keywords: `tls_www_server`, `encryption_key`,
    /// `signing_key`, `ca`, `activation_date = ...`), for a test that
    /// needs one defect; the name for [`Pki::server_conf_as`].
    pub fn server_cert_with(&self, name: &str, lines: &str) -> String {
        let template = format!(
            "organization = \"Libvirt Project\"\ncn = \"localhost\"\nip_address = \"127.0.0.1\"\n\
             dns_name = \"localhost\"\n{lines}"
        );
        self.make_cert("ca", name, &template);
        name.to_string()
    }

    /// A client certificate `name` of the main CA (DN
    /// [`Pki::client_dn`]) with usage and date lines `lines`, as
    /// [`Pki::server_cert_with`]; [`Pki::client_dir`] lays it out.
    pub fn client_cert_with(&self, name: &str, lines: &str) -> String {
        let template = format!(
            "country = GB\nstate = London\nlocality = London\norganization = \"Libvirt Project\"\n\
             cn = \"{name}\"\n{lines}"
        );
        self.make_cert("ca", name, &template);
        name.to_string()
    }

    /// A certificate `name` of the main CA whose extended key usage is
    /// critical and allows only `purpose` (openssl's `serverAuth` or
    /// `clientAuth`): certtool cannot mark that extension critical, so
    /// openssl signs it (a certtool key, the main CA's). A `clientAuth`
    /// one names localhost / 127.0.0.1 as a server would; a `serverAuth`
    /// one has client `name`'s DN.
    pub fn critical_purpose_cert(&self, name: &str, purpose: &str) -> String {
        self.key(name);
        let subject = if purpose == "clientAuth" {
            "/O=Libvirt Project/CN=localhost".to_string()
        } else {
            format!("/C=GB/ST=London/L=London/O=Libvirt Project/CN={name}")
        };
        let csr = self.arg(&format!("{name}.csr"));
        openssl(&[
            "req",
            "-new",
            "-key",
            &self.arg(&format!("{name}-key.pem")),
            "-subj",
            &subject,
            "-out",
            &csr,
        ]);
        let ext = self.dir.write(
            &format!("{name}.ext"),
            format!(
                "[v3]\nbasicConstraints = critical, CA:FALSE\n\
                 keyUsage = critical, digitalSignature, keyEncipherment\n\
                 extendedKeyUsage = critical, {purpose}\n\
                 subjectAltName = DNS:localhost, IP:127.0.0.1\n"
            ),
        );
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &self.arg("ca-cert.pem"),
            "-CAkey",
            &self.arg("ca-key.pem"),
            "-CAcreateserial",
            "-CAserial",
            &self.arg("ca.srl"),
            "-days",
            "365",
            "-extfile",
            &ext.display().to_string(),
            "-extensions",
            "v3",
            "-out",
            &self.arg(&format!("{name}-cert.pem")),
        ]);
        name.to_string()
    }

    fn make_ca(&self, name: &str, cn: &str) {
        self.key(name);
        let template = format!(
            "cn = \"{cn}\"\nca\ncert_signing_key\ncrl_signing_key\nexpiration_days = 365\n"
        );
        let key = format!("{name}-key.pem");
        self.generate("self-signed", name, &[("privkey", &key)], &template, "cert");
    }

    fn make_cert(&self, ca: &str, name: &str, template: &str) {
        self.key(name);
        let (key, ca_cert, ca_key) = (
            format!("{name}-key.pem"),
            format!("{ca}-cert.pem"),
            format!("{ca}-key.pem"),
        );
        let loads = [
            ("privkey", &key),
            ("ca-certificate", &ca_cert),
            ("ca-privkey", &ca_key),
        ];
        self.generate("certificate", name, &loads, template, "cert");
    }

    fn make_crl(&self, ca: &str, revoked: &str) {
        let (ca_key, ca_cert, cert) = (
            format!("{ca}-key.pem"),
            format!("{ca}-cert.pem"),
            format!("{revoked}-cert.pem"),
        );
        let loads = [
            ("ca-privkey", &ca_key),
            ("ca-certificate", &ca_cert),
            ("certificate", &cert),
        ];
        let template = "crl_next_update = 365\ncrl_number = 1\n";
        self.generate("crl", ca, &loads, template, "crl");
    }

    /// `certtool --generate-WHAT --load-X FILE... --template T --outfile
    /// NAME-SUFFIX.pem`, the files in this PKI's directory.
    fn generate(
        &self,
        what: &str,
        name: &str,
        loads: &[(&str, &String)],
        template: &str,
        suffix: &str,
    ) {
        let template = self.dir.write(&format!("{name}-{suffix}.info"), template);
        let mut args = vec![format!("--generate-{what}")];
        for (kind, file) in loads {
            args.push(format!("--load-{kind}"));
            args.push(self.arg(file));
        }
        args.push("--template".into());
        args.push(template.display().to_string());
        args.push("--outfile".into());
        args.push(self.arg(&format!("{name}-{suffix}.pem")));
        certtool(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }

    /// An RSA key: ECDSA keys get no keyEncipherment usage, which libvirt
    /// requires of server and client certificates.
    fn key(&self, name: &str) {
        certtool(&[
            "--generate-privkey",
            "--bits",
            "2048",
            "--outfile",
            &self.arg(&format!("{name}-key.pem")),
        ]);
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

impl Default for Pki {
    fn default() -> Pki {
        Pki::new()
    }
}

/// A server certificate's template naming every host and address of
/// `hosts` (the first as its CN).
fn hosts_template(hosts: &[(&str, &str)]) -> String {
    let mut template = server_template(hosts[0].0, hosts[0].1);
    for (name, addr) in &hosts[1..] {
        template.push_str(&format!("dns_name = \"{name}\"\nip_address = \"{addr}\"\n"));
    }
    template
}

fn server_template(host: &str, ip: &str) -> String {
    format!(
        "organization = \"Libvirt Project\"\ncn = \"{host}\"\nip_address = \"{ip}\"\n\
         dns_name = \"{host}\"\ntls_www_server\nencryption_key\nsigning_key\nexpiration_days = 365\n"
    )
}

fn client_template(cn: &str, dates: &str) -> String {
    let dates = if dates.is_empty() {
        "expiration_days = 365\n"
    } else {
        dates
    };
    format!(
        "country = GB\nstate = London\nlocality = London\norganization = \"Libvirt Project\"\n\
         cn = \"{cn}\"\ntls_www_client\nencryption_key\nsigning_key\n{dates}"
    )
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run openssl: {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn certtool(args: &[&str]) {
    let out = Command::new(CERTTOOL)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("run certtool (scripts/install-deps.sh installs gnutls-bin): {e}")
        });
    assert!(
        out.status.success(),
        "certtool {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
