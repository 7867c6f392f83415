//! SASL (SCRAM-SHA-256) between stock clients, rvirsh, rvirtd and a stock
//! libvirtd, with a password database made by `saslpasswd2` and Cyrus's
//! application config in a private directory (`SASL_CONF_PATH`).
//!
//! Each daemon listens with `auth_unix_rw = "sasl"` (a UNIX socket is
//! secure, so libvirt asks no security layer of SCRAM there) and
//! `sasl_allowed_username_list`. The right password is accepted; a wrong
//! one and a user not on the list are refused, and stock virsh's words
//! for each against rvirtd are compared with its words against libvirtd.

use rvirt_testkit::bins;
use rvirt_testkit::daemon::{rvirtd_refusal, Daemon};
use rvirt_testkit::sasl::{have_saslpasswd2, SaslDb};
use rvirt_testkit::tools::{self, python3, python_libvirt_ready, shell_command, Output};
use std::path::Path;

const ACL: &str = "sasl_allowed_username_list = [\"fred\", \"adm*\"]\n";

fn config() -> String {
    format!("auth_unix_rw = \"sasl\"\n{ACL}")
}

/// The users: two on the list, one (mallory) not.
fn sasl_db() -> SaslDb {
    sasl_db_offering("scram-sha-256")
}

/// As [`sasl_db`] with Cyrus's `mech_list` set to `mechs`.
fn sasl_db_offering(mechs: &str) -> SaslDb {
    let db = SaslDb::new(mechs);
    db.add_user("fred", "letmein");
    db.add_user("admin1", "s3cret");
    db.add_user("mallory", "hunter2");
    db
}

/// `program -c URI COMMANDS` with `auth` as LIBVIRT_AUTH_FILE.
fn shell_auth(program: impl AsRef<std::ffi::OsStr>, uri: &str, cmds: &str, auth: &Path) -> Output {
    shell_command(program, uri, cmds)
        .env("LIBVIRT_AUTH_FILE", auth)
        .output()
        .expect("run shell")
        .into()
}

fn uri(d: &Daemon) -> String {
    d.unix_uri()
}

/// (user, password, accepted?)
const CASES: &[(&str, &str, bool)] = &[
    ("fred", "letmein", true),
    ("admin1", "s3cret", true),
    ("fred", "wrong", false),
    ("mallory", "hunter2", false),
];

/// What libvirt's client says for every refusal: the daemon resets the
/// reason and reports AUTH_FAILED (remoteDispatchAuthSaslStart/Step).
const REFUSED: &str = "error: authentication failed: authentication failed";

fn ready() -> bool {
    have_saslpasswd2() && tools::have_virsh()
}

/// The user database and rvirtd and stock libvirtd (when it can start)
/// on it, with SASL on TCP; `None` without the tools.
fn both_daemons() -> Option<(SaslDb, Daemon, Option<Daemon>)> {
    if !ready() {
        return None;
    }
    let db = sasl_db();
    let rvirtd = Daemon::rvirtd_env(&bins::rvirtd(), &config(), &db.env());
    let libvirtd = Daemon::libvirtd_env(&config(), &db.env());
    Some((db, rvirtd, libvirtd))
}

#[test]
fn stock_virsh_authenticates_to_rvirtd_as_to_libvirtd() {
    let Some((db, rvirtd, libvirtd)) = both_daemons() else {
        return;
    };
    for (i, (user, pass, ok)) in CASES.iter().enumerate() {
        let auth = db.auth_file(&format!("auth{i}.conf"), user, pass);
        let ours = shell_auth("virsh", &uri(&rvirtd), "domstate test", &auth);
        assert_eq!(ours.ok, *ok, "{user}/{pass}: {ours:?}\n{}", rvirtd.log());
        if *ok {
            assert_eq!(ours.stdout, "running\n\n");
        } else {
            assert!(ours.stderr.contains(REFUSED), "{user}: {ours:?}");
        }
        if let Some(d) = &libvirtd {
            let theirs = shell_auth("virsh", &uri(d), "domstate test", &auth);
            assert_eq!(theirs.ok, *ok, "libvirtd {user}: {theirs:?}");
            assert_eq!(ours.stderr, theirs.stderr, "{user}/{pass}");
        }
    }
    let log = rvirtd.log();
    assert!(
        log.contains("SASL client identity 'mallory' not allowed by ACL"),
        "{log}"
    );
    // The read-only socket keeps auth "none".
    let ro = format!(
        "test+unix:///default?socket={}",
        rvirtd.socket_ro().display()
    );
    let out = tools::virsh(&ro, "uri");
    assert!(out.ok, "{out:?}");
}

#[test]
fn python_libvirt_authenticates_with_a_callback() {
    if !ready() || !python_libvirt_ready() {
        return;
    }
    let db = sasl_db();
    let rvirtd = Daemon::rvirtd_env(&bins::rvirtd(), &config(), &db.env());
    let script = r#"
import sys, libvirt
uri, user, password = sys.argv[1:4]
asked = []
def cb(creds, data):
    for c in creds:
        asked.append(c[0])
        if c[0] == libvirt.VIR_CRED_AUTHNAME:
            c[4] = user
        elif c[0] == libvirt.VIR_CRED_PASSPHRASE:
            c[4] = password
    return 0
auth = [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], cb, None]
try:
    conn = libvirt.openAuth(uri, auth, 0)
    print("ok", conn.lookupByName("test").state()[0], conn.isSecure(), sorted(asked))
except libvirt.libvirtError as e:
    print("refused", e.get_error_code(), e.get_error_domain(), e.get_error_message())
"#;
    let run = |user: &str, pass: &str| {
        let out = python3(["-c", script, &uri(&rvirtd), user, pass]);
        assert!(out.ok, "{out:?}");
        out.stdout
    };
    let ok = run("fred", "letmein");
    assert_eq!(ok.trim(), "ok 1 1 [2, 5]", "{}", rvirtd.log());
    // VIR_ERR_AUTH_FAILED (45) from the RPC domain (7).
    let refused = "refused 45 7 authentication failed: authentication failed";
    assert_eq!(run("fred", "nope").trim(), refused);
    assert_eq!(run("mallory", "hunter2").trim(), refused);
}

#[test]
fn rvirsh_authenticates_to_stock_libvirtd_and_rvirtd() {
    let Some((db, rvirtd, libvirtd)) = both_daemons() else {
        return;
    };
    let daemons = std::iter::once(&rvirtd).chain(libvirtd.as_ref());
    for d in daemons {
        for (i, (user, pass, ok)) in CASES.iter().enumerate() {
            let auth = db.auth_file(&format!("r{i}.conf"), user, pass);
            let out = shell_auth(bins::rvirsh(), &uri(d), "domstate test", &auth);
            assert_eq!(out.ok, *ok, "{} {user}/{pass}: {out:?}", d.name);
            if !ok {
                assert!(out.stderr.contains(REFUSED), "{}: {out:?}", d.name);
            }
        }
        // Without an auth file rvirsh prompts as virsh does: answers on stdin.
        let out = prompted(&uri(d), &db.auth_file_empty(), "fred\nletmein\n");
        assert!(out.ok, "{}: {out:?}", d.name);
        assert!(
            out.stdout
                .starts_with("Please enter your authentication name: Please enter your password: "),
            "{out:?}"
        );
    }
}

/// rvirsh `uri` with an auth file that has no credentials, `input` on
/// its stdin.
fn prompted(uri: &str, empty_auth: &Path, input: &str) -> Output {
    use std::io::Write;
    let mut child = shell_command(bins::rvirsh(), uri, "uri")
        .env("LIBVIRT_AUTH_FILE", empty_auth)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rvirsh");
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes());
    tools::wait(child)
}

#[test]
fn settings_rvirtd_cannot_honour_are_refused_clearly() {
    let e = rvirtd_refusal(&["--listen"], "listen_tcp = 1\nauth_tcp = \"sasl\"\n");
    assert!(e.contains("needs a SASL security layer"), "{e}");
    let e = rvirtd_refusal(&[], "auth_unix_rw = \"polkit\"\n");
    assert!(
        e.contains("auth_unix_rw = \"polkit\" is not available"),
        "{e}"
    );
    let e = rvirtd_refusal(&[], "auth_unix_ro = \"kerberos\"\n");
    assert!(e.contains("auth_unix_ro: unsupported auth kerberos"), "{e}");
}

/// `auth_tls = "sasl"`: the client's certificate first, then SCRAM, with
/// SASL told the TLS cipher's strength as its external SSF.
#[test]
fn sasl_over_tls_with_stock_virsh_and_rvirsh() {
    sasl_over_tls("scram-sha-256");
}

#[test]
fn scram_sha_1_over_tls() {
    sasl_over_tls("scram-sha-1");
}

/// PLAIN: Cyrus allows it (despite libvirt's "no plaintext" flag) only
/// because TLS gives the session an external SSF.
#[test]
fn plain_over_tls() {
    sasl_over_tls("plain");
}

/// DIGEST-MD5 with no security layer (qop "auth": libvirt's maximum SSF
/// is 0 over TLS).
#[test]
fn digest_md5_over_tls() {
    sasl_over_tls("digest-md5");
}

/// A mechanism that needs a security layer (DIGEST-MD5 negotiates
/// "auth-conf" on plain TCP, where libvirt asks for an SSF of 56 or
/// more): stock virsh gets in to libvirtd, which then wraps every packet
/// in it; rvirsh, which has no security layer, refuses it clearly rather
/// than talk in clear on a session libvirtd encrypts.
#[test]
fn rvirsh_refuses_a_mechanism_needing_a_security_layer() {
    if !ready() {
        return;
    }
    let db = sasl_db_offering("digest-md5");
    let conf = format!("auth_tcp = \"sasl\"\n{ACL}");
    let Some(libvirtd) = Daemon::libvirtd_env(&conf, &db.env()) else {
        return;
    };
    let auth = db.auth_file("layer.conf", "fred", "letmein");
    let uri = libvirtd.tcp_uri();
    let theirs = shell_auth("virsh", &uri, "domstate test", &auth);
    assert!(theirs.ok, "{theirs:?}\n{}", libvirtd.log());
    assert_eq!(theirs.stdout, "running\n\n");
    let ours = shell_auth(bins::rvirsh(), &uri, "domstate test", &auth);
    assert!(!ours.ok, "{ours:?}");
    assert!(
        ours.stderr
            .contains("error: authentication failed: SASL negotiated a security layer (SSF ")
            && ours.stderr.contains(
                "which rvirt does not implement: use TLS (+tls) or a UNIX socket for SASL"
            ),
        "{ours:?}"
    );
}

/// The accepted and refused users of [`CASES`] over TLS with `mech` the
/// only mechanism offered: stock virsh and rvirsh, against rvirtd and
/// stock libvirtd, virsh's words the same against both.
fn sasl_over_tls(mech: &str) {
    use rvirt_testkit::pki::{have_certtool, Pki};
    use rvirt_testkit::ports::free_port;
    if !ready() || !have_certtool() {
        return;
    }
    let db = sasl_db_offering(mech);
    let pki = Pki::new();
    let conf = |port| format!("{}auth_tls = \"sasl\"\n{ACL}", pki.server_conf(port));
    let port = free_port();
    let rvirtd = Daemon::rvirtd_env(&bins::rvirtd(), &conf(port), &db.env());
    let mut ports = vec![(port, "rvirtd")];
    let stock_port = free_port();
    let libvirtd = Daemon::libvirtd_env(&conf(stock_port), &db.env());
    if libvirtd.is_some() {
        ports.push((stock_port, "libvirtd"));
    }
    let tls_uri = |port| pki.client_uri(port, "client");
    for (i, (user, pass, ok)) in CASES.iter().enumerate() {
        let auth = db.auth_file(&format!("tls{i}.conf"), user, pass);
        let mut virsh_err = Vec::new();
        for (port, name) in &ports {
            for program in ["virsh".into(), bins::rvirsh()] {
                let out = shell_auth(&program, &tls_uri(*port), "domstate test", &auth);
                assert_eq!(
                    out.ok, *ok,
                    "{mech}: {program:?} to {name} as {user}: {out:?}"
                );
                if !ok {
                    assert!(out.stderr.contains(REFUSED), "{program:?} {name}: {out:?}");
                }
                if program.as_os_str() == "virsh" {
                    virsh_err.push(out.stderr);
                }
            }
        }
        virsh_err.dedup();
        assert_eq!(virsh_err.len(), 1, "stock virsh differs: {virsh_err:?}");
    }
    drop(libvirtd);
    assert!(rvirtd
        .log()
        .contains("identity 'mallory' not allowed by ACL"));
}
