//! The checkpoint entry points over the wire: each `CheckpointDriver` call
//! is its `REMOTE_PROC_DOMAIN_CHECKPOINT_*` procedure (libvirt's
//! remote_driver.c).

use crate::conn::{nonnull, RemoteConnection};
use rvirt::driver::{CheckpointDriver, DomainRef};
use rvirt_rpc::remote::RemoteCalls;
use rvirt_rpc::remote::*;
use rvirt_util::Result;

fn chk(d: &DomainRef, name: &str) -> NonnullDomainCheckpoint {
    NonnullDomainCheckpoint {
        name: name.to_string(),
        dom: nonnull(d),
    }
}

impl CheckpointDriver for RemoteConnection {
    fn create_xml(&self, d: &DomainRef, xml: &str, flags: u32) -> Result<String> {
        let args = DomainCheckpointCreateXmlArgs {
            dom: nonnull(d),
            xml_desc: xml.to_string(),
            flags,
        };
        Ok(self
            .call_domain_checkpoint_create_xml(&args)?
            .checkpoint
            .name)
    }
    fn list_names(&self, d: &DomainRef, flags: u32) -> Result<Vec<String>> {
        let args = DomainListAllCheckpointsArgs {
            dom: nonnull(d),
            need_results: 1,
            flags,
        };
        let r = self.call_domain_list_all_checkpoints(&args)?;
        Ok(r.checkpoints.into_iter().map(|c| c.name).collect())
    }
    fn list_children_names(&self, d: &DomainRef, name: &str, flags: u32) -> Result<Vec<String>> {
        let args = DomainCheckpointListAllChildrenArgs {
            checkpoint: chk(d, name),
            need_results: 1,
            flags,
        };
        let r = self.call_domain_checkpoint_list_all_children(&args)?;
        Ok(r.checkpoints.into_iter().map(|c| c.name).collect())
    }
    fn lookup_by_name(&self, d: &DomainRef, name: &str, flags: u32) -> Result<String> {
        let args = DomainCheckpointLookupByNameArgs {
            dom: nonnull(d),
            name: name.to_string(),
            flags,
        };
        Ok(self
            .call_domain_checkpoint_lookup_by_name(&args)?
            .checkpoint
            .name)
    }
    fn get_parent(&self, d: &DomainRef, name: &str, flags: u32) -> Result<String> {
        let args = DomainCheckpointGetParentArgs {
            checkpoint: chk(d, name),
            flags,
        };
        Ok(self.call_domain_checkpoint_get_parent(&args)?.parent.name)
    }
    fn get_xml_desc(&self, d: &DomainRef, name: &str, flags: u32) -> Result<String> {
        let args = DomainCheckpointGetXmlDescArgs {
            checkpoint: chk(d, name),
            flags,
        };
        Ok(self.call_domain_checkpoint_get_xml_desc(&args)?.xml)
    }
    fn delete(&self, d: &DomainRef, name: &str, flags: u32) -> Result<()> {
        let args = DomainCheckpointDeleteArgs {
            checkpoint: chk(d, name),
            flags,
        };
        self.call_domain_checkpoint_delete(&args)
    }
}
