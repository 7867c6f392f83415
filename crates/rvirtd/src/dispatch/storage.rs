//! Storage pool and volume procedures (`REMOTE_PROC_STORAGE_*`,
//! `CONNECT_*_STORAGE_POOL*`) and pool event registration: each calls the
//! public API on the handle the wire names, as libvirtd's generated and
//! hand-written dispatchers do.

use super::{dispatch_table, rpc_error, Client};
use rvirt::driver::storage::{PoolEvent, PoolRef, VolRef};
use rvirt::storage::ERROR_DOMAIN;
use rvirt::{StoragePool, StorageVol};
use rvirt_rpc::remote::*;
use rvirt_rpc::remote::{self, Procedure};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_STORAGE_POOL_EVENT_ID_LAST`.
const POOL_EVENT_ID_LAST: i32 = 2;

dispatch_table! {
    ConnectNumOfStoragePools => |cx, _a| Ok(ConnectNumOfStoragePoolsRet { num: cx.conn()?.num_of_storage_pools()? });
    ConnectListStoragePools => |cx, a| {
        let max = names_max(a.maxnames, "virConnectListStoragePools", STORAGE_POOL_LIST_MAX, "REMOTE_STORAGE_POOL_LIST_MAX")?;
        Ok(ConnectListStoragePoolsRet { names: cx.conn()?.list_storage_pools(max)? })
    };
    ConnectNumOfDefinedStoragePools => |cx, _a| {
        Ok(ConnectNumOfDefinedStoragePoolsRet { num: cx.conn()?.num_of_defined_storage_pools()? })
    };
    ConnectListDefinedStoragePools => |cx, a| {
        let max = names_max(a.maxnames, "virConnectListDefinedStoragePools", STORAGE_POOL_LIST_MAX, "REMOTE_STORAGE_POOL_LIST_MAX")?;
        Ok(ConnectListDefinedStoragePoolsRet { names: cx.conn()?.list_defined_storage_pools(max)? })
    };
    ConnectListAllStoragePools => |cx, a| {
        let pools = cx.conn()?.list_all_storage_pools(a.flags)?;
        let (pools, ret) = all_ret(pools, a.need_results != 0, "storage pools", STORAGE_POOL_LIST_MAX, |p| wire_pool(p.pool_ref()))?;
        Ok(ConnectListAllStoragePoolsRet { pools, ret })
    };
    ConnectFindStoragePoolSources => |cx, a| {
        let xml = cx.conn()?.find_storage_pool_sources(&a.type_, a.src_spec.as_deref(), a.flags)?;
        Ok(ConnectFindStoragePoolSourcesRet { xml })
    };
    ConnectGetStoragePoolCapabilities => |cx, a| {
        Ok(ConnectGetStoragePoolCapabilitiesRet { capabilities: cx.conn()?.get_storage_pool_capabilities(a.flags)? })
    };
    StoragePoolLookupByName => |cx, a| {
        Ok(StoragePoolLookupByNameRet { pool: wire_pool(cx.conn()?.storage_pool_lookup_by_name(&a.name)?.pool_ref()) })
    };
    StoragePoolLookupByUuid => |cx, a| {
        Ok(StoragePoolLookupByUuidRet { pool: wire_pool(cx.conn()?.storage_pool_lookup_by_uuid(&a.uuid)?.pool_ref()) })
    };
    StoragePoolLookupByVolume => |cx, a| {
        Ok(StoragePoolLookupByVolumeRet { pool: wire_pool(vol(cx, &a.vol)?.pool()?.pool_ref()) })
    };
    StoragePoolLookupByTargetPath => |cx, a| {
        let p = cx.conn()?.storage_pool_lookup_by_target_path(&a.path)?;
        Ok(StoragePoolLookupByTargetPathRet { pool: wire_pool(p.pool_ref()) })
    };
    StoragePoolCreateXml => |cx, a| {
        Ok(StoragePoolCreateXmlRet { pool: wire_pool(cx.conn()?.storage_pool_create_xml(&a.xml, a.flags)?.pool_ref()) })
    };
    StoragePoolDefineXml => |cx, a| {
        Ok(StoragePoolDefineXmlRet { pool: wire_pool(cx.conn()?.storage_pool_define_xml(&a.xml, a.flags)?.pool_ref()) })
    };
    StoragePoolCreate => |cx, a| pool(cx, &a.pool)?.create(a.flags);
    StoragePoolBuild => |cx, a| pool(cx, &a.pool)?.build(a.flags);
    StoragePoolDestroy => |cx, a| pool(cx, &a.pool)?.destroy();
    StoragePoolDelete => |cx, a| pool(cx, &a.pool)?.delete(a.flags);
    StoragePoolUndefine => |cx, a| pool(cx, &a.pool)?.undefine();
    StoragePoolRefresh => |cx, a| pool(cx, &a.pool)?.refresh(a.flags);
    StoragePoolGetInfo => |cx, a| {
        let i = pool(cx, &a.pool)?.get_info()?;
        Ok(StoragePoolGetInfoRet {
            state: i.state as u8,
            capacity: i.capacity,
            allocation: i.allocation,
            available: i.available,
        })
    };
    StoragePoolGetXmlDesc => |cx, a| Ok(StoragePoolGetXmlDescRet { xml: pool(cx, &a.pool)?.get_xml_desc(a.flags)? });
    StoragePoolGetAutostart => |cx, a| {
        Ok(StoragePoolGetAutostartRet { autostart: pool(cx, &a.pool)?.get_autostart()? as i32 })
    };
    StoragePoolSetAutostart => |cx, a| pool(cx, &a.pool)?.set_autostart(a.autostart != 0);
    StoragePoolIsActive => |cx, a| Ok(StoragePoolIsActiveRet { active: pool(cx, &a.pool)?.is_active()? as i32 });
    StoragePoolIsPersistent => |cx, a| {
        Ok(StoragePoolIsPersistentRet { persistent: pool(cx, &a.pool)?.is_persistent()? as i32 })
    };
    StoragePoolNumOfVolumes => |cx, a| Ok(StoragePoolNumOfVolumesRet { num: pool(cx, &a.pool)?.num_of_volumes()? });
    StoragePoolListVolumes => |cx, a| {
        let max = names_max(a.maxnames, "virStoragePoolListVolumes", STORAGE_VOL_LIST_MAX, "REMOTE_STORAGE_VOL_LIST_MAX")?;
        Ok(StoragePoolListVolumesRet { names: pool(cx, &a.pool)?.list_volumes(max)? })
    };
    StoragePoolListAllVolumes => |cx, a| {
        let vols = pool(cx, &a.pool)?.list_all_volumes(a.flags)?;
        let (vols, ret) = all_ret(vols, a.need_results != 0, "storage volumes", STORAGE_VOL_LIST_MAX, |v| wire_vol(v.vol_ref()))?;
        Ok(StoragePoolListAllVolumesRet { vols, ret })
    };
    StorageVolLookupByName => |cx, a| {
        Ok(StorageVolLookupByNameRet { vol: wire_vol(pool(cx, &a.pool)?.vol_lookup_by_name(&a.name)?.vol_ref()) })
    };
    StorageVolLookupByKey => |cx, a| {
        Ok(StorageVolLookupByKeyRet { vol: wire_vol(cx.conn()?.storage_vol_lookup_by_key(&a.key)?.vol_ref()) })
    };
    StorageVolLookupByPath => |cx, a| {
        Ok(StorageVolLookupByPathRet { vol: wire_vol(cx.conn()?.storage_vol_lookup_by_path(&a.path)?.vol_ref()) })
    };
    StorageVolCreateXml => |cx, a| {
        Ok(StorageVolCreateXmlRet { vol: wire_vol(pool(cx, &a.pool)?.vol_create_xml(&a.xml, a.flags)?.vol_ref()) })
    };
    StorageVolCreateXmlFrom => |cx, a| {
        let clone = vol(cx, &a.clonevol)?;
        let v = pool(cx, &a.pool)?.vol_create_xml_from(&a.xml, &clone, a.flags)?;
        Ok(StorageVolCreateXmlFromRet { vol: wire_vol(v.vol_ref()) })
    };
    StorageVolDelete => |cx, a| vol(cx, &a.vol)?.delete(a.flags);
    StorageVolWipe => |cx, a| vol(cx, &a.vol)?.wipe(a.flags);
    StorageVolWipePattern => |cx, a| vol(cx, &a.vol)?.wipe_pattern(a.algorithm, a.flags);
    StorageVolResize => |cx, a| vol(cx, &a.vol)?.resize(a.capacity, a.flags);
    StorageVolGetInfo => |cx, a| {
        let i = vol(cx, &a.vol)?.get_info()?;
        Ok(StorageVolGetInfoRet { type_: i.kind as i8, capacity: i.capacity, allocation: i.allocation })
    };
    StorageVolGetInfoFlags => |cx, a| {
        let i = vol(cx, &a.vol)?.get_info_flags(a.flags)?;
        Ok(StorageVolGetInfoFlagsRet { type_: i.kind as i8, capacity: i.capacity, allocation: i.allocation })
    };
    StorageVolGetXmlDesc => |cx, a| Ok(StorageVolGetXmlDescRet { xml: vol(cx, &a.vol)?.get_xml_desc(a.flags)? });
    StorageVolGetPath => |cx, a| Ok(StorageVolGetPathRet { name: vol(cx, &a.vol)?.get_path()? });
    ConnectStoragePoolEventRegisterAny => |cx, a| {
        if !(0..POOL_EVENT_ID_LAST).contains(&a.event_id) {
            return Err(Error::new(ErrorDomain::RPC, ErrorCode::INTERNAL_ERROR,
                format!("unsupported storage pool event ID {}", a.event_id)));
        }
        let filter = a.pool.as_ref().map(|p| pool(cx, p)).transpose()?;
        let uuid = filter.as_ref().map(|p| *p.uuid());
        // libvirtd relays every registration through one function per
        // event id, so the same id and filter twice is a duplicate
        // (object_event.c, virObjectEventCallbackListAddID).
        let mut cbs = cx.callbacks();
        if cbs.pools.iter().any(|(_, ev, u)| *ev == a.event_id && *u == uuid) {
            return Err(Error::new(ErrorDomain::NONE, ErrorCode::INVALID_ARG, "event callback already tracked"));
        }
        let callback_id = register(cx, filter.as_ref(), a.event_id)?;
        cbs.pools.push((callback_id, a.event_id, uuid));
        Ok(ConnectStoragePoolEventRegisterAnyRet { callback_id })
    };
    ConnectStoragePoolEventDeregisterAny => |cx, a| {
        let conn = cx.conn()?;
        let mut cbs = cx.callbacks();
        let Some(pos) = cbs.pools.iter().position(|(id, ..)| *id == a.callback_id) else {
            return Err(Error::new(ErrorDomain::RPC, ErrorCode::INTERNAL_ERROR,
                format!("storage pool event callback {} not registered", a.callback_id)));
        };
        conn.storage_pool_event_deregister_any(a.callback_id)?;
        cbs.pools.remove(pos);
        Ok(())
    };
}

fn pool(cx: &Client, p: &NonnullStoragePool) -> Result<StoragePool> {
    Ok(cx.conn()?.storage_pool(PoolRef {
        name: p.name.clone(),
        uuid: p.uuid,
    }))
}

fn vol(cx: &Client, v: &NonnullStorageVol) -> Result<StorageVol> {
    Ok(cx.conn()?.storage_vol(VolRef {
        pool: v.pool.clone(),
        name: v.name.clone(),
        key: v.key.clone(),
    }))
}

pub fn wire_pool(p: &PoolRef) -> NonnullStoragePool {
    NonnullStoragePool {
        name: p.name.clone(),
        uuid: p.uuid,
    }
}

pub fn wire_vol(v: &VolRef) -> NonnullStorageVol {
    NonnullStorageVol {
        pool: v.pool.clone(),
        name: v.name.clone(),
        key: v.key.clone(),
    }
}

/// The generated dispatchers' bound on `maxnames`, and the public API's
/// refusal of a negative one.
fn names_max(max: i32, api: &str, limit: usize, limit_name: &str) -> Result<usize> {
    if max < 0 {
        return Err(Error::invalid_arg(
            ERROR_DOMAIN,
            format!("maxnames in {api} must be greater than or equal to 0"),
        ));
    }
    if max as usize > limit {
        return Err(rpc_error(format!("maxnames > {limit_name}")));
    }
    Ok(max as usize)
}

/// The ListAll dispatchers: the count always, the handles when asked.
fn all_ret<T, W>(
    items: Vec<T>,
    need: bool,
    what: &str,
    limit: usize,
    wire: impl Fn(&T) -> W,
) -> Result<(Vec<W>, u32)> {
    if items.len() > limit {
        return Err(Error::new(
            ErrorDomain::RPC,
            ErrorCode::RPC,
            format!("Too many {what} '{}' for limit '{limit}'", items.len()),
        ));
    }
    let list = if need {
        items.iter().map(wire).collect()
    } else {
        Vec::new()
    };
    Ok((list, items.len() as u32))
}

/// Register a callback queueing each pool event as a message to the
/// client ([`Client::queue_events`]).
fn register(cx: &Client, pool: Option<&StoragePool>, event_id: i32) -> Result<i32> {
    let conn = cx.conn()?;
    cx.queue_events(pool_event_packet, |callback| {
        conn.storage_pool_event_register_any(pool, event_id, callback)
    })
}

/// The message for one pool event.
fn pool_event_packet(id: i32, p: &PoolRef, event: &PoolEvent) -> Option<rvirt_rpc::Packet> {
    let pool = wire_pool(p);
    let packet = match event {
        PoolEvent::Lifecycle { event, detail } => remote::event(
            Procedure::StoragePoolEventLifecycle,
            &StoragePoolEventLifecycleMsg {
                callback_id: id,
                pool,
                event: *event,
                detail: *detail,
            },
        ),
        PoolEvent::Refresh => remote::event(
            Procedure::StoragePoolEventRefresh,
            &StoragePoolEventRefreshMsg {
                callback_id: id,
                pool,
            },
        ),
    };
    packet.ok()
}

/// The volume data streams (`remoteDispatchStorageVolUpload`/`Download`):
/// the driver binds the stream to the volume before the reply; the pump
/// then carries the client's data in (upload) or the volume's out
/// (download).
pub fn stream_entry(p: Procedure) -> Option<super::migration::StreamEntry> {
    use super::migration::StreamEntry;
    match p {
        Procedure::StorageVolUpload => Some(StreamEntry { run: upload }),
        Procedure::StorageVolDownload => Some(StreamEntry { run: download }),
        _ => None,
    }
}

fn decode<P: rvirt_rpc::Proc>(payload: &[u8]) -> Result<P::Args> {
    use rvirt_rpc::xdr::{Decoder, XdrDecode};
    P::Args::decode(&mut Decoder::new(payload))
        .map_err(|_| rpc_error("Unable to decode message payload"))
}

fn upload(
    cx: &Client,
    input: super::stream::StreamInput,
    payload: &[u8],
) -> super::migration::Opened {
    let a = decode::<rvirt_rpc::remote::procs::StorageVolUpload>(payload)?;
    let v = vol(cx, &a.vol)?;
    let st = rvirt::Stream::new(v.connect(), 0)?;
    // Dropped unrun (the call failed), the pump aborts the stream.
    let pump = super::stream::Pump::new(st.clone(), input, cx.outbox());
    v.upload(&st, a.offset, a.length, a.flags)?;
    Ok((Vec::new(), pump))
}

fn download(
    cx: &Client,
    input: super::stream::StreamInput,
    payload: &[u8],
) -> super::migration::Opened {
    let a = decode::<rvirt_rpc::remote::procs::StorageVolDownload>(payload)?;
    let v = vol(cx, &a.vol)?;
    let st = rvirt::Stream::new(v.connect(), 0)?;
    let pump = super::stream::Pump::duplex(st.clone(), input, cx.outbox());
    v.download(&st, a.offset, a.length, a.flags)?;
    Ok((Vec::new(), pump))
}

#[cfg(test)]
mod tests {
    use super::super::{handle_message, Client};
    use rvirt_rpc::remote::*;
    use rvirt_rpc::remote::{self, Procedure};
    use rvirt_rpc::{MessageStatus, XdrEncode};

    fn call<T: XdrEncode>(proc_: Procedure, serial: u32, args: &T) -> Vec<u8> {
        let body = args.to_xdr().unwrap();
        let (prog, p) = (remote::PROGRAM, proc_ as i32);
        rvirt_testkit::rpc::wire::message(prog, 1, p, 0, serial, 0, &body)[4..].to_vec()
    }

    /// One registration per event id and filter, as libvirtd's relay; the
    /// events then reach the outbox under the registration's id.
    #[test]
    fn pool_events_register_once_and_reach_the_outbox() {
        rvirt_driver_test::register();
        let (tx, mut rx) = crate::outbox::outbox(1 << 20);
        let c = Client::new(false, "test:///default", tx);
        let open = ConnectOpenArgs {
            name: Some("test:///default".into()),
            flags: 0,
        };
        handle_message(&c, &call(Procedure::ConnectOpen, 1, &open)).unwrap();
        let reg = ConnectStoragePoolEventRegisterAnyArgs {
            event_id: 1,
            pool: None,
        };
        let first = handle_message(
            &c,
            &call(Procedure::ConnectStoragePoolEventRegisterAny, 2, &reg),
        );
        let id: ConnectStoragePoolEventRegisterAnyRet = first.unwrap().body().unwrap();
        let again = handle_message(
            &c,
            &call(Procedure::ConnectStoragePoolEventRegisterAny, 3, &reg),
        );
        let e = again.unwrap().error().unwrap().unwrap();
        assert_eq!(
            e.message,
            "invalid argument: event callback already tracked"
        );
        let name = StoragePoolLookupByNameArgs {
            name: "default-pool".into(),
        };
        let pool: StoragePoolLookupByNameRet =
            handle_message(&c, &call(Procedure::StoragePoolLookupByName, 4, &name))
                .unwrap()
                .body()
                .unwrap();
        let refresh = StoragePoolRefreshArgs {
            pool: pool.pool,
            flags: 0,
        };
        let reply = handle_message(&c, &call(Procedure::StoragePoolRefresh, 5, &refresh)).unwrap();
        assert_eq!(reply.header.status, MessageStatus::Ok);
        let ev = rx.try_recv().expect("a refresh event");
        assert_eq!(ev.header.proc_, Procedure::StoragePoolEventRefresh as i32);
        let msg: StoragePoolEventRefreshMsg = ev.body().unwrap();
        assert_eq!(
            (msg.callback_id, msg.pool.name.as_str()),
            (id.callback_id, "default-pool")
        );
    }
}
