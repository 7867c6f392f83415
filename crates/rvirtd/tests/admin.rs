//! Stock virt-admin against rvirtd's admin socket must print what it prints
//! against a stock libvirtd started the same way (each with its admin
//! socket in its own directory), with only named normalisations: client
//! ids, connect times, client pids and TCP ports. Stock virsh's QEMU
//! commands (the QEMU program) must get libvirtd's answers on
//! test:///default.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::held::HeldClient;
use rvirt_testkit::tools::{diff, have_virt_admin, python_libvirt_ready, virsh, virt_admin};
use rvirt_testkit::tools::{Normalise, Output};
use std::os::unix::fs::PermissionsExt;

/// Both daemons, or `None` (with a note) where the stock tools are missing.
fn daemons() -> Option<(Daemon, Daemon)> {
    if !have_virt_admin() || !python_libvirt_ready() {
        eprintln!("virt-admin or python3-libvirt missing: skipping");
        return None;
    }
    let libvirtd = Daemon::libvirtd()?;
    Some((libvirtd, Daemon::rvirtd("")))
}

/// What differs legitimately between the two daemons' answers.
fn rules() -> Vec<Normalise> {
    vec![
        Normalise::Timestamp,
        Normalise::RowId,
        Normalise::Field("id"),
        Normalise::Field("unix_process_id"),
        Normalise::Field("sock_addr"),
    ]
}

/// Run `cases` through virt-admin on both daemons; the differences.
fn compare(pair: &(Daemon, Daemon), cases: &[String], failures: &mut Vec<String>) {
    let rules = rules();
    for case in cases {
        let mut want = virt_admin(&pair.0.admin_uri(), case).normalised(&rules);
        let mut got = virt_admin(&pair.1.admin_uri(), case).normalised(&rules);
        if case == "srv-list" {
            // libvirtd's order is its hash table's; rvirtd's is libvirtd's
            // creation order ("libvirtd", "admin"), one of the two.
            (want, got) = (want.unordered(), got.unordered());
        }
        failures.extend(diff(case, ("libvirtd", &want), ("rvirtd", &got)));
    }
}

fn report(failures: &[String], rvirtd: &Daemon) {
    assert!(
        failures.is_empty(),
        "{} cases differ:\n{}\n--- rvirtd log:\n{}",
        failures.len(),
        failures.join("\n"),
        rvirtd.log()
    );
}

#[test]
fn virt_admin_reads_and_sets_like_libvirtd() {
    let Some(pair) = daemons() else { return };
    for d in [&pair.0, &pair.1] {
        let mode = std::fs::metadata(d.admin_socket()).expect("admin socket");
        assert_eq!(mode.permissions().mode() & 0o777, 0o700, "{}", d.name);
    }
    // One read-write unix client and one read-only TCP client on each.
    let held: Vec<_> = [&pair.0, &pair.1]
        .iter()
        .map(|d| {
            let unix = HeldClient::open(&d.unix_uri(), false);
            (unix, HeldClient::open(&d.tcp_uri(), true))
        })
        .collect();
    let mut failures = Vec::new();
    let mut cases: Vec<String> = [
        "version",
        "srv-list",
        "srv-clients-list libvirtd",
        "srv-threadpool-info libvirtd",
        "srv-clients-info libvirtd",
        "daemon-log-filters",
        "daemon-log-outputs",
        "srv-update-tls libvirtd",
        "srv-clients-list nosuch",
        "client-info libvirtd 999",
        "client-info nosuch 1",
        "daemon-log-filters --filters 'bad'",
        "daemon-log-filters --filters '1:remote 4:util'; daemon-log-filters",
        "daemon-log-filters --filters ''; daemon-log-filters",
        "srv-threadpool-set libvirtd --min-workers 2 --max-workers 4; srv-threadpool-info libvirtd",
        "srv-threadpool-set libvirtd --max-workers 0",
        "srv-clients-set libvirtd --max-clients 10",
        "srv-clients-set libvirtd --max-clients 30 --max-unauth-clients 5; srv-clients-info libvirtd",
    ]
    .map(String::from)
    .to_vec();
    let (want_ids, got_ids) = (pair.0.admin_client_ids(), pair.1.admin_client_ids());
    assert_eq!(got_ids.len(), 2, "rvirtd lists both held clients");
    assert_eq!(want_ids.len(), got_ids.len());
    for (i, id) in got_ids.iter().enumerate() {
        // Same position in both lists: the unix client, then the TCP one.
        let want = virt_admin(
            &pair.0.admin_uri(),
            &format!("client-info libvirtd {}", want_ids[i]),
        );
        let got = virt_admin(&pair.1.admin_uri(), &format!("client-info libvirtd {id}"));
        let rules = rules();
        failures.extend(diff(
            &format!("client-info libvirtd #{i}"),
            ("libvirtd", &want.normalised(&rules)),
            ("rvirtd", &got.normalised(&rules)),
        ));
        if i == 0 {
            // The pid is real: the held client's own (SO_PEERCRED).
            let pid = format!("unix_process_id: {}", held[1].0.pid());
            assert!(got.stdout.contains(&pid), "{}", got.stdout);
        }
    }
    compare(&pair, &cases, &mut failures);
    // Garbage on the admin socket costs that connection only.
    let mut raw = std::os::unix::net::UnixStream::connect(pair.1.admin_socket()).unwrap();
    let _ = std::io::Write::write_all(&mut raw, &[0xff; 64]);
    drop(raw);
    cases = vec!["srv-list".into()];
    compare(&pair, &cases, &mut failures);
    report(&failures, &pair.1);
    drop(held);
}

#[test]
fn client_disconnect_really_drops_the_client() {
    let Some(pair) = daemons() else { return };
    let mut failures = Vec::new();
    let mut outcomes = Vec::new();
    for d in [&pair.0, &pair.1] {
        let mut client = HeldClient::open(&d.unix_uri(), false);
        assert_eq!(client.call(), "ok", "{}", d.name);
        let ids = d.admin_client_ids();
        let id = ids.last().expect("the held client").clone();
        let out = virt_admin(&d.admin_uri(), &format!("client-disconnect libvirtd {id}"));
        let out = out.normalised(&[Normalise::Value(format!("'{id}'"), "id")]);
        let after = virt_admin(&d.admin_uri(), "srv-clients-info libvirtd");
        let left = d.admin_client_ids();
        assert!(
            !left.contains(&id),
            "{}: {id} still listed: {left:?}",
            d.name
        );
        let next = client.call();
        assert!(
            next.starts_with("error "),
            "{}: next call gave {next}",
            d.name
        );
        outcomes.push((out, after));
    }
    let (want, got) = (&outcomes[0], &outcomes[1]);
    failures.extend(diff(
        "client-disconnect",
        ("libvirtd", &want.0),
        ("rvirtd", &got.0),
    ));
    failures.extend(diff(
        "srv-clients-info after",
        ("libvirtd", &want.1),
        ("rvirtd", &got.1),
    ));
    report(&failures, &pair.1);
}

/// Stock virsh on `uri`, for the QEMU program's commands.
fn qemu_cases(uri: &str, ro: &str) -> Vec<(String, Output)> {
    let monitor = r#"qemu-monitor-command test '{"execute":"query-status"}'"#;
    [
        (uri, monitor.to_string()),
        (uri, format!("{monitor} --pretty")),
        (uri, "qemu-monitor-command test --hmp info status".into()),
        (
            uri,
            r#"qemu-agent-command test '{"execute":"guest-ping"}'"#.into(),
        ),
        (uri, "qemu-monitor-event test --timeout 1".into()),
        (uri, "qemu-monitor-event --timeout 1".into()),
        (uri, "qemu-attach 1".into()),
        (ro, monitor.to_string()),
    ]
    .into_iter()
    .map(|(u, case)| {
        let out = virsh(u, &case);
        (case, out)
    })
    .collect()
}

#[test]
fn qemu_commands_answer_like_libvirtd_on_the_test_driver() {
    let Some(libvirtd) = Daemon::libvirtd() else {
        return;
    };
    let rvirtd = Daemon::rvirtd("");
    let ro = |d: &Daemon| format!("test+unix:///default?socket={}", d.socket_ro().display());
    let want = qemu_cases(&libvirtd.unix_uri(), &ro(&libvirtd));
    let got = qemu_cases(&rvirtd.unix_uri(), &ro(&rvirtd));
    let mut failures = Vec::new();
    for ((case, w), (_, g)) in want.iter().zip(&got) {
        assert!(!w.ok, "libvirtd's test driver has no monitor: {case}");
        failures.extend(diff(case, ("libvirtd", w), ("rvirtd", g)));
    }
    report(&failures, &rvirtd);
}

#[test]
fn daemon_timeout_stops_rvirtd_once_it_has_no_clients() {
    if !have_virt_admin() {
        return;
    }
    let mut d = Daemon::rvirtd("");
    let out = virt_admin(&d.admin_uri(), "daemon-timeout --timeout 1");
    assert!(out.ok && out.stdout.trim().is_empty(), "{out:?}");
    let start = std::time::Instant::now();
    while d.is_running() && start.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!d.is_running(), "still running:\n{}", d.log());
    assert!(start.elapsed() >= std::time::Duration::from_millis(900));
    assert!(!d.admin_socket().exists(), "the admin socket is removed");
}
