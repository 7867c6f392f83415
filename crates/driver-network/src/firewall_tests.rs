//! libvirt 9.0's tests/networkxml2firewalltest.c cases: the iptables
//! commands that start each network (the private chains' set-up,
//! base.args, left out as libvirt's test leaves it out).

use super::*;
use std::path::PathBuf;

const CASES: &[&str] = &[
    "nat-default",
    "nat-tftp",
    "nat-many-ips",
    "nat-no-dhcp",
    "nat-ipv6",
    "nat-ipv6-masquerade",
    "route-default",
];

fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/libvirt-corpus/libvirt-9.0.0/tests/networkxml2firewalldata");
    dir.is_dir().then_some(dir)
}

fn commands(rules: &[Rule]) -> String {
    rules.iter().map(format_rule).collect()
}

#[test]
fn networkxml2firewall_corpus() {
    let Some(dir) = data_dir() else {
        eprintln!("libvirt corpus not unpacked: skipped");
        return;
    };
    let mut failures = Vec::new();
    for name in CASES {
        let xml = std::fs::read_to_string(dir.join(format!("{name}.xml"))).unwrap();
        let want = std::fs::read_to_string(dir.join(format!("{name}-linux.args"))).unwrap();
        let def = NetworkDef::parse(&xml).unwrap();
        let plan = add_plan(&def).unwrap();
        let got = commands(&plan.rules) + &commands(&plan.optional);
        if got != want {
            failures.push(format!("{name}:\n{got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every rule a start inserts is deleted again by the removal, and the
/// rollback is the removal without the checksum rule.
#[test]
fn removal_deletes_what_start_inserted() {
    let Some(dir) = data_dir() else {
        return;
    };
    for name in CASES {
        let xml = std::fs::read_to_string(dir.join(format!("{name}.xml"))).unwrap();
        let def = NetworkDef::parse(&xml).unwrap();
        let plan = add_plan(&def).unwrap();
        let as_delete = |r: &Rule| {
            let mut r = r.clone();
            r.args[2] = "--delete".into();
            r
        };
        let mut inserted: Vec<Rule> = plan
            .rules
            .iter()
            .chain(&plan.optional)
            .map(as_delete)
            .collect();
        let mut removed = remove_plan(&def);
        assert_eq!(removed.len(), inserted.len(), "{name}");
        let key = |r: &Rule| format!("{:?}{}", r.layer, r.args.join(" "));
        inserted.sort_by_key(key);
        removed.sort_by_key(key);
        assert_eq!(inserted, removed, "{name}");
        assert_eq!(plan.rollback.len(), plan.rules.len(), "{name}");
    }
}

#[test]
fn open_and_isolated_networks() {
    let def = NetworkDef::parse(
        "<network><name>iso</name><bridge name='virbr9'/>\
         <ip address='10.1.0.1' prefix='24'><dhcp><range start='10.1.0.2' end='10.1.0.9'/></dhcp></ip></network>",
    )
    .unwrap();
    let plan = add_plan(&def).unwrap();
    // Isolated: the general rules only, no masquerade or routing.
    assert_eq!(plan.rules.len(), 11);
    assert!(plan.rules.iter().all(|r| r.args[1] == "filter"));
    assert_eq!(plan.optional.len(), 1);
}

#[test]
fn a_firewalld_zone_is_refused_as_without_firewalld() {
    let def = NetworkDef::parse(
        "<network><name>z</name><bridge name='virbr9' zone='trusted'/>\
         <ip address='10.1.0.1' prefix='24'/></network>",
    )
    .unwrap();
    let err = refuse_zone(&def).unwrap_err();
    assert_eq!(
        err.message,
        "internal error: zone trusted requested for network z but firewalld is not active"
    );
}
