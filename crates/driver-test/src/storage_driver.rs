//! `StorageDriver` for the test driver: libvirt's `testStorageDriver`
//! entries, with its checks, messages and events. Entries libvirt's test
//! driver leaves NULL (wipe, resize, upload, download, pool capabilities,
//! lookup by target path) keep the trait's `VIR_ERR_NO_SUPPORT` default.

use crate::check_flags;
use crate::state::TestState;
use crate::storage::TestPools;
use crate::storage::{account, matches_list_flags, no_vol_named, PoolObj, TestPool, ERROR_DOMAIN};
use rvirt::driver::storage::{pool_event, PoolEvent, PoolEventCallback};
use rvirt::driver::storage::{PoolEventRegistry, PoolInfo, PoolRef, VolInfo, VolRef};
use rvirt::driver::StorageDriver;
use rvirt::storage::LIST_POOLS_FILTERS_ALL;
use rvirt_conf::storage::{PoolDef, PoolSource, PoolType, VolDef};
use rvirt_util::{Error, ErrorCode, Result};
use std::sync::Arc;

/// `defaultPoolSourcesLogicalXML`.
const LOGICAL_SOURCES: &str = "<sources>\n  <source>\n    <device path='/dev/sda20'/>\n    \
<name>testvg1</name>\n    <format type='lvm2'/>\n  </source>\n  <source>\n    \
<device path='/dev/sda21'/>\n    <name>testvg2</name>\n    <format type='lvm2'/>\n  \
</source>\n</sources>\n";

/// One connection's view of its host's storage.
pub struct TestStorage {
    state: Arc<TestState>,
    events: Arc<PoolEventRegistry>,
}

impl TestStorage {
    pub fn new(state: Arc<TestState>) -> TestStorage {
        let events = Arc::new(PoolEventRegistry::default());
        state.storage.add_listener(&events);
        TestStorage { state, events }
    }

    fn with<R>(&self, f: impl FnOnce(&mut crate::storage::Pools) -> Result<R>) -> Result<R> {
        self.state.storage.with(f)
    }

    /// Names of the pools that are (or are not) active, at most `max`.
    fn names(&self, active: bool, max: usize) -> Result<Vec<String>> {
        self.with(|p| Ok(p.names(active, max)))
    }

    /// A transition of a pool `find` picks: `f` changes it, `event` is raised.
    fn transition(
        &self,
        pool: &PoolRef,
        want_active: bool,
        event: i32,
        f: impl FnOnce(&mut PoolObj),
    ) -> Result<()> {
        self.with(|p| {
            let obj = if want_active {
                p.active(&pool.name)?
            } else {
                p.inactive(&pool.name)?
            };
            f(obj);
            p.emit_lifecycle(pool.clone(), event);
            Ok(())
        })
    }

    /// A volume of an active pool, read by `f` with its pool.
    fn read_vol<R>(
        &self,
        vol: &VolRef,
        f: impl FnOnce(&PoolObj, &VolDef) -> Result<R>,
    ) -> Result<R> {
        self.with(|p| {
            let obj = p.active(&vol.pool)?;
            let v = obj
                .volumes
                .iter()
                .find(|v| v.name == vol.name)
                .ok_or_else(|| no_vol_named(&vol.name))?;
            f(obj, v)
        })
    }

    /// `testStorageVolCreateXML` and `...XMLFrom` (`clone`: the name of the
    /// volume to copy, looked up in the target pool as libvirt does).
    fn create_vol(&self, pool: &PoolRef, xml: &str, clone: Option<&str>) -> Result<VolRef> {
        self.with(|p| {
            let obj = p.active(&pool.name)?;
            let mut vol = VolDef::parse(&obj.def, xml, 0)?;
            if obj.volumes.iter().any(|v| v.name == vol.name) {
                return Err(Error::new(
                    ERROR_DOMAIN,
                    ErrorCode::OPERATION_FAILED,
                    "storage vol already exists",
                ));
            }
            if let Some(c) = clone {
                if !obj.volumes.iter().any(|v| v.name == c) {
                    return Err(no_vol_named(c));
                }
            }
            if obj.def.allocation.saturating_add(vol.allocation) > obj.def.capacity {
                return Err(Error::new(
                    ERROR_DOMAIN,
                    ErrorCode::INTERNAL_ERROR,
                    format!("Not enough free space in pool for volume '{}'", vol.name),
                ));
            }
            let dir = obj.def.target_path.as_deref().unwrap_or("(null)");
            let path = format!("{dir}/{}", vol.name);
            vol.target.path = Some(path.clone());
            vol.key = Some(path);
            account(&mut obj.def, Some(vol.allocation), None);
            let r = obj.vol_ref(&vol);
            obj.volumes.push(vol);
            Ok(r)
        })
    }
}

impl StorageDriver for TestStorage {
    fn num_of_pools(&self) -> Result<i32> {
        Ok(self.names(true, usize::MAX)?.len() as i32)
    }
    fn list_pools(&self, max: usize) -> Result<Vec<String>> {
        self.names(true, max)
    }
    fn num_of_defined_pools(&self) -> Result<i32> {
        Ok(self.names(false, usize::MAX)?.len() as i32)
    }
    fn list_defined_pools(&self, max: usize) -> Result<Vec<String>> {
        self.names(false, max)
    }
    fn list_all_pools(&self, flags: u32) -> Result<Vec<PoolRef>> {
        check_flags(
            "testConnectListAllStoragePools",
            flags,
            LIST_POOLS_FILTERS_ALL,
        )?;
        self.with(|p| {
            Ok(p.list
                .iter()
                .filter(|o| matches_list_flags(o, flags))
                .map(PoolObj::pool_ref)
                .collect())
        })
    }
    fn find_pool_sources(&self, kind: &str, spec: Option<&str>, flags: u32) -> Result<String> {
        check_flags("testConnectFindStoragePoolSources", flags, 0)?;
        find_sources(kind, spec)
    }
    fn pool_lookup_by_name(&self, name: &str) -> Result<PoolRef> {
        self.with(|p| Ok(p.by_name(name)?.pool_ref()))
    }
    fn pool_lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<PoolRef> {
        self.with(|p| Ok(p.by_uuid(uuid)?.pool_ref()))
    }
    fn pool_lookup_by_volume(&self, vol: &VolRef) -> Result<PoolRef> {
        self.pool_lookup_by_name(&vol.pool)
    }
    fn pool_create_xml(&self, xml: &str, flags: u32) -> Result<PoolRef> {
        check_flags("testStoragePoolCreateXML", flags, 0)?;
        let def = PoolDef::parse(xml)?;
        self.with(|p| {
            // A running pool keeps its definition; libvirt's test driver
            // never applies or shows the next one it stores.
            let i = p.add(def, true, true)?;
            let obj = &mut p.list[i];
            obj.set_defaults();
            obj.config = None;
            obj.active = true;
            let r = obj.pool_ref();
            p.emit_lifecycle(r.clone(), pool_event::STARTED);
            Ok(r)
        })
    }
    fn pool_define_xml(&self, xml: &str, flags: u32) -> Result<PoolRef> {
        // VIR_STORAGE_POOL_DEFINE_VALIDATE: the schema check is not modelled.
        check_flags("testStoragePoolDefineXML", flags, 1)?;
        let def = PoolDef::parse(xml)?;
        self.with(|p| {
            let i = p.add(def, false, false)?;
            let obj = &mut p.list[i];
            obj.set_defaults();
            obj.config = Some(());
            let r = obj.pool_ref();
            p.emit_lifecycle(r.clone(), pool_event::DEFINED);
            Ok(r)
        })
    }
    fn pool_build(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        check_flags("testStoragePoolBuild", flags, 0)?;
        self.transition(pool, false, pool_event::CREATED, |_| {})
    }
    fn pool_undefine(&self, pool: &PoolRef) -> Result<()> {
        self.with(|p| {
            p.inactive(&pool.name)?;
            let i = p.index_by_name(&pool.name)?;
            p.list.remove(i);
            p.emit_lifecycle(pool.clone(), pool_event::UNDEFINED);
            Ok(())
        })
    }
    fn pool_create(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        check_flags("testStoragePoolCreate", flags, 0)?;
        self.transition(pool, false, pool_event::STARTED, |o| o.active = true)
    }
    fn pool_destroy(&self, pool: &PoolRef) -> Result<()> {
        self.with(|p| {
            let obj = p.active(&pool.name)?;
            obj.active = false;
            let (r, persistent) = (obj.pool_ref(), obj.persistent());
            if !persistent {
                let i = p.index_by_name(&pool.name)?;
                p.list.remove(i);
            }
            p.emit_lifecycle(r, pool_event::STOPPED);
            Ok(())
        })
    }
    fn pool_delete(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        check_flags("testStoragePoolDelete", flags, 0)?;
        self.transition(pool, false, pool_event::DELETED, |_| {})
    }
    fn pool_refresh(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        check_flags("testStoragePoolRefresh", flags, 0)?;
        self.with(|p| {
            p.active(&pool.name)?;
            p.emit((pool.clone(), PoolEvent::Refresh));
            Ok(())
        })
    }
    fn pool_get_info(&self, pool: &PoolRef) -> Result<PoolInfo> {
        self.with(|p| {
            let o = p.by_name(&pool.name)?;
            Ok(PoolInfo::of(o.active, o.def.figures()))
        })
    }
    fn pool_get_xml_desc(&self, pool: &PoolRef, flags: u32) -> Result<String> {
        check_flags("testStoragePoolGetXMLDesc", flags, 0)?;
        self.with(|p| Ok(p.by_name(&pool.name)?.def.format()))
    }
    fn pool_get_autostart(&self, pool: &PoolRef) -> Result<bool> {
        self.with(|p| {
            let o = p.by_name(&pool.name)?;
            Ok(o.persistent() && o.autostart)
        })
    }
    fn pool_set_autostart(&self, pool: &PoolRef, autostart: bool) -> Result<()> {
        self.with(|p| {
            let o = p.by_name(&pool.name)?;
            if !o.persistent() {
                return Err(Error::invalid_arg(ERROR_DOMAIN, "pool has no config file"));
            }
            o.autostart = autostart;
            Ok(())
        })
    }
    fn pool_is_active(&self, pool: &PoolRef) -> Result<bool> {
        self.with(|p| Ok(p.by_uuid(&pool.uuid)?.active))
    }
    fn pool_is_persistent(&self, pool: &PoolRef) -> Result<bool> {
        self.with(|p| Ok(p.by_uuid(&pool.uuid)?.persistent()))
    }
    fn pool_num_of_volumes(&self, pool: &PoolRef) -> Result<i32> {
        self.with(|p| Ok(p.active(&pool.name)?.volumes.len() as i32))
    }
    fn pool_list_volumes(&self, pool: &PoolRef, max: usize) -> Result<Vec<String>> {
        self.with(|p| {
            let o = p.active(&pool.name)?;
            Ok(o.volumes.iter().take(max).map(|v| v.name.clone()).collect())
        })
    }
    fn pool_list_all_volumes(&self, pool: &PoolRef, flags: u32) -> Result<Vec<VolRef>> {
        check_flags("testStoragePoolListAllVolumes", flags, 0)?;
        self.with(|p| {
            let o = p.by_uuid(&pool.uuid)?;
            if !o.active {
                return Err(crate::storage::op_invalid(
                    "storage pool is not active".into(),
                ));
            }
            Ok(o.volumes.iter().map(|v| o.vol_ref(v)).collect())
        })
    }
    fn vol_lookup_by_name(&self, pool: &PoolRef, name: &str) -> Result<VolRef> {
        self.with(|p| {
            let o = p.active(&pool.name)?;
            let v = o.volumes.iter().find(|v| v.name == name);
            v.map(|v| o.vol_ref(v)).ok_or_else(|| no_vol_named(name))
        })
    }
    fn vol_lookup_by_key(&self, key: &str) -> Result<VolRef> {
        self.with(|p| {
            let found = p.find_volume_refs(|v| v.key.as_deref() == Some(key));
            found
                .map(|(_, v)| v)
                .ok_or_else(|| no_vol_matching("key", key))
        })
    }
    fn vol_lookup_by_path(&self, path: &str) -> Result<VolRef> {
        self.with(|p| {
            let found = p.find_volume_refs(|v| v.target.path.as_deref() == Some(path));
            found
                .map(|(_, v)| v)
                .ok_or_else(|| no_vol_matching("path", path))
        })
    }
    fn vol_create_xml(&self, pool: &PoolRef, xml: &str, flags: u32) -> Result<VolRef> {
        // VIR_STORAGE_VOL_CREATE_VALIDATE: the schema check is not modelled.
        check_flags("testStorageVolCreateXML", flags, 4)?;
        self.create_vol(pool, xml, None)
    }
    fn vol_create_xml_from(
        &self,
        pool: &PoolRef,
        xml: &str,
        clone: &VolRef,
        flags: u32,
    ) -> Result<VolRef> {
        check_flags("testStorageVolCreateXMLFrom", flags, 4)?;
        self.create_vol(pool, xml, Some(&clone.name))
    }
    fn vol_delete(&self, vol: &VolRef, flags: u32) -> Result<()> {
        check_flags("testStorageVolDelete", flags, 0)?;
        self.with(|p| {
            let o = p.active(&vol.pool)?;
            let i = o
                .volumes
                .iter()
                .position(|v| v.name == vol.name)
                .ok_or_else(|| no_vol_named(&vol.name))?;
            let gone = o.volumes.remove(i);
            account(&mut o.def, None, Some(gone.allocation));
            Ok(())
        })
    }
    fn vol_get_info(&self, vol: &VolRef) -> Result<VolInfo> {
        self.read_vol(vol, |o, v| {
            Ok(VolInfo {
                kind: o.def.pool_type.volume_type() as i32,
                capacity: v.capacity,
                allocation: v.allocation,
            })
        })
    }
    fn vol_get_xml_desc(&self, vol: &VolRef, flags: u32) -> Result<String> {
        check_flags("testStorageVolGetXMLDesc", flags, 0)?;
        self.read_vol(vol, |o, v| Ok(v.format(&o.def)))
    }
    fn vol_get_path(&self, vol: &VolRef) -> Result<String> {
        self.read_vol(vol, |_, v| Ok(v.target.path.clone().unwrap_or_default()))
    }
    fn pool_event_register_any(
        &self,
        pool: Option<&PoolRef>,
        event_id: i32,
        callback: PoolEventCallback,
    ) -> Result<i32> {
        Ok(self.events.register(pool, event_id, callback))
    }
    fn pool_event_deregister_any(&self, callback_id: i32) -> Result<()> {
        rvirt::events::deregistered(self.events.deregister(callback_id), callback_id)
    }
}

fn no_vol_matching(what: &str, value: &str) -> Error {
    Error::new(
        ERROR_DOMAIN,
        ErrorCode::NO_STORAGE_VOL,
        format!("no storage vol with matching {what} '{value}'"),
    )
}

/// `testConnectFindStoragePoolSources`. libvirt tests the type's number
/// for zero: "dir" is the type it calls unknown, and an unknown name
/// (-1) goes on to the "does not support source discovery" refusal.
fn find_sources(kind: &str, spec: Option<&str>) -> Result<String> {
    use rvirt_conf::domain::props::VirEnum;
    let pool_type = PoolType::from_str_opt(kind);
    if pool_type == Some(PoolType::Dir) {
        return Err(Error::new(
            ERROR_DOMAIN,
            ErrorCode::INTERNAL_ERROR,
            format!("unknown storage pool type {kind}"),
        ));
    }
    let source = match (spec, pool_type) {
        (None, _) => None,
        (Some(s), Some(t)) => Some(PoolSource::parse_spec(s, t)?),
        (Some(_), None) => {
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::INTERNAL_ERROR,
                "missing backend for pool type -1",
            ))
        }
    };
    match pool_type {
        Some(PoolType::Logical) => Ok(LOGICAL_SOURCES.to_string()),
        Some(PoolType::Netfs) => {
            let host = source
                .as_ref()
                .and_then(|s| s.hosts.first())
                .ok_or_else(|| {
                    Error::invalid_arg(ERROR_DOMAIN, "hostname must be specified for netfs sources")
                })?;
            Ok(format!(
                "<sources>\n  <source>\n    <host name='{}'/>\n    <dir path='/testshare'/>\n    \
<format type='nfs'/>\n  </source>\n</sources>\n",
                host.name
            ))
        }
        _ => Err(Error::new(
            ERROR_DOMAIN,
            ErrorCode::NO_SUPPORT,
            format!("pool type '{kind}' does not support source discovery"),
        )),
    }
}
