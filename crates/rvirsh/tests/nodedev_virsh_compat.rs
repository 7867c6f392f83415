//! virsh 9.0's node device, host interface and secret commands (issue
//! 18): rvirsh beside stock virsh on `test:///default`, and stock virsh
//! against rvirtd beside stock virsh against libvirtd (`test+tcp://`),
//! byte for byte on stdout, stderr and exit status (the cases are
//! `rvirt_testkit::nodedev_cases`: bad names and bad XML included).

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::nodedev_cases::{cases, compare_daemons, daemon_cases, Files};
use rvirt_testkit::tools::{assert_none_differ, compare_shells, have_virsh};

#[test]
fn node_device_interface_and_secret_commands_match_virsh() {
    if !have_virsh() {
        eprintln!("stock virsh not installed (scripts/install-deps.sh): skipping");
        return;
    }
    let files = Files::write();
    let cases = cases(&files);
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| compare_shells("test:///default", c, &[]))
        .collect();
    assert_none_differ(&failures, cases.len(), "");
}

#[test]
fn stock_virsh_sees_rvirtd_as_libvirtd() {
    if !have_virsh() {
        return;
    }
    let Some(stock) = Daemon::libvirtd() else {
        return;
    };
    let ours = Daemon::rvirtd("");
    let files = Files::write();
    let mut cases = cases(&files);
    cases.extend(daemon_cases(&files));
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| compare_daemons(&ours.tcp_uri(), &stock.tcp_uri(), c))
        .collect();
    assert_none_differ(&failures, cases.len(), &ours.log());
}

/// rvirsh through the remote driver to rvirtd prints what it prints on
/// the local test driver (and so what virsh prints).
#[test]
fn rvirsh_through_rvirtd_matches_virsh() {
    if !have_virsh() {
        return;
    }
    let ours = Daemon::rvirtd("");
    let files = Files::write();
    let cases = cases(&files);
    let uri = ours.tcp_uri();
    let rules = [rvirt_testkit::tools::Normalise::Uri(uri.clone())];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let want = rvirt_testkit::tools::virsh("test:///default", c);
            let got = rvirt_testkit::tools::rvirsh(&uri, c).normalised(&rules);
            rvirt_testkit::tools::diff(c, ("virsh local", &want), ("rvirsh remote", &got))
        })
        .collect();
    assert_none_differ(&failures, cases.len(), &ours.log());
}
