//! The test driver's network semantics, as libvirt's test driver has them
//! (checked against stock virsh on test:///default).

use crate::network::{NetworkHost, TestNetworks};
use rvirt::driver::{NetworkDriver, NetworkRef, NetworkUpdate};
use rvirt::events_network::{network_event as ev, NetworkEvent};
use rvirt::network::{list_flags, update};
use rvirt_conf::xml;
use std::sync::{Arc, Mutex};

const NET: &str = "<network><name>n1</name><uuid>0e0e0e0e-1111-2222-3333-444444444444</uuid>\
                   <ip address='10.7.0.1' prefix='24'><dhcp><range start='10.7.0.2' end='10.7.0.9'/></dhcp></ip></network>";

/// The network a node description starts with: active and persistent
/// (libvirt's `testParseNetworks`).
const DEFAULT_NETWORK_XML: &str = include_str!("defaults/network.xml");

fn host() -> TestNetworks {
    let el = xml::parse(DEFAULT_NETWORK_XML, "t", rvirt_util::ErrorDomain::TEST).unwrap();
    TestNetworks::new(Arc::new(NetworkHost::from_elements(&[el]).unwrap()))
}

fn names(d: &TestNetworks, flags: u32) -> Vec<String> {
    let mut n: Vec<String> = d
        .list_all_networks(flags)
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    n.sort();
    n
}

#[test]
fn default_network_is_active_persistent_with_its_bridge() {
    let d = host();
    let def = d.lookup_by_name("default").unwrap();
    assert!(d.is_active(&def).unwrap() && d.is_persistent(&def).unwrap());
    assert!(!d.get_autostart(&def).unwrap());
    assert_eq!(d.get_bridge_name(&def).unwrap(), "virbr0");
    let text = d.get_xml_desc(&def, 0).unwrap();
    assert!(
        text.contains("<forward mode='nat'/>\n  <bridge name='virbr0' stp='on' delay='0'/>"),
        "{text}"
    );
    let err = d.get_xml_desc(&def, 1).unwrap_err();
    assert_eq!(
        err.message,
        "unsupported flags (0x1) in function testNetworkGetXMLDesc"
    );
    assert_eq!(
        d.lookup_by_name("nope").unwrap_err().message,
        "Network not found: no network with matching name 'nope'"
    );
}

#[test]
fn lifecycle_with_events_and_test_driver_errors() {
    let d = host();
    let seen: Arc<Mutex<Vec<(String, i32)>>> = Arc::default();
    let s = seen.clone();
    let id = d
        .event_register_any(
            None,
            ev::ID_LIFECYCLE,
            Arc::new(move |n: &NetworkRef, e: &NetworkEvent| {
                let NetworkEvent::Lifecycle { event, .. } = *e;
                s.lock().unwrap().push((n.name.clone(), event));
            }),
        )
        .unwrap();
    let n = d.define_xml(NET, 0).unwrap();
    assert!(!d.is_active(&n).unwrap());
    assert_eq!(names(&d, list_flags::INACTIVE), ["n1"]);
    d.create(&n).unwrap();
    assert_eq!(
        d.create(&n).unwrap_err().message,
        "Requested operation is not valid: Network 'n1' is already running"
    );
    assert_eq!(
        d.undefine(&n).unwrap_err().message,
        "Requested operation is not valid: Network 'n1' is still running"
    );
    assert_eq!(
        d.get_bridge_name(&n).unwrap_err().message,
        "internal error: network 'n1' does not have a bridge name."
    );
    d.destroy(&n).unwrap();
    // As libvirt's test driver: destroying a stopped network succeeds.
    d.destroy(&n).unwrap();
    d.undefine(&n).unwrap();
    let t = d.create_xml(NET, 0).unwrap();
    assert!(!d.is_persistent(&t).unwrap());
    assert_eq!(names(&d, list_flags::TRANSIENT), ["n1"]);
    d.destroy(&t).unwrap();
    assert!(d.lookup_by_name("n1").is_err());
    d.event_deregister_any(id).unwrap();
    d.create_xml(NET, 0).unwrap();
    let want = [
        ev::DEFINED,
        ev::STARTED,
        ev::STOPPED,
        ev::STOPPED,
        ev::UNDEFINED,
        ev::STARTED,
        ev::STOPPED,
    ];
    let got: Vec<i32> = seen.lock().unwrap().iter().map(|(_, e)| *e).collect();
    assert_eq!(got, want);
}

#[test]
fn define_conflicts_as_libvirt() {
    let d = host();
    let refusals = [
        (
            "<network><name>default</name><uuid>0e0e0e0e-1111-2222-3333-444444444445</uuid></network>",
            "operation failed: network 'default' already exists with uuid dd8fe884-6c02-601e-7551-cca97df1c5df",
        ),
        (
            "<network><name>x</name><uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid></network>",
            "operation failed: network 'default' is already defined with uuid dd8fe884-6c02-601e-7551-cca97df1c5df",
        ),
    ];
    for (xml, message) in refusals {
        assert_eq!(d.define_xml(xml, 0).unwrap_err().message, message);
    }
    let same =
        "<network><name>default</name><uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid></network>";
    assert_eq!(
        d.create_xml(same, 0).unwrap_err().message,
        "Requested operation is not valid: network is already active as 'default'"
    );
}

#[test]
fn update_live_and_config() {
    let d = host();
    let def = d.lookup_by_name("default").unwrap();
    let host_xml = "<host mac='52:54:00:00:00:01' ip='192.168.122.5'/>";
    const DHCP_HOST: u32 = 4;
    let add = NetworkUpdate {
        command: update::ADD_LAST,
        section: DHCP_HOST,
        parent_index: -1,
        xml: host_xml,
    };
    // Current on a running network: the live definition.
    d.update(&def, &add, 0).unwrap();
    assert!(d.get_xml_desc(&def, 0).unwrap().contains(host_xml));
    let dup = d.update(&def, &add, 0).unwrap_err();
    assert_eq!(
        dup.message,
        "Requested operation is not valid: there is an existing dhcp host entry in network 'default' that matches \"<host mac='52:54:00:00:00:01' name='(null)' ip='192.168.122.5'/>\""
    );
    d.destroy(&def).unwrap();
    let live = d.update(&def, &add, update::AFFECT_LIVE).unwrap_err();
    assert_eq!(
        live.message,
        "Requested operation is not valid: network is not running"
    );
    let bridge = NetworkUpdate {
        section: 1,
        xml: "<bridge name='x'/>",
        ..add
    };
    let bad = d.update(&def, &bridge, 0).unwrap_err();
    assert_eq!(
        bad.message,
        "Operation not supported: can't update 'bridge' section of network 'default'"
    );
    assert_eq!(
        d.update(&def, &add, 4).unwrap_err().message,
        "unsupported flags (0x4) in function testNetworkUpdate"
    );
}
