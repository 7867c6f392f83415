//! python3-libvirt's node device, host interface and secret API
//! (tests/python/nodedev.py: lists with capability filters, lookups,
//! parents, capabilities, vHBA creation and destruction with their
//! lifecycle events, interface define/start/destroy/undefine and the change
//! transaction, the test driver's missing secret driver, every error with
//! its code and domain) gives the same transcript through rvirtd as
//! through a stock libvirtd.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::tools::{assert_python_transcripts_agree, python_libvirt_ready, python_script};

#[test]
fn python_node_devices_interfaces_and_secrets_match_libvirtd() {
    if !python_libvirt_ready() {
        return;
    }
    let Some((stock, ours)) = Daemon::libvirtd_and_rvirtd() else {
        return;
    };
    let want = assert_python_transcripts_agree(
        &python_script("nodedev.py"),
        &stock.tcp_uri(),
        &[ours.tcp_uri()],
        &|| ours.log(),
    );
    assert!(want.contains("events = [('all', 'scsi_host12', 0, 0)]"));
}

/// python3-libvirt's secret API and secret events (tests/python/
/// secret_events.py: define, lookups, values, the private refusal,
/// lifecycle and value-changed events, list filters, read-only refusals)
/// on `secret:///system`: the same transcript through rvirtd's secret
/// driver as through libvirtd's.
#[test]
fn python_secrets_and_secret_events_match_libvirtd() {
    if !python_libvirt_ready() {
        return;
    }
    let Some((stock, ours)) = Daemon::libvirtd_and_rvirtd() else {
        return;
    };
    let uri = |d: &Daemon| d.tcp_uri_of("secret", "/system");
    let want = assert_python_transcripts_agree(
        &python_script("secret_events.py"),
        &uri(&stock),
        &[uri(&ours)],
        &|| ours.log(),
    );
    assert!(want.contains("'value'"));
}
