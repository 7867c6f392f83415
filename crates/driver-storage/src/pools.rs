//! The host's pool objects (libvirt's `virStoragePoolObj` and its list in
//! src/conf/virstorageobj.c): lookups with the storage driver's messages,
//! adding a definition (`virStoragePoolObjListAdd` with its duplicate
//! and source-conflict checks and the running pool's pending `newDef`),
//! and the events raised under the lock, delivered after it.

use crate::ERROR_DOMAIN;
use rvirt::driver::storage::{PoolEvent, PoolRef, VolRef};
use rvirt_conf::storage::objlist;
use rvirt_conf::storage::VolDef;
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
        PoolRef::new(&self.def.name, self.def.uuid)
    }

    fn vol_ref(&self, v: &VolDef) -> VolRef {
        VolRef::new(&self.def.name, &v.name, v.key.clone().unwrap_or_default())
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

/// The host's pools and the events raised under their lock.
pub type Pools = objlist::PoolList<PathBuf, (PoolRef, PoolEvent)>;

/// What the host driver does with its pool list beyond conf's.
pub trait HostPools {
    fn emit_lifecycle(&mut self, pool: PoolRef, event: i32);
    fn index_of(&self, pool: &PoolRef) -> Result<usize>;
    fn of(&mut self, pool: &PoolRef) -> Result<&mut PoolObj>;
    fn update_inactive(&mut self, i: usize);
    fn find_volume_ref(&self, pick: impl Fn(&VolDef) -> bool) -> Option<VolRef>;
}

impl HostPools for Pools {
    fn emit_lifecycle(&mut self, pool: PoolRef, event: i32) {
        self.emit((pool, PoolEvent::lifecycle(event)));
    }

    /// `virStoragePoolObjFromStoragePool`: the pool a handle names.
    fn index_of(&self, pool: &PoolRef) -> Result<usize> {
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

    fn of(&mut self, pool: &PoolRef) -> Result<&mut PoolObj> {
        let i = self.index_of(pool)?;
        Ok(&mut self.list[i])
    }

    /// `virStoragePoolUpdateInactive`: a stopped transient pool goes, a
    /// persistent one takes up its pending definition.
    fn update_inactive(&mut self, i: usize) {
        let obj = &mut self.list[i];
        if obj.config.is_none() {
            self.list.remove(i);
        } else if let Some(def) = obj.new_def.take() {
            obj.def = def;
        }
    }

    /// The active pool holding a volume `pick` finds.
    fn find_volume_ref(&self, pick: impl Fn(&VolDef) -> bool) -> Option<VolRef> {
        let (p, v) = self.find_volume(pick)?;
        Some(p.vol_ref(v))
    }
}
