//! Bad or unexpected input never panics the command line builder: every
//! domain document of libvirt 9.0's own test suite that the conf parser
//! accepts goes through `build` (and so `prepare_definition`), which must
//! return a command line or an error. The counts are printed.

use rvirt_conf::domain::DomainDef;
use rvirt_driver_qemu::caps_model::{machines_from_help, Accel, QemuCaps};
use rvirt_driver_qemu::command::{build, RunContext};
use std::path::PathBuf;

/// QEMU 7.2's machine list, from the fixture the unit tests use.
fn caps() -> QemuCaps {
    QemuCaps {
        binary: PathBuf::from("/usr/bin/qemu-system-x86_64"),
        arch: rvirt_conf::domain::Arch::X86_64,
        machines: machines_from_help(include_str!("argv/qemu-7.2-machine-help.txt")),
        kvm_usable: true,
        ..QemuCaps::default()
    }
}

#[test]
fn no_corpus_document_panics_the_builder() {
    let docs = match rvirt_testkit::corpus::domain_documents() {
        Ok(docs) => docs,
        Err(e) => {
            eprintln!("libvirt test corpus unavailable ({e}): skipping");
            return;
        }
    };
    let caps = caps();
    let ctx = RunContext {
        accel: Accel::Kvm,
        monitor_socket: PathBuf::from("/run/rvirt/monitor.sock"),
        lib_dir: PathBuf::from("/var/lib/rvirt/qemu/domain-1-guest"),
        domain_id: 1,
        incoming: None,
        tap_fds: Default::default(),
    };
    let (mut built, mut refused, mut panicked) = (0, 0, Vec::new());
    for doc in &docs {
        let Ok(text) = std::fs::read_to_string(doc) else {
            continue;
        };
        let Ok(def) = DomainDef::parse(&text) else {
            continue;
        };
        match std::panic::catch_unwind(|| build(&def, &caps, &ctx)) {
            Ok(Ok(_)) => built += 1,
            Ok(Err(_)) => refused += 1,
            Err(_) => panicked.push(doc.display().to_string()),
        }
    }
    eprintln!(
        "{} documents: {built} built, {refused} refused with an error, {} panicked",
        docs.len(),
        panicked.len()
    );
    assert!(panicked.is_empty(), "panicked on:\n{}", panicked.join("\n"));
}
