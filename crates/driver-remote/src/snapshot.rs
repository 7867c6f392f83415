//! The snapshot entry points over the wire: each `SnapshotDriver` call is
//! its `REMOTE_PROC_DOMAIN_SNAPSHOT_*` procedure (libvirt's remote_driver.c,
//! generated and hand-written parts).

use crate::conn::{nonnull, RemoteConnection};
use rvirt::driver::{DomainRef, SnapshotDriver};
use rvirt_rpc::remote::RemoteCalls;
use rvirt_rpc::remote::*;
use rvirt_util::Result;

fn snap(d: &DomainRef, name: &str) -> NonnullDomainSnapshot {
    NonnullDomainSnapshot {
        name: name.to_string(),
        dom: nonnull(d),
    }
}

/// `maxnames` on the wire: the caller's bound, or the protocol's when the
/// caller wants every name.
fn maxnames(max: Option<usize>) -> i32 {
    max.unwrap_or(DOMAIN_SNAPSHOT_LIST_MAX)
        .min(i32::MAX as usize) as i32
}

impl SnapshotDriver for RemoteConnection {
    fn create_xml(&self, d: &DomainRef, xml: &str, flags: u32) -> Result<String> {
        let args = DomainSnapshotCreateXmlArgs {
            dom: nonnull(d),
            xml_desc: xml.to_string(),
            flags,
        };
        Ok(self.call_domain_snapshot_create_xml(&args)?.snap.name)
    }
    fn num(&self, d: &DomainRef, flags: u32) -> Result<i32> {
        let args = DomainSnapshotNumArgs {
            dom: nonnull(d),
            flags,
        };
        Ok(self.call_domain_snapshot_num(&args)?.num)
    }
    fn list_names(&self, d: &DomainRef, max: Option<usize>, flags: u32) -> Result<Vec<String>> {
        if max.is_none() {
            let args = DomainListAllSnapshotsArgs {
                dom: nonnull(d),
                need_results: 1,
                flags,
            };
            let r = self.call_domain_list_all_snapshots(&args)?;
            return Ok(r.snapshots.into_iter().map(|s| s.name).collect());
        }
        let args = DomainSnapshotListNamesArgs {
            dom: nonnull(d),
            maxnames: maxnames(max),
            flags,
        };
        Ok(self.call_domain_snapshot_list_names(&args)?.names)
    }
    fn num_children(&self, d: &DomainRef, name: &str, flags: u32) -> Result<i32> {
        let args = DomainSnapshotNumChildrenArgs {
            snap: snap(d, name),
            flags,
        };
        Ok(self.call_domain_snapshot_num_children(&args)?.num)
    }
    fn list_children_names(
        &self,
        d: &DomainRef,
        name: &str,
        max: Option<usize>,
        flags: u32,
    ) -> Result<Vec<String>> {
        if max.is_none() {
            let args = DomainSnapshotListAllChildrenArgs {
                snapshot: snap(d, name),
                need_results: 1,
                flags,
            };
            let r = self.call_domain_snapshot_list_all_children(&args)?;
            return Ok(r.snapshots.into_iter().map(|s| s.name).collect());
        }
        let args = DomainSnapshotListChildrenNamesArgs {
            snap: snap(d, name),
            maxnames: maxnames(max),
            flags,
        };
        Ok(self.call_domain_snapshot_list_children_names(&args)?.names)
    }
    fn lookup_by_name(&self, d: &DomainRef, name: &str, flags: u32) -> Result<String> {
        let args = DomainSnapshotLookupByNameArgs {
            dom: nonnull(d),
            name: name.to_string(),
            flags,
        };
        Ok(self.call_domain_snapshot_lookup_by_name(&args)?.snap.name)
    }
    fn has_current(&self, d: &DomainRef, flags: u32) -> Result<bool> {
        let args = DomainHasCurrentSnapshotArgs {
            dom: nonnull(d),
            flags,
        };
        Ok(self.call_domain_has_current_snapshot(&args)?.result != 0)
    }
    fn current(&self, d: &DomainRef, flags: u32) -> Result<String> {
        let args = DomainSnapshotCurrentArgs {
            dom: nonnull(d),
            flags,
        };
        Ok(self.call_domain_snapshot_current(&args)?.snap.name)
    }
    fn get_parent(&self, d: &DomainRef, name: &str, flags: u32) -> Result<String> {
        let args = DomainSnapshotGetParentArgs {
            snap: snap(d, name),
            flags,
        };
        Ok(self.call_domain_snapshot_get_parent(&args)?.snap.name)
    }
    fn get_xml_desc(&self, d: &DomainRef, name: &str, flags: u32) -> Result<String> {
        let args = DomainSnapshotGetXmlDescArgs {
            snap: snap(d, name),
            flags,
        };
        Ok(self.call_domain_snapshot_get_xml_desc(&args)?.xml)
    }
    fn is_current(&self, d: &DomainRef, name: &str, flags: u32) -> Result<bool> {
        let args = DomainSnapshotIsCurrentArgs {
            snap: snap(d, name),
            flags,
        };
        Ok(self.call_domain_snapshot_is_current(&args)?.current != 0)
    }
    fn has_metadata(&self, d: &DomainRef, name: &str, flags: u32) -> Result<bool> {
        let args = DomainSnapshotHasMetadataArgs {
            snap: snap(d, name),
            flags,
        };
        Ok(self.call_domain_snapshot_has_metadata(&args)?.metadata != 0)
    }
    fn revert(&self, d: &DomainRef, name: &str, flags: u32) -> Result<()> {
        let args = DomainRevertToSnapshotArgs {
            snap: snap(d, name),
            flags,
        };
        self.call_domain_revert_to_snapshot(&args)
    }
    fn delete(&self, d: &DomainRef, name: &str, flags: u32) -> Result<()> {
        let args = DomainSnapshotDeleteArgs {
            snap: snap(d, name),
            flags,
        };
        self.call_domain_snapshot_delete(&args)
    }
}
