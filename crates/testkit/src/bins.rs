//! The workspace's own binaries, for tests in any crate. Cargo hands a
//! crate's tests only that crate's binaries (`CARGO_BIN_EXE_*`); rvirsh's
//! tests need rvirtd and the remote driver's need rvirsh, so the kit finds
//! them in the target directory the test runs from and builds them first.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

/// rvirtd of this workspace.
pub fn rvirtd() -> PathBuf {
    workspace_binary("rvirtd", "rvirtd")
}

/// rvirsh of this workspace.
pub fn rvirsh() -> PathBuf {
    workspace_binary("rvirsh", "rvirsh")
}

/// The target directory the running test binary was built into
/// (target/PROFILE; a test binary lives in target/PROFILE/deps).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .to_path_buf()
}

/// Binary `bin` of package `package`, built once per test process (a
/// no-op when up to date) so a narrower `cargo test -p` does not run a
/// stale or missing one.
pub fn workspace_binary(package: &str, bin: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock();
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(path) = built.get(bin) {
        return path.clone();
    }
    let dir = profile_dir();
    let path = dir.join(bin);
    // CARGO is set when cargo runs the tests; elsewhere the binary must exist.
    if let Ok(cargo) = std::env::var("CARGO") {
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-q", "-p", package, "--bin", bin]);
        if dir.ends_with("release") {
            cmd.arg("--release");
        }
        let ok = cmd.status().map(|s| s.success()).unwrap_or(false);
        assert!(
            ok || path.exists(),
            "cannot build {bin} (cargo build -p {package})"
        );
    }
    assert!(path.exists(), "{} missing", path.display());
    built.insert(bin.to_string(), path.clone());
    path
}
