//! python3-libvirt (Debian's /usr/bin/python3) against rvirtd: the API
//! calls of tests/python/client.py, lifecycle events included, and a load
//! of many concurrent clients.

mod common;

use common::Daemon;
use std::path::Path;
use std::process::Command;

fn python_ready() -> bool {
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "import libvirt"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("python3-libvirt not installed (scripts/install-deps.sh): skipping");
    }
    ok
}

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn python_libvirt_client_and_events() {
    if !python_ready() {
        return;
    }
    let d = Daemon::rvirtd("");
    for uri in [d.tcp_uri(), d.unix_uri()] {
        let out = Command::new("/usr/bin/python3")
            .arg(script("client.py"))
            .arg(&uri)
            .output()
            .expect("run python");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("ALL OK"),
            "{uri}:\n{stdout}\n{}\n--- daemon log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            d.log()
        );
    }
}

/// 100 concurrent clients × 1,000 lookupByName('test').info() pairs, no
/// errors (about 10 s on two cores with a debug build).
#[test]
fn python_load_100_clients() {
    if !python_ready() {
        return;
    }
    let d = Daemon::rvirtd("max_clients = 200\n");
    let out = Command::new("/usr/bin/python3")
        .arg(script("load.py"))
        .arg(d.tcp_uri())
        .args(["100", "1000"])
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("load: {stdout}");
    assert!(
        out.status.success() && stdout.contains("pairs=100000 errors=0"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
