//! `virNetworkObjUpdate` (src/conf/virnetworkobj.c): a `virNetworkUpdate`
//! applied to the live definition, the persistent one, or both, each on a
//! copy that must survive a format/parse round before it replaces the
//! original.

use crate::objects::{invalid, NetworkObj};
use rvirt::network::update::{AFFECT_CONFIG, AFFECT_LIVE};
use rvirt_conf::network::{NetworkDef, XML_INACTIVE};
use rvirt_util::Result;

/// `virNetworkDefCopy`'s format/parse cycle.
fn round_trip(def: &NetworkDef, flags: u32) -> Result<NetworkDef> {
    let mut copy = NetworkDef::parse(&def.format(flags))?;
    copy.connections = def.connections;
    Ok(copy)
}

fn updated(def: &NetworkDef, flags: u32, change: (u32, u32, i32, &str)) -> Result<NetworkDef> {
    let mut copy = round_trip(def, flags)?;
    copy.update_section(change.0, change.1, change.2, change.3)?;
    round_trip(&copy, flags)?;
    Ok(copy)
}

/// `flags` has LIVE or CONFIG resolved from CURRENT.
pub fn update_obj(
    obj: &mut NetworkObj,
    command: u32,
    section: u32,
    parent_index: i32,
    xml: &str,
    flags: u32,
) -> Result<()> {
    let change = (command, section, parent_index, xml);
    if !obj.active && flags & AFFECT_LIVE != 0 {
        return Err(invalid("network is not running".into()));
    }
    if flags & AFFECT_CONFIG != 0 {
        if !obj.persistent {
            return Err(invalid(
                "cannot change persistent config of a transient network".into(),
            ));
        }
        if obj.active && obj.new_def.is_none() {
            obj.new_def = Some(round_trip(&obj.def, XML_INACTIVE)?);
        }
    }
    let live = if flags & AFFECT_LIVE != 0 {
        Some(updated(&obj.def, 0, change)?)
    } else {
        None
    };
    let config = if flags & AFFECT_CONFIG != 0 {
        Some(updated(obj.persistent_def(), XML_INACTIVE, change)?)
    } else {
        None
    };
    if let Some(def) = config {
        if obj.active {
            obj.new_def = Some(def);
        } else {
            obj.def = def;
        }
    }
    if let Some(def) = live {
        obj.def = def;
    }
    Ok(())
}
