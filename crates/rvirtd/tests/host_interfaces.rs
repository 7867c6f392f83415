//! `qemu:///system`'s host interfaces: rvirtd (namespace A) and a stock
//! libvirtd 9.0 with its udev interface backend (namespace B), each in a
//! network namespace the test makes and fills with the same links (a
//! bridge with a port, a link that is down with its own MTU, lo,
//! and the LAN's veth end, whose name and MAC differ between the sides):
//! stock virsh's read-only `iface-*` answers are the same, and so are
//! the refusals of what that backend does not do.

use rvirt_testkit::hosts::{Lan, NetNs};
use rvirt_testkit::libvirtd_host::LibvirtdHost;
use rvirt_testkit::qemu_hosts::{MigrationHost, QemuHost};
use rvirt_testkit::tools::{Normalise, Output};
use std::process::Command;

/// `ip -n NS ARGS`; whether it worked.
fn ip(ns: &NetNs, args: &str) -> bool {
    Command::new("ip")
        .args(["-n", &ns.name])
        .args(args.split_whitespace())
        .status()
        .is_ok_and(|s| s.success())
}

/// The same links in namespace `ns` (veth pairs within it, since the
/// dummy driver may be missing); false where they cannot be made.
fn add_links(ns: &NetNs) -> bool {
    [
        "link add rvbr5 address 52:54:00:5e:00:01 type bridge stp_state 0 forward_delay 200",
        "link add rvport0 address 52:54:00:5e:00:02 type veth peer name rvpeer0 address 52:54:00:5e:00:12",
        "link set rvport0 master rvbr5",
        "link set rvpeer0 up",
        "link set rvport0 up",
        "link set rvbr5 up",
        "link add rvdown1 address 52:54:00:5e:00:03 mtu 9000 type veth peer name rvpeer1 address 52:54:00:5e:00:13",
    ]
    .iter()
    .all(|cmd| ip(ns, cmd))
}

/// The LAN's veth end in `ns` (not one of [`add_links`]'): its name and MAC.
fn veth(ns: &NetNs) -> (String, String) {
    let out = Command::new("ip")
        .args(["-n", &ns.name, "-o", "link", "show", "type", "veth"])
        .output()
        .expect("ip link show");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|line| {
            let name = line.split(": ").nth(1)?.split('@').next()?;
            let mac = line.split("link/ether ").nth(1)?.split(' ').next()?;
            (!["rvport", "rvpeer", "rvdown"]
                .iter()
                .any(|p| name.starts_with(p)))
            .then(|| (name.to_string(), mac.to_string()))
        })
        .expect("the LAN's veth")
}

const CASES: &[&str] = &[
    "iface-list",
    "iface-list --all",
    "iface-list --inactive",
    "iface-dumpxml lo",
    "iface-dumpxml rvbr5",
    "iface-dumpxml rvdown1",
    "iface-dumpxml rvport0",
    "iface-dumpxml {veth}",
    "iface-dumpxml nope",
    "iface-mac rvbr5",
    "iface-name 52:54:00:5e:00:03",
    "iface-name 52:54:00:5e:00:99",
    "iface-start rvdown1",
    "iface-undefine rvdown1",
    "iface-begin",
];

fn answers(host: &dyn MigrationHost, ns: &NetNs) -> Vec<(String, Output)> {
    let (name, mac) = veth(ns);
    let masks = [
        Normalise::Value(name.clone(), "veth"),
        Normalise::Value(mac, "veth-mac"),
    ];
    CASES
        .iter()
        .map(|c| {
            let out = host.virsh(&c.replace("{veth}", &name));
            (c.to_string(), out.normalised(&masks))
        })
        .collect()
}

#[test]
fn host_links_are_listed_and_described_as_by_libvirtd() {
    if !LibvirtdHost::available() {
        eprintln!("stock libvirtd missing: skipped");
        return;
    }
    let Some(lan) = Lan::create() else { return };
    if !add_links(&lan.a) || !add_links(&lan.b) {
        eprintln!("no bridge or dummy links here: skipped");
        return;
    }
    // The bridge's port passes to forwarding (no STP, 2 s delay).
    std::thread::sleep(std::time::Duration::from_secs(3));
    let rv = QemuHost::start(&lan.a, "ifacerv");
    let lv = LibvirtdHost::start(&lan.b, "ifacelv");
    let got = answers(&rv, &lan.a);
    let want = answers(&lv, &lan.b);
    let listed = &want[1].1.stdout;
    assert!(
        listed.contains("rvbr5") && listed.contains("rvdown1") && !listed.contains("rvport0"),
        "libvirtd's list: {listed}"
    );
    let differ: Vec<String> = got
        .iter()
        .zip(&want)
        .filter(|(g, w)| g.1 != w.1)
        .map(|((cmd, g), (_, w))| format!("`{cmd}`:\n rvirtd:   {g:?}\n libvirtd: {w:?}"))
        .collect();
    assert!(
        differ.is_empty(),
        "{} of {} differ:\n{}",
        differ.len(),
        CASES.len(),
        differ.join("\n")
    );
}
