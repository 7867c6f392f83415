//! rvirsh through the remote driver against stock virsh, both talking to
//! the same private libvirtd over `test+tcp://127.0.0.1:PORT/default`: the
//! same command strings must give the same stdout, stderr and exit status
//! (the `CPU time:` value excepted). libvirtd resets test:///default when
//! its last client leaves, so every case starts from the same state; cases
//! run one after another.

mod common;
/// The spine's cases and fixtures, shared with rvirsh's comparison test.
#[path = "../../../tests/support/spine.rs"]
mod spine;

use common::Libvirtd;
use spine::{cases, Fixtures};
use std::path::PathBuf;
use std::process::Command;

struct Output {
    stdout: String,
    stderr: String,
    status: bool,
}

/// The rvirsh binary next to this test's target directory, built if needed.
fn rvirsh_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join("rvirsh");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "-q", "-p", "rvirsh"]);
    if dir.ends_with("release") {
        cmd.arg("--release");
    }
    let ok = cmd.status().map(|s| s.success()).unwrap_or(false);
    assert!(ok || bin.exists(), "cannot build rvirsh");
    bin
}

fn run(program: &std::path::Path, uri: &str, commands: &str) -> Output {
    let out = Command::new(program)
        .arg("-c")
        .arg(uri)
        .arg(commands)
        .env("LC_ALL", "C")
        .env_remove("LIBVIRT_DEFAULT_URI")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    Output {
        stdout: normalise(&String::from_utf8_lossy(&out.stdout)),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.success(),
    }
}

/// `CPU time:` is the test driver's clock reading; blank the value only.
fn normalise(text: &str) -> String {
    let mut out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("CPU time:") {
                "CPU time:       <clock>".to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    if text.ends_with('\n') {
        out.push(String::new());
    }
    out.join("\n")
}

fn diff(rvirsh: &std::path::Path, uri: &str, commands: &str) -> Option<String> {
    let want = run(std::path::Path::new("virsh"), uri, commands);
    let got = run(rvirsh, uri, commands);
    let mut diffs = Vec::new();
    if want.stdout != got.stdout {
        diffs.push(format!(
            "  stdout:\n--- virsh\n{}--- rvirsh\n{}",
            want.stdout, got.stdout
        ));
    }
    if want.stderr != got.stderr {
        diffs.push(format!(
            "  stderr:\n--- virsh\n{}--- rvirsh\n{}",
            want.stderr, got.stderr
        ));
    }
    if want.status != got.status {
        diffs.push(format!(
            "  exit: virsh ok={} rvirsh ok={}",
            want.status, got.status
        ));
    }
    (!diffs.is_empty()).then(|| format!("== {commands}\n{}", diffs.join("\n")))
}

fn have_virsh() -> bool {
    Command::new("virsh").arg("--version").output().is_ok()
}

#[test]
fn rvirsh_matches_virsh_over_tcp() {
    if !have_virsh() {
        eprintln!("virsh not installed (scripts/install-deps.sh): skipping");
        return;
    }
    let Some(d) = Libvirtd::start() else { return };
    let rvirsh = rvirsh_path();
    let fixtures = Fixtures::write();
    let all = cases(&fixtures);
    let uri = d.tcp_uri();
    let failures: Vec<String> = all.iter().filter_map(|c| diff(&rvirsh, &uri, c)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from virsh:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn rvirsh_matches_virsh_over_unix_and_on_errors() {
    if !have_virsh() {
        return;
    }
    let Some(d) = Libvirtd::start() else { return };
    let rvirsh = rvirsh_path();
    let mut failures = Vec::new();
    for case in [
        "uri",
        "list --all",
        "dominfo test",
        "suspend test; domstate --reason test",
    ] {
        failures.extend(diff(&rvirsh, &d.unix_uri(), case));
    }
    // Nothing listens on port 1 (and no test daemon can take it).
    let closed = 1;
    for uri in [
        format!("test+tcp://127.0.0.1:{closed}/default"),
        "test+unix:///default?socket=/nonexistent/libvirt-sock".to_string(),
        "test+bogus://127.0.0.1/default".to_string(),
    ] {
        failures.extend(diff(&rvirsh, &uri, "list"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
