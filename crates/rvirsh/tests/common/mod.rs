//! Shared helpers for the virsh comparison tests: fixtures, running a binary,
//! and normalising the one line that is a clock reading.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub status: bool,
}

fn run(program: &str, uri: &str, commands: &str) -> Output {
    let out = Command::new(program)
        .arg("-c")
        .arg(uri)
        .arg(commands)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program}: {e} (scripts/install-deps.sh installs virsh)")
        });
    Output {
        stdout: normalise(&String::from_utf8_lossy(&out.stdout)),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.success(),
    }
}

/// `CPU time:` is the test driver's clock reading; blank the value only.
fn normalise(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("CPU time:") {
                "CPU time:       <clock>".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

pub fn rvirsh(uri: &str, commands: &str) -> Output {
    run(env!("CARGO_BIN_EXE_rvirsh"), uri, commands)
}

pub fn virsh(uri: &str, commands: &str) -> Output {
    run("virsh", uri, commands)
}

/// Run a command string through both shells; describe any difference.
pub fn run_both(uri: &str, commands: &str) -> Option<String> {
    let want = virsh(uri, commands);
    let got = rvirsh(uri, commands);
    let mut diffs = Vec::new();
    if want.stdout != got.stdout {
        diffs.push(format!(
            "  stdout:\n--- virsh\n{}--- rvirsh\n{}",
            want.stdout, got.stdout
        ));
    }
    if want.stderr != got.stderr {
        diffs.push(format!(
            "  stderr:\n--- virsh\n{}--- rvirsh\n{}",
            want.stderr, got.stderr
        ));
    }
    if want.status != got.status {
        diffs.push(format!(
            "  exit: virsh ok={} rvirsh ok={}",
            want.status, got.status
        ));
    }
    (!diffs.is_empty()).then(|| format!("== {commands}\n{}", diffs.join("\n")))
}

/// Domain XML files the tests define and create, written fresh per run.
pub struct Fixtures {
    dir: PathBuf,
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
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("rvirsh-fixtures-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("fixture dir");
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
            std::fs::write(dir.join(name), text).expect("write fixture");
        }
        Fixtures { dir }
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for Fixtures {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
