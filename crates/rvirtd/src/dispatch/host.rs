//! Host procedures (libvirtd's dispatchers for the free memory, the CPU
//! statistics and the sysinfo), with libvirtd's limits and texts.

use super::{dispatch_table, rpc_error, Client};
use rvirt_rpc::remote::*;
use rvirt_util::{Error, ErrorDomain, Result};

/// The generated dispatcher's bound on `maxcells`.
fn cells_free_memory(
    cx: &Client,
    a: NodeGetCellsFreeMemoryArgs,
) -> Result<NodeGetCellsFreeMemoryRet> {
    if a.maxcells > NODE_MAX_CELLS as i32 {
        return Err(rpc_error("maxcells > REMOTE_NODE_MAX_CELLS"));
    }
    let cells = cx
        .conn()?
        .node_get_cells_free_memory(a.start_cell, a.maxcells)?;
    Ok(NodeGetCellsFreeMemoryRet { cells })
}

/// `remoteDispatchNodeGetCPUStats`: `nparams` 0 answers the count.
fn cpu_stats(cx: &Client, a: NodeGetCpuStatsArgs) -> Result<NodeGetCpuStatsRet> {
    if a.nparams > NODE_CPU_STATS_MAX as i32 {
        return Err(Error::internal(ErrorDomain::RPC, "nparams too large"));
    }
    let (stats, n) = cx
        .conn()?
        .node_get_cpu_stats(a.cpu_num, a.nparams, a.flags)?;
    if a.nparams == 0 {
        return Ok(NodeGetCpuStatsRet {
            params: Vec::new(),
            nparams: n,
        });
    }
    let params = stats
        .into_iter()
        .map(|(field, value)| NodeGetCpuStats { field, value })
        .collect();
    Ok(NodeGetCpuStatsRet { params, nparams: 0 })
}

/// `remoteDispatchNodeGetFreePages`: the answer must fit the protocol.
fn free_pages(cx: &Client, a: NodeGetFreePagesArgs) -> Result<NodeGetFreePagesRet> {
    if a.pages.len() as u64 * u64::from(a.cell_count) > NODE_MAX_CELLS as u64 {
        return Err(Error::internal(
            ErrorDomain::RPC,
            "the result won't fit into REMOTE_NODE_MAX_CELLS",
        ));
    }
    let conn = cx.conn()?;
    let (mut counts, filled) =
        conn.node_get_free_pages(&a.pages, a.start_cell, a.cell_count, a.flags)?;
    // libvirtd takes a call that filled nothing in for a failure, with
    // no error of its own to send.
    let Some(filled) = usize::try_from(filled).ok().filter(|n| *n > 0) else {
        return Err(Error::raw(
            ErrorDomain::RPC,
            rvirt_util::ErrorCode::INTERNAL_ERROR,
            "Library function returned error but did not set virError",
        ));
    };
    counts.truncate(filled);
    Ok(NodeGetFreePagesRet { counts })
}

dispatch_table! {
    NodeGetFreePages => free_pages;
    NodeGetFreeMemory => |cx, _a| {
        Ok(NodeGetFreeMemoryRet { free_mem: cx.conn()?.node_get_free_memory()? })
    };
    NodeGetCellsFreeMemory => cells_free_memory;
    NodeGetCpuStats => cpu_stats;
    ConnectGetSysinfo => |cx, a| {
        Ok(ConnectGetSysinfoRet { sysinfo: cx.conn()?.get_sysinfo(a.flags)? })
    };
}
