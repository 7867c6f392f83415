//! Stock virsh against rvirtd over TCP and a unix socket must print what it
//! prints on `test:///default` in-process, and what it prints against a
//! stock libvirtd (cases run one after the other: the daemon's
//! test:///default starts afresh only when no client holds it).

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::snapshot_cases;
use rvirt_testkit::spine::{cases, Fixtures};
use rvirt_testkit::tools::{assert_none_differ, diff, virsh, Normalise, Output};

/// Stock virsh on `uri`; the CPU-time clock reading and the URI itself
/// (each daemon's differs) blanked.
fn run(uri: &str, case: &str) -> Output {
    virsh(uri, case).normalised(&[Normalise::CpuTime, Normalise::Uri(uri.to_string())])
}

/// The differences, case by case, between virsh's output on two
/// (label, URI) targets.
fn differences<'a>(
    cases: impl IntoIterator<Item = &'a str>,
    (want_label, want_uri): (&str, &str),
    (got_label, got_uri): (&str, &str),
) -> Vec<String> {
    let differs = |case: &str| {
        let want = run(want_uri, case);
        let got = run(got_uri, case);
        diff(case, (want_label, &want), (got_label, &got))
    };
    cases.into_iter().filter_map(differs).collect()
}

#[test]
fn virsh_over_rvirtd_matches_virsh_in_process() {
    let fixtures = Fixtures::write();
    let d = Daemon::rvirtd("");
    let cases = cases(&fixtures);
    let in_process = ("in-process", "test:///default");
    let mut failures = differences(
        cases.iter().map(String::as_str),
        in_process,
        ("rvirtd tcp", &d.tcp_uri()),
    );
    // The unix socket and the read-only socket, on a sample.
    let sample = [
        "list --all",
        "dominfo test",
        "destroy test; list --all; start test; domid test",
    ];
    failures.extend(differences(
        sample,
        in_process,
        ("rvirtd unix", &d.unix_uri()),
    ));
    let log = format!("\n--- daemon log:\n{}", d.log());
    assert_none_differ(&failures, cases.len(), &log);
}

#[test]
fn virsh_read_only_socket() {
    let d = Daemon::rvirtd("");
    let ro = format!("test+unix:///default?socket={}", d.socket_ro().display());
    let out = virsh(&ro, "list --all; dominfo test");
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("test"), "{}", out.stdout);
    // virsh -r refuses in the client library; a writable URI on the
    // read-only socket reaches the daemon, which refuses as libvirtd does.
    let out = virsh(&ro, "destroy test");
    assert!(!out.ok);
    assert!(
        out.stderr
            .contains("operation forbidden: read only access prevents virDomainDestroy"),
        "{}",
        out.stderr
    );
}

#[test]
fn virsh_gives_the_same_output_against_rvirtd_and_stock_libvirtd() {
    let Some(stock) = Daemon::libvirtd() else {
        return;
    };
    let fixtures = Fixtures::write();
    let ours = Daemon::rvirtd("");
    let cases = cases(&fixtures);
    let failures = differences(
        cases.iter().map(String::as_str),
        ("libvirtd", &stock.tcp_uri()),
        ("rvirtd", &ours.tcp_uri()),
    );
    assert_none_differ(&failures, cases.len(), "");
}

/// The snapshot cases (`rvirt_testkit::snapshot_cases`): stock virsh
/// against rvirtd prints what it prints against a stock libvirtd, but for
/// creation times, generated UUIDs and the clock.
#[test]
fn virsh_snapshots_through_rvirtd_match_libvirtd() {
    let Some(stock) = Daemon::libvirtd() else {
        return;
    };
    let files = snapshot_cases::Files::write();
    let ours = Daemon::rvirtd("");
    let cases = snapshot_cases::cases(&files);
    let run = |uri: &str, case: &str| {
        let mut rules = snapshot_cases::RULES.to_vec();
        rules.push(Normalise::Uri(uri.to_string()));
        virsh(uri, case).normalised(&rules)
    };
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let want = run(&stock.tcp_uri(), case);
            let got = run(&ours.tcp_uri(), case);
            diff(case, ("libvirtd", &want), ("rvirtd", &got))
        })
        .collect();
    let log = format!("\n--- daemon log:\n{}", ours.log());
    assert_none_differ(&failures, cases.len(), &log);
}
