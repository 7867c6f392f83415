//! Block dirty bitmaps in storage migration, as libvirt 9.0 moves them
//! (`qemu_migration.c`): begin offers the persistent, recording, consistent
//! bitmaps of each copied disk's format node in the cookie's
//! `<blockDirtyBitmaps>`, aliased `libvirt-TARGET-NAME`
//! (`qemuMigrationSrcBeginPhaseBlockDirtyBitmaps`); prepare keeps those its
//! qcow2 v3 disks do not have yet, sets QEMU's `dirty-bitmaps` capability
//! and `block-bitmap-mapping` on its node names, and answers with them
//! (`qemuMigrationDstPrepareAnyBlockDirtyBitmaps`); perform maps the
//! accepted ones onto the source's node names
//! (`qemuMigrationSrcRunPrepareBlockDirtyBitmaps`). Disks and bitmaps are
//! matched by target and alias, so node names may differ on each side.
//!
//! A full copy squashes a disk's backing chain, so each bitmap that
//! travels is first merged down the chain (from the top, while the images
//! have it) into a temporary `libvirt-migration-ALIAS` on the top node,
//! which travels in its place and is made persistent on arrival
//! (`qemuMigrationSrcRunPrepareBlockDirtyBitmapsMerge`; [`merge`]).

use super::storage::{CopiedDisk, QueryNamedBlockNodes};
use crate::driver::Driver;
use crate::monitor::Monitor;
use crate::state::Running;
use qapi::qmp::{MigrationCapability as Cap, MigrationCapabilityStatus};
use rvirt::driver::DomainRef;
use rvirt_conf::domain::disk::StorageFormat;
use rvirt_conf::qemu_cookie::BitmapDisk;
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorDomain, Result};
use serde_json::{json, Value};
use std::sync::Arc;

/// One bitmap of a node, as `query-named-block-nodes` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NodeBitmap {
    pub name: String,
    recording: bool,
    persistent: bool,
    inconsistent: bool,
    pub granularity: u64,
}

/// What `query-named-block-nodes` says about one node.
pub(super) struct NodeData {
    pub bitmaps: Vec<NodeBitmap>,
    /// A qcow2 image of the old format (compat 0.10), which cannot store
    /// bitmaps.
    qcow2v2: bool,
}

pub(super) fn node_data(nodes: &Value, node: &str) -> Option<NodeData> {
    let n = nodes.as_array()?.iter().find(|n| n["node-name"] == node)?;
    let flag = |b: &Value, k: &str| b[k].as_bool().unwrap_or(false);
    let bitmaps = n["dirty-bitmaps"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|b| {
                    Some(NodeBitmap {
                        name: b["name"].as_str()?.to_string(),
                        recording: flag(b, "recording"),
                        persistent: flag(b, "persistent"),
                        inconsistent: flag(b, "inconsistent"),
                        granularity: b["granularity"].as_u64().unwrap_or(0),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let specific = &n["image"]["format-specific"];
    let qcow2v2 = specific["type"] == "qcow2" && specific["data"]["compat"] == "0.10";
    Some(NodeData { bitmaps, qcow2v2 })
}

pub(super) async fn named_nodes(mon: &Monitor) -> Result<Value> {
    mon.execute(QueryNamedBlockNodes {
        args: json!({"flat": true}),
    })
    .await
}

/// `qemuBlockBitmapChainIsValid`: bitmap `name` is on the top node, then
/// on each image below while it is there, with no gap, and persistent,
/// recording and consistent wherever it is.
fn chain_is_valid(nodes: &Value, top: &str, name: &str) -> bool {
    let below = backing_nodes(nodes, top);
    let layers = std::iter::once(node_data(nodes, top)).chain(
        (below.iter()).map(|n| node_data(nodes, n["node-name"].as_str().unwrap_or_default())),
    );
    let (mut found, mut ended) = (false, false);
    for layer in layers {
        let bitmap = layer.and_then(|l| l.bitmaps.into_iter().find(|b| b.name == name));
        match bitmap {
            None if !found => return false,
            None => ended = true,
            Some(_) if ended => return false,
            Some(b) if !b.persistent || !b.recording || b.inconsistent => return false,
            Some(_) => found = true,
        }
    }
    found
}

/// The bitmaps offered for `disks`: those of each top node whose chain is
/// valid.
pub(super) fn offered_from(nodes: &Value, disks: &[CopiedDisk]) -> Vec<BitmapDisk> {
    disks
        .iter()
        .filter_map(|d| {
            let data = node_data(nodes, &d.node)?;
            let bitmaps: Vec<(String, String)> = (data.bitmaps.iter())
                .filter(|b| chain_is_valid(nodes, &d.node, &b.name))
                .map(|b| (b.name.clone(), format!("libvirt-{}-{}", d.target, b.name)))
                .collect();
            (!bitmaps.is_empty()).then(|| BitmapDisk {
                target: d.target.clone(),
                bitmaps,
            })
        })
        .collect()
}

/// The format nodes of the images under `node` (each found by the file
/// its parent names as backing, as QEMU opened it).
pub(super) fn backing_nodes<'a>(nodes: &'a Value, node: &str) -> Vec<&'a Value> {
    let all = nodes.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut chain = Vec::new();
    let mut current = all.iter().find(|n| n["node-name"] == node);
    while let Some(file) = current.and_then(|n| n["backing_file"].as_str()) {
        current = all.iter().find(|n| n["file"] == file && n["drv"] != "file");
        chain.extend(current);
        if chain.len() > all.len() {
            break;
        }
    }
    chain
}

/// Begin: the bitmaps of the copied disks, for the cookie.
pub async fn offered(mon: &Monitor, disks: &[CopiedDisk]) -> Result<Vec<BitmapDisk>> {
    Ok(offered_from(&named_nodes(mon).await?, disks))
}

/// The format node and format of the disk `target` of `def`
/// (`qemuMigrationCookieBlockDirtyBitmapsMatchDisks`).
pub(super) fn disk_node(def: &DomainDef, target: &str) -> Result<(String, Option<StorageFormat>)> {
    let disks = &def.devices.disks;
    let Some(i) = disks.iter().position(|d| d.target.dev == target) else {
        return Err(Error::internal(
            ErrorDomain::QEMU,
            format!("Can't find disk '{target}' in domain definition"),
        ));
    };
    let index = crate::command::disk_node_index(disks.len(), i);
    Ok((format!("libvirt-{index}-format"), disks[i].driver.format))
}

/// `block-bitmap-mapping` for `disks` on this side's nodes (`None` when
/// nothing travels), libvirt's `qemuMigrationCookieBlockDirtyBitmapsToParams`;
/// an alias in `merged` travels from that temporary bitmap instead, made
/// persistent on arrival.
pub(super) fn mapping(
    def: &DomainDef,
    disks: &[BitmapDisk],
    merged: &[(String, String)],
) -> Result<Option<Value>> {
    let mut map = Vec::new();
    for d in disks.iter().filter(|d| !d.bitmaps.is_empty()) {
        let (node, _) = disk_node(def, &d.target)?;
        let bitmap = |(name, alias): &(String, String)| match merged.iter().find(|m| &m.0 == alias)
        {
            Some((_, temp)) => {
                json!({"name": temp, "alias": alias, "transform": {"persistent": true}})
            }
            None => json!({"name": name, "alias": alias}),
        };
        let bitmaps: Vec<Value> = d.bitmaps.iter().map(bitmap).collect();
        map.push(json!({"node-name": node, "alias": d.target, "bitmaps": bitmaps}));
    }
    Ok((!map.is_empty()).then(|| Value::Array(map)))
}

/// The destination's choice among `offered`: disks that are qcow2 v3, and
/// bitmaps they do not have already (QEMU would not migrate into one).
fn accepted_from(
    def: &DomainDef,
    nodes: &Value,
    offered: &[BitmapDisk],
) -> Result<Vec<BitmapDisk>> {
    let mut kept = Vec::new();
    for d in offered {
        let (node, format) = disk_node(def, &d.target)?;
        let Some(data) = node_data(nodes, &node) else {
            return Err(Error::internal(
                ErrorDomain::QEMU,
                format!("failed to find data for block node '{node}'"),
            ));
        };
        if format != Some(StorageFormat::Qcow2) || data.qcow2v2 {
            continue;
        }
        let bitmaps: Vec<(String, String)> = (d.bitmaps.iter())
            .filter(|(name, _)| !data.bitmaps.iter().any(|b| &b.name == name))
            .cloned()
            .collect();
        if !bitmaps.is_empty() {
            kept.push(BitmapDisk {
                target: d.target.clone(),
                bitmaps,
            });
        }
    }
    Ok(kept)
}

/// `migrate-set-parameters` with `block-bitmap-mapping` alone.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SetMapping {
    #[serde(rename = "block-bitmap-mapping")]
    pub mapping: Value,
}

crate::monitor::qmp_command!(SetMapping = "migrate-set-parameters" => qapi::Empty);

/// The `dirty-bitmaps` capability, on or off.
pub fn capability(on: bool) -> MigrationCapabilityStatus {
    MigrationCapabilityStatus {
        capability: Cap::dirty_bitmaps,
        state: on,
    }
}

/// Prepare: the bitmaps this destination takes of those `offered`, with
/// its QEMU set to receive them; what the cookie answers.
pub async fn accept(
    mon: &Monitor,
    def: &DomainDef,
    offered: &[BitmapDisk],
) -> Result<Vec<BitmapDisk>> {
    let kept = accepted_from(def, &named_nodes(mon).await?, offered)?;
    if let Some(mapping) = mapping(def, &kept, &[])? {
        let caps = qapi::qmp::migrate_set_capabilities {
            capabilities: vec![capability(true)],
        };
        mon.execute(caps).await?;
        mon.execute(SetMapping { mapping }).await?;
    }
    Ok(kept)
}

/// Prepare's part for the incoming guest `dom` whose QEMU is `run`.
pub fn prepare(
    driver: &Driver,
    dom: &DomainRef,
    run: &Arc<Running>,
    offered: &[BitmapDisk],
) -> Result<Vec<BitmapDisk>> {
    let def = driver.domains.lock().get(dom)?.def.clone();
    let (run, offered) = (run.clone(), offered.to_vec());
    driver
        .rt
        .run(async move { accept(&run.monitor, &def, &offered).await })
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = "<domain type='qemu'><name>g</name><memory>65536</memory>\
        <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
        <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
        <source file='/images/a.qcow2'/><target dev='vda' bus='virtio'/></disk>\
        <disk type='file' device='disk'><driver name='qemu' type='raw'/>\
        <source file='/images/b.raw'/><target dev='vdb' bus='virtio'/></disk>\
        </devices></domain>";

    fn nodes() -> Value {
        json!([
            {"node-name": "libvirt-2-format",
             "image": {"format-specific": {"type": "qcow2", "data": {"compat": "1.1"}}},
             "dirty-bitmaps": [
                {"name": "b0", "recording": true, "persistent": true, "busy": false},
                {"name": "off", "recording": false, "persistent": true},
                {"name": "temp", "recording": true, "persistent": false},
                {"name": "bad", "recording": true, "persistent": true, "inconsistent": true}]},
            {"node-name": "libvirt-2-storage"},
            {"node-name": "libvirt-1-format",
             "dirty-bitmaps": [{"name": "r", "recording": true, "persistent": true}]}
        ])
    }

    fn copied(target: &str, node: &str) -> CopiedDisk {
        CopiedDisk {
            target: target.into(),
            export: format!("drive-{target}"),
            node: node.into(),
        }
    }

    #[test]
    fn begin_offers_the_persistent_recording_bitmaps_of_copied_disks() {
        let disks = [copied("vda", "libvirt-2-format")];
        let offered = offered_from(&nodes(), &disks);
        assert_eq!(
            offered,
            vec![BitmapDisk {
                target: "vda".into(),
                bitmaps: vec![("b0".into(), "libvirt-vda-b0".into())],
            }]
        );
        assert!(offered_from(&nodes(), &[copied("vdc", "libvirt-9-format")]).is_empty());
    }

    #[test]
    fn prepare_keeps_new_bitmaps_of_qcow2_disks_and_maps_its_nodes() {
        let def = DomainDef::parse(XML).unwrap();
        let offer = |target: &str, names: &[&str]| BitmapDisk {
            target: target.into(),
            bitmaps: (names.iter())
                .map(|n| (n.to_string(), format!("libvirt-{target}-{n}")))
                .collect(),
        };
        // vda has b0 already; vdb is raw: only vda's new bitmap is taken.
        let offered = [offer("vda", &["b0", "new"]), offer("vdb", &["r"])];
        let kept = accepted_from(&def, &nodes(), &offered).unwrap();
        assert_eq!(kept, vec![offer("vda", &["new"])]);
        let map = mapping(&def, &kept, &[]).unwrap().unwrap();
        let want = json!([{"node-name": "libvirt-2-format", "alias": "vda",
            "bitmaps": [{"name": "new", "alias": "libvirt-vda-new"}]}]);
        assert_eq!(map, want);
        assert_eq!(mapping(&def, &[], &[]).unwrap(), None);
    }

    #[test]
    fn an_unknown_disk_or_node_is_libvirts_error() {
        let def = DomainDef::parse(XML).unwrap();
        let bad = [BitmapDisk {
            target: "vdz".into(),
            bitmaps: vec![("b".into(), "libvirt-vdz-b".into())],
        }];
        let e = accepted_from(&def, &nodes(), &bad).unwrap_err();
        assert_eq!(
            e.message,
            "internal error: Can't find disk 'vdz' in domain definition"
        );
        let e = mapping(&def, &bad, &[]).unwrap_err();
        assert!(e.message.contains("Can't find disk 'vdz'"), "{e}");
        let vda = [BitmapDisk {
            target: "vda".into(),
            bitmaps: vec![("b".into(), "libvirt-vda-b".into())],
        }];
        let e = accepted_from(&def, &json!([]), &vda).unwrap_err();
        assert!(
            e.message
                .contains("failed to find data for block node 'libvirt-2-format'"),
            "{e}"
        );
    }

    #[test]
    fn an_old_qcow2_takes_no_bitmap() {
        let def = DomainDef::parse(XML).unwrap();
        let nodes = json!([{"node-name": "libvirt-2-format",
            "image": {"format-specific": {"type": "qcow2", "data": {"compat": "0.10"}}}}]);
        let vda = [BitmapDisk {
            target: "vda".into(),
            bitmaps: vec![("b".into(), "libvirt-vda-b".into())],
        }];
        assert!(accepted_from(&def, &nodes, &vda).unwrap().is_empty());
    }
}
