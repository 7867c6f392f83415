//! Resource tuning procedures (libvirt's remote_daemon_dispatch.c for
//! the scheduler, memory, blkio and NUMA parameters and the pinning
//! calls): the `nparams`/`ncpumaps` sizing the daemon does around the
//! public API, with libvirtd's limits and texts.

use super::{dispatch_table, rpc_error, Client};
use rvirt_rpc::remote::*;
use rvirt_rpc::NonnullDomain;
use rvirt_util::{Result, TypedParams};

/// `VIR_TYPED_PARAM_STRING_OKAY`: without it string parameters are left
/// out of the reply (`virTypedParamsSerialize`).
const STRING_OKAY: u32 = 1 << 2;
/// `VIR_DOMAIN_AFFECT_CURRENT`.
const AFFECT_CURRENT: u32 = 0;

/// The first `nparams` of `params` as the daemon sends them back.
fn cut(mut params: TypedParams, nparams: i32, max: usize, flags: u32) -> Result<TypedParams> {
    if nparams as i64 > max as i64 {
        return Err(rpc_error("nparams too large"));
    }
    if flags & STRING_OKAY == 0 {
        params
            .0
            .retain(|p| !matches!(p.value, rvirt_util::TypedParamValue::String(_)));
    }
    params.0.truncate(nparams.max(0) as usize);
    Ok(params)
}

/// A getter with libvirt's "nparams 0 asks for the count" convention:
/// the count alone, or the parameters (libvirtd sends `nparams` 0 then).
pub(super) fn sized(
    cx: &Client,
    dom: &NonnullDomain,
    (nparams, max, flags): (i32, usize, u32),
    get: impl Fn(&rvirt::Domain, i32, u32) -> Result<(TypedParams, i32)>,
) -> Result<(TypedParams, i32)> {
    if nparams as i64 > max as i64 {
        return Err(rpc_error("nparams too large"));
    }
    let (params, count) = get(&cx.domain(dom)?, nparams, flags)?;
    if nparams == 0 {
        return Ok((TypedParams::new(), count));
    }
    Ok((cut(params, nparams, max, flags)?, 0))
}

fn sched_params(cx: &Client, dom: &NonnullDomain, n: i32, flags: u32) -> Result<TypedParams> {
    if n as i64 > DOMAIN_SCHEDULER_PARAMETERS_MAX as i64 {
        return Err(rpc_error("nparams too large"));
    }
    let params = cx.domain(dom)?.get_scheduler_parameters(flags)?;
    cut(params, n, DOMAIN_SCHEDULER_PARAMETERS_MAX, flags)
}

fn vcpu_pin_info(cx: &Client, a: DomainGetVcpuPinInfoArgs) -> Result<DomainGetVcpuPinInfoRet> {
    if a.ncpumaps > VCPUINFO_MAX as i32 {
        return Err(rpc_error("ncpumaps > REMOTE_VCPUINFO_MAX"));
    }
    let size = i64::from(a.ncpumaps) * i64::from(a.maplen);
    if a.ncpumaps < 0 || a.maplen <= 0 || size > CPUMAPS_MAX as i64 {
        return Err(rpc_error("maxinfo * maplen > REMOTE_CPUMAPS_MAX"));
    }
    let dom = cx.domain(&a.dom)?;
    let (cpumaps, num) = dom.get_vcpu_pin_info(a.ncpumaps as usize, a.maplen as usize, a.flags)?;
    Ok(DomainGetVcpuPinInfoRet { cpumaps, num })
}

/// `remoteDispatchDomainGetVcpus`: its bounds, then every vCPU the
/// driver gave and `maxinfo` maps.
fn get_vcpus(cx: &Client, a: DomainGetVcpusArgs) -> Result<DomainGetVcpusRet> {
    let dom = cx.domain(&a.dom)?;
    if a.maxinfo < 0 || a.maplen < 0 {
        return Err(internal("maxinfo must be non-negative"));
    }
    if a.maxinfo > VCPUINFO_MAX as i32 {
        return Err(internal("maxinfo > REMOTE_VCPUINFO_MAX"));
    }
    if i64::from(a.maxinfo) * i64::from(a.maplen) > CPUMAPS_MAX as i64 {
        return Err(internal("maxinfo * maplen > REMOTE_CPUMAPS_MAX"));
    }
    let (infos, cpumaps) = dom.get_vcpus(a.maxinfo, a.maplen)?;
    let info = infos
        .into_iter()
        .map(|v| VcpuInfo {
            number: v.number,
            state: v.state,
            cpu_time: v.cpu_time,
            cpu: v.cpu,
        })
        .collect();
    Ok(DomainGetVcpusRet { info, cpumaps })
}

fn internal(text: &str) -> rvirt_util::Error {
    rvirt_util::Error::internal(rvirt_util::ErrorDomain::RPC, text)
}

fn emulator_pin_info(
    cx: &Client,
    a: DomainGetEmulatorPinInfoArgs,
) -> Result<DomainGetEmulatorPinInfoRet> {
    if a.maplen <= 0 || a.maplen as i64 > CPUMAPS_MAX as i64 {
        return Err(rpc_error("maplen > REMOTE_CPUMAPS_MAX"));
    }
    let dom = cx.domain(&a.dom)?;
    let (cpumaps, ret) = dom.get_emulator_pin_info(a.maplen as usize, a.flags)?;
    Ok(DomainGetEmulatorPinInfoRet { cpumaps, ret })
}

dispatch_table! {
    DomainGetSchedulerType => |cx, a| {
        let (type_, nparams) = cx.domain(&a.dom)?.get_scheduler_type()?;
        Ok(DomainGetSchedulerTypeRet { type_, nparams })
    };
    DomainGetSchedulerParameters => |cx, a| {
        let params = sched_params(cx, &a.dom, a.nparams, AFFECT_CURRENT)?;
        Ok(DomainGetSchedulerParametersRet { params })
    };
    DomainGetSchedulerParametersFlags => |cx, a| {
        let params = sched_params(cx, &a.dom, a.nparams, a.flags)?;
        Ok(DomainGetSchedulerParametersFlagsRet { params })
    };
    DomainSetSchedulerParameters => |cx, a| {
        cx.domain(&a.dom)?.set_scheduler_parameters(&a.params, AFFECT_CURRENT)
    };
    DomainSetSchedulerParametersFlags => |cx, a| {
        cx.domain(&a.dom)?.set_scheduler_parameters(&a.params, a.flags)
    };
    DomainGetMemoryParameters => |cx, a| {
        let sizes = (a.nparams, DOMAIN_MEMORY_PARAMETERS_MAX, a.flags);
        let get = |d: &rvirt::Domain, n, f| d.get_memory_parameters(n, f);
        let (params, nparams) = sized(cx, &a.dom, sizes, get)?;
        Ok(DomainGetMemoryParametersRet { params, nparams })
    };
    DomainSetMemoryParameters => |cx, a| {
        cx.domain(&a.dom)?.set_memory_parameters(&a.params, a.flags)
    };
    DomainGetBlkioParameters => |cx, a| {
        let sizes = (a.nparams, DOMAIN_BLKIO_PARAMETERS_MAX, a.flags);
        let get = |d: &rvirt::Domain, n, f| d.get_blkio_parameters(n, f);
        let (params, nparams) = sized(cx, &a.dom, sizes, get)?;
        Ok(DomainGetBlkioParametersRet { params, nparams })
    };
    DomainSetBlkioParameters => |cx, a| {
        cx.domain(&a.dom)?.set_blkio_parameters(&a.params, a.flags)
    };
    DomainGetNumaParameters => |cx, a| {
        let sizes = (a.nparams, DOMAIN_NUMA_PARAMETERS_MAX, a.flags);
        let get = |d: &rvirt::Domain, n, f| d.get_numa_parameters(n, f);
        let (params, nparams) = sized(cx, &a.dom, sizes, get)?;
        Ok(DomainGetNumaParametersRet { params, nparams })
    };
    DomainSetNumaParameters => |cx, a| {
        cx.domain(&a.dom)?.set_numa_parameters(&a.params, a.flags)
    };
    DomainPinVcpu => |cx, a| cx.domain(&a.dom)?.pin_vcpu_without_flags(a.vcpu, &a.cpumap);
    DomainGetVcpus => get_vcpus;
    DomainPinVcpuFlags => |cx, a| cx.domain(&a.dom)?.pin_vcpu(a.vcpu, &a.cpumap, a.flags);
    DomainGetVcpuPinInfo => vcpu_pin_info;
    DomainPinEmulator => |cx, a| cx.domain(&a.dom)?.pin_emulator(&a.cpumap, a.flags);
    DomainGetEmulatorPinInfo => emulator_pin_info;
}
