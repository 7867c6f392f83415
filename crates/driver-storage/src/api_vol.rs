//! The volume entries of the host storage driver (libvirt's
//! storage_driver.c `storageVol*`): lookups, create (and from a clone),
//! delete, resize, wipe, info and XML refreshed from the file, and the
//! upload/download streams.

use crate::backend::check_flags;
use crate::driver::{refresh_after_upload, HostStorage};
use crate::pools::HostPool;
use crate::pools::HostPools;
use crate::pools::{no_vol, op_invalid, PoolObj, Pools};
use crate::streams::VolumeStream;
use crate::{probe, volumes, ERROR_DOMAIN};
use rvirt::driver::storage::{VolInfo, VolRange, VolRef};
use rvirt_conf::storage::volume_parse_flags::{NO_CAPACITY, OPT_CAPACITY};
use rvirt_conf::storage::VolDef;
use rvirt_util::{Error, ErrorCode, Result};
use std::sync::Arc;

/// `VIR_STORAGE_VOL_CREATE_VALIDATE`.
const CREATE_VALIDATE: u32 = 1 << 2;
/// `VIR_STORAGE_VOL_RESIZE_DELTA`.
const RESIZE_DELTA: u32 = 1 << 1;
/// `VIR_STORAGE_VOL_GET_PHYSICAL`.
const GET_PHYSICAL: u32 = 1;
/// `VIR_STORAGE_VOL_WIPE_ALG_LAST`.
const WIPE_ALG_LAST: u32 = 10;

/// `virStorageVolDefFromVol`: the running pool of `vol` and its index.
fn vol_of<'a>(p: &'a mut Pools, vol: &VolRef) -> Result<(&'a mut PoolObj, usize)> {
    let obj = p.by_name(&vol.pool)?;
    obj.check_active()?;
    let i = obj.vol_index(&vol.name)?;
    Ok((obj, i))
}

impl HostStorage {
    pub(crate) fn vol_names(
        &self,
        pool: &rvirt::driver::storage::PoolRef,
        max: usize,
    ) -> Result<Vec<String>> {
        self.inner.with(|p| {
            let o = p.of(pool)?;
            o.check_active()?;
            Ok(o.volumes.iter().take(max).map(|v| v.name.clone()).collect())
        })
    }

    pub(crate) fn vol_refs(
        &self,
        pool: &rvirt::driver::storage::PoolRef,
        flags: u32,
    ) -> Result<Vec<VolRef>> {
        check_flags("storagePoolListAllVolumes", flags, 0)?;
        self.inner.with(|p| {
            let o = p.of(pool)?;
            o.check_active()?;
            Ok(o.volumes.iter().map(|v| o.vol_ref(v)).collect())
        })
    }

    pub(crate) fn vol_by_name(
        &self,
        pool: &rvirt::driver::storage::PoolRef,
        name: &str,
    ) -> Result<VolRef> {
        self.inner.with(|p| {
            let o = p.of(pool)?;
            o.check_active()?;
            let i = o.vol_index(name)?;
            Ok(o.vol_ref(&o.volumes[i]))
        })
    }

    pub(crate) fn vol_by_key(&self, key: &str) -> Result<VolRef> {
        self.inner.with(|p| {
            p.find_volume_ref(|v| v.key.as_deref() == Some(key))
                .ok_or_else(|| no_vol(format!("no storage vol with matching key {key}")))
        })
    }

    pub(crate) fn vol_by_path(&self, path: &str) -> Result<VolRef> {
        let clean = rvirt_conf::storage::sanitize_path(path);
        self.inner.with(|p| {
            p.find_volume_ref(|v| v.target.path.as_deref() == Some(clean.as_str()))
                .ok_or_else(|| {
                    no_vol(if clean == path {
                        format!("no storage vol with matching path '{path}'")
                    } else {
                        format!("no storage vol with matching path '{path}' ({clean})")
                    })
                })
        })
    }

    /// `storageVolCreateXML` and `storageVolCreateXMLFrom` (`clone`).
    pub(crate) fn vol_create(
        &self,
        pool: &rvirt::driver::storage::PoolRef,
        xml: &str,
        clone: Option<&VolRef>,
        flags: u32,
    ) -> Result<VolRef> {
        let allowed = volumes::CREATE_PREALLOC_METADATA | CREATE_VALIDATE;
        match clone {
            None => check_flags("storageVolCreateXML", flags, allowed)?,
            Some(_) => check_flags(
                "storageVolCreateXMLFrom",
                flags,
                allowed | volumes::CREATE_REFLINK,
            )?,
        }
        let flags = flags & !CREATE_VALIDATE;
        self.inner.with(|p| {
            let i = p.index_of(pool)?;
            let source = match clone {
                Some(c) => Some(clone_source(p, i, c)?),
                None => None,
            };
            let obj = &mut p.list[i];
            obj.check_active()?;
            let parse_flags = if clone.is_some() {
                NO_CAPACITY
            } else {
                OPT_CAPACITY
            };
            let mut vol = VolDef::parse(&obj.def, xml, parse_flags)?;
            if obj.volumes.iter().any(|v| v.name == vol.name) {
                return Err(match clone {
                    None => Error::new(
                        ERROR_DOMAIN,
                        ErrorCode::STORAGE_VOL_EXIST,
                        format!("'{}'", vol.name),
                    ),
                    Some(_) => Error::internal(
                        ERROR_DOMAIN,
                        format!("storage volume name '{}' already in use.", vol.name),
                    ),
                });
            }
            if let Some(src) = &source {
                vol.capacity = vol.capacity.max(src.capacity);
                if !vol.has_allocation {
                    vol.allocation = vol.capacity;
                }
            }
            vol.key = None;
            volumes::define_local(obj.target_path(), &mut vol)?;
            volumes::build(&vol, source.as_ref(), flags)?;
            if let Err(e) = probe::refresh_vol(&mut vol) {
                let _ = volumes::delete(&vol, 0);
                return Err(e);
            }
            obj.def.allocation += vol.allocation;
            obj.def.available = obj.def.available.saturating_sub(vol.allocation);
            let r = obj.vol_ref(&vol);
            obj.volumes.push(vol);
            Ok(r)
        })
    }

    pub(crate) fn remove_vol(&self, vol: &VolRef, flags: u32) -> Result<()> {
        self.inner.with(|p| {
            let (obj, i) = vol_of(p, vol)?;
            volumes::delete(&obj.volumes[i], flags)?;
            let gone = obj.volumes.remove(i);
            obj.def.allocation = obj.def.allocation.saturating_sub(gone.allocation);
            obj.def.available += gone.allocation;
            Ok(())
        })
    }

    /// `storageVolResize`.
    pub(crate) fn resize_vol(&self, vol: &VolRef, capacity: u64, flags: u32) -> Result<()> {
        use volumes::{RESIZE_ALLOCATE, RESIZE_SHRINK};
        check_flags(
            "storageVolResize",
            flags,
            RESIZE_ALLOCATE | RESIZE_DELTA | RESIZE_SHRINK,
        )?;
        self.inner.with(|p| {
            let (obj, i) = vol_of(p, vol)?;
            let v = &obj.volumes[i];
            let (abs, flags) = if flags & RESIZE_DELTA != 0 {
                let abs = if flags & RESIZE_SHRINK != 0 {
                    v.capacity - capacity.min(v.capacity)
                } else {
                    v.capacity.saturating_add(capacity)
                };
                (abs, flags & !RESIZE_DELTA)
            } else {
                (capacity, flags)
            };
            if abs < v.allocation {
                return Err(Error::invalid_arg(
                    ERROR_DOMAIN,
                    "can't shrink capacity below existing allocation",
                ));
            }
            if abs < v.capacity && flags & RESIZE_SHRINK == 0 {
                return Err(Error::invalid_arg(
                    ERROR_DOMAIN,
                    "Can't shrink capacity below current capacity unless shrink flag explicitly specified",
                ));
            }
            let delta = if flags & RESIZE_ALLOCATE != 0 { abs - v.allocation } else { 0 };
            if delta > obj.def.available {
                return Err(Error::new(
                    ERROR_DOMAIN,
                    ErrorCode::OPERATION_FAILED,
                    "Not enough space left in storage pool",
                ));
            }
            volumes::resize(v, abs, flags)?;
            let v = &mut obj.volumes[i];
            v.capacity = abs;
            if flags & RESIZE_ALLOCATE != 0 {
                v.allocation = abs;
                obj.def.allocation += delta;
                obj.def.available -= delta;
            }
            Ok(())
        })
    }

    /// `storageVolWipePattern`: then the volume probed again as a pool
    /// refresh finds it.
    pub(crate) fn wipe_vol(&self, vol: &VolRef, algorithm: u32, flags: u32) -> Result<()> {
        check_flags("storageVolWipePattern", flags, 0)?;
        if algorithm >= WIPE_ALG_LAST {
            return Err(Error::invalid_arg(
                ERROR_DOMAIN,
                format!("wiping algorithm {algorithm} not supported"),
            ));
        }
        self.inner.with(|p| {
            let (obj, i) = vol_of(p, vol)?;
            volumes::wipe(&obj.volumes[i], algorithm, flags)?;
            let dir = obj.target_path().to_string();
            if let Some(fresh) = probe::probe_vol(&dir, &vol.name)? {
                obj.volumes[i] = fresh;
            }
            Ok(())
        })
    }

    /// `storageVolGetInfoFlags` (and the XML, path): refreshed from the file.
    pub(crate) fn vol_read<R>(
        &self,
        vol: &VolRef,
        f: impl FnOnce(&PoolObj, &VolDef) -> R,
    ) -> Result<R> {
        self.inner.with(|p| {
            let (obj, i) = vol_of(p, vol)?;
            probe::refresh_vol(&mut obj.volumes[i])?;
            Ok(f(obj, &obj.volumes[i]))
        })
    }

    pub(crate) fn vol_info(&self, vol: &VolRef, flags: u32) -> Result<VolInfo> {
        check_flags("storageVolGetInfoFlags", flags, GET_PHYSICAL)?;
        self.vol_read(vol, |_, v| VolInfo {
            kind: v.vol_type as i32,
            capacity: v.capacity,
            allocation: if flags & GET_PHYSICAL != 0 {
                v.target.physical
            } else {
                v.allocation
            },
        })
    }

    pub(crate) fn path_of_vol(&self, vol: &VolRef) -> Result<String> {
        self.inner.with(|p| {
            let (obj, i) = vol_of(p, vol)?;
            Ok(obj.volumes[i].target.path.clone().unwrap_or_default())
        })
    }

    /// `storageVolUpload`/`storageVolDownload`: the stream bound to the
    /// volume's file (an upload refreshes the pool once it ends).
    pub(crate) fn vol_stream(
        &self,
        vol: &VolRef,
        st: &rvirt::Stream,
        range: VolRange,
        flags: u32,
        upload: bool,
    ) -> Result<()> {
        // VIR_STORAGE_VOL_{UP,DOWN}LOAD_SPARSE_STREAM: the data goes whole.
        let func = if upload {
            "storageVolUpload"
        } else {
            "storageVolDownload"
        };
        check_flags(func, flags, 1)?;
        let path = self.path_of_vol(vol)?;
        let on_finish = upload.then(|| refresh_after_upload(&self.inner, vol.pool.clone()));
        let stream = VolumeStream::open(&path, range.offset, range.length, upload, on_finish)?;
        st.attach(Arc::new(stream))
    }
}

/// The volume a clone copies (`storageVolCreateXMLFrom`): in the target
/// pool or in its own, running, pool; refreshed first.
fn clone_source(p: &mut Pools, target: usize, c: &VolRef) -> Result<VolDef> {
    let src_pool = if p.list[target].def.name == c.pool {
        target
    } else {
        p.index_by_name(&c.pool)?
    };
    if !p.list[target].active {
        let name = &p.list[target].def.name;
        return Err(op_invalid(format!("storage pool '{name}' is not active")));
    }
    let obj = &mut p.list[src_pool];
    obj.check_active()?;
    let i = obj.vol_index(&c.name)?;
    probe::refresh_vol(&mut obj.volumes[i])?;
    Ok(obj.volumes[i].clone())
}
