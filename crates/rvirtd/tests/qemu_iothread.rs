//! QEMU-driver tuning that libvirt 9.0 applies to a running guest or
//! refuses, under rvirtd and a private stock libvirtd with its QEMU
//! driver, side by side on the same guest: `virsh iothreadset` (polling
//! and thread pool bounds, set live with qom-set, and its errors),
//! `virsh domstats --iothread` before and after, the `<iothreadids>`
//! they leave in the live and persistent XML; guest NUMA cells with
//! `memAccess` and `discard` as the started QEMU's memory backends; and
//! the refusals of `placement='auto'` without numad and of
//! `<min_guarantee>`. With a numad (a stand-in script, as no numad is
//! installed for libvirtd to use), an automatically placed guest starts
//! on the advised node.

use rvirt_testkit::cgroups::qemu_with;
use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::libvirtd_qemu::QemuLibvirtd;
use rvirt_testkit::qemu_dirs::{test_image, QemuDirs};
use rvirt_testkit::tools::{rvirsh, virsh};

const NAME: &str = "iot";
const UUID: &str = "2b7c9d1e-3f40-4a5b-8c6d-7e8f9a0b1c2d";

/// Two IOThreads, one with pool bounds, ids not in order.
const IOTHREADS: &str = "<vcpu>1</vcpu>\n  <iothreads>2</iothreads>\n  <iothreadids>\n    \
     <iothread id='1' thread_pool_min='1' thread_pool_max='8'/>\n    <iothread id='3'/>\n  \
     </iothreadids>";

/// The commands compared, in order, each by its output or error.
const COMMANDS: &[&str] = &[
    "domstats --iothread iot",
    "iothreadset iot 1 --poll-max-ns 1000 --poll-grow 3 --poll-shrink 2",
    "domstats --iothread iot",
    "iothreadset iot 3 --poll-max-ns 0 --live",
    "iothreadset iot 3 --thread-pool-min 2",
    "iothreadset iot 3 --thread-pool-max 4 --thread-pool-min 2",
    "iothreadset iot 1 --thread-pool-min 9 --thread-pool-max 12",
    "iothreadset iot 1 --thread-pool-max -1",
    "iothreadset iot 1 --thread-pool-max 0",
    "iothreadset iot 1 --thread-pool-min -2",
    "iothreadset iot 9 --poll-grow 1",
    "iothreadset iot 1 --poll-grow 1 --config",
    "iothreadset iot 1 --thread-pool-min 0 --config",
    "iothreadset iot 3 --thread-pool-max 2 --live --config",
    "iothreadset iot 1 --poll-max-ns 4294967296",
    "iothreadset iot 1 --poll-grow 4294967295",
    "iothreadset iot 0 --poll-grow 1",
    "iothreadset iot 1",
    "iothreadadd iot 5 --live",
    "iothreadset iot 5 --poll-shrink 4",
    "domstats --iothread iot",
    "domstats --iothread --state iot",
];

fn run(uri: &str, cmd: &str, out: &mut String) {
    let r = virsh(uri, cmd);
    let text = if r.ok { r.stdout } else { r.stderr };
    out.push_str(&format!("$ virsh {cmd}\n{text}\n"));
}

/// The `<iothread…>` lines of the live and persistent XML.
fn iothread_xml(uri: &str) -> String {
    let mut out = String::new();
    for cmd in [
        format!("dumpxml {NAME}"),
        format!("dumpxml {NAME} --inactive"),
    ] {
        out.push_str(&format!("$ virsh {cmd} | grep iothread\n"));
        let xml = virsh(uri, &cmd).stdout;
        for line in xml.lines().filter(|l| l.contains("<iothread")) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Define and start the guest, run the commands, stop and undefine it.
fn transcript(uri: &str, dirs: &QemuDirs) -> String {
    let xml = dirs
        .guest_xml(NAME, &test_image(), "")
        .replacen(
            &format!("<name>{NAME}</name>"),
            &format!("<name>{NAME}</name>\n  <uuid>{UUID}</uuid>"),
            1,
        )
        .replace("<vcpu>1</vcpu>", IOTHREADS);
    let path = dirs.write("iot.xml", xml);
    for cmd in [
        format!("define {}", path.display()),
        format!("start {NAME}"),
    ] {
        let r = virsh(uri, &cmd);
        assert!(r.ok, "{cmd} on {uri}: {}", r.stderr);
    }
    let mut out = String::new();
    for cmd in COMMANDS {
        run(uri, cmd, &mut out);
    }
    out.push_str(&iothread_xml(uri));
    let _ = virsh(uri, &format!("destroy {NAME}"));
    // Shut off: no live stats, the configuration's bounds kept.
    run(uri, "domstats --iothread iot", &mut out);
    run(uri, "iothreadset iot 1 --poll-grow 1", &mut out);
    out.push_str(&iothread_xml(uri));
    let _ = virsh(uri, &format!("undefine {NAME}"));
    out
}

/// NUMA cells: shared with discard, private, shared without discard;
/// memnode policies beside the interleaved default.
const CELLS: &str = "<vcpu placement='static'>3</vcpu>\n  <numatune>\n    \
     <memory mode='interleave' nodeset='0'/>\n    <memnode cellid='0' mode='strict' nodeset='0'/>\n    \
     <memnode cellid='2' mode='restrictive' nodeset='0'/>\n  </numatune>\n  <cpu>\n    <numa>\n      \
     <cell id='0' cpus='0' memory='64' unit='MiB' memAccess='shared' discard='yes'/>\n      \
     <cell id='1' cpus='1' memory='32' unit='MiB' memAccess='private' discard='no'/>\n      \
     <cell id='2' cpus='2' memory='32' unit='MiB' discard='yes'/>\n    </numa>\n  </cpu>";

/// The memory backends of the started QEMU (its memory backing
/// directory as `RAM`) and whether QEMU sees that directory (libvirtd's
/// is in its private mount namespace); the directory's path.
fn memory_backends(uri: &str, dirs: &QemuDirs, ram_root: &str) -> (String, String) {
    let xml = dirs
        .guest_xml("cells", &test_image(), "")
        .replace("<vcpu>1</vcpu>", CELLS);
    let path = dirs.write("cells.xml", xml);
    for cmd in [format!("define {}", path.display()), "start cells".into()] {
        let r = virsh(uri, &cmd);
        assert!(r.ok, "{cmd} on {uri}: {}", r.stderr);
    }
    let id = virsh(uri, "domid cells").stdout.trim().to_string();
    let pid = qemu_with(&["guest=cells,"]).expect("QEMU of cells");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let ram_dir = format!("{ram_root}/{id}-cells");
    let mut out: Vec<String> = String::from_utf8_lossy(&cmdline)
        .split('\0')
        .filter(|a| a.contains("memory-backend") || a.starts_with("node,"))
        .map(|a| a.replace(&ram_dir, "RAM"))
        .collect();
    let seen = std::path::Path::new(&format!("/proc/{pid}/root{ram_dir}")).is_dir();
    out.push(format!("RAM is a directory: {seen}"));
    let _ = virsh(uri, "destroy cells");
    let _ = virsh(uri, "undefine cells");
    (out.join("\n"), ram_dir)
}

/// What each refusal says: `placement='auto'` with no numad installed
/// (at start, and for domxml-to-native), `<min_guarantee>` at define.
fn refusals(uri: &str, dirs: &QemuDirs) -> String {
    let mut out = String::new();
    for (name, tune) in [
        ("vauto", "<vcpu placement='auto'>1</vcpu>"),
        (
            "mauto",
            "<vcpu>1</vcpu><numatune><memory mode='strict' placement='auto'/></numatune>",
        ),
    ] {
        let xml = dirs
            .guest_xml(name, &test_image(), "")
            .replace("<vcpu>1</vcpu>", tune);
        let path = dirs.write(&format!("{name}.xml"), xml);
        run(uri, &format!("define {}", path.display()), &mut out);
        run(uri, &format!("start {name}"), &mut out);
        run(
            uri,
            &format!("domxml-to-native qemu-argv {}", path.display()),
            &mut out,
        );
        let _ = virsh(uri, &format!("undefine {name}"));
    }
    let xml = dirs.guest_xml("guarantee", &test_image(), "").replace(
        "<vcpu>1</vcpu>",
        "<vcpu>1</vcpu><memtune><min_guarantee unit='KiB'>1024</min_guarantee></memtune>",
    );
    let path = dirs.write("guarantee.xml", xml);
    run(uri, &format!("define {}", path.display()), &mut out);
    out.replace(&dirs.root().display().to_string(), "DIR")
}

/// rvirsh prints what stock virsh prints against rvirtd.
fn rvirsh_agrees(uri: &str, dirs: &QemuDirs) {
    let xml = dirs
        .guest_xml(NAME, &test_image(), "")
        .replace("<vcpu>1</vcpu>", IOTHREADS);
    let path = dirs.write("iot-rvirsh.xml", xml);
    for cmd in [
        format!("define {}", path.display()),
        format!("start {NAME}"),
    ] {
        assert!(virsh(uri, &cmd).ok, "{cmd}");
    }
    for cmd in [
        "iothreadset iot 1 --poll-max-ns 500 --poll-grow 2",
        "domstats --iothread iot",
        "iothreadset iot 3 --thread-pool-min 2",
        "iothreadset iot 9 --poll-grow 1",
        "iothreadset iot 1 --poll-grow 1 --config",
        "iothreadset iot 1 --thread-pool-max 3 --thread-pool-min 1",
    ] {
        let (v, r) = (virsh(uri, cmd), rvirsh(uri, cmd));
        assert_eq!(
            (v.ok, &v.stdout, &v.stderr),
            (r.ok, &r.stdout, &r.stderr),
            "{cmd}: virsh, then rvirsh"
        );
    }
    let _ = virsh(uri, &format!("destroy {NAME}"));
    let _ = virsh(uri, &format!("undefine {NAME}"));
}

#[test]
fn iothreads_numa_cells_and_refusals_match_stock_libvirtd() {
    let Some(stock) = QemuLibvirtd::start() else {
        return;
    };
    for name in [NAME, "cells"] {
        assert_eq!(
            qemu_with(&[&format!("guest={name},")]),
            None,
            "a QEMU named {name} is running"
        );
    }
    let stock_dirs = QemuDirs::new();
    let want = transcript(&stock.uri(), &stock_dirs);
    let (want_backends, _) =
        memory_backends(&stock.uri(), &stock_dirs, "/var/lib/libvirt/qemu/ram");
    let want_refusals = refusals(&stock.uri(), &stock_dirs);
    // What libvirtd showed is the live change and its refusals.
    for seen in [
        "iothread.1.poll-max-ns=1000",
        "iothread.3.poll-max-ns=0",
        "iothread id='3' thread_pool_min='2' thread_pool_max='2'",
        "configuring persistent polling values is not supported",
    ] {
        assert!(want.contains(seen), "libvirtd: {want}");
    }
    assert!(want_backends.contains("\"share\":true"), "{want_backends}");
    drop(stock);

    let dirs = QemuDirs::new();
    let daemon = Daemon::rvirtd(&dirs.conf());
    let uri = format!("qemu+unix:///system?socket={}", daemon.socket().display());
    let got = transcript(&uri, &dirs);
    assert_eq!(got, want, "rvirtd, then libvirtd");
    let ram_root = dirs.path("lib").join("ram");
    let (got_backends, ram_dir) = memory_backends(&uri, &dirs, &ram_root.display().to_string());
    assert_eq!(
        got_backends, want_backends,
        "memory backends: rvirtd, then libvirtd"
    );
    assert!(
        !std::path::Path::new(&ram_dir).exists(),
        "{ram_dir} left after destroy"
    );
    assert_eq!(
        refusals(&uri, &dirs),
        want_refusals,
        "refusals: rvirtd, then libvirtd"
    );
    rvirsh_agrees(&uri, &dirs);
}

/// A numad stand-in advising node 0 and recording how it was asked.
fn fake_numad(dirs: &QemuDirs) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let asked = dirs.path("numad.args");
    let script = format!("#!/bin/sh\necho \"$@\" > {}\necho 0\n", asked.display());
    let path = dirs.write("numad", script);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn automatic_placement_follows_numads_advice() {
    let dirs = QemuDirs::new();
    let numad = fake_numad(&dirs);
    let conf = format!("{}qemu_numad = \"{}\"\n", dirs.conf(), numad.display());
    let daemon = Daemon::rvirtd(&conf);
    let uri = format!("qemu+unix:///system?socket={}", daemon.socket().display());
    let xml = dirs
        .guest_xml("placed", &test_image(), "")
        .replace("<vcpu>1</vcpu>", "<vcpu placement='auto'>1</vcpu>");
    let path = dirs.write("placed.xml", xml);
    for cmd in [format!("define {}", path.display()), "start placed".into()] {
        let r = virsh(&uri, &cmd);
        assert!(r.ok, "{cmd}: {}", r.stderr);
    }
    // numad -w VCPUS:MiB; the guest RAM bound to the advised node.
    let asked = std::fs::read_to_string(dirs.path("numad.args")).unwrap();
    assert_eq!(asked, "-w 1:128\n");
    let pid = dirs.pid_of("placed").expect("QEMU of placed");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    assert!(
        cmdline.contains(r#""id":"pc.ram","size":134217728,"host-nodes":[0],"policy":"bind""#),
        "{cmdline}"
    );
    // The live XML keeps the placement as given, as libvirtd's does.
    let live = virsh(&uri, "dumpxml placed").stdout;
    assert!(live.contains("<vcpu placement='auto'>1</vcpu>"), "{live}");
    assert!(
        live.contains("<memory mode='strict' placement='auto'/>"),
        "{live}"
    );
    let _ = virsh(&uri, "destroy placed");
    let _ = virsh(&uri, "undefine placed");
}
