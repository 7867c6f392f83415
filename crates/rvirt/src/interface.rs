//! `Interface`: a handle on one host interface, as `virInterfacePtr`, and
//! the interface calls of `Connect` (libvirt's src/libvirt-interface.c):
//! read-only connections refused before the driver sees a change.

use crate::connect::check_max;
use crate::driver::shared;
use crate::driver::{InterfaceDriver, InterfaceRef};
use crate::Connect;
use rvirt_util::{Error, ErrorDomain, Result};

/// `VIR_FROM_INTERFACE`.
pub const ERROR_DOMAIN: ErrorDomain = ErrorDomain(26);

/// `virConnectListAllInterfacesFlags`.
pub mod list_flags {
    pub const INACTIVE: u32 = 1 << 0;
    pub const ACTIVE: u32 = 1 << 1;
}

/// `VIR_INTERFACE_XML_INACTIVE`.
pub const XML_INACTIVE: u32 = 1;

#[derive(Clone)]
pub struct Interface {
    conn: Connect,
    r: InterfaceRef,
}

impl std::fmt::Debug for Interface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interface").field("r", &self.r).finish()
    }
}

/// `virReportUnsupportedError` from this API's file.
fn unsupported(api: &str) -> Error {
    crate::driver::unsupported_in(ERROR_DOMAIN, api)
}

impl Connect {
    fn iface_driver(&self, api: &str) -> Result<&dyn InterfaceDriver> {
        shared::or_shared(
            self.driver().as_ref(),
            self.driver().interfaces(),
            shared::interfaces(),
        )
        .ok_or_else(|| unsupported(api))
    }

    fn interface(&self, r: InterfaceRef) -> Interface {
        Interface {
            conn: self.clone(),
            r,
        }
    }

    /// `virConnectNumOfInterfaces`.
    pub fn num_of_interfaces(&self) -> Result<i32> {
        self.iface_driver("virConnectNumOfInterfaces")?
            .num_of_interfaces()
    }

    /// `virConnectListInterfaces`.
    pub fn list_interfaces(&self, max: i32) -> Result<Vec<String>> {
        let max = check_max(ERROR_DOMAIN, max, "maxnames", "virConnectListInterfaces")?;
        self.iface_driver("virConnectListInterfaces")?
            .list_interfaces(max)
    }

    /// `virConnectNumOfDefinedInterfaces`.
    pub fn num_of_defined_interfaces(&self) -> Result<i32> {
        self.iface_driver("virConnectNumOfDefinedInterfaces")?
            .num_of_defined_interfaces()
    }

    /// `virConnectListDefinedInterfaces`.
    pub fn list_defined_interfaces(&self, max: i32) -> Result<Vec<String>> {
        let max = check_max(
            ERROR_DOMAIN,
            max,
            "maxnames",
            "virConnectListDefinedInterfaces",
        )?;
        self.iface_driver("virConnectListDefinedInterfaces")?
            .list_defined_interfaces(max)
    }

    /// `virConnectListAllInterfaces`.
    pub fn list_all_interfaces(&self, flags: u32) -> Result<Vec<Interface>> {
        let refs = self
            .iface_driver("virConnectListAllInterfaces")?
            .list_all(flags)?;
        Ok(refs.into_iter().map(|r| self.interface(r)).collect())
    }

    /// `virInterfaceLookupByName`.
    pub fn interface_lookup_by_name(&self, name: &str) -> Result<Interface> {
        let r = self
            .iface_driver("virInterfaceLookupByName")?
            .lookup_by_name(name)?;
        Ok(self.interface(r))
    }

    /// `virInterfaceLookupByMACString`.
    pub fn interface_lookup_by_mac_string(&self, mac: &str) -> Result<Interface> {
        let r = self
            .iface_driver("virInterfaceLookupByMACString")?
            .lookup_by_mac(mac)?;
        Ok(self.interface(r))
    }

    /// `virInterfaceDefineXML`.
    pub fn interface_define_xml(&self, xml: &str, flags: u32) -> Result<Interface> {
        self.check_writable("virInterfaceDefineXML")?;
        let r = self
            .iface_driver("virInterfaceDefineXML")?
            .define_xml(xml, flags)?;
        Ok(self.interface(r))
    }

    /// `virInterfaceChangeBegin`.
    pub fn interface_change_begin(&self, flags: u32) -> Result<()> {
        self.check_writable("virInterfaceChangeBegin")?;
        self.iface_driver("virInterfaceChangeBegin")?
            .change_begin(flags)
    }

    /// `virInterfaceChangeCommit`.
    pub fn interface_change_commit(&self, flags: u32) -> Result<()> {
        self.check_writable("virInterfaceChangeCommit")?;
        self.iface_driver("virInterfaceChangeCommit")?
            .change_commit(flags)
    }

    /// `virInterfaceChangeRollback`.
    pub fn interface_change_rollback(&self, flags: u32) -> Result<()> {
        self.check_writable("virInterfaceChangeRollback")?;
        self.iface_driver("virInterfaceChangeRollback")?
            .change_rollback(flags)
    }
}

impl Interface {
    /// A handle from a name and MAC already known (the daemon rebuilds
    /// handles from `remote_nonnull_interface` this way).
    pub fn from_ref(conn: &Connect, r: InterfaceRef) -> Interface {
        conn.interface(r)
    }

    /// `virInterfaceGetName`.
    pub fn name(&self) -> &str {
        &self.r.name
    }

    /// `virInterfaceGetMACString`.
    pub fn mac_string(&self) -> &str {
        &self.r.mac
    }

    pub fn interface_ref(&self) -> &InterfaceRef {
        &self.r
    }

    pub fn connect(&self) -> &Connect {
        &self.conn
    }

    fn driver(&self, api: &str) -> Result<&dyn InterfaceDriver> {
        self.conn.iface_driver(api)
    }

    /// `virInterfaceGetXMLDesc`.
    pub fn get_xml_desc(&self, flags: u32) -> Result<String> {
        self.driver("virInterfaceGetXMLDesc")?
            .get_xml_desc(&self.r, flags)
    }

    /// `virInterfaceUndefine`.
    pub fn undefine(&self) -> Result<()> {
        self.conn.check_writable("virInterfaceUndefine")?;
        self.driver("virInterfaceUndefine")?.undefine(&self.r)
    }

    /// `virInterfaceCreate`.
    pub fn create(&self, flags: u32) -> Result<()> {
        self.conn.check_writable("virInterfaceCreate")?;
        self.driver("virInterfaceCreate")?.create(&self.r, flags)
    }

    /// `virInterfaceDestroy`.
    pub fn destroy(&self, flags: u32) -> Result<()> {
        self.conn.check_writable("virInterfaceDestroy")?;
        self.driver("virInterfaceDestroy")?.destroy(&self.r, flags)
    }

    /// `virInterfaceIsActive`.
    pub fn is_active(&self) -> Result<bool> {
        self.driver("virInterfaceIsActive")?.is_active(&self.r)
    }
}
