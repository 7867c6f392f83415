//! virsh 9.0's snapshot commands, rvirsh beside stock virsh on
//! `test:///default`: each case is one command string (the test host
//! lives only for one invocation), compared byte for byte on stdout,
//! stderr and exit status but for the snapshots' creation times.

use rvirt_testkit::tools::{assert_none_differ, compare_shells, virsh, Normalise};
use std::path::{Path, PathBuf};

const RULES: &[Normalise] = &[Normalise::SnapshotTime, Normalise::Uuid, Normalise::CpuTime];

/// A node description whose domain carries two snapshots
/// (`<test:domainsnapshot>`, libvirt's testParseDomainSnapshots), the
/// second current.
const NODE: &str = "<node>
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>nd</name>
    <uuid>1a2b3c4d-0000-1111-2222-333344445555</uuid>
    <memory>1024</memory>
    <os><type>hvm</type></os>
    <test:domainsnapshot>
      <name>one</name>
      <description>first</description>
      <state>shutoff</state>
      <creationTime>1000</creationTime>
      <domain type='test'><name>nd</name><uuid>1a2b3c4d-0000-1111-2222-333344445555</uuid>
        <memory>2048</memory><os><type>hvm</type></os></domain>
      <active>0</active>
    </test:domainsnapshot>
    <test:domainsnapshot>
      <name>two</name>
      <state>paused</state>
      <parent><name>one</name></parent>
      <creationTime>2000</creationTime>
      <domain type='test'><name>nd</name><uuid>1a2b3c4d-0000-1111-2222-333344445555</uuid>
        <memory>4096</memory><os><type>hvm</type></os></domain>
      <active>1</active>
    </test:domainsnapshot>
  </domain>
</node>
";

/// Snapshot documents for `snapshot-create`, in a directory of the test's.
struct Files {
    dir: PathBuf,
}

impl Files {
    fn write() -> Files {
        // One directory per instance: the tests of this file run in
        // parallel and each removes its own when done.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("rvirsh-snap-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A redefinable document: stock virsh's dump of a snapshot of `test`.
        let dump = virsh(
            "test:///default",
            "snapshot-create-as test r1 --description 'kept'; snapshot-dumpxml test r1",
        );
        let start = dump
            .stdout
            .find("<domainsnapshot>")
            .expect("a snapshot dump");
        let redef = dump.stdout[start..].replace("<name>r1</name>", "<name>rd</name>");
        let files = [
            ("redef.xml", redef.clone()),
            (
                "child.xml",
                redef
                    .replace("<name>rd</name>", "<name>child</name>")
                    .replace(
                        "</creationTime>",
                        "</creationTime>\n  <parent>\n    <name>rd</name>\n  </parent>",
                    ),
            ),
            (
                "cycle.xml",
                redef.replace(
                    "</creationTime>",
                    "</creationTime>\n  <parent>\n    <name>child</name>\n  </parent>",
                ),
            ),
            (
                "offline.xml",
                redef
                    .replace("<state>running</state>", "<state>shutoff</state>")
                    .replace("<memory snapshot='internal'/>", "<memory snapshot='no'/>"),
            ),
            (
                "external.xml",
                "<domainsnapshot>\n  <name>ext</name>\n  \
                 <memory snapshot='external' file='/tmp/mem.img'/>\n  <disks>\n    \
                 <disk name='vda' snapshot='external'>\n      <driver type='qcow2'/>\n      \
                 <source file='/tmp/vda.snap'/>\n    </disk>\n  </disks>\n</domainsnapshot>\n"
                    .to_string(),
            ),
            (
                "manual.xml",
                "<domainsnapshot><memory snapshot='manual'/></domainsnapshot>".into(),
            ),
            (
                "nodisk.xml",
                "<domainsnapshot><disks><disk name='vdz'/></disks></domainsnapshot>".into(),
            ),
            ("broken.xml", "<domainsnapshot>\n".into()),
            ("node.xml", NODE.into()),
            ("notsnap.xml", "<foo/>".into()),
            (
                "transient.xml",
                format!(
                    "<domain type='test'><name>tr</name><memory>1024</memory>\
                     <os><type>hvm</type></os><devices><disk type='file' device='disk'>\
                     <source file='{}'/><target dev='vda'/></disk></devices></domain>",
                    dir.join("redef.xml").display()
                ),
            ),
        ];
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        Files { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn cases(f: &Files) -> Vec<String> {
    let p = |n: &str| f.path(n);
    let tree = "snapshot-create-as test a; snapshot-create-as test b; snapshot-current test a; \
                snapshot-create-as test c; snapshot-create-as test d; snapshot-current test b; \
                snapshot-create-as test e";
    let mut cases: Vec<String> = [
        // Creating, listing, the tree and the table.
        "snapshot-create-as test s1 --description 'hello <x>'; snapshot-create-as test s2; \
         snapshot-list test; snapshot-list test --tree; snapshot-info test s1; \
         snapshot-dumpxml test s1; snapshot-current test --name; snapshot-current test; \
         snapshot-parent test s2",
        "suspend test; snapshot-create test; snapshot-list test --parent; snapshot-list test --name",
        "snapshot-create-as test --print-xml --name n --description 'a<b' \
         --memspec /tmp/m,snapshot=external \
         --diskspec vda,snapshot=external,driver=qcow2,file=/tmp/x --diskspec vdb,stype=block,file=/dev/x",
        "snapshot-create-as test --memspec bad",
        "snapshot-create-as test --diskspec vda,stype=nvme",
        "snapshot-create-as test --diskspec vda,snapshot=external",
        "snapshot-create-as test --no-metadata; snapshot-create-as test --disk-only",
        // Errors before and without snapshots.
        "snapshot-info test; snapshot-parent test; snapshot-current test; \
         snapshot-list test --tree --name; snapshot-list test --roots --from x; \
         snapshot-list test --descendants; snapshot-dumpxml test nosuch; \
         snapshot-revert test nosuch; snapshot-delete test --current; \
         snapshot-current test nosuch; snapshot-current test --name nosuch; \
         snapshot-list test --tree --leaves; snapshot-list test --from a --current; \
         snapshot-info test a --current; snapshot-list nosuch",
        // Revert to running, paused and shut-off snapshots.
        "snapshot-create-as test r; suspend test; snapshot-create-as test p; destroy test; \
         snapshot-create-as test off; snapshot-revert test p; domstate test --reason; \
         snapshot-revert test r --paused; domstate test --reason; snapshot-revert test off; \
         domstate test --reason; snapshot-revert test off --running; domstate test --reason; \
         snapshot-list test --inactive; snapshot-list test --active; snapshot-dumpxml test off; \
         snapshot-revert test p --running --paused; snapshot-info test --current",
        // Flags the test driver refuses, delete variants, undefine.
        "snapshot-create-as test r; snapshot-create test --current; \
         snapshot-create test --redefine --halt; snapshot-delete test r --metadata; \
         snapshot-delete test r --children --children-only; undefine test; destroy test; \
         undefine test; list --all --with-snapshot",
        "snapshot-create-as test h --halt; domstate test --reason; list --all --without-snapshot",
        // --xpath and --wrap (virshDumpXML), on snapshots and domains.
        "snapshot-create-as test s1; snapshot-dumpxml test s1 --xpath //disk; \
         snapshot-dumpxml test s1 --xpath //disk --wrap; \
         snapshot-dumpxml test s1 --xpath /domainsnapshot/name/text(); \
         snapshot-dumpxml test s1 --xpath 'string(//name)'; snapshot-dumpxml test s1 --xpath //@name; \
         snapshot-dumpxml test s1 --xpath //nosuch --wrap; \
         snapshot-dumpxml test s1 --xpath '//disk[@name=\"vda\"]'; \
         snapshot-dumpxml test s1 --xpath '(('; snapshot-dumpxml test s1 --xpath /; \
         snapshot-dumpxml test s1 --xpath '//devices/*[2]'; \
         snapshot-dumpxml test s1 --xpath '//disk[last()]/@name | //name' --wrap; \
         snapshot-dumpxml test s1 --xpath '//disk/..'; snapshot-dumpxml test s1 --wrap",
        "dumpxml test --xpath //disk; dumpxml test --xpath //@dev --wrap; \
         dumpxml test --inactive --xpath /domain/name/text(); dumpxml test --xpath 'count(//x)'; \
         dumpxml test --xpath '//address[@bus=\"0x00\"]/@slot' --wrap; \
         dumpxml test --xpath \"//type[text()='hvm']/@arch\"",
        "snapshot-create-as test 'a b' --description 'multi\nline'; snapshot-create-as test 'x&y'; \
         snapshot-create-as test \"q'uote\"; snapshot-list test; snapshot-list test --tree; \
         snapshot-dumpxml test 'x&y'; snapshot-info test 'a b'; snapshot-create-as test ''; \
         snapshot-create-as test --name ''; snapshot-list test --parent",
        "snapshot-create-as test s1; snapshot-list test --from s1; \
         snapshot-list test --from s1 --descendants --tree; snapshot-list test --current --name; \
         snapshot-list test --current --leaves; snapshot-list test --leaves --no-leaves; \
         snapshot-list test --inactive --active --disk-only; snapshot-list test --inactive --active; \
         snapshot-list test --internal --external; snapshot-list test --metadata --no-metadata; \
         snapshot-list test --no-metadata; snapshot-list test --metadata",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    cases.extend([
        format!(
            "{tree}; snapshot-list test --tree; snapshot-list test --from a --tree; \
             snapshot-list test --from a --descendants --name; snapshot-list test --current --tree; \
             snapshot-list test --topological --name; snapshot-list test --no-leaves; \
             snapshot-list test --roots; snapshot-list test --leaves --parent; \
             snapshot-info test --current; snapshot-delete test a; snapshot-list test --tree; \
             snapshot-list test --topological --name; snapshot-delete test --current --children-only; \
             snapshot-list test --parent; snapshot-current test --name"
        ),
        format!("{tree}; snapshot-delete test a --children; snapshot-list test; snapshot-current test"),
        format!(
            "snapshot-create test {r} --redefine; snapshot-list test --tree; \
             snapshot-create test {r} --redefine --current; snapshot-current test --name; \
             snapshot-create test {o} --redefine; snapshot-revert test rd; \
             domstate test --reason; snapshot-info test rd",
            r = p("redef.xml"),
            o = p("offline.xml")
        ),
        format!(
            "snapshot-create test {r} --redefine; snapshot-create test {c} --redefine; \
             snapshot-create test {y} --redefine; snapshot-list test --tree; \
             snapshot-delete test rd; snapshot-list test --parent",
            r = p("redef.xml"),
            c = p("child.xml"),
            y = p("cycle.xml")
        ),
        format!(
            "snapshot-create test {}; snapshot-info test ext; snapshot-dumpxml test ext; \
             snapshot-list test --external; snapshot-list test --internal",
            p("external.xml")
        ),
        format!(
            "snapshot-create test {}; snapshot-create test {}; snapshot-create test {}; \
             snapshot-create test {}; snapshot-create test /nonexistent.xml",
            p("manual.xml"),
            p("nodisk.xml"),
            p("broken.xml"),
            p("notsnap.xml")
        ),
        format!(
            "create {}; snapshot-create-as tr x --halt; snapshot-create-as tr x; \
             snapshot-revert tr x; domstate tr --reason; destroy tr; list --all",
            p("transient.xml")
        ),
    ]);
    cases
}

#[test]
fn snapshot_commands_match_virsh() {
    if !rvirt_testkit::tools::have_virsh() {
        eprintln!("stock virsh not installed (scripts/install-deps.sh): skipping");
        return;
    }
    let files = Files::write();
    assert!(Path::new(&files.path("redef.xml")).exists());
    let cases = cases(&files);
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| compare_shells("test:///default", c, RULES))
        .collect();
    assert_none_differ(&failures, cases.len(), "");
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
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| compare_shells(&uri, c, RULES))
        .collect();
    assert_none_differ(&failures, cases.len(), "");
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
    let mut failures = Vec::new();
    for (name, body) in editors {
        let script = files.dir.join(format!("ed-{name}.sh"));
        std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let run = |program: &str| -> rvirt_testkit::tools::Output {
            let program = match program {
                "virsh" => PathBuf::from("virsh"),
                _ => rvirt_testkit::bins::rvirsh(),
            };
            rvirt_testkit::tools::shell_command(program, "test:///default", commands)
                .env("EDITOR", &script)
                .env_remove("VISUAL")
                .output()
                .unwrap()
                .into()
        };
        let want = run("virsh").normalised(RULES);
        let got = run("rvirsh").normalised(RULES);
        failures.extend(rvirt_testkit::tools::diff(
            &format!("EDITOR={name}: {commands}"),
            ("virsh", &want),
            ("rvirsh", &got),
        ));
    }
    assert_none_differ(&failures, editors.len(), "");
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
