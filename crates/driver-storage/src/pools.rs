//! The host's pool objects (libvirt's `virStoragePoolObj` and its list in
//! src/conf/virstorageobj.c): lookups with the storage driver's messages,
//! adding a definition (`virStoragePoolObjListAdd` with its duplicate
//! and source-conflict checks and the running pool's pending `newDef`),
//! and the events raised under the lock, delivered after it.

use crate::ERROR_DOMAIN;
use rvirt::driver::storage::{PoolEvent, PoolRef, VolRef};
use rvirt_conf::storage::objlist;
use rvirt_conf::storage::{PoolDef, VolDef};
use rvirt_util::{Error, ErrorCode, Result};
use std::path::PathBuf;

/// One pool (`virStoragePoolObj`), persistent with its `CONFIG/NAME.xml`.
pub type PoolObj = objlist::PoolObj<PathBuf>;

/// What the host driver reads of a pool beyond conf's object.
pub trait HostPool {
    fn pool_ref(&self) -> PoolRef;
    fn vol_ref(&self, v: &VolDef) -> VolRef;
    fn target_path(&self) -> &str;
    fn vol_index(&self, name: &str) -> Result<usize>;
    fn check_active(&self) -> Result<()>;
    fn check_inactive(&self, what: &str) -> Result<()>;
}

impl HostPool for PoolObj {
    fn pool_ref(&self) -> PoolRef {
        PoolRef {
            name: self.def.name.clone(),
            uuid: self.def.uuid,
        }
    }

    fn vol_ref(&self, v: &VolDef) -> VolRef {
        VolRef {
            pool: self.def.name.clone(),
            name: v.name.clone(),
            key: v.key.clone().unwrap_or_default(),
        }
    }

    fn target_path(&self) -> &str {
        self.def.target_path.as_deref().unwrap_or("")
    }

    /// `virStorageVolDefFindByName`, or libvirt's error.
    fn vol_index(&self, name: &str) -> Result<usize> {
        self.volumes
            .iter()
            .position(|v| v.name == name)
            .ok_or_else(|| no_vol(format!("no storage vol with matching name '{name}'")))
    }

    /// The error of an operation that needs the pool running.
    fn check_active(&self) -> Result<()> {
        if !self.active {
            return Err(op_invalid(format!(
                "storage pool '{}' is not active",
                self.def.name
            )));
        }
        Ok(())
    }

    fn check_inactive(&self, what: &str) -> Result<()> {
        if self.active {
            return Err(op_invalid(format!(
                "storage pool '{}' is {what}",
                self.def.name
            )));
        }
        Ok(())
    }
}

pub fn op_invalid(msg: String) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::OPERATION_INVALID, msg)
}

pub fn no_vol(msg: String) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::NO_STORAGE_VOL, msg)
}

fn no_pool(msg: String) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::NO_STORAGE_POOL, msg)
}

#[derive(Default)]
pub struct Pools {
    pub list: Vec<PoolObj>,
    /// Events raised under the lock, delivered after.
    pub pending: Vec<(PoolRef, PoolEvent)>,
}

impl Pools {
    pub fn emit(&mut self, pool: PoolRef, event: PoolEvent) {
        self.pending.push((pool, event));
    }

    pub fn emit_lifecycle(&mut self, pool: PoolRef, event: i32) {
        self.emit(pool, PoolEvent::Lifecycle { event, detail: 0 });
    }

    /// `storagePoolObjFindByName`.
    pub fn index_by_name(&self, name: &str) -> Result<usize> {
        objlist::index_by_name(&self.list, name, ERROR_DOMAIN)
    }

    pub fn by_name(&mut self, name: &str) -> Result<&mut PoolObj> {
        let i = self.index_by_name(name)?;
        Ok(&mut self.list[i])
    }

    /// `storagePoolObjFindByUUID` without a name (a lookup).
    pub fn by_uuid(&mut self, uuid: &[u8; 16]) -> Result<&mut PoolObj> {
        let i = objlist::index_by_uuid(&self.list, uuid, ERROR_DOMAIN)?;
        Ok(&mut self.list[i])
    }

    /// `virStoragePoolObjFromStoragePool`: the pool a handle names.
    pub fn index_of(&self, pool: &PoolRef) -> Result<usize> {
        self.list
            .iter()
            .position(|p| p.def.uuid == pool.uuid)
            .ok_or_else(|| {
                let text = rvirt_util::uuid::Uuid::from_bytes(pool.uuid);
                no_pool(format!(
                    "no storage pool with matching uuid '{text}' ({})",
                    pool.name
                ))
            })
    }

    pub fn of(&mut self, pool: &PoolRef) -> Result<&mut PoolObj> {
        let i = self.index_of(pool)?;
        Ok(&mut self.list[i])
    }

    /// `virStoragePoolObjListAdd` (conf's [`objlist::add`]).
    pub fn add(&mut self, def: PoolDef, live: bool, check_live: bool) -> Result<usize> {
        objlist::add(&mut self.list, def, live, check_live)
    }

    /// `virStoragePoolUpdateInactive`: a stopped transient pool goes, a
    /// persistent one takes up its pending definition.
    pub fn update_inactive(&mut self, i: usize) {
        let obj = &mut self.list[i];
        if obj.config.is_none() {
            self.list.remove(i);
        } else if let Some(def) = obj.new_def.take() {
            obj.def = def;
        }
    }

    /// The active pool holding a volume `pick` finds.
    pub fn find_volume(&self, pick: impl Fn(&VolDef) -> bool) -> Option<VolRef> {
        self.list.iter().filter(|p| p.active).find_map(|p| {
            let v = p.volumes.iter().find(|v| pick(v))?;
            Some(p.vol_ref(v))
        })
    }
}
