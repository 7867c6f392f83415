//! The destination's phases: prepare (the domain object appears, paused,
//! and a channel waits for the memory stream), the receiving thread, and
//! finish (the guest runs only once the digest matched). Whatever goes
//! wrong, including the source vanishing, removes what prepare created.

use super::channels::{self, IncomingChannels};
use super::injected;
use super::memory::{FaultAction, GuestConfig, Phase, PAGE_SIZE};
use super::receiver::{self, Expect, Hooks, PageChannels, Receiver, RecvProgress};
use super::sender::emit;
use super::wire::{self, Header};
use crate::state::{parse_domain, TestState};
use parking_lot::Mutex;
use rvirt::driver::DomainRef;
use rvirt::events::{lifecycle, DomainEvent};
use rvirt::job::operation;
use rvirt::migration::flags;
use rvirt::types::{reason, DomainState};
use rvirt_conf::{DomainDef, FormatOptions, MigrationCookie};
use rvirt_hypervisor::cookie;
use rvirt_hypervisor::destination::{
    IncomingChannel, IncomingRequest, Prepared as PreparedMigration,
};
use rvirt_hypervisor::incoming::{IncomingState, IncomingStatus, Outcome, Prepared};
use rvirt_hypervisor::job::{stats_to_pairs, DomainJob, Job, Phase as JobPhase, Tunables};
use rvirt_hypervisor::rules::{connections_of, mt_of};
use rvirt_hypervisor::tunnel::{TunnelEnd, TunnelIn};
use rvirt_hypervisor::Request;
use rvirt_util::uuid::Uuid;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a prepared migration waits for its source to connect.
const ACCEPT_TIMEOUT: Duration = Duration::from_secs(120);

/// One prepared incoming migration.
pub struct Incoming {
    pub name: Mutex<String>,
    dname: Option<String>,
    dom: Mutex<Option<DomainRef>>,
    /// The object existed (inactive, persistent) before prepare.
    existed: AtomicBool,
    offline_def: Option<DomainDef>,
    persistent_xml: Option<String>,
    expect: Expect,
    /// The memory stream's digest, once it ended.
    done: Outcome<[u8; 32]>,
    status: IncomingStatus,
    /// Held through [`cleanup`]: a racing second caller returns after it.
    cleaning: Mutex<()>,
    job: Arc<Job>,
    slot: Mutex<Option<Arc<DomainJob>>>,
}

impl Incoming {
    fn set_done(&self, r: Result<[u8; 32]>) {
        self.done.set(r);
    }

    /// Wait until the memory stream ended (or `timeout`).
    fn wait(&self, timeout: Duration) -> Result<[u8; 32]> {
        self.done.wait(timeout, ErrorDomain::TEST)
    }

    /// Prepare's work is being undone: the stream's readers stop.
    fn cancelled(&self) -> bool {
        self.status.is_discarded()
    }
}

/// Add the incoming domain, paused, as `virDomainObjListAdd` with
/// `VIR_DOMAIN_OBJ_LIST_ADD_LIVE` does.
fn add_domain(state: &TestState, inc: &Incoming, mut def: DomainDef) -> Result<DomainRef> {
    if let Some(n) = &inc.dname {
        def.name = n.clone();
    }
    let name = def.name.clone();
    let paused = (DomainState::Paused, reason::PAUSED_MIGRATION);
    let (dom, existed) =
        state.with(|inner| inner.add_live(def, paused, lifecycle::STARTED_MIGRATED))?;
    inc.existed.store(existed, Ordering::SeqCst);
    *inc.name.lock() = name;
    *inc.dom.lock() = Some(dom.clone());
    let slot = state.migration.jobs().slot(&dom.uuid);
    if let Err(e) = slot.begin(inc.job.clone(), &dom.name, |_| {}) {
        cleanup(state, inc);
        return Err(e);
    }
    *inc.slot.lock() = Some(slot);
    Ok(dom)
}

/// Remove what prepare created; idempotent. Waiters wake only at the end,
/// so a source told "failed" never finds the guest still here.
pub fn cleanup(state: &TestState, inc: &Incoming) {
    cleanup_holding(state, inc, inc.cleaning.lock());
}

fn cleanup_holding(state: &TestState, inc: &Incoming, _running: parking_lot::MutexGuard<'_, ()>) {
    let Some(was) = inc.status.discard() else {
        return;
    };
    if let Some(dom) = inc.dom.lock().clone() {
        let postcopy = was == IncomingState::PostCopy;
        let _ = state.with(|inner| {
            let obj = inner.domains.get_mut(&dom)?;
            if postcopy {
                // The guest ran here already: it cannot go back.
                obj.set_state(DomainState::Paused, reason::PAUSED_POSTCOPY_FAILED);
                return Ok(());
            }
            obj.stop(reason::SHUTOFF_FAILED);
            if !obj.persistent {
                inner.domains.remove(&dom.uuid);
            }
            inner.emit_lifecycle(dom.clone(), lifecycle::STOPPED, lifecycle::STOPPED_FAILED);
            Ok(())
        });
        if let Some(slot) = inc.slot.lock().clone() {
            slot.end(&inc.job, false, Some("migration failed"));
        }
    }
    inc.set_done(Err(Error::new(
        ErrorDomain::TEST,
        ErrorCode::OPERATION_FAILED,
        "incoming migration was cancelled",
    )));
}

struct Feed<'a> {
    state: &'a TestState,
    inc: &'a Incoming,
}

impl Hooks for Feed<'_> {
    fn header(&mut self, h: &Header) -> Result<()> {
        if self.inc.dom.lock().is_some() {
            return Ok(());
        }
        // V1 and direct: the definition travels in the stream.
        let xml = h
            .domain_xml
            .as_deref()
            .ok_or_else(|| wire::malformed("header carries no domain definition"))?;
        let def = parse_domain(xml)?;
        if *def.uuid.as_bytes() != h.uuid || def.memory_kib * 1024 != h.memory_bytes {
            return Err(wire::malformed(
                "header does not match its domain definition",
            ));
        }
        add_domain(self.state, self.inc, def).map(|_| ())
    }
    fn postcopy(&mut self) -> Result<()> {
        let dom = self
            .inc
            .dom
            .lock()
            .clone()
            .ok_or_else(|| wire::malformed("no domain"))?;
        if !self.inc.status.enter_postcopy() {
            return Err(wire::malformed(
                "post-copy switch of a migration not receiving",
            ));
        }
        super::sender::set_state(
            self.state,
            &dom,
            DomainState::Running,
            reason::RUNNING_POSTCOPY,
            Some((lifecycle::RESUMED, lifecycle::RESUMED_POSTCOPY)),
        )
    }
    fn progress(&mut self, r: RecvProgress) {
        // As the source counts them: a zero page costs its 8-byte marker.
        self.inc.job.update(|p| {
            p.memory_total = r.memory_total;
            p.memory_remaining = r.memory_remaining;
            p.data_processed = r.bytes;
            p.normal_pages = r.normal_pages;
            p.normal_bytes = r.normal_pages * PAGE_SIZE as u64;
            p.constant_pages = r.constant_pages;
            p.memory_processed = p.normal_bytes + r.constant_pages * 8;
            p.iteration = r.iteration as u64;
        });
    }
    fn cancelled(&self) -> bool {
        self.inc.cancelled()
    }
}

/// Run the receiving end over `source` (and the page channels of a
/// parallel migration) and record the outcome; on failure the prepared
/// domain goes away at once.
pub fn receive(
    state: &TestState,
    inc: &Incoming,
    source: &mut dyn Read,
    channels: Option<Arc<dyn PageChannels>>,
) -> Result<[u8; 32]> {
    let mut rx = Receiver::new(inc.expect.clone());
    if let Some(c) = channels {
        rx = rx.with_channels(c);
    }
    let r = receiver::run(source, &mut rx, &mut Feed { state, inc });
    if r.is_err() {
        // Our error, unannounced: cleanup wakes the waiters when done.
        let running = inc.cleaning.lock();
        inc.done.record(r.clone());
        cleanup_holding(state, inc, running);
    } else {
        inc.set_done(r.clone());
    }
    r
}

fn accept_and_receive(state: Arc<TestState>, inc: Arc<Incoming>, listener: TcpListener) {
    let _ = listener.set_nonblocking(true);
    let deadline = Instant::now() + ACCEPT_TIMEOUT;
    let count = inc.expect.channels;
    let cancelled = || inc.cancelled();
    let accepted = if count == 0 {
        channels::accept_within(&listener, deadline, &cancelled).map(|c| (c, Vec::new()))
    } else {
        channels::accept_all(&listener, count, deadline, &cancelled)
    };
    drop(listener);
    let (mut conn, chans) = match accepted {
        Ok(c) => c,
        Err(e) => {
            inc.set_done(Err(e));
            cleanup(&state, &inc);
            return;
        }
    };
    let chans = (count > 0).then(|| {
        let i = inc.clone();
        IncomingChannels::start(chans, Box::new(move || i.cancelled()))
    });
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
    let as_dyn = chans.clone().map(|c| c as Arc<dyn PageChannels>);
    let r = receive(&state, &inc, &mut conn, as_dyn);
    let _ = conn.write_all(&wire::encode_verdict(&r.map(|_| ())));
    let _ = conn.flush();
    // Readers end on their own (success) or on the cancel flag (failure).
    if let Some(c) = chans {
        c.join();
    }
}

/// The test driver's end of a tunnelled stream: finish waits for the
/// receiver's verdict, abort discards the incoming guest.
struct TunnelledIncoming {
    state: Arc<TestState>,
    inc: Arc<Incoming>,
}

impl TunnelEnd for TunnelledIncoming {
    fn finished(&self) -> Result<()> {
        self.inc.wait(Duration::from_secs(600)).map(|_| ())
    }
    fn aborted(&self) {
        cleanup(&self.state, &self.inc);
    }
    fn refusal(&self) -> Error {
        match self.inc.wait(Duration::from_secs(5)) {
            Err(e) => e,
            Ok(_) => Error::new(
                ErrorDomain::STREAMS,
                ErrorCode::OPERATION_INVALID,
                "migration stream already complete",
            ),
        }
    }
}

/// Prepare an incoming migration: returns the cookie, `uri_out`, and the
/// registered migration.
pub fn prepare(state: &Arc<TestState>, r: IncomingRequest) -> Result<PreparedMigration<Incoming>> {
    let IncomingRequest {
        cookie,
        dom_xml,
        req,
        flags,
        channel,
    } = r;
    let ours = state.migration.host_uuid();
    let def = match dom_xml {
        Some(x) => Some(parse_domain(x)?),
        None => None,
    };
    cookie::check_same_guest(cookie, def.as_ref(), ErrorDomain::TEST)?;
    if let Some(d) = &def {
        let cfg = GuestConfig::from_def(d)?;
        match cfg.fault(Phase::Prepare) {
            Some(FaultAction::Fail) => return Err(injected(Phase::Prepare)),
            Some(FaultAction::Delay(ms)) => std::thread::sleep(Duration::from_millis(ms)),
            _ => {}
        }
    }
    let offline = flags & flags::OFFLINE != 0;
    let persistent_xml = req
        .persist_xml
        .clone()
        .or_else(|| cookie.and_then(|c| c.persistent.clone()));
    let channels = connections_of(ErrorDomain::TEST, flags, req)?.unwrap_or(0);
    if channels > 0 && !matches!(channel, IncomingChannel::Tcp { .. }) {
        return Err(Error::new(
            ErrorDomain::TEST,
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "parallel migration needs a tcp:// migration URI",
        ));
    }
    let expect = Expect {
        compression: mt_of(ErrorDomain::TEST, req)?,
        channels,
        uuid: def.as_ref().map(|d| *d.uuid.as_bytes()),
        memory_bytes: cookie
            .map(|c| c.memory_bytes)
            .or(def.as_ref().map(|d| d.memory_kib * 1024)),
    };
    let name = req
        .dname
        .clone()
        .or(def.as_ref().map(|d| d.name.clone()))
        .unwrap_or_default();
    let inc = Arc::new(Incoming {
        name: Mutex::new(name),
        dname: req.dname.clone(),
        dom: Mutex::new(None),
        existed: AtomicBool::new(false),
        offline_def: if offline { def.clone() } else { None },
        persistent_xml,
        expect,
        done: Outcome::default(),
        status: IncomingStatus::default(),
        cleaning: Mutex::new(()),
        job: Job::new(
            operation::MIGRATION_IN,
            ErrorDomain::TEST,
            JobPhase::Prepare,
            flags & flags::POSTCOPY != 0,
            Tunables::default(),
        ),
        slot: Mutex::new(None),
    });
    if offline {
        if inc.offline_def.is_none() {
            return Err(Error::invalid_arg(
                ErrorDomain::TEST,
                "offline migration needs the domain definition",
            ));
        }
        inc.set_done(Ok([0; 32]));
    } else if let Some(d) = def {
        add_domain(state, &inc, d)?;
    }
    let uri_out = if offline {
        None
    } else {
        match channel {
            IncomingChannel::Tcp { uri_in } => match listen(state, &inc, uri_in, req) {
                Ok(u) => Some(u),
                Err(e) => {
                    cleanup(state, &inc);
                    return Err(e);
                }
            },
            IncomingChannel::Stream(st) => {
                let end = TunnelledIncoming {
                    state: state.clone(),
                    inc: inc.clone(),
                };
                let (tunnel, mut reader) = TunnelIn::pipe(Arc::new(end));
                if let Err(e) = st.attach(Arc::new(tunnel)) {
                    cleanup(state, &inc);
                    return Err(e);
                }
                let (s, i) = (state.clone(), inc.clone());
                std::thread::spawn(move || {
                    let _ = receive(&s, &i, &mut reader, None);
                });
                None
            }
            IncomingChannel::Inline => None,
        }
    };
    let out = cookie::ours(
        &inc.name.lock(),
        cookie.map_or_else(Uuid::nil, |c| c.uuid),
        ours,
        inc.expect.memory_bytes.unwrap_or(0),
        PAGE_SIZE as u64,
    );
    Ok((inc, out, uri_out))
}

fn listen(
    state: &Arc<TestState>,
    inc: &Arc<Incoming>,
    uri_in: Option<&str>,
    req: &Request,
) -> Result<String> {
    let (host, port) = match uri_in {
        Some(u) => {
            let (h, p) = super::transport::parse_tcp_uri(u)?;
            (h, p.unwrap_or(0))
        }
        None => (cookie::host_name(), 0),
    };
    let addr = req.listen_address.as_deref().unwrap_or("0.0.0.0");
    let bind = if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    };
    let listener = TcpListener::bind(&bind).map_err(|e| {
        Error::system(
            ErrorDomain::TEST,
            format!("Failed to bind socket to '{bind}'"),
            &e,
        )
    })?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::system(ErrorDomain::TEST, "no local address", &e))?
        .port();
    let (s, i) = (state.clone(), inc.clone());
    std::thread::spawn(move || accept_and_receive(s, i, listener));
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    Ok(format!("tcp://{host}:{port}"))
}

impl Prepared for Incoming {
    fn name(&self) -> String {
        self.name.lock().clone()
    }
    fn status(&self) -> &IncomingStatus {
        &self.status
    }
}

/// Finish: verify, then run the guest here. On error the engine discards.
pub fn finish(
    state: &TestState,
    inc: &Arc<Incoming>,
    cookie_in: &[u8],
    flags: u32,
) -> Result<(DomainRef, MigrationCookie)> {
    let digest = inc.wait(Duration::from_secs(600))?;
    let cookie = cookie::decode(super::SUPPORT.cookie, cookie::Sender::Perform, cookie_in)?;
    let offline = flags & flags::OFFLINE != 0;
    if let Some(want) = cookie.as_ref().and_then(|c| c.digest.clone()) {
        if !offline && want != super::memory::hex(&digest) {
            return Err(Error::new(
                ErrorDomain::TEST,
                ErrorCode::OPERATION_FAILED,
                "migration memory digest does not match the source's",
            ));
        }
    }
    let def_for_faults = match (&inc.offline_def, inc.dom.lock().clone()) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(dom)) => state.lock().domains.get(&dom).ok().map(|o| o.def.clone()),
        _ => None,
    };
    if let Some(d) = def_for_faults {
        match GuestConfig::from_def(&d).map(|c| c.fault(Phase::Finish)) {
            Ok(Some(FaultAction::Fail)) => return Err(injected(Phase::Finish)),
            Ok(Some(FaultAction::Delay(ms))) => std::thread::sleep(Duration::from_millis(ms)),
            Err(e) => return Err(e),
            _ => {}
        }
    }
    let persistent = match inc
        .persistent_xml
        .as_deref()
        .filter(|_| flags & flags::PERSIST_DEST != 0)
    {
        Some(x) => Some(parse_domain(x)?),
        None => None,
    };
    let dom = if offline {
        finish_offline(state, inc, persistent)?
    } else {
        finish_live(state, inc, flags, persistent)?
    };
    let stats = match inc.slot.lock().clone() {
        Some(slot) => {
            let s = slot.end(&inc.job, true, None);
            emit(state, &dom, DomainEvent::JobCompleted { stats: s.clone() });
            stats_to_pairs(&s)
        }
        None => Vec::new(),
    };
    let out = MigrationCookie {
        digest: (!offline).then(|| super::memory::hex(&digest)),
        stats,
        ..cookie::ours(
            &dom.name,
            Uuid::from_bytes(dom.uuid),
            state.migration.host_uuid(),
            inc.expect.memory_bytes.unwrap_or(0),
            PAGE_SIZE as u64,
        )
    };
    Ok((dom, out))
}

fn finish_offline(
    state: &TestState,
    inc: &Incoming,
    persistent: Option<DomainDef>,
) -> Result<DomainRef> {
    let mut def = persistent
        .or_else(|| inc.offline_def.clone())
        .ok_or_else(|| Error::internal(ErrorDomain::TEST, "no definition to migrate"))?;
    if let Some(n) = &inc.dname {
        def.name = n.clone();
    }
    state.with(|inner| inner.define_persistent(def))
}

fn finish_live(
    state: &TestState,
    inc: &Incoming,
    flags: u32,
    persistent: Option<DomainDef>,
) -> Result<DomainRef> {
    let dom = inc
        .dom
        .lock()
        .clone()
        .ok_or_else(|| Error::internal(ErrorDomain::TEST, "incoming domain never arrived"))?;
    let existed = inc.existed.load(Ordering::SeqCst);
    state.with(|inner| {
        let obj = inner.domains.get_mut(&dom)?;
        if flags & flags::PAUSED != 0 {
            obj.set_state(DomainState::Paused, reason::PAUSED_USER);
        } else {
            obj.set_state(DomainState::Running, reason::RUNNING_MIGRATED);
        }
        let was_persistent = obj.persistent;
        if flags & flags::PERSIST_DEST != 0 {
            obj.persistent = true;
            if let Some(mut p) = persistent {
                p.name = obj.def.name.clone();
                if p != obj.def {
                    obj.new_def = Some(p);
                }
            }
        }
        let r = obj.domain_ref();
        if flags & flags::PERSIST_DEST != 0 {
            let detail = if existed && was_persistent {
                lifecycle::DEFINED_UPDATED
            } else {
                lifecycle::DEFINED_ADDED
            };
            inner.emit_lifecycle(r.clone(), lifecycle::DEFINED, detail);
        }
        if flags & flags::PAUSED != 0 {
            inner.emit_lifecycle(r.clone(), lifecycle::SUSPENDED, lifecycle::SUSPENDED_PAUSED);
        } else {
            inner.emit_lifecycle(r.clone(), lifecycle::RESUMED, lifecycle::RESUMED_MIGRATED);
        }
        Ok(r)
    })
}

/// The XML format used for definitions that travel.
pub fn migratable_xml(def: &DomainDef) -> String {
    def.format(&FormatOptions {
        inactive: true,
        secure: true,
        ..FormatOptions::default()
    })
}
