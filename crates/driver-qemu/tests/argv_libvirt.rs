//! rvirt's QEMU command line against stock libvirt 9.0's for the same
//! guest XMLs (tests/argv/*.xml): `CommandLine::to_native()` beside
//! `virsh domxml-to-native qemu-argv FILE` from a private stock libvirtd.
//!
//! Normalised: only the environment before the program (libvirtd passes
//! its own PATH etc.); the run context uses libvirt's own paths
//! (`/var/lib/libvirt/qemu/domain--1-NAME`, domain id -1 as
//! domxml-to-native uses), so ids, uuids and paths are compared as they
//! are. Every remaining difference must be one of [`EXPLAINED`]; the
//! arguments are otherwise identical, one by one.

use rvirt_conf::domain::{DomainDef, FormatOptions, VirtType};
use rvirt_driver_qemu::caps_model::{machines_from_help, Accel, QemuCaps};
use rvirt_driver_qemu::command::{build, prepare_definition, RunContext};
use rvirt_testkit::libvirtd_qemu::QemuLibvirtd;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The kernel-boot test guest; a BIOS KVM guest with qcow2 disk, cdrom,
/// virtio-net, VNC, video, tablet, RNG and guest agent; a q35 guest
/// (SATA, virtio-scsi, bridge + user NICs, root ports); serial ports on
/// pty/file/unix/tcp; an assortment (lsi SCSI, cache modes, boot order,
/// virtconsole, USB inputs, PM, timers); the q35 guest as libvirt
/// defined it, with two devices' root ports swapped (explicit addresses
/// are honoured); a guest with every tunable rvirt applies (the NUMA
/// policy is the only one on the command line: the RAM backend's
/// host-nodes and policy); a virtio NIC on a virtual network
/// (`<interface type='network'>`); virt-install's guest for
/// `--osinfo generic` (IDE disks with discard policies, ICH9 EHCI1 with its three UHCI companions in one
/// slot, an e1000 NIC, libvirt's clock and PM settings); virt-install's
/// guest for `--os-variant debian11` (q35 with fourteen root ports
/// without addresses, virtio disk and NIC, guest agent channel, RNG);
/// a guest with `<vcpus>` (two online hotpluggable vCPUs out of order,
/// one offline: `-smp` counts the boot vCPU only); a guest with two NUMA
/// cells (a RAM backend `ram-nodeN` each, one cell's size not a whole
/// MiB, a `<memnode>` policy beside the `<memory>` one, distances, and
/// the vCPU no cell names given to cell 0 at define time); a guest with
/// IOThreads (one given with pool bounds, one filled in, the default
/// thread's pool, a virtio disk and a virtio-scsi controller on them,
/// their pinning and bandwidth); a guest whose NUMA cells have
/// `memAccess` (shared with discard, private, shared) and `<memnode>`
/// policies in strict and restrictive mode beside an interleaved
/// `<memory>` (file backends in the memory backing directory).
const GUESTS: &[&str] = &[
    "minimal-kernel.xml",
    "bios-full.xml",
    "q35.xml",
    "serial-chardevs.xml",
    "assorted.xml",
    "q35-defined.xml",
    "tunables.xml",
    "network-nic.xml",
    "usb2-generic.xml",
    "virt-install-q35.xml",
    "vcpus-hotplug.xml",
    "numa-cells.xml",
    "iothreads.xml",
    "numa-memaccess.xml",
];

/// A difference rvirt keeps on purpose: the option, what tells the two
/// values apart, and why.
struct Explained {
    flag: &'static str,
    libvirt_has: &'static str,
    why: &'static str,
}

const EXPLAINED: &[Explained] = &[Explained {
    flag: "-netdev",
    libvirt_has: r#"{"type":"tap","fd":""#,
    why: "domxml-to-native rewrites every <interface> as type='ethernet' with a tap fd \
          libvirtd would open (qemuConnectDomainXMLToNative); rvirt prints the backend it \
          really starts: user networking as libvirt starts it, a tap by ifname for \
          bridge/ethernet/network (QEMU opens it; a network's tap is made on its bridge \
          first). Same netdev id and NIC device either way.",
}];

fn qemu_help(what: &str) -> String {
    let out = Command::new("/usr/bin/qemu-system-x86_64")
        .args([what, "help"])
        .output()
        .expect("qemu-system-x86_64");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The installed QEMU's machines and devices from its help texts. KVM is
/// taken as usable: only command lines are compared, nothing starts.
fn installed_caps() -> QemuCaps {
    let devices = qemu_help("-device");
    let types = devices
        .lines()
        .filter_map(|l| l.strip_prefix("name \""))
        .filter_map(|l| l.split('"').next())
        .map(str::to_string)
        .collect();
    QemuCaps {
        binary: PathBuf::from("/usr/bin/qemu-system-x86_64"),
        version: (7, 2, 0),
        arch: rvirt_conf::domain::Arch::X86_64,
        machines: machines_from_help(&qemu_help("-machine")),
        types,
        cpu_models: Vec::new(),
        kvm_usable: true,
    }
}

/// `virBufferEscapeShell` undone: words, single quotes and `'\''`.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut started) = (false, false);
    let mut chars = text.trim_end().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                started = true;
            }
            '\\' if !quoted => {
                word.extend(chars.next());
            }
            ' ' if !quoted => {
                if started || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                started = false;
            }
            c => word.push(c),
        }
    }
    if started || !word.is_empty() {
        words.push(word);
    }
    words
}

/// The program and its arguments, without the `NAME=value` environment.
fn without_env(native: &str) -> Vec<String> {
    let words = shell_words(native);
    let program = words
        .iter()
        .position(|w| !w.contains('=') || w.starts_with('/'));
    words[program.unwrap_or(0)..].to_vec()
}

fn rvirt_native(file: &Path, caps: &QemuCaps) -> String {
    let def = DomainDef::parse(&std::fs::read_to_string(file).unwrap()).unwrap();
    let lib_dir = PathBuf::from(format!("/var/lib/libvirt/qemu/domain--1-{}", def.name));
    let ctx = RunContext {
        accel: if def.virt_type == VirtType::Kvm {
            Accel::Kvm
        } else {
            Accel::Tcg
        },
        monitor_socket: lib_dir.join("monitor.sock"),
        lib_dir,
        domain_id: -1,
        incoming: None,
        tap_fds: Default::default(),
    };
    build(&def, caps, &ctx).unwrap().to_native()
}

/// The differences of one guest, each explained, or the unexplained one.
fn compare(libvirt: &[String], rvirt: &[String]) -> Result<Vec<String>, String> {
    if libvirt.len() != rvirt.len() {
        return Err(format!(
            "{} words from libvirt, {} from rvirt:\nlibvirt: {libvirt:?}\nrvirt:   {rvirt:?}",
            libvirt.len(),
            rvirt.len()
        ));
    }
    let mut explained = Vec::new();
    for (i, (l, r)) in libvirt.iter().zip(rvirt).enumerate() {
        if l == r {
            continue;
        }
        let flag = if i > 0 { libvirt[i - 1].as_str() } else { "" };
        let rule = EXPLAINED
            .iter()
            .find(|e| e.flag == flag && l.starts_with(e.libvirt_has));
        match rule {
            Some(e) => explained.push(format!("{flag} {l} | rvirt: {r}\n    ({})", e.why)),
            None => {
                return Err(format!(
                    "argument {i} after {flag}:\nlibvirt: {l}\nrvirt:   {r}"
                ))
            }
        }
    }
    Ok(explained)
}

/// Run `check` on every guest beside one private stock libvirtd; it
/// returns what to report for a guest or why the guest fails.
fn for_each_guest(check: impl Fn(&QemuLibvirtd, &QemuCaps, &str, &Path) -> Result<String, String>) {
    let Some(libvirtd) = QemuLibvirtd::start() else {
        return;
    };
    let caps = installed_caps();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/argv");
    let mut failures = Vec::new();
    for guest in GUESTS {
        match check(&libvirtd, &caps, guest, &dir.join(guest)) {
            Ok(report) => eprintln!("{guest}: {report}"),
            Err(e) => failures.push(format!("{guest}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn command_lines_match_stock_libvirt() {
    for_each_guest(|libvirtd, caps, guest, file| {
        let libvirt = libvirtd
            .virsh(&["domxml-to-native", "qemu-argv", file.to_str().unwrap()])
            .unwrap_or_else(|e| panic!("{guest}: stock libvirt refused it: {e}"));
        let rvirt = rvirt_native(file, caps);
        let diffs = compare(&without_env(&libvirt), &without_env(&rvirt))?;
        Ok(match diffs.is_empty() {
            true => "identical".into(),
            false => format!("identical but for\n  {}", diffs.join("\n  ")),
        })
    });
}

/// What libvirtd's define made of a guest (`dumpxml --inactive`).
fn libvirt_defined(libvirtd: &QemuLibvirtd, file: &Path) -> String {
    libvirtd.virsh(&["define", file.to_str().unwrap()]).unwrap();
    let def = DomainDef::parse(&std::fs::read_to_string(file).unwrap()).unwrap();
    let xml = libvirtd
        .virsh(&["dumpxml", "--inactive", &def.name])
        .unwrap();
    libvirtd.virsh(&["undefine", &def.name]).unwrap();
    xml
}

/// `prepare_definition` (machine, implicit devices, addresses) formats
/// as libvirtd's define of the same XML, line for line.
#[test]
fn definitions_are_prepared_as_libvirt_defines_them() {
    for_each_guest(|libvirtd, caps, _, file| {
        let libvirt = libvirt_defined(libvirtd, file);
        let mut def = DomainDef::parse(&std::fs::read_to_string(file).unwrap()).unwrap();
        prepare_definition(&mut def, caps).unwrap();
        let opts = FormatOptions {
            inactive: true,
            ..FormatOptions::default()
        };
        let rvirt = def.format(&opts);
        let (l, r): (Vec<&str>, Vec<&str>) = (
            libvirt.trim_end().lines().collect(),
            rvirt.trim_end().lines().collect(),
        );
        match l.iter().zip(&r).position(|(a, b)| a != b) {
            None if l.len() == r.len() => Ok("defined identically".into()),
            at => {
                let at = at.unwrap_or(l.len().min(r.len()));
                let line = |v: &[&str]| v.get(at).copied().unwrap_or("<end>").to_string();
                Err(format!(
                    "line {}:\nlibvirt: {}\nrvirt:   {}",
                    at + 1,
                    line(&l),
                    line(&r)
                ))
            }
        }
    });
}
