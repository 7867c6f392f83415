//! `NodeDevice`: a handle on one host device, as `virNodeDevicePtr`, and
//! the node device calls of `Connect` (libvirt's src/libvirt-nodedev.c),
//! with the public API's own checks before the driver sees a call.

use crate::connect::check_max;
use crate::driver::shared;
use crate::driver::{NodeDeviceDriver, NodeDeviceRef};
use crate::events_nodedev::{nodedev_event, NodeDeviceEventCallback};
use crate::Connect;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_FROM_NODEDEV`.
pub const ERROR_DOMAIN: ErrorDomain = ErrorDomain(22);

/// libvirt's `virNodeDevCapType` names: capability `i` is
/// `VIR_CONNECT_LIST_NODE_DEVICES_CAP_*` bit `i`.
pub use rvirt_util::names::NODE_DEVICE_CAPS as CAP_NAMES;

/// `virConnectListAllNodeDevicesFlags`.
pub mod list_flags {
    /// Every `VIR_CONNECT_LIST_NODE_DEVICES_CAP_*` bit
    /// (`VIR_CONNECT_LIST_NODE_DEVICES_FILTERS_CAP`).
    pub const FILTERS_CAP: u32 = (1 << 22) - 1;
    pub const INACTIVE: u32 = 1 << 30;
    pub const ACTIVE: u32 = 1 << 31;

    /// The flag of capability `name`, if libvirt knows it.
    pub fn cap(name: &str) -> Option<u32> {
        super::CAP_NAMES
            .iter()
            .position(|c| *c == name)
            .map(|i| 1 << i)
    }
}

#[derive(Clone)]
pub struct NodeDevice {
    conn: Connect,
    name: String,
    parent: Option<String>,
}

impl std::fmt::Debug for NodeDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeDevice")
            .field("name", &self.name)
            .finish()
    }
}

/// `virCheckNonNegativeArgGoto`'s words for a list bound.
/// `virReportUnsupportedError` from this API's file.
fn unsupported(api: &str) -> Error {
    crate::driver::unsupported_in(ERROR_DOMAIN, api)
}

impl Connect {
    fn nodedev_driver(&self, api: &str) -> Result<&dyn NodeDeviceDriver> {
        shared::or_shared(
            self.driver().as_ref(),
            self.driver().node_devices(),
            shared::node_devices(),
        )
        .ok_or_else(|| unsupported(api))
    }

    fn node_device(&self, r: NodeDeviceRef) -> NodeDevice {
        NodeDevice {
            conn: self.clone(),
            name: r.name,
            parent: r.parent,
        }
    }

    /// `virNodeNumOfDevices`.
    pub fn node_num_of_devices(&self, cap: Option<&str>, flags: u32) -> Result<i32> {
        self.nodedev_driver("virNodeNumOfDevices")?
            .num_of_devices(cap, flags)
    }

    /// `virNodeListDevices`.
    pub fn node_list_devices(
        &self,
        cap: Option<&str>,
        max: i32,
        flags: u32,
    ) -> Result<Vec<String>> {
        let max = check_max(ERROR_DOMAIN, max, "maxnames", "virNodeListDevices")?;
        self.nodedev_driver("virNodeListDevices")?
            .list_devices(cap, max, flags)
    }

    /// `virConnectListAllNodeDevices`.
    pub fn list_all_node_devices(&self, flags: u32) -> Result<Vec<NodeDevice>> {
        let refs = self
            .nodedev_driver("virConnectListAllNodeDevices")?
            .list_all(flags)?;
        Ok(refs.into_iter().map(|r| self.node_device(r)).collect())
    }

    /// `virNodeDeviceLookupByName`.
    pub fn node_device_lookup_by_name(&self, name: &str) -> Result<NodeDevice> {
        let r = self
            .nodedev_driver("virNodeDeviceLookupByName")?
            .lookup_by_name(name)?;
        Ok(self.node_device(r))
    }

    /// `virNodeDeviceLookupSCSIHostByWWN`.
    pub fn node_device_lookup_scsi_host_by_wwn(
        &self,
        wwnn: &str,
        wwpn: &str,
        flags: u32,
    ) -> Result<NodeDevice> {
        let r = self
            .nodedev_driver("virNodeDeviceLookupSCSIHostByWWN")?
            .lookup_scsi_host_by_wwn(wwnn, wwpn, flags)?;
        Ok(self.node_device(r))
    }

    /// `virNodeDeviceCreateXML`.
    pub fn node_device_create_xml(&self, xml: &str, flags: u32) -> Result<NodeDevice> {
        self.check_writable("virNodeDeviceCreateXML")?;
        let r = self
            .nodedev_driver("virNodeDeviceCreateXML")?
            .create_xml(xml, flags)?;
        Ok(self.node_device(r))
    }

    /// `virNodeDeviceDefineXML`.
    pub fn node_device_define_xml(&self, xml: &str, flags: u32) -> Result<NodeDevice> {
        self.check_writable("virNodeDeviceDefineXML")?;
        let r = self
            .nodedev_driver("virNodeDeviceDefineXML")?
            .define_xml(xml, flags)?;
        Ok(self.node_device(r))
    }

    /// `virConnectNodeDeviceEventRegisterAny`.
    pub fn node_device_event_register_any(
        &self,
        dev: Option<&NodeDevice>,
        event_id: i32,
        callback: NodeDeviceEventCallback,
    ) -> Result<i32> {
        if !(0..nodedev_event::ID_LAST).contains(&event_id) {
            return Err(Error::raw(
                ERROR_DOMAIN,
                ErrorCode::INVALID_ARG,
                format!(
                    "eventID in virConnectNodeDeviceEventRegisterAny must be less than {}",
                    nodedev_event::ID_LAST
                ),
            ));
        }
        self.nodedev_driver("virConnectNodeDeviceEventRegisterAny")?
            .event_register_any(dev.map(|d| d.name.as_str()), event_id, callback)
    }

    /// `virConnectNodeDeviceEventDeregisterAny`.
    pub fn node_device_event_deregister_any(&self, callback_id: i32) -> Result<()> {
        self.nodedev_driver("virConnectNodeDeviceEventDeregisterAny")?
            .event_deregister_any(callback_id)
    }
}

impl NodeDevice {
    /// A handle for a device whose name is known (the daemon rebuilds
    /// handles from `remote_nonnull_node_device` this way).
    pub fn from_name(conn: &Connect, name: impl Into<String>) -> NodeDevice {
        conn.node_device(NodeDeviceRef::named(name))
    }

    /// `virNodeDeviceGetName`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn connect(&self) -> &Connect {
        &self.conn
    }

    fn driver(&self, api: &str) -> Result<&dyn NodeDeviceDriver> {
        self.conn.nodedev_driver(api)
    }

    /// `virNodeDeviceGetParent`: the parent the lookup gave, else the
    /// driver's answer (a local driver's error for a device without one;
    /// through a daemon, `None`).
    pub fn get_parent(&self) -> Result<Option<String>> {
        if let Some(p) = &self.parent {
            return Ok(Some(p.clone()));
        }
        self.driver("virNodeDeviceGetParent")?
            .get_parent(&self.name)
    }

    /// `virNodeDeviceGetXMLDesc`.
    pub fn get_xml_desc(&self, flags: u32) -> Result<String> {
        self.driver("virNodeDeviceGetXMLDesc")?
            .get_xml_desc(&self.name, flags)
    }

    /// `virNodeDeviceNumOfCaps`.
    pub fn num_of_caps(&self) -> Result<i32> {
        self.driver("virNodeDeviceNumOfCaps")?
            .num_of_caps(&self.name)
    }

    /// `virNodeDeviceListCaps`.
    pub fn list_caps(&self, max: i32) -> Result<Vec<String>> {
        let max = check_max(ERROR_DOMAIN, max, "maxnames", "virNodeDeviceListCaps")?;
        self.driver("virNodeDeviceListCaps")?
            .list_caps(&self.name, max)
    }

    /// `virNodeDeviceDestroy`.
    pub fn destroy(&self) -> Result<()> {
        self.conn.check_writable("virNodeDeviceDestroy")?;
        self.driver("virNodeDeviceDestroy")?.destroy(&self.name)
    }

    /// `virNodeDeviceUndefine`.
    pub fn undefine(&self, flags: u32) -> Result<()> {
        self.conn.check_writable("virNodeDeviceUndefine")?;
        self.driver("virNodeDeviceUndefine")?
            .undefine(&self.name, flags)
    }

    /// `virNodeDeviceCreate`.
    pub fn create(&self, flags: u32) -> Result<()> {
        self.conn.check_writable("virNodeDeviceCreate")?;
        self.driver("virNodeDeviceCreate")?
            .create(&self.name, flags)
    }

    /// `virNodeDeviceGetAutostart`.
    pub fn get_autostart(&self) -> Result<bool> {
        self.driver("virNodeDeviceGetAutostart")?
            .get_autostart(&self.name)
    }

    /// `virNodeDeviceSetAutostart`.
    pub fn set_autostart(&self, autostart: bool) -> Result<()> {
        self.conn.check_writable("virNodeDeviceSetAutostart")?;
        self.driver("virNodeDeviceSetAutostart")?
            .set_autostart(&self.name, autostart)
    }

    /// `virNodeDeviceIsPersistent`.
    pub fn is_persistent(&self) -> Result<bool> {
        self.driver("virNodeDeviceIsPersistent")?
            .is_persistent(&self.name)
    }

    /// `virNodeDeviceIsActive`.
    pub fn is_active(&self) -> Result<bool> {
        self.driver("virNodeDeviceIsActive")?.is_active(&self.name)
    }

    /// `virNodeDeviceDetachFlags`.
    pub fn detach_flags(&self, driver: Option<&str>, flags: u32) -> Result<()> {
        self.conn.check_writable("virNodeDeviceDetachFlags")?;
        self.driver("virNodeDeviceDetachFlags")?
            .detach(&self.name, driver, flags)
    }

    /// `virNodeDeviceDettach`.
    pub fn dettach(&self) -> Result<()> {
        self.conn.check_writable("virNodeDeviceDettach")?;
        self.driver("virNodeDeviceDettach")?.dettach(&self.name)
    }

    /// `virNodeDeviceReAttach`.
    pub fn reattach(&self) -> Result<()> {
        self.conn.check_writable("virNodeDeviceReAttach")?;
        self.driver("virNodeDeviceReAttach")?.reattach(&self.name)
    }

    /// `virNodeDeviceReset`.
    pub fn reset(&self) -> Result<()> {
        self.conn.check_writable("virNodeDeviceReset")?;
        self.driver("virNodeDeviceReset")?.reset(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_flags_follow_libvirts_enum() {
        assert_eq!(list_flags::cap("system"), Some(1));
        assert_eq!(list_flags::cap("scsi_host"), Some(1 << 5));
        assert_eq!(list_flags::cap("vpd"), Some(1 << 21));
        assert_eq!(list_flags::cap("bogus"), None);
        assert_eq!(list_flags::FILTERS_CAP, 0x3f_ffff);
    }
}
