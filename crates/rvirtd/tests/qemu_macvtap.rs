//! `<interface type='direct'>` (macvtap) on rvirtd's QEMU driver and on a
//! private stock libvirtd 9.0, each in a network namespace the test makes
//! with veth links as source devices: the same guest (four NICs: bridge,
//! vepa and private mode on one source, passthrough on another) started
//! paused, resumed and suspended gives the same `domiflist` and live XML,
//! the same macvtap links (name, source, MAC, mode; down while the CPUs
//! are stopped, up while they run) and the same `-netdev`/`-device`
//! arguments (the tap's descriptor number aside: each daemon passes the
//! one it opened); destroy deletes the links and gives the passthrough
//! source its own MAC back.
//!
//! The two sides run one after the other: a macvtap's character device is
//! named by its link's index (/dev/tapN), which two namespaces can share.

use rvirt_testkit::hosts::{Lan, NetNs};
use rvirt_testkit::libvirtd_host::LibvirtdHost;
use rvirt_testkit::qemu_hosts::{MigrationHost, QemuHost};
use std::process::Command;

const GUEST: &str = "<domain type='qemu'>
  <name>mvt</name>
  <uuid>3c0f7a52-9d1e-4b8a-8f2c-6a5d4e3b2c10</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='direct'>
      <mac address='52:54:00:6d:76:01'/>
      <source dev='rvsrc0' mode='bridge'/>
      <model type='virtio'/>
    </interface>
    <interface type='direct'>
      <mac address='52:54:00:6d:76:02'/>
      <source dev='rvsrc0' mode='vepa'/>
      <model type='e1000'/>
    </interface>
    <interface type='direct'>
      <mac address='52:54:00:6d:76:03'/>
      <source dev='rvsrc0' mode='private'/>
      <model type='rtl8139'/>
    </interface>
    <interface type='direct'>
      <mac address='52:54:00:6d:76:04'/>
      <source dev='rvsrc1' mode='passthrough'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
";

/// The passthrough source's own MAC.
const SRC1_MAC: &str = "52:54:00:5e:01:11";

fn ip(ns: &NetNs, args: &str) -> (bool, String) {
    let out = Command::new("ip")
        .args(["-n", &ns.name])
        .args(args.split_whitespace())
        .output()
        .expect("ip");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The source links: veth pairs whose other ends stay in the namespace.
fn add_sources(ns: &NetNs) -> bool {
    [
        "link add rvsrc0 address 52:54:00:5e:01:10 type veth peer name rvpeer0",
        &format!("link add rvsrc1 address {SRC1_MAC} type veth peer name rvpeer1"),
        "link set rvsrc0 up",
        "link set rvsrc1 up",
        "link set rvpeer0 up",
        "link set rvpeer1 up",
    ]
    .iter()
    .all(|cmd| ip(ns, cmd).0)
}

/// The namespace's macvtap links, one a line, without their indexes
/// (`N: ` and the source's `@ifN` are the kernel's numbering).
fn macvtaps(ns: &NetNs) -> Vec<String> {
    let (_, text) = ip(ns, "-d -o link show type macvtap");
    let mut links: Vec<String> = text
        .lines()
        .map(|l| l.split_once(": ").map_or(l, |(_, rest)| rest).to_string())
        .collect();
    links.sort();
    links
}

/// The NICs' `-netdev` and `-device` arguments of the guest's QEMU, the
/// tap's descriptor number as `N`.
fn nic_args(host: &dyn MigrationHost) -> Vec<String> {
    let pid = host.qemu_pid("mvt").expect("QEMU runs");
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).expect("QEMU's cmdline");
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    args.windows(2)
        .filter(|w| {
            w[0] == "-netdev" || (w[0] == "-device" && w[1].contains("\"netdev\":\"hostnet"))
        })
        .map(|w| {
            let v = &w[1];
            match v.find("\"fd\":\"") {
                Some(i) => {
                    let start = i + 6;
                    let end = start + v[start..].find('"').unwrap_or(0);
                    format!("{} {}N{}", w[0], &v[..start], &v[end..])
                }
                None => format!("{} {v}", w[0]),
            }
        })
        .collect()
}

/// What one side shows with the guest running, and after destroy.
struct Seen {
    iflist: String,
    live_xml: String,
    /// Paused (down), resumed (up), suspended again (down).
    links: [Vec<String>; 3],
    args: Vec<String>,
    after: Vec<String>,
    src1_after: String,
}

fn run(host: &dyn MigrationHost, ns: &NetNs, dir: &std::path::Path) -> Seen {
    let xml = dir.join("mvt.xml");
    std::fs::write(&xml, GUEST).unwrap();
    let defined = host.virsh(&format!("define {}", xml.display()));
    assert!(defined.ok, "define: {}", defined.stderr);
    let started = host.virsh("start mvt --paused");
    assert!(started.ok, "start: {}", started.stderr);
    let paused = macvtaps(ns);
    assert!(host.virsh("resume mvt").ok, "resume");
    // The kernel's link watch settles a link's operational state within
    // a second of its change.
    let settle = || std::thread::sleep(std::time::Duration::from_millis(1500));
    settle();
    let resumed = macvtaps(ns);
    assert!(host.virsh("suspend mvt").ok, "suspend");
    settle();
    let seen_running = (
        host.virsh("domiflist mvt").stdout,
        host.virsh("dumpxml mvt").stdout,
        [paused, resumed, macvtaps(ns)],
        nic_args(host),
    );
    let destroyed = host.virsh("destroy mvt");
    assert!(destroyed.ok, "destroy: {}", destroyed.stderr);
    let after = macvtaps(ns);
    let (_, src1) = ip(ns, "-o link show rvsrc1");
    host.virsh("undefine mvt");
    Seen {
        iflist: seen_running.0,
        live_xml: seen_running.1,
        links: seen_running.2,
        args: seen_running.3,
        after,
        src1_after: src1,
    }
}

#[test]
fn macvtap_interfaces_are_made_passed_and_removed_as_by_libvirtd() {
    if !LibvirtdHost::available() {
        eprintln!("stock libvirtd missing: skipped");
        return;
    }
    let Some(lan) = Lan::create() else { return };
    if !add_sources(&lan.a) || !add_sources(&lan.b) {
        eprintln!("no veth links here: skipped");
        return;
    }
    let dir = rvirt_testkit::dirs::TempDir::new("macvtap");
    let got = {
        let rv = QemuHost::start(&lan.a, "mvtrv");
        run(&rv, &lan.a, dir.path())
    };
    let want = {
        let lv = LibvirtdHost::start(&lan.b, "mvtlv");
        run(&lv, &lan.b, dir.path())
    };
    assert_eq!(want.links[0].len(), 4, "libvirtd's links: {:?}", want.links);
    assert!(want.links[1][0].contains(",UP,"), "{:?}", want.links[1]);
    assert_eq!(got.iflist, want.iflist);
    assert_eq!(got.live_xml, want.live_xml);
    assert_eq!(got.links, want.links);
    assert_eq!(
        want.args.len(),
        8,
        "libvirtd's NIC arguments: {:?}",
        want.args
    );
    assert_eq!(got.args, want.args);
    assert!(got.after.is_empty(), "left behind: {:?}", got.after);
    assert!(
        got.src1_after.contains(SRC1_MAC) && want.src1_after.contains(SRC1_MAC),
        "passthrough source after destroy: rvirtd {} libvirtd {}",
        got.src1_after,
        want.src1_after
    );
}

/// A restarted rvirtd finds the running guest's macvtap links again (by
/// the guest's MAC on each source): `domiflist` names them, and destroy
/// still deletes them and gives the passthrough source its MAC back.
#[test]
fn a_restarted_rvirtd_still_removes_the_guests_macvtap_links() {
    let Some(lan) = Lan::create() else { return };
    if !add_sources(&lan.a) {
        eprintln!("no veth links here: skipped");
        return;
    }
    let dir = rvirt_testkit::dirs::TempDir::new("macvtap-restart");
    let mut rv = QemuHost::start(&lan.a, "mvtre");
    let xml = dir.path().join("mvt.xml");
    std::fs::write(&xml, GUEST).unwrap();
    assert!(rv.virsh(&format!("define {}", xml.display())).ok);
    assert!(rv.virsh("start mvt").ok, "start");
    let before = rv.virsh("domiflist mvt").stdout;
    assert!(before.contains("macvtap3"), "{before}");
    rv.host.restart();
    assert_eq!(rv.virsh("domiflist mvt").stdout, before);
    let destroyed = rv.virsh("destroy mvt");
    assert!(destroyed.ok, "destroy: {}", destroyed.stderr);
    assert!(macvtaps(&lan.a).is_empty(), "left: {:?}", macvtaps(&lan.a));
    let (_, src1) = ip(&lan.a, "-o link show rvsrc1");
    assert!(src1.contains(SRC1_MAC), "{src1}");
    rv.virsh("undefine mvt");
}
