//! The source's phases: begin (checks, the job, the cookie and the XML for
//! the destination), perform (the memory stream) and confirm (drop the
//! guest, or resume it when the migration failed). The guest stays on the
//! source until confirm says the destination runs it.

use super::channels::ChannelSinks;
use super::incoming::migratable_xml;
use super::job::{aborted_error, stats_to_pairs, DomainJob, InterruptGuard, Job};
use super::memory::{seed_for, FaultAction, GuestConfig, GuestMemory, Phase, PAGE_SIZE};
use super::options;
use super::sender::{self, emit, SendPlan};
use super::transport::{Sink, StreamSink, TcpSink};
use super::wire::{Header, Message};
use super::{injected, Request};
use crate::state::{parse_domain, TestState};
use parking_lot::Mutex;
use rvirt::driver::{Cookie, DomainRef};
use rvirt::events::{lifecycle, DomainEvent};
use rvirt::job::operation;
use rvirt::migration::flags;
use rvirt::types::{reason, DomainState};
use rvirt_conf::{DomainDef, MigrationCookie};
use rvirt_util::uuid::Uuid;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// QEMU's auto-converge defaults (cpu-throttle-initial / -increment).
pub const AC_INITIAL: u32 = 20;
pub const AC_INCREMENT: u32 = 10;

/// An outgoing migration between its phases.
pub struct Outgoing {
    pub flags: u32,
    pub job: Arc<Job>,
    pub slot: Arc<DomainJob>,
    postcopy: AtomicBool,
    performed: AtomicBool,
    /// Perform finished successfully: only then may confirm drop the guest.
    moved: AtomicBool,
    digest: Mutex<Option<[u8; 32]>>,
}

/// Where perform sends the memory.
pub enum Target {
    Tcp(String),
    Stream(rvirt::Stream),
    /// An already negotiated relocation connection (direct migration).
    Reloc(TcpStream),
}

fn host_name() -> String {
    rvirt_util::host::hostname().unwrap_or_else(|_| "localhost".into())
}

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

fn cookie_for(state: &TestState, snap: &Snapshot, req: &Request, flags: u32) -> MigrationCookie {
    let persistent = (flags & flags::PERSIST_DEST != 0).then(|| {
        req.persist_xml
            .clone()
            .unwrap_or_else(|| migratable_xml(&snap.persistent_def))
    });
    MigrationCookie {
        name: snap.def.name.clone(),
        uuid: snap.def.uuid,
        hostname: host_name(),
        host_uuid: Uuid::from_bytes(state.migration.host_uuid()),
        memory_bytes: snap.def.memory_kib * 1024,
        page_size: PAGE_SIZE as u64,
        digest: None,
        persistent,
        stats: Vec::new(),
    }
}

/// Start the outgoing job (begin, or perform of V1/V2 which have no begin).
fn start(state: &TestState, dom: &DomainRef, flags: u32) -> Result<Arc<Outgoing>> {
    let slot = state.migration.job(&dom.uuid);
    let job = Job::new(operation::MIGRATION_OUT, flags & flags::POSTCOPY != 0);
    slot.begin(job.clone(), &dom.name)?;
    let out = Arc::new(Outgoing {
        flags,
        job,
        slot,
        postcopy: AtomicBool::new(false),
        performed: AtomicBool::new(false),
        moved: AtomicBool::new(false),
        digest: Mutex::new(None),
    });
    state
        .migration
        .outgoing
        .lock()
        .insert(dom.uuid, out.clone());
    Ok(out)
}

/// End the job as failed and forget the migration.
fn abandon(state: &TestState, dom: &DomainRef, out: &Arc<Outgoing>, err: &Error) {
    out.slot.end(&out.job, false, Some(&err.message));
    let mut map = state.migration.outgoing.lock();
    if map.get(&dom.uuid).is_some_and(|o| Arc::ptr_eq(o, out)) {
        map.remove(&dom.uuid);
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

/// libvirt's rule when the source drives the destination itself: a guest
/// paused on the source is migrated with VIR_MIGRATE_PAUSED, so it stays
/// paused on the destination.
pub fn with_paused_flag(state: &TestState, dom: &DomainRef, flags: u32) -> u32 {
    let paused = state
        .lock()
        .domains
        .get(dom)
        .is_ok_and(|o| o.state == DomainState::Paused);
    if paused {
        flags | flags::PAUSED
    } else {
        flags
    }
}

/// Begin: returns (cookie, XML for the destination).
pub fn begin(
    state: &TestState,
    dom: &DomainRef,
    req: &Request,
    flags: u32,
) -> Result<(Cookie, String)> {
    let snap = snapshot(state, dom)?;
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
    start(state, dom, flags)?;
    Ok((
        cookie_for(state, &snap, req, flags).format().into_bytes(),
        xml,
    ))
}

/// What one perform phase moves and where.
pub struct Perform<'a> {
    /// The destination's prepare cookie.
    pub cookie_in: &'a [u8],
    pub flags: u32,
    pub req: &'a Request,
    pub target: Target,
    /// V1/V2: the domain XML travels in the stream header.
    pub xml_in_header: bool,
}

impl<'a> Perform<'a> {
    pub fn new(cookie_in: &'a [u8], flags: u32, req: &'a Request, target: Target) -> Self {
        Perform {
            cookie_in,
            flags,
            req,
            target,
            xml_in_header: false,
        }
    }
}

/// Perform: move the memory. On failure the guest runs here again and the
/// job ends; on success it stays paused until confirm.
pub fn perform(state: &TestState, dom: &DomainRef, job: Perform) -> Result<Cookie> {
    let existing = state.migration.outgoing.lock().get(&dom.uuid).cloned();
    let out = match existing {
        Some(o) if !o.performed.load(Ordering::SeqCst) => o,
        _ => start(state, dom, job.flags)?,
    };
    match perform_job(state, dom, job, &out) {
        Ok(c) => {
            out.moved.store(true, Ordering::SeqCst);
            Ok(c)
        }
        Err(e) => {
            restore(state, dom);
            abandon(state, dom, &out, &e);
            Err(e)
        }
    }
}

fn perform_job(
    state: &TestState,
    dom: &DomainRef,
    job: Perform,
    out: &Arc<Outgoing>,
) -> Result<Cookie> {
    let Perform {
        cookie_in,
        flags,
        req,
        target,
        xml_in_header,
    } = job;
    out.performed.store(true, Ordering::SeqCst);
    if !cookie_in.is_empty() {
        let c = MigrationCookie::from_bytes(cookie_in)?;
        if *c.host_uuid.as_bytes() == state.migration.host_uuid() {
            return Err(Error::internal(
                ErrorDomain::TEST,
                format!("Attempt to migrate guest to the same host {}", c.host_uuid),
            ));
        }
    }
    let snap = snapshot(state, dom)?;
    let cfg = GuestConfig::from_def(&snap.def)?;
    fault(&cfg, Phase::Perform, Some(&out.job))?;
    let mut cookie = cookie_for(state, &snap, req, flags);
    if flags & flags::OFFLINE != 0 {
        return Ok(cookie.format().into_bytes());
    }
    if !snap.active {
        return Err(Error::operation_invalid(
            ErrorDomain::TEST,
            "domain is not running",
        ));
    }
    if let Some(b) = req.bandwidth {
        out.slot.max_speed.store(b, Ordering::SeqCst);
    }
    if let Some(b) = req.bandwidth_postcopy {
        out.slot.max_speed_postcopy.store(b, Ordering::SeqCst);
    }
    let mt = options::mt_of(req)?;
    let connections = options::connections_of(flags, req)?;
    let (mut sink, mut channels): (Box<dyn Sink>, Option<ChannelSinks>) = match target {
        Target::Tcp(uri) => {
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
        Target::Reloc(conn) => (Box::new(TcpSink { conn }), None),
    };
    let memory_bytes = snap.def.memory_kib * 1024;
    let mut mem = match GuestMemory::new(seed_for(&dom.uuid), memory_bytes, &cfg) {
        Ok(m) => m,
        Err(e) => {
            sink.abort(&e.message);
            return Err(e);
        }
    };
    let plan = SendPlan {
        flags,
        header: Header {
            name: snap.def.name.clone(),
            uuid: dom.uuid,
            memory_bytes,
            page_size: PAGE_SIZE as u32,
            domain_xml: xml_in_header.then(|| match &req.dxml {
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
        state,
        dom,
        slot: &out.slot,
        job: &out.job,
        mem: &mut mem,
        sink: sink.as_mut(),
        channels: channels.as_mut(),
        plan: &plan,
    };
    let outcome = match sender::send(transfer) {
        Ok(o) => o,
        Err(e) => {
            // A write or read the abort interrupted fails with an I/O
            // error; what happened is the abort.
            let e = if out.job.aborted() {
                aborted_error(out.job.operation)
            } else {
                e
            };
            sink.abort(&e.message);
            return Err(e);
        }
    };
    out.postcopy.store(outcome.postcopy, Ordering::SeqCst);
    *out.digest.lock() = Some(outcome.digest);
    cookie.digest = Some(super::memory::hex(&outcome.digest));
    cookie.stats = stats_to_pairs(&out.slot.stats(0).1);
    Ok(cookie.format().into_bytes())
}

/// The destination may already run the guest but never said so: end the
/// job as failed and leave ours paused (libvirt's "guest probably left
/// paused on source"), since resuming could run it twice.
pub fn leave_paused(state: &TestState, dom: &DomainRef, err: &Error) {
    let out = state.migration.outgoing.lock().get(&dom.uuid).cloned();
    if let Some(out) = out {
        abandon(state, dom, &out, err);
    }
}

/// Confirm: the destination runs the guest (drop ours) or the migration
/// failed (`cancelled`: resume ours).
pub fn confirm(state: &TestState, dom: &DomainRef, flags: u32, cancelled: bool) -> Result<()> {
    let out = state.migration.outgoing.lock().get(&dom.uuid).cloned();
    let Some(out) = out else {
        if cancelled {
            // Perform already put the guest back.
            return Ok(());
        }
        return Err(Error::operation_invalid(
            ErrorDomain::TEST,
            format!("domain '{}' is not being migrated", dom.name),
        ));
    };
    let cfg = snapshot(state, dom).and_then(|s| GuestConfig::from_def(&s.def));
    if !cancelled && !out.moved.load(Ordering::SeqCst) {
        // Nothing reached the destination: dropping ours would lose the guest.
        let e = Error::operation_invalid(
            ErrorDomain::TEST,
            format!(
                "cannot confirm migration of domain '{}': its perform phase did not complete",
                dom.name
            ),
        );
        restore(state, dom);
        abandon(state, dom, &out, &e);
        return Err(e);
    }
    let injected_fault = cfg
        .as_ref()
        .ok()
        .and_then(|c| fault(c, Phase::Confirm, None).err());
    if cancelled {
        restore(state, dom);
        let e = Error::new(
            ErrorDomain::TEST,
            ErrorCode::OPERATION_FAILED,
            "migration cancelled",
        );
        abandon(state, dom, &out, &e);
        return injected_fault.map_or(Ok(()), Err);
    }
    // The destination runs the guest now: ours goes, whatever else fails.
    let undefine = flags & flags::UNDEFINE_SOURCE != 0;
    let offline = out.flags & flags::OFFLINE != 0;
    state.with(|inner| {
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
    })?;
    let stats = out.slot.end(&out.job, true, None);
    state.migration.outgoing.lock().remove(&dom.uuid);
    emit(state, dom, DomainEvent::JobCompleted { stats });
    injected_fault.map_or(Ok(()), Err)
}
