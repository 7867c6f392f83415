//! python3-libvirt (Debian's /usr/bin/python3) migrating between two rvirtd
//! hosts: tests/python/migrate.py (migrate3 and migrateToURI3 with params
//! dicts, jobStats, migrateSetMaxSpeed and abortJob during the job, events
//! on both hosts).

mod hosts;

use hosts::{fresh_uuid, unique, Pair};
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

#[test]
fn python_libvirt_migration() {
    if !python_ready() {
        return;
    }
    let pair = Pair::start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/migrate.py");
    let out = Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(pair.src.uri())
        .arg(pair.dst.uri())
        .arg(format!("pyguest{}", unique()))
        .arg(fresh_uuid())
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("ALL OK"),
        "{stdout}\n{}\n--- src log:\n{}\n--- dst log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        pair.src.log(),
        pair.dst.log()
    );
}
