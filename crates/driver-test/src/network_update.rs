//! `virNetworkObjUpdate` (src/conf/virnetworkobj.c): a `virNetworkUpdate`
//! applied to the live definition, the persistent one, or both, each on a
//! copy that must survive a format/parse round before it replaces the
//! original.

use crate::network::NetworkObj;
use rvirt::network::update::{AFFECT_CONFIG, AFFECT_LIVE};
use rvirt_conf::network::{NetworkDef, XML_INACTIVE};
use rvirt_util::{Error, ErrorDomain, Result};

fn invalid(msg: &str) -> Error {
    Error::operation_invalid(ErrorDomain::NETWORK, msg)
}

/// `virNetworkDefCopy`'s format/parse cycle: what `def` reads back as.
fn round_trip(def: &NetworkDef, flags: u32) -> Result<NetworkDef> {
    let mut copy = NetworkDef::parse(&def.format(flags))?;
    copy.connections = def.connections;
    Ok(copy)
}

/// `flags` already has LIVE or CONFIG resolved from CURRENT.
pub fn update_obj(
    obj: &mut NetworkObj,
    command: u32,
    section: u32,
    parent_index: i32,
    xml: &str,
    flags: u32,
) -> Result<()> {
    // virNetworkObjConfigChangeSetup.
    if !obj.active && flags & AFFECT_LIVE != 0 {
        return Err(invalid("network is not running"));
    }
    if flags & AFFECT_CONFIG != 0 {
        if !obj.persistent {
            return Err(invalid(
                "cannot change persistent config of a transient network",
            ));
        }
        if obj.active && obj.new_def.is_none() {
            obj.new_def = Some(round_trip(&obj.def, XML_INACTIVE)?);
        }
    }
    let live = if flags & AFFECT_LIVE != 0 {
        let mut def = round_trip(&obj.def, 0)?;
        def.update_section(command, section, parent_index, xml)?;
        round_trip(&def, 0)?;
        Some(def)
    } else {
        None
    };
    let config = if flags & AFFECT_CONFIG != 0 {
        let persistent = obj.new_def.as_ref().unwrap_or(&obj.def);
        let mut def = round_trip(persistent, XML_INACTIVE)?;
        def.update_section(command, section, parent_index, xml)?;
        round_trip(&def, XML_INACTIVE)?;
        Some(def)
    } else {
        None
    };
    if let Some(def) = config {
        // virNetworkObjReplacePersistentDef.
        if obj.active {
            obj.new_def = Some(def);
        } else {
            // libvirt leaves a stale next definition where it was.
            obj.def = def;
        }
    }
    if let Some(def) = live {
        obj.def = def;
    }
    Ok(())
}
