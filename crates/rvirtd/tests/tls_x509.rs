//! libvirt's own certificate checks (virNetTLSContextCheckCert*: dates,
//! basic constraints, key usage, critical key purpose) on every side:
//! rvirtd's sanity check of its own certificate at start, its check of a
//! client's certificate after the handshake, and the client's check of
//! the server's; with `tls_no_sanity_certificate` and
//! `tls_no_verify_certificate` turning them off. Each certificate has one
//! defect (made by [`Pki`]); rvirtd's texts and refusals are compared with
//! a stock libvirtd's holding the same certificates.

use rvirt_testkit::daemon::{rvirtd_refusal, Daemon};
use rvirt_testkit::pki::{have_certtool, Pki};
use rvirt_testkit::ports::free_port;
use rvirt_testkit::tools::{self, rvirsh, virsh, Output};

/// What libvirt's client reports when the server refuses it.
const SERVER_REFUSED: &str = "Unable to read TLS confirmation: Input/output error";

/// What libvirt's client reports when it refuses the server's certificate.
const CLIENT_REFUSED: &str = "error: authentication failed: Failed to verify peer's certificate";

const YEAR: &str = "expiration_days = 365\n";
const NOT_YET: &str =
    "activation_date = \"2099-01-01 00:00:00\"\nexpiration_date = \"2100-01-01 00:00:00\"\n";

fn ready() -> bool {
    if !have_certtool() {
        eprintln!("certtool not installed (scripts/install-deps.sh): skipping");
        return false;
    }
    tools::have_virsh()
}

/// Server certificates with one defect each, and what libvirt says of
/// each at start (`{}`: the certificate's path).
fn bad_servers(pki: &Pki) -> Vec<(String, &'static str)> {
    vec![
        (
            pki.server_cert_with(
                "no-encipher",
                &format!("tls_www_server\nsigning_key\n{YEAR}"),
            ),
            "Certificate {} usage does not permit key encipherment",
        ),
        (
            pki.server_cert_with(
                "not-yet",
                &format!("tls_www_server\nencryption_key\nsigning_key\n{NOT_YET}"),
            ),
            "The server certificate {} is not yet active",
        ),
        (
            pki.critical_purpose_cert("client-purpose", "clientAuth"),
            "Certificate {} purpose does not allow use for with a TLS server",
        ),
        (
            pki.server_cert_with(
                "ca-flagged",
                &format!("ca\ntls_www_server\nencryption_key\nsigning_key\n{YEAR}"),
            ),
            "The certificate {} basic constraints show a CA, but we need one for a server",
        ),
    ]
}

/// Client certificates with one defect each, and why a server refuses
/// each (in its log).
fn bad_clients(pki: &Pki) -> Vec<(String, &'static str)> {
    vec![
        (
            pki.client_cert_with(
                "no-encipher",
                &format!("tls_www_client\nsigning_key\n{YEAR}"),
            ),
            "Certificate [session] usage does not permit key encipherment",
        ),
        (
            // GnuTLS's chain verification sees the dates first.
            pki.client_cert_with(
                "not-yet",
                &format!("tls_www_client\nencryption_key\nsigning_key\n{NOT_YET}"),
            ),
            "Certificate failed validation: The certificate is not trusted.",
        ),
        (
            pki.critical_purpose_cert("server-purpose", "serverAuth"),
            "Certificate [session] purpose does not allow use for with a TLS client",
        ),
        (
            pki.client_cert_with(
                "ca-flagged",
                &format!("ca\ntls_www_client\nencryption_key\nsigning_key\n{YEAR}"),
            ),
            "The certificate [session] basic constraints show a CA, but we need one for a client",
        ),
    ]
}

#[test]
fn own_certificate_refused_at_start_like_libvirtd() {
    if !have_certtool() {
        return;
    }
    let pki = Pki::new();
    for (name, text) in bad_servers(&pki) {
        let conf = pki.server_conf_as(&name, free_port());
        let want = text.replace(
            "{}",
            &pki.path(&format!("{name}-cert.pem")).display().to_string(),
        );
        let ours = rvirtd_refusal(&["--listen"], &conf);
        assert!(ours.contains(&want), "{name}: rvirtd says\n{ours}");
        if let Some(theirs) = Daemon::libvirtd_refusal(&conf) {
            assert!(theirs.contains(&want), "{name}: libvirtd says\n{theirs}");
        }
        // tls_no_sanity_certificate: the daemon starts with it all the same.
        let _serving = Daemon::rvirtd(&format!("{conf}tls_no_sanity_certificate = 1\n"));
    }
}

/// The URI of client `name` that skips the client's own sanity check (or
/// libvirt's client would refuse itself before the server could).
fn unchecked(pki: &Pki, port: u16, name: &str) -> String {
    format!("{}&no_sanity=1", pki.client_uri(port, name))
}

#[test]
fn client_certificates_refused_like_libvirtd() {
    if !ready() {
        return;
    }
    let pki = Pki::new();
    let port = free_port();
    let rvirtd = Daemon::rvirtd(&pki.server_conf(port));
    let stock_port = free_port();
    let libvirtd = Daemon::libvirtd_with(&pki.server_conf(stock_port));
    for (name, why) in bad_clients(&pki) {
        let uri = unchecked(&pki, port, &name);
        for out in [virsh(&uri, "list --all"), rvirsh(&uri, "list --all")] {
            assert!(!out.ok, "{name} accepted: {out:?}");
            assert!(out.stderr.contains(SERVER_REFUSED), "{name}: {out:?}");
        }
        let log = rvirtd.log();
        assert!(
            log.contains(why),
            "{name}: rvirtd log lacks '{why}':\n{log}"
        );
        // The client's own sanity check refuses it first, rvirsh as virsh.
        let checked = pki.client_uri(port, &name);
        let (ours, theirs) = (rvirsh(&checked, "uri"), virsh(&checked, "uri"));
        assert!(!ours.ok, "{name}: {ours:?}");
        assert_eq!(ours.stderr, theirs.stderr, "{name}: own sanity check");
        let Some(libvirtd) = &libvirtd else {
            continue;
        };
        let stock = virsh(&unchecked(&pki, stock_port, &name), "list --all");
        assert!(!stock.ok, "libvirtd accepted {name}");
        let ours = virsh(&uri, "list --all");
        assert_eq!(ours.stderr, stock.stderr, "{name}: rvirtd vs libvirtd");
        assert!(
            libvirtd.log().contains(why),
            "{name}: libvirtd log:\n{}",
            libvirtd.log()
        );
    }
}

/// A server serving (`tls_no_sanity_certificate`) a certificate libvirt's
/// client must refuse: virsh and rvirsh refuse it with the same words,
/// from rvirtd as from libvirtd; `no_verify=1` lets them in.
#[test]
fn clients_refuse_a_bad_server_certificate() {
    if !ready() {
        return;
    }
    let pki = Pki::new();
    for (name, _) in bad_servers(&pki) {
        let conf = |port| {
            format!(
                "{}tls_no_sanity_certificate = 1\n",
                pki.server_conf_as(&name, port)
            )
        };
        let port = free_port();
        let _rvirtd = Daemon::rvirtd(&conf(port));
        let uri = pki.client_uri(port, "client");
        let outs: [(&str, Output); 2] = [
            ("virsh", virsh(&uri, "list --all")),
            ("rvirsh", rvirsh(&uri, "list --all")),
        ];
        for (client, out) in &outs {
            assert!(
                !out.ok && out.stderr.contains(CLIENT_REFUSED),
                "{client} with {name}: {out:?}"
            );
        }
        // libvirt's client library also logs its warning ("Certificate
        // check failed ...") on stderr; rvirsh does not log there.
        assert_eq!(errors(&outs[0].1), errors(&outs[1].1), "{name}");
        assert!(rvirsh(&format!("{uri}&no_verify=1"), "uri").ok, "{name}");
        let stock_port = free_port();
        if let Some(_libvirtd) = Daemon::libvirtd_with(&conf(stock_port)) {
            let stock = virsh(&pki.client_uri(stock_port, "client"), "list --all");
            // Warnings, why included, and errors alike.
            assert_eq!(
                untimed(&stock.stderr),
                untimed(&outs[0].1.stderr),
                "{name}: libvirtd"
            );
        }
    }
}

/// The "error: " lines of a shell's stderr.
fn errors(out: &Output) -> Vec<&str> {
    out.stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect()
}

/// Log lines without their time and process id (libvirt's
/// "DATE TIME: PID: level : ..." lines), other lines as they are.
fn untimed(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .map(|l| match l.starts_with(|c: char| c.is_ascii_digit()) {
            true => l.splitn(3, ": ").nth(2).unwrap_or(l),
            false => l,
        })
        .collect()
}

/// `tls_no_verify_certificate`: every client gets in, whatever its
/// certificate (or none), the failed check logged, as libvirtd does.
#[test]
fn no_verify_lets_every_client_in() {
    if !ready() {
        return;
    }
    let pki = Pki::new();
    let only_client = format!(
        "tls_allowed_dn_list = [\"{}\"]\ntls_no_verify_certificate = 1\n",
        Pki::client_dn("client")
    );
    let conf = |port| format!("{}{only_client}", pki.server_conf(port));
    let port = free_port();
    let rvirtd = Daemon::rvirtd(&conf(port));
    let stock_port = free_port();
    let libvirtd = Daemon::libvirtd_with(&conf(stock_port));
    let no_cert = pki.path("no-cert");
    std::fs::create_dir_all(&no_cert).unwrap();
    std::fs::copy(pki.path("ca-cert.pem"), no_cert.join("cacert.pem")).unwrap();
    let cases = [
        ("expired", "The certificate is not trusted."),
        ("revoked", "The certificate has been revoked."),
        ("stranger", "Client's Distinguished Name is not on the list"),
        ("none", "No certificate was found."),
    ];
    for (name, why) in cases {
        let uri = |port| match name {
            "none" => format!(
                "test+tls://127.0.0.1:{port}/default?pkipath={}",
                no_cert.display()
            ),
            _ => unchecked(&pki, port, name),
        };
        for client in [virsh as fn(&str, &str) -> Output, rvirsh] {
            let out = client(&uri(port), "list --all");
            assert!(out.ok, "{name}: {out:?}\n{}", rvirtd.log());
            assert!(out.stdout.contains("test"), "{out:?}");
        }
        let log = rvirtd.log();
        assert!(
            log.contains("Certificate check failed") && log.contains(why),
            "{name}: rvirtd log lacks '{why}':\n{log}"
        );
        if let Some(libvirtd) = &libvirtd {
            let out = virsh(&uri(stock_port), "list --all");
            assert!(out.ok, "{name} against libvirtd: {out:?}");
            assert!(libvirtd.log().contains(why), "{}", libvirtd.log());
        }
    }
}
