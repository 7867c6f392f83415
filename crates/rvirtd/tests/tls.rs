//! TLS (`+tls` URIs) between stock clients, rvirsh, rvirtd and a stock
//! libvirtd, with certificates made by certtool ([`Pki`]).
//!
//! A client is accepted when its certificate chains to the CA, is in date,
//! not revoked and its DN is on `tls_allowed_dn_list`; otherwise the daemon
//! logs why and closes the connection, and the client says what libvirt's
//! client says. Stock virsh's refusal text against rvirtd is compared with
//! its text against a stock libvirtd holding the same certificates.
//!
//! Differences with libvirtd that rustls imposes (the texts below are
//! identical; these are in the daemon's log or in handshake failures):
//! - a handshake that fails inside TLS (no common cipher, a peer that is
//!   not TLS) is logged with rustls's wording, not GnuTLS's
//!   ("TLS handshake failed ..." keeps libvirt's prefix);
//! - the chain is verified by webpki: a certificate that is both expired
//!   and revoked reports the first problem webpki meets, GnuTLS reports
//!   "revoked" first;
//! - `tls_priority` selects among what rustls has (TLS 1.3 and 1.2, AEAD
//!   suites, ECDHE groups); a string GnuTLS would refuse stops rvirtd at
//!   start with libvirt's session text, where libvirtd starts and fails
//!   every TLS connection.

use rvirt_testkit::daemon::{rvirtd_refusal, Daemon};
use rvirt_testkit::pki::{have_certtool, Pki};
use rvirt_testkit::ports::free_port;
use rvirt_testkit::tools::{self, python3, python_libvirt_ready, rvirsh, virsh, Normalise, Output};

/// Why each refused client is refused, in the daemon's log (both daemons
/// log libvirt's `virNetTLSContextValidCertificate` reason).
const REFUSED: &[(&str, &str)] = &[
    ("expired", "The certificate is not trusted."),
    ("revoked", "The certificate has been revoked."),
    ("stranger", "Client's Distinguished Name is not on the list"),
    // A GnuTLS client offers no certificate the server's CA did not issue.
    ("foreign", "No certificate was found."),
];

/// What libvirt's client reports when the server refuses it: the server
/// closes the connection without a TLS close_notify, so the read of its
/// confirmation byte fails (GnuTLS's premature termination is EIO).
const SERVER_REFUSED: &str = "Unable to read TLS confirmation: Input/output error";

/// Every client but "stranger" is on the allow-list, so each refusal has
/// one cause.
fn acl() -> String {
    let names = ["client", "expired", "revoked", "foreign"];
    let patterns: Vec<String> = names
        .iter()
        .map(|n| format!("\"{}\"", Pki::client_dn(n).replace("Libvirt Project", "*")))
        .collect();
    format!("tls_allowed_dn_list = [{}]\n", patterns.join(", "))
}

fn ready() -> bool {
    if !have_certtool() {
        eprintln!("certtool not installed (scripts/install-deps.sh): skipping");
        return false;
    }
    tools::have_virsh()
}

/// A daemon with the TLS listener; its port.
fn with_tls(pki: &Pki, stock: bool) -> Option<(Daemon, u16)> {
    let port = free_port();
    let conf = format!("{}{}", pki.server_conf(port), acl());
    let d = if stock {
        Daemon::libvirtd_with(&conf)?
    } else {
        Daemon::rvirtd(&conf)
    };
    Some((d, port))
}

/// With certtool at hand: a PKI and an rvirtd serving TLS with it, and
/// its port.
fn tls_rvirtd() -> Option<(Pki, Daemon, u16)> {
    if !ready() {
        return None;
    }
    let pki = Pki::new();
    let (rvirtd, port) = with_tls(&pki, false).unwrap();
    Some((pki, rvirtd, port))
}

/// The URI for client `name`; expired and foreign clients skip their own
/// sanity check, or libvirt's client would refuse itself before the server
/// could.
fn uri(pki: &Pki, port: u16, name: &str) -> String {
    let no_sanity = if matches!(name, "expired" | "foreign") {
        "&no_sanity=1"
    } else {
        ""
    };
    format!("{}{no_sanity}", pki.client_uri(port, name))
}

#[test]
fn stock_virsh_accepted_and_refused_like_libvirtd() {
    let Some((pki, rvirtd, port)) = tls_rvirtd() else {
        return;
    };
    let ok = virsh(&uri(&pki, port, "client"), "list --all");
    assert!(ok.ok, "accepted client: {ok:?}\n{}", rvirtd.log());
    assert!(ok.stdout.contains("test"), "{ok:?}");
    let stock = with_tls(&pki, true);
    for (name, why) in REFUSED {
        let ours = virsh(&uri(&pki, port, name), "list --all");
        assert!(!ours.ok, "{name} accepted: {ours:?}");
        assert!(ours.stderr.contains(SERVER_REFUSED), "{name}: {ours:?}");
        let log = rvirtd.log();
        assert!(
            log.contains(why),
            "{name}: rvirtd log lacks '{why}':\n{log}"
        );
        assert!(log.contains("Failed to verify peer's certificate"), "{log}");
        let Some((libvirtd, stock_port)) = &stock else {
            continue;
        };
        let theirs = virsh(&uri(&pki, *stock_port, name), "list --all");
        assert_eq!(
            ours.stderr, theirs.stderr,
            "{name}: virsh against rvirtd vs libvirtd"
        );
        assert!(
            libvirtd.log().contains(why),
            "{name}: libvirtd log:\n{}",
            libvirtd.log()
        );
    }
}

#[test]
fn python_libvirt_over_tls() {
    if !python_libvirt_ready() {
        return;
    }
    let Some((pki, rvirtd, port)) = tls_rvirtd() else {
        return;
    };
    let script = "import libvirt, sys\n\
                  try:\n    c = libvirt.open(sys.argv[1])\n    print('hostname', bool(c.getHostname()), 'domains', len(c.listAllDomains()))\n\
                  except libvirt.libvirtError as e:\n    print('refused', e.get_error_message())\n";
    let good = python3(["-c", script, &uri(&pki, port, "client")]);
    assert_eq!(
        good.stdout.trim(),
        "hostname True domains 1",
        "{good:?}\n{}",
        rvirtd.log()
    );
    for (name, _) in REFUSED {
        let bad = python3(["-c", script, &uri(&pki, port, name)]);
        assert_eq!(
            bad.stdout.trim(),
            format!("refused {SERVER_REFUSED}"),
            "{name}: {bad:?}"
        );
    }
}

/// rvirsh accepted and refused as virsh is, by rvirtd and by libvirtd;
/// rvirtd logs why it refused each (a foreign client's certificate is not
/// even offered, as GnuTLS does not offer it, so rvirtd finds none).
#[test]
fn rvirsh_against_libvirtd_and_rvirtd() {
    let Some((pki, rvirtd, port)) = tls_rvirtd() else {
        return;
    };
    let mut daemons = vec![("rvirtd", port)];
    let stock = with_tls(&pki, true);
    if let Some((_, p)) = &stock {
        daemons.push(("libvirtd", *p));
    }
    for (daemon, port) in daemons {
        let ok = rvirsh(&uri(&pki, port, "client"), "list --all");
        let log = stock.as_ref().map(|(d, _)| d.log()).unwrap_or_default();
        assert!(ok.ok, "rvirsh to {daemon}: {ok:?}\n{log}");
        let theirs = virsh(&uri(&pki, port, "client"), "list --all");
        assert_eq!(ok.stdout, theirs.stdout, "rvirsh vs virsh against {daemon}");
        for (name, why) in REFUSED {
            let ours = rvirsh(&uri(&pki, port, name), "list --all");
            let theirs = virsh(&uri(&pki, port, name), "list --all");
            assert!(!ours.ok, "{name} accepted by {daemon}");
            assert_eq!(ours.stderr, theirs.stderr, "{name} refused by {daemon}");
            if daemon == "rvirtd" {
                // The last refusal logged is rvirsh's (virsh's came after).
                let log = rvirtd.log();
                let refusals: Vec<&str> = log
                    .lines()
                    .filter(|l| l.contains("Certificate check failed"))
                    .collect();
                let rvirsh_refusal = refusals[refusals.len() - 2];
                assert!(rvirsh_refusal.contains(why), "{name}: {log}");
            }
        }
    }
}

/// libvirt's client checks the server's certificate after the handshake:
/// the URI's host must be its owner, its CA the client's; `no_verify=1`
/// lets the client go on all the same.
#[test]
fn client_checks_the_server_certificate() {
    if !ready() {
        return;
    }
    let pki = Pki::new();
    let dir = pki.client_dir("client");
    let (_good, good_port) = with_tls(&pki, false).unwrap();
    let by_name = format!(
        "test+tls://localhost:{good_port}/default?pkipath={}",
        dir.display()
    );
    assert!(rvirsh(&by_name, "list --all").ok);
    let refused = "error: authentication failed: Failed to verify peer's certificate";
    // Both clients log why on stderr before their error, as libvirt's
    // client does by default ("Certificate check failed ...").
    let same_stderr = |ours: &Output, theirs: &Output| {
        let rules = [Normalise::LogLine];
        let (ours, theirs) = (ours.normalised(&rules), theirs.normalised(&rules));
        assert!(
            ours.stderr
                .contains("<log> warning : Certificate check failed "),
            "{ours:?}"
        );
        assert_eq!(ours.stderr, theirs.stderr);
    };
    // A server whose certificate names another host.
    let port = free_port();
    let _elsewhere = Daemon::rvirtd(&pki.server_conf_as("elsewhere", port));
    let uri = pki.client_uri(port, "client");
    let outs = [rvirsh(&uri, "list --all"), virsh(&uri, "list --all")];
    for out in &outs {
        assert!(!out.ok && out.stderr.contains(refused), "{out:?}");
    }
    same_stderr(&outs[0], &outs[1]);
    assert!(rvirsh(&format!("{uri}&no_verify=1"), "list --all").ok);
    // A client that trusts another CA only.
    let other = pki.path("other-ca");
    std::fs::create_dir_all(&other).unwrap();
    for f in ["clientcert.pem", "clientkey.pem"] {
        std::fs::copy(dir.join(f), other.join(f)).unwrap();
    }
    std::fs::copy(pki.path("ca2-cert.pem"), other.join("cacert.pem")).unwrap();
    let uri = format!(
        "test+tls://127.0.0.1:{good_port}/default?pkipath={}&no_sanity=1",
        other.display()
    );
    let outs = [rvirsh(&uri, "list --all"), virsh(&uri, "list --all")];
    for out in &outs {
        assert!(!out.ok && out.stderr.contains(refused), "{out:?}");
    }
    same_stderr(&outs[0], &outs[1]);
}

#[test]
fn server_certificate_sanity_checked_at_start() {
    if !have_certtool() {
        return;
    }
    let pki = Pki::new();
    let conf = |cert: &str, key: &str| {
        format!(
            "listen_tls = 1\ntls_port = \"{}\"\nca_file = \"{}\"\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
            free_port(),
            pki.path("ca-cert.pem").display(),
            pki.path(cert).display(),
            pki.path(key).display()
        )
    };
    let ca_as_server = rvirtd_refusal(&["--listen"], &conf("ca-cert.pem", "ca-key.pem"));
    let want = format!(
        "The certificate {} basic constraints show a CA, but we need one for a server",
        pki.path("ca-cert.pem").display()
    );
    assert!(ca_as_server.contains(&want), "{ca_as_server}");
    let expired = rvirtd_refusal(&["--listen"], &conf("expired-cert.pem", "expired-key.pem"));
    let want = format!(
        "The server certificate {} has expired",
        pki.path("expired-cert.pem").display()
    );
    assert!(expired.contains(&want), "{expired}");
    let foreign = rvirtd_refusal(&["--listen"], &conf("foreign-cert.pem", "foreign-key.pem"));
    assert!(
        foreign.contains("failed validation against")
            && foreign.contains("The certificate hasn't got a known issuer."),
        "{foreign}"
    );
    let partial = rvirtd_refusal(
        &["--listen"],
        &format!(
            "listen_tls = 1\ncert_file = \"{}\"\n",
            pki.path("server-cert.pem").display()
        ),
    );
    assert!(
        partial.contains("No CA certificate path set to match server key/cert"),
        "{partial}"
    );
}

/// `tls_priority` on both ends: a server held to TLS 1.2 serves stock
/// virsh and rvirsh with the default priority, and neither a GnuTLS nor
/// an rvirsh client that asks for TLS 1.3 only; a priority string GnuTLS
/// does not know is refused with libvirt's text, by rvirtd at start and
/// by rvirsh at open.
#[test]
fn tls_priority_selects_the_protocol_versions() {
    if !ready() {
        return;
    }
    let pki = Pki::new();
    let port = free_port();
    let conf = format!(
        "{}tls_priority = \"NORMAL:-VERS-TLS1.3\"\n",
        pki.server_conf(port)
    );
    let _rvirtd = Daemon::rvirtd(&conf);
    let base = uri(&pki, port, "client");
    let tls13_only = format!("{base}&tls_priority=NORMAL:-VERS-TLS1.2");
    for client in [virsh as fn(&str, &str) -> tools::Output, rvirsh] {
        let ok = client(&base, "uri");
        assert!(ok.ok, "{}", ok.stderr);
        let refused = client(&tls13_only, "uri");
        assert!(
            !refused.ok,
            "a TLS 1.3-only client got through: {}",
            refused.stdout
        );
    }
    let bad = rvirsh(&format!("{base}&tls_priority=NORMAL:+NOT-A-CIPHER"), "uri");
    assert!(
        bad.stderr.contains(
            "Failed to set TLS session priority to NORMAL:+NOT-A-CIPHER: The request is invalid."
        ),
        "{}",
        bad.stderr
    );
    let refusal = rvirtd_refusal(
        &["--listen"],
        &format!("{}tls_priority = \"BOGUS\"\n", pki.server_conf(free_port())),
    );
    assert!(
        refusal.contains("Failed to set TLS session priority to BOGUS: The request is invalid."),
        "{refusal}"
    );
}

/// What is not a TLS client on the TLS port (plain RPC, garbage, a client
/// that leaves mid-handshake) is logged and dropped; the daemon serves the
/// next client.
#[test]
fn non_tls_peers_are_dropped() {
    use std::io::{Read, Write};
    let Some((pki, rvirtd, port)) = tls_rvirtd() else {
        return;
    };
    let plain_rpc = [
        0u8, 0, 0, 28, 0x20, 0x00, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 66,
    ];
    for bytes in [&plain_rpc[..], b"\x16\x03\x01\xff\xffgarbage", b"\x16\x03"] {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        s.write_all(bytes).unwrap();
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        // At most a TLS alert comes back, never libvirt's bare confirmation.
        assert_ne!(rest, [1u8], "confirmed without TLS");
    }
    assert!(
        rvirtd.log().contains("TLS handshake failed"),
        "{}",
        rvirtd.log()
    );
    let ok = virsh(&uri(&pki, port, "client"), "list --all");
    assert!(ok.ok, "{ok:?}");
}

/// A peer-to-peer tunnelled migration between two rvirtd hosts whose
/// daemons talk over `+tls`: the source's remote driver presents the
/// client certificate of the URI's `pkipath`, the destination checks it.
#[test]
fn tunnelled_p2p_migration_over_tls() {
    if !ready() {
        return;
    }
    use rvirt_testkit::hosts::{Guest, Host};
    let pki = Pki::new();
    let port = free_port();
    let src = Host::start("tls-src");
    let dst = Host::start_with("tls-dst", &format!("{}{}", pki.server_conf(port), acl()));
    let guest = Guest::new("tlsmig");
    src.define_and_start(&guest);
    let to = |name: &str| uri(&pki, port, name);
    let refused = src.virsh(&format!(
        "migrate --live --p2p --tunnelled {} {}",
        guest.name,
        to("stranger")
    ));
    assert!(
        !refused.ok && refused.stderr.contains(SERVER_REFUSED),
        "{refused:?}"
    );
    let out = src.virsh(&format!(
        "migrate --live --p2p --tunnelled {} {}",
        guest.name,
        to("client")
    ));
    assert!(out.ok, "{out:?}\n{}", dst.log());
    assert_eq!(dst.domstate(&guest.name).as_deref(), Some("running"));
    assert_eq!(src.domstate(&guest.name).as_deref(), Some("shut off"));
}
