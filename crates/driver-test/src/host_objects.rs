//! The test driver's host objects beside its domains: node devices and
//! host interfaces, with libvirt's defaults (`defaultConnXML` in
//! src/test/test_driver.c: eth1, computer, scsi_host1, scsi_host2,
//! scsi_host11), and the node device listeners of the connections open on
//! the host. The test driver has no secret driver (libvirt's
//! `.secretDriver = NULL`), so there are no secrets here.

use parking_lot::Mutex;
use rvirt::events_nodedev::{NodeDeviceEvent, ObjectEventRegistry};
use rvirt_conf::host_iface::HostInterfaceDef;
use rvirt_conf::nodedev::{NodeDeviceDef, ParseMode};
use rvirt_util::Result;
use std::sync::{Arc, Weak};

pub type NodeDeviceRegistry = ObjectEventRegistry<str, NodeDeviceEvent>;

/// libvirt's default interface, as its `defaultConnXML` writes it.
const DEFAULT_INTERFACE: &str = include_str!("defaults/eth1.xml");

/// libvirt's default node devices.
const DEFAULT_DEVICES: [&str; 4] = [
    include_str!("defaults/computer.xml"),
    include_str!("defaults/scsi_host1.xml"),
    include_str!("defaults/scsi_host2.xml"),
    include_str!("defaults/scsi_host11.xml"),
];

/// One host interface and whether it is up.
#[derive(Clone, Debug)]
pub struct IfaceObj {
    pub def: HostInterfaceDef,
    pub active: bool,
}

#[derive(Default)]
pub struct IfaceState {
    pub list: Vec<IfaceObj>,
    /// The copy `virInterfaceChangeBegin` took, while a transaction runs.
    pub backup: Option<Vec<IfaceObj>>,
}

#[derive(Default)]
pub struct HostObjects {
    pub devices: Mutex<Vec<NodeDeviceDef>>,
    pub ifaces: Mutex<IfaceState>,
    listeners: Mutex<Vec<Weak<NodeDeviceRegistry>>>,
}

impl HostObjects {
    /// `test:///default`'s objects; a node file's host starts without any
    /// (its `<device>`/`<interface>` elements are not read yet).
    pub fn new(defaults: bool) -> Result<HostObjects> {
        let objects = HostObjects::default();
        if defaults {
            let def = HostInterfaceDef::parse(DEFAULT_INTERFACE)?;
            objects
                .ifaces
                .lock()
                .list
                .push(IfaceObj { def, active: true });
            let mut devices = objects.devices.lock();
            for xml in DEFAULT_DEVICES {
                devices.push(NodeDeviceDef::parse(xml, ParseMode::Existing)?);
            }
        }
        Ok(objects)
    }

    /// Listen for this host's node device events (a connection's registry).
    pub fn add_listener(&self, registry: &Arc<NodeDeviceRegistry>) {
        let mut list = self.listeners.lock();
        list.retain(|w| w.strong_count() > 0);
        list.push(Arc::downgrade(registry));
    }

    /// Deliver a node device event to every open connection, outside
    /// the object locks.
    pub fn emit(&self, name: &str, event: NodeDeviceEvent) {
        let listeners: Vec<Arc<NodeDeviceRegistry>> = {
            let mut list = self.listeners.lock();
            list.retain(|w| w.strong_count() > 0);
            list.iter().filter_map(Weak::upgrade).collect()
        };
        for registry in listeners {
            registry.emit(name, &event);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::connection::TestConnection;
    use crate::state::TestState;
    use rvirt::driver::{InterfaceDriver, NodeDeviceDriver};
    use std::sync::Arc;

    fn conn() -> TestConnection {
        let uuid = crate::migration::derived_host_uuid();
        let state = Arc::new(TestState::default_config(uuid).unwrap());
        TestConnection::new(state, "test:///default".into())
    }

    #[test]
    fn libvirts_default_objects() {
        let c = conn();
        let names: Vec<String> = NodeDeviceDriver::list_all(&c, 0)
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(
            names,
            ["computer", "scsi_host1", "scsi_host2", "scsi_host11"]
        );
        // libvirt does not read vport counts back from XML.
        let xml = NodeDeviceDriver::get_xml_desc(&c, "scsi_host1", 0).unwrap();
        assert!(xml.contains("<max_vports>0</max_vports>"), "{xml}");
        assert_eq!(
            NodeDeviceDriver::num_of_devices(&c, Some("vports"), 0).unwrap(),
            2
        );
        assert_eq!(
            NodeDeviceDriver::num_of_devices(&c, Some("fc_host"), 0).unwrap(),
            3
        );
        assert_eq!(
            NodeDeviceDriver::list_caps(&c, "scsi_host1", 10).unwrap(),
            ["scsi_host"]
        );
        let err = NodeDeviceDriver::get_parent(&c, "computer").unwrap_err();
        assert_eq!(err.message, "internal error: no parent for this device");
        let err = NodeDeviceDriver::list_all(&c, 1 << 31).unwrap_err();
        assert_eq!(
            err.message,
            "unsupported flags (0x80000000) in function testConnectListAllNodeDevices"
        );
    }

    #[test]
    fn vhba_creation_is_mocked_from_scsi_host11() {
        let c = conn();
        let xml = "<device><parent>scsi_host1</parent><capability type='scsi_host'>\
                   <capability type='fc_host'><wwnn>2001001b32a9da4e</wwnn>\
                   <wwpn>2101001b32a9da4e</wwpn></capability></capability></device>";
        let dev = NodeDeviceDriver::create_xml(&c, xml, 0).unwrap();
        assert_eq!(dev.name, "scsi_host12");
        let out = NodeDeviceDriver::get_xml_desc(&c, "scsi_host12", 0).unwrap();
        assert!(
            out.contains("<host>11</host>") && out.contains("2001001b32a9da4e"),
            "{out}"
        );
        NodeDeviceDriver::destroy(&c, "scsi_host12").unwrap();
        let err = NodeDeviceDriver::lookup_by_name(&c, "scsi_host12").unwrap_err();
        assert_eq!(
            err.message,
            "Node device not found: no node device with matching name 'scsi_host12'"
        );
        // libvirt "destroys" a device that is no vHBA without removing it.
        NodeDeviceDriver::destroy(&c, "computer").unwrap();
        assert!(NodeDeviceDriver::lookup_by_name(&c, "computer").is_ok());
    }

    #[test]
    fn rollback_restores_definitions_but_not_state() {
        let c = conn();
        InterfaceDriver::change_begin(&c, 0).unwrap();
        let err = InterfaceDriver::change_begin(&c, 0).unwrap_err();
        assert_eq!(
            err.message,
            "Requested operation is not valid: there is another transaction running."
        );
        let eth1 = InterfaceDriver::lookup_by_name(&c, "eth1").unwrap();
        InterfaceDriver::undefine(&c, &eth1).unwrap();
        assert_eq!(InterfaceDriver::num_of_interfaces(&c).unwrap(), 0);
        InterfaceDriver::change_rollback(&c, 0).unwrap();
        assert_eq!(
            InterfaceDriver::list_defined_interfaces(&c, 10).unwrap(),
            ["eth1"]
        );
        assert!(!InterfaceDriver::is_active(&c, &eth1).unwrap());
        let err = InterfaceDriver::change_commit(&c, 0).unwrap_err();
        assert_eq!(
            err.message,
            "Requested operation is not valid: no transaction running, nothing to be committed."
        );
    }
}
