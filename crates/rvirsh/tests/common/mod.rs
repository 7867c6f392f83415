//! Shared helpers for the virsh comparison tests: fixtures, running a binary,
//! and normalising the one line that is a clock reading.

#![allow(dead_code)]

use std::process::Command;

pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub status: bool,
}

fn run(program: &str, uri: &str, commands: &str) -> Output {
    let out = Command::new(program)
        .arg("-c")
        .arg(uri)
        .arg(commands)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program}: {e} (scripts/install-deps.sh installs virsh)")
        });
    Output {
        stdout: normalise(&String::from_utf8_lossy(&out.stdout)),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.success(),
    }
}

/// `CPU time:` is the test driver's clock reading; blank the value only.
fn normalise(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("CPU time:") {
                "CPU time:       <clock>".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

pub fn rvirsh(uri: &str, commands: &str) -> Output {
    run(env!("CARGO_BIN_EXE_rvirsh"), uri, commands)
}

pub fn virsh(uri: &str, commands: &str) -> Output {
    run("virsh", uri, commands)
}

/// Run a command string through both shells; describe any difference.
pub fn run_both(uri: &str, commands: &str) -> Option<String> {
    run_both_adjusted(uri, commands, str::to_string)
}

/// As [`run_both`], comparing rvirsh's stdout with `adjust` of virsh's
/// (for deliberate, named differences).
pub fn run_both_adjusted(
    uri: &str,
    commands: &str,
    adjust: impl Fn(&str) -> String,
) -> Option<String> {
    let mut want = virsh(uri, commands);
    want.stdout = adjust(&want.stdout);
    let got = rvirsh(uri, commands);
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

/// The spine's command strings and fixture files, shared with the remote
/// driver's comparison test.
#[path = "../../../../tests/support/spine.rs"]
mod spine;
#[allow(unused_imports)]
pub use spine::{cases, Fixtures};
