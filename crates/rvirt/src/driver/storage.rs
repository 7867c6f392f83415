//! The storage driver (libvirt's `virStorageDriver`, src/driver-storage.h):
//! pools and their volumes. A connection hands it out through
//! [`super::HypervisorConnection::storage`]; every entry a driver leaves
//! out reports `VIR_ERR_NO_SUPPORT` naming the public API, as libvirt does
//! for a NULL entry.
//!
//! Pools and volumes are named as `remote_nonnull_storage_pool` and
//! `remote_nonnull_storage_vol` carry them.

use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::sync::Arc;

/// A pool's identity (`virStoragePoolPtr`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PoolRef {
    pub name: String,
    pub uuid: [u8; 16],
}

impl PoolRef {
    pub fn new(name: impl Into<String>, uuid: [u8; 16]) -> PoolRef {
        PoolRef {
            name: name.into(),
            uuid,
        }
    }
    pub fn uuid_string(&self) -> String {
        rvirt_util::uuid::Uuid::from_bytes(self.uuid).to_string()
    }
}

/// A volume's identity (`virStorageVolPtr`): its pool's name, its name
/// and its key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VolRef {
    pub pool: String,
    pub name: String,
    pub key: String,
}

impl VolRef {
    pub fn new(pool: impl Into<String>, name: impl Into<String>, key: impl Into<String>) -> VolRef {
        VolRef {
            pool: pool.into(),
            name: name.into(),
            key: key.into(),
        }
    }
}

/// `virStoragePoolInfo`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolInfo {
    /// `virStoragePoolState`.
    pub state: i32,
    pub capacity: u64,
    pub allocation: u64,
    pub available: u64,
}

impl PoolInfo {
    /// A running (`active`) or inactive pool's info from its capacity,
    /// allocation and available bytes.
    pub fn of(active: bool, [capacity, allocation, available]: [u64; 3]) -> PoolInfo {
        let state = match active {
            true => pool_state::RUNNING,
            false => pool_state::INACTIVE,
        };
        PoolInfo {
            state,
            capacity,
            allocation,
            available,
        }
    }
}

/// The bytes of a volume an upload or download moves: from `offset`,
/// `length` of them (0: to the volume's end).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VolRange {
    pub offset: u64,
    pub length: u64,
}

/// `virStorageVolInfo`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VolInfo {
    /// `virStorageVolType`.
    pub kind: i32,
    pub capacity: u64,
    pub allocation: u64,
}

/// `virStoragePoolState`.
pub mod pool_state {
    pub const INACTIVE: i32 = 0;
    pub const BUILDING: i32 = 1;
    pub const RUNNING: i32 = 2;
    pub const DEGRADED: i32 = 3;
    pub const INACCESSIBLE: i32 = 4;
}

/// `virStoragePoolEventID` and `virStoragePoolEventLifecycleType`.
pub mod pool_event {
    pub const ID_LIFECYCLE: i32 = 0;
    pub const ID_REFRESH: i32 = 1;

    pub const DEFINED: i32 = 0;
    pub const UNDEFINED: i32 = 1;
    pub const STARTED: i32 = 2;
    pub const STOPPED: i32 = 3;
    pub const CREATED: i32 = 4;
    pub const DELETED: i32 = 5;
}

/// A storage pool event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolEvent {
    Lifecycle { event: i32, detail: i32 },
    Refresh,
}

impl PoolEvent {
    /// A lifecycle event (`VIR_STORAGE_POOL_EVENT_*`), which has no detail.
    pub fn lifecycle(event: i32) -> PoolEvent {
        PoolEvent::Lifecycle { event, detail: 0 }
    }
}

impl crate::events_object::ObjectEvent for PoolEvent {
    /// The `virStoragePoolEventID` it is delivered under.
    fn id(&self) -> i32 {
        match self {
            PoolEvent::Lifecycle { .. } => pool_event::ID_LIFECYCLE,
            PoolEvent::Refresh => pool_event::ID_REFRESH,
        }
    }
}

pub type PoolEventCallback = Arc<dyn Fn(&PoolRef, &PoolEvent) + Send + Sync>;

/// `VIR_FROM_STORAGE`, the domain of libvirt-storage.c's errors.
pub const ERROR_DOMAIN: ErrorDomain = ErrorDomain(18);

/// `virReportUnsupportedError` in libvirt-storage.c: a NULL driver entry.
pub fn unsupported(api: &str) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::NO_SUPPORT, api)
}

macro_rules! no_support {
    ($api:literal) => {
        Err(unsupported($api))
    };
}

/// `virStorageDriver`: one method per entry, each defaulting to
/// `VIR_ERR_NO_SUPPORT`.
#[allow(unused_variables)]
pub trait StorageDriver: Send + Sync {
    /// `virConnectNumOfStoragePools`.
    fn num_of_pools(&self) -> Result<i32> {
        no_support!("virConnectNumOfStoragePools")
    }
    /// `virConnectListStoragePools`: active pools' names.
    fn list_pools(&self, max: usize) -> Result<Vec<String>> {
        no_support!("virConnectListStoragePools")
    }
    /// `virConnectNumOfDefinedStoragePools`.
    fn num_of_defined_pools(&self) -> Result<i32> {
        no_support!("virConnectNumOfDefinedStoragePools")
    }
    /// `virConnectListDefinedStoragePools`: inactive pools' names.
    fn list_defined_pools(&self, max: usize) -> Result<Vec<String>> {
        no_support!("virConnectListDefinedStoragePools")
    }
    /// `virConnectListAllStoragePools` (`VIR_CONNECT_LIST_STORAGE_POOLS_*`).
    fn list_all_pools(&self, flags: u32) -> Result<Vec<PoolRef>> {
        no_support!("virConnectListAllStoragePools")
    }
    /// `virConnectFindStoragePoolSources`.
    fn find_pool_sources(&self, kind: &str, spec: Option<&str>, flags: u32) -> Result<String> {
        no_support!("virConnectFindStoragePoolSources")
    }
    /// `virConnectGetStoragePoolCapabilities`.
    fn pool_capabilities(&self, flags: u32) -> Result<String> {
        no_support!("virConnectGetStoragePoolCapabilities")
    }
    /// `virStoragePoolLookupByName`.
    fn pool_lookup_by_name(&self, name: &str) -> Result<PoolRef> {
        no_support!("virStoragePoolLookupByName")
    }
    /// `virStoragePoolLookupByUUID`.
    fn pool_lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<PoolRef> {
        no_support!("virStoragePoolLookupByUUID")
    }
    /// `virStoragePoolLookupByVolume`.
    fn pool_lookup_by_volume(&self, vol: &VolRef) -> Result<PoolRef> {
        no_support!("virStoragePoolLookupByVolume")
    }
    /// `virStoragePoolLookupByTargetPath`.
    fn pool_lookup_by_target_path(&self, path: &str) -> Result<PoolRef> {
        no_support!("virStoragePoolLookupByTargetPath")
    }
    /// `virStoragePoolCreateXML`: a transient, running pool.
    fn pool_create_xml(&self, xml: &str, flags: u32) -> Result<PoolRef> {
        no_support!("virStoragePoolCreateXML")
    }
    /// `virStoragePoolDefineXML`.
    fn pool_define_xml(&self, xml: &str, flags: u32) -> Result<PoolRef> {
        no_support!("virStoragePoolDefineXML")
    }
    /// `virStoragePoolBuild`.
    fn pool_build(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        no_support!("virStoragePoolBuild")
    }
    /// `virStoragePoolUndefine`.
    fn pool_undefine(&self, pool: &PoolRef) -> Result<()> {
        no_support!("virStoragePoolUndefine")
    }
    /// `virStoragePoolCreate`: start a defined pool.
    fn pool_create(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        no_support!("virStoragePoolCreate")
    }
    /// `virStoragePoolDestroy`.
    fn pool_destroy(&self, pool: &PoolRef) -> Result<()> {
        no_support!("virStoragePoolDestroy")
    }
    /// `virStoragePoolDelete`.
    fn pool_delete(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        no_support!("virStoragePoolDelete")
    }
    /// `virStoragePoolRefresh`.
    fn pool_refresh(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        no_support!("virStoragePoolRefresh")
    }
    /// `virStoragePoolGetInfo`.
    fn pool_get_info(&self, pool: &PoolRef) -> Result<PoolInfo> {
        no_support!("virStoragePoolGetInfo")
    }
    /// `virStoragePoolGetXMLDesc`.
    fn pool_get_xml_desc(&self, pool: &PoolRef, flags: u32) -> Result<String> {
        no_support!("virStoragePoolGetXMLDesc")
    }
    /// `virStoragePoolGetAutostart`.
    fn pool_get_autostart(&self, pool: &PoolRef) -> Result<bool> {
        no_support!("virStoragePoolGetAutostart")
    }
    /// `virStoragePoolSetAutostart`.
    fn pool_set_autostart(&self, pool: &PoolRef, autostart: bool) -> Result<()> {
        no_support!("virStoragePoolSetAutostart")
    }
    /// `virStoragePoolIsActive`.
    fn pool_is_active(&self, pool: &PoolRef) -> Result<bool> {
        no_support!("virStoragePoolIsActive")
    }
    /// `virStoragePoolIsPersistent`.
    fn pool_is_persistent(&self, pool: &PoolRef) -> Result<bool> {
        no_support!("virStoragePoolIsPersistent")
    }
    /// `virStoragePoolNumOfVolumes`.
    fn pool_num_of_volumes(&self, pool: &PoolRef) -> Result<i32> {
        no_support!("virStoragePoolNumOfVolumes")
    }
    /// `virStoragePoolListVolumes`.
    fn pool_list_volumes(&self, pool: &PoolRef, max: usize) -> Result<Vec<String>> {
        no_support!("virStoragePoolListVolumes")
    }
    /// `virStoragePoolListAllVolumes`.
    fn pool_list_all_volumes(&self, pool: &PoolRef, flags: u32) -> Result<Vec<VolRef>> {
        no_support!("virStoragePoolListAllVolumes")
    }
    /// `virStorageVolLookupByName`.
    fn vol_lookup_by_name(&self, pool: &PoolRef, name: &str) -> Result<VolRef> {
        no_support!("virStorageVolLookupByName")
    }
    /// `virStorageVolLookupByKey`.
    fn vol_lookup_by_key(&self, key: &str) -> Result<VolRef> {
        no_support!("virStorageVolLookupByKey")
    }
    /// `virStorageVolLookupByPath`.
    fn vol_lookup_by_path(&self, path: &str) -> Result<VolRef> {
        no_support!("virStorageVolLookupByPath")
    }
    /// `virStorageVolCreateXML`.
    fn vol_create_xml(&self, pool: &PoolRef, xml: &str, flags: u32) -> Result<VolRef> {
        no_support!("virStorageVolCreateXML")
    }
    /// `virStorageVolCreateXMLFrom`: a new volume holding `clone`'s data.
    fn vol_create_xml_from(
        &self,
        pool: &PoolRef,
        xml: &str,
        clone: &VolRef,
        flags: u32,
    ) -> Result<VolRef> {
        no_support!("virStorageVolCreateXMLFrom")
    }
    /// `virStorageVolDelete`.
    fn vol_delete(&self, vol: &VolRef, flags: u32) -> Result<()> {
        no_support!("virStorageVolDelete")
    }
    /// `virStorageVolWipe`.
    fn vol_wipe(&self, vol: &VolRef, flags: u32) -> Result<()> {
        no_support!("virStorageVolWipe")
    }
    /// `virStorageVolWipePattern`.
    fn vol_wipe_pattern(&self, vol: &VolRef, algorithm: u32, flags: u32) -> Result<()> {
        no_support!("virStorageVolWipePattern")
    }
    /// `virStorageVolResize` (capacity in bytes, `VIR_STORAGE_VOL_RESIZE_*`).
    fn vol_resize(&self, vol: &VolRef, capacity: u64, flags: u32) -> Result<()> {
        no_support!("virStorageVolResize")
    }
    /// `virStorageVolUpload`: from then on `st` carries the data written
    /// to the volume's `range`.
    fn vol_upload(
        &self,
        vol: &VolRef,
        st: &crate::Stream,
        range: VolRange,
        flags: u32,
    ) -> Result<()> {
        no_support!("virStorageVolUpload")
    }
    /// `virStorageVolDownload`: from then on `st` carries the volume's
    /// data in `range`.
    fn vol_download(
        &self,
        vol: &VolRef,
        st: &crate::Stream,
        range: VolRange,
        flags: u32,
    ) -> Result<()> {
        no_support!("virStorageVolDownload")
    }
    /// `virStorageVolGetInfo`.
    fn vol_get_info(&self, vol: &VolRef) -> Result<VolInfo> {
        no_support!("virStorageVolGetInfo")
    }
    /// `virStorageVolGetInfoFlags`.
    fn vol_get_info_flags(&self, vol: &VolRef, flags: u32) -> Result<VolInfo> {
        no_support!("virStorageVolGetInfoFlags")
    }
    /// `virStorageVolGetXMLDesc`.
    fn vol_get_xml_desc(&self, vol: &VolRef, flags: u32) -> Result<String> {
        no_support!("virStorageVolGetXMLDesc")
    }
    /// `virStorageVolGetPath`.
    fn vol_get_path(&self, vol: &VolRef) -> Result<String> {
        no_support!("virStorageVolGetPath")
    }
    /// `virConnectStoragePoolEventRegisterAny`: the callback id.
    fn pool_event_register_any(
        &self,
        pool: Option<&PoolRef>,
        event_id: i32,
        callback: PoolEventCallback,
    ) -> Result<i32> {
        no_support!("virConnectStoragePoolEventRegisterAny")
    }
    /// `virConnectStoragePoolEventDeregisterAny`.
    fn pool_event_deregister_any(&self, callback_id: i32) -> Result<()> {
        no_support!("virConnectStoragePoolEventDeregisterAny")
    }
}

/// A connection's pool event callbacks, filtered by pool and event id.
pub type PoolEventRegistry = crate::events_object::ObjectEventRegistry<PoolRef, PoolEvent>;
