//! The client side of a tunnelled-migration stream against a scripted
//! daemon, packet by packet: data is cut at 262,120 bytes, finish waits for
//! the daemon's STREAM/OK, an error the daemon sends as an error REPLY with
//! the stream's serial (what libvirtd does for a failed write) fails the
//! next send, and a daemon that goes away fails a waiting finish.

use rvirt::{Connect, Stream};
use rvirt_rpc::remote::Procedure;
use rvirt_rpc::remote::{AuthListRet, ConnectSupportsFeatureRet};
use rvirt_rpc::remote::{
    DomainMigratePrepareTunnel3ParamsArgs, DomainMigratePrepareTunnel3ParamsRet,
};
use rvirt_rpc::{FrameReader, MessageStatus, MessageType, Packet, StreamId, STREAM_DATA_MAX};
use rvirt_util::{Error, ErrorCode, ErrorDomain, TypedParams};
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};

#[derive(Clone, Copy, PartialEq)]
enum Script {
    /// Take everything, confirm the finish.
    Accept,
    /// Fail the stream after the first data packet, as libvirtd does when
    /// the driver's write fails.
    FailWrite,
    /// Hang up after the first data packet.
    HangUp,
}

struct Conn {
    s: UnixStream,
    frames: FrameReader,
}

impl Conn {
    fn recv(&mut self) -> Option<Packet> {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            if let Some(p) = self.frames.next_packet().unwrap() {
                return Some(p);
            }
            match self.s.read(&mut buf) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.frames.push(&buf[..n]),
            }
        }
    }
    fn send(&mut self, p: &Packet) {
        let _ = self.s.write_all(&p.to_bytes().unwrap());
    }
}

/// Serve one client; returns the sizes of the STREAM/CONTINUE packets seen
/// and the statuses of the other STREAM packets.
fn daemon(s: UnixStream, script: Script) -> (Vec<usize>, Vec<MessageStatus>) {
    let mut c = Conn {
        s,
        frames: FrameReader::new(),
    };
    let mut sizes = Vec::new();
    let mut ends = Vec::new();
    while let Some(p) = c.recv() {
        if p.header.type_ == MessageType::Stream {
            let id = StreamId::of(&p.header);
            if p.header.status != MessageStatus::Continue {
                ends.push(p.header.status);
                c.send(&id.finish());
                continue;
            }
            sizes.push(p.payload.len());
            if sizes.len() == 1 && script == Script::FailWrite {
                let e = Error::new(
                    ErrorDomain::STREAMS,
                    ErrorCode::OPERATION_FAILED,
                    "sink full",
                );
                c.send(&Packet::error_reply(&p.header.reply(MessageStatus::Error), &e).unwrap());
            }
            if sizes.len() == 1 && script == Script::HangUp {
                break;
            }
            continue;
        }
        let reply = match Procedure::from_i32(p.header.proc_).unwrap() {
            Procedure::AuthList => Packet::reply(&p.header, &AuthListRet { types: vec![0] }),
            Procedure::ConnectSupportsFeature => {
                Packet::reply(&p.header, &ConnectSupportsFeatureRet { supported: 1 })
            }
            Procedure::DomainMigratePrepareTunnel3Params => {
                let a: DomainMigratePrepareTunnel3ParamsArgs = p.body().unwrap();
                Packet::reply(
                    &p.header,
                    &DomainMigratePrepareTunnel3ParamsRet {
                        cookie_out: a.cookie_in,
                    },
                )
            }
            _ => Packet::reply(&p.header, &()),
        };
        c.send(&reply.unwrap());
    }
    (sizes, ends)
}

fn run(
    tag: &str,
    script: Script,
    client: impl FnOnce(&Stream),
) -> (Vec<usize>, Vec<MessageStatus>) {
    rvirt_driver_remote::register();
    let path = std::env::temp_dir().join(format!("rvirt-remote-mig-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let server = std::thread::spawn(move || daemon(listener.accept().unwrap().0, script));
    let conn = Connect::open(&format!("test+unix:///default?socket={}", path.display())).unwrap();
    let st = Stream::new(&conn, 0).unwrap();
    let cookie = conn
        .migrate_prepare_tunnel3_params(&st, &TypedParams::new(), b"ck", 0)
        .unwrap();
    assert_eq!(cookie, b"ck");
    client(&st);
    drop(st);
    drop(conn);
    let _ = std::fs::remove_file(&path);
    server.join().unwrap()
}

#[test]
fn data_is_cut_at_the_legacy_payload_size_and_finish_is_confirmed() {
    let n = 2 * STREAM_DATA_MAX + 1000;
    let (sizes, ends) = run("ok", Script::Accept, |st| {
        st.send(&vec![7u8; n]).unwrap();
        st.send(&[]).unwrap(); // nothing to send: no packet
        st.finish().unwrap();
    });
    assert_eq!(sizes, [STREAM_DATA_MAX, STREAM_DATA_MAX, 1000]);
    assert_eq!(ends, [MessageStatus::Ok]);
}

#[test]
fn a_failed_write_reported_as_reply_fails_the_stream() {
    let (sizes, ends) = run("fail", Script::FailWrite, |st| {
        st.send(b"first").unwrap();
        // The error arrives asynchronously: a later send or the finish sees it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let e = loop {
            if let Err(e) = st.send(b"more") {
                break e;
            }
            assert!(std::time::Instant::now() < deadline, "error never seen");
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert_eq!(e.message, "operation failed: sink full");
        assert_eq!(e.domain, ErrorDomain::STREAMS);
        assert_eq!(
            st.finish().unwrap_err().message,
            "operation failed: sink full"
        );
        // Nothing left to abort on the daemon: no ERROR packet is sent.
        st.abort().unwrap();
    });
    assert_eq!(sizes[0], 5);
    assert!(ends.is_empty(), "{ends:?}");
}

#[test]
fn a_lost_connection_fails_the_finish() {
    let (sizes, _) = run("hangup", Script::HangUp, |st| {
        st.send(b"first").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let e = st.finish().unwrap_err();
        assert_eq!(e.domain, ErrorDomain::RPC, "{e}");
    });
    assert_eq!(sizes, [5]);
}

#[test]
fn abort_sends_error_and_waits_for_the_confirmation() {
    let (sizes, ends) = run("abort", Script::Accept, |st| {
        st.send(b"abc").unwrap();
        st.abort().unwrap();
        let e = st.send(b"x").unwrap_err();
        assert_eq!(
            e.message,
            "Requested operation is not valid: stream is closed"
        );
    });
    assert_eq!(sizes, [3]);
    assert_eq!(ends, [MessageStatus::Error]);
}
