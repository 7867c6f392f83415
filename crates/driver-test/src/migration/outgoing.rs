//! The test driver's source end: the hypervisor part of begin (checks,
//! the XML for the destination), perform (the simulated memory stream
//! over TCP, a tunnelled stream or a relocation connection) and confirm
//! (drop the guest, or resume it). The phases themselves, the job and
//! what happens on failure are the shared engine's
//! (`rvirt_hypervisor::source`).

use super::channels::ChannelSinks;
use super::incoming::migratable_xml;
use super::memory::{seed_for, FaultAction, GuestConfig, GuestMemory, Phase, PAGE_SIZE};
use super::sender::{self, emit, SendPlan};
use super::transport::{Sink, StreamSink, TcpSink};
use super::wire::{Header, Message};
use super::{injected, SUPPORT};
use crate::state::{parse_domain, TestState};
use rvirt::driver::DomainRef;
use rvirt::events::{lifecycle, DomainEvent};
use rvirt::migration::flags;
use rvirt::types::{reason, DomainState};
use rvirt_conf::{DomainDef, MigrationCookie};
use rvirt_hypervisor::job::{stats_to_pairs, InterruptGuard, Job};
use rvirt_hypervisor::{cookie, Jobs, MigrationSupport, Outgoing, Perform, Request, Target};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParams};
use std::time::{Duration, Instant};

/// QEMU's auto-converge defaults (cpu-throttle-initial / -increment).
pub const AC_INITIAL: u32 = 20;
pub const AC_INCREMENT: u32 = 10;

struct Snapshot {
    def: DomainDef,
    persistent_def: DomainDef,
    active: bool,
    persistent: bool,
}

fn snapshot(state: &TestState, dom: &DomainRef) -> Result<Snapshot> {
    let inner = state.lock();
    let obj = inner.domains.get(dom)?;
    Ok(Snapshot {
        def: obj.def.clone(),
        persistent_def: obj.persistent_def().clone(),
        active: obj.is_active(),
        persistent: obj.persistent,
    })
}

/// Apply a delay or failure fault of `phase`; delays stay abortable.
fn fault(cfg: &GuestConfig, phase: Phase, job: Option<&Job>) -> Result<()> {
    match cfg.fault(phase) {
        Some(FaultAction::Fail) => Err(injected(phase)),
        Some(FaultAction::Delay(ms)) => {
            let until = Instant::now() + Duration::from_millis(ms);
            while Instant::now() < until {
                if let Some(j) = job {
                    j.check_abort()?;
                }
                std::thread::sleep(Duration::from_millis(5).min(until - Instant::now()));
            }
            match job {
                Some(j) => j.check_abort(),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// Resume a guest the migration paused (`RUNNING_MIGRATION_CANCELED`).
fn restore(state: &TestState, dom: &DomainRef) {
    let _ = state.with(|inner| {
        let obj = inner.domains.get_mut(dom)?;
        if obj.state == DomainState::Paused && obj.reason == reason::PAUSED_MIGRATION {
            obj.set_state(DomainState::Running, reason::RUNNING_MIGRATION_CANCELED);
            let r = obj.domain_ref();
            inner.emit_lifecycle(r, lifecycle::RESUMED, lifecycle::RESUMED_MIGRATED);
        }
        Ok(())
    });
}

fn persistent_xml(snap: &Snapshot, req: &Request, flags: u32) -> Option<String> {
    (flags & flags::PERSIST_DEST != 0).then(|| {
        req.persist_xml
            .clone()
            .unwrap_or_else(|| migratable_xml(&snap.persistent_def))
    })
}

fn cookie_for(state: &TestState, snap: &Snapshot, req: &Request, flags: u32) -> MigrationCookie {
    cookie::source_cookie(
        &snap.def,
        persistent_xml(snap, req, flags),
        state.migration.host_uuid(),
        PAGE_SIZE as u64,
    )
}

/// The transport perform writes the memory stream to, with the page
/// channels of a parallel migration.
fn open_sink(
    target: Target,
    connections: Option<u32>,
) -> Result<(Box<dyn Sink>, Option<ChannelSinks>)> {
    Ok(match target {
        Target::Uri(uri) => {
            let mut main = TcpSink::connect(&uri)?;
            let channels = match connections {
                Some(count) => {
                    main.send(&Message::Channel { index: 0, count }.to_bytes())?;
                    Some(ChannelSinks::connect(&uri, count)?)
                }
                None => None,
            };
            (Box::new(main), channels)
        }
        _ if connections.is_some() => {
            return Err(Error::new(
                ErrorDomain::TEST,
                ErrorCode::ARGUMENT_UNSUPPORTED,
                "parallel migration needs a tcp:// migration URI",
            ))
        }
        Target::Stream(st) => (Box::new(StreamSink { stream: st }), None),
        Target::Connected(conn) => (Box::new(TcpSink { conn }), None),
    })
}

/// What the memory stream says about itself.
fn send_plan(dom: &DomainRef, snap: &Snapshot, cfg: &GuestConfig, p: &Perform) -> Result<SendPlan> {
    let (flags, req) = (p.flags, p.req);
    let mt = rvirt_hypervisor::rules::mt_of(ErrorDomain::TEST, req)?;
    let connections = rvirt_hypervisor::rules::connections_of(ErrorDomain::TEST, flags, req)?;
    Ok(SendPlan {
        flags,
        header: Header {
            name: snap.def.name.clone(),
            uuid: dom.uuid,
            memory_bytes: snap.def.memory_kib * 1024,
            page_size: PAGE_SIZE as u32,
            domain_xml: p.xml_in_header.then(|| match &req.dxml {
                Some(x) => x.clone(),
                None => migratable_xml(&snap.def),
            }),
            compressed: mt.is_some(),
            channels: connections.unwrap_or(0),
        },
        ac_initial: req.ac_initial.unwrap_or(AC_INITIAL),
        ac_increment: req.ac_increment.unwrap_or(AC_INCREMENT),
        corrupt: cfg.corrupts(),
        mt,
    })
}

impl rvirt_hypervisor::SourceBackend for TestState {
    fn support(&self) -> &MigrationSupport {
        &SUPPORT
    }
    fn jobs(&self) -> &Jobs {
        self.migration.jobs()
    }
    fn host_uuid(&self) -> [u8; 16] {
        self.migration.host_uuid()
    }
    fn is_paused(&self, dom: &DomainRef) -> bool {
        self.lock()
            .domains
            .get(dom)
            .is_ok_and(|o| o.state == DomainState::Paused)
    }

    fn check_request(&self, flags: u32, params: &TypedParams) -> Result<Request> {
        super::check_request(flags, params)
    }

    fn perform_direct(
        &self,
        dom: &DomainRef,
        uri: &str,
        req: &Request,
        flags: u32,
    ) -> Option<Result<()>> {
        uri.starts_with("test+reloc://")
            .then(|| super::reloc::perform_direct(self, dom, uri, req, flags))
    }

    fn begin(
        &self,
        dom: &DomainRef,
        req: &Request,
        flags: u32,
    ) -> Result<(MigrationCookie, String)> {
        let snap = snapshot(self, dom)?;
        if flags & flags::OFFLINE != 0 {
            if !snap.persistent {
                return Err(Error::operation_invalid(
                    ErrorDomain::TEST,
                    "cannot migrate a transient domain offline",
                ));
            }
        } else if !snap.active {
            return Err(Error::operation_invalid(
                ErrorDomain::TEST,
                "domain is not running",
            ));
        }
        let base = if flags & flags::OFFLINE != 0 {
            &snap.persistent_def
        } else {
            &snap.def
        };
        let xml = match &req.dxml {
            Some(x) => {
                let new = parse_domain(x)?;
                base.check_abi_stability(&new)?;
                migratable_xml(&new)
            }
            None => migratable_xml(base),
        };
        let cfg = GuestConfig::from_def(&snap.def)?;
        fault(&cfg, Phase::Begin, None)?;
        Ok((cookie_for(self, &snap, req, flags), xml))
    }

    fn perform(&self, dom: &DomainRef, out: &Outgoing, p: Perform) -> Result<MigrationCookie> {
        let snap = snapshot(self, dom)?;
        let cfg = GuestConfig::from_def(&snap.def)?;
        fault(&cfg, Phase::Perform, Some(&out.job))?;
        let mut cookie = cookie_for(self, &snap, p.req, p.flags);
        if p.flags & flags::OFFLINE != 0 {
            return Ok(cookie);
        }
        if !snap.active {
            return Err(Error::operation_invalid(
                ErrorDomain::TEST,
                "domain is not running",
            ));
        }
        let plan = send_plan(dom, &snap, &cfg, &p)?;
        let connections = (plan.header.channels > 0).then_some(plan.header.channels);
        let (mut sink, mut channels) = open_sink(p.target, connections)?;
        let mut mem = match GuestMemory::new(seed_for(&dom.uuid), plan.header.memory_bytes, &cfg) {
            Ok(m) => m,
            Err(e) => {
                sink.abort(&e.message);
                return Err(e);
            }
        };
        // Abort must reach a sender blocked in a write or in the wait for the
        // destination's verdict: shutting the sockets down makes both return.
        let _interrupts: Vec<InterruptGuard> = [
            sink.interrupter(),
            channels.as_ref().and_then(|c| c.interrupter()),
        ]
        .into_iter()
        .flatten()
        .map(|f| out.job.on_abort(f))
        .collect();
        let transfer = sender::Transfer {
            state: self,
            dom,
            job: &out.job,
            mem: &mut mem,
            sink: sink.as_mut(),
            channels: channels.as_mut(),
            plan: &plan,
        };
        let outcome = match sender::send(transfer) {
            Ok(o) => o,
            Err(e) => {
                let e = if out.job.aborted() {
                    out.job.aborted_error()
                } else {
                    e
                };
                sink.abort(&e.message);
                return Err(e);
            }
        };
        cookie.digest = Some(super::memory::hex(&outcome.digest));
        cookie.stats = stats_to_pairs(&out.slot.stats(0).1);
        Ok(cookie)
    }

    fn resume(&self, dom: &DomainRef) {
        restore(self, dom);
    }

    fn stop_migrated(&self, dom: &DomainRef, flags: u32, out: &Outgoing) -> Result<()> {
        let undefine = flags & flags::UNDEFINE_SOURCE != 0;
        let offline = out.flags & flags::OFFLINE != 0;
        self.with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            let r = obj.domain_ref();
            if !offline && obj.is_active() {
                obj.stop(reason::SHUTOFF_MIGRATED);
                inner.emit_lifecycle(r.clone(), lifecycle::STOPPED, lifecycle::STOPPED_MIGRATED);
            }
            let obj = inner.domains.get_mut(dom)?;
            if undefine || !obj.persistent {
                let was_persistent = obj.persistent;
                inner.domains.remove(&dom.uuid);
                if was_persistent {
                    inner.emit_lifecycle(r, lifecycle::UNDEFINED, lifecycle::UNDEFINED_REMOVED);
                }
            }
            Ok(())
        })
    }

    fn confirm_fault(&self, dom: &DomainRef) -> Option<Error> {
        let cfg = snapshot(self, dom).and_then(|s| GuestConfig::from_def(&s.def));
        cfg.ok().and_then(|c| fault(&c, Phase::Confirm, None).err())
    }

    fn job_completed(&self, dom: &DomainRef, stats: TypedParams) {
        emit(self, dom, DomainEvent::JobCompleted { stats });
    }
}
