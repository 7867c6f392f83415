//! The driver's object rules and files, without starting anything on the
//! host (define, autostart, update of an inactive network, undefine, a
//! daemon restart reading the files back).

use super::*;
use rvirt::network::update::{ADD_LAST, AFFECT_CONFIG};
use rvirt_util::object_files::ObjectFiles;

fn scratch() -> (Paths, std::path::PathBuf) {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let root = std::env::temp_dir().join(format!("rvirt-netdrv-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let paths = Paths {
        config: root.join("config"),
        state: root.join("state"),
        dnsmasq: root.join("dnsmasq"),
    };
    (paths, root)
}

const XML: &str = "<network><name>n1</name><uuid>11111111-2222-3333-4444-555555555555</uuid>\
    <bridge name='rvtest%d'/><ip address='10.98.0.1' prefix='24'>\
    <dhcp><range start='10.98.0.2' end='10.98.0.9'/></dhcp></ip></network>";

#[test]
fn define_names_the_bridge_and_persists() {
    let (paths, root) = scratch();
    let nets = HostNetworks::load(paths.clone()).unwrap();
    let net = nets.define_xml(XML, 0).unwrap();
    let xml = nets.get_xml_desc(&net, 0).unwrap();
    assert!(
        xml.contains("<bridge name='rvtest0' stp='on' delay='0'/>"),
        "{xml}"
    );
    assert!(xml.contains("<mac address='52:54:00:"), "{xml}");
    let saved = std::fs::read_to_string(paths.config_file("n1")).unwrap();
    assert!(saved.starts_with("<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE."));
    assert!(saved.contains("virsh net-edit n1"));
    assert!(saved.ends_with(&nets.get_xml_desc(&net, XML_INACTIVE).unwrap()));

    // A second network may not take the same bridge.
    let other = XML
        .replace("n1", "n2")
        .replace("11111111", "21111111")
        .replace("rvtest%d", "rvtest0");
    let err = nets.define_xml(&other, 0).unwrap_err();
    assert_eq!(
        err.message,
        "internal error: bridge name 'rvtest0' already in use."
    );

    nets.set_autostart(&net, true).unwrap();
    assert!(paths.autostart_link("n1").is_symlink());
    let dhcp_host = NetworkUpdate {
        command: ADD_LAST,
        section: 4,
        parent_index: -1,
        xml: "<host mac='52:54:00:00:00:07' ip='10.98.0.7'/>",
    };
    nets.update(&net, &dhcp_host, AFFECT_CONFIG).unwrap();

    // A restarted daemon reads the same network back.
    let again = HostNetworks::load(paths.clone()).unwrap();
    let back = again.lookup_by_name("n1").unwrap();
    assert_eq!(back, net);
    assert!(again.get_autostart(&back).unwrap());
    assert!(!again.is_active(&back).unwrap());
    let xml = again.get_xml_desc(&back, 0).unwrap();
    assert!(
        xml.contains("<host mac='52:54:00:00:00:07' ip='10.98.0.7'/>"),
        "{xml}"
    );

    let err = again.destroy(&back).unwrap_err();
    assert_eq!(
        err.message,
        "Requested operation is not valid: network 'n1' is not active"
    );
    again.undefine(&back).unwrap();
    assert!(!paths.config_file("n1").exists());
    assert!(!paths.autostart_link("n1").exists());
    let err = again.lookup_by_name("n1").unwrap_err();
    assert_eq!(
        err.message,
        "Network not found: no network with matching name 'n1'"
    );
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn flags_and_macs_are_checked() {
    let (paths, root) = scratch();
    let nets = HostNetworks::load(paths).unwrap();
    let err = nets.list_all_networks(1 << 7).unwrap_err();
    assert_eq!(
        err.message,
        "unsupported flags (0x80) in function networkConnectListAllNetworks"
    );
    let net = nets.define_xml(XML, 0).unwrap();
    let err = nets.get_dhcp_leases(&net, Some("zz"), 0).unwrap_err();
    assert_eq!(err.message, "invalid MAC address: zz");
    assert!(nets.get_dhcp_leases(&net, None, 0).unwrap().is_empty());
    let _ = std::fs::remove_dir_all(root);
}
