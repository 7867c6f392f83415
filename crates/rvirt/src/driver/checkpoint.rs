//! The checkpoint entry points of `virHypervisorDriver`
//! (`domainCheckpoint*`, `domainListAllCheckpoints`): a driver that keeps
//! checkpoints implements this trait and hands it out through
//! [`super::HypervisorConnection::checkpoints`]; one that does not leaves
//! that `None` and every call reports `VIR_ERR_NO_SUPPORT`.
//!
//! A checkpoint is named by its domain and its name, as libvirt's
//! `virDomainCheckpointPtr` (and `remote_nonnull_domain_checkpoint`)
//! carry it.

use super::DomainRef;
use rvirt_util::Result;

pub trait CheckpointDriver: Send + Sync {
    /// `virDomainCheckpointCreateXML`: the new (or redefined) checkpoint's
    /// name.
    fn create_xml(&self, dom: &DomainRef, xml: &str, flags: u32) -> Result<String>;
    /// `virDomainListAllCheckpoints`: the names.
    fn list_names(&self, dom: &DomainRef, flags: u32) -> Result<Vec<String>>;
    /// `virDomainCheckpointListAllChildren`: the names.
    fn list_children_names(&self, dom: &DomainRef, chk: &str, flags: u32) -> Result<Vec<String>>;
    /// `virDomainCheckpointLookupByName`: the name, once found.
    fn lookup_by_name(&self, dom: &DomainRef, name: &str, flags: u32) -> Result<String>;
    /// `virDomainCheckpointGetParent`: the parent's name.
    fn get_parent(&self, dom: &DomainRef, chk: &str, flags: u32) -> Result<String>;
    /// `virDomainCheckpointGetXMLDesc`.
    fn get_xml_desc(&self, dom: &DomainRef, chk: &str, flags: u32) -> Result<String>;
    /// `virDomainCheckpointDelete`.
    fn delete(&self, dom: &DomainRef, chk: &str, flags: u32) -> Result<()>;
}
