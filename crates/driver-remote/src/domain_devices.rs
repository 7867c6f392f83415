//! The remote driver's per-device domain calls (statistics, control
//! state, disk errors, NMI), called from the connection's driver entries.

use crate::conn::{nonnull, RemoteConnection};
use rvirt::driver::DomainRef;
use rvirt_rpc::remote::RemoteCalls;
use rvirt_rpc::remote::*;
use rvirt_util::Result;

impl RemoteConnection {
    pub(crate) fn control_info(&self, d: &DomainRef, flags: u32) -> Result<(u32, u32, u64)> {
        let args = DomainGetControlInfoArgs {
            dom: nonnull(d),
            flags,
        };
        let r = self.call_domain_get_control_info(&args)?;
        Ok((r.state, r.details, r.state_time))
    }
    pub(crate) fn inject_nmi(&self, d: &DomainRef, flags: u32) -> Result<()> {
        let args = DomainInjectNmiArgs {
            dom: nonnull(d),
            flags,
        };
        self.call_domain_inject_nmi(&args)
    }
    pub(crate) fn disk_errors(
        &self,
        d: &DomainRef,
        max: u32,
        flags: u32,
    ) -> Result<(Vec<(String, i32)>, i32)> {
        let args = DomainGetDiskErrorsArgs {
            dom: nonnull(d),
            maxerrors: max,
            flags,
        };
        let r = self.call_domain_get_disk_errors(&args)?;
        let errors = r.errors.into_iter().map(|e| (e.disk, e.error)).collect();
        Ok((errors, r.nerrors))
    }
    pub(crate) fn block_stats(
        &self,
        d: &DomainRef,
        path: &str,
    ) -> Result<rvirt::types::BlockStats> {
        let args = DomainBlockStatsArgs {
            dom: nonnull(d),
            path: path.into(),
        };
        let r = self.call_domain_block_stats(&args)?;
        Ok(rvirt::types::BlockStats {
            rd_req: r.rd_req,
            rd_bytes: r.rd_bytes,
            wr_req: r.wr_req,
            wr_bytes: r.wr_bytes,
            errs: r.errs,
        })
    }
    pub(crate) fn interface_stats(
        &self,
        d: &DomainRef,
        device: &str,
    ) -> Result<rvirt::types::InterfaceStats> {
        let args = DomainInterfaceStatsArgs {
            dom: nonnull(d),
            device: device.into(),
        };
        let r = self.call_domain_interface_stats(&args)?;
        Ok(rvirt::types::InterfaceStats {
            rx_bytes: r.rx_bytes,
            rx_packets: r.rx_packets,
            rx_errs: r.rx_errs,
            rx_drop: r.rx_drop,
            tx_bytes: r.tx_bytes,
            tx_packets: r.tx_packets,
            tx_errs: r.tx_errs,
            tx_drop: r.tx_drop,
        })
    }
}
