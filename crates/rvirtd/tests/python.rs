//! python3-libvirt (Debian's /usr/bin/python3) against rvirtd: the API
//! calls of tests/python/client.py, lifecycle events included, and a load
//! of many concurrent clients.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::tools::{
    assert_python_finished, assert_python_transcripts_agree, python3, python_libvirt_ready,
    python_script,
};

#[test]
fn python_libvirt_client_and_events() {
    if !python_libvirt_ready() {
        return;
    }
    let d = Daemon::rvirtd("");
    for uri in [d.tcp_uri(), d.unix_uri()] {
        let out = python3([python_script("client.py"), uri.clone()]);
        assert_python_finished(&out, "ALL OK", &format!("({uri}) daemon log:\n{}", d.log()));
    }
}

/// 100 concurrent clients × 1,000 lookupByName('test').info() pairs, no
/// errors (about 10 s on two cores with a debug build).
#[test]
fn python_load_100_clients() {
    if !python_libvirt_ready() {
        return;
    }
    let d = Daemon::rvirtd("max_clients = 200\n");
    let out = python3([
        python_script("load.py"),
        d.tcp_uri(),
        "100".into(),
        "1000".into(),
    ]);
    let stdout = &out.stdout;
    eprintln!("load: {stdout}");
    assert!(
        out.ok && stdout.contains("pairs=100000 errors=0"),
        "{stdout}\n{}",
        out.stderr
    );
}

/// python3-libvirt's snapshot API (tests/python/snapshots.py: creation,
/// listing with flags, the tree, revert with its events, delete variants,
/// redefine, the errors with their codes and domains) gives the same
/// transcript through rvirtd as through a stock libvirtd, over TCP and
/// the unix socket.
#[test]
fn python_snapshots_match_libvirtd() {
    if !python_libvirt_ready() {
        return;
    }
    let Some((stock, ours)) = Daemon::libvirtd_and_rvirtd() else {
        return;
    };
    assert_python_transcripts_agree(
        &python_script("snapshots.py"),
        &stock.tcp_uri(),
        &[ours.tcp_uri(), ours.unix_uri()],
        &|| ours.log(),
    );
}

/// python3-libvirt's storage API and pool events (tests/python/storage.py)
/// give the same transcript through rvirtd as through a stock libvirtd,
/// over TCP and the unix socket.
#[test]
fn python_storage_and_pool_events_match_libvirtd() {
    if !python_libvirt_ready() {
        return;
    }
    let Some((stock, ours)) = Daemon::libvirtd_and_rvirtd() else {
        return;
    };
    let want = assert_python_transcripts_agree(
        &python_script("storage.py"),
        &stock.tcp_uri(),
        &[ours.tcp_uri(), ours.unix_uri()],
        &|| ours.log(),
    );
    assert!(want.contains("event"));
}
