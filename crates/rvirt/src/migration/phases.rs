//! The per-phase entry points (libvirt's `virDomainMigratePrepare3Params`,
//! `virDomainMigratePerform3Params`, ...): what the daemon calls when a peer
//! sends one phase, and what a peer-to-peer source driver calls on its
//! connection to the destination. Applications use [`Domain::migrate3`] and
//! friends in [`super::client`], which pick the protocol and call these.

use crate::driver::{
    Begin3Args, Cookie, DomainRef, FinishArgs, ParamsArgs, PerformArgs, PrepareArgs,
};
use crate::job::JobInfo;
use crate::stream::Stream;
use crate::{Connect, Domain};
use rvirt_util::{Result, TypedParams};

/// Destination side: called on the destination connection.
impl Connect {
    pub fn migrate_prepare(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        self.check_writable("virDomainMigratePrepare")?;
        self.driver().domain_migrate_prepare(args)
    }
    pub fn migrate_finish(&self, args: &FinishArgs) -> Result<Domain> {
        self.check_writable("virDomainMigrateFinish")?;
        let r = self.driver().domain_migrate_finish(args)?;
        Ok(self.domain(r))
    }
    pub fn migrate_prepare2(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        self.check_writable("virDomainMigratePrepare2")?;
        self.driver().domain_migrate_prepare2(args)
    }
    pub fn migrate_finish2(&self, args: &FinishArgs, retcode: i32) -> Result<Domain> {
        self.check_writable("virDomainMigrateFinish2")?;
        let r = self.driver().domain_migrate_finish2(args, retcode)?;
        Ok(self.domain(r))
    }
    pub fn migrate_prepare_tunnel(&self, st: &Stream, args: &PrepareArgs) -> Result<()> {
        self.check_writable("virDomainMigratePrepareTunnel")?;
        self.driver().domain_migrate_prepare_tunnel(st, args)
    }
    pub fn migrate_prepare3(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        self.check_writable("virDomainMigratePrepare3")?;
        self.driver().domain_migrate_prepare3(args)
    }
    pub fn migrate_prepare_tunnel3(&self, st: &Stream, args: &PrepareArgs) -> Result<Cookie> {
        self.check_writable("virDomainMigratePrepareTunnel3")?;
        self.driver().domain_migrate_prepare_tunnel3(st, args)
    }
    pub fn migrate_finish3(&self, args: &FinishArgs, cancelled: bool) -> Result<(Domain, Cookie)> {
        self.check_writable("virDomainMigrateFinish3")?;
        let (r, cookie) = self.driver().domain_migrate_finish3(args, cancelled)?;
        Ok((self.domain(r), cookie))
    }
    pub fn migrate_prepare3_params(
        &self,
        params: &TypedParams,
        cookie_in: &[u8],
        flags: u32,
    ) -> Result<(Cookie, Option<String>)> {
        let args = self.params_args("virDomainMigratePrepare3Params", params, cookie_in, flags)?;
        self.driver().domain_migrate_prepare3_params(&args)
    }
    pub fn migrate_prepare_tunnel3_params(
        &self,
        st: &Stream,
        params: &TypedParams,
        cookie_in: &[u8],
        flags: u32,
    ) -> Result<Cookie> {
        let api = "virDomainMigratePrepareTunnel3Params";
        let args = self.params_args(api, params, cookie_in, flags)?;
        self.driver()
            .domain_migrate_prepare_tunnel3_params(st, &args)
    }
    pub fn migrate_finish3_params(
        &self,
        params: &TypedParams,
        cookie_in: &[u8],
        flags: u32,
        cancelled: bool,
    ) -> Result<(Domain, Cookie)> {
        let args = self.params_args("virDomainMigrateFinish3Params", params, cookie_in, flags)?;
        let (r, cookie) = self
            .driver()
            .domain_migrate_finish3_params(&args, cancelled)?;
        Ok((self.domain(r), cookie))
    }

    /// The checks every destination `_params` phase makes first: a
    /// writable connection and libvirt's types for the parameters.
    fn params_args<'a>(
        &self,
        api: &str,
        params: &'a TypedParams,
        cookie_in: &'a [u8],
        flags: u32,
    ) -> Result<ParamsArgs<'a>> {
        self.check_writable(api)?;
        validated_args(params, cookie_in, flags)
    }
}

/// The arguments of a `_params` phase, once the parameters have libvirt's
/// types (`virTypedParamsValidate` in every `virDomainMigrate*Params`).
fn validated_args<'a>(
    params: &'a TypedParams,
    cookie_in: &'a [u8],
    flags: u32,
) -> Result<ParamsArgs<'a>> {
    params.validate(super::PARAM_TYPES)?;
    Ok(ParamsArgs {
        params,
        cookie_in,
        flags,
    })
}

/// Source side and jobs: called on the domain being migrated.
impl Domain {
    fn migration_driver(
        &self,
        api: &str,
    ) -> Result<&std::sync::Arc<dyn crate::HypervisorConnection>> {
        self.connect().check_writable(api)?;
        Ok(self.connect().driver())
    }
    fn r(&self) -> &DomainRef {
        self.domain_ref()
    }

    crate::forward::domain_calls! {
        write fn migrate_perform => domain_migrate_perform(args: &PerformArgs) -> Result<()>;
        write fn migrate_begin3 => domain_migrate_begin3(args: &Begin3Args)
            -> Result<(Cookie, String)>;
        write fn migrate_perform3 => domain_migrate_perform3(args: &PerformArgs) -> Result<Cookie>;
        write fn migrate_confirm3 => domain_migrate_confirm3(cookie_in: &[u8], flags: u32,
            cancelled: bool) -> Result<()>;
    }
    pub fn migrate_begin3_params(
        &self,
        params: &TypedParams,
        flags: u32,
    ) -> Result<(Cookie, String)> {
        params.validate(super::PARAM_TYPES)?;
        self.migration_driver("virDomainMigrateBegin3Params")?
            .domain_migrate_begin3_params(self.r(), params, flags)
    }
    pub fn migrate_perform3_params(
        &self,
        dconnuri: Option<&str>,
        params: &TypedParams,
        cookie_in: &[u8],
        flags: u32,
    ) -> Result<Cookie> {
        let args = validated_args(params, cookie_in, flags)?;
        self.migration_driver("virDomainMigratePerform3Params")?
            .domain_migrate_perform3_params(self.r(), dconnuri, &args)
    }
    pub fn migrate_confirm3_params(
        &self,
        params: &TypedParams,
        cookie_in: &[u8],
        flags: u32,
        cancelled: bool,
    ) -> Result<()> {
        let args = validated_args(params, cookie_in, flags)?;
        self.migration_driver("virDomainMigrateConfirm3Params")?
            .domain_migrate_confirm3_params(self.r(), &args, cancelled)
    }

    crate::forward::domain_calls! {
        /// `virDomainGetJobInfo`.
        read fn get_job_info => domain_get_job_info() -> Result<JobInfo>;
    }
    /// `virDomainGetJobStats`: (`virDomainJobType`, stats).
    pub fn get_job_stats(&self, flags: u32) -> Result<(i32, TypedParams)> {
        let known = crate::job::stats_flags::COMPLETED | crate::job::stats_flags::KEEP_COMPLETED;
        if flags & !known != 0 {
            return Err(crate::connect::unsupported_flags(
                "virDomainGetJobStats",
                flags & !known,
            ));
        }
        self.connect()
            .driver()
            .domain_get_job_stats(self.r(), flags)
    }
    crate::forward::domain_calls! {
        /// `virDomainAbortJob` / `virDomainAbortJobFlags`.
        write fn abort_job => domain_abort_job(flags: u32) -> Result<()>;
        /// `virDomainMigrateSetMaxSpeed` (MiB/s).
        write fn migrate_set_max_speed => domain_migrate_set_max_speed(bandwidth: u64, flags: u32)
            -> Result<()>;
        read fn migrate_get_max_speed => domain_migrate_get_max_speed(flags: u32) -> Result<u64>;
        /// `virDomainMigrateSetMaxDowntime` (ms).
        write fn migrate_set_max_downtime => domain_migrate_set_max_downtime(downtime: u64,
            flags: u32) -> Result<()>;
        read fn migrate_get_max_downtime => domain_migrate_get_max_downtime(flags: u32)
            -> Result<u64>;
        /// `virDomainMigrateStartPostCopy`.
        write fn migrate_start_post_copy => domain_migrate_start_post_copy(flags: u32)
            -> Result<()>;
    }
}
