//! Generates the three RPC programs (REMOTE, QEMU, ADMIN) from the
//! declarations in `protocol/`, which scripts/ derive from libvirt 9.0:
//!
//! - `PROGRAM.types` (`scripts/gen-xdr-types.py`): constants, structs and
//!   their XDR codecs -> `OUT_DIR/PROGRAM_types.rs` ([`types`]);
//! - `PROGRAM.procs` (`scripts/gen-remote-procs.py`): the procedure table,
//!   one marker type per procedure and the client stubs ->
//!   `OUT_DIR/PROGRAM_procedures.rs` ([`procs`]).
//!
//! Each program's module includes both files.

#[path = "build/procs.rs"]
mod procs;
#[path = "build/types.rs"]
mod types;

use std::path::Path;

/// Module, constant prefix of its procedures, name of its stub trait.
const PROGRAMS: &[(&str, &str, &str)] = &[
    ("remote", "REMOTE_PROC_", "RemoteCalls"),
    ("qemu", "QEMU_PROC_", "QemuCalls"),
    ("admin", "ADMIN_PROC_", "AdminCalls"),
];

fn read(path: &str) -> String {
    println!("cargo:rerun-if-changed={path}");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn main() {
    println!("cargo:rerun-if-changed=build");
    let out_dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    let write = |name: String, text: String| {
        std::fs::write(Path::new(&out_dir).join(name), text).expect("write generated code")
    };
    let programs: Vec<types::Program> = PROGRAMS
        .iter()
        .map(|(m, _, _)| types::Program {
            module: m.to_string(),
            lines: read(&format!("protocol/{m}.types"))
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .map(String::from)
                .collect(),
        })
        .collect();
    let mut all = types::Universe::default();
    programs.iter().for_each(|p| all.add(p));
    for (p, (module, prefix, stubs)) in programs.iter().zip(PROGRAMS) {
        let rust = types::generate(p, &all).unwrap_or_else(|e| panic!("{module}.types: {e}"));
        write(format!("{module}_types.rs"), rust);
        let path = format!("protocol/{module}.procs");
        let text = read(&path);
        let decls = procs::parse(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        write(
            format!("{module}_procedures.rs"),
            procs::generate(&decls, prefix, stubs),
        );
    }
}
