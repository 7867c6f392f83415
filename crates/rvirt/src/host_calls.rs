//! The public host calls of a connection (libvirt-host.c:
//! `virNodeGetFreeMemory`, `virNodeGetCellsFreeMemory`,
//! `virNodeGetCPUStats`, `virConnectGetSysinfo`), with their argument
//! checks, handed to the driver's [`HostDriver`].

use crate::driver::HostDriver;
use crate::Connect;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_NODE_CPU_STATS_ALL_CPUS`.
const ALL_CPUS: i32 = -1;

/// The public API's argument checks, reported from libvirt-host.c.
fn arg_error(text: String) -> Error {
    Error::raw(ErrorDomain::DOMAIN, ErrorCode::INVALID_ARG, text)
}

impl Connect {
    fn host_driver(&self, api: &str) -> Result<&dyn HostDriver> {
        self.driver()
            .host()
            .ok_or_else(|| crate::driver::unsupported(api))
    }

    /// `virNodeGetFreeMemory`.
    pub fn node_get_free_memory(&self) -> Result<u64> {
        self.host_driver("virNodeGetFreeMemory")?
            .node_get_free_memory()
    }

    /// `virNodeGetCellsFreeMemory`.
    pub fn node_get_cells_free_memory(&self, start_cell: i32, max_cells: i32) -> Result<Vec<u64>> {
        const API: &str = "virNodeGetCellsFreeMemory";
        if max_cells <= 0 {
            return Err(arg_error(format!(
                "maxCells in {API} must be greater than zero"
            )));
        }
        if start_cell < 0 {
            return Err(arg_error(format!(
                "startCell in {API} must be zero or greater"
            )));
        }
        self.host_driver(API)?
            .node_get_cells_free_memory(start_cell, max_cells)
    }

    /// `virNodeGetCPUStats`: `nparams` 0 asks for the count.
    pub fn node_get_cpu_stats(
        &self,
        cpu: i32,
        nparams: i32,
        flags: u32,
    ) -> Result<(Vec<(String, u64)>, i32)> {
        const API: &str = "virNodeGetCPUStats";
        if nparams < 0 {
            return Err(arg_error(format!(
                "*nparams in {API} must be zero or greater"
            )));
        }
        if cpu < 0 && cpu != ALL_CPUS {
            return Err(arg_error(format!(
                "cpuNum in {API} only accepts {ALL_CPUS} as a negative value"
            )));
        }
        self.host_driver(API)?
            .node_get_cpu_stats(cpu, nparams, flags)
    }

    /// `virNodeGetFreePages`.
    pub fn node_get_free_pages(
        &self,
        pages: &[u32],
        start_cell: i32,
        cell_count: u32,
        flags: u32,
    ) -> Result<(Vec<u64>, i32)> {
        const API: &str = "virNodeGetFreePages";
        if pages.is_empty() {
            return Err(arg_error(format!("npages in {API} must not be zero")));
        }
        if cell_count == 0 {
            return Err(arg_error(format!("cellCount in {API} must not be zero")));
        }
        self.host_driver(API)?
            .node_get_free_pages(pages, start_cell, cell_count, flags)
    }

    /// `virConnectGetSysinfo`.
    pub fn get_sysinfo(&self, flags: u32) -> Result<String> {
        self.host_driver("virConnectGetSysinfo")?.get_sysinfo(flags)
    }
}
