//! A short fuzzing pass of every target as part of `cargo test` (the long
//! passes are scripts/fuzz.sh's): the seeds and a few thousand mutations
//! run clean, within the memory bound, and a saved input replays.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_rvirt-fuzz");

#[test]
fn every_target_runs_a_short_pass_clean() {
    let out_dir = std::env::temp_dir().join(format!("rvirt-fuzz-{}", std::process::id()));
    let out = Command::new(BIN)
        .args(["all", "--runs", "3000", "--max-rss-mb", "512", "--out"])
        .arg(&out_dir)
        .output()
        .expect("run rvirt-fuzz");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for target in [
        "framer",
        "xdr",
        "dispatch",
        "xml",
        "sasl",
        "tls",
        "tls-handshake",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{target}: ")))
            .unwrap_or_else(|| panic!("no {target} line:\n{stdout}"));
        assert!(
            line.starts_with(&format!("{target}: 3000 execs"))
                && line.contains("crashes 0, slow 0"),
            "{line}"
        );
    }
    assert!(!out_dir.exists(), "no findings written");
}

#[test]
fn a_saved_input_replays() {
    let file = std::env::temp_dir().join(format!("rvirt-fuzz-replay-{}.xml", std::process::id()));
    std::fs::write(&file, "<domain type='test'><name>a</name></domain>").unwrap();
    let out = Command::new(BIN)
        .args(["xml", "--replay"])
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(" ok in "),
        "{stdout}"
    );
}

#[test]
fn unknown_targets_are_usage_errors() {
    let out = Command::new(BIN).arg("nope").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
