//! rvirtd attacked as issue 11's probe attacked it, one attack per test,
//! over read-write TCP and the world-writable read-only unix socket. While
//! each attack runs, a watcher samples the daemon's RSS and a bystander
//! keeps running stock `virsh list` on another connection. Afterwards the
//! daemon must be alive, its RSS must have stayed under [`RSS_BOUND`], every
//! bystander `virsh list` must have answered within [`LIST_BOUND`], and the
//! attacker must have got libvirt's error or been disconnected.
//!
//! The attacks run one at a time (a lock): the bound on `virsh list` is about
//! the daemon, not about two attacks sharing two cores.

use parking_lot::Mutex;
use rvirt_rpc::remote::ConnectDomainEventCallbackRegisterAnyArgs;
use rvirt_rpc::remote::ConnectOpenArgs;
use rvirt_rpc::remote::Procedure;
use rvirt_rpc::remote::{
    DomainDefineXmlArgs, DomainGetXmlDescArgs, DomainLookupByNameArgs, DomainLookupByNameRet,
};
use rvirt_rpc::{keepalive, MessageType};
use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::rpc::rpc_client::{Answer, RpcClient};
use rvirt_testkit::tools::virsh;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The daemon's resident memory may never exceed this during an attack.
const RSS_BOUND_KIB: u64 = 200 * 1024;
/// Every bystander `virsh list` answers within this.
const LIST_BOUND: Duration = Duration::from_secs(1);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What the watcher saw while an attack ran.
struct Watched {
    peak_rss_kib: u64,
    lists: usize,
    slowest_list: Duration,
    failed_lists: Vec<String>,
}

/// Samples the daemon's RSS and runs `virsh list` against it until stopped.
struct Watcher {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    sampler: JoinHandle<()>,
    bystander: JoinHandle<(usize, Duration, Vec<String>)>,
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

impl Watcher {
    fn start(d: &Daemon) -> Watcher {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let pid = d.pid();
        let sampler = {
            let (stop, peak) = (stop.clone(), peak.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kib) = rss_kib(pid) {
                        peak.fetch_max(kib, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        };
        let uri = d.tcp_uri();
        let bystander = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let (mut runs, mut slowest, mut failed) = (0, Duration::ZERO, Vec::new());
                // At least one run, however short the attack.
                while runs == 0 || !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let out = virsh(&uri, "list");
                    slowest = slowest.max(started.elapsed());
                    runs += 1;
                    if !out.ok {
                        failed.push(out.stderr);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                (runs, slowest, failed)
            })
        };
        Watcher {
            stop,
            peak,
            sampler,
            bystander,
        }
    }

    fn finish(self) -> Watched {
        self.stop.store(true, Ordering::Relaxed);
        self.sampler.join().expect("sampler");
        let (lists, slowest_list, failed_lists) = self.bystander.join().expect("bystander");
        Watched {
            peak_rss_kib: self.peak.load(Ordering::Relaxed),
            lists,
            slowest_list,
            failed_lists,
        }
    }
}

/// Start a daemon, run `attack` against it under the watcher, then check
/// the daemon is alive, small and was responsive throughout.
fn under_attack(name: &str, attack: impl FnOnce(&Daemon)) {
    let _one = ONE_AT_A_TIME.lock();
    let mut d = Daemon::rvirtd("");
    let watcher = Watcher::start(&d);
    attack(&d);
    let seen = watcher.finish();
    eprintln!(
        "{name}: peak RSS {} KiB, {} bystander lists, slowest {:?}",
        seen.peak_rss_kib, seen.lists, seen.slowest_list
    );
    assert!(d.is_running(), "{name}: the daemon died\n{}", d.log());
    assert!(
        seen.peak_rss_kib < RSS_BOUND_KIB,
        "{name}: RSS reached {} KiB",
        seen.peak_rss_kib
    );
    assert!(
        seen.failed_lists.is_empty(),
        "{name}: virsh list failed: {:?}",
        seen.failed_lists
    );
    assert!(
        seen.slowest_list < LIST_BOUND,
        "{name}: virsh list took {:?}",
        seen.slowest_list
    );
}

fn nested_domain(depth: usize) -> String {
    format!(
        "<domain type='test'><name>deep</name><memory>1024</memory><os><type>hvm</type></os>\
         <description>{}{}</description></domain>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    )
}

/// A domain whose metadata holds `elements` elements.
fn wide_domain(name: &str, elements: usize) -> String {
    format!(
        "<domain type='test'><name>{name}</name><memory>1024</memory><os><type>hvm</type></os>\
         <metadata><w:wide xmlns:w='http://example.org/wide'>{}</w:wide></metadata></domain>",
        "<w:e/>".repeat(elements)
    )
}

/// A client on the read-only socket with `test:///default` open.
fn open_readonly(d: &Daemon) -> RpcClient {
    let mut ro = RpcClient::unix(&d.socket_ro());
    let args = ConnectOpenArgs {
        name: Some("test:///default".into()),
        flags: 1, // VIR_CONNECT_RO
    };
    assert!(matches!(
        ro.call(Procedure::ConnectOpen, &args),
        Answer::Ok(_)
    ));
    ro
}

fn define(c: &mut RpcClient, xml: String) -> Answer {
    c.call(Procedure::DomainDefineXml, &DomainDefineXmlArgs { xml })
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("rvirtd-attack-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("temp file");
    path
}

#[test]
fn deeply_nested_xml_is_refused_from_both_sockets() {
    under_attack("deep XML", |d| {
        let mut rw = RpcClient::tcp(d.port);
        rw.open("test:///default");
        let msg = define(&mut rw, nested_domain(20_000)).error_message();
        assert!(msg.contains("Excessive depth in document: 256"), "{msg}");

        // From the read-only socket: a node file the attacker chose.
        let node = temp_file(
            "deep.xml",
            &format!("<node>{}</node>", nested_domain(20_000)),
        );
        let mut ro = RpcClient::unix(&d.socket_ro());
        let args = ConnectOpenArgs {
            name: Some(format!("test://{}", node.display())),
            flags: 1, // VIR_CONNECT_RO
        };
        let msg = ro.call(Procedure::ConnectOpen, &args).error_message();
        let _ = std::fs::remove_file(&node);
        assert!(msg.contains("Excessive depth in document: 256"), "{msg}");
    });
}

#[test]
fn a_huge_define_does_not_stall_other_clients() {
    under_attack("80,000-element define", |d| {
        let mut rw = RpcClient::tcp(d.port);
        rw.open("test:///default");
        for i in 0..3 {
            match define(&mut rw, wide_domain(&format!("wide{i}"), 80_000)) {
                Answer::Ok(_) => {}
                other => panic!("define of a wide domain: {other:?}"),
            }
        }
    });
}

/// Write `packet` over and over without reading a byte back, until the
/// daemon stops taking it (the write times out) or closes the connection.
/// Returns the bytes it took.
fn flood_without_reading(c: &mut RpcClient, packet: &[u8], give_up_after: u64) -> u64 {
    c.set_timeouts(Some(Duration::from_secs(2)), Some(Duration::from_secs(2)));
    let batch = packet.repeat((64 * 1024 / packet.len()).max(1));
    let mut sent = 0u64;
    while sent < give_up_after {
        if c.send_bytes(&batch).is_err() {
            return sent;
        }
        sent += batch.len() as u64;
    }
    panic!("the daemon kept taking requests it could not answer: {sent} bytes");
}

#[test]
fn a_client_that_never_reads_is_throttled() {
    under_attack("never-reading client", |d| {
        // Pings: each one owes a pong.
        let mut pinger = RpcClient::tcp(d.port);
        let ping = keepalive::ping().to_bytes().expect("ping");
        let taken = flood_without_reading(&mut pinger, &ping, 1 << 30);
        eprintln!("pings taken before the daemon stopped reading: {taken} bytes");

        // Calls whose replies are twenty times the request.
        let mut caller = RpcClient::tcp(d.port);
        caller.open("test:///default");
        let dom = match caller.call(
            Procedure::DomainLookupByName,
            &DomainLookupByNameArgs {
                name: "test".into(),
            },
        ) {
            Answer::Ok(p) => p.body::<DomainLookupByNameRet>().expect("domain").dom,
            other => panic!("lookup: {other:?}"),
        };
        let call = caller.encode(
            Procedure::DomainGetXmlDesc,
            &DomainGetXmlDescArgs { dom, flags: 0 },
        );
        let taken = flood_without_reading(&mut caller, &call, 1 << 30);
        eprintln!("XML calls taken before the daemon stopped reading: {taken} bytes");
    });
}

#[test]
fn one_event_callback_per_event_and_domain() {
    under_attack("duplicate event callbacks", |d| {
        let mut ro = open_readonly(d);
        let register = ConnectDomainEventCallbackRegisterAnyArgs {
            event_id: 0,
            dom: None,
        };
        assert!(matches!(
            ro.call(Procedure::ConnectDomainEventCallbackRegisterAny, &register),
            Answer::Ok(_)
        ));
        for _ in 0..5_000 {
            let msg = ro
                .call(Procedure::ConnectDomainEventCallbackRegisterAny, &register)
                .error_message();
            assert_eq!(msg, "invalid argument: event callback already tracked");
        }
    });
}

#[test]
fn node_files_that_are_not_small_regular_files_are_refused() {
    under_attack("test:///dev/zero and a huge node file", |d| {
        let huge =
            std::env::temp_dir().join(format!("rvirtd-attack-{}-huge.xml", std::process::id()));
        let f = std::fs::File::create(&huge).expect("huge file");
        f.set_len(1 << 32).expect("sparse 4 GiB");
        for path in [
            "/dev/zero".to_string(),
            "/tmp".to_string(),
            huge.display().to_string(),
        ] {
            let mut ro = RpcClient::unix(&d.socket_ro());
            let args = ConnectOpenArgs {
                name: Some(format!("test://{path}")),
                flags: 1,
            };
            match ro.call(Procedure::ConnectOpen, &args) {
                Answer::Err(e) => eprintln!("{path}: {}", e.message),
                other => panic!("test://{path} opened: {other:?}"),
            }
        }
        let _ = std::fs::remove_file(&huge);
    });
}

#[test]
fn a_remote_open_back_into_the_daemon_does_not_freeze_it() {
    under_attack("self-pointing remote open", |d| {
        for _ in 0..3 {
            let mut c = RpcClient::tcp(d.port);
            let args = ConnectOpenArgs {
                name: Some(format!("test+tcp://127.0.0.1:{}/default", d.port)),
                flags: 0,
            };
            // Whatever the open answers, the daemon must keep serving others
            // while this connection and the one it made are torn down.
            let _ = c.call(Procedure::ConnectOpen, &args);
            drop(c);
            std::thread::sleep(Duration::from_millis(500));
        }
    });
}

#[test]
fn domain_names_with_a_slash_or_newline_are_refused() {
    under_attack("names with '/' and newline", |d| {
        let mut rw = RpcClient::tcp(d.port);
        rw.open("test:///default");
        let xml = |name: &str| {
            format!(
                "<domain type='test'><name>{name}</name><memory>1024</memory><os><type>hvm</type></os></domain>"
            )
        };
        let msg = define(&mut rw, xml("a/b")).error_message();
        assert!(msg.contains("name a/b cannot contain '/'"), "{msg}");
        // virXMLCheckIllegalChars prints the character itself.
        let msg = define(&mut rw, xml("a&#10;b")).error_message();
        assert_eq!(msg, "invalid char in name: \n");
    });
}

#[test]
fn protocol_abuse_gets_libvirtds_answers() {
    under_attack("close, fds over TCP, read-only unimplemented", |d| {
        // Nothing is answered after CONNECT_CLOSE: the connection ends.
        let mut c = RpcClient::tcp(d.port);
        c.open("test:///default");
        assert!(matches!(
            c.call(Procedure::ConnectClose, &()),
            Answer::Ok(_)
        ));
        assert!(matches!(
            c.call(Procedure::ConnectGetType, &()),
            Answer::Closed
        ));

        // CALL_WITH_FDS where no descriptor can travel: disconnected.
        let mut c = RpcClient::tcp(d.port);
        c.open("test:///default");
        let bytes = c.encode_typed(Procedure::ConnectGetType, MessageType::CallWithFds, &());
        c.send_bytes(&bytes).expect("send");
        assert!(matches!(c.recv(), Answer::Closed));

        // A write procedure rvirtd does not implement: the read-only refusal
        // comes first, as in libvirtd.
        let mut ro = open_readonly(d);
        let msg = ro.call(Procedure::DomainBackupBegin, &()).error_message();
        assert_eq!(
            msg,
            "operation forbidden: read only access prevents virDomainBackupBegin"
        );
    });
}
