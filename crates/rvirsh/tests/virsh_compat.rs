//! rvirsh against stock virsh (Debian libvirt-clients 9.0) on
//! `test:///default`: the same command strings must give the same stdout,
//! stderr and exit status, byte for byte, except the `CPU time:` line (a
//! clock reading). The expected text always comes from running virsh now.

use rvirt_testkit::spine::{cases, Fixtures};
use rvirt_testkit::tools::{assert_shells_agree, compare_shells, rvirsh, virsh, Normalise};

/// virsh and rvirsh on `uri` agree but for the CPU-time clock reading.
fn run_both(uri: &str, commands: &str) -> Option<String> {
    compare_shells(uri, commands, &[Normalise::CpuTime])
}

#[test]
fn rvirsh_matches_virsh_on_test_default() {
    let fixtures = Fixtures::write();
    assert_shells_agree("test:///default", &cases(&fixtures), &[Normalise::CpuTime]);
}

/// `test:///ABSOLUTE/PATH.xml`: a node description with its own CPU figures
/// and domains, inline and by file reference, as libvirt's test driver reads it.
#[test]
fn node_file_matches_virsh() {
    let fixtures = Fixtures::write();
    let uri = format!("test://{}", fixtures.path("node.xml"));
    let cases = [
        "uri",
        "nodeinfo",
        "list --all",
        "dominfo fromfile",
        "dominfo inline",
        "domstate --reason inline",
        "dumpxml fromfile",
        "destroy inline; list --all; start inline; list",
        "domid 2",
        "dominfo test",
        "domblklist test; domblklist --details fromfile; domblklist inline --inactive",
        "domiflist test; domiflist fromfile --inactive; domiflist nosuch",
    ];
    let failures: Vec<String> = cases.iter().filter_map(|c| run_both(&uri, c)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // libxml2 also prints an "I/O warning" line of its own; the libvirt
    // error lines and the exit status must match.
    let want = virsh("test:///nonexistent/node.xml", "list");
    let got = rvirsh("test:///nonexistent/node.xml", "list");
    assert!(!got.ok && !want.ok);
    assert!(
        want.stderr.ends_with(&got.stderr),
        "virsh:\n{}rvirsh:\n{}",
        want.stderr,
        got.stderr
    );
}

/// Names with control characters, a forged `\x` escape and non-ASCII text
/// print in tables as virsh's `vshTableSafeEncode` prints them.
#[test]
fn table_cells_are_escaped_as_virsh_escapes_them() {
    let dir = std::env::temp_dir().join(format!("rvirsh-escape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("odd.xml");
    std::fs::write(
        &xml,
        "<domain type='test'><name>odd&#9;name\\x41 caf\u{e9}</name>\
         <memory>8192</memory><os><type>hvm</type></os></domain>",
    )
    .unwrap();
    let cmd = format!("define {}; list --all", xml.display());
    let failure = run_both("test:///default", &cmd);
    std::fs::remove_dir_all(&dir).ok();
    assert!(failure.is_none(), "{}", failure.unwrap_or_default());
}

/// An error must not change state: after each failing command, the domain
/// list and the XML of every domain read exactly as they did before.
#[test]
fn errors_leave_state_unchanged() {
    let fixtures = Fixtures::write();
    let probe = "list --all; dumpxml test; dumpxml --inactive test; domstate test --reason";
    let baseline = rvirsh("test:///default", probe);
    assert!(baseline.ok, "baseline probe failed: {}", baseline.stderr);
    let failing = [
        "dominfo nosuch".to_string(),
        "start test".into(),
        "resume test".into(),
        "undefine nosuch".into(),
        "resume test; resume test".into(),
        format!("define {}", fixtures.path("truncated.xml")),
        format!("define {}", fixtures.path("mismatch.xml")),
        format!("define {}", fixtures.path("dup-name.xml")),
        format!("define {}", fixtures.path("dup-uuid.xml")),
        format!("create {}", fixtures.path("dup-uuid.xml")),
        format!("create {}", fixtures.path("test-update.xml")),
        format!("define {}", fixtures.path("no-name.xml")),
        format!("define {}", fixtures.path("bad-memory.xml")),
    ];
    for bad in &failing {
        let after = rvirsh("test:///default", &format!("{bad}; {probe}"));
        // The probe's output is the tail of stdout; the failing command adds
        // only its own blank line in front.
        assert!(
            after.stdout.ends_with(&baseline.stdout),
            "state changed after '{bad}':\nbefore:\n{}\nafter:\n{}",
            baseline.stdout,
            after.stdout
        );
        assert!(
            after.stderr.starts_with("error: "),
            "'{bad}' did not fail: {}",
            after.stderr
        );
    }
}

/// With no `-c`, both shells take the URI from `LIBVIRT_DEFAULT_URI`.
#[test]
fn default_uri_from_environment() {
    let run = |program: &str| {
        std::process::Command::new(program)
            .arg("uri; list")
            .env("LIBVIRT_DEFAULT_URI", "test:///default")
            .env_remove("VIRSH_DEFAULT_CONNECT_URI")
            .output()
            .expect("run shell")
    };
    let want = run("virsh");
    let got = run(env!("CARGO_BIN_EXE_rvirsh"));
    assert_eq!(
        String::from_utf8_lossy(&want.stdout),
        String::from_utf8_lossy(&got.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&want.stderr),
        String::from_utf8_lossy(&got.stderr)
    );
    assert!(got.status.success());
}
