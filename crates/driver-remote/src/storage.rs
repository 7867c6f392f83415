//! The storage entry points over the wire: each `StorageDriver` call is its
//! `REMOTE_PROC_STORAGE_*` / `CONNECT_*_STORAGE_POOL*` procedure (libvirt's
//! remote_driver.c), and pool events routed from the server's callback ids
//! to the local registrations.

use crate::conn::RemoteConnection;
use crate::forward::{forward, FromWire, ToWire};
use rvirt::driver::storage::{PoolEvent, PoolEventCallback, PoolInfo, PoolRef};
use rvirt::driver::storage::{VolInfo, VolRange, VolRef};
use rvirt::driver::StorageDriver;
use rvirt::Stream;
use rvirt_rpc::remote::*;
use rvirt_rpc::remote::{Procedure, RemoteCalls};
use rvirt_rpc::{Call, Packet, Proc, XdrDecode};
use rvirt_util::Result;

/// A volume's info as the two info replies carry it.
fn vol_info(kind: impl Into<i32>, capacity: u64, allocation: u64) -> VolInfo {
    VolInfo {
        kind: kind.into(),
        capacity,
        allocation,
    }
}

/// Pool event callbacks: server callback id -> local registration.
pub(crate) type PoolEvents = crate::callback_ids::RemoteEvents<PoolRef, PoolEvent>;

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
            self.route(server_id, &PoolRef::from_wire(p), &ev);
        }
        true
    }
}

/// The arguments of the two volume transfers, which carry the same
/// fields.
trait VolTransferArgs {
    fn new(vol: &VolRef, range: VolRange, flags: u32) -> Self;
}

macro_rules! vol_transfer_args {
    ($($args:ident),*) => {$(
        impl VolTransferArgs for $args {
            fn new(vol: &VolRef, range: VolRange, flags: u32) -> Self {
                let (offset, length) = (range.offset, range.length);
                $args { vol: vol.to_wire(), offset, length, flags }
            }
        }
    )*};
}

vol_transfer_args!(StorageVolUploadArgs, StorageVolDownloadArgs);

impl RemoteConnection {
    /// `virStorageVolUpload`/`Download`: the stream procedure `P` on the
    /// volume's `range`.
    fn vol_transfer<P>(&self, v: &VolRef, st: &Stream, range: VolRange, flags: u32) -> Result<()>
    where
        P: Proc<Id = Procedure, Ret = ()>,
        P::Args: VolTransferArgs,
    {
        self.open_stream::<P>(st, &P::Args::new(v, range, flags))
    }
}

impl StorageDriver for RemoteConnection {
    forward! {
        fn list_pools(maxnames: usize) -> Vec<String> = ConnectListStoragePoolsArgs.names;
        fn list_defined_pools(maxnames: usize) -> Vec<String>
            = ConnectListDefinedStoragePoolsArgs.names;
        fn list_all_pools(flags: u32) -> Vec<PoolRef>
            = ConnectListAllStoragePoolsArgs { need_results: 1 }.pools;
        fn find_pool_sources(type_: &str, src_spec: Option<&str>, flags: u32) -> String
            = ConnectFindStoragePoolSourcesArgs.xml;
        fn pool_capabilities(flags: u32) -> String
            = ConnectGetStoragePoolCapabilitiesArgs.capabilities;
        fn pool_lookup_by_name(name: &str) -> PoolRef = StoragePoolLookupByNameArgs.pool;
        fn pool_lookup_by_uuid(uuid: &[u8; 16]) -> PoolRef = StoragePoolLookupByUuidArgs.pool;
        fn pool_lookup_by_volume(vol: &VolRef) -> PoolRef = StoragePoolLookupByVolumeArgs.pool;
        fn pool_lookup_by_target_path(path: &str) -> PoolRef
            = StoragePoolLookupByTargetPathArgs.pool;
        fn pool_create_xml(xml: &str, flags: u32) -> PoolRef = StoragePoolCreateXmlArgs.pool;
        fn pool_define_xml(xml: &str, flags: u32) -> PoolRef = StoragePoolDefineXmlArgs.pool;
        fn pool_build(pool: &PoolRef, flags: u32) -> () = StoragePoolBuildArgs;
        fn pool_undefine(pool: &PoolRef) -> () = StoragePoolUndefineArgs;
        fn pool_create(pool: &PoolRef, flags: u32) -> () = StoragePoolCreateArgs;
        fn pool_destroy(pool: &PoolRef) -> () = StoragePoolDestroyArgs;
        fn pool_delete(pool: &PoolRef, flags: u32) -> () = StoragePoolDeleteArgs;
        fn pool_refresh(pool: &PoolRef, flags: u32) -> () = StoragePoolRefreshArgs;
        fn pool_get_xml_desc(pool: &PoolRef, flags: u32) -> String
            = StoragePoolGetXmlDescArgs.xml;
        fn pool_get_autostart(pool: &PoolRef) -> bool = StoragePoolGetAutostartArgs.autostart;
        fn pool_set_autostart(pool: &PoolRef, autostart: bool) -> ()
            = StoragePoolSetAutostartArgs;
        fn pool_is_active(pool: &PoolRef) -> bool = StoragePoolIsActiveArgs.active;
        fn pool_is_persistent(pool: &PoolRef) -> bool = StoragePoolIsPersistentArgs.persistent;
        fn pool_num_of_volumes(pool: &PoolRef) -> i32 = StoragePoolNumOfVolumesArgs.num;
        fn pool_list_volumes(pool: &PoolRef, maxnames: usize) -> Vec<String>
            = StoragePoolListVolumesArgs.names;
        fn pool_list_all_volumes(pool: &PoolRef, flags: u32) -> Vec<VolRef>
            = StoragePoolListAllVolumesArgs { need_results: 1 }.vols;
        fn vol_lookup_by_name(pool: &PoolRef, name: &str) -> VolRef
            = StorageVolLookupByNameArgs.vol;
        fn vol_lookup_by_key(key: &str) -> VolRef = StorageVolLookupByKeyArgs.vol;
        fn vol_lookup_by_path(path: &str) -> VolRef = StorageVolLookupByPathArgs.vol;
        fn vol_create_xml(pool: &PoolRef, xml: &str, flags: u32) -> VolRef
            = StorageVolCreateXmlArgs.vol;
        fn vol_create_xml_from(pool: &PoolRef, xml: &str, clonevol: &VolRef, flags: u32)
            -> VolRef = StorageVolCreateXmlFromArgs.vol;
        fn vol_delete(vol: &VolRef, flags: u32) -> () = StorageVolDeleteArgs;
        fn vol_wipe(vol: &VolRef, flags: u32) -> () = StorageVolWipeArgs;
        fn vol_wipe_pattern(vol: &VolRef, algorithm: u32, flags: u32) -> ()
            = StorageVolWipePatternArgs;
        fn vol_resize(vol: &VolRef, capacity: u64, flags: u32) -> () = StorageVolResizeArgs;
        fn vol_get_xml_desc(vol: &VolRef, flags: u32) -> String = StorageVolGetXmlDescArgs.xml;
        fn vol_get_path(vol: &VolRef) -> String = StorageVolGetPathArgs.name;
    }
    fn num_of_pools(&self) -> Result<i32> {
        Ok(self.call_connect_num_of_storage_pools()?.num)
    }
    fn num_of_defined_pools(&self) -> Result<i32> {
        Ok(self.call_connect_num_of_defined_storage_pools()?.num)
    }
    fn pool_get_info(&self, p: &PoolRef) -> Result<PoolInfo> {
        let r = self.request(&StoragePoolGetInfoArgs { pool: p.to_wire() })?;
        Ok(PoolInfo {
            state: i32::from(r.state),
            capacity: r.capacity,
            allocation: r.allocation,
            available: r.available,
        })
    }
    fn vol_upload(&self, v: &VolRef, st: &Stream, range: VolRange, flags: u32) -> Result<()> {
        self.vol_transfer::<procs::StorageVolUpload>(v, st, range, flags)
    }
    fn vol_download(&self, v: &VolRef, st: &Stream, range: VolRange, flags: u32) -> Result<()> {
        self.vol_transfer::<procs::StorageVolDownload>(v, st, range, flags)
    }
    fn vol_get_info(&self, v: &VolRef) -> Result<VolInfo> {
        let r = self.request(&StorageVolGetInfoArgs { vol: v.to_wire() })?;
        Ok(vol_info(r.type_, r.capacity, r.allocation))
    }
    fn vol_get_info_flags(&self, v: &VolRef, flags: u32) -> Result<VolInfo> {
        let args = StorageVolGetInfoFlagsArgs {
            vol: v.to_wire(),
            flags,
        };
        let r = self.request(&args)?;
        Ok(vol_info(r.type_, r.capacity, r.allocation))
    }
    fn pool_event_register_any(
        &self,
        p: Option<&PoolRef>,
        event_id: i32,
        callback: PoolEventCallback,
    ) -> Result<i32> {
        let args = ConnectStoragePoolEventRegisterAnyArgs {
            event_id,
            pool: p.map(ToWire::to_wire),
        };
        self.pool_events().register(p, event_id, callback, || {
            Ok(self.request(&args)?.callback_id)
        })
    }
    fn pool_event_deregister_any(&self, callback_id: i32) -> Result<()> {
        self.pool_events().deregister(callback_id, |callback_id| {
            self.request(&ConnectStoragePoolEventDeregisterAnyArgs { callback_id })
        })
    }
}
