//! libvirt's interfacexml2xmltest and secretxml2xmltest: each document
//! parsed and formatted back must be libvirt's file byte for byte.

use rvirt_conf::host_iface::HostInterfaceDef;
use rvirt_conf::secret::SecretDef;
use std::path::{Path, PathBuf};

fn tests_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/libvirt-corpus/libvirt-9.0.0/tests");
    dir.is_dir().then_some(dir)
}

/// The names a libvirt test program runs with `DO_TEST("...")`.
fn cases(dir: &Path, program: &str) -> Vec<String> {
    let src = std::fs::read_to_string(dir.join(program)).unwrap();
    src.lines()
        .filter_map(|l| l.trim().strip_prefix("DO_TEST(\""))
        .filter_map(|l| l.split('"').next())
        .map(str::to_string)
        .collect()
}

fn check(dir: &Path, program: &str, sub: &str, format: impl Fn(&str) -> Result<String, String>) {
    let names = cases(dir, program);
    assert!(names.len() >= 7, "{names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let text = std::fs::read_to_string(dir.join(format!("{sub}/{name}.xml"))).unwrap();
        match format(&text) {
            Ok(got) if got == text => {}
            Ok(got) => failures.push(format!("{name}:\n--- libvirt\n{text}--- rvirt\n{got}")),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{program}: {} documents identical", names.len());
}

#[test]
fn libvirts_interface_documents_format_as_libvirt() {
    let Some(dir) = tests_dir() else {
        eprintln!("libvirt corpus not fetched: skipping");
        return;
    };
    check(&dir, "interfacexml2xmltest.c", "interfaceschemadata", |t| {
        HostInterfaceDef::parse(t)
            .map(|d| d.format())
            .map_err(|e| e.message)
    });
}

#[test]
fn libvirts_secret_documents_format_as_libvirt() {
    let Some(dir) = tests_dir() else {
        eprintln!("libvirt corpus not fetched: skipping");
        return;
    };
    check(&dir, "secretxml2xmltest.c", "secretxml2xmlin", |t| {
        SecretDef::parse(t)
            .map(|d| d.format())
            .map_err(|e| e.message)
    });
}
