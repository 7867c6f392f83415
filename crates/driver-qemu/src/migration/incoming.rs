//! The destination's phases (libvirt's `qemuMigrationDstPrepare*` and
//! `qemuMigrationDstFinish`): QEMU started from the incoming definition
//! with the source's command line plus `-incoming defer`, told where to
//! listen (`migrate-incoming`) on a port of the migration range; finish
//! resumes it once the memory is in, or discards it and everything it
//! held when the migration failed.

use super::bitmaps;
use super::job::{progress_from_figures, Incoming};
use super::postcopy_in::{incoming_status, postcopy_failed, wait_postcopy_done};
use super::qmp::{self, Party, QueryStatus};
use super::request::SUPPORT;
use super::storage::{self, CopiedDisk, IncomingStorage, NbdListen};
use super::tls::{self, Endpoint};
use super::tunnel;
use crate::command;
use crate::driver::Driver;
use crate::lifecycle::{self, accel_for, emulator};
use crate::ops;
use parking_lot::Mutex;
use rvirt::driver::DomainRef;
use rvirt::events::{lifecycle as ev, DomainEvent};
use rvirt::job::operation;
use rvirt::migration::flags;
use rvirt::types::{reason, DomainState};
use rvirt::Stream;
use rvirt_conf::MigrationCookie;
use rvirt_conf::{DomainDef, FormatOptions};
use rvirt_hypervisor::destination::{
    DestinationBackend, IncomingChannel, IncomingRequest, Prepared,
};
use rvirt_hypervisor::incoming::{IncomingState, IncomingStatus, Registry};
use rvirt_hypervisor::job::{cookie_figures, DomainJob, Job, JobTimes, Phase, Progress, Tunables};
use rvirt_hypervisor::resume::FailedIncoming;
use rvirt_hypervisor::times::now_ms;
use rvirt_hypervisor::{cookie, MigrationSupport, Request};
use rvirt_util::object_files::ObjectFiles;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, Uri};
use std::net::{Ipv6Addr, TcpListener};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

/// How long finish waits for QEMU to load the last of the state after
/// the source reported completion.
const LOAD_WAIT: Duration = Duration::from_secs(30);

/// Where QEMU listens and what the source is told.
pub(super) struct Listener {
    /// The port taken from the range (released when the job ends).
    pub allocated: Option<u16>,
    /// `-incoming`/`migrate-incoming`'s `tcp:ADDR:PORT`.
    pub incoming: String,
    /// The URI the source migrates to, when the client did not name one
    /// with a port.
    pub uri_out: Option<String>,
}

fn invalid(text: String) -> Error {
    Error::invalid_arg(ErrorDomain::QEMU, text)
}

/// `[addr]` for an IPv6 literal, as QEMU's and libvirt's URIs write it.
fn enclose(addr: &str) -> String {
    if addr.contains(':') && !addr.starts_with('[') {
        format!("[{addr}]")
    } else {
        addr.to_string()
    }
}

/// Listen on `::` where this host has IPv6 (QEMU then takes IPv4 too),
/// else on 0.0.0.0, as libvirt does.
fn any_address() -> &'static str {
    match TcpListener::bind((Ipv6Addr::UNSPECIFIED, 0)) {
        Ok(_) => "::",
        Err(_) => "0.0.0.0",
    }
}

/// Where incoming QEMUs listen: the client's `listen_address`, else
/// `migration_address`, else any.
fn listen_address(driver: &Driver, req: &Request) -> String {
    req.listen_address
        .clone()
        .or_else(|| driver.migrations.address.clone())
        .unwrap_or_else(|| any_address().to_string())
}

/// libvirt's `qemuMigrationDstPrepareDirect` URI rules: no URI → a port of
/// the range and `tcp:HOST:PORT` with this host's name (or
/// `migration_host`); a URI without port → a port of the range added to
/// it; a URI with one → that port.
pub(super) fn plan_listener(driver: &Driver, req: &Request) -> Result<Listener> {
    let reg = &driver.migrations;
    let listen = listen_address(driver, req);
    let incoming = |port: u16| format!("tcp:{}:{port}", enclose(&listen));
    let Some(uri_in) = req.uri.as_deref() else {
        let host = match &reg.host {
            Some(h) => h.clone(),
            None => rvirt_util::host::hostname()?,
        };
        if host.starts_with("localhost") {
            return Err(Error::internal(
                ErrorDomain::QEMU,
                "hostname on destination resolved to localhost, but migration requires an FQDN",
            ));
        }
        let port = reg.ports.acquire()?;
        return Ok(Listener {
            allocated: Some(port),
            incoming: incoming(port),
            uri_out: Some(format!("tcp:{}:{port}", enclose(&host))),
        });
    };
    // libvirt also accepts the old `tcp:HOST[:PORT]` form.
    let well_formed = uri_in.contains("://");
    let parsed = Uri::parse(&if well_formed {
        uri_in.to_string()
    } else {
        uri_in.replacen(':', "://", 1)
    })?;
    match parsed.scheme.as_str() {
        "" => {
            return Err(invalid(format!(
                "missing scheme in migration URI: {uri_in}"
            )))
        }
        "tcp" => {}
        other => {
            return Err(Error::new(
                ErrorDomain::QEMU,
                ErrorCode::ARGUMENT_UNSUPPORTED,
                format!("unsupported scheme {other} in migration URI {uri_in}"),
            ))
        }
    }
    let host = parsed
        .server
        .as_deref()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| invalid(format!("missing host in migration URI: {uri_in}")))?;
    if let Some(port) = parsed.port.filter(|p| *p != 0) {
        return Ok(Listener {
            allocated: None,
            incoming: incoming(port),
            uri_out: None,
        });
    }
    let port = reg.ports.acquire()?;
    let uri_out = if well_formed {
        format!("tcp://{}:{port}", enclose(host))
    } else {
        format!("{uri_in}:{port}")
    };
    Ok(Listener {
        allocated: Some(port),
        incoming: incoming(port),
        uri_out: Some(uri_out),
    })
}

/// The incoming definition, completed as a define would complete it and
/// renamed when the client asked for another name.
fn incoming_definition(driver: &Driver, xml: &str, req: &Request) -> Result<DomainDef> {
    let mut def = DomainDef::parse(xml)?;
    if let Some(name) = &req.dname {
        def.name = name.clone();
    }
    let caps = driver.caps(&emulator(&def))?;
    accel_for(&def, &caps)?;
    command::prepare_definition(&mut def, &caps)?;
    Ok(def)
}

/// This host's cookie about guest `dom`.
pub(super) fn our_cookie(driver: &Driver, dom: &DomainRef, memory_kib: u64) -> MigrationCookie {
    let uuid = rvirt_util::uuid::Uuid::from_bytes(dom.uuid);
    let host = driver.host_uuid.unwrap_or_default();
    cookie::ours(&dom.name, uuid, host, memory_kib * 1024, 4096)
}

/// The destination's hypervisor part for the shared engine
/// ([`rvirt_hypervisor::destination`]), which keeps the registry of
/// prepared migrations, checks the source's cookie and discards on failure.
pub struct Destination<'a> {
    pub driver: &'a Arc<Driver>,
}

impl DestinationBackend for Destination<'_> {
    type Incoming = Incoming;

    fn support(&self) -> &MigrationSupport {
        &SUPPORT
    }
    fn host_uuid(&self) -> [u8; 16] {
        self.driver.host_uuid.unwrap_or_default()
    }
    fn registry(&self) -> &Registry<Incoming> {
        &self.driver.migrations.incoming
    }
    fn prepare(&self, r: IncomingRequest) -> Result<Prepared<Incoming>> {
        prepare(self.driver, r)
    }
    fn discard(&self, inc: &Arc<Incoming>) {
        let why = inc.failure.lock().take();
        discard(self.driver, inc, why.as_deref().unwrap_or(DISCARDED));
    }
    fn finish(&self, inc: &Arc<Incoming>, cookie_in: &[u8], flags: u32) -> Result<Finished> {
        finish(self.driver, inc, cookie_in, flags).inspect_err(|e| {
            *inc.failure.lock() = Some(e.message.clone());
        })
    }
    fn take_saved_error(&self, name: &str) -> Option<Error> {
        self.driver.migrations.take_error(name)
    }
    fn failed_incoming(&self, r: &IncomingRequest) -> Result<FailedIncoming> {
        super::resume::failed_incoming(self.driver, r)
    }
    fn prepare_resume(
        &self,
        dom: &DomainRef,
        job: (&Arc<Job>, &Arc<DomainJob>),
        r: IncomingRequest,
    ) -> Result<Prepared<Incoming>> {
        super::resume::prepare(self.driver, dom, job, r)
    }
    fn finish_resume(
        &self,
        inc: &Arc<Incoming>,
        _cookie_in: &[u8],
        _flags: u32,
    ) -> Result<Finished> {
        super::resume::finish(self.driver, inc).inspect_err(|e| {
            *inc.failure.lock() = Some(e.message.clone());
        })
    }
}

/// What finish gives the engine: the guest here and the cookie to answer.
type Finished = (DomainRef, MigrationCookie);

/// The job's record of a migration discarded without a failure of its
/// own (cancelled by the source, or its client went away).
const DISCARDED: &str = "job 'migration in' canceled";

/// Prepare: QEMU waiting for the memory; the migration, our cookie and
/// the URI the source should migrate to.
fn prepare(driver: &Arc<Driver>, r: IncomingRequest) -> Result<Prepared<Incoming>> {
    reap_gone(driver);
    let (req, flags) = (r.req, r.flags);
    let xml = r
        .dom_xml
        .ok_or_else(|| Error::invalid_arg(ErrorDomain::QEMU, "no domain XML passed"))?;
    driver.migrations.tls.check(flags)?;
    let def = incoming_definition(driver, xml, req)?;
    cookie::check_same_guest(r.cookie, Some(&def), ErrorDomain::QEMU)?;
    // A new migration of this guest: an old one's saved error is stale.
    driver.migrations.take_error(&def.name);
    let tunnel = match r.channel {
        IncomingChannel::Tcp { .. } => None,
        IncomingChannel::Stream(st) => Some(st),
        IncomingChannel::Inline => {
            return Err(Error::new(
                ErrorDomain::QEMU,
                ErrorCode::ARGUMENT_UNSUPPORTED,
                "direct migration is not supported by the QEMU driver",
            ))
        }
    };
    let listener = match tunnel {
        Some(_) => Listener {
            allocated: None,
            incoming: format!("fd:{}", tunnel::FD_NAME),
            uri_out: None,
        },
        None => plan_listener(driver, req)?,
    };
    let release = |l: &Listener| {
        if let Some(p) = l.allocated {
            driver.migrations.ports.release(p);
        }
    };
    let plan = match plan_storage(driver, &def, r.cookie, (req, flags), tunnel.is_some()) {
        Ok(plan) => plan,
        Err(e) => {
            release(&listener);
            return Err(e);
        }
    };
    let drop_storage = |s: &IncomingStorage| s.discard(&driver.migrations.ports);
    let source_cpu = r.cookie.and_then(|c| c.cpu().cloned());
    let (dom, memory_kib) = match admit(driver, def) {
        Ok(admitted) => admitted,
        Err(e) => {
            release(&listener);
            drop_storage(&plan.state);
            return Err(e);
        }
    };
    let started = ops::with_job(driver, &dom, || {
        lifecycle::start_incoming(driver, &dom, "defer", source_cpu.clone())
    });
    if let Err(e) = started {
        forget_failed(driver, &dom);
        release(&listener);
        drop_storage(&plan.state);
        return Err(e);
    }
    let slot = driver.migrations.jobs.slot(&dom.uuid);
    let job = Job::new(
        operation::MIGRATION_IN,
        ErrorDomain::QEMU,
        Phase::Prepare,
        flags & flags::POSTCOPY != 0,
        slot.tunables(),
    );
    let inc = Arc::new(Incoming {
        dom: dom.clone(),
        status: IncomingStatus::default(),
        failure: Mutex::default(),
        job: job.clone(),
        slot: slot.clone(),
        run: ops::running(driver, &dom)?,
        port: listener.allocated,
        storage: IncomingStorage {
            serving: plan.server.is_some(),
            ..plan.state
        },
        persistent: req
            .persist_xml
            .clone()
            .or_else(|| r.cookie.and_then(|c| c.persistent.clone())),
    });
    if let Err(e) = slot.begin(job, &dom.name, |_| {}) {
        discard_run(driver, &dom, listener.allocated);
        drop_storage(&inc.storage);
        return Err(e);
    }
    // The source's bitmaps that travel with the disks.
    let offered = (r.cookie.and_then(|c| c.bitmaps())).filter(|_| plan.server.is_some());
    let accepted = match offered.map(|o| bitmaps::prepare(driver, &dom, &inc.run, o)) {
        Some(Err(e)) => {
            discard(driver, &inc, &e.message);
            return Err(e);
        }
        Some(Ok(accepted)) => accepted,
        None => Vec::new(),
    };
    let uri = listener.incoming.clone();
    let serve = plan.server.clone();
    if let Err(e) = listen(driver, &inc, (req, flags), (uri, serve), tunnel) {
        discard(driver, &inc, &e.message);
        return Err(e);
    }
    let mut ours = our_cookie(driver, &dom, memory_kib);
    qmp::add_capabilities(driver, &inc.run, Party::Destination, &mut ours);
    ours.set_nbd(
        plan.server
            .as_ref()
            .map(|(l, _)| storage::destination_cookie(l)),
    );
    ours.set_bitmaps(accepted);
    Ok((inc, ours, listener.uri_out))
}

/// A storage migration's destination part: the images created, and the
/// NBD server's address and disks.
struct StoragePlan {
    state: IncomingStorage,
    server: Option<(NbdListen, Vec<CopiedDisk>)>,
}

/// With NON_SHARED_DISK/INC and the source's `<nbd>`: the disks to copy,
/// their missing images created, and where the NBD server will listen.
fn plan_storage(
    driver: &Driver,
    def: &DomainDef,
    source: Option<&MigrationCookie>,
    (req, flags): (&Request, u32),
    tunnelled: bool,
) -> Result<StoragePlan> {
    if tunnelled && storage::requested(flags) {
        // libvirt 9.0's source reports this in begin but goes on (its
        // check lacks a return) and then mirrors to no host; refused here,
        // before QEMU starts, with the text its begin meant to stop with.
        return Err(storage::tunnelled_copy_unsupported());
    }
    let nbd = source.and_then(|c| c.nbd());
    let (Some(nbd), true) = (nbd, storage::requested(flags)) else {
        return Ok(StoragePlan {
            state: IncomingStorage::default(),
            server: None,
        });
    };
    let disks = storage::copied_disks(def, &req.migrate_disks)?;
    if disks.is_empty() {
        return Ok(StoragePlan {
            state: IncomingStorage::default(),
            server: None,
        });
    }
    let incremental = flags & flags::NON_SHARED_INC != 0;
    let created = storage::precreate(def, nbd, &req.migrate_disks, incremental)?;
    let listen = listen_address(driver, req);
    match storage::plan_server(req, &listen, &driver.migrations.ports) {
        Ok((server, port)) => Ok(StoragePlan {
            state: IncomingStorage {
                serving: false,
                port,
                created,
            },
            server: Some((server, disks)),
        }),
        Err(e) => {
            storage::remove_created(&created);
            Err(e)
        }
    }
}

/// The destination's capabilities and parameters, the NBD server of a
/// storage migration, then `migrate-incoming`: QEMU listens from here on
/// (tunnelled: reads the socket whose other end the stream feeds).
fn listen(
    driver: &Driver,
    inc: &Incoming,
    (req, flags): (&Request, u32),
    (uri, nbd): (String, Option<(NbdListen, Vec<CopiedDisk>)>),
    tunnel: Option<&Stream>,
) -> Result<()> {
    let caps = qmp::capabilities(req, flags, Party::Destination);
    let params = qmp::parameters(req, flags, Party::Destination, &Tunables::default())?;
    let (ours, fd) = match tunnel {
        Some(_) => {
            let (ours, qemu) = tunnel::socket_pair()?;
            (Some(ours), Some(OwnedFd::from(qemu)))
        }
        None => (None, None),
    };
    let run = inc.run.clone();
    let tls = super::tls_objects(driver, &inc.dom, flags, Endpoint::Server)?;
    driver.rt.run(async move {
        let mon = &run.monitor;
        // Before QEMU listens (`qemuMigrationDstPrepareActive`).
        if let Some(tls) = &tls {
            tls.enable(mon).await?;
        }
        mon.execute(qapi::qmp::migrate_set_capabilities { capabilities: caps })
            .await?;
        mon.execute(params).await?;
        if let Some((server, disks)) = nbd {
            let creds = tls.is_some().then_some(tls::ALIAS);
            storage::start_server(&run, (&server, creds), &disks).await?;
        }
        if let Some(fd) = &fd {
            mon.send_fd(tunnel::FD_NAME, fd.as_fd()).await?;
        }
        mon.execute(qmp::MigrateIncoming { uri }).await.map(|_| ())
    })?;
    match (tunnel, ours) {
        (Some(st), Some(ours)) => st.attach(Arc::new(tunnel::into_qemu(ours))),
        _ => Ok(()),
    }
}

/// Admit the incoming definition as the domain about to run here.
fn admit(driver: &Driver, def: DomainDef) -> Result<(DomainRef, u64)> {
    let mut domains = driver.domains.lock();
    domains.admit(&def, true)?;
    let memory = def.memory_kib;
    Ok((domains.store(def, true).domain_ref(), memory))
}

/// A start that failed: a guest that exists only for this migration goes,
/// a persistent one gets its configuration back.
fn forget_failed(driver: &Driver, dom: &DomainRef) {
    let mut domains = driver.domains.lock();
    if let Ok(obj) = domains.get_mut(dom) {
        if obj.is_active() {
            return;
        }
        if !obj.persistent {
            domains.remove(&dom.uuid);
        } else if let Some(config) = obj.new_def.take() {
            obj.def = config;
        }
    }
}

/// Kill the incoming QEMU (its run files go with it, a transient domain
/// too) and free its port.
fn discard_run(driver: &Arc<Driver>, dom: &DomainRef, port: Option<u16>) {
    let stopped = ops::with_job(driver, dom, || {
        lifecycle::stop(
            driver,
            dom,
            reason::SHUTOFF_FAILED,
            ev::STOPPED_FAILED,
            false,
        )
    });
    if let Err(e) = stopped {
        tracing::warn!(
            "cannot stop the incoming QEMU of {}: {}",
            dom.name,
            e.message
        );
    }
    forget_failed(driver, dom);
    if let Some(p) = port {
        driver.migrations.ports.release(p);
    }
}

/// End an incoming migration that will not complete: nothing stays.
/// Once only: a discarded or finished migration is left as it is.
fn discard(driver: &Arc<Driver>, inc: &Arc<Incoming>, why: &str) {
    let Some(was) = inc.status.discard() else {
        return;
    };
    if was == IncomingState::PostCopy {
        // The guest runs only here now, part of its memory still on the
        // source: killing it would lose it (libvirt's
        // `qemuMigrationDstPostcopyFailed`). Its job stays for a resume.
        tracing::warn!("incoming migration of {}: {why}", inc.dom.name);
        inc.job.fail_postcopy();
        postcopy_failed(driver, &inc.dom);
        if let Some(p) = inc.port {
            driver.migrations.ports.release(p);
        }
    } else {
        inc.slot.end(&inc.job, false, Some(why));
        discard_run(driver, &inc.dom, inc.port);
    }
    inc.storage.discard(&driver.migrations.ports);
}

/// Incoming migrations whose QEMU is gone (it exited on a failed load, or
/// was killed; its guest is shut off already): their job ends as failed
/// and their port is free again.
pub fn reap_gone(driver: &Driver) {
    let gone = driver
        .migrations
        .incoming
        .take_where(|i| !crate::process::is_alive(i.run.pid));
    for inc in gone {
        if inc.status.discard().is_none() {
            continue;
        }
        inc.slot
            .end(&inc.job, false, Some("the incoming QEMU exited"));
        if let Some(p) = inc.port {
            driver.migrations.ports.release(p);
        }
        inc.storage.discard(&driver.migrations.ports);
    }
}

/// Finish: once QEMU has loaded everything, the guest runs here (paused
/// with VIR_MIGRATE_PAUSED), persistent with PERSIST_DEST; on error the
/// engine discards the migration.
fn finish(driver: &Arc<Driver>, inc: &Incoming, cookie_in: &[u8], flags: u32) -> Result<Finished> {
    let dom = inc.dom.clone();
    let received = now_ms();
    let source = cookie::decode(SUPPORT.cookie, cookie::Sender::Perform, cookie_in)?;
    // libvirt sends the persistent definition with perform, not begin.
    let persistent =
        (source.as_ref().and_then(|c| c.persistent.as_deref())).or(inc.persistent.as_deref());
    inc.job
        .advance(Phase::Finish)
        .and_then(|_| wait_loaded(driver, &dom, inc))
        .map(|_| stop_nbd(driver, inc))
        .and_then(|_| take_over(driver, &dom, inc, flags, persistent))
        .and_then(|_| wait_postcopy_done(driver, &dom, inc, flags))
        // After post-copy has pulled the last page: its stream uses them.
        .map(|_| end_tls(driver, inc, flags))?;
    let figures = source.map(|c| c.stats).unwrap_or_default();
    inc.job.update(|p| {
        progress_from_figures(&figures, p);
        source_times(&figures, received, p);
    });
    let stats = inc.slot.end(&inc.job, true, None);
    if inc.status.get() == IncomingState::PostCopy || inc.job.is_postcopy_failed() {
        // As libvirt's `qemuMigrationDstComplete`: after post-copy the
        // figures would be obsolete, so no completed job remains here.
        inc.slot.forget_completed();
    }
    if let Some(p) = inc.port {
        driver.migrations.ports.release(p);
    }
    let (dom, memory_kib) = {
        let domains = driver.domains.lock();
        let obj = domains.get(&dom)?;
        (obj.domain_ref(), obj.def.memory_kib)
    };
    driver.emit(
        &dom,
        DomainEvent::JobCompleted {
            stats: stats.clone(),
        },
    );
    let mut ours = our_cookie(driver, &dom, memory_kib);
    ours.stats = cookie_figures(&inc.job);
    Ok((dom, ours))
}

/// libvirt's destination reports the whole job with the source's clock:
/// elapsed since the source started it, and the downtime from the
/// source's stop until now, the guest running here; both also without
/// the delta its perform cookie measured (`qemuMigrationDstFinishFresh`).
fn source_times(figures: &[(String, u64)], received: u64, p: &mut Progress) {
    let times = JobTimes::from_source(figures, received);
    if times.started.is_some() {
        p.times = times;
        p.downtime_ms = times.downtime_until_now().or(p.downtime_ms);
    }
}

/// The disks are in: the NBD server stops (`qemuMigrationDstStopNBDServer`;
/// a failure is only worth a warning) and its port is free again.
fn stop_nbd(driver: &Driver, inc: &Incoming) {
    if !inc.storage.serving {
        return;
    }
    let run = inc.run.clone();
    if let Err(e) = driver
        .rt
        .run(async move { storage::stop_server(&run).await })
    {
        tracing::warn!("Unable to stop NBD server: {}", e.message);
    }
    if let Some(p) = inc.storage.port {
        driver.migrations.ports.release(p);
    }
}

/// The memory is in: the TLS credentials go from the guest's QEMU.
fn end_tls(driver: &Driver, inc: &Incoming, flags: u32) {
    if flags & flags::TLS != 0 {
        let run = inc.run.clone();
        driver
            .rt
            .run(async move { tls::disable(&run.monitor).await });
    }
}

/// Wait until QEMU left `inmigrate` (it then holds the whole guest,
/// stopped); a QEMU that fails the load exits, which is an error here.
fn wait_loaded(driver: &Driver, dom: &DomainRef, inc: &Incoming) -> Result<()> {
    let (run, wake) = (inc.run.clone(), driver.migrations.waker(&dom.uuid));
    driver.rt.run(async move {
        let deadline = tokio::time::Instant::now() + LOAD_WAIT;
        loop {
            let woken = wake.notified();
            let status = run.monitor.execute(QueryStatus {}).await?.status;
            match status.as_str() {
                "inmigrate" => {}
                "paused" | "running" | "prelaunch" => return Ok(()),
                other => {
                    return Err(Error::new(
                        ErrorDomain::QEMU,
                        ErrorCode::OPERATION_FAILED,
                        format!("job 'migration in' failed: guest state is '{other}'"),
                    ))
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorDomain::QEMU,
                    ErrorCode::OPERATION_TIMEOUT,
                    "job 'migration in' timed out waiting for the incoming state",
                ));
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), woken).await;
        }
    })
}

/// The guest is ours now: persistent if asked, running unless PAUSED.
fn take_over(
    driver: &Arc<Driver>,
    dom: &DomainRef,
    inc: &Incoming,
    flags: u32,
    persistent: Option<&str>,
) -> Result<()> {
    if flags & flags::PERSIST_DEST != 0 {
        persist(driver, dom, persistent)?;
    }
    let paused = flags & flags::PAUSED != 0;
    // Post-copy under way: the guest runs here from now on, whatever
    // happens to the rest of its memory.
    let in_postcopy = flags & flags::POSTCOPY != 0
        && incoming_status(driver, inc)? == "postcopy-active"
        && inc.status.enter_postcopy();
    if !paused {
        crate::macvtap::set_online_for(driver, dom, true)?;
        let run = inc.run.clone();
        run.expect_own(false);
        let sent = run.clone();
        let resumed = driver
            .rt
            .run(async move { sent.monitor.execute(qapi::qmp::cont {}).await });
        if let Err(e) = resumed {
            run.failed_own(false);
            return Err(e);
        }
    }
    let (state, why, event, detail) = if paused {
        let s = (DomainState::Paused, reason::PAUSED_USER);
        (s.0, s.1, ev::SUSPENDED, ev::SUSPENDED_PAUSED)
    } else if in_postcopy {
        let s = (DomainState::Running, reason::RUNNING_POSTCOPY);
        (s.0, s.1, ev::RESUMED, ev::RESUMED_POSTCOPY)
    } else {
        let s = (DomainState::Running, reason::RUNNING_MIGRATED);
        (s.0, s.1, ev::RESUMED, ev::RESUMED_MIGRATED)
    };
    // The guest is this host's now: a restarted daemon keeps it.
    inc.run
        .incoming
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let now = {
        let mut domains = driver.domains.lock();
        let obj = domains.get_mut(dom)?;
        obj.state = state;
        obj.reason = why;
        lifecycle::save_status(driver, obj);
        obj.domain_ref()
    };
    driver.emit_lifecycle(&now, event, detail);
    Ok(())
}

/// PERSIST_DEST: the definition the source sent (or the running one)
/// written as this host's configuration (`qemuMigrationDstPersist`).
fn persist(driver: &Driver, dom: &DomainRef, xml: Option<&str>) -> Result<()> {
    let (now, existed) = {
        let mut domains = driver.domains.lock();
        let obj = domains.get_mut(dom)?;
        let mut config = match xml {
            Some(x) => DomainDef::parse(x)?,
            None => obj.def.clone(),
        };
        config.name = obj.def.name.clone();
        let text = config.format(&FormatOptions {
            id: None,
            inactive: true,
            secure: false,
        });
        crate::files::write_atomic(&driver.dirs.config_file(&config.name), text.as_bytes())?;
        let existed = obj.persistent;
        obj.persistent = true;
        obj.new_def = xml.is_some().then_some(config);
        (obj.domain_ref(), existed)
    };
    driver.emit_defined(&now, existed);
    Ok(())
}
