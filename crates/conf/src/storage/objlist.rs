//! The pool objects of libvirt's src/conf/virstorageobj.c that every
//! storage driver keeps (the test driver's and the host's): a pool's
//! definitions, state and volumes, lookups, `virStoragePoolObjListAdd`
//! with its duplicate and source-conflict checks, which pools would share
//! storage, and `virConnectListAllStoragePools`' filters.

use super::{PoolDef, PoolType, VolDef, ERROR_DOMAIN};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// One pool (`virStoragePoolObj`). `config` is libvirt's `configFile`,
/// set for a persistent pool: the host driver's file, or `()` for the
/// test driver's (which has none).
pub struct PoolObj<C = ()> {
    pub def: PoolDef,
    /// The definition that takes over when the running pool stops.
    pub new_def: Option<PoolDef>,
    pub active: bool,
    pub autostart: bool,
    pub config: Option<C>,
    pub volumes: Vec<VolDef>,
}

impl<C> PoolObj<C> {
    fn new(def: PoolDef) -> PoolObj<C> {
        PoolObj {
            def,
            new_def: None,
            active: false,
            autostart: false,
            config: None,
            volumes: Vec::new(),
        }
    }

    pub fn persistent(&self) -> bool {
        self.config.is_some()
    }

    /// `virStoragePoolObjMatch`: whether the pool passes
    /// `virConnectListAllStoragePools`' `flags`.
    pub fn matches(&self, flags: u32) -> bool {
        let (p, persistent) = (&self.def, self.persistent());
        matches_list_flags(flags, p.pool_type, self.active, persistent, self.autostart)
    }
}

/// `storagePoolObjFindByName` (`testStoragePoolObjFindByName`): the
/// driver's error, in its `domain`, for a name no pool has.
pub fn index_by_name<C>(list: &[PoolObj<C>], name: &str, domain: ErrorDomain) -> Result<usize> {
    list.iter().position(|p| p.def.name == name).ok_or_else(|| {
        let msg = format!("no storage pool with matching name '{name}'");
        Error::new(domain, ErrorCode::NO_STORAGE_POOL, msg)
    })
}

/// `storagePoolObjFindByUUID` (`testStoragePoolObjFindByUUID`) as a
/// lookup by uuid reports it.
pub fn index_by_uuid<C>(
    list: &[PoolObj<C>],
    uuid: &[u8; 16],
    domain: ErrorDomain,
) -> Result<usize> {
    list.iter()
        .position(|p| &p.def.uuid == uuid)
        .ok_or_else(|| {
            let text = rvirt_util::uuid::Uuid::from_bytes(*uuid);
            let msg = format!("no storage pool with matching uuid '{text}'");
            Error::new(domain, ErrorCode::NO_STORAGE_POOL, msg)
        })
}

/// A driver's pools (`virStoragePoolObjList`) and the events `E` raised
/// while it is locked, which the driver delivers after unlocking; the
/// lookups fail in the driver's error domain.
pub struct PoolList<C, E> {
    pub list: Vec<PoolObj<C>>,
    /// Events raised under the lock, delivered after.
    pub pending: Vec<E>,
    domain: ErrorDomain,
}

impl<C, E> PoolList<C, E> {
    pub fn new(domain: ErrorDomain) -> Self {
        PoolList {
            list: Vec::new(),
            pending: Vec::new(),
            domain,
        }
    }

    pub fn emit(&mut self, event: E) {
        self.pending.push(event);
    }

    /// The names of the first `max` active (or inactive) pools
    /// (`virStoragePoolObjGetNames`).
    pub fn names(&self, active: bool, max: usize) -> Vec<String> {
        let pools = self.list.iter().filter(|o| o.active == active);
        pools.take(max).map(|o| o.def.name.clone()).collect()
    }

    /// `storagePoolObjFindByName`.
    pub fn index_by_name(&self, name: &str) -> Result<usize> {
        index_by_name(&self.list, name, self.domain)
    }

    pub fn by_name(&mut self, name: &str) -> Result<&mut PoolObj<C>> {
        let i = self.index_by_name(name)?;
        Ok(&mut self.list[i])
    }

    /// `storagePoolObjFindByUUID` without a name (a lookup).
    pub fn by_uuid(&mut self, uuid: &[u8; 16]) -> Result<&mut PoolObj<C>> {
        let i = index_by_uuid(&self.list, uuid, self.domain)?;
        Ok(&mut self.list[i])
    }

    /// `virStoragePoolObjListAdd` ([`add`]).
    pub fn add(&mut self, def: PoolDef, live: bool, check_live: bool) -> Result<usize> {
        add(&mut self.list, def, live, check_live)
    }

    /// The first volume `pick` finds in an active pool, with its pool.
    pub fn find_volume(&self, pick: impl Fn(&VolDef) -> bool) -> Option<(&PoolObj<C>, &VolDef)> {
        self.list
            .iter()
            .filter(|p| p.active)
            .find_map(|p| Some((p, p.volumes.iter().find(|v| pick(v))?)))
    }
}

/// `virStoragePoolObjListAdd`: the index of the pool `def` now defines,
/// new (inactive, transient) or one of the same name and uuid. `live`:
/// `def` is a running definition (a defined pool keeps its own as the one
/// to come back to); `check_live`: refuse a running pool of the same uuid.
/// A running pool keeps its definition and takes `def` as the next one.
pub fn add<C>(
    list: &mut Vec<PoolObj<C>>,
    def: PoolDef,
    live: bool,
    check_live: bool,
) -> Result<usize> {
    let failed = |msg: String| Error::new(ERROR_DOMAIN, ErrorCode::OPERATION_FAILED, msg);
    if let Some(other) = list.iter().find(|p| source_conflicts(&p.def, &def)) {
        return Err(failed(format!(
            "Storage source conflict with pool: '{}'",
            other.def.name
        )));
    }
    if let Some(i) = list.iter().position(|p| p.def.uuid == def.uuid) {
        let obj = &mut list[i];
        if obj.def.name != def.name {
            return Err(failed(format!(
                "pool '{}' is already defined with uuid {}",
                obj.def.name,
                obj.def.uuid_string()
            )));
        }
        if check_live && obj.active {
            let msg = format!("pool is already active as '{}'", obj.def.name);
            return Err(Error::new(ERROR_DOMAIN, ErrorCode::OPERATION_INVALID, msg));
        }
        // virStoragePoolObjAssignDef.
        if obj.active {
            obj.new_def = Some(def);
        } else {
            if obj.new_def.is_none() && live {
                obj.new_def = Some(obj.def.clone());
            }
            obj.def = def;
        }
        return Ok(i);
    }
    if let Some(obj) = list.iter().find(|p| p.def.name == def.name) {
        return Err(failed(format!(
            "pool '{}' already exists with uuid {}",
            def.name,
            obj.def.uuid_string()
        )));
    }
    list.push(PoolObj::new(def));
    Ok(list.len() - 1)
}

/// `virStoragePoolObjSourceFindDuplicateCb`: whether `new` would use the
/// storage `obj` (another pool) already uses.
pub fn source_conflicts(obj: &PoolDef, new: &PoolDef) -> bool {
    use PoolType::*;
    if obj.name == new.name {
        return false;
    }
    let single_host = || {
        obj.source.hosts.len() == 1
            && new.source.hosts.len() == 1
            && obj.source.hosts[0].name == new.source.hosts[0].name
    };
    let shared_device = || {
        obj.source
            .devices
            .iter()
            .any(|d| new.source.devices.iter().any(|n| n.path == d.path))
    };
    match obj.pool_type {
        Dir => new.pool_type == Dir && obj.target_path == new.target_path,
        Netfs => new.pool_type == Netfs && obj.source.dir == new.source.dir && single_host(),
        Gluster => {
            new.pool_type == Gluster
                && obj.source.name == new.source.name
                && obj.source.dir == new.source.dir
                && single_host()
        }
        Fs | Logical | Disk | Zfs => {
            matches!(new.pool_type, Fs | Logical | Disk | Zfs) && shared_device()
        }
        Mpath => new.pool_type == Mpath,
        Vstorage => new.pool_type == Vstorage && obj.source.name == new.source.name,
        Sheepdog => new.pool_type == Sheepdog && single_host(),
        // iSCSI and SCSI adapters are compared by libvirt on details no
        // rvirt backend reaches yet (iSCSI also needs a device match).
        Iscsi => new.pool_type == Iscsi && shared_device() && single_host(),
        Scsi | IscsiDirect | Rbd => false,
    }
}

/// `VIR_CONNECT_LIST_STORAGE_POOLS_<TYPE>`.
pub fn list_type_flag(t: PoolType) -> u32 {
    use PoolType::*;
    let bit = match t {
        Dir => 6,
        Fs => 7,
        Netfs => 8,
        Logical => 9,
        Disk => 10,
        Iscsi => 11,
        Scsi => 12,
        Mpath => 13,
        Rbd => 14,
        Sheepdog => 15,
        Gluster => 16,
        Zfs => 17,
        Vstorage => 18,
        IscsiDirect => 19,
    };
    1 << bit
}

/// `virStoragePoolObjMatch`: whether a pool of `pool_type` in this state
/// passes `virConnectListAllStoragePools`' `flags`.
pub fn matches_list_flags(
    flags: u32,
    pool_type: PoolType,
    active: bool,
    persistent: bool,
    autostart: bool,
) -> bool {
    let pair = |a: u32, b: u32, yes: bool| {
        flags & (a | b) == 0 || (flags & a != 0 && yes) || (flags & b != 0 && !yes)
    };
    let type_bits = flags & !0x3f;
    let type_ok = type_bits == 0 || flags & list_type_flag(pool_type) != 0;
    pair(2, 1, active) && pair(4, 8, persistent) && pair(16, 32, autostart) && type_ok
}
