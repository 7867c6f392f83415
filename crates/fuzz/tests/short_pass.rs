//! A short fuzzing pass of every target as part of `cargo test` (the long
//! passes are scripts/fuzz.sh's): the seeds and a few thousand mutations
//! run clean, within the memory bound, and a saved input replays.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_rvirt-fuzz");

/// Every target, as the usage message (`rvirt-fuzz {framer|xdr|...|all}`)
/// lists them.
fn targets() -> Vec<String> {
    let out = Command::new(BIN).output().expect("run rvirt-fuzz");
    assert_eq!(out.status.code(), Some(2), "usage without a target");
    let usage = String::from_utf8_lossy(&out.stderr);
    let list = usage
        .split_once('{')
        .and_then(|(_, rest)| rest.split_once("|all}"))
        .unwrap_or_else(|| panic!("no target list in {usage}"))
        .0;
    list.split('|').map(String::from).collect()
}

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
    let targets = targets();
    assert!(targets.len() >= 7, "{targets:?}");
    for target in &targets {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{target}: ")))
            .unwrap_or_else(|| panic!("no {target} line:\n{stdout}"));
        // `all` gives the TLS handshake an eighth of the runs.
        let runs = if target == "tls-handshake" {
            3000 / 8
        } else {
            3000
        };
        assert!(
            line.starts_with(&format!("{target}: {runs} execs"))
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
