//! Two test-driver hosts in one process (two node files), guests with the
//! `<rvirt:guest>` metadata, and event recording, for the migration tests.
#![allow(dead_code)]

use rvirt::events::{event_id, DomainEvent};
use rvirt::job::{job_type, stats_flags};
use rvirt::migration::{flags, params};
use rvirt::{Connect, Domain, DomainState, TypedParamValue, TypedParams};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub const NS: &str = "https://rvirt.dev/xmlns/test-guest/1";

pub type Seen = Arc<Mutex<Vec<(String, DomainEvent)>>>;

pub struct Host {
    pub conn: Connect,
    pub uri: String,
    pub events: Seen,
    path: PathBuf,
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A host of its own: a node file with no guests.
pub fn host(tag: &str) -> Host {
    rvirt_driver_test::register();
    let path = std::env::temp_dir().join(format!("rvirt-mig-{}-{tag}.xml", std::process::id()));
    std::fs::write(&path, "<node><memory>8388608</memory></node>").unwrap();
    let uri = format!("test://{}", path.display());
    let conn = Connect::open(&uri).unwrap();
    let events = record(&conn);
    Host {
        conn,
        uri,
        events,
        path,
    }
}

/// Record lifecycle, iteration and job-completed events of a connection.
pub fn record(conn: &Connect) -> Seen {
    let seen: Seen = Arc::default();
    for id in [
        event_id::LIFECYCLE,
        event_id::MIGRATION_ITERATION,
        event_id::JOB_COMPLETED,
    ] {
        let sink = seen.clone();
        conn.domain_event_register_any(
            None,
            id,
            Arc::new(move |d, e| sink.lock().unwrap().push((d.name.clone(), e.clone()))),
        )
        .unwrap();
    }
    seen
}

pub fn guest_xml(name: &str, mib: u64, guest_meta: &str) -> String {
    let uuid = rvirt_util::uuid::generate();
    let meta = if guest_meta.is_empty() {
        String::new()
    } else {
        format!("<metadata><rvirt:guest xmlns:rvirt='{NS}'>{guest_meta}</rvirt:guest></metadata>")
    };
    format!(
        "<domain type='test'><name>{name}</name><uuid>{uuid}</uuid>{meta}\
         <memory unit='MiB'>{mib}</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>"
    )
}

/// A string parameter value.
/// Guest metadata: memory dirtied at `kib_s` over a `working_set_kib` set.
pub fn dirtying(kib_s: u64, working_set_kib: u64) -> String {
    format!(
        "<rvirt:dirty-rate unit='KiB/s'>{kib_s}</rvirt:dirty-rate>\
         <rvirt:working-set unit='KiB'>{working_set_kib}</rvirt:working-set>"
    )
}

pub fn s(v: &str) -> TypedParamValue {
    TypedParamValue::String(v.into())
}

/// The destination's parameters for the XML begin returned, the guest
/// arriving as `name`.
pub fn dest_params(xml: &str, name: &str) -> TypedParams {
    TypedParams::new()
        .with(params::DEST_XML, s(xml))
        .with(params::DEST_NAME, s(name))
}

/// Begin (no parameters, `flags`) for `dom`: its cookie, and the
/// destination's parameters for the guest arriving as `name`.
pub fn begin(dom: &Domain, name: &str, flags: u32) -> (Vec<u8>, TypedParams) {
    let (cookie, xml) = dom
        .migrate_begin3_params(&TypedParams::new(), flags)
        .unwrap();
    (cookie, dest_params(&xml, name))
}

/// A live peer-to-peer migration of `dom` to `dst` (with `extra` flags and
/// parameters `p`) on a thread of its own.
pub fn spawn_p2p(
    dom: &Domain,
    dst: &Host,
    extra: u32,
    p: TypedParams,
) -> JoinHandle<rvirt::Result<Vec<u8>>> {
    let (d, uri) = (dom.clone(), dst.uri.clone());
    std::thread::spawn(move || {
        d.migrate_perform3_params(Some(&uri), &p, &[], flags::LIVE | flags::PEER2PEER | extra)
    })
}

/// The statistics of `dom`'s completed job (kept for the next look).
pub fn completed(dom: &Domain) -> TypedParams {
    let keep = stats_flags::COMPLETED | stats_flags::KEEP_COMPLETED;
    let (t, stats) = dom.get_job_stats(keep).unwrap();
    assert_eq!(t, job_type::COMPLETED);
    stats
}

/// Job statistics that say the migration succeeded, or not.
pub fn assert_success(stats: &TypedParams, succeeded: bool) {
    assert_eq!(
        stats.get(rvirt::job::field::SUCCESS),
        Some(&TypedParamValue::Boolean(succeeded)),
        "{stats:?}"
    );
}

/// Define and start a persistent guest.
pub fn start_guest(h: &Host, name: &str, mib: u64, guest_meta: &str) -> Domain {
    let mut dom = h
        .conn
        .define_xml(&guest_xml(name, mib, guest_meta), 0)
        .unwrap();
    dom.create(0).unwrap();
    h.conn.lookup_by_name(name).unwrap()
}

pub fn state(h: &Host, name: &str) -> Option<(DomainState, i32)> {
    h.conn
        .lookup_by_name(name)
        .ok()
        .map(|d| d.get_state().unwrap())
}

pub fn lifecycle(h: &Host, name: &str) -> Vec<(i32, i32)> {
    h.events
        .lock()
        .unwrap()
        .iter()
        .filter(|(n, _)| n == name)
        .filter_map(|(_, e)| match e {
            DomainEvent::Lifecycle { event, detail } => Some((*event, *detail)),
            _ => None,
        })
        .collect()
}

pub fn iterations(h: &Host, name: &str) -> usize {
    h.events
        .lock()
        .unwrap()
        .iter()
        .filter(|(n, e)| n == name && matches!(e, DomainEvent::MigrationIteration { .. }))
        .count()
}

pub fn job_completed(h: &Host, name: &str) -> bool {
    h.events
        .lock()
        .unwrap()
        .iter()
        .any(|(n, e)| n == name && matches!(e, DomainEvent::JobCompleted { .. }))
}

/// Running on the source, absent (or shut off) on the destination.
pub fn assert_stayed_on_source(src: &Host, dst: &Host, name: &str) {
    assert_eq!(
        state(src, name).map(|s| s.0),
        Some(DomainState::Running),
        "guest must run on the source"
    );
    let on_dst = dst
        .conn
        .lookup_by_name(name)
        .ok()
        .map(|d| d.is_active().unwrap());
    assert_ne!(on_dst, Some(true), "guest must not run on the destination");
    assert!(on_dst.is_none(), "the destination keeps nothing");
}

pub fn assert_moved(src: &Host, dst: &Host, name: &str) {
    let on_src = src
        .conn
        .lookup_by_name(name)
        .ok()
        .map(|d| d.is_active().unwrap());
    assert_ne!(
        on_src,
        Some(true),
        "guest must not run on the source any more"
    );
    assert_eq!(
        state(dst, name),
        Some((DomainState::Running, rvirt::types::reason::RUNNING_MIGRATED)),
        "guest runs on the destination"
    );
}

/// `e` has `code` and a message that contains `text`.
pub fn assert_error(e: &rvirt_util::Error, code: rvirt_util::ErrorCode, text: &str) {
    assert_eq!(e.code, code, "{}", e.message);
    assert!(e.message.contains(text), "{}", e.message);
}

/// Poll until `f` holds (or panic after a few seconds).
pub fn wait_for(what: &str, f: impl FnMut() -> bool) {
    rvirt_testkit::wait::until(Duration::from_secs(10), Duration::from_millis(5), f, || {
        format!("timed out waiting for {what}")
    });
}
