//! The snapshot entry points of `virHypervisorDriver`
//! (`domainSnapshot*`, `domainListAllSnapshots`, `domainRevertToSnapshot`):
//! a driver that keeps snapshots implements this trait and hands it out
//! through [`super::HypervisorConnection::snapshots`]; one that does not
//! leaves that `None` and every call reports `VIR_ERR_NO_SUPPORT`.
//!
//! A snapshot is named by its domain and its name, as libvirt's
//! `virDomainSnapshotPtr` (and `remote_nonnull_domain_snapshot`) carry it.

use super::DomainRef;
use rvirt_util::Result;

pub trait SnapshotDriver: Send + Sync {
    /// `virDomainSnapshotCreateXML`: the new (or redefined) snapshot's name.
    fn create_xml(&self, dom: &DomainRef, xml: &str, flags: u32) -> Result<String>;
    /// `virDomainSnapshotNum`.
    fn num(&self, dom: &DomainRef, flags: u32) -> Result<i32>;
    /// `virDomainSnapshotListNames` / `virDomainListAllSnapshots`: at most
    /// `max` names (`None`: all).
    fn list_names(&self, dom: &DomainRef, max: Option<usize>, flags: u32) -> Result<Vec<String>>;
    /// `virDomainSnapshotNumChildren`.
    fn num_children(&self, dom: &DomainRef, snap: &str, flags: u32) -> Result<i32>;
    /// `virDomainSnapshotListChildrenNames` / `virDomainSnapshotListAllChildren`.
    fn list_children_names(
        &self,
        dom: &DomainRef,
        snap: &str,
        max: Option<usize>,
        flags: u32,
    ) -> Result<Vec<String>>;
    /// `virDomainSnapshotLookupByName`: the name, once found.
    fn lookup_by_name(&self, dom: &DomainRef, name: &str, flags: u32) -> Result<String>;
    /// `virDomainHasCurrentSnapshot`.
    fn has_current(&self, dom: &DomainRef, flags: u32) -> Result<bool>;
    /// `virDomainSnapshotCurrent`: the current snapshot's name.
    fn current(&self, dom: &DomainRef, flags: u32) -> Result<String>;
    /// `virDomainSnapshotGetParent`: the parent's name.
    fn get_parent(&self, dom: &DomainRef, snap: &str, flags: u32) -> Result<String>;
    /// `virDomainSnapshotGetXMLDesc`.
    fn get_xml_desc(&self, dom: &DomainRef, snap: &str, flags: u32) -> Result<String>;
    /// `virDomainSnapshotIsCurrent`.
    fn is_current(&self, dom: &DomainRef, snap: &str, flags: u32) -> Result<bool>;
    /// `virDomainSnapshotHasMetadata`.
    fn has_metadata(&self, dom: &DomainRef, snap: &str, flags: u32) -> Result<bool>;
    /// `virDomainRevertToSnapshot`.
    fn revert(&self, dom: &DomainRef, snap: &str, flags: u32) -> Result<()>;
    /// `virDomainSnapshotDelete`.
    fn delete(&self, dom: &DomainRef, snap: &str, flags: u32) -> Result<()>;
}
