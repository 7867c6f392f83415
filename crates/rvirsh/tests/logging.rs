//! rvirsh logs as a libvirt client does, in libvirt's line format: warnings
//! and errors on stderr by default (none on a good run), the rest as
//! LIBVIRT_DEBUG, LIBVIRT_LOG_FILTERS or LIBVIRT_LOG_OUTPUTS ask.

use rvirt_testkit::tools::{rvirsh_logging, Output};

/// `rvirsh -c test:///default list` with the logging settings `env`.
fn rvirsh(env: &[(&str, &str)]) -> Output {
    rvirsh_logging("test:///default", "list", env)
}

#[test]
fn silent_by_default() {
    let out = rvirsh(&[]);
    assert!(out.ok);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn libvirt_debug_logs_to_stderr_and_filters_narrow_it() {
    let out = rvirsh(&[("LIBVIRT_DEBUG", "1")]);
    let err = &out.stderr;
    assert!(
        err.lines()
            .any(|l| l.contains(": debug : rvirt::connect:") && l.contains(" : connection opened")),
        "{err}"
    );
    assert!(
        err.contains(": info : libvirt version: 9.0.0, package: rvirt "),
        "{err}"
    );
    // A filter raising rvirt's threshold to errors silences it.
    let out = rvirsh(&[("LIBVIRT_DEBUG", "1"), ("LIBVIRT_LOG_FILTERS", "4:rvirt")]);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn log_outputs_write_to_a_file() {
    let path = std::env::temp_dir().join(format!("rvirsh-log-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let outputs = format!("1:file:{}", path.display());
    let out = rvirsh(&[("LIBVIRT_LOG_OUTPUTS", &outputs), ("LIBVIRT_DEBUG", "1")]);
    assert!(out.ok);
    assert!(out.stderr.is_empty());
    let log = std::fs::read_to_string(&path).expect("log file");
    let _ = std::fs::remove_file(&path);
    assert!(log.contains("connection opened"), "{log}");
}

#[test]
fn a_bad_setting_is_refused() {
    let out = rvirsh(&[("LIBVIRT_DEBUG", "7")]);
    assert!(!out.ok);
    let err = &out.stderr;
    assert!(
        err.contains("Failed to set logging priority, argument '7' is invalid"),
        "{err}"
    );
}
