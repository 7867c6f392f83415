//! `StorageDriver` for the host: each entry hands over to the pool or
//! volume code (api_pool.rs, api_vol.rs).

use crate::driver::HostStorage;
use crate::pools::HostPool;
use crate::pools::HostPools;
use rvirt::driver::storage::{PoolEventCallback, PoolInfo, PoolRef, VolInfo, VolRange, VolRef};
use rvirt::driver::StorageDriver;
use rvirt::Stream;
use rvirt_util::Result;

impl StorageDriver for HostStorage {
    fn num_of_pools(&self) -> Result<i32> {
        Ok(self.pool_names(true, usize::MAX)?.len() as i32)
    }
    fn list_pools(&self, max: usize) -> Result<Vec<String>> {
        self.pool_names(true, max)
    }
    fn num_of_defined_pools(&self) -> Result<i32> {
        Ok(self.pool_names(false, usize::MAX)?.len() as i32)
    }
    fn list_defined_pools(&self, max: usize) -> Result<Vec<String>> {
        self.pool_names(false, max)
    }
    fn list_all_pools(&self, flags: u32) -> Result<Vec<PoolRef>> {
        self.list_all(flags)
    }
    fn find_pool_sources(&self, kind: &str, _spec: Option<&str>, _flags: u32) -> Result<String> {
        self.find_sources(kind)
    }
    /// rvirt's backends: `dir` and `fs`.
    fn pool_capabilities(&self, flags: u32) -> Result<String> {
        crate::backend::check_flags("storageConnectGetStoragePoolCapabilities", flags, 0)?;
        use rvirt_conf::storage::{pool_capabilities, PoolType};
        Ok(pool_capabilities(&[PoolType::Dir, PoolType::Fs]))
    }
    fn pool_lookup_by_name(&self, name: &str) -> Result<PoolRef> {
        self.inner.with(|p| Ok(p.by_name(name)?.pool_ref()))
    }
    fn pool_lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<PoolRef> {
        self.inner.with(|p| Ok(p.by_uuid(uuid)?.pool_ref()))
    }
    fn pool_lookup_by_volume(&self, vol: &VolRef) -> Result<PoolRef> {
        self.pool_lookup_by_name(&vol.pool)
    }
    fn pool_lookup_by_target_path(&self, path: &str) -> Result<PoolRef> {
        self.by_target_path(path)
    }
    fn pool_create_xml(&self, xml: &str, flags: u32) -> Result<PoolRef> {
        self.create_xml(xml, flags)
    }
    fn pool_define_xml(&self, xml: &str, flags: u32) -> Result<PoolRef> {
        self.define_xml(xml, flags)
    }
    fn pool_build(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        self.build(pool, flags)
    }
    fn pool_undefine(&self, pool: &PoolRef) -> Result<()> {
        self.undefine(pool)
    }
    fn pool_create(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        self.create(pool, flags)
    }
    fn pool_destroy(&self, pool: &PoolRef) -> Result<()> {
        self.destroy(pool)
    }
    fn pool_delete(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        self.delete(pool, flags)
    }
    fn pool_refresh(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        self.refresh(pool, flags)
    }
    fn pool_get_info(&self, pool: &PoolRef) -> Result<PoolInfo> {
        self.info(pool)
    }
    fn pool_get_xml_desc(&self, pool: &PoolRef, flags: u32) -> Result<String> {
        self.xml_desc(pool, flags)
    }
    fn pool_get_autostart(&self, pool: &PoolRef) -> Result<bool> {
        self.inner.with(|p| Ok(p.of(pool)?.autostart))
    }
    fn pool_set_autostart(&self, pool: &PoolRef, autostart: bool) -> Result<()> {
        self.set_autostart(pool, autostart)
    }
    fn pool_is_active(&self, pool: &PoolRef) -> Result<bool> {
        self.inner.with(|p| Ok(p.of(pool)?.active))
    }
    fn pool_is_persistent(&self, pool: &PoolRef) -> Result<bool> {
        self.inner.with(|p| Ok(p.of(pool)?.config.is_some()))
    }
    fn pool_num_of_volumes(&self, pool: &PoolRef) -> Result<i32> {
        Ok(self.check_running(pool)? as i32)
    }
    fn pool_list_volumes(&self, pool: &PoolRef, max: usize) -> Result<Vec<String>> {
        self.vol_names(pool, max)
    }
    fn pool_list_all_volumes(&self, pool: &PoolRef, flags: u32) -> Result<Vec<VolRef>> {
        self.vol_refs(pool, flags)
    }
    fn vol_lookup_by_name(&self, pool: &PoolRef, name: &str) -> Result<VolRef> {
        self.vol_by_name(pool, name)
    }
    fn vol_lookup_by_key(&self, key: &str) -> Result<VolRef> {
        self.vol_by_key(key)
    }
    fn vol_lookup_by_path(&self, path: &str) -> Result<VolRef> {
        self.vol_by_path(path)
    }
    fn vol_create_xml(&self, pool: &PoolRef, xml: &str, flags: u32) -> Result<VolRef> {
        self.vol_create(pool, xml, None, flags)
    }
    fn vol_create_xml_from(
        &self,
        pool: &PoolRef,
        xml: &str,
        clone: &VolRef,
        flags: u32,
    ) -> Result<VolRef> {
        self.vol_create(pool, xml, Some(clone), flags)
    }
    fn vol_delete(&self, vol: &VolRef, flags: u32) -> Result<()> {
        self.remove_vol(vol, flags)
    }
    fn vol_wipe(&self, vol: &VolRef, flags: u32) -> Result<()> {
        self.wipe_vol(vol, 0, flags)
    }
    fn vol_wipe_pattern(&self, vol: &VolRef, algorithm: u32, flags: u32) -> Result<()> {
        self.wipe_vol(vol, algorithm, flags)
    }
    fn vol_resize(&self, vol: &VolRef, capacity: u64, flags: u32) -> Result<()> {
        self.resize_vol(vol, capacity, flags)
    }
    fn vol_upload(&self, vol: &VolRef, st: &Stream, range: VolRange, flags: u32) -> Result<()> {
        self.vol_stream(vol, st, range, flags, true)
    }
    fn vol_download(&self, vol: &VolRef, st: &Stream, range: VolRange, flags: u32) -> Result<()> {
        self.vol_stream(vol, st, range, flags, false)
    }
    fn vol_get_info(&self, vol: &VolRef) -> Result<VolInfo> {
        self.vol_info(vol, 0)
    }
    fn vol_get_info_flags(&self, vol: &VolRef, flags: u32) -> Result<VolInfo> {
        self.vol_info(vol, flags)
    }
    fn vol_get_xml_desc(&self, vol: &VolRef, flags: u32) -> Result<String> {
        crate::backend::check_flags("storageVolGetXMLDesc", flags, 0)?;
        self.vol_read(vol, |o, v| v.format(&o.def))
    }
    fn vol_get_path(&self, vol: &VolRef) -> Result<String> {
        self.path_of_vol(vol)
    }
    fn pool_event_register_any(
        &self,
        pool: Option<&PoolRef>,
        event_id: i32,
        callback: PoolEventCallback,
    ) -> Result<i32> {
        Ok(self.inner.events.register(pool, event_id, callback))
    }
    fn pool_event_deregister_any(&self, callback_id: i32) -> Result<()> {
        rvirt::events::deregistered(self.inner.events.deregister(callback_id), callback_id)
    }
}
