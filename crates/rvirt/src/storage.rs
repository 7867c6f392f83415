//! `StoragePool` and `StorageVol`: handles on a pool and a volume, as
//! `virStoragePoolPtr` and `virStorageVolPtr`, and the storage calls of
//! `Connect` (libvirt's src/libvirt-storage.c), with the public API's own
//! checks (read-only connections) before the driver sees the call.

use crate::connect::Connect;
use crate::driver::shared;
use crate::driver::storage::unsupported;
use crate::driver::storage::{PoolEventCallback, PoolInfo, PoolRef, VolInfo, VolRange, VolRef};
use crate::driver::StorageDriver;
use rvirt_util::{Error, ErrorCode, Result};

/// `VIR_CONNECT_LIST_STORAGE_POOLS_*`, every filter.
pub const LIST_POOLS_FILTERS_ALL: u32 = (1 << 20) - 1;

#[derive(Clone)]
pub struct StoragePool {
    conn: Connect,
    r: PoolRef,
}

#[derive(Clone)]
pub struct StorageVol {
    conn: Connect,
    r: VolRef,
}

impl std::fmt::Debug for StoragePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("StoragePool").field(&self.r).finish()
    }
}

impl std::fmt::Debug for StorageVol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("StorageVol").field(&self.r).finish()
    }
}

impl Connect {
    /// The connection's storage driver, or libvirt's "not supported"
    /// naming `api`.
    pub(crate) fn storage_driver(&self, api: &str) -> Result<&dyn StorageDriver> {
        shared::or_shared(
            self.driver().as_ref(),
            self.driver().storage(),
            shared::storage(),
        )
        .ok_or_else(|| unsupported(api))
    }

    /// A handle for a pool the caller already knows (the daemon rebuilds
    /// handles from `remote_nonnull_storage_pool` this way).
    pub fn storage_pool(&self, r: PoolRef) -> StoragePool {
        StoragePool {
            conn: self.clone(),
            r,
        }
    }

    /// A handle for a known volume (`remote_nonnull_storage_vol`).
    pub fn storage_vol(&self, r: VolRef) -> StorageVol {
        StorageVol {
            conn: self.clone(),
            r,
        }
    }

    /// `virConnectNumOfStoragePools`.
    pub fn num_of_storage_pools(&self) -> Result<i32> {
        self.storage_driver("virConnectNumOfStoragePools")?
            .num_of_pools()
    }

    /// `virConnectListStoragePools`.
    pub fn list_storage_pools(&self, max: usize) -> Result<Vec<String>> {
        self.storage_driver("virConnectListStoragePools")?
            .list_pools(max)
    }

    /// `virConnectNumOfDefinedStoragePools`.
    pub fn num_of_defined_storage_pools(&self) -> Result<i32> {
        self.storage_driver("virConnectNumOfDefinedStoragePools")?
            .num_of_defined_pools()
    }

    /// `virConnectListDefinedStoragePools`.
    pub fn list_defined_storage_pools(&self, max: usize) -> Result<Vec<String>> {
        self.storage_driver("virConnectListDefinedStoragePools")?
            .list_defined_pools(max)
    }

    /// `virConnectListAllStoragePools`.
    pub fn list_all_storage_pools(&self, flags: u32) -> Result<Vec<StoragePool>> {
        let refs = self
            .storage_driver("virConnectListAllStoragePools")?
            .list_all_pools(flags)?;
        Ok(refs.into_iter().map(|r| self.storage_pool(r)).collect())
    }

    /// `virConnectFindStoragePoolSources`.
    pub fn find_storage_pool_sources(
        &self,
        kind: &str,
        spec: Option<&str>,
        flags: u32,
    ) -> Result<String> {
        self.check_writable("virConnectFindStoragePoolSources")?;
        self.storage_driver("virConnectFindStoragePoolSources")?
            .find_pool_sources(kind, spec, flags)
    }

    /// `virConnectGetStoragePoolCapabilities`.
    pub fn get_storage_pool_capabilities(&self, flags: u32) -> Result<String> {
        self.storage_driver("virConnectGetStoragePoolCapabilities")?
            .pool_capabilities(flags)
    }

    /// `virStoragePoolLookupByName`.
    pub fn storage_pool_lookup_by_name(&self, name: &str) -> Result<StoragePool> {
        let d = self.storage_driver("virStoragePoolLookupByName")?;
        Ok(self.storage_pool(d.pool_lookup_by_name(name)?))
    }

    /// `virStoragePoolLookupByUUID`.
    pub fn storage_pool_lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<StoragePool> {
        let d = self.storage_driver("virStoragePoolLookupByUUID")?;
        Ok(self.storage_pool(d.pool_lookup_by_uuid(uuid)?))
    }

    /// `virStoragePoolLookupByUUIDString`.
    pub fn storage_pool_lookup_by_uuid_string(&self, uuid: &str) -> Result<StoragePool> {
        let parsed = rvirt_util::uuid::parse(uuid).ok_or_else(|| {
            Error::new(
                ERROR_DOMAIN,
                ErrorCode::INVALID_ARG,
                "uuidstr in virStoragePoolLookupByUUIDString must be a valid UUID",
            )
        })?;
        self.storage_pool_lookup_by_uuid(parsed.as_bytes())
    }

    /// `virStoragePoolLookupByTargetPath`.
    pub fn storage_pool_lookup_by_target_path(&self, path: &str) -> Result<StoragePool> {
        let d = self.storage_driver("virStoragePoolLookupByTargetPath")?;
        Ok(self.storage_pool(d.pool_lookup_by_target_path(path)?))
    }

    /// `virStoragePoolCreateXML`.
    pub fn storage_pool_create_xml(&self, xml: &str, flags: u32) -> Result<StoragePool> {
        self.check_writable("virStoragePoolCreateXML")?;
        let d = self.storage_driver("virStoragePoolCreateXML")?;
        Ok(self.storage_pool(d.pool_create_xml(xml, flags)?))
    }

    /// `virStoragePoolDefineXML`.
    pub fn storage_pool_define_xml(&self, xml: &str, flags: u32) -> Result<StoragePool> {
        self.check_writable("virStoragePoolDefineXML")?;
        let d = self.storage_driver("virStoragePoolDefineXML")?;
        Ok(self.storage_pool(d.pool_define_xml(xml, flags)?))
    }

    /// `virStorageVolLookupByKey`.
    pub fn storage_vol_lookup_by_key(&self, key: &str) -> Result<StorageVol> {
        let d = self.storage_driver("virStorageVolLookupByKey")?;
        Ok(self.storage_vol(d.vol_lookup_by_key(key)?))
    }

    /// `virStorageVolLookupByPath`.
    pub fn storage_vol_lookup_by_path(&self, path: &str) -> Result<StorageVol> {
        let d = self.storage_driver("virStorageVolLookupByPath")?;
        Ok(self.storage_vol(d.vol_lookup_by_path(path)?))
    }

    /// `virConnectStoragePoolEventRegisterAny`.
    pub fn storage_pool_event_register_any(
        &self,
        pool: Option<&StoragePool>,
        event_id: i32,
        callback: PoolEventCallback,
    ) -> Result<i32> {
        self.storage_driver("virConnectStoragePoolEventRegisterAny")?
            .pool_event_register_any(pool.map(|p| &p.r), event_id, callback)
    }

    /// `virConnectStoragePoolEventDeregisterAny`.
    pub fn storage_pool_event_deregister_any(&self, callback_id: i32) -> Result<()> {
        self.storage_driver("virConnectStoragePoolEventDeregisterAny")?
            .pool_event_deregister_any(callback_id)
    }
}

pub use crate::driver::storage::ERROR_DOMAIN;

/// Pool methods that hand the call to the driver with the pool's identity;
/// `write` ones refuse a read-only connection first.
macro_rules! pool_calls {
    ($( $(#[$m:meta])* $access:ident fn $name:ident => $drv:ident($($a:ident: $t:ty),*) -> $ret:ty, $api:literal; )*) => {
        $(
            $(#[$m])*
            pub fn $name(&self, $($a: $t),*) -> $ret {
                pool_calls!(@check $access, self.conn, $api);
                self.conn.storage_driver($api)?.$drv(&self.r, $($a),*)
            }
        )*
    };
    (@check write, $c:expr, $api:literal) => { $c.check_writable($api)? };
    (@check read, $c:expr, $api:literal) => {};
}

impl StoragePool {
    crate::handle::identity_getters!("virStoragePool");
    pub fn pool_ref(&self) -> &PoolRef {
        &self.r
    }
    /// `virStoragePoolGetConnect`.
    pub fn connect(&self) -> &Connect {
        &self.conn
    }

    pool_calls! {
        /// `virStoragePoolBuild`.
        write fn build => pool_build(flags: u32) -> Result<()>, "virStoragePoolBuild";
        /// `virStoragePoolUndefine`.
        write fn undefine => pool_undefine() -> Result<()>, "virStoragePoolUndefine";
        /// `virStoragePoolCreate`.
        write fn create => pool_create(flags: u32) -> Result<()>, "virStoragePoolCreate";
        /// `virStoragePoolDestroy`.
        write fn destroy => pool_destroy() -> Result<()>, "virStoragePoolDestroy";
        /// `virStoragePoolDelete`.
        write fn delete => pool_delete(flags: u32) -> Result<()>, "virStoragePoolDelete";
        /// `virStoragePoolRefresh`.
        write fn refresh => pool_refresh(flags: u32) -> Result<()>, "virStoragePoolRefresh";
        /// `virStoragePoolSetAutostart`.
        write fn set_autostart => pool_set_autostart(autostart: bool) -> Result<()>, "virStoragePoolSetAutostart";
        /// `virStoragePoolGetInfo`.
        read fn get_info => pool_get_info() -> Result<PoolInfo>, "virStoragePoolGetInfo";
        /// `virStoragePoolGetXMLDesc`.
        read fn get_xml_desc => pool_get_xml_desc(flags: u32) -> Result<String>, "virStoragePoolGetXMLDesc";
        /// `virStoragePoolGetAutostart`.
        read fn get_autostart => pool_get_autostart() -> Result<bool>, "virStoragePoolGetAutostart";
        /// `virStoragePoolIsActive`.
        read fn is_active => pool_is_active() -> Result<bool>, "virStoragePoolIsActive";
        /// `virStoragePoolIsPersistent`.
        read fn is_persistent => pool_is_persistent() -> Result<bool>, "virStoragePoolIsPersistent";
        /// `virStoragePoolNumOfVolumes`.
        read fn num_of_volumes => pool_num_of_volumes() -> Result<i32>, "virStoragePoolNumOfVolumes";
        /// `virStoragePoolListVolumes`.
        read fn list_volumes => pool_list_volumes(max: usize) -> Result<Vec<String>>, "virStoragePoolListVolumes";
    }

    /// `virStoragePoolListAllVolumes`.
    pub fn list_all_volumes(&self, flags: u32) -> Result<Vec<StorageVol>> {
        let refs = self
            .conn
            .storage_driver("virStoragePoolListAllVolumes")?
            .pool_list_all_volumes(&self.r, flags)?;
        Ok(refs.into_iter().map(|r| self.conn.storage_vol(r)).collect())
    }

    /// `virStorageVolLookupByName`.
    pub fn vol_lookup_by_name(&self, name: &str) -> Result<StorageVol> {
        let d = self.conn.storage_driver("virStorageVolLookupByName")?;
        Ok(self.conn.storage_vol(d.vol_lookup_by_name(&self.r, name)?))
    }

    /// `virStorageVolCreateXML`.
    pub fn vol_create_xml(&self, xml: &str, flags: u32) -> Result<StorageVol> {
        self.conn.check_writable("virStorageVolCreateXML")?;
        let d = self.conn.storage_driver("virStorageVolCreateXML")?;
        Ok(self
            .conn
            .storage_vol(d.vol_create_xml(&self.r, xml, flags)?))
    }

    /// `virStorageVolCreateXMLFrom`.
    pub fn vol_create_xml_from(
        &self,
        xml: &str,
        clone: &StorageVol,
        flags: u32,
    ) -> Result<StorageVol> {
        self.conn.check_writable("virStorageVolCreateXMLFrom")?;
        let d = self.conn.storage_driver("virStorageVolCreateXMLFrom")?;
        let r = d.vol_create_xml_from(&self.r, xml, &clone.r, flags)?;
        Ok(self.conn.storage_vol(r))
    }
}

impl StorageVol {
    /// `virStorageVolGetName`.
    pub fn name(&self) -> &str {
        &self.r.name
    }
    /// `virStorageVolGetKey`.
    pub fn key(&self) -> &str {
        &self.r.key
    }
    /// The name of the pool holding the volume.
    pub fn pool_name(&self) -> &str {
        &self.r.pool
    }
    pub fn vol_ref(&self) -> &VolRef {
        &self.r
    }
    pub fn connect(&self) -> &Connect {
        &self.conn
    }

    /// `virStorageVolUpload`: bind `st` to the volume's data from
    /// `offset` (`length` 0: to the end); the caller then sends.
    pub fn upload(&self, st: &crate::Stream, offset: u64, length: u64, flags: u32) -> Result<()> {
        self.conn.check_writable("virStorageVolUpload")?;
        self.conn.storage_driver("virStorageVolUpload")?.vol_upload(
            &self.r,
            st,
            VolRange { offset, length },
            flags,
        )
    }

    /// `virStorageVolDownload`: bind `st` to the volume's data; the caller
    /// then receives.
    pub fn download(&self, st: &crate::Stream, offset: u64, length: u64, flags: u32) -> Result<()> {
        self.conn.check_writable("virStorageVolDownload")?;
        self.conn
            .storage_driver("virStorageVolDownload")?
            .vol_download(&self.r, st, VolRange { offset, length }, flags)
    }

    /// `virStoragePoolLookupByVolume`.
    pub fn pool(&self) -> Result<StoragePool> {
        let d = self.conn.storage_driver("virStoragePoolLookupByVolume")?;
        Ok(self.conn.storage_pool(d.pool_lookup_by_volume(&self.r)?))
    }

    pool_calls! {
        /// `virStorageVolDelete`.
        write fn delete => vol_delete(flags: u32) -> Result<()>, "virStorageVolDelete";
        /// `virStorageVolWipe`.
        write fn wipe => vol_wipe(flags: u32) -> Result<()>, "virStorageVolWipe";
        /// `virStorageVolWipePattern`.
        write fn wipe_pattern => vol_wipe_pattern(algorithm: u32, flags: u32) -> Result<()>, "virStorageVolWipePattern";
        /// `virStorageVolResize`.
        write fn resize => vol_resize(capacity: u64, flags: u32) -> Result<()>, "virStorageVolResize";
        /// `virStorageVolGetInfo`.
        read fn get_info => vol_get_info() -> Result<VolInfo>, "virStorageVolGetInfo";
        /// `virStorageVolGetInfoFlags`.
        read fn get_info_flags => vol_get_info_flags(flags: u32) -> Result<VolInfo>, "virStorageVolGetInfoFlags";
        /// `virStorageVolGetXMLDesc`.
        read fn get_xml_desc => vol_get_xml_desc(flags: u32) -> Result<String>, "virStorageVolGetXMLDesc";
        /// `virStorageVolGetPath`.
        read fn get_path => vol_get_path() -> Result<String>, "virStorageVolGetPath";
    }
}
