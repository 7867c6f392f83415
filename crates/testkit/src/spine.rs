//! The spine's virsh comparison cases: command strings covering every spine
//! command and its error paths, and the XML fixture files they use. rvirsh's
//! comparison runs them in-process, the remote driver's over a stock
//! libvirtd, rvirtd's against rvirtd and libvirtd side by side.

use crate::dirs::TempDir;

/// Command strings (each one rvirsh/virsh invocation, so one test driver
/// state per case) covering every spine command and its error paths.
pub fn cases(f: &Fixtures) -> Vec<String> {
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
        "domhostname test",
        "domhostname test --source agent",
        "destroy test; domhostname test",
        "domhostname nosuch",
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
        // Snapshots (no creation times printed: they differ between runs).
        "snapshot-create-as test s1 --description d; snapshot-create-as test s2; \
         suspend test; snapshot-create-as test s3; snapshot-current test a; \
         snapshot-list test --tree; snapshot-list test --name --leaves; snapshot-info test s1; \
         snapshot-parent test s3; snapshot-revert test s1; domstate --reason test; \
         snapshot-revert test s3 --running; domstate --reason test; snapshot-delete test s2; \
         snapshot-list test --tree; snapshot-delete test s1 --children; snapshot-list test --name",
        "snapshot-info test nosuch; snapshot-current test; snapshot-create-as test x --no-metadata; \
         snapshot-create-as test y; destroy test; undefine test; \
         snapshot-delete test y --metadata; snapshot-current test --name",
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

/// Domain XML files the tests define and create, written fresh per run.
pub struct Fixtures {
    dir: TempDir,
}

const FOO: &str = "<domain type='test'>\n  <name>foo</name>\n  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>\n  <memory unit='MiB'>128</memory>\n  <os><type>hvm</type></os>\n</domain>\n";

const FULL: &str = r#"<domain type='test'>
  <name>foo</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <title>Full guest</title>
  <description>Every element the spine covers</description>
  <memory unit='GiB'>1</memory>
  <currentMemory unit='MiB'>512</currentMemory>
  <vcpu placement='static' current='1'>2</vcpu>
  <os>
    <type arch='i686'>hvm</type>
    <boot dev='cdrom'/>
    <boot dev='hd'/>
  </os>
  <features><acpi/><apic/><pae/></features>
  <clock offset='localtime'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>restart</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/images/foo.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <source file='/var/lib/images/boot.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:aa:bb:cc'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <memballoon model='virtio'/>
  </devices>
</domain>
"#;

impl Fixtures {
    pub fn write() -> Fixtures {
        // One directory per call: tests run in parallel and each drops its own.
        let dir = TempDir::new("fixtures");
        let files: &[(&str, String)] = &[
            ("foo.xml", FOO.to_string()),
            ("full.xml", FULL.to_string()),
            (
                "test-update.xml",
                "<domain type='test'><name>test</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid><memory>4096</memory><os><type>hvm</type></os></domain>\n".into(),
            ),
            (
                "dup-name.xml",
                "<domain type='test'><name>test</name><uuid>11111111-2222-3333-4444-555555555555</uuid><memory>1024</memory><os><type>hvm</type></os></domain>\n".into(),
            ),
            (
                "dup-uuid.xml",
                "<domain type='test'><name>other</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid><memory>1024</memory><os><type>hvm</type></os></domain>\n".into(),
            ),
            ("truncated.xml", "<domain\n".into()),
            ("mismatch.xml", "<domain type='test'><name>x</name></domian>\n".into()),
            ("empty.xml", String::new()),
            ("not-domain.xml", "<network><name>x</name></network>\n".into()),
            (
                "no-name.xml",
                "<domain type='test'><memory>1024</memory><os><type>hvm</type></os></domain>\n".into(),
            ),
            (
                "bad-memory.xml",
                "<domain type='test'><name>m</name><memory unit='parsec'>1</memory><os><type>hvm</type></os></domain>\n".into(),
            ),
            (
                "bad-uuid.xml",
                "<domain type='test'><name>u</name><uuid>not-a-uuid</uuid><memory>1024</memory><os><type>hvm</type></os></domain>\n".into(),
            ),
        ];
        let node = "<node>\n  <cpu>\n    <mhz>6000</mhz>\n    <model>i986</model>\n    <active>50</active>\n    <nodes>4</nodes>\n    <sockets>4</sockets>\n    <cores>4</cores>\n    <threads>2</threads>\n  </cpu>\n  <memory>8192000</memory>\n  <domain file=\"guest1.xml\"/>\n  <domain type='test'>\n    <name>inline</name>\n    <uuid>12345678-1234-1234-1234-123456789abc</uuid>\n    <memory>65536</memory>\n    <os><type>hvm</type></os>\n  </domain>\n</node>\n";
        let guest1 = "<domain type='test'>\n  <name>fromfile</name>\n  <uuid>87654321-1234-1234-1234-123456789abc</uuid>\n  <memory>131072</memory>\n  <vcpu>3</vcpu>\n  <os><type>hvm</type></os>\n</domain>\n";
        let files: Vec<(&str, String)> = files
            .iter()
            .cloned()
            .chain([
                ("node.xml", node.to_string()),
                ("guest1.xml", guest1.to_string()),
            ])
            .collect();
        for (name, text) in &files {
            dir.write(name, text);
        }
        Fixtures { dir }
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}
