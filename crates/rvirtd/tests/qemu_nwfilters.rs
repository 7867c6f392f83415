//! The network filter driver behind `qemu:///system`: the same nwfilter-*
//! command sequence through stock virsh against rvirtd and against a
//! stock libvirtd's own nwfilter driver (private mount namespace, its
//! /etc/libvirt a copy), and through rvirsh against rvirtd, compared on
//! stdout, stderr and exit status with generated UUIDs masked: define,
//! list, dumpxml (by name, by UUID, with --xpath), undefine, and the
//! errors for bad names, bad XML, name/UUID clashes and include loops;
//! the binding commands with a binding of a port the host does not have
//! (which libvirt keeps without applying rules). Definitions are kept
//! across an rvirtd restart.

use rvirt_testkit::bins::rvirsh as rvirsh_bin;
use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::dirs::TempDir;
use rvirt_testkit::libvirtd_qemu::QemuLibvirtd;
use rvirt_testkit::qemu_dirs::QemuDirs;
use rvirt_testkit::tools::{
    diff, have_virsh, shell_command, three_way_differences, virsh, Normalise, Output,
};
use std::path::Path;

const UUID: &str = "5c6d49af-b071-6127-b4ec-6f8ed4b55335";

/// Documents the cases define, by file name.
const XML_FILES: &[(&str, &str)] = &[
    (
        "a.xml",
        "<filter name='rvirt-a' chain='ipv4' priority='-650'>\
         <uuid>5c6d49af-b071-6127-b4ec-6f8ed4b55335</uuid>\
         <rule action='accept' direction='out' priority='100'>\
         <tcp srcipaddr='10.1.2.3' srcipmask='255.255.0.0' dstportstart='22' state='NEW,ESTABLISHED'/></rule>\
         <rule action='drop' direction='inout' statematch='false'>\
         <ip match='no' srcipaddr='$IP' protocol='udp' srcportstart='0x35'/></rule>\
         <rule action='return' direction='in'><mac protocolid='arp' srcmacaddr='1:2:3:4:5:6'/></rule>\
         <rule action='reject' direction='out'><icmp type='8' code='0' comment='ping &amp; pong'/></rule>\
         <filterref filter='rvirt-b'><parameter name='IP' value='10.0.0.1'/><parameter name='IP' value='10.0.0.2'/></filterref>\
         </filter>",
    ),
    (
        "b.xml",
        "<filter name='rvirt-b' chain='arp'><rule action='drop' direction='in'><arp opcode='Request' arpsrcipaddr='$IP'/></rule></filter>",
    ),
    ("a-nouuid.xml", "<filter name='rvirt-a'/>"),
    (
        "a-other.xml",
        "<filter name='rvirt-other'><uuid>5c6d49af-b071-6127-b4ec-6f8ed4b55335</uuid></filter>",
    ),
    (
        "b-loop.xml",
        "<filter name='rvirt-b' chain='arp'><filterref filter='rvirt-a'/></filter>",
    ),
    ("self-loop.xml", "<filter name='rvirt-c'><filterref filter='rvirt-c'/></filter>"),
    ("notwell.xml", "<filter name='x'>"),
    ("wrongroot.xml", "<network><name>x</name></network>"),
    ("noname.xml", "<filter><rule action='drop' direction='in'/></filter>"),
    ("badchain.xml", "<filter name='x' chain='bogus'/>"),
    ("badprio.xml", "<filter name='x' chain='mac' priority='-2000'/>"),
    ("badaction.xml", "<filter name='x'><rule action='allow' direction='in'/></filter>"),
    ("baddscp.xml", "<filter name='x'><rule action='drop' direction='in'><ip dscp='64'/></rule></filter>"),
    ("badport.xml", "<filter name='x'><rule action='drop' direction='in'><ip srcportstart='1'/></rule></filter>"),
    ("baduuid.xml", "<filter name='x'><uuid>not-a-uuid</uuid></filter>"),
    (
        "binding.xml",
        "<filterbinding><owner><name>g</name><uuid>5c6d49af-b071-6127-b4ec-6f8ed4b55335</uuid></owner>\
         <portdev name='rvnet0'/><mac address='52:54:00:00:00:01'/><filterref filter='rvirt-missing'/></filterbinding>",
    ),
    ("badbinding.xml", "<filterbinding><portdev name='rvnet0'/></filterbinding>"),
];

/// The sequence, `{X}` the directory of the XML files.
const CASES: &[&str] = &[
    "nwfilter-list",
    "nwfilter-define {X}/b.xml",
    "nwfilter-define {X}/a.xml",
    "nwfilter-list",
    "nwfilter-dumpxml rvirt-a",
    "nwfilter-dumpxml 5c6d49af-b071-6127-b4ec-6f8ed4b55335",
    "nwfilter-dumpxml rvirt-b",
    "nwfilter-dumpxml rvirt-a --xpath //rule/@action",
    "nwfilter-dumpxml rvirt-a --xpath //parameter --wrap",
    "nwfilter-edit rvirt-a",
    "nwfilter-dumpxml rvirt-a",
    "nwfilter-edit rvirt-b",
    "nwfilter-edit nope",
    "nwfilter-define {X}/a.xml",
    "nwfilter-define {X}/a-nouuid.xml",
    "nwfilter-define {X}/a-other.xml",
    "nwfilter-define {X}/b-loop.xml",
    "nwfilter-define {X}/self-loop.xml",
    "nwfilter-define {X}/notwell.xml",
    "nwfilter-define {X}/wrongroot.xml",
    "nwfilter-define {X}/noname.xml",
    "nwfilter-define {X}/badchain.xml",
    "nwfilter-define {X}/badprio.xml",
    "nwfilter-define {X}/badaction.xml",
    "nwfilter-define {X}/baddscp.xml",
    "nwfilter-define {X}/badport.xml",
    "nwfilter-define {X}/baduuid.xml",
    "nwfilter-define {X}/missing.xml",
    "nwfilter-define",
    "nwfilter-dumpxml nope",
    "nwfilter-dumpxml 5c6d49af-b071-6127-b4ec-6f8ed4b55336",
    "nwfilter-undefine nope",
    "nwfilter-undefine",
    "nwfilter-binding-list",
    "nwfilter-binding-dumpxml rvnet0",
    "nwfilter-binding-delete rvnet0",
    "nwfilter-binding-create {X}/badbinding.xml",
    "nwfilter-binding-create {X}/binding.xml",
    "nwfilter-binding-create {X}/binding.xml",
    "nwfilter-binding-list",
    "nwfilter-binding-dumpxml rvnet0",
    "nwfilter-binding-dumpxml rvnet0 --xpath //mac --wrap",
    "nwfilter-binding-delete rvnet0",
    "nwfilter-binding-delete rvnet0",
    "nwfilter-binding-list",
    "nwfilter-undefine rvirt-a",
    "nwfilter-undefine 5c6d49af-b071-6127-b4ec-6f8ed4b55335",
    "nwfilter-undefine rvirt-b",
    "nwfilter-list",
];

/// The sequence through `program` (virsh or rvirsh) on `uri`, with an
/// `$EDITOR` that raises the first rule's priority of what it edits.
fn run_sequence(program: &Path, uri: &str, xml_dir: &str) -> Vec<(String, Output)> {
    let masks = [Normalise::Uuid];
    let editor = Path::new(xml_dir).join("editor.sh");
    CASES
        .iter()
        .map(|c| {
            let cmd = c.replace("{X}", xml_dir);
            let out: Output = shell_command(program, uri, &cmd)
                .env("EDITOR", &editor)
                .env_remove("VISUAL")
                .output()
                .expect("run the shell")
                .into();
            (c.to_string(), out.normalised(&masks))
        })
        .collect()
}

/// The XML files of [`XML_FILES`] and the editor script in a scratch
/// directory.
fn scratch_files(tag: &str) -> TempDir {
    use std::os::unix::fs::PermissionsExt;
    let scratch = TempDir::new(tag);
    for (name, text) in XML_FILES {
        scratch.write(name, text);
    }
    let editor = scratch.write(
        "editor.sh",
        "#!/bin/sh\nsed -i \"s/priority='100'/priority='200'/\" \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    scratch
}

fn rvirtd(qemu: &QemuDirs, filters: &std::path::Path) -> (Daemon, String) {
    let conf = format!(
        "{}nwfilter_config_dir = \"{}\"\nnwfilter_binding_dir = \"{}\"\n",
        qemu.conf(),
        filters.display(),
        filters.join("bindings").display()
    );
    let daemon = Daemon::rvirtd(&conf);
    let uri = format!("qemu+unix:///system?socket={}", daemon.socket().display());
    (daemon, uri)
}

#[test]
fn nwfilter_commands_print_what_libvirtd_prints() {
    if !have_virsh() {
        return;
    }
    let Some(stock) = QemuLibvirtd::start() else {
        return;
    };
    let scratch = scratch_files("nwfilter-compare");
    let xml_dir = scratch.path().display().to_string();
    let qemu = QemuDirs::new();
    let (daemon, uri) = rvirtd(&qemu, &scratch.join("etc-nwfilter"));
    let virsh_bin = Path::new("virsh");
    let want = run_sequence(virsh_bin, &stock.uri(), &xml_dir);
    let got = run_sequence(virsh_bin, &uri, &xml_dir);
    let own = run_sequence(&rvirsh_bin(), &uri, &xml_dir);
    let side = side_checks(&stock, &daemon, &xml_dir);
    // The reference really ran: the edit took, the driver's URI opened.
    let out = |case: &str| &want.iter().find(|(c, _)| c == case).unwrap().1;
    assert!(out("nwfilter-edit rvirt-a")
        .stdout
        .contains("XML configuration edited"));
    assert!(out("nwfilter-edit rvirt-b").stdout.contains("not changed"));
    let oks = want.iter().filter(|(_, o)| o.ok).count();
    assert!(
        (10..CASES.len() - 10).contains(&oks),
        "{oks} of {} succeeded: {want:#?}",
        CASES.len()
    );
    eprintln!(
        "{oks} of {} commands succeeded on both daemons alike",
        CASES.len()
    );
    let mut failures = three_way_differences(&want, &got, &own);
    failures.extend(side);
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}\n--- rvirtd log:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n"),
        daemon.log()
    );
}

/// The driver's own URI (`nwfilter:///system` on each daemon's socket)
/// and the read-only socket, where every change is refused: stock virsh
/// against each daemon, the differences found.
fn side_checks(stock: &QemuLibvirtd, daemon: &Daemon, xml_dir: &str) -> Vec<String> {
    let sockets = [
        (
            stock.socket(),
            stock.socket().with_file_name("libvirt-sock-ro"),
        ),
        (daemon.socket(), daemon.socket_ro()),
    ];
    let cases = [
        ("nwfilter:///system", 0, "uri; nwfilter-list".to_string()),
        (
            "qemu:///system",
            1,
            format!(
                "nwfilter-list; nwfilter-define {0}/b.xml; nwfilter-undefine rvirt-b; \
                 nwfilter-binding-create {0}/binding.xml; nwfilter-binding-delete rvnet0; \
                 nwfilter-binding-list",
                xml_dir
            ),
        ),
    ];
    let mut diffs = Vec::new();
    for (base, which, c) in cases {
        let run = |(rw, ro): &(std::path::PathBuf, std::path::PathBuf)| {
            let socket = if which == 0 { rw } else { ro };
            let out = virsh(&format!("{base}?socket={}", socket.display()), &c);
            let mask = Normalise::Value(socket.display().to_string(), "sock");
            out.normalised(&[mask])
        };
        let (w, g) = (run(&sockets[0]), run(&sockets[1]));
        if which == 0 {
            assert!(w.ok && w.stdout.starts_with("nwfilter:///system"), "{w:?}");
        } else {
            assert!(w.stderr.contains("read only access prevents"), "{w:?}");
        }
        diffs.extend(diff(&c, ("libvirtd", &w), ("rvirtd", &g)));
    }
    diffs
}

/// Filters defined through one rvirtd are there, byte for byte, after a
/// restart on the same directory; a filter file is libvirt's.
#[test]
fn filters_are_kept_across_a_restart() {
    if !have_virsh() {
        return;
    }
    let scratch = scratch_files("nwfilter-restart");
    let dir = scratch.join("etc-nwfilter");
    let qemu = QemuDirs::new();
    let before = {
        let (_daemon, uri) = rvirtd(&qemu, &dir);
        let defined = virsh(
            &uri,
            &format!(
                "nwfilter-define {0}/b.xml; nwfilter-define {0}/a.xml",
                scratch.path().display()
            ),
        );
        assert!(defined.ok, "{defined:?}");
        virsh(
            &uri,
            "nwfilter-list; nwfilter-dumpxml rvirt-a; nwfilter-dumpxml rvirt-b",
        )
    };
    let saved = std::fs::read_to_string(dir.join("rvirt-a.xml")).unwrap();
    assert!(saved.contains("  virsh nwfilter-edit rvirt-a\n"), "{saved}");
    assert!(saved.contains(&format!("<uuid>{UUID}</uuid>")), "{saved}");
    let (_daemon, uri) = rvirtd(&qemu, &dir);
    let after = virsh(
        &uri,
        "nwfilter-list; nwfilter-dumpxml rvirt-a; nwfilter-dumpxml rvirt-b",
    );
    assert!(before.ok, "{before:?}");
    assert_eq!(before, after);
}
