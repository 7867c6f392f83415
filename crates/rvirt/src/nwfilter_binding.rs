//! `NWFilterBinding` (`virNWFilterBindingPtr`) handles and the binding
//! calls of `Connect` (libvirt's src/libvirt-nwfilter.c), with the public
//! API's read-only checks before the driver sees a call.

use crate::driver::NWFilterBindingRef;
use crate::network::filter_driver;
use crate::Connect;
use rvirt_util::Result;

#[derive(Clone)]
pub struct NWFilterBinding {
    conn: Connect,
    r: NWFilterBindingRef,
}

impl NWFilterBinding {
    pub fn from_ref(conn: &Connect, r: NWFilterBindingRef) -> NWFilterBinding {
        NWFilterBinding {
            conn: conn.clone(),
            r,
        }
    }
    pub fn binding_ref(&self) -> &NWFilterBindingRef {
        &self.r
    }
    /// `virNWFilterBindingGetPortDev`.
    pub fn port_dev(&self) -> &str {
        &self.r.portdev
    }
    /// `virNWFilterBindingGetFilterName`.
    pub fn filter_name(&self) -> &str {
        &self.r.filter
    }
    /// `virNWFilterBindingGetXMLDesc`.
    pub fn get_xml_desc(&self, flags: u32) -> Result<String> {
        filter_driver(&self.conn, "virNWFilterBindingGetXMLDesc")?
            .binding_get_xml_desc(&self.r, flags)
    }
    /// `virNWFilterBindingDelete`.
    pub fn delete(&self) -> Result<()> {
        self.conn.check_writable("virNWFilterBindingDelete")?;
        filter_driver(&self.conn, "virNWFilterBindingDelete")?.binding_delete(&self.r)
    }
}

impl Connect {
    /// `virConnectListAllNWFilterBindings`.
    pub fn list_all_nwfilter_bindings(&self, flags: u32) -> Result<Vec<NWFilterBinding>> {
        let refs =
            filter_driver(self, "virConnectListAllNWFilterBindings")?.list_all_bindings(flags)?;
        Ok(refs
            .into_iter()
            .map(|r| NWFilterBinding::from_ref(self, r))
            .collect())
    }
    /// `virNWFilterBindingLookupByPortDev`.
    pub fn nwfilter_binding_lookup_by_port_dev(&self, portdev: &str) -> Result<NWFilterBinding> {
        let r = filter_driver(self, "virNWFilterBindingLookupByPortDev")?
            .binding_lookup_by_port_dev(portdev)?;
        Ok(NWFilterBinding::from_ref(self, r))
    }
    /// `virNWFilterBindingCreateXML`.
    pub fn nwfilter_binding_create_xml(&self, xml: &str, flags: u32) -> Result<NWFilterBinding> {
        self.check_writable("virNWFilterBindingCreateXML")?;
        let r =
            filter_driver(self, "virNWFilterBindingCreateXML")?.binding_create_xml(xml, flags)?;
        Ok(NWFilterBinding::from_ref(self, r))
    }
}
