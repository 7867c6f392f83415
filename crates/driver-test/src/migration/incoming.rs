//! The destination's phases: prepare (the domain object appears, paused,
//! and a channel waits for the memory stream), the receiving thread, and
//! finish (the guest runs only once the digest matched). Whatever goes
//! wrong, including the source vanishing, removes what prepare created.

use super::channels::{self, IncomingChannels};
use super::job::{stats_to_pairs, DomainJob, Job};
use super::memory::{FaultAction, GuestConfig, Phase, PAGE_SIZE};
use super::options;
use super::receiver::{self, Expect, Hooks, PageChannels, Receiver, RecvProgress};
use super::sender::emit;
use super::wire::{self, Header};
use super::{injected, Request};
use crate::objects::no_domain_named;
use crate::state::{parse_domain, TestState};
use parking_lot::{Condvar, Mutex};
use rvirt::driver::{Cookie, DomainRef};
use rvirt::events::{lifecycle, DomainEvent};
use rvirt::job::operation;
use rvirt::migration::flags;
use rvirt::types::{reason, DomainState};
use rvirt::{Stream, StreamBackend};
use rvirt_conf::{DomainDef, FormatOptions, MigrationCookie};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver as ChanRx, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a prepared migration waits for its source to connect.
const ACCEPT_TIMEOUT: Duration = Duration::from_secs(120);
/// Tunnelled data chunks buffered before `send` blocks (back-pressure).
const STREAM_BUFFER: usize = 8;

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
    done: Mutex<Option<Result<[u8; 32]>>>,
    cond: Condvar,
    cancel: AtomicBool,
    postcopy: AtomicBool,
    cleaned: AtomicBool,
    /// Held through [`cleanup`]: a racing second caller returns after it.
    cleaning: Mutex<()>,
    /// Finish ran (or the migration was otherwise forgotten).
    settled: AtomicBool,
    job: Arc<Job>,
    slot: Mutex<Option<Arc<DomainJob>>>,
}

impl Incoming {
    fn set_done(&self, r: Result<[u8; 32]>) {
        record_done(self, r);
        self.cond.notify_all();
    }

    /// Wait until the memory stream ended (or `timeout`).
    fn wait(&self, timeout: Duration) -> Result<[u8; 32]> {
        let deadline = Instant::now() + timeout;
        let mut d = self.done.lock();
        loop {
            if let Some(r) = d.as_ref() {
                return r.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::new(
                    ErrorDomain::TEST,
                    ErrorCode::OPERATION_TIMEOUT,
                    "migration stream did not complete",
                ));
            }
            self.cond.wait_for(&mut d, left);
        }
    }
}

/// Keep the stream's outcome (the first wins) without waking anyone.
fn record_done(inc: &Incoming, r: Result<[u8; 32]>) {
    let mut d = inc.done.lock();
    if d.is_none() {
        *d = Some(r);
    }
}

/// Where the memory stream of a prepared migration arrives.
pub enum Channel<'a> {
    /// Listen on TCP (`uri_in` may name host and port).
    Tcp { uri_in: Option<&'a str> },
    /// A tunnelled stream: attach a backend to it.
    Stream(&'a Stream),
    /// The caller feeds [`receive`] itself (direct migration).
    Inline,
}

fn host_name() -> String {
    rvirt_util::host::hostname().unwrap_or_else(|_| "localhost".into())
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
    let slot = state.migration.job(&dom.uuid);
    if let Err(e) = slot.begin(inc.job.clone(), &dom.name) {
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
    if inc.cleaned.swap(true, Ordering::SeqCst) {
        return;
    }
    inc.cancel.store(true, Ordering::SeqCst);
    if let Some(dom) = inc.dom.lock().clone() {
        let postcopy = inc.postcopy.load(Ordering::SeqCst);
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
        self.inc.postcopy.store(true, Ordering::SeqCst);
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
        self.inc.cancel.load(Ordering::SeqCst)
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
        record_done(inc, r.clone());
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
    let cancelled = || inc.cancel.load(Ordering::SeqCst);
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
        IncomingChannels::start(chans, Box::new(move || i.cancel.load(Ordering::SeqCst)))
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

/// A `Read` over the chunks a tunnelled stream delivers.
struct ChunkReader {
    rx: ChanRx<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.cur.len() {
            match self.rx.recv() {
                Ok(c) => {
                    self.cur = c;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The destination end of a tunnelled stream: `send` feeds the receiver
/// (blocking when it falls behind), `finish` reports its outcome.
struct StreamIn {
    tx: Mutex<Option<SyncSender<Vec<u8>>>>,
    state: Arc<TestState>,
    inc: Arc<Incoming>,
}

impl StreamIn {
    fn outcome_error(&self) -> Error {
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

impl StreamBackend for StreamIn {
    fn send(&self, data: &[u8]) -> Result<()> {
        let tx = self.tx.lock().clone();
        match tx {
            Some(tx) => tx.send(data.to_vec()).map_err(|_| self.outcome_error()),
            None => Err(Error::new(
                ErrorDomain::STREAMS,
                ErrorCode::OPERATION_INVALID,
                "stream is closed",
            )),
        }
    }
    fn finish(&self) -> Result<()> {
        self.tx.lock().take();
        self.inc.wait(Duration::from_secs(600)).map(|_| ())
    }
    fn abort(&self) -> Result<()> {
        self.tx.lock().take();
        cleanup(&self.state, &self.inc);
        Ok(())
    }
}

/// Prepare an incoming migration: returns the cookie, `uri_out`, and the
/// registered migration.
pub fn prepare(
    state: &Arc<TestState>,
    cookie_in: &[u8],
    dom_xml: Option<&str>,
    req: &Request,
    flags: u32,
    channel: Channel,
) -> Result<(Cookie, Option<String>, Arc<Incoming>)> {
    let ours = state.migration.host_uuid();
    let cookie = if cookie_in.is_empty() {
        None
    } else {
        let c = MigrationCookie::from_bytes(cookie_in)?;
        if *c.host_uuid.as_bytes() == ours {
            return Err(Error::internal(
                ErrorDomain::TEST,
                format!("Attempt to migrate guest to the same host {}", c.host_uuid),
            ));
        }
        Some(c)
    };
    let def = match dom_xml {
        Some(x) => Some(parse_domain(x)?),
        None => None,
    };
    if let (Some(c), Some(d)) = (&cookie, &def) {
        if c.uuid != d.uuid {
            return Err(Error::internal(
                ErrorDomain::TEST,
                format!(
                    "Incoming cookie data had unexpected UUID {} vs {}",
                    c.uuid, d.uuid
                ),
            ));
        }
    }
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
        .or_else(|| cookie.as_ref().and_then(|c| c.persistent.clone()));
    let channels = options::connections_of(flags, req)?.unwrap_or(0);
    if channels > 0 && !matches!(channel, Channel::Tcp { .. }) {
        return Err(Error::new(
            ErrorDomain::TEST,
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "parallel migration needs a tcp:// migration URI",
        ));
    }
    let expect = Expect {
        compression: options::mt_of(req)?,
        channels,
        uuid: def.as_ref().map(|d| *d.uuid.as_bytes()),
        memory_bytes: cookie
            .as_ref()
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
        done: Mutex::new(None),
        cond: Condvar::new(),
        cancel: AtomicBool::new(false),
        postcopy: AtomicBool::new(false),
        cleaned: AtomicBool::new(false),
        cleaning: Mutex::new(()),
        settled: AtomicBool::new(false),
        job: Job::new(operation::MIGRATION_IN, flags & flags::POSTCOPY != 0),
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
            Channel::Tcp { uri_in } => match listen(state, &inc, uri_in, req) {
                Ok(u) => Some(u),
                Err(e) => {
                    cleanup(state, &inc);
                    return Err(e);
                }
            },
            Channel::Stream(st) => {
                let (tx, rx) = sync_channel(STREAM_BUFFER);
                let backend = StreamIn {
                    tx: Mutex::new(Some(tx)),
                    state: state.clone(),
                    inc: inc.clone(),
                };
                if let Err(e) = st.attach(Arc::new(backend)) {
                    cleanup(state, &inc);
                    return Err(e);
                }
                let (s, i) = (state.clone(), inc.clone());
                std::thread::spawn(move || {
                    let mut reader = ChunkReader {
                        rx,
                        cur: Vec::new(),
                        pos: 0,
                    };
                    let _ = receive(&s, &i, &mut reader, None);
                });
                None
            }
            Channel::Inline => None,
        }
    };
    {
        let mut list = state.migration.incoming.lock();
        list.retain(|i| !i.cleaned.load(Ordering::SeqCst));
        list.push(inc.clone());
    }
    let out = MigrationCookie {
        name: inc.name.lock().clone(),
        uuid: cookie
            .as_ref()
            .map(|c| c.uuid)
            .unwrap_or_else(rvirt_util::uuid::Uuid::nil),
        hostname: host_name(),
        host_uuid: rvirt_util::uuid::Uuid::from_bytes(ours),
        memory_bytes: inc.expect.memory_bytes.unwrap_or(0),
        page_size: PAGE_SIZE as u64,
        digest: None,
        persistent: None,
        stats: Vec::new(),
    };
    Ok((out.format().into_bytes(), uri_out, inc))
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
        None => (host_name(), 0),
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

fn find(state: &TestState, name: &str) -> Option<Arc<Incoming>> {
    state
        .migration
        .incoming
        .lock()
        .iter()
        .rev()
        .find(|i| *i.name.lock() == name)
        .cloned()
}

fn forget(state: &TestState, inc: &Arc<Incoming>) {
    inc.settled.store(true, Ordering::SeqCst);
    state
        .migration
        .incoming
        .lock()
        .retain(|i| !Arc::ptr_eq(i, inc));
}

impl Incoming {
    /// Finish has not run yet.
    pub fn pending(&self) -> bool {
        !self.settled.load(Ordering::SeqCst)
    }
}

/// The connection that prepared `inc` closed before finish: discard the
/// incoming guest as a failed migration (libvirt's close callback on the
/// preparing connection, `qemuMigrationDstPrepareCleanup`).
pub fn discard(state: &TestState, inc: &Arc<Incoming>) {
    if inc.pending() {
        tracing::debug!(
            name = %inc.name.lock(),
            "preparing connection closed: discarding incoming migration"
        );
        cleanup(state, inc);
        forget(state, inc);
    }
}

/// Finish: verify, then run the guest here (or discard it when cancelled).
pub fn finish(
    state: &Arc<TestState>,
    name: &str,
    cookie_in: &[u8],
    flags: u32,
    cancelled: bool,
) -> Result<(DomainRef, Cookie)> {
    let inc = find(state, name).ok_or_else(|| no_domain_named(name))?;
    let fail = |e: Error| -> Result<(DomainRef, Cookie)> {
        cleanup(state, &inc);
        forget(state, &inc);
        Err(e)
    };
    if cancelled {
        return fail(Error::new(
            ErrorDomain::TEST,
            ErrorCode::OPERATION_FAILED,
            format!("migration of domain '{name}' failed on the source"),
        ));
    }
    let digest = match inc.wait(Duration::from_secs(600)) {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let cookie = if cookie_in.is_empty() {
        None
    } else {
        match MigrationCookie::from_bytes(cookie_in) {
            Ok(c) => Some(c),
            Err(e) => return fail(e),
        }
    };
    let offline = flags & flags::OFFLINE != 0;
    if let Some(want) = cookie.as_ref().and_then(|c| c.digest.clone()) {
        if !offline && want != super::memory::hex(&digest) {
            return fail(Error::new(
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
            Ok(Some(FaultAction::Fail)) => return fail(injected(Phase::Finish)),
            Ok(Some(FaultAction::Delay(ms))) => std::thread::sleep(Duration::from_millis(ms)),
            Err(e) => return fail(e),
            _ => {}
        }
    }
    let persistent = match inc
        .persistent_xml
        .as_deref()
        .filter(|_| flags & flags::PERSIST_DEST != 0)
    {
        Some(x) => match parse_domain(x) {
            Ok(d) => Some(d),
            Err(e) => return fail(e),
        },
        None => None,
    };
    let result = if offline {
        finish_offline(state, &inc, persistent)
    } else {
        finish_live(state, &inc, flags, persistent)
    };
    let dom = match result {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    forget(state, &inc);
    let stats = match inc.slot.lock().clone() {
        Some(slot) => {
            let s = slot.end(&inc.job, true, None);
            emit(state, &dom, DomainEvent::JobCompleted { stats: s.clone() });
            stats_to_pairs(&s)
        }
        None => Vec::new(),
    };
    let out = MigrationCookie {
        name: dom.name.clone(),
        uuid: rvirt_util::uuid::Uuid::from_bytes(dom.uuid),
        hostname: host_name(),
        host_uuid: rvirt_util::uuid::Uuid::from_bytes(state.migration.host_uuid()),
        memory_bytes: inc.expect.memory_bytes.unwrap_or(0),
        page_size: PAGE_SIZE as u64,
        digest: (!offline).then(|| super::memory::hex(&digest)),
        persistent: None,
        stats,
    };
    Ok((dom, out.format().into_bytes()))
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
