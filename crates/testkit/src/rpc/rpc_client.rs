//! A typed RPC client over a raw socket, for tests that must do what no
//! well-behaved client does (never read, send after close, flood): it
//! encodes with rvirt-rpc's own types and hides nothing.

use rvirt_rpc::remote::{self, Procedure};
use rvirt_rpc::{FrameReader, Header, MessageType, Packet, XdrEncode};
use rvirt_util::Error;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// A byte stream a test client can talk over.
pub trait Wire: Read + Write + Send {
    fn set_timeouts(&self, read: Option<Duration>, write: Option<Duration>);
}

impl Wire for TcpStream {
    fn set_timeouts(&self, read: Option<Duration>, write: Option<Duration>) {
        self.set_read_timeout(read).expect("read timeout");
        self.set_write_timeout(write).expect("write timeout");
    }
}

impl Wire for UnixStream {
    fn set_timeouts(&self, read: Option<Duration>, write: Option<Duration>) {
        self.set_read_timeout(read).expect("read timeout");
        self.set_write_timeout(write).expect("write timeout");
    }
}

/// What came back for one call.
#[derive(Debug)]
pub enum Answer {
    Ok(Packet),
    Err(Error),
    /// The daemon closed the connection (or reset it).
    Closed,
    /// Nothing within the read timeout.
    Silent,
}

impl Answer {
    /// The error's message; panics with the answer otherwise.
    pub fn error_message(&self) -> String {
        match self {
            Answer::Err(e) => e.message.clone(),
            other => panic!("expected an error reply, got {other:?}"),
        }
    }
}

pub struct RpcClient {
    wire: Box<dyn Wire>,
    frames: FrameReader,
    serial: u32,
}

impl RpcClient {
    pub fn tcp(port: u16) -> RpcClient {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        RpcClient::over(Box::new(s))
    }

    pub fn unix(path: &Path) -> RpcClient {
        RpcClient::over(Box::new(UnixStream::connect(path).expect("connect")))
    }

    fn over(wire: Box<dyn Wire>) -> RpcClient {
        wire.set_timeouts(Some(Duration::from_secs(10)), Some(Duration::from_secs(10)));
        RpcClient {
            wire,
            frames: FrameReader::new(),
            serial: 0,
        }
    }

    pub fn set_timeouts(&self, read: Option<Duration>, write: Option<Duration>) {
        self.wire.set_timeouts(read, write);
    }

    /// Encode a REMOTE call of `proc_` with `body` (serial assigned here).
    pub fn encode<T: XdrEncode + ?Sized>(&mut self, proc_: Procedure, body: &T) -> Vec<u8> {
        self.encode_typed(proc_, MessageType::Call, body)
    }

    pub fn encode_typed<T: XdrEncode + ?Sized>(
        &mut self,
        proc_: Procedure,
        type_: MessageType,
        body: &T,
    ) -> Vec<u8> {
        self.serial += 1;
        let mut header = Header::call(
            remote::PROGRAM,
            remote::PROTOCOL_VERSION,
            proc_ as i32,
            self.serial,
        );
        header.type_ = type_;
        Packet::with_body(header, body)
            .expect("encode")
            .to_bytes()
            .expect("frame")
    }

    /// Write bytes; an error if the daemon stopped taking them within the
    /// write timeout or closed the connection.
    pub fn send_bytes(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.wire.write_all(bytes)
    }

    /// Write one packet, which must go out.
    pub fn send_packet(&mut self, p: &Packet) {
        self.send_bytes(&p.to_bytes().expect("frame"))
            .expect("send to the daemon");
    }

    /// The next reply, skipping keepalive, events and stream data.
    pub fn recv(&mut self) -> Answer {
        loop {
            match self.frames.next_packet() {
                Ok(Some(p)) if p.header.type_ == MessageType::Reply => {
                    return match p.error() {
                        Some(Ok(e)) => Answer::Err(e),
                        Some(Err(_)) => panic!("undecodable error reply"),
                        None => Answer::Ok(p),
                    };
                }
                Ok(Some(_)) => continue,
                Ok(None) => {
                    if let Err(end) = self.read_more() {
                        return end;
                    }
                }
                Err(e) => panic!("bad frame from the daemon: {e:?}"),
            }
        }
    }

    /// The next packet of any kind (reply, event, stream data); panics
    /// when none comes.
    pub fn next_packet(&mut self) -> Packet {
        loop {
            match self.frames.next_packet() {
                Ok(Some(p)) => return p,
                Ok(None) => {
                    if let Err(end) = self.read_more() {
                        panic!("no packet from the daemon: {end:?}");
                    }
                }
                Err(e) => panic!("bad frame from the daemon: {e:?}"),
            }
        }
    }

    /// Read what the daemon sent into the frame reader; `Closed` or
    /// `Silent` when nothing came.
    fn read_more(&mut self) -> Result<(), Answer> {
        let mut buf = vec![0u8; 64 * 1024];
        match self.wire.read(&mut buf) {
            Ok(0) => Err(Answer::Closed),
            Ok(n) => {
                self.frames.push(&buf[..n]);
                Ok(())
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Err(Answer::Silent)
            }
            Err(_) => Err(Answer::Closed),
        }
    }

    /// One call and its answer.
    pub fn call<T: XdrEncode + ?Sized>(&mut self, proc_: Procedure, body: &T) -> Answer {
        let bytes = self.encode(proc_, body);
        self.send_and_recv(&bytes)
    }

    /// A call of procedure number `proc_` (in the table or not) with
    /// `payload` as its argument bytes, and its answer.
    pub fn call_bytes(&mut self, proc_: i32, payload: &[u8]) -> Answer {
        self.serial += 1;
        let header = Header::call(
            remote::PROGRAM,
            remote::PROTOCOL_VERSION,
            proc_,
            self.serial,
        );
        let bytes = Packet::new(header, payload.to_vec())
            .to_bytes()
            .expect("frame");
        self.send_and_recv(&bytes)
    }

    fn send_and_recv(&mut self, bytes: &[u8]) -> Answer {
        if self.send_bytes(bytes).is_err() {
            return Answer::Closed;
        }
        self.recv()
    }

    /// CONNECT_OPEN `uri`, which must succeed.
    pub fn open(&mut self, uri: &str) {
        self.open_with(uri, 0);
    }

    /// CONNECT_OPEN `uri` with `flags` (1: read-only), which must succeed.
    pub fn open_with(&mut self, uri: &str, flags: u32) {
        let args = remote::ConnectOpenArgs {
            name: Some(uri.to_string()),
            flags,
        };
        match self.call(Procedure::ConnectOpen, &args) {
            Answer::Ok(_) => {}
            other => panic!("open {uri}: {other:?}"),
        }
    }
}
