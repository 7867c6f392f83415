//! Two rvirtd hosts, each in its own UTS and network namespace, joined by a
//! veth pair: each answers with its own host name across the link, and a
//! peer-to-peer migration crosses it.

use rvirt_testkit::hosts::{Guest, Lan, Pair};

#[test]
fn hosts_in_network_namespaces_migrate_over_the_veth_link() {
    let Some(lan) = Lan::create() else { return };
    let pair = Pair::start_on(&lan);
    // From the source's stack, the destination is reachable only over the link.
    let seen = pair.src.virsh_at(&pair.dst.uri(), "hostname");
    assert!(seen.ok, "{}", seen.stderr);
    assert_eq!(seen.stdout.trim(), "rvirt-dst");
    assert_eq!(pair.src.ok("hostname").trim(), "rvirt-src");
    let g = Guest::new("lan");
    pair.src.define_and_start(&g);
    let migrate = format!(
        "migrate --live --p2p {} {} --migrateuri tcp://{}",
        g.name,
        pair.dst.uri(),
        pair.dst.addr
    );
    pair.src.ok(&migrate);
    assert_eq!(pair.dst.domstate(&g.name).as_deref(), Some("running"));
    assert!(!pair.src.running().contains(&g.name));
}
