//! virsh 9.0's snapshot commands, rvirsh beside stock virsh on
//! `test:///default`: each case is one command string (the test host
//! lives only for one invocation), compared byte for byte on stdout,
//! stderr and exit status but for the snapshots' creation times.

use rvirt_testkit::snapshot_cases::{cases, Files, RULES};
use rvirt_testkit::tools::{assert_none_differ, assert_shells_agree, virsh};
use std::path::{Path, PathBuf};

#[test]
fn snapshot_commands_match_virsh() {
    if !rvirt_testkit::tools::have_virsh() {
        eprintln!("stock virsh not installed (scripts/install-deps.sh): skipping");
        return;
    }
    let files = Files::write();
    assert!(Path::new(&files.path("redef.xml")).exists());
    let cases = cases(&files);
    assert_shells_agree("test:///default", &cases, RULES);
}

/// Snapshots a node description gives its domain.
#[test]
fn node_file_snapshots_match_virsh() {
    if !rvirt_testkit::tools::have_virsh() {
        return;
    }
    let files = Files::write();
    let uri = format!("test://{}", files.path("node.xml"));
    let cases = [
        "snapshot-list nd --tree; snapshot-list nd --parent; snapshot-current nd --name; \
         snapshot-dumpxml nd two; snapshot-info nd one",
        "snapshot-revert nd two; dominfo nd; snapshot-revert nd one; domstate nd --reason; \
         dumpxml nd; snapshot-create-as nd three; snapshot-list nd --parent --name; \
         snapshot-info nd three; list --all --with-snapshot",
    ];
    assert_shells_agree(&uri, &cases, RULES);
}

/// `rvirsh help snapshot` lists the Snapshot group as virsh does.
#[test]
fn snapshot_help_group_matches_virsh() {
    if !rvirt_testkit::tools::have_virsh() {
        return;
    }
    let want = virsh("test:///default", "help snapshot");
    let got = rvirt_testkit::tools::rvirsh("test:///default", "help snapshot");
    assert_eq!(got.stdout, want.stdout);
}

/// snapshot-edit with `$EDITOR` scripts: a change, a new name (refused,
/// cloned, renamed: the test driver refuses the metadata-only delete a
/// rename needs), no change, `--current`.
#[test]
fn snapshot_edit_matches_virsh() {
    if !rvirt_testkit::tools::have_virsh() {
        return;
    }
    let files = Files::write();
    let editors = [
        (
            "desc",
            "sed -i 's|<name>s1</name>|<name>s1</name><description>edited</description>|' \"$1\"",
        ),
        (
            "rename",
            "sed -i 's|<name>s1</name>|<name>s9</name>|' \"$1\"",
        ),
        ("none", "true"),
    ];
    let commands = "snapshot-create-as test s1; snapshot-edit test s1; \
                    snapshot-edit test s1 --clone; snapshot-edit test --current --rename; \
                    snapshot-edit test s1 --current; snapshot-list test --parent --name; \
                    snapshot-info test --current; snapshot-edit test; \
                    snapshot-edit test s1 --rename --clone";
    rvirt_testkit::tools::assert_editors_agree(&files.dir, &editors, commands, RULES);
}

/// libvirt 9.0's own `tests/virsh-snapshot` script (from the source
/// package the corpus fetches): its two virsh command strings, the second
/// redefining the snapshots the first dumped, run by rvirsh and by virsh.
#[test]
fn libvirts_virsh_snapshot_script_matches_virsh() {
    if !rvirt_testkit::tools::have_virsh() {
        return;
    }
    let src = match rvirt_testkit::corpus::libvirt_source() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("libvirt source unavailable ({e}): skipping");
            return;
        }
    };
    let script = std::fs::read_to_string(src.join("tests/virsh-snapshot")).unwrap();
    // Each `virsh ... >out 2>err '` opens a command string that
    // `' || fail=1` closes. Checkpoints do not exist in rvirt: their one
    // line goes from both runs.
    let strings: Vec<String> = script
        .split(">out 2>err '")
        .skip(1)
        .map(|s| {
            s.split("' || fail=1")
                .next()
                .unwrap()
                .lines()
                .filter(|l| !l.contains("checkpoint-create-as"))
                .map(|l| format!("{l}\n"))
                .collect()
        })
        .collect();
    assert_eq!(strings.len(), 2, "two command strings in the script");
    let files = Files::write();
    let run = |program: &str, commands: &str| -> rvirt_testkit::tools::Output {
        let program = match program {
            "virsh" => PathBuf::from("virsh"),
            _ => rvirt_testkit::bins::rvirsh(),
        };
        rvirt_testkit::tools::shell_command(program, "test:///default", commands)
            .current_dir(&files.dir)
            .output()
            .unwrap()
            .into()
    };
    let mut failures = Vec::new();
    let first = run("virsh", &strings[0]);
    failures.extend(rvirt_testkit::tools::diff(
        &strings[0],
        ("virsh", &first.normalised(RULES)),
        ("rvirsh", &run("rvirsh", &strings[0]).normalised(RULES)),
    ));
    // The script's own extraction of the dumped documents.
    let between = |a: &str, b: &str| -> String {
        let start = first.stdout.find(a).expect("first marker");
        let end = first.stdout.find(b).expect("second marker") + b.len();
        format!("{}\n", &first.stdout[start..end])
    };
    std::fs::write(
        files.dir.join("s3.xml"),
        between("<!--MarkerA-->", "<!--MarkerB-->"),
    )
    .unwrap();
    std::fs::write(
        files.dir.join("s2.xml"),
        between("<!--MarkerB-->", "<!--MarkerC-->"),
    )
    .unwrap();
    failures.extend(rvirt_testkit::tools::diff(
        &strings[1],
        ("virsh", &run("virsh", &strings[1]).normalised(RULES)),
        ("rvirsh", &run("rvirsh", &strings[1]).normalised(RULES)),
    ));
    assert_none_differ(&failures, 2, "");
}
