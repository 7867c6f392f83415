//! rvirsh against stock virsh (Debian libvirt-clients 9.0) on
//! `test:///default`: the same command strings must give the same stdout,
//! stderr and exit status, byte for byte, except the `CPU time:` line (a
//! clock reading). The expected text always comes from running virsh now.

mod common;

use common::{run_both, Fixtures};

/// Command strings (each one rvirsh/virsh invocation, so one test driver
/// state per case) covering every spine command and its error paths.
fn cases(f: &Fixtures) -> Vec<String> {
    let uuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";
    let mut cases: Vec<String> = [
        "uri",
        "hostname",
        "version",
        "version --daemon",
        "nodeinfo",
        "capabilities",
        "list",
        "list --all",
        "list --inactive",
        "list --transient",
        "list --persistent",
        "list --name",
        "list --uuid",
        "list --table",
        "list --name --uuid",
        "list --all --name",
        "list --name --table",
        "list --uuid --table",
        "list --title",
        "list --state-running",
        "list --state-paused",
        "list --state-shutoff --all",
        "list --autostart",
        "list --no-autostart --all",
        "dominfo test",
        "dominfo 1",
        "dominfo --domain test",
        "dominfo --domain=test",
        "domstate test",
        "domstate test --reason",
        "domid test",
        "domname 1",
        "domuuid test",
        "dumpxml test",
        "dumpxml --inactive test",
        "dumpxml test --security-info",
        "suspend test; domstate --reason test; list; resume test; domstate --reason test",
        "shutdown test; domstate test --reason; dominfo test; list --all; start test; domstate --reason test; domid test",
        "destroy test; domstate --reason test; list --inactive; domid test; dumpxml test",
        "reboot test; domstate --reason test",
        "autostart test; dominfo test; list --autostart; autostart --disable test; list --autostart",
        "undefine test; list --all; dominfo test; destroy test; list --all",
        "destroy test; undefine test; list --all",
        // Error paths: unknown domains for every domain command.
        "dominfo nosuch",
        "domstate nosuch",
        "domid nosuch",
        "domid 1",
        "domname nosuch",
        "domname test",
        "domuuid nosuch",
        "domuuid 11111111-1111-1111-1111-111111111111",
        "dumpxml nosuch",
        "start nosuch",
        "start 1",
        "shutdown nosuch",
        "destroy nosuch",
        "suspend nosuch",
        "resume nosuch",
        "reboot nosuch",
        "undefine nosuch",
        "autostart nosuch",
        // Wrong state.
        "start test",
        "resume test",
        "suspend test; suspend test",
        "destroy test; destroy test",
        "destroy test; shutdown test",
        "destroy test; suspend test",
        "destroy test; resume test",
        "destroy test; reboot test",
        "suspend test; shutdown test",
        // Syntax errors and missing arguments.
        "dominfo",
        "domstate",
        "start",
        "define",
        "create",
        "dominfo --domain",
        "dominfo test extra",
        "list --foo",
        "domstate test --reason --foo",
        "frob",
        "dominfo test; frob",
        "list; dominfo nosuch",
        "dominfo nosuch; list",
        "shutdown test --mode bogus",
        // Files that cannot be read.
        "define /nonexistent/dir/x.xml",
        "create /nonexistent/dir/x.xml",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let fx = |name: &str| f.path(name);
    cases.extend([
        format!("define {}; list --all; dominfo foo; dumpxml foo; domstate foo --reason", fx("foo.xml")),
        format!("define {}; start foo; list --all; dominfo foo; dumpxml foo", fx("foo.xml")),
        format!("define {}; define {}; list --all", fx("foo.xml"), fx("foo.xml")),
        format!("define {}; undefine foo; list --all", fx("foo.xml")),
        format!("create {}; list --all; list --transient; dominfo foo; destroy foo; list --all", fx("foo.xml")),
        format!("create {}; undefine foo", fx("foo.xml")),
        format!("create {} --paused; domstate foo --reason", fx("foo.xml")),
        format!("define {}; start foo --paused; domstate foo --reason", fx("foo.xml")),
        format!("define {}; dumpxml foo", fx("full.xml")),
        format!("define {}; dominfo test; dumpxml --inactive test; dumpxml test", fx("test-update.xml")),
        format!("destroy test; create {}; list --all --persistent; dominfo test; dumpxml --inactive test", fx("test-update.xml")),
        format!("create {}", fx("test-update.xml")),
        // Clashes: duplicate name, duplicate UUID.
        format!("define {}", fx("dup-name.xml")),
        format!("create {}", fx("dup-name.xml")),
        format!("define {}", fx("dup-uuid.xml")),
        format!("create {}", fx("dup-uuid.xml")),
        // Malformed and invalid XML.
        format!("define {}", fx("truncated.xml")),
        format!("define {}", fx("mismatch.xml")),
        format!("define {}", fx("empty.xml")),
        format!("define {}", fx("not-domain.xml")),
        format!("define {}", fx("no-name.xml")),
        format!("define {}", fx("bad-memory.xml")),
        format!("define {}", fx("bad-uuid.xml")),
        format!("create {}", fx("truncated.xml")),
        format!("dominfo {uuid}"),
        format!("domid {uuid}"),
    ]);
    cases
}

#[test]
fn rvirsh_matches_virsh_on_test_default() {
    let fixtures = Fixtures::write();
    let mut failures = Vec::new();
    let all = cases(&fixtures);
    for case in &all {
        if let Some(diff) = run_both("test:///default", case) {
            failures.push(diff);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from virsh:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
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
    ];
    let failures: Vec<String> = cases.iter().filter_map(|c| run_both(&uri, c)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // libxml2 also prints an "I/O warning" line of its own; the libvirt
    // error lines and the exit status must match.
    let want = common::virsh("test:///nonexistent/node.xml", "list");
    let got = common::rvirsh("test:///nonexistent/node.xml", "list");
    assert!(!got.status && !want.status);
    assert!(
        want.stderr.ends_with(&got.stderr),
        "virsh:\n{}rvirsh:\n{}",
        want.stderr,
        got.stderr
    );
}

/// An error must not change state: after each failing command, the domain
/// list and the XML of every domain read exactly as they did before.
#[test]
fn errors_leave_state_unchanged() {
    let fixtures = Fixtures::write();
    let probe = "list --all; dumpxml test; dumpxml --inactive test; domstate test --reason";
    let baseline = common::rvirsh("test:///default", probe);
    assert!(
        baseline.status,
        "baseline probe failed: {}",
        baseline.stderr
    );
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
        let after = common::rvirsh("test:///default", &format!("{bad}; {probe}"));
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
