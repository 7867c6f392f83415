//! libvirt-python 9.0.0's own test suite (its sdist's `tests/`, fetched
//! from PyPI at test time) with the tests' `test:///default` pointed at a
//! stock libvirtd and at rvirtd, over TCP and over the unix socket (issue
//! 19): every test that passes against libvirtd passes against rvirtd, and
//! `test_aio` has the same outcomes on both.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::libvirt_python::{run_suite, suite_dir, SuiteRun};
use rvirt_testkit::tools::{assert_python_transcripts_agree, python_libvirt_ready, python_script};

/// Where the two runs part: tests libvirtd passes and rvirtd does not, and
/// `test_aio` tests whose outcomes differ.
fn regressions(stock: &SuiteRun, ours: &SuiteRun) -> Vec<String> {
    stock
        .outcomes
        .iter()
        .filter_map(|(test, want)| {
            let got = ours.outcomes.get(test).map_or("missing", String::as_str);
            let must_match = want == "pass" || test.starts_with("test_aio.");
            (must_match && got != want).then(|| format!("{test}: libvirtd {want}, rvirtd {got}"))
        })
        .collect()
}

fn suite_agrees(template: &dyn Fn(&Daemon) -> String, transport: &str) {
    if !python_libvirt_ready() {
        return;
    }
    let tests = match suite_dir() {
        Ok(tests) => tests,
        Err(e) => panic!("libvirt-python 9.0.0's tests: {e}"),
    };
    let Some((stock, ours)) = Daemon::libvirtd_and_rvirtd() else {
        return;
    };
    let want = run_suite(&tests, &template(&stock));
    let got = run_suite(&tests, &template(&ours));
    eprintln!(
        "{transport}: libvirtd\n{}rvirtd\n{}",
        want.table(),
        got.table()
    );
    assert!(
        want.with("pass").len() >= 10,
        "libvirtd passes too few of the suite's tests:\n{}\n{}",
        want.table(),
        want.output.stderr
    );
    let parted = regressions(&want, &got);
    assert!(
        parted.is_empty(),
        "{transport}: {}\n--- libvirtd's run:\n{}\n--- rvirtd's run:\n{}\n--- daemon log:\n{}",
        parted.join("\n"),
        want.output.stderr,
        got.output.stderr,
        ours.log()
    );
}

#[test]
fn libvirt_python_suite_over_tcp_passes_where_libvirtd_does() {
    suite_agrees(&|d| d.tcp_uri_of("test", "{path}"), "tcp");
}

#[test]
fn libvirt_python_suite_over_unix_socket_passes_where_libvirtd_does() {
    suite_agrees(
        &|d| format!("test+unix://{{path}}?socket={}", d.socket().display()),
        "unix",
    );
}

/// The screenshot the suite only asks for, read to the end: the same MIME
/// type, the same image bytes and the same refusals through rvirtd as
/// through libvirtd, over TCP and the unix socket.
#[test]
fn screenshot_stream_carries_libvirts_test_image() {
    if !python_libvirt_ready() {
        return;
    }
    let Some((stock, ours)) = Daemon::libvirtd_and_rvirtd() else {
        return;
    };
    let want = assert_python_transcripts_agree(
        &python_script("screenshot.py"),
        &stock.tcp_uri(),
        &[ours.tcp_uri(), ours.unix_uri()],
        &|| ours.log(),
    );
    assert!(want.contains("('image/png', 33443, "), "{want}");
}

/// The checkpoint the suite only creates and deletes, through the whole
/// API: the same transcript through rvirtd as through libvirtd.
#[test]
fn checkpoints_match_libvirtd() {
    if !python_libvirt_ready() {
        return;
    }
    let Some((stock, ours)) = Daemon::libvirtd_and_rvirtd() else {
        return;
    };
    let want = assert_python_transcripts_agree(
        &python_script("checkpoints.py"),
        &stock.tcp_uri(),
        &[ours.tcp_uri()],
        &|| ours.log(),
    );
    assert!(want.contains("bare name is a time: True"), "{want}");
}
