//! Domain checkpoint procedures (`REMOTE_PROC_DOMAIN_CHECKPOINT_*`,
//! `DOMAIN_LIST_ALL_CHECKPOINTS`): each calls the public API on the handle
//! the wire names, as libvirtd's generated and hand-written dispatchers do.

use super::{dispatch_table, Client};
use rvirt::DomainCheckpoint;
use rvirt_rpc::remote::*;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

dispatch_table! {
    DomainCheckpointCreateXml => |cx, a| {
        let chk = cx.domain(&a.dom)?.checkpoint_create_xml(&a.xml_desc, a.flags)?;
        Ok(DomainCheckpointCreateXmlRet { checkpoint: wire(&chk) })
    };
    DomainCheckpointGetXmlDesc => |cx, a| {
        Ok(DomainCheckpointGetXmlDescRet { xml: handle(cx, &a.checkpoint)?.get_xml_desc(a.flags)? })
    };
    DomainListAllCheckpoints => |cx, a| {
        let chks = cx.domain(&a.dom)?.list_all_checkpoints(a.flags)?;
        all_ret(chks, a.need_results != 0).map(|(checkpoints, ret)| {
            DomainListAllCheckpointsRet { checkpoints, ret }
        })
    };
    DomainCheckpointListAllChildren => |cx, a| {
        let chks = handle(cx, &a.checkpoint)?.list_all_children(a.flags)?;
        all_ret(chks, a.need_results != 0).map(|(checkpoints, ret)| {
            DomainCheckpointListAllChildrenRet { checkpoints, ret }
        })
    };
    DomainCheckpointLookupByName => |cx, a| {
        let chk = cx.domain(&a.dom)?.checkpoint_lookup_by_name(&a.name, a.flags)?;
        Ok(DomainCheckpointLookupByNameRet { checkpoint: wire(&chk) })
    };
    DomainCheckpointGetParent => |cx, a| {
        let parent = handle(cx, &a.checkpoint)?.get_parent(a.flags)?;
        Ok(DomainCheckpointGetParentRet { parent: wire(&parent) })
    };
    DomainCheckpointDelete => |cx, a| handle(cx, &a.checkpoint)?.delete(a.flags);
}

/// The checkpoint a `remote_nonnull_domain_checkpoint` names.
fn handle(cx: &Client, c: &NonnullDomainCheckpoint) -> Result<DomainCheckpoint> {
    Ok(DomainCheckpoint::from_name(
        &cx.domain(&c.dom)?,
        c.name.clone(),
    ))
}

fn wire(c: &DomainCheckpoint) -> NonnullDomainCheckpoint {
    NonnullDomainCheckpoint {
        name: c.name().to_string(),
        dom: super::nonnull(c.domain()),
    }
}

/// `remoteDispatchDomainListAllCheckpoints`: the count always, the
/// handles only when asked for.
fn all_ret(chks: Vec<DomainCheckpoint>, need: bool) -> Result<(Vec<NonnullDomainCheckpoint>, i32)> {
    if chks.len() > DOMAIN_CHECKPOINT_LIST_MAX {
        return Err(Error::new(
            ErrorDomain::RPC,
            ErrorCode::RPC,
            format!(
                "Too many domain checkpoints '{}' for limit '{DOMAIN_CHECKPOINT_LIST_MAX}'",
                chks.len()
            ),
        ));
    }
    let ret = chks.len() as i32;
    let list = if need {
        chks.iter().map(wire).collect()
    } else {
        Vec::new()
    };
    Ok((list, ret))
}
