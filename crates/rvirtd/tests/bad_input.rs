//! Malformed input over a real socket: each gets libvirtd's error reply, or
//! only that connection is closed; the daemon stays up and other clients
//! keep working.

use rvirt_testkit::daemon::{rvirtd_refusal, Daemon};
use rvirt_testkit::rpc::wire::*;
use rvirt_testkit::tools::virsh;
use std::io::{Read, Write};
use std::time::Duration;

#[test]
fn malformed_packets_get_libvirts_answers_and_the_daemon_survives() {
    let mut d = Daemon::rvirtd("");
    // Framing errors close only that connection.
    expect_closed(&d, &0u32.to_be_bytes());
    expect_closed(&d, &[&27u32.to_be_bytes()[..], &[0; 23]].concat());
    expect_closed(&d, &0x7fff_ffffu32.to_be_bytes());
    expect_closed(&d, &[&100u32.to_be_bytes()[..], &[0; 10]].concat()); // truncated, then EOF
    healthy(&d);

    let mut s = connect(&d);
    expect_error(
        &mut s,
        &message(REMOTE, 1, 9999, 0, 5, 0, &[]),
        5,
        "unknown procedure: 9999",
    );
    expect_error(
        &mut s,
        &message(0x12345, 1, 1, 0, 6, 0, &[]),
        6,
        "Cannot find program 74565 version 1",
    );
    expect_error(
        &mut s,
        &message(REMOTE, 2, 1, 0, 7, 0, &[]),
        7,
        "Cannot find program 536903814 version 2",
    );
    expect_error(
        &mut s,
        &message(REMOTE, 1, 3, 0, 8, 0, &[]),
        8,
        "internal error: hypervisor connection not open",
    );
    expect_error(
        &mut s,
        &message(REMOTE, 1, 3, 0, 9, 7, &[]),
        9,
        "Unexpected message status 7",
    );
    // Strings over their limit, negative array counts, short payloads.
    expect_error(
        &mut s,
        &message(REMOTE, 1, 23, 0, 10, 0, &0xffff_ffffu32.to_be_bytes()),
        10,
        "Unable to decode message payload",
    );
    expect_error(
        &mut s,
        &message(REMOTE, 1, 23, 0, 11, 0, &0x0040_0001u32.to_be_bytes()),
        11,
        "Unable to decode message payload",
    );
    expect_error(
        &mut s,
        &message(REMOTE, 1, 1, 0, 12, 0, &[0, 0, 0, 1]),
        12,
        "Unable to decode message payload",
    );
    // Stray replies and unknown message types are ignored; the next call
    // on the same connection is answered.
    s.write_all(&message(REMOTE, 1, 3, 1, 13, 0, &[])).unwrap();
    s.write_all(&message(REMOTE, 1, 3, 9, 14, 0, &[])).unwrap();
    expect_error(
        &mut s,
        &message(REMOTE, 1, 3, 0, 15, 0, &[]),
        15,
        "internal error: hypervisor connection not open",
    );
    // PING gets PONG.
    s.write_all(&message(0x6b65_6570, 1, 1, 2, 0, 0, &[]))
        .unwrap();
    let (h, _) = read_reply(&mut s).expect("pong");
    assert_eq!((h[0], h[2], h[3]), (0x6b65_6570, 2, 2));
    // Garbage after the length word: random bytes in a valid frame.
    let junk: Vec<u8> = (0..200u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut frame = ((junk.len() + 4) as u32).to_be_bytes().to_vec();
    frame.extend(&junk);
    let mut g = connect(&d);
    let _ = g.write_all(&frame);
    drop(g);

    healthy(&d);
    assert!(d.is_running(), "daemon died:\n{}", d.log());
    let out = virsh(&d.tcp_uri(), "list --all");
    assert!(out.ok && out.stdout.contains("test"), "{}", out.stderr);
}

#[test]
fn max_clients_and_clean_shutdown() {
    let mut d = Daemon::rvirtd("max_clients = 2\n");
    let a = connect(&d);
    let b = connect(&d);
    std::thread::sleep(Duration::from_millis(200));
    // The third waits in the backlog, unanswered, as with libvirtd's
    // suspended services; it is served once a client leaves.
    let mut c = connect(&d);
    c.write_all(&open_call("test:///default")).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut buf = [0u8; 4];
    let waited = c.read(&mut buf);
    assert!(
        matches!(&waited, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the third client was answered or dropped: {waited:?}"
    );
    drop(a);
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let (h, _) = read_reply(&mut c).expect("the third client is served");
    assert_eq!(h[5], 0, "open failed");
    drop((b, c));
    std::thread::sleep(Duration::from_millis(300));
    healthy(&d);
    assert!(!d.log().contains("Too many active clients"), "{}", d.log());

    let pid_file = d.dir.join("rvirtd.pid");
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap().trim(),
        d.pid().to_string()
    );
    assert!(d.terminate(), "rvirtd did not exit on SIGTERM");
    assert!(!pid_file.exists(), "pid file left behind");
    assert!(
        !d.socket().exists() && !d.socket_ro().exists(),
        "sockets left behind"
    );
}

#[test]
fn start_up_refusals() {
    let run = |conf: &str| rvirtd_refusal(&["--listen"], conf);
    // libvirtd's default credentials are absent here (the TLS tests give
    // their own): the TLS listener cannot start, with libvirt's error.
    assert!(run("listen_tls = 1\nca_file = \"/nonexistent/ca.pem\"\ncert_file = \"/n/c\"\nkey_file = \"/n/k\"\n")
        .contains("Cannot read CA certificate '/nonexistent/ca.pem': No such file or directory"));
    assert!(run("listen_tls = 0\nlisten_tcp = 1\n").contains("auth_tcp = \"sasl\""));
    assert!(run("auth_unix_rw = \"polkit\"\n").contains("\"polkit\" is not available"));
    assert!(run("listen_tcp = \"yes\"\n").contains("expected a bool for 'listen_tcp' parameter"));
}

/// After a client asks about VIR_DRV_FEATURE_PROGRAM_KEEPALIVE the daemon
/// pings it every keepalive_interval and drops it after keepalive_count
/// unanswered pings; a client that answers stays.
#[test]
fn keepalive_pings_and_drops_silent_clients() {
    let d = Daemon::rvirtd("keepalive_interval = 1\nkeepalive_count = 1\n");
    let ask = message(REMOTE, 1, 60, 0, 1, 0, &10u32.to_be_bytes());
    let mut silent = connect(&d);
    let mut polite = connect(&d);
    for s in [&mut silent, &mut polite] {
        s.write_all(&ask).unwrap();
        let (h, payload) = read_reply(s).expect("feature reply");
        assert_eq!((h[5], &payload[..]), (0, &[0, 0, 0, 1][..]));
    }
    let polite_thread = std::thread::spawn(move || {
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_secs(4) {
            let (h, _) = read_reply(&mut polite).expect("polite client kept");
            assert_eq!((h[0], h[2]), (0x6b65_6570, 1), "a PING");
            polite
                .write_all(&message(0x6b65_6570, 1, 2, 2, 0, 0, &[]))
                .unwrap();
        }
    });
    let (h, _) = read_reply(&mut silent).expect("a ping");
    assert_eq!((h[0], h[2], h[3]), (0x6b65_6570, 1, 2));
    assert!(
        read_reply(&mut silent).is_none(),
        "silent client not dropped"
    );
    polite_thread.join().unwrap();
}

/// A definition nested 100,000 deep used to overflow the reader's stack and
/// kill the daemon; now it gets libxml2's depth error and the daemon stays.
#[test]
fn deeply_nested_definition_is_refused_and_the_daemon_survives() {
    let d = Daemon::rvirtd("");
    let file = d.dir.join("deep.xml");
    let n = 100_000;
    let deep = format!(
        "<domain type='test'><name>deep</name><memory>1024</memory><os><type>hvm</type></os>{}{}</domain>",
        "<a>".repeat(n),
        "</a>".repeat(n)
    );
    std::fs::write(&file, deep).unwrap();
    let out = virsh(&d.tcp_uri(), &format!("define {}", file.display()));
    assert!(!out.ok);
    assert!(
        out.stderr.contains(
            "(domain_definition):1: Excessive depth in document: 256 use XML_PARSE_HUGE option"
        ),
        "{}",
        out.stderr
    );
    healthy(&d);
    let out = virsh(&d.tcp_uri(), "list --all --name");
    assert_eq!(out.stdout.trim(), "test");
}
