//! rvirsh through the remote driver against stock virsh, both talking to
//! the same private libvirtd over `test+tcp://127.0.0.1:PORT/default`: the
//! same command strings must give the same stdout, stderr and exit status
//! (the `CPU time:` value excepted). libvirtd resets test:///default when
//! its last client leaves, so every case starts from the same state; cases
//! run one after another.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::spine::{cases, Fixtures};
use rvirt_testkit::tools::{assert_shells_agree, compare_shells, have_virsh, Normalise};

/// virsh and rvirsh on `uri` agree but for the CPU-time clock reading.
fn diff(uri: &str, commands: &str) -> Option<String> {
    compare_shells(uri, commands, &[Normalise::CpuTime])
}

#[test]
fn rvirsh_matches_virsh_over_tcp() {
    if !have_virsh() {
        eprintln!("virsh not installed (scripts/install-deps.sh): skipping");
        return;
    }
    let Some(d) = Daemon::libvirtd() else { return };
    let fixtures = Fixtures::write();
    assert_shells_agree(&d.tcp_uri(), &cases(&fixtures), &[Normalise::CpuTime]);
}

#[test]
fn rvirsh_matches_virsh_over_unix_and_on_errors() {
    if !have_virsh() {
        return;
    }
    let Some(d) = Daemon::libvirtd() else { return };
    let mut failures = Vec::new();
    for case in [
        "uri",
        "list --all",
        "dominfo test",
        "suspend test; domstate --reason test",
    ] {
        failures.extend(diff(&d.unix_uri(), case));
    }
    // Nothing listens on port 1 (and no test daemon can take it).
    let closed = 1;
    for uri in [
        format!("test+tcp://127.0.0.1:{closed}/default"),
        "test+unix:///default?socket=/nonexistent/libvirt-sock".to_string(),
        "test+bogus://127.0.0.1/default".to_string(),
    ] {
        failures.extend(diff(&uri, "list"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The snapshot cases (`rvirt_testkit::snapshot_cases`) through the remote
/// driver to a stock libvirtd: rvirsh prints what virsh prints, but for
/// creation times, generated UUIDs and the clock.
#[test]
fn snapshot_commands_over_tcp_match_virsh() {
    if !have_virsh() {
        return;
    }
    let Some(d) = Daemon::libvirtd() else { return };
    let files = rvirt_testkit::snapshot_cases::Files::write();
    let cases = rvirt_testkit::snapshot_cases::cases(&files);
    assert_shells_agree(&d.tcp_uri(), &cases, rvirt_testkit::snapshot_cases::RULES);
}
