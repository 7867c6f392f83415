//! libvirt 9.0's tests/networkxml2conftest.c cases, from the unpacked
//! source tree: the dnsmasq config (and DHCP hosts file) for each
//! network, byte for byte. `dnsmasq-options` needs the dnsmasq XML
//! namespace, which rvirt's network XML does not carry.

use super::*;
use std::path::PathBuf;

const CASES: &[&str] = &[
    "isolated-network",
    "netboot-network",
    "netboot-proxy-network",
    "netboot-tftp",
    "nat-network-dns-srv-record-minimal",
    "nat-network-name-with-quotes",
    "routed-network",
    "routed-network-no-dns",
    "open-network",
    "nat-network",
    "nat-network-dns-txt-record",
    "nat-network-dns-srv-record",
    "nat-network-dns-hosts",
    "nat-network-dns-forward-plain",
    "nat-network-dns-forwarders",
    "nat-network-dns-forwarder-no-resolv",
    "nat-network-dns-local-domain",
    "nat-network-mtu",
    "dhcp6-network",
    "dhcp6-nat-network",
    "dhcp6host-routed-network",
    "ptr-domains-auto",
    "leasetime-seconds",
    "leasetime-minutes",
    "leasetime-hours",
    "leasetime-infinite",
];

fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/libvirt-corpus/libvirt-9.0.0/tests/networkxml2confdata");
    dir.is_dir().then_some(dir)
}

fn libvirt_paths() -> Paths {
    Paths {
        config: "/etc/libvirt/qemu/networks".into(),
        state: "/run/libvirt/network".into(),
        dnsmasq: "/var/lib/libvirt/dnsmasq".into(),
    }
}

#[test]
fn networkxml2conf_corpus() {
    let Some(dir) = data_dir() else {
        eprintln!("libvirt corpus not unpacked: skipped");
        return;
    };
    let mut failures = Vec::new();
    for name in CASES {
        let read = |ext: &str| std::fs::read_to_string(dir.join(format!("{name}.{ext}")));
        let def = NetworkDef::parse(&read("xml").unwrap()).unwrap();
        let files = conf_contents(&def, None, &libvirt_paths()).unwrap();
        if files.conf != read("conf").unwrap() {
            failures.push(format!("{name}.conf:\n{}", files.conf));
        }
        let hosts = read("hostsfile").unwrap_or_default();
        if files.hostsfile != hosts {
            failures.push(format!("{name}.hostsfile:\n{}", files.hostsfile));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn dns_hosts_are_grouped_by_address() {
    let def = NetworkDef::parse(
        "<network><name>n</name><bridge name='b0'/><dns>\
         <host ip='192.168.122.2'><hostname>a</hostname><hostname>b</hostname></host>\
         <host ip='192.168.122.3'><hostname>c</hostname></host></dns>\
         <ip address='192.168.122.1' prefix='24'/></network>",
    )
    .unwrap();
    let files = conf_contents(&def, None, &libvirt_paths()).unwrap();
    assert_eq!(
        files.addnhosts,
        "192.168.122.2\ta\tb\t\n192.168.122.3\tc\t\n"
    );
}

#[test]
fn dnsmasq_runs_only_for_a_service() {
    let parse = |body: &str| {
        NetworkDef::parse(&format!("<network><name>n</name>{body}</network>")).unwrap()
    };
    assert!(!needed(&parse("")));
    assert!(needed(&parse("<ip address='10.0.0.1' prefix='24'/>")));
    assert!(!needed(&parse(
        "<dns enable='no'/><ip address='10.0.0.1' prefix='24'/>"
    )));
}
