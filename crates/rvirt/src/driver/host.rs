//! The host entry points of `virHypervisorDriver` beyond the node info:
//! `nodeGetFreeMemory`, `nodeGetCellsFreeMemory`, `nodeGetCPUStats`,
//! `nodeGetFreePages` and `connectGetSysinfo`. A driver that has them hands this out through
//! [`super::HypervisorConnection::host`]; `None` makes every call
//! `VIR_ERR_NO_SUPPORT`, as does each method left to its default.

use super::unsupported;
use rvirt_util::Result;

pub trait HostDriver: Send + Sync {
    /// `virNodeGetFreeMemory`.
    fn node_get_free_memory(&self) -> Result<u64> {
        Err(unsupported("virNodeGetFreeMemory"))
    }
    /// `virNodeGetCellsFreeMemory`: up to `max_cells` from `start_cell`.
    fn node_get_cells_free_memory(&self, _start_cell: i32, _max_cells: i32) -> Result<Vec<u64>> {
        Err(unsupported("virNodeGetCellsFreeMemory"))
    }
    /// `virNodeGetCPUStats` of `cpu` (-1: all): up to `nparams` (field,
    /// value) pairs, and with `nparams` 0 the count alone.
    fn node_get_cpu_stats(
        &self,
        _cpu: i32,
        _nparams: i32,
        _flags: u32,
    ) -> Result<(Vec<(String, u64)>, i32)> {
        Err(unsupported("virNodeGetCPUStats"))
    }
    /// `virNodeGetFreePages`: for `cell_count` cells from `start_cell`,
    /// the free pages of each size in `pages` (KiB), cell by cell, and
    /// the call's return value: how many of them are filled in (libvirt's
    /// daemon sends that many).
    fn node_get_free_pages(
        &self,
        _pages: &[u32],
        _start_cell: i32,
        _cell_count: u32,
        _flags: u32,
    ) -> Result<(Vec<u64>, i32)> {
        Err(unsupported("virNodeGetFreePages"))
    }
    /// `virConnectGetSysinfo`.
    fn get_sysinfo(&self, _flags: u32) -> Result<String> {
        Err(unsupported("virConnectGetSysinfo"))
    }
}
