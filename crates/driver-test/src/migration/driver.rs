//! `MigrationDriver` for the test driver: every libvirt phase (V1, V2, V3,
//! their `_params` forms, tunnelled prepare) mapped onto the source's and
//! destination's steps, and the job calls.

use super::incoming::{self, Channel};
use super::job::{aborted_error, UNLIMITED_MIB};
use super::outgoing::{self, Perform, Target};
use super::{check_request, p2p, reloc, Request};
use crate::connection::TestConnection;
use crate::state::TestState;
use rvirt::driver::{
    Begin3Args, Cookie, DomainRef, FinishArgs, ParamsArgs, PerformArgs, PrepareArgs,
};
use rvirt::job::{operation, JobInfo};
use rvirt::migration::flags;
use rvirt::Stream;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParams};
use std::sync::atomic::Ordering;

/// `VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY`.
const MAX_SPEED_POSTCOPY: u32 = 1;

fn check_flags(api: &str, given: u32, allowed: u32) -> Result<()> {
    if given & !allowed != 0 {
        return Err(rvirt::connect::unsupported_flags(api, given & !allowed));
    }
    Ok(())
}

fn no_xml() -> Error {
    Error::invalid_arg(ErrorDomain::TEST, "no domain XML passed")
}

impl TestConnection {
    /// The domain exists here (job calls address existing domains only).
    fn job_slot(&self, dom: &DomainRef) -> Result<std::sync::Arc<super::job::DomainJob>> {
        self.state().lock().domains.get(dom)?;
        Ok(self.state().migration.job(&dom.uuid))
    }

    fn perform_any(
        &self,
        dom: &DomainRef,
        dconnuri: Option<&str>,
        req: &Request,
        cookie_in: &[u8],
        flags: u32,
    ) -> Result<Cookie> {
        let state = self.state();
        if flags & flags::PEER2PEER != 0 {
            let dconnuri = dconnuri.ok_or_else(|| {
                Error::invalid_arg(
                    ErrorDomain::TEST,
                    "peer-to-peer migration needs a destination URI",
                )
            })?;
            p2p::perform(state, dom, dconnuri, req, flags)?;
            return Ok(Vec::new());
        }
        if flags & flags::TUNNELLED != 0 {
            return Err(Error::invalid_arg(
                ErrorDomain::TEST,
                "cannot perform tunnelled migration without using peer2peer flag",
            ));
        }
        let uri = req.uri.as_deref().or(dconnuri);
        if let Some(u) = uri.filter(|u| u.starts_with("test+reloc://")) {
            reloc::perform_direct(state, dom, u, req, flags)?;
            return Ok(Vec::new());
        }
        let uri =
            uri.ok_or_else(|| Error::invalid_arg(ErrorDomain::TEST, "migration URI is required"))?;
        let target = Target::Tcp(uri.to_string());
        outgoing::perform(state, dom, Perform::new(cookie_in, flags, req, target))
    }

    /// V1/V2 perform: the XML rides in the stream header, and with no
    /// confirm phase the source guest goes as soon as the memory arrived.
    fn perform_v2(&self, dom: &DomainRef, args: &PerformArgs) -> Result<()> {
        let (cookie, flags) = (args.cookie_in, args.flags);
        let uri = args.uri.unwrap_or_default();
        check_request(flags, &TypedParams::new())?;
        let req = Request::legacy(args.dname, args.bandwidth, None, Some(uri));
        if flags & flags::PEER2PEER != 0 || uri.starts_with("test+reloc://") {
            self.perform_any(dom, Some(uri), &req, cookie, flags)?;
            return Ok(());
        }
        let job = Perform {
            xml_in_header: true,
            ..Perform::new(cookie, flags, &req, Target::Tcp(uri.to_string()))
        };
        outgoing::perform(self.state(), dom, job)?;
        outgoing::confirm(self.state(), dom, flags, false)
    }

    /// V2/V3 prepare over TCP: the XML came with the call.
    fn prepare_legacy(
        &self,
        cookie_in: &[u8],
        args: &PrepareArgs,
    ) -> Result<(Cookie, Option<String>)> {
        let req = Request::legacy(args.dname, args.bandwidth, None, args.uri_in);
        let channel = Channel::Tcp {
            uri_in: args.uri_in,
        };
        self.prepare_any(cookie_in, Some(args.dom_xml), &req, args.flags, channel)
    }

    /// V2/V3 tunnelled prepare: the memory arrives through `st`.
    fn prepare_tunnel_legacy(
        &self,
        st: &Stream,
        cookie_in: &[u8],
        args: &PrepareArgs,
    ) -> Result<(Cookie, Option<String>)> {
        let req = Request::legacy(args.dname, args.bandwidth, None, None);
        let channel = Channel::Stream(st);
        self.prepare_any(cookie_in, Some(args.dom_xml), &req, args.flags, channel)
    }

    fn prepare_any(
        &self,
        cookie_in: &[u8],
        dom_xml: Option<&str>,
        req: &Request,
        flags: u32,
        channel: Channel,
    ) -> Result<(Cookie, Option<String>)> {
        check_request(flags, &req.to_params())?;
        let (cookie, uri, inc) =
            incoming::prepare(self.state(), cookie_in, dom_xml, req, flags, channel)?;
        self.prepared().track(inc);
        Ok((cookie, uri))
    }
}

/// Begin through the API: libvirt's begin job ends when begin returns
/// unless CHANGE_PROTECTION asked it to last until confirm; perform then
/// starts its own job.
fn begin_api(
    state: &TestState,
    dom: &DomainRef,
    req: &Request,
    flags: u32,
) -> Result<(Cookie, String)> {
    let out = outgoing::begin(state, dom, req, flags)?;
    if flags & flags::CHANGE_PROTECTION == 0 {
        let begun = state.migration.outgoing.lock().remove(&dom.uuid);
        if let Some(o) = begun {
            o.slot.release(&o.job);
        }
    }
    Ok(out)
}

impl rvirt::MigrationDriver for TestConnection {
    fn domain_migrate_prepare(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        let req = Request::legacy(args.dname, args.bandwidth, None, args.uri_in);
        let channel = Channel::Tcp {
            uri_in: args.uri_in,
        };
        self.prepare_any(&[], None, &req, args.flags, channel)
    }
    fn domain_migrate_perform(&self, dom: &DomainRef, args: &PerformArgs) -> Result<()> {
        self.perform_v2(dom, args)
    }
    fn domain_migrate_finish(&self, args: &FinishArgs) -> Result<DomainRef> {
        let (dname, cookie, flags) = (args.dname, args.cookie_in, args.flags);
        incoming::finish(self.state(), dname, cookie, flags, false).map(|(d, _)| d)
    }

    fn domain_migrate_prepare2(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        self.prepare_legacy(&[], args)
    }
    fn domain_migrate_finish2(&self, args: &FinishArgs, retcode: i32) -> Result<DomainRef> {
        let (dname, cookie, flags) = (args.dname, args.cookie_in, args.flags);
        incoming::finish(self.state(), dname, cookie, flags, retcode != 0).map(|(d, _)| d)
    }
    fn domain_migrate_prepare_tunnel(&self, st: &Stream, args: &PrepareArgs) -> Result<()> {
        self.prepare_tunnel_legacy(st, &[], args).map(|_| ())
    }

    fn domain_migrate_begin3(
        &self,
        dom: &DomainRef,
        args: &Begin3Args,
    ) -> Result<(Cookie, String)> {
        let req = Request::legacy(args.dname, args.bandwidth, args.xmlin, None);
        check_request(args.flags, &req.to_params())?;
        begin_api(self.state(), dom, &req, args.flags)
    }
    fn domain_migrate_prepare3(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        self.prepare_legacy(args.cookie_in, args)
    }
    fn domain_migrate_prepare_tunnel3(&self, st: &Stream, args: &PrepareArgs) -> Result<Cookie> {
        self.prepare_tunnel_legacy(st, args.cookie_in, args)
            .map(|(c, _)| c)
    }
    fn domain_migrate_perform3(&self, dom: &DomainRef, args: &PerformArgs) -> Result<Cookie> {
        let req = Request::legacy(args.dname, args.bandwidth, args.xmlin, args.uri);
        check_request(args.flags, &req.to_params())?;
        self.perform_any(dom, args.dconnuri, &req, args.cookie_in, args.flags)
    }
    fn domain_migrate_finish3(
        &self,
        args: &FinishArgs,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        let (dname, cookie, flags) = (args.dname, args.cookie_in, args.flags);
        incoming::finish(self.state(), dname, cookie, flags, cancelled)
    }
    fn domain_migrate_confirm3(
        &self,
        dom: &DomainRef,
        _cookie_in: &[u8],
        flags: u32,
        cancelled: bool,
    ) -> Result<()> {
        outgoing::confirm(self.state(), dom, flags, cancelled)
    }

    fn domain_migrate_begin3_params(
        &self,
        dom: &DomainRef,
        params: &TypedParams,
        flags: u32,
    ) -> Result<(Cookie, String)> {
        check_request(flags, params)?;
        let req = Request::from_params(params)?;
        begin_api(self.state(), dom, &req, flags)
    }
    fn domain_migrate_prepare3_params(&self, a: &ParamsArgs) -> Result<(Cookie, Option<String>)> {
        let req = Request::from_params(a.params)?;
        let xml = req.dxml.clone().ok_or_else(no_xml)?;
        let uri_in = req.uri.clone();
        let channel = Channel::Tcp {
            uri_in: uri_in.as_deref(),
        };
        self.prepare_any(a.cookie_in, Some(&xml), &req, a.flags, channel)
    }
    fn domain_migrate_prepare_tunnel3_params(&self, st: &Stream, a: &ParamsArgs) -> Result<Cookie> {
        let req = Request::from_params(a.params)?;
        let xml = req.dxml.clone().ok_or_else(no_xml)?;
        self.prepare_any(a.cookie_in, Some(&xml), &req, a.flags, Channel::Stream(st))
            .map(|(c, _)| c)
    }
    fn domain_migrate_perform3_params(
        &self,
        dom: &DomainRef,
        dconnuri: Option<&str>,
        a: &ParamsArgs,
    ) -> Result<Cookie> {
        check_request(a.flags, a.params)?;
        let req = Request::from_params(a.params)?;
        self.perform_any(dom, dconnuri, &req, a.cookie_in, a.flags)
    }
    fn domain_migrate_finish3_params(
        &self,
        a: &ParamsArgs,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        let req = Request::from_params(a.params)?;
        let dname = req
            .dname
            .ok_or_else(|| Error::invalid_arg(ErrorDomain::TEST, "missing destination name"))?;
        incoming::finish(self.state(), &dname, a.cookie_in, a.flags, cancelled)
    }
    fn domain_migrate_confirm3_params(
        &self,
        dom: &DomainRef,
        a: &ParamsArgs,
        cancelled: bool,
    ) -> Result<()> {
        outgoing::confirm(self.state(), dom, a.flags, cancelled)
    }

    fn domain_get_job_info(&self, dom: &DomainRef) -> Result<JobInfo> {
        let (t, stats) = self.job_slot(dom)?.stats(0);
        Ok(JobInfo::from_stats(t, &stats))
    }
    fn domain_get_job_stats(&self, dom: &DomainRef, flags: u32) -> Result<(i32, TypedParams)> {
        Ok(self.job_slot(dom)?.stats(flags))
    }
    fn domain_abort_job(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        check_flags("testDomainAbortJob", flags, 0)?;
        let job = self.job_slot(dom)?.current().ok_or_else(|| {
            Error::operation_invalid(ErrorDomain::TEST, "no job is active on the domain")
        })?;
        if job.operation == operation::MIGRATION_IN {
            return Err(Error::operation_invalid(
                ErrorDomain::TEST,
                "cannot abort incoming migration; use virDomainDestroy instead",
            ));
        }
        if job.postcopy_requested.load(Ordering::SeqCst) {
            return Err(Error::operation_invalid(
                ErrorDomain::TEST,
                "cannot abort migration in post-copy mode",
            ));
        }
        job.request_abort();
        debug_assert_eq!(
            aborted_error(job.operation).code,
            ErrorCode::OPERATION_ABORTED
        );
        Ok(())
    }
    fn domain_migrate_set_max_speed(
        &self,
        dom: &DomainRef,
        bandwidth: u64,
        flags: u32,
    ) -> Result<()> {
        check_flags("testDomainMigrateSetMaxSpeed", flags, MAX_SPEED_POSTCOPY)?;
        if bandwidth > UNLIMITED_MIB {
            return Err(Error::new(
                ErrorDomain::TEST,
                ErrorCode::OVERFLOW,
                format!("bandwidth must be less than {}", UNLIMITED_MIB + 1),
            ));
        }
        let slot = self.job_slot(dom)?;
        let target = if flags & MAX_SPEED_POSTCOPY != 0 {
            &slot.max_speed_postcopy
        } else {
            &slot.max_speed
        };
        target.store(bandwidth, Ordering::SeqCst);
        Ok(())
    }
    fn domain_migrate_get_max_speed(&self, dom: &DomainRef, flags: u32) -> Result<u64> {
        check_flags("testDomainMigrateGetMaxSpeed", flags, MAX_SPEED_POSTCOPY)?;
        let slot = self.job_slot(dom)?;
        Ok(if flags & MAX_SPEED_POSTCOPY != 0 {
            slot.max_speed_postcopy.load(Ordering::SeqCst)
        } else {
            slot.max_speed.load(Ordering::SeqCst)
        })
    }
    fn domain_migrate_set_max_downtime(
        &self,
        dom: &DomainRef,
        downtime: u64,
        flags: u32,
    ) -> Result<()> {
        check_flags("testDomainMigrateSetMaxDowntime", flags, 0)?;
        self.job_slot(dom)?
            .max_downtime
            .store(downtime, Ordering::SeqCst);
        Ok(())
    }
    fn domain_migrate_get_max_downtime(&self, dom: &DomainRef, flags: u32) -> Result<u64> {
        check_flags("testDomainMigrateGetMaxDowntime", flags, 0)?;
        Ok(self.job_slot(dom)?.max_downtime.load(Ordering::SeqCst))
    }
    fn domain_migrate_start_post_copy(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        check_flags("testDomainMigrateStartPostCopy", flags, 0)?;
        let job = self
            .job_slot(dom)?
            .current()
            .filter(|j| j.operation == operation::MIGRATION_OUT)
            .ok_or_else(|| {
                Error::operation_invalid(
                    ErrorDomain::TEST,
                    "post-copy can only be started while outgoing migration is in progress",
                )
            })?;
        if !job.postcopy_allowed {
            return Err(Error::operation_invalid(
                ErrorDomain::TEST,
                "switching to post-copy requires migration to be started with VIR_MIGRATE_POSTCOPY flag",
            ));
        }
        job.postcopy_requested.store(true, Ordering::SeqCst);
        Ok(())
    }
}
