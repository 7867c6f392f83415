//! The admin program and TLS: `virt-admin server-update-tls` replaces
//! rvirtd's CA, certificate, key and CRL while it runs (new clients get
//! the new files, connections already open keep working, a bad file set
//! is refused and the old one stays), and `client-info` shows a TLS
//! client's certificate DN (`tls_x509_dname`) as libvirtd does.
//!
//! libvirtd 9.0 reloads from libvirt's default locations only
//! (`virNetTLSContextReloadForServer` ignores `ca_file` and friends);
//! rvirtd re-reads the files its configuration names. So to compare the
//! two, libvirtd gets a directory mounted over /etc/pki in its own mount
//! namespace and rvirtd is configured with the same files.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::dirs::TempDir;
use rvirt_testkit::held::HeldClient;
use rvirt_testkit::live_tls::LiveTls;
use rvirt_testkit::pki::{have_certtool, Pki};
use rvirt_testkit::ports::free_port;
use rvirt_testkit::tools::{diff, have_virsh, have_virt_admin, python_libvirt_ready};
use rvirt_testkit::tools::{virsh, virt_admin, Normalise, Output};
use std::path::Path;

/// What libvirt's client reports when the server refuses it.
const SERVER_REFUSED: &str = "Unable to read TLS confirmation: Input/output error";

fn ready() -> bool {
    let ok = have_certtool() && have_virsh() && have_virt_admin() && python_libvirt_ready();
    if !ok {
        eprintln!("certtool, virsh, virt-admin or python3-libvirt missing: skipping");
    }
    ok
}

/// rvirtd reading its TLS files from a directory of their own, and the
/// URI of client "client" with a connection open on it; `None` when a tool
/// is missing.
fn live_daemon_with_client() -> Option<(LiveTls, String, HeldClient)> {
    if !ready() {
        return None;
    }
    let tls = LiveTls::rvirtd(Pki::new());
    let client = tls.uri("client");
    let held = HeldClient::open(&client, false);
    Some((tls, client, held))
}

fn update_tls(d: &Daemon) -> Output {
    virt_admin(&d.admin_uri(), "server-update-tls libvirtd")
}

#[test]
fn update_tls_replaces_the_server_certificate_for_new_clients_only() {
    let Some((tls, client, mut held)) = live_daemon_with_client() else {
        return;
    };
    assert_eq!(held.call(), "ok");

    // A certificate for another host: new clients to 127.0.0.1 refuse it.
    tls.install_server("elsewhere");
    assert!(
        virsh(&client, "uri").ok,
        "the old files are in force until the update"
    );
    tls.assert_updated();
    let out = virsh(&client, "uri");
    let owner = "owner does not match the hostname 127.0.0.1";
    assert!(!out.ok && out.stderr.contains(owner), "{out:?}");
    assert_eq!(held.call(), "ok", "the open connection keeps its session");

    // A bad file set is refused with libvirt's text; the old one stays.
    let cert = tls.cert_file();
    std::fs::write(&cert, "not a certificate\n").unwrap();
    let out = tls.update();
    let want = format!(
        "error: Unable to update server's tls related files.\n\
         error: Unable to import server certificate {}\n",
        cert.display()
    );
    assert!(!out.ok && out.stderr == want, "{out:?}");
    assert!(
        virsh(&client, "uri").stderr.contains(owner),
        "still 'elsewhere'"
    );

    tls.install_server("server");
    tls.assert_updated();
    let out = virsh(&client, "uri");
    assert!(out.ok, "{out:?}\n{}", tls.daemon.log());
    assert_eq!(held.call(), "ok");
}

#[test]
fn update_tls_reads_a_new_crl_and_refuses_the_revoked_client() {
    let Some((tls, client, mut held)) = live_daemon_with_client() else {
        return;
    };
    tls.install_crl(&tls.pki().crl_revoking("client"));
    assert!(virsh(&client, "uri").ok, "not revoked before the update");
    tls.assert_updated();
    let out = virsh(&client, "uri");
    assert!(!out.ok && out.stderr.contains(SERVER_REFUSED), "{out:?}");
    let log = tls.daemon.log();
    assert!(log.contains("The certificate has been revoked."), "{log}");
    assert_eq!(held.call(), "ok", "revocation does not cut an open session");
    // The new CRL replaced the old one: "revoked" is no longer revoked.
    let out = virsh(&tls.uri("revoked"), "uri");
    assert!(out.ok, "{out:?}");
}

/// The id of the one TLS client `srv-clients-list libvirtd` shows.
fn tls_client_id(d: &Daemon) -> String {
    let out = virt_admin(&d.admin_uri(), "srv-clients-list libvirtd");
    let row = out.stdout.lines().find(|l| l.contains(" tls "));
    let row = row.unwrap_or_else(|| panic!("{}: no TLS client in {out:?}", d.name));
    row.split_whitespace().next().unwrap().to_string()
}

#[test]
fn client_info_shows_the_certificate_dn_as_libvirtd() {
    if !ready() {
        return;
    }
    let pki = Pki::new();
    let mut outputs = Vec::new();
    let port = free_port();
    let Some(libvirtd) = Daemon::libvirtd_with(&pki.server_conf(port)) else {
        return;
    };
    let port2 = free_port();
    let rvirtd = Daemon::rvirtd(&pki.server_conf(port2));
    for (d, port) in [(&libvirtd, port), (&rvirtd, port2)] {
        let _held = HeldClient::open(&pki.client_uri(port, "client"), false);
        let id = tls_client_id(d);
        let out = virt_admin(&d.admin_uri(), &format!("client-info libvirtd {id}"));
        let dn = format!("tls_x509_dname : {}", Pki::client_dn("client"));
        assert!(out.stdout.contains(&dn), "{}: {out:?}", d.name);
        outputs.push(out.normalised(&[Normalise::Field("id"), Normalise::Field("sock_addr")]));
    }
    let rules: &[Normalise] = &[Normalise::Timestamp];
    let (want, got) = (outputs[0].normalised(rules), outputs[1].normalised(rules));
    if let Some(d) = diff("client-info (TLS)", ("libvirtd", &want), ("rvirtd", &got)) {
        panic!("{d}\n{}", rvirtd.log());
    }
}

/// libvirt's default layout under /etc/pki, with server certificate
/// `name` and the CA's first CRL.
fn lay_out_etc_pki(pki: &Pki, etc: &Path, name: &str) {
    std::fs::create_dir_all(etc.join("CA")).unwrap();
    std::fs::create_dir_all(etc.join("libvirt/private")).unwrap();
    std::fs::copy(pki.path("ca-cert.pem"), etc.join("CA/cacert.pem")).unwrap();
    std::fs::copy(pki.path("ca-crl.pem"), etc.join("CA/cacrl.pem")).unwrap();
    let (cert, key) = (format!("{name}-cert.pem"), format!("{name}-key.pem"));
    std::fs::copy(pki.path(&cert), etc.join("libvirt/servercert.pem")).unwrap();
    std::fs::copy(pki.path(&key), etc.join("libvirt/private/serverkey.pem")).unwrap();
}

/// A change to the files under the PKI directory.
enum FileChange {
    Nothing,
    /// A server certificate file that is not a certificate.
    Garbage,
    /// Server certificate NAME laid out in place of the current one.
    Certificate(&'static str),
}

/// What `server-update-tls` says for each new file set, on libvirtd
/// (which reloads /etc/pki, here a directory mounted there in its own
/// namespace) and on rvirtd (configured with the same files).
#[test]
fn update_tls_answers_like_libvirtd() {
    if !ready() {
        return;
    }
    let pki = Pki::new();
    let etc = TempDir::new("etc-pki");
    lay_out_etc_pki(&pki, etc.path(), "server");
    let port = free_port();
    let tls = format!("listen_tls = 1\ntls_port = \"{port}\"\n");
    let Some(libvirtd) = Daemon::libvirtd_with_pki(&tls, etc.path()) else {
        return;
    };
    let at = |f: &str| etc.join(f).display().to_string();
    let port2 = free_port();
    let rvirtd = Daemon::rvirtd(&format!(
        "listen_tls = 1\ntls_port = \"{port2}\"\nca_file = \"{}\"\ncrl_file = \"{}\"\n\
         cert_file = \"{}\"\nkey_file = \"{}\"\n",
        at("CA/cacert.pem"),
        at("CA/cacrl.pem"),
        at("libvirt/servercert.pem"),
        at("libvirt/private/serverkey.pem"),
    ));
    use FileChange::{Certificate, Garbage, Nothing};
    // (what, the change, whether the update succeeds)
    let cases = [
        ("the same files", Nothing, true),
        ("a certificate that is not one", Garbage, false),
        // Its purpose (TLS client) is not critical: libvirt only warns.
        ("a client certificate", Certificate("client"), true),
        ("an expired certificate", Certificate("expired"), false),
        ("another CA's certificate", Certificate("foreign"), false),
        ("the server certificate again", Certificate("server"), true),
    ];
    let mut failures = Vec::new();
    for (what, change, ok) in cases {
        match change {
            Nothing => {}
            Garbage => std::fs::write(etc.join("libvirt/servercert.pem"), "garbage\n").unwrap(),
            Certificate(name) => lay_out_etc_pki(&pki, etc.path(), name),
        }
        let want = update_tls(&libvirtd).normalised(&[Normalise::Value("/etc/pki".into(), "pki")]);
        let root = etc.path().display().to_string();
        let got = update_tls(&rvirtd).normalised(&[Normalise::Value(root, "pki")]);
        assert_eq!(got.ok, ok, "{what}: {got:?}");
        failures.extend(diff(what, ("libvirtd", &want), ("rvirtd", &got)));
    }
    assert!(
        failures.is_empty(),
        "{}\n{}",
        failures.join("\n"),
        rvirtd.log()
    );
    for (d, port) in [(&libvirtd, port), (&rvirtd, port2)] {
        let out = virsh(&pki.client_uri(port, "client"), "uri");
        assert!(out.ok, "{}: {out:?}", d.name);
    }
}
