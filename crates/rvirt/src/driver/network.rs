//! The network driver (libvirt's `virNetworkDriver`, src/driver-network.h):
//! virtual networks. A connection hands it out through
//! [`super::HypervisorConnection::network`]; an entry a driver leaves out
//! reports `VIR_ERR_NO_SUPPORT` naming the public API, as libvirt does for
//! a NULL entry.
//!
//! A network is named as `remote_nonnull_network` carries it.

use crate::events_network::{NetworkEventCallback, NetworkEventRegistry};
use rvirt_util::Result;

/// A network's identity (`virNetworkPtr`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NetworkRef {
    pub name: String,
    pub uuid: [u8; 16],
}

impl NetworkRef {
    pub fn new(name: impl Into<String>, uuid: [u8; 16]) -> NetworkRef {
        NetworkRef {
            name: name.into(),
            uuid,
        }
    }
    pub fn uuid_string(&self) -> String {
        rvirt_util::uuid::Uuid::from_bytes(self.uuid).to_string()
    }
}

/// The change a `virNetworkUpdate` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkUpdate<'a> {
    /// `virNetworkUpdateCommand` (modify, delete, add last, add first).
    pub command: u32,
    /// `virNetworkUpdateSection` (bridge, dhcp host, dns txt...).
    pub section: u32,
    /// Which of several parents (an `<ip>`) the element is in; -1: any.
    pub parent_index: i32,
    /// The element itself.
    pub xml: &'a str,
}

/// `virNetworkDHCPLease`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DhcpLease {
    pub iface: String,
    /// Seconds since the epoch.
    pub expiry_time: i64,
    /// `virIPAddrType`: 0 IPv4, 1 IPv6.
    pub ip_type: i32,
    pub mac: Option<String>,
    pub iaid: Option<String>,
    pub ipaddr: String,
    pub prefix: u32,
    pub hostname: Option<String>,
    pub clientid: Option<String>,
}

/// `virReportUnsupportedError` from src/libvirt-network.c (VIR_FROM_NETWORK).
pub fn unsupported(api: &str) -> rvirt_util::Error {
    rvirt_util::Error::new(
        rvirt_util::ErrorDomain::NETWORK,
        rvirt_util::ErrorCode::NO_SUPPORT,
        api,
    )
}

#[allow(unused_variables)]
pub trait NetworkDriver: Send + Sync {
    /// `virConnectNumOfNetworks` / `virConnectNumOfDefinedNetworks`.
    fn num_of_networks(&self, active: bool) -> Result<usize>;
    /// `virConnectListNetworks` / `virConnectListDefinedNetworks`.
    fn list_networks(&self, active: bool, max: usize) -> Result<Vec<String>>;
    /// `virConnectListAllNetworks` (`VIR_CONNECT_LIST_NETWORKS_*` filters).
    fn list_all_networks(&self, flags: u32) -> Result<Vec<NetworkRef>>;
    /// `virNetworkLookupByName`.
    fn lookup_by_name(&self, name: &str) -> Result<NetworkRef>;
    /// `virNetworkLookupByUUID`.
    fn lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<NetworkRef>;
    /// `virNetworkCreateXMLFlags` (`virNetworkCreateXML` with 0).
    fn create_xml(&self, xml: &str, flags: u32) -> Result<NetworkRef>;
    /// `virNetworkDefineXMLFlags` (`virNetworkDefineXML` with 0).
    fn define_xml(&self, xml: &str, flags: u32) -> Result<NetworkRef>;
    /// `virNetworkUndefine`.
    fn undefine(&self, net: &NetworkRef) -> Result<()>;
    /// `virNetworkUpdate`: `command` and `section` are
    /// `virNetworkUpdateCommand` / `virNetworkUpdateSection`.
    fn update(&self, net: &NetworkRef, change: &NetworkUpdate<'_>, flags: u32) -> Result<()> {
        Err(unsupported("virNetworkUpdate"))
    }
    /// `virNetworkCreate`.
    fn create(&self, net: &NetworkRef) -> Result<()>;
    /// `virNetworkDestroy`.
    fn destroy(&self, net: &NetworkRef) -> Result<()>;
    /// `virNetworkGetXMLDesc` (`VIR_NETWORK_XML_INACTIVE`).
    fn get_xml_desc(&self, net: &NetworkRef, flags: u32) -> Result<String>;
    /// `virNetworkGetBridgeName`.
    fn get_bridge_name(&self, net: &NetworkRef) -> Result<String>;
    /// `virNetworkGetAutostart`.
    fn get_autostart(&self, net: &NetworkRef) -> Result<bool>;
    /// `virNetworkSetAutostart`.
    fn set_autostart(&self, net: &NetworkRef, autostart: bool) -> Result<()>;
    /// `virNetworkIsActive`.
    fn is_active(&self, net: &NetworkRef) -> Result<bool>;
    /// `virNetworkIsPersistent`.
    fn is_persistent(&self, net: &NetworkRef) -> Result<bool>;
    /// `virNetworkGetDHCPLeases`: leases for `mac` only when given.
    fn get_dhcp_leases(
        &self,
        net: &NetworkRef,
        mac: Option<&str>,
        flags: u32,
    ) -> Result<Vec<DhcpLease>> {
        Err(unsupported("virNetworkGetDHCPLeases"))
    }
    /// The registry of a driver that raises its own network events (the
    /// remote driver relays the server's instead): the two calls below
    /// register and deregister there.
    fn local_events(&self) -> Option<&NetworkEventRegistry> {
        None
    }
    /// `virConnectNetworkEventRegisterAny`: the callback id.
    fn event_register_any(
        &self,
        net: Option<&NetworkRef>,
        event_id: i32,
        callback: NetworkEventCallback,
    ) -> Result<i32> {
        let events = self
            .local_events()
            .ok_or_else(|| unsupported("virConnectNetworkEventRegisterAny"))?;
        Ok(events.register(net, event_id, callback))
    }
    /// `virConnectNetworkEventDeregisterAny`.
    fn event_deregister_any(&self, callback_id: i32) -> Result<()> {
        let events = self
            .local_events()
            .ok_or_else(|| unsupported("virConnectNetworkEventDeregisterAny"))?;
        crate::events::deregistered(events.deregister(callback_id), callback_id)
    }
}
