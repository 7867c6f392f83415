//! Raw libvirt RPC packets over a TCP socket, for tests that send what no
//! client library would.

use crate::daemon::Daemon;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub const REMOTE: u32 = 0x2000_8086;

pub fn message(
    prog: u32,
    vers: u32,
    proc_: i32,
    type_: i32,
    serial: u32,
    status: i32,
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(((28 + body.len()) as u32).to_be_bytes());
    for v in [
        prog,
        vers,
        proc_ as u32,
        type_ as u32,
        serial,
        status as u32,
    ] {
        out.extend(v.to_be_bytes());
    }
    out.extend(body);
    out
}

pub fn xdr_string(s: &str) -> Vec<u8> {
    let mut out = (s.len() as u32).to_be_bytes().to_vec();
    out.extend(s.as_bytes());
    out.resize(out.len().div_ceil(4) * 4, 0);
    out
}

/// CONNECT_OPEN of `uri` (serial 1).
pub fn open_call(uri: &str) -> Vec<u8> {
    let body = [
        &1u32.to_be_bytes()[..],
        &xdr_string(uri),
        &0u32.to_be_bytes(),
    ]
    .concat();
    message(REMOTE, 1, 1, 0, 1, 0, &body)
}

/// A connection to `d` with test:///default opened on it (serial 1; the
/// reply read, whatever it said).
pub fn connect_opened(d: &Daemon) -> TcpStream {
    let mut s = connect(d);
    s.write_all(&open_call("test:///default")).unwrap();
    read_reply(&mut s).expect("open reply");
    s
}

pub fn connect(d: &Daemon) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", d.port)).expect("connect");
    // Generous: a stock libvirtd on a loaded 2-CPU machine can take seconds
    // to accept; a daemon that never answers still fails the test.
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Read one reply: (header words, payload), or None at end of stream.
pub fn read_reply(s: &mut TcpStream) -> Option<([u32; 6], Vec<u8>)> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).ok()?;
    let len = u32::from_be_bytes(len) as usize;
    let mut msg = vec![0u8; len - 4];
    s.read_exact(&mut msg).ok()?;
    let mut h = [0u32; 6];
    for (i, w) in h.iter_mut().enumerate() {
        *w = u32::from_be_bytes(msg[i * 4..i * 4 + 4].try_into().unwrap());
    }
    Some((h, msg[24..].to_vec()))
}

/// The message text of an error reply.
pub fn error_text(payload: &[u8]) -> String {
    let has = u32::from_be_bytes(payload[8..12].try_into().unwrap());
    assert_eq!(has, 1);
    let n = u32::from_be_bytes(payload[12..16].try_into().unwrap()) as usize;
    String::from_utf8_lossy(&payload[16..16 + n]).into_owned()
}

pub fn expect_error(s: &mut TcpStream, packet: &[u8], serial: u32, want: &str) {
    s.write_all(packet).unwrap();
    let (h, payload) = read_reply(s).unwrap_or_else(|| panic!("no reply, want '{want}'"));
    assert_eq!(h[3], 1, "type reply");
    assert_eq!(h[4], serial);
    assert_eq!(h[5], 1, "status error");
    assert_eq!(error_text(&payload), want);
}

pub fn expect_closed(d: &Daemon, bytes: &[u8]) {
    let mut s = connect(d);
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected the connection to close, got {other:?}"),
    }
}

/// A client that works: open, then CONNECT_GET_TYPE.
pub fn healthy(d: &Daemon) {
    let mut s = connect(d);
    s.write_all(&open_call("test:///default")).unwrap();
    let (h, _) = read_reply(&mut s).expect("open reply");
    assert_eq!(h[5], 0, "open ok");
    s.write_all(&message(REMOTE, 1, 3, 0, 2, 0, &[])).unwrap();
    let (h, payload) = read_reply(&mut s).expect("type reply");
    assert_eq!(h[5], 0);
    assert_eq!(&payload[4..8], b"TEST");
}
