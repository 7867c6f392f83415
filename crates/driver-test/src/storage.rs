//! The test driver's storage pools and volumes (libvirt's
//! src/test/test_driver.c "Storage Driver routines" with
//! src/conf/virstorageobj.c): one list per host, libvirt's `default-pool`
//! on `test:///default`, the pool events every connection on the host
//! hears.

use parking_lot::Mutex;
use rvirt::driver::storage::{PoolEvent, PoolEventRegistry, PoolRef, VolRef};
use rvirt_conf::storage::objlist;
use rvirt_conf::storage::{PoolDef, VolDef};
use rvirt_conf::xml::Element;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::sync::{Arc, Weak};

/// `VIR_FROM_TEST`: the test driver's own refusals.
pub(crate) const ERROR_DOMAIN: ErrorDomain = ErrorDomain::TEST;

/// `defaultPoolCap` (100 GiB) and `defaultPoolAlloc` (0).
pub(crate) const DEFAULT_POOL_CAP: u64 = 100 * 1024 * 1024 * 1024;

/// One pool (`virStoragePoolObj`); libvirt's test driver marks a
/// persistent one with an empty config file name, `Some(())` here.
pub(crate) type PoolObj = objlist::PoolObj;

/// What the test driver does with a pool beyond conf's object.
pub(crate) trait TestPool {
    fn pool_ref(&self) -> PoolRef;
    fn vol_ref(&self, v: &VolDef) -> VolRef;
    fn add_node_volume(&mut self, vol: VolDef) -> Result<()>;
    fn set_defaults(&mut self);
}

impl TestPool for PoolObj {
    fn pool_ref(&self) -> PoolRef {
        PoolRef::new(&self.def.name, self.def.uuid)
    }

    fn vol_ref(&self, v: &VolDef) -> VolRef {
        VolRef::new(&self.def.name, &v.name, v.key.clone().unwrap_or_default())
    }

    /// `testOpenVolumesForPool`: a volume of the node description, its
    /// path and key defaulted from the pool's target.
    fn add_node_volume(&mut self, mut vol: VolDef) -> Result<()> {
        let dir = self.def.target_path.as_deref().unwrap_or("(null)");
        let path = vol
            .target
            .path
            .get_or_insert_with(|| format!("{dir}/{}", vol.name))
            .clone();
        let key = vol.key.get_or_insert(path.clone()).clone();
        let taken = self.volumes.iter().any(|v| {
            v.name == vol.name
                || v.key.as_deref() == Some(&key)
                || v.target.path.as_deref() == Some(&path)
        });
        if taken {
            // virStoragePoolObjAddVol fails without saying why.
            return Err(Error::raw(
                ErrorDomain::NONE,
                ErrorCode::INTERNAL_ERROR,
                "An error occurred, but the cause is unknown",
            ));
        }
        account(&mut self.def, Some(vol.allocation), None);
        self.volumes.push(vol);
        Ok(())
    }

    /// `testStoragePoolObjSetDefaults`' figures.
    fn set_defaults(&mut self) {
        self.def.capacity = DEFAULT_POOL_CAP;
        self.def.allocation = 0;
        self.def.available = DEFAULT_POOL_CAP;
    }
}

/// A host's pools and the events raised under their lock.
pub(crate) type Pools = objlist::PoolList<(), (PoolRef, PoolEvent)>;

/// A host's pools and the pool event registries of its connections.
pub struct StorageState {
    pools: Mutex<Pools>,
    listeners: Mutex<Vec<Weak<PoolEventRegistry>>>,
}

pub(crate) fn no_vol_named(name: &str) -> Error {
    Error::new(
        ERROR_DOMAIN,
        ErrorCode::NO_STORAGE_VOL,
        format!("no storage vol with matching name '{name}'"),
    )
}

pub(crate) fn op_invalid(msg: String) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::OPERATION_INVALID, msg)
}

/// What the test driver does with its pool list beyond conf's.
pub(crate) trait TestPools {
    fn emit_lifecycle(&mut self, pool: PoolRef, event: i32);
    fn active(&mut self, name: &str) -> Result<&mut PoolObj>;
    fn inactive(&mut self, name: &str) -> Result<&mut PoolObj>;
    fn find_volume_refs(&self, pick: impl Fn(&VolDef) -> bool) -> Option<(PoolRef, VolRef)>;
}

impl TestPools for Pools {
    fn emit_lifecycle(&mut self, pool: PoolRef, event: i32) {
        self.emit((pool, PoolEvent::lifecycle(event)));
    }

    /// `testStoragePoolObjFindActiveByName`.
    fn active(&mut self, name: &str) -> Result<&mut PoolObj> {
        let p = self.by_name(name)?;
        if !p.active {
            return Err(op_invalid(format!("storage pool '{name}' is not active")));
        }
        Ok(p)
    }

    /// `testStoragePoolObjFindInactiveByName`.
    fn inactive(&mut self, name: &str) -> Result<&mut PoolObj> {
        let p = self.by_name(name)?;
        if p.active {
            return Err(op_invalid(format!("storage pool '{name}' is active")));
        }
        Ok(p)
    }

    /// The active pool holding a volume `pick` finds, and the volume.
    fn find_volume_refs(&self, pick: impl Fn(&VolDef) -> bool) -> Option<(PoolRef, VolRef)> {
        let (p, v) = self.find_volume(pick)?;
        Some((p.pool_ref(), p.vol_ref(v)))
    }
}

impl StorageState {
    /// A host's pools from its node description (`testParseStorage`):
    /// each persistent and running, with the test driver's figures and
    /// the `<volume>`s given under it (`test:///default`: libvirt's
    /// `default-pool`, empty).
    pub fn new(pools: &[Element]) -> Result<StorageState> {
        let mut list = Pools::new(ERROR_DOMAIN);
        for el in pools {
            let i = list.add(PoolDef::from_element(el)?, false, false)?;
            let obj = &mut list.list[i];
            obj.set_defaults();
            obj.config = Some(());
            obj.active = true;
            for v in el.children_named("volume") {
                obj.add_node_volume(VolDef::from_element(&obj.def, v, 0)?)?;
            }
        }
        Ok(StorageState {
            pools: Mutex::new(list),
            listeners: Mutex::new(Vec::new()),
        })
    }

    /// Run `f` on the pools, then deliver the events it raised to every
    /// connection's registry.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Pools) -> Result<R>) -> Result<R> {
        let (result, events) = {
            let mut pools = self.pools.lock();
            let result = f(&mut pools);
            (result, std::mem::take(&mut pools.pending))
        };
        if !events.is_empty() {
            let registries: Vec<Arc<PoolEventRegistry>> = {
                let mut list = self.listeners.lock();
                list.retain(|w| w.strong_count() > 0);
                list.iter().filter_map(Weak::upgrade).collect()
            };
            for (pool, event) in &events {
                for r in &registries {
                    r.emit(pool, event);
                }
            }
        }
        result
    }

    /// Listen for this host's pool events (dead registries pruned).
    pub fn add_listener(&self, registry: &Arc<PoolEventRegistry>) {
        let mut list = self.listeners.lock();
        list.retain(|w| w.strong_count() > 0);
        list.push(Arc::downgrade(registry));
    }
}

/// `virStoragePoolObjMatch` for `virConnectListAllStoragePools`' filters.
pub(crate) fn matches_list_flags(p: &PoolObj, flags: u32) -> bool {
    let flags = flags & rvirt::storage::LIST_POOLS_FILTERS_ALL;
    p.matches(flags)
}

/// The pool's allocation after a volume of `add` bytes came or one of
/// `remove` bytes went, and what is left (the test driver's sums, which
/// wrap as libvirt's unsigned ones do).
pub(crate) fn account(def: &mut PoolDef, add: Option<u64>, remove: Option<u64>) {
    if let Some(a) = add {
        def.allocation = def.allocation.wrapping_add(a);
    }
    if let Some(r) = remove {
        def.allocation = def.allocation.wrapping_sub(r);
    }
    def.available = def.capacity.wrapping_sub(def.allocation);
}
