//! The node device entry points (libvirt's `virNodeDeviceDriver`,
//! src/driver-nodedev.h): a connection whose driver knows the host's
//! devices hands this out through
//! [`super::HypervisorConnection::node_devices`]. Entries a driver does not
//! have keep their default, libvirt's `VIR_ERR_NO_SUPPORT` naming the API.
//!
//! A device is named by its name, as `remote_nonnull_node_device` carries
//! it; lookups also return the parent when the driver knows it (libvirt's
//! `virNodeDevice.parentName`).

use crate::events_nodedev::{NodeDeviceEvent, NodeDeviceEventCallback, ObjectEventRegistry};
use rvirt_util::{Error, ErrorDomain, Result};

/// libvirt's "not supported" for a missing entry, raised in its public
/// API file (`VIR_FROM_NODEDEV`).
fn unsupported(api: &str) -> Error {
    super::unsupported_in(ErrorDomain(22), api)
}

/// A node device as a lookup returns it: its name and, when the driver
/// fills it in, its parent's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeDeviceRef {
    pub name: String,
    pub parent: Option<String>,
}

impl NodeDeviceRef {
    pub fn named(name: impl Into<String>) -> NodeDeviceRef {
        NodeDeviceRef {
            name: name.into(),
            parent: None,
        }
    }
}

#[allow(unused_variables)]
pub trait NodeDeviceDriver: Send + Sync {
    /// `virNodeNumOfDevices`: devices with capability `cap` (all: `None`).
    fn num_of_devices(&self, cap: Option<&str>, flags: u32) -> Result<i32>;
    /// `virNodeListDevices`: at most `max` names.
    fn list_devices(&self, cap: Option<&str>, max: usize, flags: u32) -> Result<Vec<String>>;
    /// `virConnectListAllNodeDevices` (`VIR_CONNECT_LIST_NODE_DEVICES_*`).
    fn list_all(&self, flags: u32) -> Result<Vec<NodeDeviceRef>>;
    /// `virNodeDeviceLookupByName`.
    fn lookup_by_name(&self, name: &str) -> Result<NodeDeviceRef>;
    /// `virNodeDeviceLookupSCSIHostByWWN`.
    fn lookup_scsi_host_by_wwn(&self, wwnn: &str, wwpn: &str, flags: u32) -> Result<NodeDeviceRef> {
        Err(unsupported("virNodeDeviceLookupSCSIHostByWWN"))
    }
    /// `virNodeDeviceGetXMLDesc`.
    fn get_xml_desc(&self, name: &str, flags: u32) -> Result<String>;
    /// `virNodeDeviceGetParent` when the lookup did not say (`None`:
    /// the daemon had no parent to report).
    fn get_parent(&self, name: &str) -> Result<Option<String>>;
    /// `virNodeDeviceNumOfCaps`.
    fn num_of_caps(&self, name: &str) -> Result<i32>;
    /// `virNodeDeviceListCaps`: at most `max` capability names.
    fn list_caps(&self, name: &str, max: usize) -> Result<Vec<String>>;
    /// `virNodeDeviceCreateXML`.
    fn create_xml(&self, xml: &str, flags: u32) -> Result<NodeDeviceRef> {
        Err(unsupported("virNodeDeviceCreateXML"))
    }
    /// `virNodeDeviceDestroy`.
    fn destroy(&self, name: &str) -> Result<()> {
        Err(unsupported("virNodeDeviceDestroy"))
    }
    /// `virNodeDeviceDefineXML`.
    fn define_xml(&self, xml: &str, flags: u32) -> Result<NodeDeviceRef> {
        Err(unsupported("virNodeDeviceDefineXML"))
    }
    /// `virNodeDeviceUndefine`.
    fn undefine(&self, name: &str, flags: u32) -> Result<()> {
        Err(unsupported("virNodeDeviceUndefine"))
    }
    /// `virNodeDeviceCreate`: start a defined device.
    fn create(&self, name: &str, flags: u32) -> Result<()> {
        Err(unsupported("virNodeDeviceCreate"))
    }
    /// `virNodeDeviceGetAutostart`.
    fn get_autostart(&self, name: &str) -> Result<bool> {
        Err(unsupported("virNodeDeviceGetAutostart"))
    }
    /// `virNodeDeviceSetAutostart`.
    fn set_autostart(&self, name: &str, autostart: bool) -> Result<()> {
        Err(unsupported("virNodeDeviceSetAutostart"))
    }
    /// `virNodeDeviceIsPersistent`.
    fn is_persistent(&self, name: &str) -> Result<bool> {
        Err(unsupported("virNodeDeviceIsPersistent"))
    }
    /// `virNodeDeviceIsActive`.
    fn is_active(&self, name: &str) -> Result<bool> {
        Err(unsupported("virNodeDeviceIsActive"))
    }
    /// `virNodeDeviceDetachFlags` (`driver`: e.g. "vfio").
    fn detach(&self, name: &str, driver: Option<&str>, flags: u32) -> Result<()> {
        Err(unsupported("virNodeDeviceDetachFlags"))
    }
    /// `virNodeDeviceDettach`: a driver's own entry, apart from the flags
    /// one (libvirt's drivers fill both or neither).
    fn dettach(&self, name: &str) -> Result<()> {
        Err(unsupported("virNodeDeviceDettach"))
    }
    /// `virNodeDeviceReAttach`.
    fn reattach(&self, name: &str) -> Result<()> {
        Err(unsupported("virNodeDeviceReAttach"))
    }
    /// `virNodeDeviceReset`.
    fn reset(&self, name: &str) -> Result<()> {
        Err(unsupported("virNodeDeviceReset"))
    }
    /// The registry of a driver that raises its own node device events (the
    /// remote driver relays the server's instead): the two calls below
    /// register and deregister there.
    fn local_events(&self) -> Option<&ObjectEventRegistry<str, NodeDeviceEvent>> {
        None
    }
    /// `virConnectNodeDeviceEventRegisterAny`: the callback id.
    fn event_register_any(
        &self,
        dev: Option<&str>,
        event_id: i32,
        callback: NodeDeviceEventCallback,
    ) -> Result<i32> {
        let events = self
            .local_events()
            .ok_or_else(|| unsupported("virConnectNodeDeviceEventRegisterAny"))?;
        Ok(events.register(dev, event_id, callback))
    }
    /// `virConnectNodeDeviceEventDeregisterAny`.
    fn event_deregister_any(&self, callback_id: i32) -> Result<()> {
        let events = self
            .local_events()
            .ok_or_else(|| unsupported("virConnectNodeDeviceEventDeregisterAny"))?;
        crate::events::deregistered(events.deregister(callback_id), callback_id)
    }
}
