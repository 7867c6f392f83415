//! The test driver's host calls (test_driver.c's `testNodeGetFreeMemory`,
//! `testNodeGetCellsFreeMemory`, `testNodeGetCPUStats`,
//! `testNodeGetFreePages`, `testConnectGetSysinfo`): libvirt's made-up figures. Cell N of
//! `test:///default` has (N + 1) * 2 GiB of memory, half of it free (in
//! KiB, as libvirt keeps them); the free memory is the sum of the free
//! parts, while the per-cell call reports each cell's whole memory, as
//! libvirt's does.

use crate::check_flags;
use crate::connection::TestConnection;
use rvirt::driver::HostDriver;
use rvirt_util::{Error, ErrorDomain, Result};

/// `testConnectGetSysinfo`'s document.
const SYSINFO: &str = "<sysinfo type='smbios'>
  <bios>
    <entry name='vendor'>LENOVO</entry>
    <entry name='version'>G4ETA1WW (2.61 )</entry>
    <entry name='date'>05/07/2014</entry>
    <entry name='release'>2.61</entry>
  </bios>
</sysinfo>
";

/// `testNodeGetCPUStats`: the same figures for every CPU.
const CPU_STATS: [(&str, u64); 4] = [
    ("user", 9797400000),
    ("kernel", 34678723400000),
    ("idle", 87264900000),
    ("iowait", 763600000),
];

fn cell_memory(cell: u32) -> u64 {
    u64::from(cell + 1) * 2048 * 1024
}

fn cell_free_memory(cell: u32) -> u64 {
    u64::from(cell + 1) * 1024 * 1024
}

impl HostDriver for TestConnection {
    fn node_get_free_memory(&self) -> Result<u64> {
        Ok((0..self.state().numa_cells).map(cell_free_memory).sum())
    }

    fn node_get_cells_free_memory(&self, start_cell: i32, max_cells: i32) -> Result<Vec<u64>> {
        let cells = self.state().numa_cells;
        let start = u32::try_from(start_cell).unwrap_or(u32::MAX);
        if start >= cells {
            return Err(Error::invalid_arg(
                ErrorDomain::TEST,
                "Range exceeds available cells",
            ));
        }
        let max = usize::try_from(max_cells).unwrap_or(0);
        Ok((start..cells).take(max).map(cell_memory).collect())
    }

    fn node_get_cpu_stats(
        &self,
        _cpu: i32,
        nparams: i32,
        flags: u32,
    ) -> Result<(Vec<(String, u64)>, i32)> {
        check_flags("testNodeGetCPUStats", flags, 0)?;
        if nparams == 0 {
            return Ok((Vec::new(), CPU_STATS.len() as i32));
        }
        let stats: Vec<(String, u64)> = CPU_STATS
            .iter()
            .take(nparams.max(0) as usize)
            .map(|(f, v)| (f.to_string(), *v))
            .collect();
        let n = stats.len() as i32;
        Ok((stats, n))
    }

    /// `testNodeGetFreePages`: a made-up series, x = 2x + 7 from 6, in
    /// C's int (wrapping, and sign-extended into the counts); libvirt's
    /// returns 0 all the same, so its daemon sends none of them.
    fn node_get_free_pages(
        &self,
        pages: &[u32],
        _start_cell: i32,
        cell_count: u32,
        flags: u32,
    ) -> Result<(Vec<u64>, i32)> {
        check_flags("testNodeGetFreePages", flags, 0)?;
        let n = pages.len().saturating_mul(cell_count as usize);
        let mut x: i32 = 6;
        let counts = (0..n)
            .map(|_| {
                x = x.wrapping_mul(2).wrapping_add(7);
                i64::from(x) as u64
            })
            .collect();
        Ok((counts, 0))
    }

    fn get_sysinfo(&self, flags: u32) -> Result<String> {
        check_flags("testConnectGetSysinfo", flags, 0)?;
        Ok(SYSINFO.to_string())
    }
}
