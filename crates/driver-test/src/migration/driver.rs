//! `MigrationDriver` for the test driver: every libvirt phase (V1, V2, V3,
//! their `_params` forms, tunnelled prepare) mapped onto the source's and
//! destination's steps, and the job calls.

use super::destination::Destination;
use super::{check_incoming, check_request, SUPPORT};
use crate::connection::TestConnection;
use rvirt::driver::{Cookie, DomainRef, FinishArgs, PerformArgs, PrepareArgs};
use rvirt::migration::flags;
use rvirt::Stream;
use rvirt_hypervisor::calls::JobCalls;
use rvirt_hypervisor::destination::{self as incoming, IncomingChannel as Channel};
use rvirt_hypervisor::job::DomainJob;
use rvirt_hypervisor::phases::{self, Checked, Prepared, V3Phases};
use rvirt_hypervisor::source::{self as outgoing, Perform};
use rvirt_hypervisor::MigrationSupport;
use rvirt_hypervisor::{Request, Target};
use rvirt_util::{ErrorDomain, Result, TypedParams};
use std::sync::Arc;

impl TestConnection {
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

    /// Prepare a checked request; V1 sends the XML in the stream header.
    fn prepare_checked(
        &self,
        dom_xml: Option<&str>,
        c: Checked,
        channel: Channel,
    ) -> Result<Prepared> {
        let dest = Destination(self.state());
        let (cookie, uri, inc) =
            incoming::prepare(&dest, c.cookie_in, dom_xml, c.req, c.flags, channel)?;
        self.prepared().track(inc);
        Ok((cookie, uri))
    }
}

fn without_cookie<'a>(args: &PrepareArgs<'a>) -> PrepareArgs<'a> {
    PrepareArgs {
        cookie_in: &[],
        ..*args
    }
}

impl JobCalls for TestConnection {
    fn job_rules(&self) -> &MigrationSupport {
        &SUPPORT
    }
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
}

/// The V3 phases: the engine's source steps over the domain state, the
/// destination's over [`Destination`].
impl V3Phases for TestConnection {
    fn error_domain(&self) -> ErrorDomain {
        ErrorDomain::TEST
    }
    fn check_source(&self, flags: u32, params: &TypedParams) -> Result<Request> {
        check_request(flags, params)
    }
    fn check_incoming(&self, flags: u32, params: &TypedParams) -> Result<Request> {
        check_incoming(flags, params)
    }
    fn begin(&self, dom: &DomainRef, req: &Request, flags: u32) -> Result<(Cookie, String)> {
        outgoing::begin_api(self.state().as_ref(), dom, req, flags)
    }
    fn prepare(&self, xml: &str, c: Checked, channel: Channel) -> Result<Prepared> {
        self.prepare_checked(Some(xml), c, channel)
    }
    fn perform(&self, dom: &DomainRef, c: Checked, dconnuri: Option<&str>) -> Result<Cookie> {
        let state = self.state();
        phases::perform_any(state.as_ref(), dom, dconnuri, c.req, c.cookie_in, c.flags)
    }
    fn finish(&self, a: &FinishArgs, cancelled: bool) -> Result<(DomainRef, Cookie)> {
        let dest = Destination(self.state());
        incoming::finish(&dest, a.dname, a.cookie_in, a.flags, cancelled)
    }
    fn confirm(&self, dom: &DomainRef, cookie: &[u8], flags: u32, cancelled: bool) -> Result<()> {
        outgoing::confirm_with(self.state().as_ref(), dom, (cookie, flags), cancelled)
    }
}

impl rvirt::MigrationDriver for TestConnection {
    fn domain_migrate_prepare(&self, args: &PrepareArgs) -> Result<Prepared> {
        let req = Request::legacy(args.dname, args.bandwidth, None, args.uri_in);
        check_incoming(args.flags, &req.to_params())?;
        let c = Checked {
            req: &req,
            flags: args.flags,
            cookie_in: &[],
        };
        let channel = Channel::Tcp {
            uri_in: args.uri_in,
        };
        self.prepare_checked(None, c, channel)
    }
    fn domain_migrate_perform(&self, dom: &DomainRef, args: &PerformArgs) -> Result<()> {
        self.perform_v2(dom, args)
    }
    fn domain_migrate_finish(&self, args: &FinishArgs) -> Result<DomainRef> {
        V3Phases::finish(self, args, false).map(|(d, _)| d)
    }

    /// V2 prepares as V3 does, without the begin cookie.
    fn domain_migrate_prepare2(&self, args: &PrepareArgs) -> Result<Prepared> {
        phases::prepare3(self, &without_cookie(args))
    }
    fn domain_migrate_finish2(&self, args: &FinishArgs, retcode: i32) -> Result<DomainRef> {
        V3Phases::finish(self, args, retcode != 0).map(|(d, _)| d)
    }
    fn domain_migrate_prepare_tunnel(&self, st: &Stream, args: &PrepareArgs) -> Result<()> {
        phases::prepare_tunnel3(self, st, &without_cookie(args)).map(|_| ())
    }

    rvirt_hypervisor::migration_v3_slots!();

    rvirt_hypervisor::migration_job_slots!();
}
