//! The host interface entry points (libvirt's `virInterfaceDriver`,
//! src/driver-interface.h), handed out through
//! [`super::HypervisorConnection::interfaces`]. An interface is named by
//! its name and MAC, as `remote_nonnull_interface` carries it.

use rvirt_util::{Error, ErrorDomain, Result};

/// libvirt's "not supported" for a missing entry, raised in its public
/// API file (`VIR_FROM_INTERFACE`).
fn unsupported(api: &str) -> Error {
    super::unsupported_in(ErrorDomain(26), api)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceRef {
    pub name: String,
    /// The MAC address string ("" when the interface has none).
    pub mac: String,
}

#[allow(unused_variables)]
pub trait InterfaceDriver: Send + Sync {
    /// `virConnectNumOfInterfaces`: active interfaces.
    fn num_of_interfaces(&self) -> Result<i32>;
    /// `virConnectListInterfaces`: at most `max` active names.
    fn list_interfaces(&self, max: usize) -> Result<Vec<String>>;
    /// `virConnectNumOfDefinedInterfaces`: inactive interfaces.
    fn num_of_defined_interfaces(&self) -> Result<i32>;
    /// `virConnectListDefinedInterfaces`.
    fn list_defined_interfaces(&self, max: usize) -> Result<Vec<String>>;
    /// `virConnectListAllInterfaces` (`VIR_CONNECT_LIST_INTERFACES_*`).
    fn list_all(&self, flags: u32) -> Result<Vec<InterfaceRef>>;
    /// `virInterfaceLookupByName`.
    fn lookup_by_name(&self, name: &str) -> Result<InterfaceRef>;
    /// `virInterfaceLookupByMACString`.
    fn lookup_by_mac(&self, mac: &str) -> Result<InterfaceRef>;
    /// `virInterfaceGetXMLDesc` (`VIR_INTERFACE_XML_INACTIVE`).
    fn get_xml_desc(&self, iface: &InterfaceRef, flags: u32) -> Result<String>;
    /// `virInterfaceDefineXML`.
    fn define_xml(&self, xml: &str, flags: u32) -> Result<InterfaceRef> {
        Err(unsupported("virInterfaceDefineXML"))
    }
    /// `virInterfaceUndefine`.
    fn undefine(&self, iface: &InterfaceRef) -> Result<()> {
        Err(unsupported("virInterfaceUndefine"))
    }
    /// `virInterfaceCreate`: bring it up.
    fn create(&self, iface: &InterfaceRef, flags: u32) -> Result<()> {
        Err(unsupported("virInterfaceCreate"))
    }
    /// `virInterfaceDestroy`: bring it down.
    fn destroy(&self, iface: &InterfaceRef, flags: u32) -> Result<()> {
        Err(unsupported("virInterfaceDestroy"))
    }
    /// `virInterfaceIsActive`.
    fn is_active(&self, iface: &InterfaceRef) -> Result<bool>;
    /// `virInterfaceChangeBegin`.
    fn change_begin(&self, flags: u32) -> Result<()> {
        Err(unsupported("virInterfaceChangeBegin"))
    }
    /// `virInterfaceChangeCommit`.
    fn change_commit(&self, flags: u32) -> Result<()> {
        Err(unsupported("virInterfaceChangeCommit"))
    }
    /// `virInterfaceChangeRollback`.
    fn change_rollback(&self, flags: u32) -> Result<()> {
        Err(unsupported("virInterfaceChangeRollback"))
    }
}
