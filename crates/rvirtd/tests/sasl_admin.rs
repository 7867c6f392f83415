//! The admin program and SASL, on rvirtd and a stock libvirtd side by
//! side: `client-info` shows a SASL client's `sasl_user_name`;
//! `srv-clients-info` counts the clients still authenticating
//! (`nclients_unauth`); and while `max_anonymous_clients` of them are,
//! the daemon accepts no one (libvirtd's `virNetServerCheckLimits`): a
//! new client waits, and is served once one finishes authenticating or
//! the limit is raised with `srv-clients-set --max-unauth-clients`.

use rvirt_testkit::bins;
use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::held::HeldClient;
use rvirt_testkit::sasl::{have_saslpasswd2, SaslDb};
use rvirt_testkit::tools::{diff, have_virsh, have_virt_admin, python_libvirt_ready};
use rvirt_testkit::tools::{shell_command, virt_admin, Normalise, Output, PYTHON3};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn ready() -> bool {
    let ok = have_saslpasswd2() && have_virsh() && have_virt_admin() && python_libvirt_ready();
    if !ok {
        eprintln!("saslpasswd2, virsh, virt-admin or python3-libvirt missing: skipping");
    }
    ok
}

fn sasl_db() -> SaslDb {
    let db = SaslDb::new("scram-sha-256");
    db.add_user("fred", "letmein");
    db
}

/// rvirtd and (when it starts) libvirtd with SASL on the read-write socket.
fn daemons(db: &SaslDb, extra: &str) -> Vec<Daemon> {
    let conf = format!("auth_unix_rw = \"sasl\"\n{extra}");
    let mut all: Vec<Daemon> = Daemon::libvirtd_env(&conf, &db.env()).into_iter().collect();
    all.push(Daemon::rvirtd_env(&bins::rvirtd(), &conf, &db.env()));
    all
}

fn compare(case: &str, outputs: &[Output], log: &str) {
    if let [want, got] = outputs {
        if let Some(d) = diff(case, ("libvirtd", want), ("rvirtd", got)) {
            panic!("{d}\n--- rvirtd log:\n{log}");
        }
    }
}

#[test]
fn client_info_shows_the_sasl_user_name_as_libvirtd() {
    if !ready() {
        return;
    }
    let db = sasl_db();
    let auth = db.auth_file("auth.conf", "fred", "letmein");
    let daemons = daemons(&db, "");
    let rules = [
        Normalise::Field("id"),
        Normalise::Field("unix_process_id"),
        Normalise::Timestamp,
    ];
    let mut outputs = Vec::new();
    for d in &daemons {
        let mut held = HeldClient::open_authenticated(&d.unix_uri(), &auth);
        assert_eq!(held.call(), "ok", "{}", d.name);
        let id = d.admin_client_ids().pop().expect("the held client");
        let out = virt_admin(&d.admin_uri(), &format!("client-info libvirtd {id}"));
        assert!(
            out.stdout.contains("sasl_user_name : fred\n"),
            "{}: {out:?}",
            d.name
        );
        outputs.push(out.normalised(&rules));
    }
    compare(
        "client-info (SASL)",
        &outputs,
        &daemons.last().unwrap().log(),
    );
}

/// A python3-libvirt client that stops in the middle of SASL (in its
/// credentials callback, after AUTH_LIST and SASL_INIT) until told to go on.
const SLOW_AUTH: &str = r#"
import sys, libvirt
def cb(creds, data):
    print("asked", flush=True)
    sys.stdin.readline()
    for c in creds:
        c[4] = "fred" if c[0] == libvirt.VIR_CRED_AUTHNAME else "letmein"
    return 0
c = libvirt.openAuth(sys.argv[1], [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], cb, None], 0)
print("open", flush=True)
sys.stdin.readline()
"#;

struct SlowClient {
    child: Child,
    out: BufReader<std::process::ChildStdout>,
}

impl SlowClient {
    /// Connected, and waiting in the middle of authentication.
    fn start(uri: &str) -> SlowClient {
        let mut child = Command::new(PYTHON3)
            .args(["-c", SLOW_AUTH, uri])
            .env_remove("LIBVIRT_AUTH_FILE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut c = SlowClient { child, out };
        assert_eq!(c.line(), "asked");
        c
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.out.read_line(&mut l).expect("read");
        l.trim_end().to_string()
    }

    /// Finish authenticating; the connection is then open.
    fn finish(&mut self) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
        assert_eq!(self.line(), "open");
    }
}

impl Drop for SlowClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `child` is still running `for_at_least`.
fn still_waiting(child: &mut Child, for_at_least: Duration) -> bool {
    std::thread::sleep(for_at_least);
    matches!(child.try_wait(), Ok(None))
}

/// `child`'s output once it ends (within 30 s).
fn finished(mut child: Child) -> Output {
    let start = Instant::now();
    while matches!(child.try_wait(), Ok(None)) && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait_with_output().expect("output").into()
}

/// `srv-clients-info libvirtd`, once a client that just ended has left.
fn clients_info(d: &Daemon) -> Output {
    std::thread::sleep(Duration::from_millis(300));
    let out = virt_admin(&d.admin_uri(), "srv-clients-info libvirtd");
    assert!(out.ok, "{}: {out:?}", d.name);
    out
}

#[test]
fn max_anonymous_clients_holds_new_clients_while_one_authenticates() {
    if !ready() {
        return;
    }
    let db = sasl_db();
    let auth = db.auth_file("auth.conf", "fred", "letmein");
    let daemons = daemons(&db, "max_anonymous_clients = 1\n");
    let mut infos = Vec::new();
    for d in &daemons {
        let virsh = || {
            shell_command("virsh", &d.unix_uri(), "domstate test")
                .env("LIBVIRT_AUTH_FILE", &auth)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("virsh")
        };
        let mut first = SlowClient::start(&d.unix_uri());
        infos.push(clients_info(d));
        let mut second = virsh();
        assert!(
            still_waiting(&mut second, Duration::from_secs(2)),
            "{}: a second client was served while the first authenticates",
            d.name
        );
        first.finish();
        let out = finished(second);
        assert!(out.ok && out.stdout == "running\n\n", "{}: {out:?}", d.name);
        infos.push(clients_info(d));

        // Raising the limit lets a waiting client in at once.
        let _third = SlowClient::start(&d.unix_uri());
        let mut fourth = virsh();
        assert!(
            still_waiting(&mut fourth, Duration::from_secs(1)),
            "{}",
            d.name
        );
        let set = virt_admin(
            &d.admin_uri(),
            "srv-clients-set libvirtd --max-unauth-clients 2",
        );
        assert!(set.ok, "{}: {set:?}", d.name);
        let out = finished(fourth);
        assert!(out.ok, "{}: {out:?}", d.name);
        infos.push(clients_info(d));
    }
    let log = daemons.last().unwrap().log();
    let rvirtd_infos = &infos[infos.len() - 3..];
    assert!(
        rvirtd_infos[0].stdout.contains("nclients_unauth     : 1\n"),
        "{:?}",
        rvirtd_infos[0]
    );
    assert!(
        rvirtd_infos[1].stdout.contains("nclients_unauth     : 0\n"),
        "{:?}",
        rvirtd_infos[1]
    );
    if infos.len() == 6 {
        for i in 0..3 {
            compare(
                &format!("srv-clients-info #{i}"),
                &[infos[i].clone(), infos[i + 3].clone()],
                &log,
            );
        }
    }
}
