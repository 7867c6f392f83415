//! Every migration phase and job call over the wire, as libvirt's remote
//! driver sends them (remote_driver.c): cookies are opaque bytes, the V1–V3
//! flags travel as `unsigned hyper`, finish returns the daemon's domain,
//! and the tunnelled prepares attach a [`RemoteStream`] to the caller's
//! `rvirt::Stream` so its bytes travel as `STREAM` packets.

use crate::conn::{dom_flags, domain_ref, nonnull, RemoteConnection};
use rvirt::driver::{
    Begin3Args, Cookie, DomainRef, FinishArgs, ParamsArgs, PerformArgs, PrepareArgs,
};
use rvirt::{JobInfo, Stream};
use rvirt_rpc::remote::*;
use rvirt_rpc::remote::{procs, Procedure, RemoteCalls};
use rvirt_rpc::Proc;
use rvirt_util::{Result, TypedParams};
use std::sync::Arc;

fn opt(s: Option<&str>) -> Option<String> {
    s.map(str::to_string)
}

impl RemoteConnection {
    /// A call that opens a stream (a tunnelled prepare, a console), which `st` then
    /// carries. Should `st` already be bound, the new stream is aborted.
    pub(crate) fn open_stream<P: Proc<Id = Procedure>>(
        &self,
        st: &Stream,
        args: &P::Args,
    ) -> Result<P::Ret> {
        let (ret, backend) = self.client().call_with_stream(P::ID, args)?;
        let backend = Arc::new(backend);
        if let Err(e) = st.attach(backend.clone()) {
            let _ = rvirt::StreamBackend::abort(&*backend);
            return Err(e);
        }
        Ok(ret)
    }
}

impl rvirt::MigrationDriver for RemoteConnection {
    fn domain_migrate_prepare(&self, a: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        let args = DomainMigratePrepareArgs {
            uri_in: opt(a.uri_in),
            flags: a.flags.into(),
            dname: opt(a.dname),
            resource: a.bandwidth,
        };
        let r = self.call_domain_migrate_prepare(&args)?;
        Ok((r.cookie, r.uri_out))
    }

    fn domain_migrate_perform(&self, d: &DomainRef, a: &PerformArgs) -> Result<()> {
        let args = DomainMigratePerformArgs {
            dom: nonnull(d),
            cookie: a.cookie_in.to_vec(),
            uri: a.uri.unwrap_or_default().into(),
            flags: a.flags.into(),
            dname: opt(a.dname),
            resource: a.bandwidth,
        };
        self.call_domain_migrate_perform(&args)
    }

    fn domain_migrate_finish(&self, a: &FinishArgs) -> Result<DomainRef> {
        let args = DomainMigrateFinishArgs {
            dname: a.dname.into(),
            cookie: a.cookie_in.to_vec(),
            uri: a.uri.unwrap_or_default().into(),
            flags: a.flags.into(),
        };
        let r = self.call_domain_migrate_finish(&args)?;
        Ok(domain_ref(r.ddom))
    }

    fn domain_migrate_prepare2(&self, a: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        let args = DomainMigratePrepare2Args {
            uri_in: opt(a.uri_in),
            flags: a.flags.into(),
            dname: opt(a.dname),
            resource: a.bandwidth,
            dom_xml: a.dom_xml.into(),
        };
        let r = self.call_domain_migrate_prepare2(&args)?;
        Ok((r.cookie, r.uri_out))
    }

    fn domain_migrate_finish2(&self, a: &FinishArgs, retcode: i32) -> Result<DomainRef> {
        let args = DomainMigrateFinish2Args {
            dname: a.dname.into(),
            cookie: a.cookie_in.to_vec(),
            uri: a.uri.unwrap_or_default().into(),
            flags: a.flags.into(),
            retcode,
        };
        let r = self.call_domain_migrate_finish2(&args)?;
        Ok(domain_ref(r.ddom))
    }

    fn domain_migrate_prepare_tunnel(&self, st: &Stream, a: &PrepareArgs) -> Result<()> {
        let args = DomainMigratePrepareTunnelArgs {
            flags: a.flags.into(),
            dname: opt(a.dname),
            resource: a.bandwidth,
            dom_xml: a.dom_xml.into(),
        };
        self.open_stream::<procs::DomainMigratePrepareTunnel>(st, &args)
    }

    fn domain_migrate_begin3(&self, d: &DomainRef, a: &Begin3Args) -> Result<(Cookie, String)> {
        let args = DomainMigrateBegin3Args {
            dom: nonnull(d),
            xmlin: opt(a.xmlin),
            flags: a.flags.into(),
            dname: opt(a.dname),
            resource: a.bandwidth,
        };
        let r = self.call_domain_migrate_begin3(&args)?;
        Ok((r.cookie_out, r.xml))
    }

    fn domain_migrate_prepare3(&self, a: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        let args = DomainMigratePrepare3Args {
            cookie_in: a.cookie_in.to_vec(),
            uri_in: opt(a.uri_in),
            flags: a.flags.into(),
            dname: opt(a.dname),
            resource: a.bandwidth,
            dom_xml: a.dom_xml.into(),
        };
        let r = self.call_domain_migrate_prepare3(&args)?;
        Ok((r.cookie_out, r.uri_out))
    }

    fn domain_migrate_prepare_tunnel3(&self, st: &Stream, a: &PrepareArgs) -> Result<Cookie> {
        let args = DomainMigratePrepareTunnel3Args {
            cookie_in: a.cookie_in.to_vec(),
            flags: a.flags.into(),
            dname: opt(a.dname),
            resource: a.bandwidth,
            dom_xml: a.dom_xml.into(),
        };
        let r = self.open_stream::<procs::DomainMigratePrepareTunnel3>(st, &args)?;
        Ok(r.cookie_out)
    }

    fn domain_migrate_perform3(&self, d: &DomainRef, a: &PerformArgs) -> Result<Cookie> {
        let args = DomainMigratePerform3Args {
            dom: nonnull(d),
            xmlin: opt(a.xmlin),
            cookie_in: a.cookie_in.to_vec(),
            dconnuri: opt(a.dconnuri),
            uri: opt(a.uri),
            flags: a.flags.into(),
            dname: opt(a.dname),
            resource: a.bandwidth,
        };
        let r = self.call_domain_migrate_perform3(&args)?;
        Ok(r.cookie_out)
    }

    fn domain_migrate_finish3(
        &self,
        a: &FinishArgs,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        let args = DomainMigrateFinish3Args {
            dname: a.dname.into(),
            cookie_in: a.cookie_in.to_vec(),
            dconnuri: opt(a.dconnuri),
            uri: opt(a.uri),
            flags: a.flags.into(),
            cancelled: cancelled as i32,
        };
        let r = self.call_domain_migrate_finish3(&args)?;
        Ok((domain_ref(r.dom), r.cookie_out))
    }

    fn domain_migrate_confirm3(
        &self,
        d: &DomainRef,
        cookie_in: &[u8],
        flags: u32,
        cancelled: bool,
    ) -> Result<()> {
        let args = DomainMigrateConfirm3Args {
            dom: nonnull(d),
            cookie_in: cookie_in.to_vec(),
            flags: flags.into(),
            cancelled: cancelled as i32,
        };
        self.call_domain_migrate_confirm3(&args)
    }

    fn domain_migrate_begin3_params(
        &self,
        d: &DomainRef,
        params: &TypedParams,
        flags: u32,
    ) -> Result<(Cookie, String)> {
        let args = DomainMigrateBegin3ParamsArgs {
            dom: nonnull(d),
            params: params.clone(),
            flags,
        };
        let r = self.call_domain_migrate_begin3_params(&args)?;
        Ok((r.cookie_out, r.xml))
    }

    fn domain_migrate_prepare3_params(&self, a: &ParamsArgs) -> Result<(Cookie, Option<String>)> {
        let args = DomainMigratePrepare3ParamsArgs {
            params: a.params.clone(),
            cookie_in: a.cookie_in.to_vec(),
            flags: a.flags,
        };
        let r = self.call_domain_migrate_prepare3_params(&args)?;
        Ok((r.cookie_out, r.uri_out))
    }

    fn domain_migrate_prepare_tunnel3_params(&self, st: &Stream, a: &ParamsArgs) -> Result<Cookie> {
        let args = DomainMigratePrepareTunnel3ParamsArgs {
            params: a.params.clone(),
            cookie_in: a.cookie_in.to_vec(),
            flags: a.flags,
        };
        let r = self.open_stream::<procs::DomainMigratePrepareTunnel3Params>(st, &args)?;
        Ok(r.cookie_out)
    }

    fn domain_migrate_perform3_params(
        &self,
        d: &DomainRef,
        dconnuri: Option<&str>,
        a: &ParamsArgs,
    ) -> Result<Cookie> {
        let args = DomainMigratePerform3ParamsArgs {
            dom: nonnull(d),
            dconnuri: opt(dconnuri),
            params: a.params.clone(),
            cookie_in: a.cookie_in.to_vec(),
            flags: a.flags,
        };
        let r = self.call_domain_migrate_perform3_params(&args)?;
        Ok(r.cookie_out)
    }

    fn domain_migrate_finish3_params(
        &self,
        a: &ParamsArgs,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        let args = DomainMigrateFinish3ParamsArgs {
            params: a.params.clone(),
            cookie_in: a.cookie_in.to_vec(),
            flags: a.flags,
            cancelled: cancelled as i32,
        };
        let r = self.call_domain_migrate_finish3_params(&args)?;
        Ok((domain_ref(r.dom), r.cookie_out))
    }

    fn domain_migrate_confirm3_params(
        &self,
        d: &DomainRef,
        a: &ParamsArgs,
        cancelled: bool,
    ) -> Result<()> {
        let args = DomainMigrateConfirm3ParamsArgs {
            dom: nonnull(d),
            params: a.params.clone(),
            cookie_in: a.cookie_in.to_vec(),
            flags: a.flags,
            cancelled: cancelled as i32,
        };
        self.call_domain_migrate_confirm3_params(&args)
    }

    fn domain_get_job_info(&self, d: &DomainRef) -> Result<JobInfo> {
        let r = self.call_domain_get_job_info(&DomainGetJobInfoArgs { dom: nonnull(d) })?;
        Ok(JobInfo {
            type_: r.type_,
            time_elapsed: r.time_elapsed,
            time_remaining: r.time_remaining,
            data_total: r.data_total,
            data_processed: r.data_processed,
            data_remaining: r.data_remaining,
            mem_total: r.mem_total,
            mem_processed: r.mem_processed,
            mem_remaining: r.mem_remaining,
            file_total: r.file_total,
            file_processed: r.file_processed,
            file_remaining: r.file_remaining,
        })
    }

    fn domain_get_job_stats(&self, d: &DomainRef, flags: u32) -> Result<(i32, TypedParams)> {
        let r = self.call_domain_get_job_stats(&dom_flags(d, flags))?;
        Ok((r.type_, r.params))
    }

    /// Without flags the older procedure, which every daemon has (as
    /// `virDomainAbortJob` uses it); with flags `DOMAIN_ABORT_JOB_FLAGS`.
    fn domain_abort_job(&self, d: &DomainRef, flags: u32) -> Result<()> {
        match flags {
            0 => self.call_domain_abort_job(&DomainAbortJobArgs { dom: nonnull(d) }),
            _ => self.call_domain_abort_job_flags(&dom_flags(d, flags)),
        }
    }

    fn domain_migrate_set_max_speed(
        &self,
        d: &DomainRef,
        bandwidth: u64,
        flags: u32,
    ) -> Result<()> {
        let args = DomainMigrateSetMaxSpeedArgs {
            dom: nonnull(d),
            bandwidth,
            flags,
        };
        self.call_domain_migrate_set_max_speed(&args)
    }

    fn domain_migrate_get_max_speed(&self, d: &DomainRef, flags: u32) -> Result<u64> {
        let r = self.call_domain_migrate_get_max_speed(&dom_flags(d, flags))?;
        Ok(r.bandwidth)
    }

    fn domain_migrate_set_max_downtime(
        &self,
        d: &DomainRef,
        downtime: u64,
        flags: u32,
    ) -> Result<()> {
        let args = DomainMigrateSetMaxDowntimeArgs {
            dom: nonnull(d),
            downtime,
            flags,
        };
        self.call_domain_migrate_set_max_downtime(&args)
    }

    fn domain_migrate_get_max_downtime(&self, d: &DomainRef, flags: u32) -> Result<u64> {
        let r = self.call_domain_migrate_get_max_downtime(&dom_flags(d, flags))?;
        Ok(r.downtime)
    }

    fn domain_migrate_start_post_copy(&self, d: &DomainRef, flags: u32) -> Result<()> {
        self.call_domain_migrate_start_post_copy(&dom_flags(d, flags))
    }
}
