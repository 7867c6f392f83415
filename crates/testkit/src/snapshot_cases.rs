//! Snapshot cases shared by the tests that compare shells: command
//! strings over `test:///default` (one host per invocation), the snapshot
//! documents they read, and the normalisations they need (creation times
//! and generated UUIDs differ between runs).

use crate::tools::{virsh, Normalise};
use std::path::PathBuf;

pub const RULES: &[Normalise] = &[Normalise::SnapshotTime, Normalise::Uuid, Normalise::CpuTime];

/// A node description whose domain carries two snapshots
/// (`<test:domainsnapshot>`, libvirt's testParseDomainSnapshots), the
/// second current.
pub const NODE: &str = "<node>
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
pub struct Files {
    pub dir: PathBuf,
}

impl Files {
    pub fn write() -> Files {
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

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// The command strings, each run as one invocation.
pub fn cases(f: &Files) -> Vec<String> {
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
