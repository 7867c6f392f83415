//! `DomainSnapshot`: a handle on one snapshot of a domain, as
//! `virDomainSnapshotPtr`, and the snapshot calls of `Domain`
//! (libvirt's src/libvirt-domain-snapshot.c), with the public API's own
//! checks (read-only connections, exclusive and required flags) before
//! the driver sees the call.

use crate::driver::SnapshotDriver;
use crate::flags::snapshot_revert as revert;
use crate::flags::{snapshot_create as create, snapshot_delete as delete};
use crate::Domain;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_FROM_DOMAIN_SNAPSHOT`.
pub const ERROR_DOMAIN: ErrorDomain = ErrorDomain(35);

#[derive(Clone, Debug)]
pub struct DomainSnapshot {
    dom: Domain,
    name: String,
}

/// `VIR_EXCLUSIVE_FLAGS_GOTO` (`virReportInvalidArg`: no "invalid
/// argument" prefix).
fn exclusive(flags: u32, a: (u32, &str), b: (u32, &str)) -> Result<()> {
    exclusive_in(ERROR_DOMAIN, flags, a, b)
}

/// [`exclusive`] reported from `domain` (the checkpoint API's own).
pub(crate) fn exclusive_in(
    domain: ErrorDomain,
    flags: u32,
    a: (u32, &str),
    b: (u32, &str),
) -> Result<()> {
    if flags & a.0 != 0 && flags & b.0 != 0 {
        return Err(Error::raw(
            domain,
            ErrorCode::INVALID_ARG,
            format!("Flags '{}' and '{}' are mutually exclusive", a.1, b.1),
        ));
    }
    Ok(())
}

/// `VIR_REQUIRE_FLAG_GOTO`: `flag` needs `needed`.
fn require(flags: u32, flag: (u32, &str), needed: (u32, &str)) -> Result<()> {
    require_in(ERROR_DOMAIN, flags, flag, needed)
}

/// [`require`] reported from `domain`.
pub(crate) fn require_in(
    domain: ErrorDomain,
    flags: u32,
    flag: (u32, &str),
    needed: (u32, &str),
) -> Result<()> {
    if flags & flag.0 != 0 && flags & needed.0 == 0 {
        return Err(Error::raw(
            domain,
            ErrorCode::INVALID_ARG,
            format!("Flag '{}' is required by flag '{}'", needed.1, flag.1),
        ));
    }
    Ok(())
}

/// `virDomainSnapshotGetXMLDesc`'s refusal of a secure dump read-only.
fn check_secure(dom: &Domain, flags: u32) -> Result<()> {
    if flags & crate::flags::xml::SECURE != 0 && dom.connect().is_read_only() {
        return Err(Error::new(
            ERROR_DOMAIN,
            ErrorCode::OPERATION_DENIED,
            "virDomainSnapshotGetXMLDesc with secure flag",
        ));
    }
    Ok(())
}

impl Domain {
    /// The driver's snapshot entry points, or libvirt's "not supported"
    /// naming `api`.
    fn snapshot_driver(&self, api: &str) -> Result<&dyn SnapshotDriver> {
        self.connect()
            .driver()
            .snapshots()
            .ok_or_else(|| crate::driver::unsupported(api))
    }

    fn snapshot(&self, name: String) -> DomainSnapshot {
        DomainSnapshot {
            dom: self.clone(),
            name,
        }
    }

    /// `virDomainSnapshotCreateXML`.
    pub fn snapshot_create_xml(&self, xml: &str, flags: u32) -> Result<DomainSnapshot> {
        self.connect()
            .check_writable("virDomainSnapshotCreateXML")?;
        let c = |f: u32, n: &'static str| (f, n);
        require(
            flags,
            c(create::CURRENT, "VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT"),
            c(create::REDEFINE, "VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE"),
        )?;
        for other in [
            c(
                create::NO_METADATA,
                "VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA",
            ),
            c(create::HALT, "VIR_DOMAIN_SNAPSHOT_CREATE_HALT"),
        ] {
            exclusive(
                flags,
                c(create::REDEFINE, "VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE"),
                other,
            )?;
        }
        let d = self.snapshot_driver("virDomainSnapshotCreateXML")?;
        Ok(self.snapshot(d.create_xml(self.domain_ref(), xml, flags)?))
    }

    /// `virDomainSnapshotNum`.
    pub fn snapshot_num(&self, flags: u32) -> Result<i32> {
        self.snapshot_driver("virDomainSnapshotNum")?
            .num(self.domain_ref(), flags)
    }

    /// `virDomainSnapshotListNames`: at most `max` names.
    pub fn snapshot_list_names(&self, max: usize, flags: u32) -> Result<Vec<String>> {
        self.snapshot_driver("virDomainSnapshotListNames")?
            .list_names(self.domain_ref(), Some(max), flags)
    }

    /// `virDomainListAllSnapshots`.
    pub fn list_all_snapshots(&self, flags: u32) -> Result<Vec<DomainSnapshot>> {
        let names = self
            .snapshot_driver("virDomainListAllSnapshots")?
            .list_names(self.domain_ref(), None, flags)?;
        Ok(names.into_iter().map(|n| self.snapshot(n)).collect())
    }

    /// `virDomainSnapshotLookupByName`.
    pub fn snapshot_lookup_by_name(&self, name: &str, flags: u32) -> Result<DomainSnapshot> {
        let d = self.snapshot_driver("virDomainSnapshotLookupByName")?;
        Ok(self.snapshot(d.lookup_by_name(self.domain_ref(), name, flags)?))
    }

    /// `virDomainHasCurrentSnapshot`.
    pub fn has_current_snapshot(&self, flags: u32) -> Result<bool> {
        self.snapshot_driver("virDomainHasCurrentSnapshot")?
            .has_current(self.domain_ref(), flags)
    }

    /// `virDomainSnapshotCurrent`.
    pub fn snapshot_current(&self, flags: u32) -> Result<DomainSnapshot> {
        let d = self.snapshot_driver("virDomainSnapshotCurrent")?;
        Ok(self.snapshot(d.current(self.domain_ref(), flags)?))
    }
}

impl DomainSnapshot {
    /// A handle for a snapshot whose name is already known (the daemon
    /// rebuilds handles from `remote_nonnull_domain_snapshot` this way).
    pub fn from_name(dom: &Domain, name: impl Into<String>) -> DomainSnapshot {
        dom.snapshot(name.into())
    }

    /// `virDomainSnapshotGetName`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `virDomainSnapshotGetDomain`.
    pub fn domain(&self) -> &Domain {
        &self.dom
    }

    fn driver(&self, api: &str) -> Result<&dyn SnapshotDriver> {
        self.dom.snapshot_driver(api)
    }

    /// `virDomainSnapshotGetXMLDesc`.
    pub fn get_xml_desc(&self, flags: u32) -> Result<String> {
        check_secure(&self.dom, flags)?;
        self.driver("virDomainSnapshotGetXMLDesc")?.get_xml_desc(
            self.dom.domain_ref(),
            &self.name,
            flags,
        )
    }

    /// `virDomainSnapshotGetParent`.
    pub fn get_parent(&self, flags: u32) -> Result<DomainSnapshot> {
        let d = self.driver("virDomainSnapshotGetParent")?;
        let parent = d.get_parent(self.dom.domain_ref(), &self.name, flags)?;
        Ok(self.dom.snapshot(parent))
    }

    /// `virDomainSnapshotNumChildren`.
    pub fn num_children(&self, flags: u32) -> Result<i32> {
        self.driver("virDomainSnapshotNumChildren")?.num_children(
            self.dom.domain_ref(),
            &self.name,
            flags,
        )
    }

    /// `virDomainSnapshotListChildrenNames`: at most `max` names.
    pub fn list_children_names(&self, max: usize, flags: u32) -> Result<Vec<String>> {
        self.driver("virDomainSnapshotListChildrenNames")?
            .list_children_names(self.dom.domain_ref(), &self.name, Some(max), flags)
    }

    /// `virDomainSnapshotListAllChildren`.
    pub fn list_all_children(&self, flags: u32) -> Result<Vec<DomainSnapshot>> {
        let names = self
            .driver("virDomainSnapshotListAllChildren")?
            .list_children_names(self.dom.domain_ref(), &self.name, None, flags)?;
        Ok(names.into_iter().map(|n| self.dom.snapshot(n)).collect())
    }

    /// `virDomainSnapshotIsCurrent`.
    pub fn is_current(&self, flags: u32) -> Result<bool> {
        self.driver("virDomainSnapshotIsCurrent")?.is_current(
            self.dom.domain_ref(),
            &self.name,
            flags,
        )
    }

    /// `virDomainSnapshotHasMetadata`.
    pub fn has_metadata(&self, flags: u32) -> Result<bool> {
        self.driver("virDomainSnapshotHasMetadata")?.has_metadata(
            self.dom.domain_ref(),
            &self.name,
            flags,
        )
    }

    /// `virDomainRevertToSnapshot`.
    pub fn revert(&self, flags: u32) -> Result<()> {
        self.dom
            .connect()
            .check_writable("virDomainRevertToSnapshot")?;
        exclusive(
            flags,
            (revert::RUNNING, "VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING"),
            (revert::PAUSED, "VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED"),
        )?;
        self.driver("virDomainRevertToSnapshot")?
            .revert(self.dom.domain_ref(), &self.name, flags)
    }

    /// `virDomainSnapshotDelete`.
    pub fn delete(&self, flags: u32) -> Result<()> {
        self.dom
            .connect()
            .check_writable("virDomainSnapshotDelete")?;
        exclusive(
            flags,
            (delete::CHILDREN, "VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN"),
            (
                delete::CHILDREN_ONLY,
                "VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY",
            ),
        )?;
        self.driver("virDomainSnapshotDelete")?
            .delete(self.dom.domain_ref(), &self.name, flags)
    }
}
