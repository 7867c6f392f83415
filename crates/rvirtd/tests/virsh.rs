//! Stock virsh against rvirtd over TCP and a unix socket must print what it
//! prints on `test:///default` in-process, and what it prints against a
//! stock libvirtd (cases run one after the other: the daemon's
//! test:///default starts afresh only when no client holds it).

mod common;

use common::{diff, spine_cases, virsh, Daemon, Fixtures};

#[test]
fn virsh_over_rvirtd_matches_virsh_in_process() {
    let fixtures = Fixtures::write();
    let d = Daemon::rvirtd("");
    let cases = spine_cases(&fixtures);
    let mut failures = Vec::new();
    for case in &cases {
        let want = virsh("test:///default", case);
        let tcp = virsh(&d.tcp_uri(), case);
        failures.extend(diff(case, "in-process", &want, "rvirtd tcp", &tcp));
    }
    // The unix socket and the read-only socket, on a sample.
    for case in [
        "list --all",
        "dominfo test",
        "destroy test; list --all; start test; domid test",
    ] {
        let want = virsh("test:///default", case);
        let unix = virsh(&d.unix_uri(), case);
        failures.extend(diff(case, "in-process", &want, "rvirtd unix", &unix));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}\n--- daemon log:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n"),
        d.log()
    );
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
    let mut failures = Vec::new();
    let cases = spine_cases(&fixtures);
    for case in &cases {
        let want = virsh(&stock.tcp_uri(), case);
        let got = virsh(&ours.tcp_uri(), case);
        failures.extend(diff(case, "libvirtd", &want, "rvirtd", &got));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
