//! The host's pool objects (libvirt's `virStoragePoolObj` and its list in
//! src/conf/virstorageobj.c): lookups with the storage driver's messages,
//! adding a definition (`virStoragePoolObjListAdd` with its duplicate
//! and source-conflict checks and the running pool's pending `newDef`),
//! and the events raised under the lock, delivered after it.

use crate::ERROR_DOMAIN;
use rvirt::driver::storage::{PoolEvent, PoolRef, VolRef};
use rvirt_conf::storage::objlist::source_conflicts;
use rvirt_conf::storage::{PoolDef, VolDef};
use rvirt_util::{Error, ErrorCode, Result};
use std::path::PathBuf;

/// One pool (`virStoragePoolObj`).
pub struct PoolObj {
    pub def: PoolDef,
    /// The definition that takes over when the running pool stops.
    pub new_def: Option<PoolDef>,
    pub active: bool,
    pub autostart: bool,
    /// `CONFIG/NAME.xml` of a persistent pool.
    pub config_file: Option<PathBuf>,
    pub volumes: Vec<VolDef>,
}

impl PoolObj {
    fn new(def: PoolDef) -> PoolObj {
        PoolObj {
            def,
            new_def: None,
            active: false,
            autostart: false,
            config_file: None,
            volumes: Vec::new(),
        }
    }

    pub fn pool_ref(&self) -> PoolRef {
        PoolRef {
            name: self.def.name.clone(),
            uuid: self.def.uuid,
        }
    }

    pub fn vol_ref(&self, v: &VolDef) -> VolRef {
        VolRef {
            pool: self.def.name.clone(),
            name: v.name.clone(),
            key: v.key.clone().unwrap_or_default(),
        }
    }

    pub fn target_path(&self) -> &str {
        self.def.target_path.as_deref().unwrap_or("")
    }

    /// `virStorageVolDefFindByName`, or libvirt's error.
    pub fn vol_index(&self, name: &str) -> Result<usize> {
        self.volumes
            .iter()
            .position(|v| v.name == name)
            .ok_or_else(|| no_vol(format!("no storage vol with matching name '{name}'")))
    }

    /// The error of an operation that needs the pool running.
    pub fn check_active(&self) -> Result<()> {
        if !self.active {
            return Err(op_invalid(format!(
                "storage pool '{}' is not active",
                self.def.name
            )));
        }
        Ok(())
    }

    pub fn check_inactive(&self, what: &str) -> Result<()> {
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

fn op_failed(msg: String) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::OPERATION_FAILED, msg)
}

fn uuid_text(uuid: &[u8; 16]) -> String {
    rvirt_util::uuid::Uuid::from_bytes(*uuid).to_string()
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
        self.list
            .iter()
            .position(|p| p.def.name == name)
            .ok_or_else(|| no_pool(format!("no storage pool with matching name '{name}'")))
    }

    pub fn by_name(&mut self, name: &str) -> Result<&mut PoolObj> {
        let i = self.index_by_name(name)?;
        Ok(&mut self.list[i])
    }

    /// `storagePoolObjFindByUUID` without a name (a lookup).
    pub fn by_uuid(&mut self, uuid: &[u8; 16]) -> Result<&mut PoolObj> {
        let text = uuid_text(uuid);
        self.list
            .iter_mut()
            .find(|p| &p.def.uuid == uuid)
            .ok_or_else(|| no_pool(format!("no storage pool with matching uuid '{text}'")))
    }

    /// `virStoragePoolObjFromStoragePool`: the pool a handle names.
    pub fn index_of(&self, pool: &PoolRef) -> Result<usize> {
        self.list
            .iter()
            .position(|p| p.def.uuid == pool.uuid)
            .ok_or_else(|| {
                let text = uuid_text(&pool.uuid);
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

    /// `virStoragePoolObjListAdd`: the index of the pool `def` now
    /// defines. `live`: `def` is a running definition (a defined pool
    /// keeps its own as the one to come back to); `check_live`: refuse a
    /// running pool of the same uuid.
    pub fn add(&mut self, def: PoolDef, live: bool, check_live: bool) -> Result<usize> {
        if let Some(other) = self.list.iter().find(|p| source_conflicts(&p.def, &def)) {
            return Err(op_failed(format!(
                "Storage source conflict with pool: '{}'",
                other.def.name
            )));
        }
        if let Some(i) = self.list.iter().position(|p| p.def.uuid == def.uuid) {
            let obj = &mut self.list[i];
            if obj.def.name != def.name {
                return Err(op_failed(format!(
                    "pool '{}' is already defined with uuid {}",
                    obj.def.name,
                    obj.def.uuid_string()
                )));
            }
            if check_live && obj.active {
                return Err(op_invalid(format!(
                    "pool is already active as '{}'",
                    obj.def.name
                )));
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
        if let Some(obj) = self.list.iter().find(|p| p.def.name == def.name) {
            return Err(op_failed(format!(
                "pool '{}' already exists with uuid {}",
                def.name,
                obj.def.uuid_string()
            )));
        }
        self.list.push(PoolObj::new(def));
        Ok(self.list.len() - 1)
    }

    /// `virStoragePoolUpdateInactive`: a stopped transient pool goes, a
    /// persistent one takes up its pending definition.
    pub fn update_inactive(&mut self, i: usize) {
        let obj = &mut self.list[i];
        if obj.config_file.is_none() {
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
