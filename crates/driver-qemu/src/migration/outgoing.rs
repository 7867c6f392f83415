//! The source's phases (libvirt's `qemuMigrationSrcBegin`,
//! `qemuMigrationSrcPerform*`, `qemuMigrationSrcConfirm`): the XML and
//! cookie for the destination; the capabilities and parameters, `migrate`,
//! and QEMU followed (events, `query-migrate`) to the end, cancelled when
//! it fails or is aborted so the guest runs on here; confirm ends the
//! source QEMU, or resumes it when the migration did not complete.

use super::bitmap_merge::{self, SourceBitmaps};
use super::bitmaps;
use super::job::progress_from;
use super::mirror::Mirrors;
use super::qmp::{self, CompressCapability, MigrationInfo, Party, QueryMigrate, QueryStatus};
use super::request::SUPPORT;
use super::storage::{self, MigrateContinue};
use super::tls::{self, Endpoint, TlsObjects};
use super::tunnel;
use crate::command::vcpu_states;
use crate::driver::Driver;
use crate::lifecycle;
use crate::ops;
use rvirt::driver::DomainRef;
use rvirt::events::{lifecycle as ev, DomainEvent};
use rvirt::migration::flags;
use rvirt::types::{reason, DomainState};
use rvirt_conf::qemu_cookie::BitmapDisk;
use rvirt_conf::MigrationCookie;
use rvirt_hypervisor::job::{cookie_figures, Job};
use rvirt_hypervisor::{cookie, Jobs, MigrationSupport, Outgoing, Perform, Request, Target};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParams};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

/// How often QEMU is asked when no event came.
const POLL: Duration = Duration::from_millis(100);

/// The QEMU driver as the engine's source backend.
pub struct Source<'a> {
    pub driver: &'a Arc<Driver>,
}

fn not_running() -> Error {
    Error::operation_invalid(ErrorDomain::QEMU, "domain is not running")
}

impl rvirt_hypervisor::SourceBackend for Source<'_> {
    fn support(&self) -> &MigrationSupport {
        &SUPPORT
    }
    fn jobs(&self) -> &Jobs {
        &self.driver.migrations.jobs
    }
    fn host_uuid(&self) -> [u8; 16] {
        self.driver.host_uuid.unwrap_or_default()
    }
    fn is_paused(&self, dom: &DomainRef) -> bool {
        let state = self.driver.domains.lock().get(dom).map(|o| o.state);
        matches!(state, Ok(DomainState::Paused))
    }

    /// The definition the destination starts from (the client's
    /// `destination_xml`, else the running one, migratable) and our cookie.
    fn begin(
        &self,
        dom: &DomainRef,
        req: &Request,
        flags: u32,
    ) -> Result<(MigrationCookie, String)> {
        use rvirt::flags::xml::{MIGRATABLE, SECURE};
        let domains = self.driver.domains.lock();
        let obj = domains.get(dom)?;
        if !obj.is_active() {
            return Err(not_running());
        }
        storage::check_begin(&obj.def, req, flags)?;
        storage::check_safe(&obj.def, req, flags)?;
        self.driver.migrations.tls.check(flags)?;
        let copied = match storage::requested(flags) {
            true => storage::copied_disks(&obj.def, &req.migrate_disks)?,
            false => Vec::new(),
        };
        // libvirt sends the persistent definition with perform.
        let mut c = cookie::source_cookie(&obj.def, None, self.host_uuid(), 4096);
        // A CPU changed at start (libvirt's origCPU): the destination
        // starts QEMU with the one running here.
        if obj.config_cpu.is_some() {
            // As libvirt's virCPUDefFormat: the CPU without the NUMA cells.
            let cpu = obj.def.cpu.clone().map(|mut cpu| {
                cpu.numa.clear();
                cpu.numa_interconnects.clear();
                cpu
            });
            c.set_cpu(cpu);
        }
        // vCPUs plugged out of order: the destination must plug them in
        // theirs (qemuMigrationSrcBegin's QEMU_MIGRATION_COOKIE_CPU_HOTPLUG).
        let persist_too = flags & flags::PERSIST_DEST != 0;
        let next = obj.next_config();
        if !vcpu_states::hotplug_in_order(&obj.def)
            || (persist_too && !vcpu_states::hotplug_in_order(next))
        {
            c.mark_cpu_hotplug();
        }
        let xml = req
            .dxml
            .clone()
            .unwrap_or_else(|| obj.describe(SECURE | MIGRATABLE));
        drop(domains);
        let run = ops::running(self.driver, dom)?;
        qmp::add_capabilities(self.driver, &run, Party::Source, &mut c);
        if !copied.is_empty() {
            // The disks to copy, their sizes and bitmaps.
            let (nbd, offered) = self.driver.rt.run(async move {
                let nbd = storage::source_cookie(&run, &copied).await?;
                let offered = bitmaps::offered(&run.monitor, &copied).await?;
                Ok::<_, Error>((nbd, offered))
            })?;
            c.set_nbd(Some(nbd));
            c.set_bitmaps(offered);
        }
        Ok((c, xml))
    }

    fn perform(&self, dom: &DomainRef, out: &Outgoing, p: Perform) -> Result<MigrationCookie> {
        let run = ops::running(self.driver, dom)?;
        let (uri, tunnel) = match p.target {
            Target::Uri(uri) => (qmp::qemu_uri(&uri), None),
            Target::Stream(st) => {
                let (ours, qemu) = tunnel::socket_pair()?;
                let uri = format!("fd:{}", tunnel::FD_NAME);
                (uri, Some((st, ours, OwnedFd::from(qemu))))
            }
            Target::Connected(_) => {
                return Err(Error::new(
                    ErrorDomain::QEMU,
                    ErrorCode::ARGUMENT_UNSUPPORTED,
                    "direct migration is not supported by the QEMU driver",
                ))
            }
        };
        let (mirrors, accepted) = self.mirrors(dom, (p.req, p.flags, p.cookie_in), &uri)?;
        let full = p.flags & flags::NON_SHARED_INC == 0;
        let bitmaps = bitmap_merge::prepare(self.driver, dom, accepted.as_deref(), full)?;
        let mut caps = qmp::capabilities(p.req, p.flags, Party::Source);
        caps.push(bitmaps::capability(bitmaps.mapping.is_some()));
        let mut params = qmp::parameters(p.req, p.flags, Party::Source, &out.job.tunables())?;
        params.block_bitmap_mapping = bitmaps.mapping.clone();
        let copied = mirrors.as_ref().map(|m| m.disks().to_vec());
        let (fd, pump) = match tunnel {
            Some((st, ours, fd)) => (
                Some(fd),
                Some((tunnel::pump_to_stream(ours, st.clone()), st)),
            ),
            None => (None, None),
        };
        let plan = Transfer {
            job: out.job.clone(),
            run: run.clone(),
            wake: self.driver.migrations.waker(&dom.uuid),
            caps,
            compress: qmp::methods(p.req, p.flags).iter().any(|m| m == "mt"),
            params,
            tls: super::tls_objects(self.driver, dom, p.flags, Endpoint::Client)?,
            on_postcopy: {
                let (driver, dom) = (self.driver.clone(), dom.clone());
                Box::new(move || super::mark_postcopy(&driver, &dom, false))
            },
            uri,
            fd,
            mirrors,
            bitmaps,
        };
        // Abort reaches QEMU at once, whatever the transfer waits for.
        let handle = self.driver.rt.handle().clone();
        let cancel_run = run.clone();
        let _interrupt = out.job.on_abort(Arc::new(move || {
            let run = cancel_run.clone();
            handle.spawn(async move {
                let _ = run.monitor.execute(qapi::qmp::migrate_cancel {}).await;
            });
        }));
        let moved = ops::with_job(self.driver, dom, || self.driver.rt.run(plan.run()));
        if let Some((pumping, st)) = pump {
            // QEMU closed its end: everything it wrote is in the stream.
            let pumped = pumping.join().unwrap_or_else(|_| {
                Err(Error::internal(
                    ErrorDomain::QEMU,
                    "the tunnel pump panicked",
                ))
            });
            match (&moved, pumped) {
                (Ok(()), Ok(_)) => st.finish()?,
                (Ok(()), Err(e)) => {
                    let _ = st.abort();
                    return Err(e);
                }
                (Err(_), _) => {
                    let _ = st.abort();
                }
            }
        }
        moved?;
        let memory_kib = self.driver.domains.lock().get(dom)?.def.memory_kib;
        let mut c = cookie::ours(
            &dom.name,
            rvirt_util::uuid::Uuid::from_bytes(dom.uuid),
            self.host_uuid(),
            memory_kib * 1024,
            4096,
        );
        c.stats = cookie_figures(&out.job);
        if let Some(disks) = copied {
            // libvirt's destination stops its NBD server (and so drops the
            // exports that keep its disks writable by another user) only
            // when the perform cookie has `<nbd>`.
            let nbd = self
                .driver
                .rt
                .run(async move { storage::source_cookie(&run, &disks).await })?;
            c.set_nbd(Some(nbd));
        }
        c.persistent = persistent_definition(self.driver, dom, p.req, p.flags)?;
        Ok(c)
    }

    fn complete_postcopy(&self, dom: &DomainRef, out: &Outgoing) -> Result<()> {
        let run = ops::running(self.driver, dom)?;
        let (job, wake) = (out.job.clone(), self.driver.migrations.waker(&dom.uuid));
        self.driver.rt.run(async move {
            let mon = &run.monitor;
            let done = loop {
                let woken = wake.notified();
                let info = mon.execute(QueryMigrate {}).await?;
                job.update(|p| progress_from(&info, p));
                match info.status.as_deref() {
                    Some("completed") => break Ok(()),
                    Some("postcopy-paused" | "failed" | "cancelled") => {
                        break Err(failed_in_postcopy())
                    }
                    _ => {}
                }
                let _ = tokio::time::timeout(POLL, woken).await;
            };
            tls::disable(mon).await;
            done
        })
    }

    fn is_postcopy_failed(&self, dom: &DomainRef) -> bool {
        super::resume::is_postcopy_failed(self.driver, dom)
    }

    fn begin_resume(&self, dom: &DomainRef) -> Result<(MigrationCookie, String)> {
        super::resume::begin(self.driver, dom)
    }

    fn perform_resume(
        &self,
        dom: &DomainRef,
        out: &Outgoing,
        p: Perform,
    ) -> Result<MigrationCookie> {
        super::resume::perform(self.driver, dom, out, p)
    }

    fn postcopy_failed(&self, dom: &DomainRef) {
        super::mark_postcopy(self.driver, dom, true);
    }

    fn resume(&self, dom: &DomainRef) {
        if let Err(e) = resume_after_failure(self.driver, dom) {
            tracing::warn!(
                "cannot resume {} after the migration: {}",
                dom.name,
                e.message
            );
        }
    }

    /// The destination runs the guest: QEMU ends here (shut off,
    /// migrated) and, with UNDEFINE_SOURCE, the definition goes.
    fn stop_migrated(&self, dom: &DomainRef, flags: u32, _out: &Outgoing) -> Result<()> {
        ops::with_job(self.driver, dom, || {
            lifecycle::stop(
                self.driver,
                dom,
                reason::SHUTOFF_MIGRATED,
                ev::STOPPED_MIGRATED,
                false,
            )
        })?;
        let persistent = self
            .driver
            .domains
            .lock()
            .get(dom)
            .is_ok_and(|obj| obj.persistent);
        if flags & flags::UNDEFINE_SOURCE != 0 && persistent {
            ops::undefine(self.driver, dom)?;
        }
        Ok(())
    }

    fn keepalive(&self) -> Option<(i32, u32)> {
        Some(self.driver.migrations.keepalive)
    }

    fn job_completed(&self, dom: &DomainRef, stats: TypedParams) {
        self.driver.emit(dom, DomainEvent::JobCompleted { stats });
    }
}

impl Source<'_> {
    /// The disk mirrors of a storage migration, to the NBD server the
    /// destination's cookie names, and the bitmaps it accepted; `None`
    /// when no disk is copied.
    fn mirrors(
        &self,
        dom: &DomainRef,
        (req, flags, cookie_in): (&Request, u32, &[u8]),
        uri: &str,
    ) -> Result<(Option<Mirrors>, Option<Vec<BitmapDisk>>)> {
        if !storage::requested(flags) {
            return Ok((None, None));
        }
        let def = self.driver.domains.lock().get(dom)?.def.clone();
        let disks = storage::copied_disks(&def, &req.migrate_disks)?;
        if disks.is_empty() {
            return Ok((None, None));
        }
        let dest = cookie::decode(SUPPORT.cookie, cookie::Sender::Prepare, cookie_in)?;
        let accepted = dest.as_ref().and_then(|c| c.bitmaps()).map(<[_]>::to_vec);
        let mirrors = Mirrors::plan(disks, req, flags, dest.as_ref(), uri)?;
        Ok((Some(mirrors), accepted))
    }
}

/// What `migrate` is started with.
struct Transfer {
    job: Arc<Job>,
    run: Arc<crate::state::Running>,
    wake: Arc<tokio::sync::Notify>,
    caps: Vec<qapi::qmp::MigrationCapabilityStatus>,
    compress: bool,
    params: qmp::SetParameters,
    uri: String,
    /// Tunnelled: QEMU's end of the tunnel, handed over with `getfd`.
    fd: Option<OwnedFd>,
    /// Storage migration: the disks' mirrors, ready before `migrate`.
    mirrors: Option<Mirrors>,
    /// The dirty bitmaps that travel with the disks.
    bitmaps: SourceBitmaps,
    /// With VIR_MIGRATE_TLS: the client's credentials objects.
    tls: Option<TlsObjects>,
    /// QEMU switched to post-copy: the guest's state says so.
    on_postcopy: Box<dyn Fn() + Send + Sync>,
}

/// libvirt's error once the destination runs the guest and the rest of
/// its memory cannot reach it.
fn failed_in_postcopy() -> Error {
    Error::new(
        ErrorDomain::QEMU,
        ErrorCode::OPERATION_FAILED,
        "job 'migration out' failed in post-copy phase",
    )
}

fn failed(info: &MigrationInfo) -> Error {
    let text = match &info.error_desc {
        Some(e) => format!("job 'migration out' failed: {e}"),
        None => "job 'migration out' unexpectedly failed".to_string(),
    };
    Error::new(ErrorDomain::QEMU, ErrorCode::OPERATION_FAILED, text)
}

impl Transfer {
    /// Set up and start the migration, then follow it to its end; on any
    /// failure QEMU's migration is cancelled (the guest keeps running).
    async fn run(self) -> Result<()> {
        let mon = &self.run.monitor;
        let started = async {
            if let Some(tls) = &self.tls {
                tls.enable(mon).await?;
            }
            let caps = qapi::qmp::migrate_set_capabilities {
                capabilities: self.caps.clone(),
            };
            mon.execute(caps).await?;
            mon.execute(CompressCapability::new(self.compress)).await?;
            mon.execute(self.params.clone()).await?;
            self.bitmaps.make(mon).await?;
            if let Some(m) = &self.mirrors {
                m.start(mon, self.params.max_bandwidth.unwrap_or(0)).await?;
                m.wait_ready(mon, &self.job).await?;
            }
            if self.job.aborted() {
                return Err(self.job.aborted_error());
            }
            if let Some(fd) = &self.fd {
                mon.send_fd(tunnel::FD_NAME, fd.as_fd()).await?;
            }
            let uri = self.uri.clone();
            mon.execute(qmp::Migrate { uri }).await.map(|_| ())
        };
        let outcome = match started.await {
            Ok(()) => self.follow().await,
            Err(e) => Err(e),
        };
        if outcome.is_err() {
            let _ = mon.execute(qapi::qmp::migrate_cancel {}).await;
            if let Some(m) = &self.mirrors {
                let _ = m.finish(mon, true).await;
            }
            self.bitmaps.remove(mon).await;
        }
        // Post-copy still streams with them; confirm removes them.
        if self.tls.is_some() && !self.job.in_postcopy() {
            tls::disable(mon).await;
        }
        outcome
    }

    /// Follow QEMU (its MIGRATION events, else a poll) until the migration
    /// completed, failed or was cancelled; progress into the job.
    async fn follow(&self) -> Result<()> {
        let (job, mon) = (&self.job, &self.run.monitor);
        let mut continued = false;
        loop {
            let woken = self.wake.notified();
            let info = mon.execute(QueryMigrate {}).await?;
            job.update(|p| {
                progress_from(&info, p);
                if let Some(m) = &self.mirrors {
                    p.disk = m.progress();
                }
            });
            match info.status.as_deref() {
                Some("completed") => return Ok(()),
                // Stopped before the switch-over: the disks are final now.
                Some("pre-switchover") if !continued => {
                    self.switch_over().await?;
                    continued = true;
                }
                Some("active") if self.mirrors.is_some() => self.check_mirrors().await?,
                // The destination runs the guest: perform is done; confirm
                // waits for the last page (libvirt's
                // QEMU_MIGRATION_COMPLETED_POSTCOPY).
                Some("postcopy-active") => {
                    if job.enter_postcopy() {
                        (self.on_postcopy)();
                    }
                    return Ok(());
                }
                Some("postcopy-paused") => return Err(failed_in_postcopy()),
                Some("failed") if job.in_postcopy() => return Err(failed_in_postcopy()),
                Some("failed") if !job.aborted() => return Err(failed(&info)),
                Some("failed" | "cancelled") => return Err(job.aborted_error()),
                _ => {}
            }
            let _ = tokio::time::timeout(POLL, woken).await;
        }
    }
}

impl Transfer {
    /// The guest is stopped: the mirrors end with the destination's disks
    /// consistent, then QEMU sends the device state
    /// (`migrate-continue`).
    async fn switch_over(&self) -> Result<()> {
        let mon = &self.run.monitor;
        if let Some(m) = &self.mirrors {
            m.finish(mon, false).await?;
        }
        let go_on = MigrateContinue {
            args: serde_json::json!({"state": "pre-switchover"}),
        };
        mon.execute(go_on).await.map(|_| ())
    }

    async fn check_mirrors(&self) -> Result<()> {
        match &self.mirrors {
            Some(m) => m.check(&self.run.monitor).await,
            None => Ok(()),
        }
    }
}

/// The migration did not complete: a source QEMU left stopped by it
/// (`postmigrate`: it sent everything, the destination failed) runs again.
fn resume_after_failure(driver: &Arc<Driver>, dom: &DomainRef) -> Result<()> {
    let Ok(run) = ops::running(driver, dom) else {
        return Ok(());
    };
    ops::with_job(driver, dom, || {
        let probe = run.clone();
        let status = driver
            .rt
            .run(async move { probe.monitor.execute(QueryStatus {}).await })?;
        if !matches!(status.status.as_str(), "postmigrate" | "finish-migrate") {
            return Ok(());
        }
        crate::macvtap::set_online_for(driver, dom, true)?;
        run.expect_own(false);
        let sent = run.clone();
        if let Err(e) = driver
            .rt
            .run(async move { sent.monitor.execute(qapi::qmp::cont {}).await })
        {
            run.failed_own(false);
            return Err(e);
        }
        let now = {
            let mut domains = driver.domains.lock();
            let obj = domains.get_mut(dom)?;
            obj.state = DomainState::Running;
            obj.reason = reason::RUNNING_MIGRATION_CANCELED;
            lifecycle::save_status(driver, obj);
            obj.domain_ref()
        };
        driver.emit_lifecycle(&now, ev::RESUMED, ev::RESUMED_MIGRATED);
        Ok(())
    })
}

/// With PERSIST_DEST, the definition the destination keeps: the client's
/// `persistent_xml`, else this host's configuration of a persistent guest
/// (inactive, secure), as libvirt's perform cookie carries it.
fn persistent_definition(
    driver: &Driver,
    dom: &DomainRef,
    req: &Request,
    flags: u32,
) -> Result<Option<String>> {
    if flags & flags::PERSIST_DEST == 0 {
        return Ok(None);
    }
    if req.persist_xml.is_some() {
        return Ok(req.persist_xml.clone());
    }
    let domains = driver.domains.lock();
    let obj = domains.get(dom)?;
    Ok(obj.persistent.then(|| {
        obj.next_config().format(&rvirt_conf::FormatOptions {
            id: None,
            inactive: true,
            secure: true,
        })
    }))
}
