//! The pool entries of the host storage driver (libvirt's
//! storage_driver.c `storagePool*` and `storageConnect*`), with its
//! checks, messages and lifecycle events.

use crate::backend::{self, check_build_exclusive, check_flags};
use crate::driver::HostStorage;
use crate::persist;
use crate::pools::HostPool;
use crate::pools::HostPools;
use crate::pools::{op_invalid, PoolObj};
use crate::ERROR_DOMAIN;
use rvirt::driver::storage::{pool_event, PoolEvent, PoolInfo, PoolRef};
use rvirt_conf::storage::PoolDef;
use rvirt_util::{Error, ErrorCode, Result};

/// `VIR_STORAGE_POOL_CREATE_WITH_BUILD*`.
const CREATE_WITH_BUILD: u32 = 1;
const CREATE_WITH_BUILD_OVERWRITE: u32 = 1 << 1;
const CREATE_WITH_BUILD_NO_OVERWRITE: u32 = 1 << 2;
const CREATE_FLAGS: u32 =
    CREATE_WITH_BUILD | CREATE_WITH_BUILD_OVERWRITE | CREATE_WITH_BUILD_NO_OVERWRITE;

/// The build a pool start asks for with `VIR_STORAGE_POOL_CREATE_*`.
fn build_of(flags: u32) -> Option<u32> {
    if flags & CREATE_WITH_BUILD_OVERWRITE != 0 {
        Some(backend::BUILD_OVERWRITE)
    } else if flags & CREATE_WITH_BUILD_NO_OVERWRITE != 0 {
        Some(backend::BUILD_NO_OVERWRITE)
    } else {
        (flags & CREATE_WITH_BUILD != 0).then_some(0)
    }
}

impl HostStorage {
    pub(crate) fn pool_names(&self, active: bool, max: usize) -> Result<Vec<String>> {
        self.inner.with(|p| Ok(p.names(active, max)))
    }

    pub(crate) fn list_all(&self, flags: u32) -> Result<Vec<PoolRef>> {
        check_flags(
            "storageConnectListAllStoragePools",
            flags,
            rvirt::storage::LIST_POOLS_FILTERS_ALL,
        )?;
        self.inner.with(|p| {
            Ok(p.list
                .iter()
                .filter(|o| o.matches(flags))
                .map(PoolObj::pool_ref)
                .collect())
        })
    }

    /// `storageConnectFindStoragePoolSources`: neither `dir` nor `fs`
    /// discovers sources.
    pub(crate) fn find_sources(&self, kind: &str) -> Result<String> {
        use rvirt_conf::domain::props::VirEnum;
        if rvirt_conf::storage::PoolType::from_str_opt(kind).is_none() {
            return Err(Error::internal(
                ERROR_DOMAIN,
                format!("unknown storage pool type {kind}"),
            ));
        }
        Err(Error::new(
            ERROR_DOMAIN,
            ErrorCode::NO_SUPPORT,
            format!("pool type '{kind}' does not support source discovery"),
        ))
    }

    pub(crate) fn create_xml(&self, xml: &str, flags: u32) -> Result<PoolRef> {
        check_flags("storagePoolCreateXML", flags, CREATE_FLAGS)?;
        check_build_exclusive(flags)?;
        let def = PoolDef::parse(xml)?;
        backend::supported(def.pool_type)?;
        let inner = &self.inner;
        inner.with(|p| {
            let i = p.add(def, true, true)?;
            let r = p.list[i].pool_ref();
            inner.start_pool(p, i, build_of(flags))?;
            Ok(r)
        })
    }

    pub(crate) fn define_xml(&self, xml: &str, flags: u32) -> Result<PoolRef> {
        // VIR_STORAGE_POOL_DEFINE_VALIDATE: the schema check is not modelled.
        check_flags("storagePoolDefineXML", flags, 1)?;
        let def = PoolDef::parse(xml)?;
        if def.name.contains('\n') {
            // virXMLCheckIllegalChars.
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::XML_DETAIL,
                "invalid char in name: \n",
            ));
        }
        backend::supported(def.pool_type)?;
        let paths = &self.inner.paths;
        self.inner.with(|p| {
            let existed = p.index_by_name(&def.name).is_ok();
            let i = p.add(def, false, false)?;
            let obj = &mut p.list[i];
            let saved = persist::save_config(paths, obj.new_def.as_ref().unwrap_or(&obj.def));
            match saved {
                Ok(path) => obj.config = Some(path),
                Err(e) => {
                    if !existed {
                        p.list.remove(i);
                    }
                    return Err(e);
                }
            }
            let r = p.list[i].pool_ref();
            p.emit_lifecycle(r.clone(), pool_event::DEFINED);
            Ok(r)
        })
    }

    pub(crate) fn undefine(&self, pool: &PoolRef) -> Result<()> {
        let paths = &self.inner.paths;
        self.inner.with(|p| {
            let i = p.index_of(pool)?;
            let obj = &p.list[i];
            obj.check_inactive("still active")?;
            let Some(config) = obj.config.clone() else {
                return Err(Error::internal(
                    ERROR_DOMAIN,
                    format!("no config file for {}", obj.def.name),
                ));
            };
            persist::delete_config(&config, &obj.def.name)?;
            persist::remove_quietly(&paths.autostart_link(&obj.def.name));
            let r = obj.pool_ref();
            p.list.remove(i);
            p.emit_lifecycle(r, pool_event::UNDEFINED);
            Ok(())
        })
    }

    pub(crate) fn create(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        check_flags("storagePoolCreate", flags, CREATE_FLAGS)?;
        check_build_exclusive(flags)?;
        let inner = &self.inner;
        inner.with(|p| {
            let i = p.index_of(pool)?;
            p.list[i].check_inactive("already active")?;
            inner.start_pool(p, i, build_of(flags))
        })
    }

    pub(crate) fn build(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        self.inner.with(|p| {
            let i = p.index_of(pool)?;
            let obj = &p.list[i];
            obj.check_inactive("already active")?;
            backend::build(obj, flags)?;
            let r = obj.pool_ref();
            p.emit_lifecycle(r, pool_event::CREATED);
            Ok(())
        })
    }

    pub(crate) fn destroy(&self, pool: &PoolRef) -> Result<()> {
        let paths = &self.inner.paths;
        self.inner.with(|p| {
            let i = p.index_of(pool)?;
            let obj = &mut p.list[i];
            obj.check_active()?;
            persist::remove_quietly(&paths.state_file(&obj.def.name));
            backend::stop(obj)?;
            obj.volumes.clear();
            obj.active = false;
            let r = obj.pool_ref();
            p.emit_lifecycle(r, pool_event::STOPPED);
            p.update_inactive(i);
            Ok(())
        })
    }

    pub(crate) fn delete(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        let paths = &self.inner.paths;
        self.inner.with(|p| {
            let i = p.index_of(pool)?;
            let obj = &p.list[i];
            obj.check_inactive("still active")?;
            persist::remove_quietly(&paths.state_file(&obj.def.name));
            backend::delete(obj, flags)?;
            let r = obj.pool_ref();
            p.emit_lifecycle(r, pool_event::DELETED);
            Ok(())
        })
    }

    pub(crate) fn refresh(&self, pool: &PoolRef, flags: u32) -> Result<()> {
        check_flags("storagePoolRefresh", flags, 0)?;
        let inner = &self.inner;
        inner.with(|p| {
            let i = p.index_of(pool)?;
            let obj = &mut p.list[i];
            obj.check_active()?;
            let r = obj.pool_ref();
            if let Err(e) = inner.refresh_or_stop(obj, true) {
                obj.active = false;
                p.emit_lifecycle(r, pool_event::STOPPED);
                p.update_inactive(i);
                return Err(e);
            }
            p.emit((r, PoolEvent::Refresh));
            Ok(())
        })
    }

    pub(crate) fn info(&self, pool: &PoolRef) -> Result<PoolInfo> {
        self.inner.with(|p| {
            let o = p.of(pool)?;
            Ok(PoolInfo::of(o.active, o.def.figures()))
        })
    }

    pub(crate) fn xml_desc(&self, pool: &PoolRef, flags: u32) -> Result<String> {
        // VIR_STORAGE_XML_INACTIVE.
        check_flags("storagePoolGetXMLDesc", flags, 1)?;
        self.inner.with(|p| {
            let o = p.of(pool)?;
            let def = match (&o.new_def, flags & 1 != 0) {
                (Some(new), true) => new,
                _ => &o.def,
            };
            Ok(def.format())
        })
    }

    pub(crate) fn set_autostart(&self, pool: &PoolRef, on: bool) -> Result<()> {
        let paths = &self.inner.paths;
        self.inner.with(|p| {
            let o = p.of(pool)?;
            let Some(config) = o.config.clone() else {
                return Err(Error::internal(ERROR_DOMAIN, "pool has no config file"));
            };
            if o.autostart != on {
                let link = paths.autostart_link(&o.def.name);
                persist::set_autostart_link(paths, &link, &config, on)?;
                o.autostart = on;
            }
            Ok(())
        })
    }

    /// `storagePoolLookupByTargetPath`.
    pub(crate) fn by_target_path(&self, path: &str) -> Result<PoolRef> {
        let clean = rvirt_conf::storage::sanitize_path(path);
        self.inner.with(|p| {
            let found = p
                .list
                .iter()
                .find(|o| o.active && o.def.target_path.as_deref() == Some(clean.as_str()));
            found.map(PoolObj::pool_ref).ok_or_else(|| {
                let msg = if clean == path {
                    format!("no storage pool with matching target path '{path}'")
                } else {
                    format!("no storage pool with matching target path '{path}' ({clean})")
                };
                Error::new(ERROR_DOMAIN, ErrorCode::NO_STORAGE_POOL, msg)
            })
        })
    }

    pub(crate) fn check_running(&self, pool: &PoolRef) -> Result<usize> {
        self.inner.with(|p| {
            let o = p.of(pool)?;
            if !o.active {
                return Err(op_invalid(format!(
                    "storage pool '{}' is not active",
                    o.def.name
                )));
            }
            Ok(o.volumes.len())
        })
    }
}
