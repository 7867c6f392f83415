//! `DomainCheckpoint`: a handle on one checkpoint of a domain, as
//! `virDomainCheckpointPtr`, and the checkpoint calls of `Domain`
//! (libvirt's src/libvirt-domain-checkpoint.c), with the public API's own
//! checks (read-only connections, exclusive and required flags) before
//! the driver sees the call.

use crate::driver::CheckpointDriver;
use crate::flags::{checkpoint_create as create, checkpoint_delete as delete};
use crate::snapshot::{exclusive_in, require_in};
use crate::Domain;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_FROM_DOMAIN_CHECKPOINT`.
pub const ERROR_DOMAIN: ErrorDomain = ErrorDomain(69);

#[derive(Clone, Debug)]
pub struct DomainCheckpoint {
    dom: Domain,
    name: String,
}

impl Domain {
    /// The driver's checkpoint entry points, or libvirt's "not supported"
    /// naming `api`.
    fn checkpoint_driver(&self, api: &str) -> Result<&dyn CheckpointDriver> {
        self.connect()
            .driver()
            .checkpoints()
            .ok_or_else(|| crate::driver::unsupported(api))
    }

    fn checkpoint(&self, name: String) -> DomainCheckpoint {
        DomainCheckpoint {
            dom: self.clone(),
            name,
        }
    }

    /// `virDomainCheckpointCreateXML`.
    pub fn checkpoint_create_xml(&self, xml: &str, flags: u32) -> Result<DomainCheckpoint> {
        self.connect()
            .check_writable("virDomainCheckpointCreateXML")?;
        exclusive_in(
            ERROR_DOMAIN,
            flags,
            (create::REDEFINE, "VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE"),
            (create::QUIESCE, "VIR_DOMAIN_CHECKPOINT_CREATE_QUIESCE"),
        )?;
        require_in(
            ERROR_DOMAIN,
            flags,
            (
                create::REDEFINE_VALIDATE,
                "VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE_VALIDATE",
            ),
            (create::REDEFINE, "VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE"),
        )?;
        let d = self.checkpoint_driver("virDomainCheckpointCreateXML")?;
        Ok(self.checkpoint(d.create_xml(self.domain_ref(), xml, flags)?))
    }

    /// `virDomainListAllCheckpoints`.
    pub fn list_all_checkpoints(&self, flags: u32) -> Result<Vec<DomainCheckpoint>> {
        let names = self
            .checkpoint_driver("virDomainListAllCheckpoints")?
            .list_names(self.domain_ref(), flags)?;
        Ok(names.into_iter().map(|n| self.checkpoint(n)).collect())
    }

    /// `virDomainCheckpointLookupByName`.
    pub fn checkpoint_lookup_by_name(&self, name: &str, flags: u32) -> Result<DomainCheckpoint> {
        let d = self.checkpoint_driver("virDomainCheckpointLookupByName")?;
        Ok(self.checkpoint(d.lookup_by_name(self.domain_ref(), name, flags)?))
    }
}

impl DomainCheckpoint {
    /// A handle for a checkpoint whose name is already known (the daemon
    /// rebuilds handles from `remote_nonnull_domain_checkpoint` this way).
    pub fn from_name(dom: &Domain, name: impl Into<String>) -> DomainCheckpoint {
        dom.checkpoint(name.into())
    }

    /// `virDomainCheckpointGetName`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `virDomainCheckpointGetDomain`.
    pub fn domain(&self) -> &Domain {
        &self.dom
    }

    fn driver(&self, api: &str) -> Result<&dyn CheckpointDriver> {
        self.dom.checkpoint_driver(api)
    }

    /// `virDomainCheckpointGetXMLDesc`; a secure dump is refused on a
    /// read-only connection.
    pub fn get_xml_desc(&self, flags: u32) -> Result<String> {
        if flags & crate::flags::checkpoint_xml::SECURE != 0 && self.dom.connect().is_read_only() {
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::OPERATION_DENIED,
                "virDomainCheckpointGetXMLDesc with secure flag",
            ));
        }
        self.driver("virDomainCheckpointGetXMLDesc")?.get_xml_desc(
            self.dom.domain_ref(),
            &self.name,
            flags,
        )
    }

    /// `virDomainCheckpointGetParent`.
    pub fn get_parent(&self, flags: u32) -> Result<DomainCheckpoint> {
        let d = self.driver("virDomainCheckpointGetParent")?;
        let parent = d.get_parent(self.dom.domain_ref(), &self.name, flags)?;
        Ok(self.dom.checkpoint(parent))
    }

    /// `virDomainCheckpointListAllChildren`.
    pub fn list_all_children(&self, flags: u32) -> Result<Vec<DomainCheckpoint>> {
        let names = self
            .driver("virDomainCheckpointListAllChildren")?
            .list_children_names(self.dom.domain_ref(), &self.name, flags)?;
        Ok(names.into_iter().map(|n| self.dom.checkpoint(n)).collect())
    }

    /// `virDomainCheckpointDelete`.
    pub fn delete(&self, flags: u32) -> Result<()> {
        self.dom
            .connect()
            .check_writable("virDomainCheckpointDelete")?;
        exclusive_in(
            ERROR_DOMAIN,
            flags,
            (delete::CHILDREN, "VIR_DOMAIN_CHECKPOINT_DELETE_CHILDREN"),
            (
                delete::CHILDREN_ONLY,
                "VIR_DOMAIN_CHECKPOINT_DELETE_CHILDREN_ONLY",
            ),
        )?;
        self.driver("virDomainCheckpointDelete")?
            .delete(self.dom.domain_ref(), &self.name, flags)
    }
}
