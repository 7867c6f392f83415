//! Every migration phase and job call over the wire, as libvirt's remote
//! driver sends them (remote_driver.c): cookies are opaque bytes, the V1–V3
//! flags travel as `unsigned hyper`, finish returns the daemon's domain,
//! and the tunnelled prepares attach a [`RemoteStream`] to the caller's
//! `rvirt::Stream` so its bytes travel as `STREAM` packets.

use crate::conn::{domain_ref, nonnull, RemoteConnection};
use rvirt::driver::{Cookie, DomainRef};
use rvirt::{JobInfo, Stream};
use rvirt_rpc::remote::{DomainArgs, DomainFlagsArgs};
use rvirt_rpc::remote::*;
use rvirt_rpc::remote::Procedure;
use rvirt_rpc::{XdrDecode, XdrEncode};
use rvirt_util::{Result, TypedParams};
use std::sync::Arc;

fn opt(s: Option<&str>) -> Option<String> {
    s.map(str::to_string)
}

fn dom(d: &DomainRef) -> DomainArgs {
    DomainArgs { dom: nonnull(d) }
}

fn dom_flags(d: &DomainRef, flags: u32) -> DomainFlagsArgs {
    DomainFlagsArgs {
        dom: nonnull(d),
        flags,
    }
}

impl RemoteConnection {
    /// A tunnelled prepare: the call opens the stream, which `st` then
    /// carries. Should `st` already be bound, the new stream is aborted.
    fn prepare_tunnel<A: XdrEncode, R: XdrDecode>(
        &self,
        st: &Stream,
        proc_: Procedure,
        args: &A,
    ) -> Result<R> {
        let (ret, backend) = self.client().call_with_stream(proc_, args)?;
        let backend = Arc::new(backend);
        if let Err(e) = st.attach(backend.clone()) {
            let _ = rvirt::StreamBackend::abort(&*backend);
            return Err(e);
        }
        Ok(ret)
    }
}

impl rvirt::MigrationDriver for RemoteConnection {
    fn domain_migrate_prepare(
        &self,
        uri_in: Option<&str>,
        flags: u32,
        dname: Option<&str>,
        bandwidth: u64,
    ) -> Result<(Cookie, Option<String>)> {
        let args = DomainMigratePrepareArgs {
            uri_in: opt(uri_in),
            flags: flags.into(),
            dname: opt(dname),
            bandwidth,
        };
        let r: DomainMigratePrepareRet = self.call(Procedure::DomainMigratePrepare, &args)?;
        Ok((r.cookie, r.uri_out))
    }

    fn domain_migrate_perform(
        &self,
        d: &DomainRef,
        cookie: &[u8],
        uri: &str,
        flags: u32,
        dname: Option<&str>,
        bandwidth: u64,
    ) -> Result<()> {
        let args = DomainMigratePerformArgs {
            dom: nonnull(d),
            cookie: cookie.to_vec(),
            uri: uri.into(),
            flags: flags.into(),
            dname: opt(dname),
            bandwidth,
        };
        self.call(Procedure::DomainMigratePerform, &args)
    }

    fn domain_migrate_finish(
        &self,
        dname: &str,
        cookie: &[u8],
        uri: &str,
        flags: u32,
    ) -> Result<DomainRef> {
        let args = DomainMigrateFinishArgs {
            dname: dname.into(),
            cookie: cookie.to_vec(),
            uri: uri.into(),
            flags: flags.into(),
        };
        let r: DomainMigrateFinishRet = self.call(Procedure::DomainMigrateFinish, &args)?;
        Ok(domain_ref(r.ddom))
    }

    fn domain_migrate_prepare2(
        &self,
        uri_in: Option<&str>,
        flags: u32,
        dname: Option<&str>,
        bandwidth: u64,
        dom_xml: &str,
    ) -> Result<(Cookie, Option<String>)> {
        let args = DomainMigratePrepare2Args {
            uri_in: opt(uri_in),
            flags: flags.into(),
            dname: opt(dname),
            bandwidth,
            dom_xml: dom_xml.into(),
        };
        let r: DomainMigratePrepareRet = self.call(Procedure::DomainMigratePrepare2, &args)?;
        Ok((r.cookie, r.uri_out))
    }

    fn domain_migrate_finish2(
        &self,
        dname: &str,
        cookie: &[u8],
        uri: &str,
        flags: u32,
        retcode: i32,
    ) -> Result<DomainRef> {
        let args = DomainMigrateFinish2Args {
            dname: dname.into(),
            cookie: cookie.to_vec(),
            uri: uri.into(),
            flags: flags.into(),
            retcode,
        };
        let r: DomainMigrateFinishRet = self.call(Procedure::DomainMigrateFinish2, &args)?;
        Ok(domain_ref(r.ddom))
    }

    fn domain_migrate_prepare_tunnel(
        &self,
        st: &Stream,
        flags: u32,
        dname: Option<&str>,
        bandwidth: u64,
        dom_xml: &str,
    ) -> Result<()> {
        let args = DomainMigratePrepareTunnelArgs {
            flags: flags.into(),
            dname: opt(dname),
            bandwidth,
            dom_xml: dom_xml.into(),
        };
        self.prepare_tunnel(st, Procedure::DomainMigratePrepareTunnel, &args)
    }

    fn domain_migrate_begin3(
        &self,
        d: &DomainRef,
        xmlin: Option<&str>,
        flags: u32,
        dname: Option<&str>,
        bandwidth: u64,
    ) -> Result<(Cookie, String)> {
        let args = DomainMigrateBegin3Args {
            dom: nonnull(d),
            xmlin: opt(xmlin),
            flags: flags.into(),
            dname: opt(dname),
            bandwidth,
        };
        let r: DomainMigrateBegin3Ret = self.call(Procedure::DomainMigrateBegin3, &args)?;
        Ok((r.cookie_out, r.xml))
    }

    fn domain_migrate_prepare3(
        &self,
        cookie_in: &[u8],
        uri_in: Option<&str>,
        flags: u32,
        dname: Option<&str>,
        bandwidth: u64,
        dom_xml: &str,
    ) -> Result<(Cookie, Option<String>)> {
        let args = DomainMigratePrepare3Args {
            cookie_in: cookie_in.to_vec(),
            uri_in: opt(uri_in),
            flags: flags.into(),
            dname: opt(dname),
            bandwidth,
            dom_xml: dom_xml.into(),
        };
        let r: DomainMigratePrepare3Ret = self.call(Procedure::DomainMigratePrepare3, &args)?;
        Ok((r.cookie_out, r.uri_out))
    }

    fn domain_migrate_prepare_tunnel3(
        &self,
        st: &Stream,
        cookie_in: &[u8],
        flags: u32,
        dname: Option<&str>,
        bandwidth: u64,
        dom_xml: &str,
    ) -> Result<Cookie> {
        let args = DomainMigratePrepareTunnel3Args {
            cookie_in: cookie_in.to_vec(),
            flags: flags.into(),
            dname: opt(dname),
            bandwidth,
            dom_xml: dom_xml.into(),
        };
        let r: CookieOutRet =
            self.prepare_tunnel(st, Procedure::DomainMigratePrepareTunnel3, &args)?;
        Ok(r.cookie_out)
    }

    fn domain_migrate_perform3(
        &self,
        d: &DomainRef,
        xmlin: Option<&str>,
        cookie_in: &[u8],
        dconnuri: Option<&str>,
        uri: Option<&str>,
        flags: u32,
        dname: Option<&str>,
        bandwidth: u64,
    ) -> Result<Cookie> {
        let args = DomainMigratePerform3Args {
            dom: nonnull(d),
            xmlin: opt(xmlin),
            cookie_in: cookie_in.to_vec(),
            dconnuri: opt(dconnuri),
            uri: opt(uri),
            flags: flags.into(),
            dname: opt(dname),
            bandwidth,
        };
        let r: CookieOutRet = self.call(Procedure::DomainMigratePerform3, &args)?;
        Ok(r.cookie_out)
    }

    fn domain_migrate_finish3(
        &self,
        dname: &str,
        cookie_in: &[u8],
        dconnuri: Option<&str>,
        uri: Option<&str>,
        flags: u32,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        let args = DomainMigrateFinish3Args {
            dname: dname.into(),
            cookie_in: cookie_in.to_vec(),
            dconnuri: opt(dconnuri),
            uri: opt(uri),
            flags: flags.into(),
            cancelled: cancelled as i32,
        };
        let r: DomainMigrateFinish3Ret = self.call(Procedure::DomainMigrateFinish3, &args)?;
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
        self.call(Procedure::DomainMigrateConfirm3, &args)
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
        let r: DomainMigrateBegin3Ret = self.call(Procedure::DomainMigrateBegin3Params, &args)?;
        Ok((r.cookie_out, r.xml))
    }

    fn domain_migrate_prepare3_params(
        &self,
        params: &TypedParams,
        cookie_in: &[u8],
        flags: u32,
    ) -> Result<(Cookie, Option<String>)> {
        let args = DomainMigratePrepare3ParamsArgs {
            params: params.clone(),
            cookie_in: cookie_in.to_vec(),
            flags,
        };
        let r: DomainMigratePrepare3Ret =
            self.call(Procedure::DomainMigratePrepare3Params, &args)?;
        Ok((r.cookie_out, r.uri_out))
    }

    fn domain_migrate_prepare_tunnel3_params(
        &self,
        st: &Stream,
        params: &TypedParams,
        cookie_in: &[u8],
        flags: u32,
    ) -> Result<Cookie> {
        let args = DomainMigratePrepareTunnel3ParamsArgs {
            params: params.clone(),
            cookie_in: cookie_in.to_vec(),
            flags,
        };
        let proc_ = Procedure::DomainMigratePrepareTunnel3Params;
        let r: CookieOutRet = self.prepare_tunnel(st, proc_, &args)?;
        Ok(r.cookie_out)
    }

    fn domain_migrate_perform3_params(
        &self,
        d: &DomainRef,
        dconnuri: Option<&str>,
        params: &TypedParams,
        cookie_in: &[u8],
        flags: u32,
    ) -> Result<Cookie> {
        let args = DomainMigratePerform3ParamsArgs {
            dom: nonnull(d),
            dconnuri: opt(dconnuri),
            params: params.clone(),
            cookie_in: cookie_in.to_vec(),
            flags,
        };
        let r: CookieOutRet = self.call(Procedure::DomainMigratePerform3Params, &args)?;
        Ok(r.cookie_out)
    }

    fn domain_migrate_finish3_params(
        &self,
        params: &TypedParams,
        cookie_in: &[u8],
        flags: u32,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        let args = DomainMigrateFinish3ParamsArgs {
            params: params.clone(),
            cookie_in: cookie_in.to_vec(),
            flags,
            cancelled: cancelled as i32,
        };
        let r: DomainMigrateFinish3Ret = self.call(Procedure::DomainMigrateFinish3Params, &args)?;
        Ok((domain_ref(r.dom), r.cookie_out))
    }

    fn domain_migrate_confirm3_params(
        &self,
        d: &DomainRef,
        params: &TypedParams,
        cookie_in: &[u8],
        flags: u32,
        cancelled: bool,
    ) -> Result<()> {
        let args = DomainMigrateConfirm3ParamsArgs {
            dom: nonnull(d),
            params: params.clone(),
            cookie_in: cookie_in.to_vec(),
            flags,
            cancelled: cancelled as i32,
        };
        self.call(Procedure::DomainMigrateConfirm3Params, &args)
    }

    fn domain_get_job_info(&self, d: &DomainRef) -> Result<JobInfo> {
        let r: DomainGetJobInfoRet = self.call(Procedure::DomainGetJobInfo, &dom(d))?;
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
        let r: DomainGetJobStatsRet =
            self.call(Procedure::DomainGetJobStats, &dom_flags(d, flags))?;
        Ok((r.type_, r.params))
    }

    /// Without flags the older procedure, which every daemon has (as
    /// `virDomainAbortJob` uses it); with flags `DOMAIN_ABORT_JOB_FLAGS`.
    fn domain_abort_job(&self, d: &DomainRef, flags: u32) -> Result<()> {
        match flags {
            0 => self.call(Procedure::DomainAbortJob, &dom(d)),
            _ => self.call(Procedure::DomainAbortJobFlags, &dom_flags(d, flags)),
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
        self.call(Procedure::DomainMigrateSetMaxSpeed, &args)
    }

    fn domain_migrate_get_max_speed(&self, d: &DomainRef, flags: u32) -> Result<u64> {
        let r: DomainMigrateGetMaxSpeedRet =
            self.call(Procedure::DomainMigrateGetMaxSpeed, &dom_flags(d, flags))?;
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
        self.call(Procedure::DomainMigrateSetMaxDowntime, &args)
    }

    fn domain_migrate_get_max_downtime(&self, d: &DomainRef, flags: u32) -> Result<u64> {
        let r: DomainMigrateGetMaxDowntimeRet =
            self.call(Procedure::DomainMigrateGetMaxDowntime, &dom_flags(d, flags))?;
        Ok(r.downtime)
    }

    fn domain_migrate_start_post_copy(&self, d: &DomainRef, flags: u32) -> Result<()> {
        self.call(Procedure::DomainMigrateStartPostCopy, &dom_flags(d, flags))
    }
}
