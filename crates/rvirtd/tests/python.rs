//! python3-libvirt (Debian's /usr/bin/python3) against rvirtd: the API
//! calls of tests/python/client.py, lifecycle events included, and a load
//! of many concurrent clients.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::tools::{python3, python_libvirt_ready};
use std::path::Path;

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn python_libvirt_client_and_events() {
    if !python_libvirt_ready() {
        return;
    }
    let d = Daemon::rvirtd("");
    for uri in [d.tcp_uri(), d.unix_uri()] {
        let out = python3([script("client.py"), uri.clone()]);
        let stdout = &out.stdout;
        assert!(
            out.ok && stdout.contains("ALL OK"),
            "{uri}:\n{stdout}\n{}\n--- daemon log:\n{}",
            out.stderr,
            d.log()
        );
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
    let out = python3([script("load.py"), d.tcp_uri(), "100".into(), "1000".into()]);
    let stdout = &out.stdout;
    eprintln!("load: {stdout}");
    assert!(
        out.ok && stdout.contains("pairs=100000 errors=0"),
        "{stdout}\n{}",
        out.stderr
    );
}
