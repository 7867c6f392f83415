//! `MigrationDriver` for the test driver: every libvirt phase (V1, V2, V3,
//! their `_params` forms, tunnelled prepare) mapped onto the source's and
//! destination's steps, and the job calls.

use super::destination::Destination;
use super::{check_incoming, check_request, SUPPORT};
use crate::connection::TestConnection;
use rvirt::driver::{
    Begin3Args, Cookie, DomainRef, FinishArgs, ParamsArgs, PerformArgs, PrepareArgs,
};
use rvirt::job::JobInfo;
use rvirt::migration::flags;
use rvirt::Stream;
use rvirt_hypervisor::destination::{self as incoming, IncomingChannel as Channel};
use rvirt_hypervisor::job::DomainJob;
use rvirt_hypervisor::source::{self as outgoing, Perform};
use rvirt_hypervisor::{phases, Request, Target};
use rvirt_util::{Error, ErrorDomain, Result, TypedParams};
use std::sync::Arc;

fn no_xml() -> Error {
    Error::invalid_arg(ErrorDomain::TEST, "no domain XML passed")
}

impl TestConnection {
    /// The domain exists here (job calls address existing domains only).
    /// The domain's job slot. A domain with a migration under way exists,
    /// so the job calls made during one (jobStats, migrateSetMaxSpeed,
    /// abort) skip the domain-state lock, which the running transfer and
    /// the guest's dirtying take over and over: waiting on it delayed a
    /// speed change until the migration ended.
    fn job_slot(&self, dom: &DomainRef) -> Result<Arc<DomainJob>> {
        let jobs = self.state().migration.jobs();
        if jobs.outgoing(&dom.uuid).is_none() {
            self.state().lock().domains.get(dom)?;
        }
        Ok(jobs.slot(&dom.uuid))
    }

    /// V1/V2 perform: the XML rides in the stream header, and with no
    /// confirm phase the source guest goes as soon as the memory arrived.
    fn perform_v2(&self, dom: &DomainRef, args: &PerformArgs) -> Result<()> {
        let (cookie, flags) = (args.cookie_in, args.flags);
        let uri = args.uri.unwrap_or_default();
        check_request(flags, &TypedParams::new())?;
        let req = Request::legacy(args.dname, args.bandwidth, None, Some(uri));
        if flags & flags::PEER2PEER != 0 || uri.starts_with("test+reloc://") {
            phases::perform_any(self.state().as_ref(), dom, Some(uri), &req, cookie, flags)?;
            return Ok(());
        }
        let job = Perform {
            xml_in_header: true,
            ..Perform::new(cookie, flags, &req, Target::Uri(uri.to_string()))
        };
        let state = self.state().as_ref();
        outgoing::perform(state, dom, job)?;
        outgoing::confirm(state, dom, flags, false)
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
        check_incoming(flags, &req.to_params())?;
        let (cookie, uri, inc) = incoming::prepare(
            &Destination(self.state()),
            cookie_in,
            dom_xml,
            req,
            flags,
            channel,
        )?;
        self.prepared().track(inc);
        Ok((cookie, uri))
    }
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
        incoming::finish(&Destination(self.state()), dname, cookie, flags, false).map(|(d, _)| d)
    }

    fn domain_migrate_prepare2(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        self.prepare_legacy(&[], args)
    }
    fn domain_migrate_finish2(&self, args: &FinishArgs, retcode: i32) -> Result<DomainRef> {
        let (dname, cookie, flags) = (args.dname, args.cookie_in, args.flags);
        incoming::finish(
            &Destination(self.state()),
            dname,
            cookie,
            flags,
            retcode != 0,
        )
        .map(|(d, _)| d)
    }
    fn domain_migrate_prepare_tunnel(&self, st: &Stream, args: &PrepareArgs) -> Result<()> {
        self.prepare_tunnel_legacy(st, &[], args).map(|_| ())
    }

    fn domain_migrate_begin3(
        &self,
        dom: &DomainRef,
        args: &Begin3Args,
    ) -> Result<(Cookie, String)> {
        phases::begin3(self.state().as_ref(), dom, args)
    }
    fn domain_migrate_prepare3(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        self.prepare_legacy(args.cookie_in, args)
    }
    fn domain_migrate_prepare_tunnel3(&self, st: &Stream, args: &PrepareArgs) -> Result<Cookie> {
        self.prepare_tunnel_legacy(st, args.cookie_in, args)
            .map(|(c, _)| c)
    }
    fn domain_migrate_perform3(&self, dom: &DomainRef, args: &PerformArgs) -> Result<Cookie> {
        phases::perform3(self.state().as_ref(), dom, args)
    }
    fn domain_migrate_finish3(
        &self,
        args: &FinishArgs,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        let (dname, cookie, flags) = (args.dname, args.cookie_in, args.flags);
        incoming::finish(&Destination(self.state()), dname, cookie, flags, cancelled)
    }
    fn domain_migrate_confirm3(
        &self,
        dom: &DomainRef,
        _cookie_in: &[u8],
        flags: u32,
        cancelled: bool,
    ) -> Result<()> {
        phases::confirm3(self.state().as_ref(), dom, flags, cancelled)
    }

    fn domain_migrate_begin3_params(
        &self,
        dom: &DomainRef,
        params: &TypedParams,
        flags: u32,
    ) -> Result<(Cookie, String)> {
        phases::begin3_params(self.state().as_ref(), dom, params, flags)
    }
    fn domain_migrate_prepare3_params(&self, a: &ParamsArgs) -> Result<(Cookie, Option<String>)> {
        let req = Request::from_params(a.params, ErrorDomain::TEST)?;
        let xml = req.dxml.clone().ok_or_else(no_xml)?;
        let uri_in = req.uri.clone();
        let channel = Channel::Tcp {
            uri_in: uri_in.as_deref(),
        };
        self.prepare_any(a.cookie_in, Some(&xml), &req, a.flags, channel)
    }
    fn domain_migrate_prepare_tunnel3_params(&self, st: &Stream, a: &ParamsArgs) -> Result<Cookie> {
        let req = Request::from_params(a.params, ErrorDomain::TEST)?;
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
        phases::perform3_params(self.state().as_ref(), dom, dconnuri, a)
    }
    fn domain_migrate_finish3_params(
        &self,
        a: &ParamsArgs,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        let req = Request::from_params(a.params, ErrorDomain::TEST)?;
        let dname = req
            .dname
            .ok_or_else(|| Error::invalid_arg(ErrorDomain::TEST, "missing destination name"))?;
        incoming::finish(
            &Destination(self.state()),
            &dname,
            a.cookie_in,
            a.flags,
            cancelled,
        )
    }
    fn domain_migrate_confirm3_params(
        &self,
        dom: &DomainRef,
        a: &ParamsArgs,
        cancelled: bool,
    ) -> Result<()> {
        phases::confirm3(self.state().as_ref(), dom, a.flags, cancelled)
    }

    fn domain_get_job_info(&self, dom: &DomainRef) -> Result<JobInfo> {
        Ok(SUPPORT.job_info(&*self.job_slot(dom)?))
    }
    fn domain_get_job_stats(&self, dom: &DomainRef, flags: u32) -> Result<(i32, TypedParams)> {
        Ok(SUPPORT.job_stats(&*self.job_slot(dom)?, flags))
    }
    fn domain_abort_job(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        SUPPORT.abort_job(&*self.job_slot(dom)?, flags)
    }
    fn domain_migrate_set_max_speed(
        &self,
        dom: &DomainRef,
        bandwidth: u64,
        flags: u32,
    ) -> Result<()> {
        SUPPORT.set_max_speed(&*self.job_slot(dom)?, bandwidth, flags)
    }
    fn domain_migrate_get_max_speed(&self, dom: &DomainRef, flags: u32) -> Result<u64> {
        SUPPORT.get_max_speed(&*self.job_slot(dom)?, flags)
    }
    fn domain_migrate_set_max_downtime(
        &self,
        dom: &DomainRef,
        downtime: u64,
        flags: u32,
    ) -> Result<()> {
        SUPPORT.set_max_downtime(&*self.job_slot(dom)?, downtime, flags)
    }
    fn domain_migrate_get_max_downtime(&self, dom: &DomainRef, flags: u32) -> Result<u64> {
        SUPPORT.get_max_downtime(&*self.job_slot(dom)?, flags)
    }
    fn domain_migrate_start_post_copy(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        SUPPORT
            .start_post_copy(&*self.job_slot(dom)?, flags)
            .map(|_| ())
    }
}
