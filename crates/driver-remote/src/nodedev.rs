//! Node devices, host interfaces and secrets over the wire: each driver
//! call is its REMOTE procedure (libvirt's remote_driver.c), and the node
//! device and secret events the daemon sends are routed to the local
//! registrations by the server's callback id.

use crate::callback_ids::RemoteEvents;
use crate::conn::RemoteConnection;
use crate::forward::{forward, FromWire, ToWire};
use rvirt::driver::{
    InterfaceDriver, InterfaceRef, NodeDeviceDriver, NodeDeviceRef, SecretDriver, SecretRef,
};
use rvirt::events_nodedev::{
    NodeDeviceEvent, NodeDeviceEventCallback, SecretEvent, SecretEventCallback,
};
use rvirt_rpc::remote::*;
use rvirt_rpc::remote::{Procedure, RemoteCalls};
use rvirt_rpc::{Call, Packet, XdrDecode};
use rvirt_util::Result;

/// The node device and secret registrations of one connection.
#[derive(Default)]
pub(crate) struct ObjectEvents {
    nodedev: RemoteEvents<str, NodeDeviceEvent>,
    secret: RemoteEvents<SecretRef, SecretEvent>,
}

fn body<T: XdrDecode>(p: &Packet) -> Option<T> {
    p.body()
        .map_err(|e| tracing::debug!("undecodable event: {e}"))
        .ok()
}

impl ObjectEvents {
    /// Deliver a node device or secret event; false for other messages.
    pub(crate) fn deliver(&self, p: &Packet) -> bool {
        let Some(proc_) = Procedure::from_i32(p.header.proc_) else {
            return false;
        };
        let nodedev = |server: i32, name: &str, ev: NodeDeviceEvent| {
            self.nodedev.route(server, name, &ev);
        };
        let secret = |server: i32, s: &NonnullSecret, ev: SecretEvent| {
            self.secret
                .route(server, &SecretRef::from_wire(s.clone()), &ev);
        };
        match proc_ {
            Procedure::NodeDeviceEventLifecycle => {
                if let Some(m) = body::<NodeDeviceEventLifecycleMsg>(p) {
                    let ev = NodeDeviceEvent::Lifecycle {
                        event: m.event,
                        detail: m.detail,
                    };
                    nodedev(m.callback_id, &m.dev.name, ev);
                }
            }
            Procedure::NodeDeviceEventUpdate => {
                if let Some(m) = body::<NodeDeviceEventUpdateMsg>(p) {
                    nodedev(m.callback_id, &m.dev.name, NodeDeviceEvent::Update);
                }
            }
            Procedure::SecretEventLifecycle => {
                if let Some(m) = body::<SecretEventLifecycleMsg>(p) {
                    let ev = SecretEvent::Lifecycle {
                        event: m.event,
                        detail: m.detail,
                    };
                    secret(m.callback_id, &m.secret, ev);
                }
            }
            Procedure::SecretEventValueChanged => {
                if let Some(m) = body::<SecretEventValueChangedMsg>(p) {
                    secret(m.callback_id, &m.secret, SecretEvent::ValueChanged);
                }
            }
            _ => return false,
        }
        true
    }
}

impl NodeDeviceDriver for RemoteConnection {
    forward! {
        fn num_of_devices(cap: Option<&str>, flags: u32) -> i32 = NodeNumOfDevicesArgs.num;
        fn list_devices(cap: Option<&str>, maxnames: usize, flags: u32) -> Vec<String>
            = NodeListDevicesArgs.names;
        fn list_all(flags: u32) -> Vec<NodeDeviceRef>
            = ConnectListAllNodeDevicesArgs { need_results: 1 }.devices;
        fn lookup_by_name(name: &str) -> NodeDeviceRef = NodeDeviceLookupByNameArgs.dev;
        fn lookup_scsi_host_by_wwn(wwnn: &str, wwpn: &str, flags: u32) -> NodeDeviceRef
            = NodeDeviceLookupScsiHostByWwnArgs.dev;
        fn get_xml_desc(name: &str, flags: u32) -> String = NodeDeviceGetXmlDescArgs.xml;
        fn get_parent(name: &str) -> Option<String> = NodeDeviceGetParentArgs.parent_name;
        fn num_of_caps(name: &str) -> i32 = NodeDeviceNumOfCapsArgs.num;
        fn list_caps(name: &str, maxnames: usize) -> Vec<String> = NodeDeviceListCapsArgs.names;
        fn create_xml(xml_desc: &str, flags: u32) -> NodeDeviceRef = NodeDeviceCreateXmlArgs.dev;
        fn destroy(name: &str) -> () = NodeDeviceDestroyArgs;
        fn define_xml(xml_desc: &str, flags: u32) -> NodeDeviceRef = NodeDeviceDefineXmlArgs.dev;
        fn undefine(name: &str, flags: u32) -> () = NodeDeviceUndefineArgs;
        fn create(name: &str, flags: u32) -> () = NodeDeviceCreateArgs;
        fn get_autostart(name: &str) -> bool = NodeDeviceGetAutostartArgs.autostart;
        fn set_autostart(name: &str, autostart: bool) -> () = NodeDeviceSetAutostartArgs;
        fn is_persistent(name: &str) -> bool = NodeDeviceIsPersistentArgs.persistent;
        fn is_active(name: &str) -> bool = NodeDeviceIsActiveArgs.active;
        fn detach(name: &str, driver_name: Option<&str>, flags: u32) -> ()
            = NodeDeviceDetachFlagsArgs;
        fn reattach(name: &str) -> () = NodeDeviceReAttachArgs;
        fn reset(name: &str) -> () = NodeDeviceResetArgs;
        fn dettach(name: &str) -> () = NodeDeviceDettachArgs;
    }
    fn event_register_any(
        &self,
        dev: Option<&str>,
        event_id: i32,
        callback: NodeDeviceEventCallback,
    ) -> Result<i32> {
        let args = ConnectNodeDeviceEventRegisterAnyArgs {
            event_id,
            dev: dev.map(|n| NonnullNodeDevice {
                name: n.to_string(),
            }),
        };
        self.object_events()
            .nodedev
            .register(dev, event_id, callback, || {
                Ok(self.request(&args)?.callback_id)
            })
    }
    fn event_deregister_any(&self, callback_id: i32) -> Result<()> {
        self.object_events()
            .nodedev
            .deregister(callback_id, |callback_id| {
                self.request(&ConnectNodeDeviceEventDeregisterAnyArgs { callback_id })
            })
    }
}

impl InterfaceDriver for RemoteConnection {
    fn num_of_interfaces(&self) -> Result<i32> {
        Ok(self.call_connect_num_of_interfaces()?.num)
    }
    fn num_of_defined_interfaces(&self) -> Result<i32> {
        Ok(self.call_connect_num_of_defined_interfaces()?.num)
    }
    forward! {
        fn list_interfaces(maxnames: usize) -> Vec<String> = ConnectListInterfacesArgs.names;
        fn list_defined_interfaces(maxnames: usize) -> Vec<String>
            = ConnectListDefinedInterfacesArgs.names;
        fn list_all(flags: u32) -> Vec<InterfaceRef>
            = ConnectListAllInterfacesArgs { need_results: 1 }.ifaces;
        fn lookup_by_name(name: &str) -> InterfaceRef = InterfaceLookupByNameArgs.iface;
        fn lookup_by_mac(mac: &str) -> InterfaceRef = InterfaceLookupByMacStringArgs.iface;
        fn get_xml_desc(iface: &InterfaceRef, flags: u32) -> String = InterfaceGetXmlDescArgs.xml;
        fn define_xml(xml: &str, flags: u32) -> InterfaceRef = InterfaceDefineXmlArgs.iface;
        fn undefine(iface: &InterfaceRef) -> () = InterfaceUndefineArgs;
        fn create(iface: &InterfaceRef, flags: u32) -> () = InterfaceCreateArgs;
        fn destroy(iface: &InterfaceRef, flags: u32) -> () = InterfaceDestroyArgs;
        fn is_active(iface: &InterfaceRef) -> bool = InterfaceIsActiveArgs.active;
        fn change_begin(flags: u32) -> () = InterfaceChangeBeginArgs;
        fn change_commit(flags: u32) -> () = InterfaceChangeCommitArgs;
        fn change_rollback(flags: u32) -> () = InterfaceChangeRollbackArgs;
    }
}

impl SecretDriver for RemoteConnection {
    fn num_of_secrets(&self) -> Result<i32> {
        Ok(self.call_connect_num_of_secrets()?.num)
    }
    forward! {
        fn list_secrets(maxuuids: usize) -> Vec<String> = ConnectListSecretsArgs.uuids;
        fn list_all(flags: u32) -> Vec<SecretRef>
            = ConnectListAllSecretsArgs { need_results: 1 }.secrets;
        fn lookup_by_uuid(uuid: &[u8; 16]) -> SecretRef = SecretLookupByUuidArgs.secret;
        fn lookup_by_usage(usage_type: i32, usage_id: &str) -> SecretRef
            = SecretLookupByUsageArgs.secret;
        fn define_xml(xml: &str, flags: u32) -> SecretRef = SecretDefineXmlArgs.secret;
        fn get_xml_desc(secret: &SecretRef, flags: u32) -> String = SecretGetXmlDescArgs.xml;
        fn set_value(secret: &SecretRef, value: &[u8], flags: u32) -> () = SecretSetValueArgs;
        fn undefine(secret: &SecretRef) -> () = SecretUndefineArgs;
    }
    fn get_value(&self, secret: &SecretRef, flags: u32, _internal: bool) -> Result<Vec<u8>> {
        let args = SecretGetValueArgs {
            secret: secret.to_wire(),
            flags,
        };
        Ok(self.call_secret_get_value(&args)?.value)
    }
    fn event_register_any(
        &self,
        secret: Option<&SecretRef>,
        event_id: i32,
        callback: SecretEventCallback,
    ) -> Result<i32> {
        let args = ConnectSecretEventRegisterAnyArgs {
            event_id,
            secret: secret.map(ToWire::to_wire),
        };
        self.object_events()
            .secret
            .register(secret, event_id, callback, || {
                Ok(self.request(&args)?.callback_id)
            })
    }
    fn event_deregister_any(&self, callback_id: i32) -> Result<()> {
        self.object_events()
            .secret
            .deregister(callback_id, |callback_id| {
                self.request(&ConnectSecretEventDeregisterAnyArgs { callback_id })
            })
    }
}
