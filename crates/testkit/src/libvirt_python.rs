//! libvirt-python 9.0.0's own test suite (the `tests/` directory of its
//! sdist on PyPI), fetched at test time with Debian's pip into the
//! workspace's `target/libvirt-python-9.0.0` (cached, never committed),
//! and run by tests/python/libvirt_python_suite.py against one daemon with
//! the tests' `test:///default` pointed at it.

use crate::tools::{python3, python_script, Output, PYTHON3};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

const SDIST: &str = "libvirt-python-9.0.0";

/// The unpacked sdist's `tests/` directory, fetched on first use (one test
/// of a binary fetches, the others wait for it).
pub fn suite_dir() -> Result<PathBuf, String> {
    static FETCH: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = FETCH.lock().unwrap_or_else(|e| e.into_inner());
    let cache = crate::bins::profile_dir()
        .parent()
        .expect("target dir")
        .join(SDIST);
    let tests = cache.join(SDIST).join("tests");
    if tests.join("test_conn.py").is_file() {
        return Ok(tests);
    }
    std::fs::create_dir_all(&cache).map_err(|e| e.to_string())?;
    let fetched = Command::new(PYTHON3)
        .args(["-m", "pip", "download", "--no-deps", "--no-binary", ":all:"])
        .arg("--dest")
        .arg(&cache)
        .arg("libvirt-python==9.0.0")
        .output()
        .map_err(|e| format!("pip download: {e}"))?;
    if !fetched.status.success() {
        return Err(format!(
            "pip download libvirt-python==9.0.0 failed: {}",
            String::from_utf8_lossy(&fetched.stderr)
        ));
    }
    let unpacked = Command::new("tar")
        .arg("xzf")
        .arg(cache.join(format!("{SDIST}.tar.gz")))
        .arg("-C")
        .arg(&cache)
        .status()
        .map_err(|e| format!("tar: {e}"))?;
    if !unpacked.success() || !tests.join("test_conn.py").is_file() {
        return Err(format!("unpacking {SDIST}.tar.gz gave no tests/"));
    }
    Ok(tests)
}

/// One run of the suite: each test's outcome ("pass", "fail", "error",
/// "skip") by its unittest id, and what the run printed.
pub struct SuiteRun {
    pub outcomes: BTreeMap<String, String>,
    pub output: Output,
}

impl SuiteRun {
    /// The tests with `outcome`.
    pub fn with(&self, outcome: &str) -> Vec<&str> {
        self.outcomes
            .iter()
            .filter(|(_, o)| *o == outcome)
            .map(|(t, _)| t.as_str())
            .collect()
    }

    /// One line per test, "id outcome".
    pub fn table(&self) -> String {
        self.outcomes
            .iter()
            .map(|(t, o)| format!("{t} {o}\n"))
            .collect()
    }
}

/// The suite in `tests` with every `test://PATH` URI it opens made
/// `template` with `{path}` = PATH (e.g. `test+tcp://127.0.0.1:PORT{path}`).
pub fn run_suite(tests: &std::path::Path, template: &str) -> SuiteRun {
    let script = python_script("libvirt_python_suite.py");
    let output = python3([script.as_str(), &tests.display().to_string(), template]);
    assert!(
        output.stdout.ends_with("done\n"),
        "the suite runner did not finish:\n{}\n{}",
        output.stdout,
        output.stderr
    );
    let outcomes = output
        .stdout
        .lines()
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(t, o)| (t.to_string(), o.to_string()))
        .collect();
    SuiteRun { outcomes, output }
}
