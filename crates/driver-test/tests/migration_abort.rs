//! `virDomainAbortJob` while the source is blocked: in a write to a
//! destination that stopped reading, and in the wait for the destination's
//! final verdict. Perform returns VIR_ERR_OPERATION_ABORTED promptly, the
//! guest runs on the source only, and the destination keeps nothing.
//!
//! A proxy between the hosts (the memory stream of a managed migration goes
//! to it) stalls the stream the way a hung destination would.

mod migration_support;

use migration_support::*;
use rvirt::job::{field, job_type, stats_flags};
use rvirt::migration::{flags, params};
use rvirt::types::reason;
use rvirt::{Domain, DomainState, ErrorCode, TypedParams};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Generous bound for "promptly" on a loaded 2-core machine; before abort
/// could interrupt blocked I/O these perform calls never returned.
const PROMPT: Duration = Duration::from_secs(5);

/// Forwards one connection to `to`: source → destination up to `limit`
/// bytes (then it stops reading, so the source's writes block once the
/// socket buffers are full), destination → source only when `answer`.
/// Sockets stay open until the proxy is dropped.
struct StallingProxy {
    uri: String,
    forwarded: Arc<AtomicU64>,
    /// The destination sent something back (its verdict).
    answered: Arc<AtomicBool>,
    stop: Option<mpsc::Sender<()>>,
    /// Whether the source's side of the connection ended (the source shut
    /// it down) rather than merely went quiet.
    closed: mpsc::Receiver<bool>,
}

impl StallingProxy {
    fn start(to: &str, limit: u64, answer: bool) -> StallingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let uri = format!("tcp://{}", listener.local_addr().unwrap());
        let to = to.strip_prefix("tcp://").unwrap().to_string();
        let forwarded = Arc::new(AtomicU64::new(0));
        let answered = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let (closed_tx, closed) = mpsc::channel::<bool>();
        let (fw, an) = (forwarded.clone(), answered.clone());
        std::thread::spawn(move || {
            let (mut a, _) = listener.accept().unwrap();
            let mut b = TcpStream::connect(&to).unwrap();
            let (mut a2, mut b2) = (a.try_clone().unwrap(), b.try_clone().unwrap());
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = b2.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    an.store(true, Ordering::SeqCst);
                    if answer && a2.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
            let mut buf = vec![0u8; 65536];
            while fw.load(Ordering::SeqCst) < limit {
                let want = buf.len().min((limit - fw.load(Ordering::SeqCst)) as usize);
                match a.read(&mut buf[..want]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if b.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        fw.fetch_add(n as u64, Ordering::SeqCst);
                    }
                }
            }
            // Stalled: read nothing more until told to go.
            let _ = stopped.recv();
            // Then drain it and see whether the source closed its end.
            let _ = a.set_read_timeout(Some(Duration::from_secs(10)));
            let ended = loop {
                match a.read(&mut buf) {
                    Ok(0) => break true,
                    Ok(_) => {}
                    Err(e) => {
                        use std::io::ErrorKind::{TimedOut, WouldBlock};
                        break !matches!(e.kind(), WouldBlock | TimedOut);
                    }
                }
            };
            let _ = closed_tx.send(ended);
        });
        StallingProxy {
            uri,
            forwarded,
            answered,
            stop: Some(stop),
            closed,
        }
    }

    /// Let the stalled source side drain; true when the source had closed
    /// (shut down) its end of the connection.
    fn source_closed(&mut self) -> bool {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.closed
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or(false)
    }
}

impl Drop for StallingProxy {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Begin on the source and prepare on the destination (managed V3 with
/// params): the destination's params and cookie and its migration URI.
fn begin_and_prepare(dom: &Domain, dst: &Host, name: &str) -> (TypedParams, Vec<u8>, String) {
    let (ca, dp) = begin(dom, name, flags::LIVE);
    let dp = dp.with(params::URI, s("tcp://127.0.0.1"));
    let (cb, uri) = dst
        .conn
        .migrate_prepare3_params(&dp, &ca, flags::LIVE)
        .unwrap();
    (dp, cb, uri.unwrap())
}

/// A managed migration between two new hosts whose perform runs on a
/// thread of its own, its memory stream through a [`StallingProxy`].
struct Stalled {
    src: Host,
    dst: Host,
    name: &'static str,
    dom: Domain,
    xml_before: String,
    dest_params: TypedParams,
    proxy: StallingProxy,
    /// Perform's outcome, once it returns.
    performed: mpsc::Receiver<rvirt::Result<()>>,
}

impl Stalled {
    /// Guest `name` (`mib` MiB, `guest_meta`) started on host `{tag}-s` and
    /// migrating to `{tag}-d` through a proxy that passes `limit` bytes and
    /// the destination's answer only if `answer`.
    fn start(
        tag: &str,
        name: &'static str,
        mib: u64,
        guest_meta: &str,
        limit: u64,
        answer: bool,
    ) -> Stalled {
        let (src, dst) = (host(&format!("{tag}-s")), host(&format!("{tag}-d")));
        let dom = start_guest(&src, name, mib, guest_meta);
        let xml_before = dom.get_xml_desc(0).unwrap();
        let (dest_params, cookie, uri) = begin_and_prepare(&dom, &dst, name);
        let proxy = StallingProxy::start(&uri, limit, answer);
        let p = TypedParams::new().with(params::URI, s(&proxy.uri));
        let (d, (tx, performed)) = (dom.clone(), mpsc::channel());
        std::thread::spawn(move || {
            let r = d.migrate_perform3_params(None, &p, &cookie, flags::LIVE);
            let _ = tx.send(r.map(|_| ()));
        });
        Stalled {
            src,
            dst,
            name,
            dom,
            xml_before,
            dest_params,
            proxy,
            performed,
        }
    }

    /// Abort: perform returns promptly with libvirt's abort error, the
    /// destination's side is cancelled as a client does after a failed
    /// perform, the source's completed job says so, the memory stream is
    /// closed, and the guest runs on the source only, in `state` (`why`),
    /// its config intact.
    fn abort_and_check(mut self, state_after: (DomainState, i32), why: &str) {
        let t = Instant::now();
        self.dom.abort_job(0).unwrap();
        let r = self
            .performed
            .recv_timeout(Duration::from_secs(60))
            .expect("perform returned after the abort");
        let took = t.elapsed();
        let e = r.unwrap_err();
        assert_eq!(e.code, ErrorCode::OPERATION_ABORTED, "{e}");
        assert_eq!(
            e.message,
            "operation aborted: migration out job: canceled by client"
        );
        assert!(took < PROMPT, "perform took {took:?} to return after abort");

        assert!(self
            .dst
            .conn
            .migrate_finish3_params(&self.dest_params, &[], flags::LIVE, true)
            .is_err());
        let (t, st) = self.dom.get_job_stats(stats_flags::COMPLETED).unwrap();
        assert_eq!(t, job_type::COMPLETED);
        assert_success(&st, false);

        assert!(
            self.proxy.source_closed(),
            "the source closed the memory stream"
        );
        assert_stayed_on_source(&self.src, &self.dst, self.name);
        assert_eq!(state(&self.src, self.name), Some(state_after), "{why}");
        assert_eq!(
            self.dom.get_xml_desc(0).unwrap(),
            self.xml_before,
            "config intact"
        );
    }
}

#[test]
fn abort_interrupts_a_write_to_a_destination_that_stopped_reading() {
    // 64 MiB of written pages: far more than the sockets can buffer.
    let ws = "<rvirt:working-set unit='KiB'>65536</rvirt:working-set>";
    let m = Stalled::start("ab-write", "ab1", 64, ws, 1 << 20, true);
    wait_for("the proxy to stall the stream", || {
        m.proxy.forwarded.load(Ordering::SeqCst) >= 1 << 20
    });
    // The sender is blocked once what it has written stops growing.
    let processed = || {
        m.dom
            .get_job_stats(0)
            .unwrap()
            .1
            .get_u64(field::DATA_PROCESSED)
            .unwrap_or(0)
    };
    let (mut last, mut since) = (processed(), Instant::now());
    while since.elapsed() < Duration::from_millis(500) {
        std::thread::sleep(Duration::from_millis(50));
        let now = processed();
        if now != last {
            (last, since) = (now, Instant::now());
        }
    }
    assert!(last > 1 << 20, "more written than the proxy took: {last}");
    m.abort_and_check(
        (DomainState::Running, reason::RUNNING_BOOTED),
        "aborted while live: never paused",
    );
}

#[test]
fn abort_interrupts_the_wait_for_the_destinations_verdict() {
    let ws = "<rvirt:working-set unit='KiB'>4096</rvirt:working-set>";
    // Everything reaches the destination; its verdict never comes back.
    let m = Stalled::start("ab-verdict", "ab2", 16, ws, u64::MAX, false);
    wait_for("the destination's verdict", || {
        m.proxy.answered.load(Ordering::SeqCst)
    });
    assert_eq!(
        state(&m.src, "ab2"),
        Some((DomainState::Paused, reason::PAUSED_MIGRATION)),
        "switched over, waiting for the destination"
    );
    // Still waiting, not merely slow to notice.
    std::thread::sleep(Duration::from_millis(200));
    assert!(m.performed.try_recv().is_err(), "perform is still waiting");
    m.abort_and_check(
        (DomainState::Running, reason::RUNNING_MIGRATION_CANCELED),
        "resumed on the source",
    );
}
