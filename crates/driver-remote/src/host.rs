//! The host calls over the wire (`REMOTE_PROC_NODE_GET_FREE_MEMORY`,
//! `_NODE_GET_CELLS_FREE_MEMORY`, `_NODE_GET_CPU_STATS`,
//! `_CONNECT_GET_SYSINFO`).

use crate::conn::RemoteConnection;
use rvirt::driver::HostDriver;
use rvirt_rpc::remote::RemoteCalls;
use rvirt_rpc::remote::*;
use rvirt_util::Result;

impl HostDriver for RemoteConnection {
    fn node_get_free_memory(&self) -> Result<u64> {
        Ok(self.call_node_get_free_memory()?.free_mem)
    }

    fn node_get_cells_free_memory(&self, start_cell: i32, maxcells: i32) -> Result<Vec<u64>> {
        let args = NodeGetCellsFreeMemoryArgs {
            start_cell,
            maxcells,
        };
        Ok(self.call_node_get_cells_free_memory(&args)?.cells)
    }

    fn node_get_cpu_stats(
        &self,
        cpu_num: i32,
        nparams: i32,
        flags: u32,
    ) -> Result<(Vec<(String, u64)>, i32)> {
        let args = NodeGetCpuStatsArgs {
            cpu_num,
            nparams,
            flags,
        };
        let r = self.call_node_get_cpu_stats(&args)?;
        let stats: Vec<(String, u64)> = r.params.into_iter().map(|p| (p.field, p.value)).collect();
        let n = if nparams == 0 {
            r.nparams
        } else {
            stats.len() as i32
        };
        Ok((stats, n))
    }

    fn node_get_free_pages(
        &self,
        pages: &[u32],
        start_cell: i32,
        cell_count: u32,
        flags: u32,
    ) -> Result<(Vec<u64>, i32)> {
        let args = NodeGetFreePagesArgs {
            pages: pages.to_vec(),
            start_cell,
            cell_count,
            flags,
        };
        let counts = self.call_node_get_free_pages(&args)?.counts;
        let filled = counts.len() as i32;
        Ok((counts, filled))
    }

    fn get_sysinfo(&self, flags: u32) -> Result<String> {
        let args = ConnectGetSysinfoArgs { flags };
        Ok(self.call_connect_get_sysinfo(&args)?.sysinfo)
    }
}
