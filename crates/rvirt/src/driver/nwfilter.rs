//! The network filter driver (libvirt's `virNWFilterDriver`,
//! src/driver-nwfilter.h): filters and filter bindings. A connection
//! hands it out through [`super::HypervisorConnection::nwfilter`]; libvirt's
//! test driver has none, so every call there is `VIR_ERR_NO_SUPPORT`.

use rvirt_util::Result;

/// A filter's identity (`virNWFilterPtr`, `remote_nonnull_nwfilter`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NWFilterRef {
    pub name: String,
    pub uuid: [u8; 16],
}

impl NWFilterRef {
    pub fn uuid_string(&self) -> String {
        rvirt_util::uuid::Uuid::from_bytes(self.uuid).to_string()
    }
}

/// A binding's identity (`virNWFilterBindingPtr`,
/// `remote_nonnull_nwfilter_binding`): its port and filter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NWFilterBindingRef {
    pub portdev: String,
    pub filter: String,
}

/// `VIR_FROM_NWFILTER`.
pub const ERROR_DOMAIN: rvirt_util::ErrorDomain = rvirt_util::ErrorDomain(33);

/// `virReportUnsupportedError` from src/libvirt-nwfilter.c.
pub fn unsupported(api: &str) -> rvirt_util::Error {
    rvirt_util::Error::new(ERROR_DOMAIN, rvirt_util::ErrorCode::NO_SUPPORT, api)
}

pub trait NWFilterDriver: Send + Sync {
    /// `virConnectNumOfNWFilters`.
    fn num_of_nwfilters(&self) -> Result<usize>;
    /// `virConnectListNWFilters`.
    fn list_nwfilters(&self, max: usize) -> Result<Vec<String>>;
    /// `virConnectListAllNWFilters`.
    fn list_all_nwfilters(&self, flags: u32) -> Result<Vec<NWFilterRef>>;
    /// `virNWFilterLookupByName`.
    fn lookup_by_name(&self, name: &str) -> Result<NWFilterRef>;
    /// `virNWFilterLookupByUUID`.
    fn lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<NWFilterRef>;
    /// `virNWFilterDefineXMLFlags`.
    fn define_xml(&self, xml: &str, flags: u32) -> Result<NWFilterRef>;
    /// `virNWFilterUndefine`.
    fn undefine(&self, filter: &NWFilterRef) -> Result<()>;
    /// `virNWFilterGetXMLDesc`.
    fn get_xml_desc(&self, filter: &NWFilterRef, flags: u32) -> Result<String>;

    /// `virConnectListAllNWFilterBindings`.
    fn list_all_bindings(&self, _flags: u32) -> Result<Vec<NWFilterBindingRef>> {
        Err(unsupported("virConnectListAllNWFilterBindings"))
    }
    /// `virNWFilterBindingLookupByPortDev`.
    fn binding_lookup_by_port_dev(&self, _portdev: &str) -> Result<NWFilterBindingRef> {
        Err(unsupported("virNWFilterBindingLookupByPortDev"))
    }
    /// `virNWFilterBindingGetXMLDesc`.
    fn binding_get_xml_desc(&self, _binding: &NWFilterBindingRef, _flags: u32) -> Result<String> {
        Err(unsupported("virNWFilterBindingGetXMLDesc"))
    }
    /// `virNWFilterBindingCreateXML`.
    fn binding_create_xml(&self, _xml: &str, _flags: u32) -> Result<NWFilterBindingRef> {
        Err(unsupported("virNWFilterBindingCreateXML"))
    }
    /// `virNWFilterBindingDelete`.
    fn binding_delete(&self, _binding: &NWFilterBindingRef) -> Result<()> {
        Err(unsupported("virNWFilterBindingDelete"))
    }
}
