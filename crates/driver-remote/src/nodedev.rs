//! Node devices, host interfaces and secrets over the wire: each driver
//! call is its REMOTE procedure (libvirt's remote_driver.c), and the node
//! device and secret events the daemon sends are routed to the local
//! registrations by the server's callback id.

use crate::conn::RemoteConnection;
use rvirt::driver::{
    InterfaceDriver, InterfaceRef, NodeDeviceDriver, NodeDeviceRef, SecretDriver, SecretRef,
};
use rvirt::events_nodedev::{
    NodeDeviceEvent, NodeDeviceEventCallback, ObjectEventRegistry, SecretEvent, SecretEventCallback,
};
use rvirt_rpc::remote::*;
use rvirt_rpc::remote::{Procedure, RemoteCalls};
use rvirt_rpc::{Packet, XdrDecode};
use rvirt_util::Result;

/// The node device and secret registrations of one connection.
#[derive(Default)]
pub(crate) struct ObjectEvents {
    nodedev: ObjectEventRegistry<str, NodeDeviceEvent>,
    secret: ObjectEventRegistry<SecretRef, SecretEvent>,
    /// server callback id -> local callback id, per kind.
    nodedev_ids: crate::callback_ids::CallbackIds,
    secret_ids: crate::callback_ids::CallbackIds,
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
            if let Some(local) = self.nodedev_ids.local(server) {
                self.nodedev.emit_to(local, name, &ev);
            }
        };
        let secret = |server: i32, s: &NonnullSecret, ev: SecretEvent| {
            if let Some(local) = self.secret_ids.local(server) {
                self.secret.emit_to(local, &unwire(s), &ev);
            }
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

fn dev_ref(d: NonnullNodeDevice) -> NodeDeviceRef {
    NodeDeviceRef::named(d.name)
}

/// `maxnames` for an "all of them" call.
fn max_i32(max: usize) -> i32 {
    max.min(i32::MAX as usize) as i32
}

impl NodeDeviceDriver for RemoteConnection {
    fn num_of_devices(&self, cap: Option<&str>, flags: u32) -> Result<i32> {
        let args = NodeNumOfDevicesArgs {
            cap: cap.map(str::to_string),
            flags,
        };
        Ok(self.call_node_num_of_devices(&args)?.num)
    }
    fn list_devices(&self, cap: Option<&str>, max: usize, flags: u32) -> Result<Vec<String>> {
        let args = NodeListDevicesArgs {
            cap: cap.map(str::to_string),
            maxnames: max_i32(max),
            flags,
        };
        Ok(self.call_node_list_devices(&args)?.names)
    }
    fn list_all(&self, flags: u32) -> Result<Vec<NodeDeviceRef>> {
        let args = ConnectListAllNodeDevicesArgs {
            need_results: 1,
            flags,
        };
        let r = self.call_connect_list_all_node_devices(&args)?;
        Ok(r.devices.into_iter().map(dev_ref).collect())
    }
    fn lookup_by_name(&self, name: &str) -> Result<NodeDeviceRef> {
        let args = NodeDeviceLookupByNameArgs {
            name: name.to_string(),
        };
        Ok(dev_ref(self.call_node_device_lookup_by_name(&args)?.dev))
    }
    fn lookup_scsi_host_by_wwn(&self, wwnn: &str, wwpn: &str, flags: u32) -> Result<NodeDeviceRef> {
        let args = NodeDeviceLookupScsiHostByWwnArgs {
            wwnn: wwnn.to_string(),
            wwpn: wwpn.to_string(),
            flags,
        };
        Ok(dev_ref(
            self.call_node_device_lookup_scsi_host_by_wwn(&args)?.dev,
        ))
    }
    fn get_xml_desc(&self, name: &str, flags: u32) -> Result<String> {
        let args = NodeDeviceGetXmlDescArgs {
            name: name.to_string(),
            flags,
        };
        Ok(self.call_node_device_get_xml_desc(&args)?.xml)
    }
    fn get_parent(&self, name: &str) -> Result<Option<String>> {
        let args = NodeDeviceGetParentArgs {
            name: name.to_string(),
        };
        Ok(self.call_node_device_get_parent(&args)?.parent_name)
    }
    fn num_of_caps(&self, name: &str) -> Result<i32> {
        let args = NodeDeviceNumOfCapsArgs {
            name: name.to_string(),
        };
        Ok(self.call_node_device_num_of_caps(&args)?.num)
    }
    fn list_caps(&self, name: &str, max: usize) -> Result<Vec<String>> {
        let args = NodeDeviceListCapsArgs {
            name: name.to_string(),
            maxnames: max_i32(max),
        };
        Ok(self.call_node_device_list_caps(&args)?.names)
    }
    fn create_xml(&self, xml: &str, flags: u32) -> Result<NodeDeviceRef> {
        let args = NodeDeviceCreateXmlArgs {
            xml_desc: xml.to_string(),
            flags,
        };
        Ok(dev_ref(self.call_node_device_create_xml(&args)?.dev))
    }
    fn destroy(&self, name: &str) -> Result<()> {
        self.call_node_device_destroy(&NodeDeviceDestroyArgs {
            name: name.to_string(),
        })
    }
    fn define_xml(&self, xml: &str, flags: u32) -> Result<NodeDeviceRef> {
        let args = NodeDeviceDefineXmlArgs {
            xml_desc: xml.to_string(),
            flags,
        };
        Ok(dev_ref(self.call_node_device_define_xml(&args)?.dev))
    }
    fn undefine(&self, name: &str, flags: u32) -> Result<()> {
        self.call_node_device_undefine(&NodeDeviceUndefineArgs {
            name: name.to_string(),
            flags,
        })
    }
    fn create(&self, name: &str, flags: u32) -> Result<()> {
        self.call_node_device_create(&NodeDeviceCreateArgs {
            name: name.to_string(),
            flags,
        })
    }
    fn get_autostart(&self, name: &str) -> Result<bool> {
        let args = NodeDeviceGetAutostartArgs {
            name: name.to_string(),
        };
        Ok(self.call_node_device_get_autostart(&args)?.autostart != 0)
    }
    fn set_autostart(&self, name: &str, autostart: bool) -> Result<()> {
        self.call_node_device_set_autostart(&NodeDeviceSetAutostartArgs {
            name: name.to_string(),
            autostart: autostart as i32,
        })
    }
    fn is_persistent(&self, name: &str) -> Result<bool> {
        let args = NodeDeviceIsPersistentArgs {
            name: name.to_string(),
        };
        Ok(self.call_node_device_is_persistent(&args)?.persistent != 0)
    }
    fn is_active(&self, name: &str) -> Result<bool> {
        let args = NodeDeviceIsActiveArgs {
            name: name.to_string(),
        };
        Ok(self.call_node_device_is_active(&args)?.active != 0)
    }
    fn detach(&self, name: &str, driver: Option<&str>, flags: u32) -> Result<()> {
        self.call_node_device_detach_flags(&NodeDeviceDetachFlagsArgs {
            name: name.to_string(),
            driver_name: driver.map(str::to_string),
            flags,
        })
    }
    fn reattach(&self, name: &str) -> Result<()> {
        self.call_node_device_re_attach(&NodeDeviceReAttachArgs {
            name: name.to_string(),
        })
    }
    fn reset(&self, name: &str) -> Result<()> {
        self.call_node_device_reset(&NodeDeviceResetArgs {
            name: name.to_string(),
        })
    }
    fn event_register_any(
        &self,
        dev: Option<&str>,
        event_id: i32,
        callback: NodeDeviceEventCallback,
    ) -> Result<i32> {
        let events = self.object_events();
        let args = ConnectNodeDeviceEventRegisterAnyArgs {
            event_id,
            dev: dev.map(|n| NonnullNodeDevice {
                name: n.to_string(),
            }),
        };
        events.nodedev_ids.register(
            || {
                Ok(self
                    .call_connect_node_device_event_register_any(&args)?
                    .callback_id)
            },
            || events.nodedev.register(dev, event_id, callback),
        )
    }
    fn event_deregister_any(&self, callback_id: i32) -> Result<()> {
        let events = self.object_events();
        events.nodedev_ids.deregister(callback_id, |server| {
            let args = ConnectNodeDeviceEventDeregisterAnyArgs {
                callback_id: server,
            };
            self.call_connect_node_device_event_deregister_any(&args)
        })?;
        events.nodedev.deregister(callback_id);
        Ok(())
    }
}

fn iface_ref(i: NonnullInterface) -> InterfaceRef {
    InterfaceRef {
        name: i.name,
        mac: i.mac,
    }
}

fn wire_iface(i: &InterfaceRef) -> NonnullInterface {
    NonnullInterface {
        name: i.name.clone(),
        mac: i.mac.clone(),
    }
}

impl InterfaceDriver for RemoteConnection {
    fn num_of_interfaces(&self) -> Result<i32> {
        Ok(self.call_connect_num_of_interfaces()?.num)
    }
    fn list_interfaces(&self, max: usize) -> Result<Vec<String>> {
        let args = ConnectListInterfacesArgs {
            maxnames: max_i32(max),
        };
        Ok(self.call_connect_list_interfaces(&args)?.names)
    }
    fn num_of_defined_interfaces(&self) -> Result<i32> {
        Ok(self.call_connect_num_of_defined_interfaces()?.num)
    }
    fn list_defined_interfaces(&self, max: usize) -> Result<Vec<String>> {
        let args = ConnectListDefinedInterfacesArgs {
            maxnames: max_i32(max),
        };
        Ok(self.call_connect_list_defined_interfaces(&args)?.names)
    }
    fn list_all(&self, flags: u32) -> Result<Vec<InterfaceRef>> {
        let args = ConnectListAllInterfacesArgs {
            need_results: 1,
            flags,
        };
        let r = self.call_connect_list_all_interfaces(&args)?;
        Ok(r.ifaces.into_iter().map(iface_ref).collect())
    }
    fn lookup_by_name(&self, name: &str) -> Result<InterfaceRef> {
        let args = InterfaceLookupByNameArgs {
            name: name.to_string(),
        };
        Ok(iface_ref(self.call_interface_lookup_by_name(&args)?.iface))
    }
    fn lookup_by_mac(&self, mac: &str) -> Result<InterfaceRef> {
        let args = InterfaceLookupByMacStringArgs {
            mac: mac.to_string(),
        };
        Ok(iface_ref(
            self.call_interface_lookup_by_mac_string(&args)?.iface,
        ))
    }
    fn get_xml_desc(&self, iface: &InterfaceRef, flags: u32) -> Result<String> {
        let args = InterfaceGetXmlDescArgs {
            iface: wire_iface(iface),
            flags,
        };
        Ok(self.call_interface_get_xml_desc(&args)?.xml)
    }
    fn define_xml(&self, xml: &str, flags: u32) -> Result<InterfaceRef> {
        let args = InterfaceDefineXmlArgs {
            xml: xml.to_string(),
            flags,
        };
        Ok(iface_ref(self.call_interface_define_xml(&args)?.iface))
    }
    fn undefine(&self, iface: &InterfaceRef) -> Result<()> {
        self.call_interface_undefine(&InterfaceUndefineArgs {
            iface: wire_iface(iface),
        })
    }
    fn create(&self, iface: &InterfaceRef, flags: u32) -> Result<()> {
        self.call_interface_create(&InterfaceCreateArgs {
            iface: wire_iface(iface),
            flags,
        })
    }
    fn destroy(&self, iface: &InterfaceRef, flags: u32) -> Result<()> {
        self.call_interface_destroy(&InterfaceDestroyArgs {
            iface: wire_iface(iface),
            flags,
        })
    }
    fn is_active(&self, iface: &InterfaceRef) -> Result<bool> {
        let args = InterfaceIsActiveArgs {
            iface: wire_iface(iface),
        };
        Ok(self.call_interface_is_active(&args)?.active != 0)
    }
    fn change_begin(&self, flags: u32) -> Result<()> {
        self.call_interface_change_begin(&InterfaceChangeBeginArgs { flags })
    }
    fn change_commit(&self, flags: u32) -> Result<()> {
        self.call_interface_change_commit(&InterfaceChangeCommitArgs { flags })
    }
    fn change_rollback(&self, flags: u32) -> Result<()> {
        self.call_interface_change_rollback(&InterfaceChangeRollbackArgs { flags })
    }
}

fn unwire(s: &NonnullSecret) -> SecretRef {
    SecretRef {
        uuid: s.uuid,
        usage_type: s.usage_type,
        usage_id: s.usage_id.clone(),
    }
}

fn wire_secret(s: &SecretRef) -> NonnullSecret {
    NonnullSecret {
        uuid: s.uuid,
        usage_type: s.usage_type,
        usage_id: s.usage_id.clone(),
    }
}

impl SecretDriver for RemoteConnection {
    fn num_of_secrets(&self) -> Result<i32> {
        Ok(self.call_connect_num_of_secrets()?.num)
    }
    fn list_secrets(&self, max: usize) -> Result<Vec<String>> {
        let args = ConnectListSecretsArgs {
            maxuuids: max_i32(max),
        };
        Ok(self.call_connect_list_secrets(&args)?.uuids)
    }
    fn list_all(&self, flags: u32) -> Result<Vec<SecretRef>> {
        let args = ConnectListAllSecretsArgs {
            need_results: 1,
            flags,
        };
        let r = self.call_connect_list_all_secrets(&args)?;
        Ok(r.secrets.iter().map(unwire).collect())
    }
    fn lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<SecretRef> {
        let args = SecretLookupByUuidArgs { uuid: *uuid };
        Ok(unwire(&self.call_secret_lookup_by_uuid(&args)?.secret))
    }
    fn lookup_by_usage(&self, usage_type: i32, usage_id: &str) -> Result<SecretRef> {
        let args = SecretLookupByUsageArgs {
            usage_type,
            usage_id: usage_id.to_string(),
        };
        Ok(unwire(&self.call_secret_lookup_by_usage(&args)?.secret))
    }
    fn define_xml(&self, xml: &str, flags: u32) -> Result<SecretRef> {
        let args = SecretDefineXmlArgs {
            xml: xml.to_string(),
            flags,
        };
        Ok(unwire(&self.call_secret_define_xml(&args)?.secret))
    }
    fn get_xml_desc(&self, secret: &SecretRef, flags: u32) -> Result<String> {
        let args = SecretGetXmlDescArgs {
            secret: wire_secret(secret),
            flags,
        };
        Ok(self.call_secret_get_xml_desc(&args)?.xml)
    }
    fn set_value(&self, secret: &SecretRef, value: &[u8], flags: u32) -> Result<()> {
        self.call_secret_set_value(&SecretSetValueArgs {
            secret: wire_secret(secret),
            value: value.to_vec(),
            flags,
        })
    }
    fn get_value(&self, secret: &SecretRef, flags: u32, _internal: bool) -> Result<Vec<u8>> {
        let args = SecretGetValueArgs {
            secret: wire_secret(secret),
            flags,
        };
        Ok(self.call_secret_get_value(&args)?.value)
    }
    fn undefine(&self, secret: &SecretRef) -> Result<()> {
        self.call_secret_undefine(&SecretUndefineArgs {
            secret: wire_secret(secret),
        })
    }
    fn event_register_any(
        &self,
        secret: Option<&SecretRef>,
        event_id: i32,
        callback: SecretEventCallback,
    ) -> Result<i32> {
        let events = self.object_events();
        let args = ConnectSecretEventRegisterAnyArgs {
            event_id,
            secret: secret.map(wire_secret),
        };
        events.secret_ids.register(
            || {
                Ok(self
                    .call_connect_secret_event_register_any(&args)?
                    .callback_id)
            },
            || events.secret.register(secret, event_id, callback),
        )
    }
    fn event_deregister_any(&self, callback_id: i32) -> Result<()> {
        let events = self.object_events();
        events.secret_ids.deregister(callback_id, |server| {
            let args = ConnectSecretEventDeregisterAnyArgs {
                callback_id: server,
            };
            self.call_connect_secret_event_deregister_any(&args)
        })?;
        events.secret.deregister(callback_id);
        Ok(())
    }
}
