//! The entry points of `virHypervisorDriver` that keep a guest's state in
//! a file: `domainSaveFlags`, `domainRestoreFlags`,
//! `domainSaveImageGetXMLDesc`, `domainSaveImageDefineXML`,
//! `domainManagedSave`, `domainManagedSaveRemove` and
//! `domainCoreDumpWithFormat`. A driver that has them hands this out
//! through [`super::HypervisorConnection::save`]; `None` makes every call
//! `VIR_ERR_NO_SUPPORT`. Paths arrive absolute: the public API makes
//! them so before the call leaves the caller's process.

use super::{unsupported, DomainRef};
use rvirt_util::Result;

pub trait SaveDriver: Send + Sync {
    /// `virDomainSaveFlags` (`virDomainSave` is this with no XML and
    /// flags 0).
    fn save(&self, _dom: &DomainRef, _to: &str, _dxml: Option<&str>, _flags: u32) -> Result<()> {
        Err(unsupported("virDomainSaveFlags"))
    }
    /// `virDomainRestoreFlags`.
    fn restore(&self, _from: &str, _dxml: Option<&str>, _flags: u32) -> Result<()> {
        Err(unsupported("virDomainRestoreFlags"))
    }
    /// `virDomainSaveImageGetXMLDesc`.
    fn save_image_get_xml_desc(&self, _file: &str, _flags: u32) -> Result<String> {
        Err(unsupported("virDomainSaveImageGetXMLDesc"))
    }
    /// `virDomainSaveImageDefineXML`.
    fn save_image_define_xml(&self, _file: &str, _dxml: &str, _flags: u32) -> Result<()> {
        Err(unsupported("virDomainSaveImageDefineXML"))
    }
    /// `virDomainManagedSave`.
    fn managed_save(&self, _dom: &DomainRef, _flags: u32) -> Result<()> {
        Err(unsupported("virDomainManagedSave"))
    }
    /// `virDomainManagedSaveRemove`.
    fn managed_save_remove(&self, _dom: &DomainRef, _flags: u32) -> Result<()> {
        Err(unsupported("virDomainManagedSaveRemove"))
    }
    /// `virDomainCoreDumpWithFormat` (`virDomainCoreDump` is this with
    /// the raw format).
    fn core_dump(&self, _dom: &DomainRef, _to: &str, _format: u32, _flags: u32) -> Result<()> {
        Err(unsupported("virDomainCoreDumpWithFormat"))
    }
}
