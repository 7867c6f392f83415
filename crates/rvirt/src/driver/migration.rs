//! The migration and job entry points of a hypervisor driver, one method per
//! `virHypervisorDriver` slot (libvirt's src/driver-hypervisor.h), with
//! libvirt's inputs and outputs: cookies in and out (opaque bytes between
//! the two sides of one driver), URIs, flags, typed params.
//!
//! Which protocol a migration uses is decided by [`crate::migration::client`]
//! from the drivers' `VIR_DRV_FEATURE_*` answers, exactly as
//! `virDomainMigrate*` decides:
//!
//! ```text
//!  V1:  dst.prepare → src.perform → dst.finish
//!  V2:  src XML → dst.prepare2 → src.perform → dst.finish2
//!  V3:  src.begin3 → dst.prepare3 → src.perform3 → dst.finish3 → src.confirm3
//!       (each with a _params form; tunnelled p2p uses prepare_tunnel3
//!        with a Stream instead of prepare3)
//! ```
//!
//! Every default reports `VIR_ERR_NO_SUPPORT` naming the public API, as
//! libvirt does for a NULL slot.

use super::migration_args::{Begin3Args, FinishArgs, ParamsArgs, PerformArgs, PrepareArgs};
use super::{unsupported, DomainRef};
use crate::job::JobInfo;
use crate::stream::Stream;
use rvirt_util::{Result, TypedParams};

/// Cookie bytes passed between the phases (libvirt's `char *cookie, int
/// cookielen`); empty means none.
pub type Cookie = Vec<u8>;

#[allow(unused_variables)]
pub trait MigrationDriver {
    // ---- V1 (virDomainMigratePrepare / Perform / Finish) ----

    /// Destination: returns (cookie, uri_out).
    fn domain_migrate_prepare(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        Err(unsupported("virDomainMigratePrepare"))
    }
    /// Source (V1 and V2).
    fn domain_migrate_perform(&self, dom: &DomainRef, args: &PerformArgs) -> Result<()> {
        Err(unsupported("virDomainMigratePerform"))
    }
    fn domain_migrate_finish(&self, args: &FinishArgs) -> Result<DomainRef> {
        Err(unsupported("virDomainMigrateFinish"))
    }

    // ---- V2 ----
    fn domain_migrate_prepare2(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        Err(unsupported("virDomainMigratePrepare2"))
    }
    /// `retcode` is the source's perform result (0 = success); on failure
    /// the destination discards the incoming guest.
    fn domain_migrate_finish2(&self, args: &FinishArgs, retcode: i32) -> Result<DomainRef> {
        Err(unsupported("virDomainMigrateFinish2"))
    }
    /// V2 tunnelled (peer-to-peer): data arrives through `st`.
    fn domain_migrate_prepare_tunnel(&self, st: &Stream, args: &PrepareArgs) -> Result<()> {
        Err(unsupported("virDomainMigratePrepareTunnel"))
    }

    // ---- V3 ----
    /// Source: returns (cookie_out, domain XML for the destination).
    fn domain_migrate_begin3(
        &self,
        dom: &DomainRef,
        args: &Begin3Args,
    ) -> Result<(Cookie, String)> {
        Err(unsupported("virDomainMigrateBegin3"))
    }
    /// Destination: returns (cookie_out, uri_out).
    fn domain_migrate_prepare3(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        Err(unsupported("virDomainMigratePrepare3"))
    }
    fn domain_migrate_prepare_tunnel3(&self, st: &Stream, args: &PrepareArgs) -> Result<Cookie> {
        Err(unsupported("virDomainMigratePrepareTunnel3"))
    }
    /// Source. With PEER2PEER, `dconnuri` names the destination daemon and
    /// the driver runs the whole protocol itself.
    fn domain_migrate_perform3(&self, dom: &DomainRef, args: &PerformArgs) -> Result<Cookie> {
        Err(unsupported("virDomainMigratePerform3"))
    }
    /// Destination: returns the new domain and cookie_out. With `cancelled`
    /// the incoming guest is discarded and an error is returned.
    fn domain_migrate_finish3(
        &self,
        args: &FinishArgs,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        Err(unsupported("virDomainMigrateFinish3"))
    }
    /// Source: with `cancelled` the guest resumes here; otherwise it is gone.
    fn domain_migrate_confirm3(
        &self,
        dom: &DomainRef,
        cookie_in: &[u8],
        flags: u32,
        cancelled: bool,
    ) -> Result<()> {
        Err(unsupported("virDomainMigrateConfirm3"))
    }

    // ---- V3 with typed params (VIR_DRV_FEATURE_MIGRATION_PARAMS) ----
    fn domain_migrate_begin3_params(
        &self,
        dom: &DomainRef,
        params: &TypedParams,
        flags: u32,
    ) -> Result<(Cookie, String)> {
        Err(unsupported("virDomainMigrateBegin3Params"))
    }
    fn domain_migrate_prepare3_params(
        &self,
        args: &ParamsArgs,
    ) -> Result<(Cookie, Option<String>)> {
        Err(unsupported("virDomainMigratePrepare3Params"))
    }
    fn domain_migrate_prepare_tunnel3_params(
        &self,
        st: &Stream,
        args: &ParamsArgs,
    ) -> Result<Cookie> {
        Err(unsupported("virDomainMigratePrepareTunnel3Params"))
    }
    fn domain_migrate_perform3_params(
        &self,
        dom: &DomainRef,
        dconnuri: Option<&str>,
        args: &ParamsArgs,
    ) -> Result<Cookie> {
        Err(unsupported("virDomainMigratePerform3Params"))
    }
    fn domain_migrate_finish3_params(
        &self,
        args: &ParamsArgs,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        Err(unsupported("virDomainMigrateFinish3Params"))
    }
    fn domain_migrate_confirm3_params(
        &self,
        dom: &DomainRef,
        args: &ParamsArgs,
        cancelled: bool,
    ) -> Result<()> {
        Err(unsupported("virDomainMigrateConfirm3Params"))
    }

    // ---- jobs ----
    fn domain_get_job_info(&self, dom: &DomainRef) -> Result<JobInfo> {
        Err(unsupported("virDomainGetJobInfo"))
    }
    /// Returns (`virDomainJobType`, stats).
    fn domain_get_job_stats(&self, dom: &DomainRef, flags: u32) -> Result<(i32, TypedParams)> {
        Err(unsupported("virDomainGetJobStats"))
    }
    /// Serves `virDomainAbortJob` (flags 0) and `virDomainAbortJobFlags`
    /// (virsh's `domjobabort --postcopy`); the refusal names the one called
    /// and, being raised in src/libvirt-domain.c, the domain error domain.
    fn domain_abort_job(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        let api = if flags == 0 {
            "virDomainAbortJob"
        } else {
            "virDomainAbortJobFlags"
        };
        Err(rvirt_util::Error::new(
            rvirt_util::ErrorDomain::DOMAIN,
            rvirt_util::ErrorCode::NO_SUPPORT,
            api,
        ))
    }
    /// Bandwidth in MiB/s (bytes/s with `VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY`
    /// is not used: libvirt's unit is MiB/s for both).
    fn domain_migrate_set_max_speed(
        &self,
        dom: &DomainRef,
        bandwidth: u64,
        flags: u32,
    ) -> Result<()> {
        Err(unsupported("virDomainMigrateSetMaxSpeed"))
    }
    fn domain_migrate_get_max_speed(&self, dom: &DomainRef, flags: u32) -> Result<u64> {
        Err(unsupported("virDomainMigrateGetMaxSpeed"))
    }
    /// Downtime in ms.
    fn domain_migrate_set_max_downtime(
        &self,
        dom: &DomainRef,
        downtime: u64,
        flags: u32,
    ) -> Result<()> {
        Err(unsupported("virDomainMigrateSetMaxDowntime"))
    }
    fn domain_migrate_get_max_downtime(&self, dom: &DomainRef, flags: u32) -> Result<u64> {
        Err(unsupported("virDomainMigrateGetMaxDowntime"))
    }
    fn domain_migrate_start_post_copy(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        Err(unsupported("virDomainMigrateStartPostCopy"))
    }
}
