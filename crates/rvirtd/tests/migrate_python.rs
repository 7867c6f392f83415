//! python3-libvirt (Debian's /usr/bin/python3) migrating between two rvirtd
//! hosts: tests/python/migrate.py (migrate3 and migrateToURI3 with params
//! dicts, jobStats, migrateSetMaxSpeed and abortJob during the job, events
//! on both hosts).

mod hosts;

use hosts::{Guest, Pair};
use rvirt_testkit::tools::{python3, python_libvirt_ready};
use std::path::Path;

#[test]
fn python_libvirt_migration() {
    if !python_libvirt_ready() {
        return;
    }
    let pair = Pair::start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/migrate.py");
    // The guest as defined on the source, and as given to the destination.
    let g = Guest::new("pyguest");
    let xml_file = |file: &str, description: &str| {
        let path = pair.src.path(file);
        std::fs::write(&path, g.clone().description(description).xml()).expect("write xml");
        path.display().to_string()
    };
    let out = python3([
        script.display().to_string(),
        pair.src.uri(),
        pair.dst.uri(),
        g.name.clone(),
        xml_file("source.xml", "on the source"),
        xml_file("moved.xml", "moved by migrate3"),
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
