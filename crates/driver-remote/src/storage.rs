//! The storage entry points over the wire: each `StorageDriver` call is its
//! `REMOTE_PROC_STORAGE_*` / `CONNECT_*_STORAGE_POOL*` procedure (libvirt's
//! remote_driver.c), and pool events routed from the server's callback ids
//! to the local registrations.

use crate::conn::RemoteConnection;
use rvirt::driver::storage::{PoolEvent, PoolEventCallback, PoolEventRegistry, PoolInfo, PoolRef};
use rvirt::driver::storage::{VolInfo, VolRange, VolRef};
use rvirt::driver::StorageDriver;
use rvirt_rpc::remote::*;
use rvirt_rpc::remote::{Procedure, RemoteCalls};
use rvirt_rpc::{Packet, XdrDecode};
use rvirt_util::Result;

fn pool(p: &PoolRef) -> NonnullStoragePool {
    NonnullStoragePool {
        name: p.name.clone(),
        uuid: p.uuid,
    }
}

fn pool_ref(p: NonnullStoragePool) -> PoolRef {
    PoolRef {
        name: p.name,
        uuid: p.uuid,
    }
}

fn vol(v: &VolRef) -> NonnullStorageVol {
    NonnullStorageVol {
        pool: v.pool.clone(),
        name: v.name.clone(),
        key: v.key.clone(),
    }
}

/// A volume's info as the two info replies carry it.
fn vol_info(kind: impl Into<i32>, capacity: u64, allocation: u64) -> VolInfo {
    VolInfo {
        kind: kind.into(),
        capacity,
        allocation,
    }
}

fn vol_ref(v: NonnullStorageVol) -> VolRef {
    VolRef {
        pool: v.pool,
        name: v.name,
        key: v.key,
    }
}

fn max_i32(max: usize) -> i32 {
    i32::try_from(max).unwrap_or(i32::MAX)
}

/// Pool event callbacks: server callback id -> local registration.
#[derive(Default)]
pub(crate) struct PoolEvents {
    registry: PoolEventRegistry,
    by_server: crate::callback_ids::CallbackIds,
}

impl PoolEvents {
    /// Deliver a pool event message; false when the packet is not one.
    pub(crate) fn deliver(&self, p: &Packet) -> bool {
        fn body<T: XdrDecode>(p: &Packet) -> Option<T> {
            p.body().ok()
        }
        let decoded = match Procedure::from_i32(p.header.proc_) {
            Some(Procedure::StoragePoolEventLifecycle) => body::<StoragePoolEventLifecycleMsg>(p)
                .map(|m| {
                    let ev = PoolEvent::Lifecycle {
                        event: m.event,
                        detail: m.detail,
                    };
                    (m.callback_id, m.pool, ev)
                }),
            Some(Procedure::StoragePoolEventRefresh) => body::<StoragePoolEventRefreshMsg>(p)
                .map(|m| (m.callback_id, m.pool, PoolEvent::Refresh)),
            _ => return false,
        };
        if let Some((server_id, p, ev)) = decoded {
            let local = self.by_server.local(server_id);
            match local {
                Some(id) => {
                    self.registry.emit_to(id, &pool_ref(p), &ev);
                }
                None => tracing::debug!(server_id, "pool event for an unknown callback"),
            }
        }
        true
    }
}

impl StorageDriver for RemoteConnection {
    fn num_of_pools(&self) -> Result<i32> {
        Ok(self.call_connect_num_of_storage_pools()?.num)
    }
    fn list_pools(&self, max: usize) -> Result<Vec<String>> {
        let args = ConnectListStoragePoolsArgs {
            maxnames: max_i32(max),
        };
        Ok(self.call_connect_list_storage_pools(&args)?.names)
    }
    fn num_of_defined_pools(&self) -> Result<i32> {
        Ok(self.call_connect_num_of_defined_storage_pools()?.num)
    }
    fn list_defined_pools(&self, max: usize) -> Result<Vec<String>> {
        let args = ConnectListDefinedStoragePoolsArgs {
            maxnames: max_i32(max),
        };
        Ok(self.call_connect_list_defined_storage_pools(&args)?.names)
    }
    fn list_all_pools(&self, flags: u32) -> Result<Vec<PoolRef>> {
        let args = ConnectListAllStoragePoolsArgs {
            need_results: 1,
            flags,
        };
        let r = self.call_connect_list_all_storage_pools(&args)?;
        Ok(r.pools.into_iter().map(pool_ref).collect())
    }
    fn find_pool_sources(&self, kind: &str, spec: Option<&str>, flags: u32) -> Result<String> {
        let args = ConnectFindStoragePoolSourcesArgs {
            type_: kind.to_string(),
            src_spec: spec.map(str::to_string),
            flags,
        };
        Ok(self.call_connect_find_storage_pool_sources(&args)?.xml)
    }
    fn pool_capabilities(&self, flags: u32) -> Result<String> {
        let args = ConnectGetStoragePoolCapabilitiesArgs { flags };
        Ok(self
            .call_connect_get_storage_pool_capabilities(&args)?
            .capabilities)
    }
    fn pool_lookup_by_name(&self, name: &str) -> Result<PoolRef> {
        let args = StoragePoolLookupByNameArgs {
            name: name.to_string(),
        };
        Ok(pool_ref(self.call_storage_pool_lookup_by_name(&args)?.pool))
    }
    fn pool_lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<PoolRef> {
        let args = StoragePoolLookupByUuidArgs { uuid: *uuid };
        Ok(pool_ref(self.call_storage_pool_lookup_by_uuid(&args)?.pool))
    }
    fn pool_lookup_by_volume(&self, v: &VolRef) -> Result<PoolRef> {
        let args = StoragePoolLookupByVolumeArgs { vol: vol(v) };
        Ok(pool_ref(
            self.call_storage_pool_lookup_by_volume(&args)?.pool,
        ))
    }
    fn pool_lookup_by_target_path(&self, path: &str) -> Result<PoolRef> {
        let args = StoragePoolLookupByTargetPathArgs {
            path: path.to_string(),
        };
        Ok(pool_ref(
            self.call_storage_pool_lookup_by_target_path(&args)?.pool,
        ))
    }
    fn pool_create_xml(&self, xml: &str, flags: u32) -> Result<PoolRef> {
        let args = StoragePoolCreateXmlArgs {
            xml: xml.to_string(),
            flags,
        };
        Ok(pool_ref(self.call_storage_pool_create_xml(&args)?.pool))
    }
    fn pool_define_xml(&self, xml: &str, flags: u32) -> Result<PoolRef> {
        let args = StoragePoolDefineXmlArgs {
            xml: xml.to_string(),
            flags,
        };
        Ok(pool_ref(self.call_storage_pool_define_xml(&args)?.pool))
    }
    fn pool_build(&self, p: &PoolRef, flags: u32) -> Result<()> {
        self.call_storage_pool_build(&StoragePoolBuildArgs {
            pool: pool(p),
            flags,
        })
    }
    fn pool_undefine(&self, p: &PoolRef) -> Result<()> {
        self.call_storage_pool_undefine(&StoragePoolUndefineArgs { pool: pool(p) })
    }
    fn pool_create(&self, p: &PoolRef, flags: u32) -> Result<()> {
        self.call_storage_pool_create(&StoragePoolCreateArgs {
            pool: pool(p),
            flags,
        })
    }
    fn pool_destroy(&self, p: &PoolRef) -> Result<()> {
        self.call_storage_pool_destroy(&StoragePoolDestroyArgs { pool: pool(p) })
    }
    fn pool_delete(&self, p: &PoolRef, flags: u32) -> Result<()> {
        self.call_storage_pool_delete(&StoragePoolDeleteArgs {
            pool: pool(p),
            flags,
        })
    }
    fn pool_refresh(&self, p: &PoolRef, flags: u32) -> Result<()> {
        self.call_storage_pool_refresh(&StoragePoolRefreshArgs {
            pool: pool(p),
            flags,
        })
    }
    fn pool_get_info(&self, p: &PoolRef) -> Result<PoolInfo> {
        let r = self.call_storage_pool_get_info(&StoragePoolGetInfoArgs { pool: pool(p) })?;
        Ok(PoolInfo {
            state: i32::from(r.state),
            capacity: r.capacity,
            allocation: r.allocation,
            available: r.available,
        })
    }
    fn pool_get_xml_desc(&self, p: &PoolRef, flags: u32) -> Result<String> {
        let args = StoragePoolGetXmlDescArgs {
            pool: pool(p),
            flags,
        };
        Ok(self.call_storage_pool_get_xml_desc(&args)?.xml)
    }
    fn pool_get_autostart(&self, p: &PoolRef) -> Result<bool> {
        let args = StoragePoolGetAutostartArgs { pool: pool(p) };
        Ok(self.call_storage_pool_get_autostart(&args)?.autostart != 0)
    }
    fn pool_set_autostart(&self, p: &PoolRef, autostart: bool) -> Result<()> {
        let args = StoragePoolSetAutostartArgs {
            pool: pool(p),
            autostart: i32::from(autostart),
        };
        self.call_storage_pool_set_autostart(&args)
    }
    fn pool_is_active(&self, p: &PoolRef) -> Result<bool> {
        let args = StoragePoolIsActiveArgs { pool: pool(p) };
        Ok(self.call_storage_pool_is_active(&args)?.active != 0)
    }
    fn pool_is_persistent(&self, p: &PoolRef) -> Result<bool> {
        let args = StoragePoolIsPersistentArgs { pool: pool(p) };
        Ok(self.call_storage_pool_is_persistent(&args)?.persistent != 0)
    }
    fn pool_num_of_volumes(&self, p: &PoolRef) -> Result<i32> {
        let args = StoragePoolNumOfVolumesArgs { pool: pool(p) };
        Ok(self.call_storage_pool_num_of_volumes(&args)?.num)
    }
    fn pool_list_volumes(&self, p: &PoolRef, max: usize) -> Result<Vec<String>> {
        let args = StoragePoolListVolumesArgs {
            pool: pool(p),
            maxnames: max_i32(max),
        };
        Ok(self.call_storage_pool_list_volumes(&args)?.names)
    }
    fn pool_list_all_volumes(&self, p: &PoolRef, flags: u32) -> Result<Vec<VolRef>> {
        let args = StoragePoolListAllVolumesArgs {
            pool: pool(p),
            need_results: 1,
            flags,
        };
        let r = self.call_storage_pool_list_all_volumes(&args)?;
        Ok(r.vols.into_iter().map(vol_ref).collect())
    }
    fn vol_lookup_by_name(&self, p: &PoolRef, name: &str) -> Result<VolRef> {
        let args = StorageVolLookupByNameArgs {
            pool: pool(p),
            name: name.to_string(),
        };
        Ok(vol_ref(self.call_storage_vol_lookup_by_name(&args)?.vol))
    }
    fn vol_lookup_by_key(&self, key: &str) -> Result<VolRef> {
        let args = StorageVolLookupByKeyArgs {
            key: key.to_string(),
        };
        Ok(vol_ref(self.call_storage_vol_lookup_by_key(&args)?.vol))
    }
    fn vol_lookup_by_path(&self, path: &str) -> Result<VolRef> {
        let args = StorageVolLookupByPathArgs {
            path: path.to_string(),
        };
        Ok(vol_ref(self.call_storage_vol_lookup_by_path(&args)?.vol))
    }
    fn vol_create_xml(&self, p: &PoolRef, xml: &str, flags: u32) -> Result<VolRef> {
        let args = StorageVolCreateXmlArgs {
            pool: pool(p),
            xml: xml.to_string(),
            flags,
        };
        Ok(vol_ref(self.call_storage_vol_create_xml(&args)?.vol))
    }
    fn vol_create_xml_from(
        &self,
        p: &PoolRef,
        xml: &str,
        clone: &VolRef,
        flags: u32,
    ) -> Result<VolRef> {
        let args = StorageVolCreateXmlFromArgs {
            pool: pool(p),
            xml: xml.to_string(),
            clonevol: vol(clone),
            flags,
        };
        Ok(vol_ref(self.call_storage_vol_create_xml_from(&args)?.vol))
    }
    fn vol_delete(&self, v: &VolRef, flags: u32) -> Result<()> {
        self.call_storage_vol_delete(&StorageVolDeleteArgs { vol: vol(v), flags })
    }
    fn vol_wipe(&self, v: &VolRef, flags: u32) -> Result<()> {
        self.call_storage_vol_wipe(&StorageVolWipeArgs { vol: vol(v), flags })
    }
    fn vol_wipe_pattern(&self, v: &VolRef, algorithm: u32, flags: u32) -> Result<()> {
        let args = StorageVolWipePatternArgs {
            vol: vol(v),
            algorithm,
            flags,
        };
        self.call_storage_vol_wipe_pattern(&args)
    }
    fn vol_resize(&self, v: &VolRef, capacity: u64, flags: u32) -> Result<()> {
        self.call_storage_vol_resize(&StorageVolResizeArgs {
            vol: vol(v),
            capacity,
            flags,
        })
    }
    fn vol_upload(
        &self,
        v: &VolRef,
        st: &rvirt::Stream,
        range: VolRange,
        flags: u32,
    ) -> Result<()> {
        let args = StorageVolUploadArgs {
            vol: vol(v),
            offset: range.offset,
            length: range.length,
            flags,
        };
        self.open_stream::<rvirt_rpc::remote::procs::StorageVolUpload>(st, &args)
    }
    fn vol_download(
        &self,
        v: &VolRef,
        st: &rvirt::Stream,
        range: VolRange,
        flags: u32,
    ) -> Result<()> {
        let args = StorageVolDownloadArgs {
            vol: vol(v),
            offset: range.offset,
            length: range.length,
            flags,
        };
        self.open_stream::<rvirt_rpc::remote::procs::StorageVolDownload>(st, &args)
    }
    fn vol_get_info(&self, v: &VolRef) -> Result<VolInfo> {
        let r = self.call_storage_vol_get_info(&StorageVolGetInfoArgs { vol: vol(v) })?;
        Ok(vol_info(r.type_, r.capacity, r.allocation))
    }
    fn vol_get_info_flags(&self, v: &VolRef, flags: u32) -> Result<VolInfo> {
        let args = StorageVolGetInfoFlagsArgs { vol: vol(v), flags };
        let r = self.call_storage_vol_get_info_flags(&args)?;
        Ok(vol_info(r.type_, r.capacity, r.allocation))
    }
    fn vol_get_xml_desc(&self, v: &VolRef, flags: u32) -> Result<String> {
        let args = StorageVolGetXmlDescArgs { vol: vol(v), flags };
        Ok(self.call_storage_vol_get_xml_desc(&args)?.xml)
    }
    fn vol_get_path(&self, v: &VolRef) -> Result<String> {
        Ok(self
            .call_storage_vol_get_path(&StorageVolGetPathArgs { vol: vol(v) })?
            .name)
    }
    fn pool_event_register_any(
        &self,
        p: Option<&PoolRef>,
        event_id: i32,
        callback: PoolEventCallback,
    ) -> Result<i32> {
        let events = self.pool_events();
        let args = ConnectStoragePoolEventRegisterAnyArgs {
            event_id,
            pool: p.map(pool),
        };
        events.by_server.register(
            || {
                Ok(self
                    .call_connect_storage_pool_event_register_any(&args)?
                    .callback_id)
            },
            || events.registry.register(p, event_id, callback),
        )
    }
    fn pool_event_deregister_any(&self, callback_id: i32) -> Result<()> {
        let events = self.pool_events();
        events.by_server.deregister(callback_id, |server| {
            let args = ConnectStoragePoolEventDeregisterAnyArgs {
                callback_id: server,
            };
            self.call_connect_storage_pool_event_deregister_any(&args)
        })?;
        events.registry.deregister(callback_id);
        Ok(())
    }
}
