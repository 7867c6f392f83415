//! Clients that attack the daemon's resources over a real socket: floods
//! from clients that never read, a connection that points back at the
//! daemon itself, calls after CONNECT_CLOSE, descriptors on TCP, a worker
//! pool held by a call that never ends. The daemon stays small and keeps
//! answering everyone else.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::rpc::wire::*;
use rvirt_testkit::tools::virsh;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

const KEEPALIVE: u32 = 0x6b65_6570;

/// The daemon's resident set, in KiB.
fn rss_kib(d: &Daemon) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", d.pid())).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Write `chunk` again and again without reading, until `total` bytes are
/// sent or the daemon stops taking them for a second. Returns bytes sent.
fn flood(d: &Daemon, chunk: Vec<u8>, total: usize) -> std::thread::JoinHandle<usize> {
    let mut s = connect(d);
    s.set_write_timeout(Some(Duration::from_secs(1))).unwrap();
    std::thread::spawn(move || {
        let mut sent = 0;
        while sent < total {
            match s.write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
        // Keep the connection open, unread, while the test checks.
        std::thread::sleep(Duration::from_secs(2));
        sent
    })
}

/// Stock virsh over TCP answers `list` within a second.
fn answers_promptly(d: &Daemon) {
    let start = Instant::now();
    let out = virsh(&d.tcp_uri(), "list --all");
    let took = start.elapsed();
    assert!(out.ok && out.stdout.contains("test"), "{}", out.stderr);
    assert!(took < Duration::from_secs(1), "virsh list took {took:?}");
}

/// Two clients send 128 MiB each of PINGs and calls and never read the
/// answers: the daemon stops reading them once `max_client_requests`
/// answers are waiting, so it stays far below the 200 MiB bound (before,
/// every PONG and reply was queued: 526 MB of pings made 900 MB of RSS),
/// and another client is served meanwhile.
#[test]
fn clients_that_never_read_do_not_grow_the_daemon() {
    let d = Daemon::rvirtd("");
    let ping = message(KEEPALIVE, 1, 1, 2, 0, 0, &[]);
    let get_type = message(REMOTE, 1, 3, 0, 7, 0, &[]);
    let pings = flood(&d, ping.repeat(1 << 15), 128 << 20);
    let calls = flood(&d, get_type.repeat(1 << 15), 128 << 20);
    std::thread::sleep(Duration::from_millis(1500));
    answers_promptly(&d);
    let rss = rss_kib(&d);
    let sent = (pings.join().unwrap(), calls.join().unwrap());
    assert!(
        rss < 200 * 1024,
        "RSS {rss} KiB after sending {sent:?} bytes"
    );
    assert!(
        sent.0 < 64 << 20 && sent.1 < 64 << 20,
        "still read: {sent:?}"
    );
    answers_promptly(&d);
}

/// Events for a client that does not read pile up to
/// `max_client_queued_bytes`; then that client is disconnected with a log
/// line, and the daemon and its other clients carry on.
#[test]
fn a_client_that_does_not_take_its_events_is_disconnected() {
    let d = Daemon::rvirtd("max_client_queued_bytes = 65536\n");
    let mut slow = connect_small_window(&d);
    slow.write_all(&open_call("test:///default")).unwrap();
    read_reply(&mut slow).expect("open reply");
    // CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, lifecycle, any domain:
    // once, as a second one is refused ("event callback already tracked").
    let reg = message(REMOTE, 1, 316, 0, 2, 0, &[0, 0, 0, 0, 0, 0, 0, 0]);
    read_reply_of(&mut slow, &reg);

    let mut busy = connect_opened(&d);
    let start = Instant::now();
    // DOMAIN_DEFINE_XML of one domain with a 4,000-character name, in
    // batches: each raises a DEFINED event of over 4 KB for the slow client
    // (the kernel alone takes megabytes before the daemon's queue fills).
    let name = "n".repeat(4000);
    let xml = format!(
        "<domain type='test'><name>{name}</name><uuid>11111111-2222-3333-4444-555555555555</uuid>\
         <memory>1024</memory><os><type>hvm</type></os></domain>"
    );
    let batch: Vec<u8> = (0..50)
        .flat_map(|i| message(REMOTE, 1, 11, 0, 3 + i as u32, 0, &xdr_string(&xml)))
        .collect();
    while !d.log().contains("bytes of events queued") {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "slow client never dropped"
        );
        busy.write_all(&batch).unwrap();
        for _ in 0..50 {
            let (h, payload) = read_reply(&mut busy).expect("define reply");
            assert_eq!(h[5], 0, "define failed: {}", error_text(&payload));
        }
    }
    // The slow client gets what was written before, then the end.
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    while read_reply(&mut slow).is_some() {}
    assert!(rss_kib(&d) < 200 * 1024);
    healthy(&d);
}

/// A client opens `test+tcp://` to this very daemon and hangs up, several
/// at once: closing those connections (a CONNECT_CLOSE round trip to the
/// same daemon) happens off the reactor, so another client's calls are
/// answered promptly meanwhile (before, the daemon froze for ~30 s).
#[test]
fn a_connection_pointing_back_at_the_daemon_closes_without_a_stall() {
    let d = Daemon::rvirtd("");
    let mut probe = connect_opened(&d);
    for round in 0..3 {
        let mut selfish: Vec<TcpStream> = (0..4).map(|_| connect(&d)).collect();
        for s in &mut selfish {
            s.write_all(&open_call(&d.tcp_uri())).unwrap();
        }
        for s in &mut selfish {
            let (h, _) = read_reply(s).expect("self open reply");
            assert_eq!(h[5], 0, "open of {} failed", d.tcp_uri());
        }
        drop(selfish);
        let start = Instant::now();
        let mut worst = Duration::ZERO;
        while start.elapsed() < Duration::from_secs(2) {
            let t = Instant::now();
            probe
                .write_all(&message(REMOTE, 1, 3, 0, 2, 0, &[]))
                .unwrap();
            let (h, _) = read_reply(&mut probe).expect("type reply");
            assert_eq!(h[5], 0);
            worst = worst.max(t.elapsed());
        }
        assert!(worst < Duration::from_secs(1), "round {round}: {worst:?}");
        answers_promptly(&d);
    }
}

/// After CONNECT_CLOSE nothing more is read: calls sent behind it in the
/// same write get no answer, the close reply comes and the connection
/// ends (libvirtd's delayedClose; on libvirtd, calls already read when
/// the close runs race with it).
#[test]
fn nothing_is_answered_after_connect_close() {
    let d = Daemon::rvirtd("");
    let mut s = connect_opened(&d);
    let close = message(REMOTE, 1, 2, 0, 2, 0, &[]);
    let get_type = message(REMOTE, 1, 3, 0, 3, 0, &[]);
    let hostname = message(REMOTE, 1, 59, 0, 4, 0, &[]);
    s.write_all(&[close, get_type, hostname].concat()).unwrap();
    let (h, _) = read_reply(&mut s).expect("close reply");
    assert_eq!((h[2], h[4], h[5]), (2, 2, 0), "the close reply");
    assert!(read_reply(&mut s).is_none(), "answered after close: {h:?}");
    healthy(&d);
}

/// CALL_WITH_FDS on TCP: with descriptors announced the connection closes
/// (libvirtd: "Receiving file descriptors is not supported on this
/// socket"), as it does for a missing or excessive count; with none it is
/// a plain call. Stock libvirtd, when installed, behaves the same.
#[test]
fn call_with_fds_on_tcp_closes_the_connection() {
    let mut daemons = vec![Daemon::rvirtd("")];
    daemons.extend(Daemon::libvirtd());
    for d in &daemons {
        for body in [&1u32.to_be_bytes()[..], &33u32.to_be_bytes(), &[]] {
            expect_closed(d, &message(REMOTE, 1, 3, 4, 2, 0, body));
        }
        let mut s = connect_opened(d);
        s.write_all(&message(REMOTE, 1, 3, 4, 2, 0, &0u32.to_be_bytes()))
            .unwrap();
        let (h, payload) = read_reply(&mut s).expect("reply to a call with no fds");
        assert_eq!((h[3], h[4], h[5]), (1, 2, 0), "{}", d.name);
        assert_eq!(&payload[4..8], b"TEST");
        healthy(d);
    }
    assert!(daemons[0]
        .log()
        .contains("Receiving file descriptors is not supported on this socket"));
}

/// A second CONNECT_OPEN fails with "connection already open" and, as
/// libvirtd's error path clears its connection, the first is gone too:
/// the next call gets "hypervisor connection not open". Both daemons.
#[test]
fn a_failed_second_open_closes_the_first() {
    let mut daemons = vec![Daemon::rvirtd("")];
    daemons.extend(Daemon::libvirtd());
    for d in &daemons {
        let mut s = connect_opened(d);
        let no_name_no_flags = [0u8; 8];
        let second_open = message(REMOTE, 1, 1, 0, 7, 0, &no_name_no_flags);
        let refused = read_error_of(&mut s, &second_open);
        assert!(
            refused.contains("connection already open"),
            "{}: {refused}",
            d.name
        );
        let refused = read_error_of(&mut s, &message(REMOTE, 1, 3, 0, 8, 0, &[]));
        assert!(
            refused.contains("hypervisor connection not open"),
            "{}: {refused}",
            d.name
        );
        healthy(d);
    }
}

/// Send a call and read its (successful) reply.
fn read_reply_of(s: &mut TcpStream, call: &[u8]) -> ([u32; 6], Vec<u8>) {
    s.write_all(call).unwrap();
    let (h, payload) = read_reply(s).expect("reply");
    assert_eq!(h[5], 0, "call failed: {}", error_text(&payload));
    (h, payload)
}

/// Send a call that must fail; the text of its error.
fn read_error_of(s: &mut TcpStream, call: &[u8]) -> String {
    s.write_all(call).unwrap();
    let (h, payload) = read_reply(s).expect("reply");
    assert_eq!(h[5], 1, "the call succeeded: {h:?}");
    error_text(&payload)
}

/// A TCP connection whose receive buffer is tiny, so what the daemon
/// sends it and it does not read stays in the daemon.
fn connect_small_window(d: &Daemon) -> TcpStream {
    use nix::sys::socket::{self, sockopt, AddressFamily, SockFlag, SockType, SockaddrIn};
    let fd = socket::socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )
    .expect("socket");
    socket::setsockopt(&fd, sockopt::RcvBuf, &4096).expect("SO_RCVBUF");
    let addr = SockaddrIn::new(127, 0, 0, 1, d.port);
    socket::connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr).expect("connect");
    let s = TcpStream::from(fd);
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// With the only normal worker held by a CONNECT_OPEN that never
/// completes (its peer accepts and never answers), a high-priority lookup
/// still runs on a priority worker, and the low-priority define waits.
#[test]
fn priority_calls_run_when_every_normal_worker_is_stuck() {
    let d = Daemon::rvirtd("max_workers = 1\nprio_workers = 1\nmin_workers = 1\n");
    let mute = TcpListener::bind("127.0.0.1:0").unwrap();
    let mute_uri = format!(
        "test+tcp://127.0.0.1:{}/default",
        mute.local_addr().unwrap().port()
    );
    let mut stuck = connect(&d);
    stuck.write_all(&open_call(&mute_uri)).unwrap();
    let _peer = mute.accept().expect("the daemon connects");

    let mut s = connect(&d);
    s.write_all(&open_call("test:///default")).unwrap();
    let (h, _) = read_reply(&mut s).expect("open (high priority) reply");
    assert_eq!(h[5], 0);
    let lookup = message(REMOTE, 1, 23, 0, 2, 0, &xdr_string("test"));
    // DOMAIN_SUSPEND is low priority: no answer while the worker is held.
    let (_, dom) = read_reply_of(&mut s, &lookup);
    s.write_all(&message(REMOTE, 1, 34, 0, 3, 0, &dom)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let early = read_reply(&mut s);
    assert!(
        early.is_none(),
        "define ran without a worker: {early:?}\n{}",
        d.log()
    );
    // The peer hangs up: the open fails, the worker is free, the define runs.
    drop(_peer);
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (h, _) = read_reply(&mut s).expect("suspend once a worker is free");
    assert_eq!((h[4], h[5]), (3, 0));
}
