//! Domain snapshot procedures (`REMOTE_PROC_DOMAIN_SNAPSHOT_*`,
//! `DOMAIN_LIST_ALL_SNAPSHOTS`, `DOMAIN_HAS_CURRENT_SNAPSHOT`,
//! `DOMAIN_REVERT_TO_SNAPSHOT`): each calls the public API on the handle
//! the wire names, as libvirtd's generated and hand-written dispatchers do.

use super::{dispatch_table, rpc_error, Client};
use rvirt::snapshot::ERROR_DOMAIN;
use rvirt::DomainSnapshot;
use rvirt_rpc::remote::*;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

dispatch_table! {
    DomainSnapshotCreateXml => |cx, a| {
        let snap = cx.domain(&a.dom)?.snapshot_create_xml(&a.xml_desc, a.flags)?;
        Ok(DomainSnapshotCreateXmlRet { snap: wire(&snap) })
    };
    DomainSnapshotGetXmlDesc => |cx, a| {
        Ok(DomainSnapshotGetXmlDescRet { xml: handle(cx, &a.snap)?.get_xml_desc(a.flags)? })
    };
    DomainSnapshotNum => |cx, a| {
        Ok(DomainSnapshotNumRet { num: cx.domain(&a.dom)?.snapshot_num(a.flags)? })
    };
    DomainSnapshotListNames => |cx, a| {
        let max = names_max(a.maxnames, "virDomainSnapshotListNames")?;
        Ok(DomainSnapshotListNamesRet {
            names: cx.domain(&a.dom)?.snapshot_list_names(max, a.flags)?,
        })
    };
    DomainListAllSnapshots => |cx, a| {
        let snaps = cx.domain(&a.dom)?.list_all_snapshots(a.flags)?;
        all_ret(snaps, a.need_results != 0).map(|(snapshots, ret)| {
            DomainListAllSnapshotsRet { snapshots, ret }
        })
    };
    DomainSnapshotNumChildren => |cx, a| {
        Ok(DomainSnapshotNumChildrenRet { num: handle(cx, &a.snap)?.num_children(a.flags)? })
    };
    DomainSnapshotListChildrenNames => |cx, a| {
        let max = names_max(a.maxnames, "virDomainSnapshotListChildrenNames")?;
        Ok(DomainSnapshotListChildrenNamesRet {
            names: handle(cx, &a.snap)?.list_children_names(max, a.flags)?,
        })
    };
    DomainSnapshotListAllChildren => |cx, a| {
        let snaps = handle(cx, &a.snapshot)?.list_all_children(a.flags)?;
        all_ret(snaps, a.need_results != 0).map(|(snapshots, ret)| {
            DomainSnapshotListAllChildrenRet { snapshots, ret }
        })
    };
    DomainSnapshotLookupByName => |cx, a| {
        let snap = cx.domain(&a.dom)?.snapshot_lookup_by_name(&a.name, a.flags)?;
        Ok(DomainSnapshotLookupByNameRet { snap: wire(&snap) })
    };
    DomainHasCurrentSnapshot => |cx, a| {
        let result = cx.domain(&a.dom)?.has_current_snapshot(a.flags)? as i32;
        Ok(DomainHasCurrentSnapshotRet { result })
    };
    DomainSnapshotGetParent => |cx, a| {
        Ok(DomainSnapshotGetParentRet { snap: wire(&handle(cx, &a.snap)?.get_parent(a.flags)?) })
    };
    DomainSnapshotCurrent => |cx, a| {
        Ok(DomainSnapshotCurrentRet { snap: wire(&cx.domain(&a.dom)?.snapshot_current(a.flags)?) })
    };
    DomainSnapshotIsCurrent => |cx, a| {
        Ok(DomainSnapshotIsCurrentRet { current: handle(cx, &a.snap)?.is_current(a.flags)? as i32 })
    };
    DomainSnapshotHasMetadata => |cx, a| {
        let metadata = handle(cx, &a.snap)?.has_metadata(a.flags)? as i32;
        Ok(DomainSnapshotHasMetadataRet { metadata })
    };
    DomainRevertToSnapshot => |cx, a| handle(cx, &a.snap)?.revert(a.flags);
    DomainSnapshotDelete => |cx, a| handle(cx, &a.snap)?.delete(a.flags);
}

/// The snapshot a `remote_nonnull_domain_snapshot` names.
fn handle(cx: &Client, s: &NonnullDomainSnapshot) -> Result<DomainSnapshot> {
    Ok(DomainSnapshot::from_name(
        &cx.domain(&s.dom)?,
        s.name.clone(),
    ))
}

fn wire(s: &DomainSnapshot) -> NonnullDomainSnapshot {
    NonnullDomainSnapshot {
        name: s.name().to_string(),
        dom: super::nonnull(s.domain()),
    }
}

/// The generated dispatchers' bound on `maxnames`, and the public API's
/// refusal of a negative one.
fn names_max(max: i32, api: &str) -> Result<usize> {
    if max < 0 {
        return Err(Error::invalid_arg(
            ERROR_DOMAIN,
            format!("nameslen in {api} must be greater than or equal to 0"),
        ));
    }
    if max as usize > DOMAIN_SNAPSHOT_LIST_MAX {
        return Err(rpc_error("maxnames > REMOTE_DOMAIN_SNAPSHOT_LIST_MAX"));
    }
    Ok(max as usize)
}

/// `remoteDispatchDomainListAllSnapshots`: the count always, the handles
/// only when asked for.
fn all_ret(snaps: Vec<DomainSnapshot>, need: bool) -> Result<(Vec<NonnullDomainSnapshot>, i32)> {
    if snaps.len() > DOMAIN_SNAPSHOT_LIST_MAX {
        return Err(Error::new(
            ErrorDomain::RPC,
            ErrorCode::RPC,
            format!(
                "Too many domain snapshots '{}' for limit '{DOMAIN_SNAPSHOT_LIST_MAX}'",
                snaps.len()
            ),
        ));
    }
    let ret = snaps.len() as i32;
    let list = if need {
        snaps.iter().map(wire).collect()
    } else {
        Vec::new()
    };
    Ok((list, ret))
}
