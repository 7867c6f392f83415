//! libvirt 9.0's tests/networkxml2xmltest.c cases (from the unpacked
//! source in `target/libvirt-corpus`): each input parsed and formatted
//! must give libvirt's output byte for byte; the parse-error cases must
//! fail. `dnsmasq-options` needs the network driver's dnsmasq namespace
//! (not part of a plain `virNetworkDefParse`), so it is not listed.

use rvirt_conf::network::{NetworkDef, XML_INACTIVE};
use std::path::PathBuf;

const OK: &[(&str, u32)] = &[
    ("dhcp6host-routed-network", 0),
    ("empty-allow-ipv6", 0),
    ("isolated-network", 0),
    ("routed-network", 0),
    ("routed-network-no-dns", 0),
    ("open-network", 0),
    ("nat-network", 0),
    ("netboot-network", 0),
    ("netboot-proxy-network", 0),
    ("netboot-tftp", 0),
    ("nat-network-dns-txt-record", 0),
    ("nat-network-dns-srv-record", 0),
    ("nat-network-dns-srv-records", 0),
    ("nat-network-dns-srv-record-minimal", 0),
    ("nat-network-dns-hosts", 0),
    ("nat-network-dns-forward-plain", 0),
    ("nat-network-dns-forwarders", 0),
    ("nat-network-dns-forwarder-no-resolv", 0),
    ("nat-network-forward-nat-ipv6", 0),
    ("nat-network-forward-nat-address", 0),
    ("nat-network-forward-nat-no-address", 0),
    ("nat-network-mtu", 0),
    ("8021Qbh-net", 0),
    ("direct-net", 0),
    ("host-bridge-net", 0),
    ("vepa-net", 0),
    ("bandwidth-network", 0),
    ("openvswitch-net", 0),
    ("passthrough-pf", XML_INACTIVE),
    ("hostdev", 0),
    ("hostdev-pf", XML_INACTIVE),
    ("passthrough-address-crash", 0),
    ("nat-network-explicit-flood", 0),
    ("host-bridge-no-flood", 0),
    ("metadata", 0),
    ("set-mtu", 0),
    ("leasetime-seconds", 0),
    ("leasetime-minutes", 0),
    ("leasetime-hours", 0),
    ("leasetime-infinite", 0),
    ("isolated-ports", 0),
];

const PARSE_ERRORS: &[&str] = &[
    "routed-network-no-dns-extra-elements",
    "open-network-with-forward-dev",
    "hostdev-duplicate",
    "passthrough-duplicate",
];

fn tests_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/libvirt-corpus/libvirt-9.0.0/tests");
    dir.is_dir().then_some(dir)
}

#[test]
fn networkxml2xml_corpus() {
    let Some(dir) = tests_dir() else {
        eprintln!("libvirt corpus not unpacked: skipped");
        return;
    };
    let read = |d: &str, name: &str| {
        std::fs::read_to_string(dir.join(format!("networkxml2xml{d}/{name}.xml"))).unwrap()
    };
    let mut failures = Vec::new();
    for (name, flags) in OK {
        match NetworkDef::parse(&read("in", name)) {
            Ok(def) => {
                let got = def.format(*flags);
                let want = read("out", name);
                if got != want {
                    failures.push(format!("{name}:\n--- want\n{want}--- got\n{got}"));
                }
            }
            Err(e) => failures.push(format!("{name}: {}", e.message)),
        }
    }
    for name in PARSE_ERRORS {
        if NetworkDef::parse(&read("in", name)).is_ok() {
            failures.push(format!("{name}: parsed, libvirt refuses it"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
