//! The host storage driver's state (libvirt's `virStorageDriverState`):
//! the pools under one lock, the pool event registry every connection
//! shares, the paths of the persisted files, and the start-up of
//! `storageStateInitialize`: running pools' state, definitions and
//! autostart links read back, each pool checked (a `dir` pool whose
//! directory exists, an `fs` pool whose device is mounted, is running,
//! as libvirt decides), autostart pools started.

use crate::backend;
use crate::config::Paths;
use crate::persist;
use crate::pools::HostPool;
use crate::pools::HostPools;
use crate::pools::{PoolObj, Pools};
use crate::ERROR_DOMAIN;
use parking_lot::Mutex;
use rvirt::driver::storage::{pool_event, PoolEvent, PoolEventRegistry};
use rvirt_util::{Error, Result};
use std::sync::Arc;

pub(crate) struct Inner {
    pub paths: Paths,
    pools: Mutex<Pools>,
    pub events: PoolEventRegistry,
}

/// The host's storage driver, shared by every `qemu:///system` and
/// `storage:///system` connection of the daemon.
pub struct HostStorage {
    pub(crate) inner: Arc<Inner>,
}

impl Inner {
    /// Run `f` on the pools, then deliver the events it raised.
    pub fn with<R>(&self, f: impl FnOnce(&mut Pools) -> Result<R>) -> Result<R> {
        let (result, events) = {
            let mut pools = self.pools.lock();
            let result = f(&mut pools);
            (result, std::mem::take(&mut pools.pending))
        };
        for (pool, event) in &events {
            self.events.emit(pool, event);
        }
        result
    }

    /// `storagePoolRefreshImpl`; a failed refresh stops the pool
    /// (`storagePoolRefreshFailCleanup`: state file gone, device
    /// unmounted) and reports the refresh's error.
    pub fn refresh_or_stop(&self, obj: &mut PoolObj, with_state: bool) -> Result<()> {
        obj.volumes.clear();
        let Err(e) = backend::refresh(obj) else {
            return Ok(());
        };
        obj.volumes.clear();
        if with_state {
            persist::remove_quietly(&self.paths.state_file(&obj.def.name));
        }
        let _ = backend::stop(obj);
        Err(e)
    }

    /// Build (with `build_flags` when asked), start, save the state and
    /// refresh pool `i`; on failure it goes back to inactive.
    pub fn start_pool(&self, pools: &mut Pools, i: usize, build: Option<u32>) -> Result<()> {
        let started = (|| {
            let obj = &mut pools.list[i];
            if let Some(flags) = build {
                backend::build(obj, flags)?;
            }
            backend::start(obj)?;
            persist::save_state(&self.paths, &obj.def)?;
            self.refresh_or_stop(obj, true)
        })();
        match started {
            Ok(()) => {
                let obj = &mut pools.list[i];
                obj.active = true;
                let r = obj.pool_ref();
                pools.emit_lifecycle(r, pool_event::STARTED);
                Ok(())
            }
            Err(e) => {
                pools.update_inactive(i);
                Err(e)
            }
        }
    }
}

impl HostStorage {
    /// `storageStateInitialize` with rvirt's paths.
    pub fn start(paths: Paths) -> Result<HostStorage> {
        std::fs::create_dir_all(&paths.state_dir).map_err(|e| {
            let dir = paths.state_dir.display();
            Error::system(ERROR_DOMAIN, format!("cannot create directory {dir}"), &e)
        })?;
        let inner = Arc::new(Inner {
            pools: Mutex::new(Pools::new(crate::ERROR_DOMAIN)),
            events: PoolEventRegistry::default(),
            paths,
        });
        inner.with(|pools| {
            load(&inner.paths, pools);
            update_all_state(&inner, pools);
            autostart(&inner, pools);
            pools.pending.clear();
            Ok(())
        })?;
        Ok(HostStorage { inner })
    }
}

/// `virStoragePoolObjLoadAllState` then `...LoadAllConfigs`.
fn load(paths: &Paths, pools: &mut Pools) {
    for def in persist::load_states(paths) {
        match pools.add(def, false, true) {
            Ok(i) => pools.list[i].active = true,
            Err(e) => tracing::error!("{}", e.message),
        }
    }
    for stored in persist::load_configs(paths) {
        match pools.add(stored.def, false, false) {
            Ok(i) => {
                let obj = &mut pools.list[i];
                obj.config = Some(stored.config_file);
                obj.autostart = stored.autostart;
            }
            Err(e) => tracing::error!("{}", e.message),
        }
    }
}

/// `storagePoolUpdateAllState`.
fn update_all_state(inner: &Inner, pools: &mut Pools) {
    let mut i = 0;
    while i < pools.list.len() {
        let obj = &mut pools.list[i];
        let name = obj.def.name.clone();
        let mut active =
            match backend::supported(obj.def.pool_type).and_then(|_| backend::check(obj)) {
                Ok(a) => a,
                Err(e) => {
                    tracing::error!("Failed to initialize storage pool '{name}': {}", e.message);
                    persist::remove_quietly(&inner.paths.state_file(&name));
                    false
                }
            };
        if active {
            if let Err(e) = inner.refresh_or_stop(obj, true) {
                tracing::error!("Failed to restart storage pool '{name}': {}", e.message);
                active = false;
            }
        }
        obj.active = active;
        let before = pools.list.len();
        if !active {
            pools.update_inactive(i);
        }
        if pools.list.len() == before {
            i += 1;
        }
    }
}

/// `storageDriverAutostart`.
fn autostart(inner: &Inner, pools: &mut Pools) {
    let names: Vec<String> = pools
        .list
        .iter()
        .filter(|p| p.autostart && !p.active)
        .map(|p| p.def.name.clone())
        .collect();
    for name in names {
        let Ok(i) = pools.index_by_name(&name) else {
            continue;
        };
        if let Err(e) = inner.start_pool(pools, i, None) {
            tracing::error!("Failed to autostart storage pool '{name}': {}", e.message);
        }
    }
}

/// A refresh event for the pool an upload went to, once its stream ends
/// (`virStorageVolPoolRefreshThread`).
pub(crate) fn refresh_after_upload(inner: &Arc<Inner>, pool: String) -> crate::streams::OnFinish {
    let inner = Arc::clone(inner);
    Box::new(move || {
        let _ = inner.with(|pools| {
            let i = pools.index_by_name(&pool)?;
            let obj = &mut pools.list[i];
            if !obj.active {
                return Ok(());
            }
            if let Err(e) = inner.refresh_or_stop(obj, false) {
                tracing::debug!("Failed to refresh storage pool: {}", e.message);
            }
            let r = pools.list[i].pool_ref();
            pools.emit((r, PoolEvent::Refresh));
            Ok(())
        });
    })
}
