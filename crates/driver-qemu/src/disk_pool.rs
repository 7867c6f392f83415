//! `<disk type='volume'>`: the pool volume a disk names, translated to the
//! file, block device or directory on the host (libvirt's
//! `virDomainDiskTranslateSourcePool`), through the daemon's shared
//! storage driver: the pool must be running, the volume exists, and its
//! path and type become the disk's actual source for the command line,
//! labelling and statistics, while the XML keeps `pool=`/`volume=`.

use rvirt::driver::storage::PoolRef;
use rvirt::driver::{shared, StorageDriver};
use rvirt_conf::domain::disk::{DiskType, SourceKind, VolumeSource};
use rvirt_conf::storage::{PoolDef, PoolType};
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_FROM_DOMAIN`: libvirt raises these in domain_conf.c.
const DOMAIN: ErrorDomain = ErrorDomain::DOMAIN;

/// Translate every volume disk of `def`.
pub fn translate_disks(def: &mut DomainDef) -> Result<()> {
    for disk in &mut def.devices.disks {
        if let SourceKind::Volume(Some(v)) = &mut disk.source.kind {
            let storage = shared::storage().ok_or_else(|| {
                Error::new(
                    ErrorDomain::NONE,
                    ErrorCode::NO_CONNECT,
                    "storage:///system",
                )
            })?;
            translate(storage, v)?;
        }
    }
    Ok(())
}

/// `virDomainStorageSourceTranslateSourcePool` for one volume source.
pub fn translate(storage: &dyn StorageDriver, v: &mut VolumeSource) -> Result<()> {
    let pool: PoolRef = storage.pool_lookup_by_name(&v.pool)?;
    if !storage.pool_is_active(&pool)? {
        return Err(Error::new(
            DOMAIN,
            ErrorCode::CONFIG_UNSUPPORTED,
            format!(
                "storage pool '{}' containing volume '{}' is not active",
                v.pool, v.volume
            ),
        ));
    }
    let vol = storage.vol_lookup_by_name(&pool, &v.volume)?;
    let info = storage.vol_get_info(&vol)?;
    let pool_def = PoolDef::parse(&storage.pool_get_xml_desc(&pool, 0)?)?;
    if v.mode.is_some() && pool_def.pool_type != PoolType::Iscsi {
        return Err(Error::new(
            DOMAIN,
            ErrorCode::XML_ERROR,
            "disk source mode is only valid when storage pool is of iscsi type",
        ));
    }
    use PoolType::*;
    match pool_def.pool_type {
        Dir | Fs | Netfs | Logical | Disk | Scsi | Zfs | Vstorage => {}
        other => {
            return Err(Error::new(
                DOMAIN,
                ErrorCode::CONFIG_UNSUPPORTED,
                format!("using '{other}' pools for backing 'volume' disks isn't yet supported"),
            ))
        }
    }
    let path = storage.vol_get_path(&vol)?;
    // virStorageVolType: file, block, dir, network, netdir, ploop.
    let actual = match info.kind {
        0 | 5 => DiskType::File,
        1 => DiskType::Block,
        2 => DiskType::Dir,
        kind => {
            let names = ["file", "block", "dir", "network", "netdir", "ploop"];
            let name = names.get(kind as usize).copied().unwrap_or("unknown");
            return Err(Error::internal(
                DOMAIN,
                format!(
                    "unexpected storage volume type '{name}' for storage pool type '{}'",
                    pool_def.pool_type
                ),
            ));
        }
    };
    v.translated = Some((actual, path));
    Ok(())
}

/// `qemuMigrationDstPrecreateDisk` for a volume disk: the volume made in
/// the destination's pool when it is missing (qcow2 with its metadata
/// preallocated), as libvirt does before an incoming storage migration.
pub fn precreate_volume(
    v: &VolumeSource,
    format: &str,
    capacity: u64,
    incremental: bool,
) -> Result<()> {
    let storage = shared::storage().ok_or_else(|| {
        Error::new(
            ErrorDomain::NONE,
            ErrorCode::NO_CONNECT,
            "storage:///system",
        )
    })?;
    let pool = storage.pool_lookup_by_name(&v.pool)?;
    if storage.vol_lookup_by_name(&pool, &v.volume).is_ok() {
        return Ok(());
    }
    if incremental {
        return Err(Error::new(
            ErrorDomain::QEMU,
            ErrorCode::OPERATION_UNSUPPORTED,
            "pre-creation of storage targets for incremental storage migration is not supported",
        ));
    }
    let flags = u32::from(format == "qcow2"); // VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA
    let xml = format!(
        "<volume>\n  <name>{}</name>\n  <capacity>{capacity}</capacity>\n  <target>\n    \
         <format type='{format}'/>\n  </target>\n</volume>\n",
        rvirt_conf::xml::escape(&v.volume)
    );
    storage.vol_create_xml(&pool, &xml, flags).map(drop)
}
