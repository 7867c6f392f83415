//! python3-libvirt (Debian's /usr/bin/python3) migrating between two rvirtd
//! hosts: tests/python/migrate.py (migrate3 and migrateToURI3 with params
//! dicts, jobStats, migrateSetMaxSpeed and abortJob during the job, events
//! on both hosts).

mod hosts;

use hosts::{fresh_uuid, unique, Pair};
use rvirt_testkit::tools::{python3, python_libvirt_ready};
use std::path::Path;

#[test]
fn python_libvirt_migration() {
    if !python_libvirt_ready() {
        return;
    }
    let pair = Pair::start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/migrate.py");
    let out = python3([
        script.display().to_string(),
        pair.src.uri(),
        pair.dst.uri(),
        format!("pyguest{}", unique()),
        fresh_uuid(),
    ]);
    let stdout = &out.stdout;
    eprintln!("{stdout}");
    assert!(
        out.ok && stdout.contains("ALL OK"),
        "{stdout}\n{}\n--- src log:\n{}\n--- dst log:\n{}",
        out.stderr,
        pair.src.log(),
        pair.dst.log()
    );
}
