//! The guest procedures (remote_daemon_dispatch.c and its generated
//! dispatchers): time, filesystems, signals, passwords, perf events,
//! metadata, rename, lifecycle actions, messages, launch security, the
//! memory statistics period, block info, with libvirtd's reply limits.

use super::{dispatch_table, rpc_error, Client};
use rvirt_rpc::remote::*;
use rvirt_util::Result;

/// `remoteDispatchDomainGetFSInfo`: within the protocol's limits.
fn fs_info(cx: &Client, a: DomainGetFsinfoArgs) -> Result<DomainGetFsinfoRet> {
    let found = cx.domain(&a.dom)?.get_fs_info(a.flags)?;
    if found.len() > DOMAIN_FSINFO_MAX {
        return Err(rpc_error(format!(
            "Too many mountpoints in fsinfo: {} for limit {DOMAIN_FSINFO_MAX}",
            found.len()
        )));
    }
    let mut info = Vec::with_capacity(found.len());
    for fs in found {
        if fs.dev_aliases.len() > DOMAIN_FSINFO_DISKS_MAX {
            return Err(rpc_error(format!(
                "Too many disks in fsinfo: {} for limit {DOMAIN_FSINFO_DISKS_MAX}",
                fs.dev_aliases.len()
            )));
        }
        info.push(DomainFsinfo {
            mountpoint: fs.mountpoint,
            name: fs.name,
            fstype: fs.fstype,
            dev_aliases: fs.dev_aliases,
        });
    }
    let ret = info.len() as u32;
    Ok(DomainGetFsinfoRet { info, ret })
}

/// `remoteDispatchDomainGetMessages`.
fn messages(cx: &Client, a: DomainGetMessagesArgs) -> Result<DomainGetMessagesRet> {
    let msgs = cx.domain(&a.dom)?.get_messages(a.flags)?;
    if msgs.len() > DOMAIN_MESSAGES_MAX {
        return Err(rpc_error(format!(
            "Number of msgs {}, which exceeds max limit: {DOMAIN_MESSAGES_MAX}",
            msgs.len()
        )));
    }
    Ok(DomainGetMessagesRet { msgs })
}

/// `remoteDispatchDomainRename`: the handle the client holds is renamed
/// by its own remote driver; the daemon answers the return code.
fn rename(cx: &Client, a: DomainRenameArgs) -> Result<DomainRenameRet> {
    let mut dom = cx.domain(&a.dom)?;
    dom.rename(a.new_name.as_deref(), a.flags)?;
    Ok(DomainRenameRet { retcode: 0 })
}

/// `virTypedParamsSerialize` without `VIR_TYPED_PARAM_STRING_OKAY`
/// leaves string parameters out.
fn serialize(mut params: rvirt_util::TypedParams, flags: u32) -> rvirt_util::TypedParams {
    const STRING_OKAY: u32 = 1 << 2;
    if flags & STRING_OKAY == 0 {
        params
            .0
            .retain(|p| !matches!(p.value, rvirt_util::TypedParamValue::String(_)));
    }
    params
}

dispatch_table! {
    DomainGetTime => |cx, a| {
        let (seconds, nseconds) = cx.domain(&a.dom)?.get_time(a.flags)?;
        Ok(DomainGetTimeRet { seconds, nseconds })
    };
    DomainSetTime => |cx, a| cx.domain(&a.dom)?.set_time(a.seconds, a.nseconds, a.flags);
    DomainFsfreeze => |cx, a| {
        let filesystems = cx.domain(&a.dom)?.fs_freeze(&a.mountpoints, a.flags)?;
        Ok(DomainFsfreezeRet { filesystems })
    };
    DomainFsthaw => |cx, a| {
        let filesystems = cx.domain(&a.dom)?.fs_thaw(&a.mountpoints, a.flags)?;
        Ok(DomainFsthawRet { filesystems })
    };
    DomainFstrim => |cx, a| {
        cx.domain(&a.dom)?.fs_trim(a.mount_point.as_deref(), a.minimum, a.flags)
    };
    DomainGetFsinfo => fs_info;
    DomainSendProcessSignal => |cx, a| {
        cx.domain(&a.dom)?.send_process_signal(a.pid_value, a.signum, a.flags)
    };
    DomainSetUserPassword => |cx, a| {
        let dom = cx.domain(&a.dom)?;
        dom.set_user_password(a.user.as_deref(), a.password.as_deref(), a.flags)
    };
    DomainGetPerfEvents => |cx, a| {
        let params = serialize(cx.domain(&a.dom)?.get_perf_events(a.flags)?, 0);
        Ok(DomainGetPerfEventsRet { params })
    };
    DomainSetPerfEvents => |cx, a| cx.domain(&a.dom)?.set_perf_events(&a.params, a.flags);
    DomainSetMetadata => |cx, a| {
        let dom = cx.domain(&a.dom)?;
        let (text, key, uri) = (a.metadata.as_deref(), a.key.as_deref(), a.uri.as_deref());
        dom.set_metadata(a.type_, text, key, uri, a.flags)
    };
    DomainRename => rename;
    DomainSetLifecycleAction => |cx, a| {
        cx.domain(&a.dom)?.set_lifecycle_action(a.type_, a.action, a.flags)
    };
    DomainGetMessages => messages;
    DomainGetLaunchSecurityInfo => |cx, a| {
        let params = cx.domain(&a.dom)?.get_launch_security_info(a.flags)?;
        Ok(DomainGetLaunchSecurityInfoRet { params: serialize(params, a.flags) })
    };
    DomainSetMemoryStatsPeriod => |cx, a| {
        cx.domain(&a.dom)?.set_memory_stats_period(a.period, a.flags)
    };
    DomainMemoryPeek => |cx, a| {
        if a.size as usize > DOMAIN_MEMORY_PEEK_BUFFER_MAX {
            let e = rvirt_util::Error::internal(rvirt_util::ErrorDomain::RPC, "size > maximum buffer size");
            return Err(e);
        }
        let buffer = cx.domain(&a.dom)?.memory_peek(a.offset, a.size, a.flags)?;
        Ok(DomainMemoryPeekRet { buffer })
    };
    DomainGetBlockInfo => |cx, a| {
        let info = cx.domain(&a.dom)?.get_block_info(&a.path, a.flags)?;
        Ok(DomainGetBlockInfoRet {
            allocation: info.allocation,
            capacity: info.capacity,
            physical: info.physical,
        })
    };
}
