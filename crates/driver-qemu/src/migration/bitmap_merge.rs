//! The source's side of the bitmaps a destination accepted (libvirt's
//! `qemuMigrationSrcRunPrepareBlockDirtyBitmaps` and `...Merge`): their
//! `block-bitmap-mapping` on this QEMU's nodes, and for a full copy of a
//! disk with a backing chain, a temporary `libvirt-migration-ALIAS` on
//! the top node made (one `transaction`) from the bitmap of that name in
//! each image from the top down while they have it. The temporary bitmaps
//! go again when the migration fails (`qemuMigrationSrcCancelRemoveTempBitmaps`).

use super::bitmaps::{backing_nodes, disk_node, mapping, named_nodes, node_data};
use super::storage::Qmp;
use crate::driver::Driver;
use crate::monitor::Monitor;
use crate::ops;
use rvirt::driver::DomainRef;
use rvirt_conf::qemu_cookie::BitmapDisk;
use rvirt_conf::DomainDef;
use rvirt_util::Result;
use serde_json::{json, Value};

pub type Transaction = Qmp<100>;
crate::monitor::qmp_command!(Qmp<100> = "transaction" => qapi::Empty);
pub type BitmapRemove = Qmp<101>;
crate::monitor::qmp_command!(Qmp<101> = "block-dirty-bitmap-remove" => qapi::Empty);

/// What the source sets up for the accepted bitmaps.
#[derive(Debug, Default)]
pub struct SourceBitmaps {
    /// `block-bitmap-mapping`; `None`: no bitmap travels.
    pub mapping: Option<Value>,
    /// The `transaction` actions making the temporary bitmaps.
    actions: Vec<Value>,
    /// The temporary bitmaps: (node, name).
    temps: Vec<(String, String)>,
}

/// The plan for `accepted` on `def`'s nodes as `nodes` shows them; `full`:
/// the copy squashes backing chains (not NON_SHARED_INC).
fn plan(
    nodes: &Value,
    def: &DomainDef,
    accepted: &[BitmapDisk],
    full: bool,
) -> Result<SourceBitmaps> {
    let mut out = SourceBitmaps::default();
    let mut merged = Vec::new();
    for d in accepted {
        let (top, _) = disk_node(def, &d.target)?;
        let chain = backing_nodes(nodes, &top);
        if !full || chain.is_empty() {
            continue;
        }
        let names: Vec<String> = (chain.iter())
            .filter_map(|n| n["node-name"].as_str().map(str::to_string))
            .collect();
        for (name, alias) in &d.bitmaps {
            let temp = format!("libvirt-migration-{alias}");
            let mut sources = Vec::new();
            let mut granularity = 0;
            for node in std::iter::once(&top).chain(&names) {
                let found = node_data(nodes, node)
                    .and_then(|n| n.bitmaps.into_iter().find(|b| &b.name == name));
                let Some(b) = found else { break };
                if granularity == 0 {
                    granularity = b.granularity;
                }
                sources.push(json!({"node": node, "name": name}));
            }
            let mut add =
                json!({"node": top, "name": temp, "persistent": false, "disabled": false});
            if granularity != 0 {
                add["granularity"] = json!(granularity);
            }
            out.actions
                .push(json!({"type": "block-dirty-bitmap-add", "data": add}));
            out.actions.push(json!({"type": "block-dirty-bitmap-merge",
                "data": {"node": top, "target": temp, "bitmaps": sources}}));
            out.temps.push((top.clone(), temp.clone()));
            merged.push((alias.clone(), temp));
        }
    }
    out.mapping = mapping(def, accepted, &merged)?;
    Ok(out)
}

/// Perform: the plan for the bitmaps the destination `accepted`.
pub fn prepare(
    driver: &Driver,
    dom: &DomainRef,
    accepted: Option<&[BitmapDisk]>,
    full: bool,
) -> Result<SourceBitmaps> {
    let Some(accepted) = accepted.filter(|a| !a.is_empty()) else {
        return Ok(SourceBitmaps::default());
    };
    let def = driver.domains.lock().get(dom)?.def.clone();
    let run = ops::running(driver, dom)?;
    let nodes = driver
        .rt
        .run(async move { named_nodes(&run.monitor).await })?;
    plan(&nodes, &def, accepted, full)
}

impl SourceBitmaps {
    /// Make the temporary bitmaps (before `migrate`).
    pub async fn make(&self, mon: &Monitor) -> Result<()> {
        if self.actions.is_empty() {
            return Ok(());
        }
        let args = json!({"actions": self.actions});
        mon.execute(Transaction { args }).await.map(|_| ())
    }

    /// The migration failed: the temporary bitmaps go.
    pub async fn remove(&self, mon: &Monitor) {
        for (node, name) in &self.temps {
            let args = json!({"node": node, "name": name});
            let _ = mon.execute(BitmapRemove { args }).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = "<domain type='qemu'><name>g</name><memory>65536</memory>\
        <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
        <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
        <source file='/d/top.qcow2'/><target dev='vda' bus='virtio'/></disk>\
        </devices></domain>";

    fn nodes() -> Value {
        let b = |name: &str| {
            json!({"name": name, "recording": true, "persistent": true,
                                    "granularity": 65536})
        };
        json!([
            {"node-name": "libvirt-1-format", "drv": "qcow2", "file": "/d/top.qcow2",
             "backing_file": "/d/mid.qcow2", "dirty-bitmaps": [b("b0"), b("top")]},
            {"node-name": "#block1", "drv": "file", "file": "/d/mid.qcow2"},
            {"node-name": "#block2", "drv": "qcow2", "file": "/d/mid.qcow2",
             "backing_file": "/d/base.qcow2", "dirty-bitmaps": [b("b0")]},
            {"node-name": "#block3", "drv": "qcow2", "file": "/d/base.qcow2",
             "dirty-bitmaps": [b("b0"), b("top")]}
        ])
    }

    fn accepted(names: &[&str]) -> Vec<BitmapDisk> {
        vec![BitmapDisk {
            target: "vda".into(),
            bitmaps: (names.iter())
                .map(|n| (n.to_string(), format!("libvirt-vda-{n}")))
                .collect(),
        }]
    }

    #[test]
    fn a_full_copy_merges_each_bitmap_down_the_chain_while_it_is_there() {
        let def = DomainDef::parse(XML).unwrap();
        let p = plan(&nodes(), &def, &accepted(&["b0", "top"]), true).unwrap();
        let merge = |i: usize| p.actions[i]["data"]["bitmaps"].clone();
        assert_eq!(p.actions.len(), 4);
        assert_eq!(
            p.actions[0]["data"]["name"],
            "libvirt-migration-libvirt-vda-b0"
        );
        assert_eq!(p.actions[0]["data"]["granularity"], 65536);
        // b0: all three images; top: the top only (mid lacks it: the gap
        // ends the chain).
        let want = json!([{"node": "libvirt-1-format", "name": "b0"},
            {"node": "#block2", "name": "b0"}, {"node": "#block3", "name": "b0"}]);
        assert_eq!(merge(1), want);
        assert_eq!(
            merge(3),
            json!([{"node": "libvirt-1-format", "name": "top"}])
        );
        let map = p.mapping.unwrap();
        let first = &map[0]["bitmaps"][0];
        assert_eq!(first["name"], "libvirt-migration-libvirt-vda-b0");
        assert_eq!(first["alias"], "libvirt-vda-b0");
        assert_eq!(first["transform"]["persistent"], true);
        assert_eq!(p.temps.len(), 2);
    }

    #[test]
    fn a_gap_in_the_chain_or_a_disabled_layer_is_not_offered() {
        let copied = [crate::migration::storage::CopiedDisk {
            target: "vda".into(),
            export: "drive-virtio-disk0".into(),
            node: "libvirt-1-format".into(),
        }];
        // b0 is on every layer; top skips mid and is on base again.
        let offered = super::super::bitmaps::offered_from(&nodes(), &copied);
        assert_eq!(offered, accepted(&["b0"]));
        let mut disabled = nodes();
        disabled[3]["dirty-bitmaps"][0]["recording"] = json!(false);
        let offered = super::super::bitmaps::offered_from(&disabled, &copied);
        assert!(offered.is_empty(), "{offered:?}");
    }

    #[test]
    fn an_incremental_copy_or_a_flat_image_sends_the_bitmap_itself() {
        let def = DomainDef::parse(XML).unwrap();
        let p = plan(&nodes(), &def, &accepted(&["b0"]), false).unwrap();
        assert!(p.actions.is_empty() && p.temps.is_empty());
        let want = json!([{"node-name": "libvirt-1-format", "alias": "vda",
            "bitmaps": [{"name": "b0", "alias": "libvirt-vda-b0"}]}]);
        assert_eq!(p.mapping.unwrap(), want);
        let flat = json!([{"node-name": "libvirt-1-format", "drv": "qcow2",
            "file": "/d/top.qcow2", "dirty-bitmaps": []}]);
        let p = plan(&flat, &def, &accepted(&["b0"]), true).unwrap();
        assert!(p.actions.is_empty());
        assert_eq!(p.mapping.unwrap(), want);
    }
}
