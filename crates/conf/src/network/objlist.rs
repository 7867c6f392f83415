//! libvirt's src/conf/virnetworkobj.c, which every network driver applies
//! (the test driver's and the host's): a network's live and persistent
//! definitions, `virNetworkObjAssignDef`, `virNetworkObjUpdate` and the
//! `virConnectListAllNetworks` filters. A driver keeps what it runs for a
//! network (a bridge, dnsmasq) in `running`.

use super::{NetworkDef, XML_INACTIVE};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// libvirt reports these rules as VIR_FROM_NETWORK whichever driver runs.
const DOMAIN: ErrorDomain = ErrorDomain::NETWORK;

/// `VIR_CONNECT_LIST_NETWORKS_*`.
pub use rvirt_util::names::network_list_flags as list_flags;

/// `VIR_NETWORK_UPDATE_AFFECT_LIVE` / `_CONFIG`.
pub const AFFECT_LIVE: u32 = 1 << 0;
pub const AFFECT_CONFIG: u32 = 1 << 1;

/// One network (`virNetworkObj`).
pub struct NetworkObj<R = ()> {
    /// The live definition (or the only one of an inactive network).
    pub def: NetworkDef,
    /// The next persistent definition of a running network.
    pub new_def: Option<NetworkDef>,
    pub active: bool,
    pub persistent: bool,
    pub autostart: bool,
    /// What the driver runs for the network while it is active.
    pub running: R,
}

pub fn invalid(msg: &str) -> Error {
    Error::operation_invalid(DOMAIN, msg)
}

impl<R> NetworkObj<R> {
    /// The persistent definition (`virNetworkObjGetPersistentDef`).
    pub fn persistent_def(&self) -> &NetworkDef {
        self.new_def.as_ref().unwrap_or(&self.def)
    }

    /// `virNetworkObjUpdateAssignDef`.
    pub fn assign(&mut self, def: NetworkDef, live: bool) {
        if live {
            if self.persistent && self.new_def.is_none() {
                self.new_def = Some(std::mem::replace(&mut self.def, def));
            } else {
                self.def = def;
            }
            return;
        }
        if self.active {
            self.new_def = Some(def);
        } else {
            self.new_def = None;
            self.def = def;
        }
        self.persistent = true;
    }

    /// `virNetworkObjUnsetDefTransient` after a stop: the persistent
    /// definition becomes the definition.
    pub fn unset_transient(&mut self) {
        if let Some(next) = self.new_def.take() {
            self.def = next;
        }
    }

    /// `virNetworkObjMatch`.
    pub fn matches(&self, flags: u32) -> bool {
        use list_flags::*;
        let pair = |a: u32, b: u32, is_a: bool| {
            flags & (a | b) == 0 || (flags & a != 0 && is_a) || (flags & b != 0 && !is_a)
        };
        pair(ACTIVE, INACTIVE, self.active)
            && pair(PERSISTENT, TRANSIENT, self.persistent)
            && pair(AUTOSTART, NO_AUTOSTART, self.autostart)
    }

    /// `flags` with AFFECT_CURRENT (neither LIVE nor CONFIG) resolved, as
    /// the drivers' `networkUpdate` do it: the live definition of a
    /// running network, else the persistent one.
    pub fn resolve_current(&self, flags: u32) -> u32 {
        match flags & (AFFECT_LIVE | AFFECT_CONFIG) {
            0 if self.active => flags | AFFECT_LIVE,
            0 => flags | AFFECT_CONFIG,
            _ => flags,
        }
    }

    /// `virNetworkObjUpdate`: a `virNetworkUpdate` on the live definition,
    /// the persistent one or both (`flags` has LIVE or CONFIG resolved
    /// from CURRENT), each on a copy that must survive a format/parse
    /// round before it replaces the original.
    pub fn update(
        &mut self,
        (command, section, parent_index): (u32, u32, i32),
        xml: &str,
        flags: u32,
    ) -> Result<()> {
        let change = (command, section, parent_index, xml);
        // virNetworkObjConfigChangeSetup.
        if !self.active && flags & AFFECT_LIVE != 0 {
            return Err(invalid("network is not running"));
        }
        if flags & AFFECT_CONFIG != 0 {
            if !self.persistent {
                return Err(invalid(
                    "cannot change persistent config of a transient network",
                ));
            }
            if self.active && self.new_def.is_none() {
                self.new_def = Some(round_trip(&self.def, XML_INACTIVE)?);
            }
        }
        let live = (flags & AFFECT_LIVE != 0)
            .then(|| updated(&self.def, 0, change))
            .transpose()?;
        let config = (flags & AFFECT_CONFIG != 0)
            .then(|| updated(self.persistent_def(), XML_INACTIVE, change))
            .transpose()?;
        if let Some(def) = config {
            // virNetworkObjReplacePersistentDef; an inactive network keeps
            // a stale next definition where libvirt leaves it.
            match self.active {
                true => self.new_def = Some(def),
                false => self.def = def,
            }
        }
        if let Some(def) = live {
            self.def = def;
        }
        Ok(())
    }
}

/// `virNetworkDefCopy`'s format/parse cycle: what `def` reads back as.
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

/// The networks that pass `virConnectListAllNetworks`' `flags`
/// (`virNetworkObjListExport`'s filter).
pub fn matching<R>(nets: &[NetworkObj<R>], flags: u32) -> impl Iterator<Item = &NetworkObj<R>> {
    nets.iter().filter(move |n| n.matches(flags))
}

/// `virNetworkObjAssignDefLocked`: the index of the object now holding
/// `def` (a new one, inactive, for a new network).
pub fn assign_def<R: Default>(
    nets: &mut Vec<NetworkObj<R>>,
    def: NetworkDef,
    live: bool,
    check_live: bool,
) -> Result<usize> {
    let failed = |msg: String| Error::new(DOMAIN, ErrorCode::OPERATION_FAILED, msg);
    if let Some(i) = nets.iter().position(|n| n.def.uuid == def.uuid) {
        let obj = &mut nets[i];
        if obj.def.name != def.name {
            return Err(failed(format!(
                "network '{}' is already defined with uuid {}",
                obj.def.name, obj.def.uuid
            )));
        }
        if check_live && obj.active {
            return Err(invalid(&format!(
                "network is already active as '{}'",
                obj.def.name
            )));
        }
        obj.assign(def, live);
        return Ok(i);
    }
    if let Some(obj) = nets.iter().find(|n| n.def.name == def.name) {
        return Err(failed(format!(
            "network '{}' already exists with uuid {}",
            def.name, obj.def.uuid
        )));
    }
    nets.push(NetworkObj {
        def,
        new_def: None,
        active: false,
        persistent: !live,
        autostart: false,
        running: R::default(),
    });
    Ok(nets.len() - 1)
}
