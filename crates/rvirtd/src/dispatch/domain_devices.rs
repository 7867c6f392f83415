//! Per-device domain procedures (remote_daemon_dispatch.c): IOThreads,
//! interface bandwidth parameters, block and interface statistics, the
//! control state, disk errors and the NMI.

use super::domain_tuning::sized;
use super::{dispatch_table, rpc_error, Client};
use rvirt_rpc::remote::*;
use rvirt_util::Result;

/// `remoteDispatchDomainGetIOThreadInfo`: every IOThread, within the
/// protocol's limit.
fn iothread_info(cx: &Client, a: DomainGetIothreadInfoArgs) -> Result<DomainGetIothreadInfoRet> {
    let threads = cx.domain(&a.dom)?.get_iothread_info(a.flags)?;
    if threads.len() > IOTHREAD_INFO_MAX {
        return Err(rpc_error(format!(
            "Too many IOThreads in info: {} for limit {}",
            threads.len(),
            IOTHREAD_INFO_MAX
        )));
    }
    let ret = threads.len() as u32;
    let info = threads
        .into_iter()
        .map(|(iothread_id, cpumap)| DomainIothreadInfo {
            iothread_id,
            cpumap,
        })
        .collect();
    Ok(DomainGetIothreadInfoRet { info, ret })
}

dispatch_table! {
    DomainGetIothreadInfo => iothread_info;
    DomainPinIothread => |cx, a| {
        cx.domain(&a.dom)?.pin_iothread(a.iothreads_id, &a.cpumap, a.flags)
    };
    DomainAddIothread => |cx, a| cx.domain(&a.dom)?.add_iothread(a.iothread_id, a.flags);
    DomainDelIothread => |cx, a| cx.domain(&a.dom)?.del_iothread(a.iothread_id, a.flags);
    DomainSetIothreadParams => |cx, a| {
        cx.domain(&a.dom)?.set_iothread_params(a.iothread_id, &a.params, a.flags)
    };
    DomainGetInterfaceParameters => |cx, a| {
        let sizes = (a.nparams, DOMAIN_INTERFACE_PARAMETERS_MAX, a.flags);
        let device = a.device;
        let get = |d: &rvirt::Domain, n, f| d.get_interface_parameters(&device, n, f);
        let (params, nparams) = sized(cx, &a.dom, sizes, get)?;
        Ok(DomainGetInterfaceParametersRet { params, nparams })
    };
    DomainSetInterfaceParameters => |cx, a| {
        cx.domain(&a.dom)?.set_interface_parameters(&a.device, &a.params, a.flags)
    };
    DomainGetControlInfo => |cx, a| {
        let (state, details, state_time) = cx.domain(&a.dom)?.get_control_info(a.flags)?;
        Ok(DomainGetControlInfoRet { state, details, state_time })
    };
    DomainInjectNmi => |cx, a| cx.domain(&a.dom)?.inject_nmi(a.flags);
    DomainGetDiskErrors => |cx, a| {
        if a.maxerrors as usize > DOMAIN_DISK_ERRORS_MAX {
            return Err(rvirt_util::Error::internal(rvirt_util::ErrorDomain::RPC, "maxerrors too large"));
        }
        let (found, nerrors) = cx.domain(&a.dom)?.get_disk_errors(a.maxerrors, a.flags)?;
        let errors = found.into_iter().map(|(disk, error)| DomainDiskError { disk, error }).collect();
        Ok(DomainGetDiskErrorsRet { errors, nerrors })
    };
    DomainBlockStats => |cx, a| {
        let s = cx.domain(&a.dom)?.block_stats(&a.path)?;
        Ok(DomainBlockStatsRet {
            rd_req: s.rd_req,
            rd_bytes: s.rd_bytes,
            wr_req: s.wr_req,
            wr_bytes: s.wr_bytes,
            errs: s.errs,
        })
    };
    DomainInterfaceStats => |cx, a| {
        let s = cx.domain(&a.dom)?.interface_stats(&a.device)?;
        Ok(DomainInterfaceStatsRet {
            rx_bytes: s.rx_bytes,
            rx_packets: s.rx_packets,
            rx_errs: s.rx_errs,
            rx_drop: s.rx_drop,
            tx_bytes: s.tx_bytes,
            tx_packets: s.tx_packets,
            tx_errs: s.tx_errs,
            tx_drop: s.tx_drop,
        })
    };
}
