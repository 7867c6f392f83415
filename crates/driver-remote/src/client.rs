//! One RPC connection to a daemon (libvirt's `virNetClient`): a socket, a
//! reader thread that routes replies to their callers by serial, answers
//! keepalive PINGs and hands event messages to an event thread, and an
//! optional keepalive thread that PINGs an idle peer and gives up on a dead
//! one. Callers on any number of threads may call concurrently.

use crate::stream::{RemoteStream, StreamState};
use parking_lot::Mutex;
use rvirt_rpc::remote::{self, Procedure};
use rvirt_rpc::{
    keepalive, Call, FrameReader, Header, MessageStatus, MessageType, Packet, Proc, StreamId,
    StreamMessage, XdrDecode, XdrEncode,
};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// A connected stream socket.
pub enum Sock {
    Tcp(TcpStream),
    Unix(UnixStream),
    /// A TLS session; its clones share the session (see [`crate::tls`]).
    Tls(crate::tls::TlsStream),
}

impl Sock {
    /// The local and remote TCP addresses and, over TLS, the cipher's key
    /// size in bits: what SASL is told about the channel.
    pub fn sasl_channel(&self) -> crate::sasl::client::Channel {
        use crate::sasl::client::Channel;
        let tcp = |s: &TcpStream, tls_bits| Channel {
            local: s.local_addr().ok(),
            remote: s.peer_addr().ok(),
            tls_bits,
        };
        match self {
            Sock::Tcp(s) => tcp(s, None),
            Sock::Tls(s) => tcp(s.tcp(), Some(s.key_bits())),
            Sock::Unix(_) => Channel::default(),
        }
    }

    fn try_clone(&self) -> std::io::Result<Sock> {
        Ok(match self {
            Sock::Tcp(s) => Sock::Tcp(s.try_clone()?),
            Sock::Unix(s) => Sock::Unix(s.try_clone()?),
            Sock::Tls(s) => Sock::Tls(s.try_clone()?),
        })
    }

    fn shutdown(&self) {
        let _ = match self {
            Sock::Tcp(s) => s.shutdown(Shutdown::Both),
            Sock::Unix(s) => s.shutdown(Shutdown::Both),
            Sock::Tls(s) => {
                s.shutdown();
                Ok(())
            }
        };
    }
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.read(buf),
            Sock::Unix(s) => s.read(buf),
            Sock::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.write(buf),
            Sock::Unix(s) => s.write(buf),
            Sock::Tls(s) => s.write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.write_vectored(bufs),
            Sock::Unix(s) => s.write_vectored(bufs),
            Sock::Tls(s) => s.write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sock::Tcp(s) => s.flush(),
            Sock::Unix(s) => s.flush(),
            Sock::Tls(s) => s.flush(),
        }
    }
}

/// Keepalive settings: a PING after `interval` of silence, and the peer is
/// dead after `count` unanswered ones (libvirt's `virKeepAliveStart`).
#[derive(Clone, Copy, Debug)]
pub struct KeepAlive {
    pub interval: Duration,
    pub count: u32,
}

impl Default for KeepAlive {
    /// The remote driver's client defaults: 5 s, 5 PINGs.
    fn default() -> KeepAlive {
        KeepAlive {
            interval: Duration::from_secs(5),
            count: 5,
        }
    }
}

/// Receives each REMOTE event message, on the client's event thread.
pub type EventSink = Box<dyn Fn(Packet) + Send>;

type Waiter = Sender<Packet>;

struct State {
    pending: HashMap<u32, Waiter>,
    /// Open streams, by the serial of the call that opened them.
    streams: HashMap<u32, Arc<StreamState>>,
    /// Why the connection is gone, once it is.
    closed: Option<Error>,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    writer: Mutex<Sock>,
    /// A handle on the socket to shut it down with while a write blocks
    /// (holding `writer`) on a peer that stopped reading.
    closer: Sock,
    last_rx: Mutex<Instant>,
}

/// `client socket is closed`: what calls on a dead connection report.
pub fn closed_error() -> Error {
    Error::internal(ErrorDomain::RPC, "client socket is closed")
}

impl Shared {
    /// Mark the connection dead (first reason wins) and fail every waiter
    /// and stream.
    fn close(&self, why: Error) {
        let (waiters, streams): (Vec<Waiter>, Vec<Arc<StreamState>>) = {
            let mut st = self.state.lock();
            if st.closed.is_none() {
                st.closed = Some(why);
            }
            (
                st.pending.drain().map(|(_, w)| w).collect(),
                st.streams.drain().map(|(_, s)| s).collect(),
            )
        };
        drop(waiters); // a dropped sender wakes its caller with the error
        let reason = self.close_reason();
        for s in streams {
            s.fail(reason.clone());
        }
        self.closer.shutdown();
    }

    /// The stream is over on this side: later packets for it are dropped.
    pub(crate) fn forget_stream(&self, id: &StreamId) {
        let mut st = self.state.lock();
        if st.streams.get(&id.serial).is_some_and(|s| s.id() == *id) {
            st.streams.remove(&id.serial);
        }
    }

    fn close_reason(&self) -> Error {
        self.state
            .lock()
            .closed
            .clone()
            .unwrap_or_else(closed_error)
    }

    pub(crate) fn send(&self, packet: &Packet) -> Result<()> {
        let bytes = packet.to_bytes().map_err(|e| e.to_error())?;
        let res = self.writer.lock().write_all(&bytes);
        self.write_failed(res)
    }

    /// Send one frame given as its prefix (length word and header) and its
    /// payload, as one write under the writer's lock: stream data goes out
    /// from the caller's buffer, without a packet or a framed copy.
    pub(crate) fn send_frame(&self, prefix: &[u8], payload: &[u8]) -> Result<()> {
        let mut writer = self.writer.lock();
        let res = write_all_vectored(&mut *writer, prefix, payload);
        drop(writer);
        self.write_failed(res)
    }

    /// Send `packet` unless a write is under way (a PING that would wait
    /// behind a write blocked on a silent peer); whether it went.
    fn send_if_idle(&self, packet: &Packet) -> Result<bool> {
        let bytes = packet.to_bytes().map_err(|e| e.to_error())?;
        let Some(mut writer) = self.writer.try_lock() else {
            return Ok(false);
        };
        let res = writer.write_all(&bytes);
        drop(writer);
        self.write_failed(res).map(|()| true)
    }

    fn write_failed(&self, res: std::io::Result<()>) -> Result<()> {
        res.map_err(|e| {
            let err = Error::system(ErrorDomain::RPC, "Cannot write data", &e);
            self.close(err.clone());
            err
        })
    }
}

/// `head` then `body` on `w`, gathered into one system call where the
/// socket takes them whole (a stream packet's header and its data).
fn write_all_vectored(w: &mut dyn Write, head: &[u8], body: &[u8]) -> std::io::Result<()> {
    use std::io::IoSlice;
    let mut parts = [IoSlice::new(head), IoSlice::new(body)];
    let mut parts = &mut parts[..];
    while !parts.is_empty() {
        match w.write_vectored(parts) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut parts, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub struct Client {
    shared: Arc<Shared>,
    serial: AtomicU32,
    /// Dropping this stops the keepalive thread.
    keepalive_stop: Mutex<Option<Sender<()>>>,
}

impl Client {
    /// Wrap a connected socket and start the reader and event threads.
    pub fn new(sock: Sock, events: EventSink) -> Result<Client> {
        let dup = || {
            sock.try_clone()
                .map_err(|e| Error::system(ErrorDomain::RPC, "Unable to duplicate socket", &e))
        };
        let (reader, closer) = (dup()?, dup()?);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                pending: HashMap::new(),
                streams: HashMap::new(),
                closed: None,
            }),
            writer: Mutex::new(sock),
            closer,
            last_rx: Mutex::new(Instant::now()),
        });
        let (ev_tx, ev_rx) = mpsc::channel::<Packet>();
        thread::Builder::new()
            .name("rvirt-remote-events".into())
            .spawn(move || {
                for packet in ev_rx {
                    events(packet);
                }
            })
            .map_err(|e| Error::system(ErrorDomain::RPC, "Unable to create thread", &e))?;
        let sh = shared.clone();
        thread::Builder::new()
            .name("rvirt-remote-reader".into())
            .spawn(move || read_loop(reader, &sh, ev_tx))
            .map_err(|e| Error::system(ErrorDomain::RPC, "Unable to create thread", &e))?;
        Ok(Client {
            shared,
            serial: AtomicU32::new(0),
            keepalive_stop: Mutex::new(None),
        })
    }

    pub fn is_closed(&self) -> bool {
        self.shared.state.lock().closed.is_some()
    }

    /// Call a REMOTE procedure and wait for its reply. (The typed stubs,
    /// `RemoteCalls::call_*`, go through [`Call`] instead.)
    pub fn call<A: XdrEncode, R: XdrDecode>(&self, proc_: Procedure, args: &A) -> Result<R> {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let h = Header::call(
            remote::PROGRAM,
            remote::PROTOCOL_VERSION,
            proc_ as i32,
            serial,
        );
        self.call_serial(h, args, None)
    }

    /// Call a procedure that opens a stream (the tunnelled migration
    /// prepares). The stream exists before the call is sent, so an error
    /// the server fails it with is never missed; a failed call closes it.
    pub fn call_with_stream<A: XdrEncode, R: XdrDecode>(
        &self,
        proc_: Procedure,
        args: &A,
    ) -> Result<(R, RemoteStream)> {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let id = StreamId {
            prog: remote::PROGRAM,
            vers: remote::PROTOCOL_VERSION,
            proc_: proc_ as i32,
            serial,
        };
        let state = StreamState::new(id);
        let h = Header::call(id.prog, id.vers, id.proc_, serial);
        let ret = self.call_serial(h, args, Some(state.clone()));
        match ret {
            Ok(r) => Ok((r, RemoteStream::new(self.shared.clone(), state))),
            Err(e) => {
                self.shared.forget_stream(&id);
                Err(e)
            }
        }
    }

    /// Send the call `h` (of any program) and wait for its reply.
    fn call_serial<A: XdrEncode, R: XdrDecode>(
        &self,
        h: Header,
        args: &A,
        stream: Option<Arc<StreamState>>,
    ) -> Result<R> {
        let serial = h.serial;
        let packet = Packet::with_body(h, args).map_err(|e| {
            Error::raw(
                ErrorDomain::RPC,
                ErrorCode::RPC,
                format!("Unable to encode message payload: {e}"),
            )
        })?;
        let (tx, rx) = mpsc::channel();
        {
            let mut st = self.shared.state.lock();
            if st.closed.is_some() {
                return Err(closed_error());
            }
            st.pending.insert(serial, tx);
            if let Some(s) = stream {
                st.streams.insert(serial, s);
            }
        }
        tracing::trace!(prog = h.prog, proc_ = h.proc_, serial, "call");
        if let Err(e) = self.shared.send(&packet) {
            self.shared.state.lock().pending.remove(&serial);
            return Err(e);
        }
        let reply = rx.recv().map_err(|_| self.shared.close_reason())?;
        if reply.header.status == MessageStatus::Error {
            return Err(match reply.error() {
                Some(Ok(e)) => e,
                _ => decode_error(),
            });
        }
        reply.body().map_err(|_| decode_error())
    }

    /// Start keepalive PINGs (the server must support them).
    pub fn start_keepalive(&self, ka: KeepAlive) {
        let (tx, rx) = mpsc::channel::<()>();
        *self.keepalive_stop.lock() = Some(tx);
        let shared = self.shared.clone();
        let spawned = thread::Builder::new()
            .name("rvirt-remote-keepalive".into())
            .spawn(move || keepalive_loop(&shared, rx, ka));
        if let Err(e) = spawned {
            tracing::warn!("cannot start keepalive: {e}");
        }
    }

    /// Stop keepalive PINGs.
    pub fn stop_keepalive(&self) {
        self.keepalive_stop.lock().take();
    }

    /// Close the socket; pending and later calls fail.
    pub fn close(&self) {
        self.keepalive_stop.lock().take();
        self.shared.close(closed_error());
    }
}

/// The generated stubs (`RemoteCalls`, `QemuCalls`, `AdminCalls`) call
/// through this: the procedure's program, version and number come from its
/// declaration.
impl Call for Client {
    fn call_proc<P: Proc>(&self, args: &P::Args) -> Result<P::Ret> {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let h = Header::call(P::PROGRAM, P::VERSION, P::NUMBER, serial);
        self.call_serial(h, args, None)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}

fn decode_error() -> Error {
    Error::raw(
        ErrorDomain::RPC,
        ErrorCode::RPC,
        "Unable to decode message payload",
    )
}

fn read_loop(mut sock: Sock, shared: &Shared, events: Sender<Packet>) {
    let mut frames = FrameReader::new();
    let mut buf = vec![0u8; 65536];
    let why = 'outer: loop {
        let n = match sock.read(&mut buf) {
            Ok(0) => {
                let eio = std::io::Error::from_raw_os_error(5);
                break Error::system(ErrorDomain::RPC, "End of file while reading data", &eio);
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Error::system(ErrorDomain::RPC, "Cannot recv data", &e),
        };
        *shared.last_rx.lock() = Instant::now();
        frames.push(&buf[..n]);
        loop {
            match frames.next_packet() {
                Ok(Some(p)) => dispatch(p, shared, &events),
                Ok(None) => break,
                Err(e) => break 'outer e.to_error(),
            }
        }
    };
    tracing::debug!("remote connection closed: {why}");
    shared.close(why);
}

fn dispatch(p: Packet, shared: &Shared, events: &Sender<Packet>) {
    if let Some(kind) = keepalive::classify(&p) {
        if kind == keepalive::Procedure::Ping {
            let _ = shared.send(&keepalive::pong());
        }
        return;
    }
    // Replies to calls of the QEMU program (virDomainQemuMonitorCommand)
    // come back under that program, matched by serial as any other; its
    // events are not taken here.
    let qemu_reply = rvirt_rpc::qemu::is_qemu(&p.header)
        && matches!(
            p.header.type_,
            MessageType::Reply | MessageType::ReplyWithFds
        );
    if !remote::is_remote(&p.header) && !qemu_reply {
        tracing::debug!(prog = p.header.prog, "ignoring packet for unknown program");
        return;
    }
    match p.header.type_ {
        MessageType::Reply | MessageType::ReplyWithFds => {
            let (waiter, stream) = {
                let mut st = shared.state.lock();
                match st.pending.remove(&p.header.serial) {
                    Some(w) => (Some(w), None),
                    None => (None, st.streams.get(&p.header.serial).cloned()),
                }
            };
            match (waiter, stream) {
                (Some(w), _) => {
                    let _ = w.send(p);
                }
                // libvirtd answers a failed stream write, finish or abort
                // with an error REPLY carrying the stream's serial.
                (None, Some(s)) if s.id().matches(&p.header) => match p.error() {
                    Some(Ok(e)) => s.fail(e),
                    Some(Err(_)) => s.fail(decode_error()),
                    None => tracing::debug!(serial = p.header.serial, "stray stream reply"),
                },
                _ => tracing::debug!(serial = p.header.serial, "reply with no caller"),
            }
        }
        MessageType::Stream => {
            let stream = shared.state.lock().streams.get(&p.header.serial).cloned();
            let Some(s) = stream.filter(|s| s.id().matches(&p.header)) else {
                // Stream packets may trail a stream this side closed.
                tracing::debug!(serial = p.header.serial, "no stream for packet");
                return;
            };
            match StreamMessage::parse(p) {
                Ok(StreamMessage::Finish) => s.confirm(),
                Ok(StreamMessage::Error(e)) => s.fail(e.unwrap_or_else(|| {
                    Error::raw(
                        ErrorDomain::RPC,
                        ErrorCode::RPC,
                        "stream aborted by the server",
                    )
                })),
                Ok(StreamMessage::Data(data)) => s.data(&data),
                Err(_) => s.fail(decode_error()),
            }
        }
        MessageType::Message => {
            let _ = events.send(p);
        }
        other => tracing::debug!(?other, "ignoring unexpected packet"),
    }
}

fn keepalive_loop(shared: &Shared, stop: Receiver<()>, ka: KeepAlive) {
    let mut unanswered = 0u32;
    let mut last_ping = Instant::now();
    loop {
        match stop.recv_timeout(ka.interval.min(Duration::from_millis(500))) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        if shared.state.lock().closed.is_some() {
            return;
        }
        let idle = shared.last_rx.lock().elapsed();
        if idle < ka.interval {
            unanswered = 0;
            continue;
        }
        if last_ping.elapsed() < ka.interval && unanswered > 0 {
            continue;
        }
        if unanswered >= ka.count {
            shared.close(Error::internal(
                ErrorDomain::RPC,
                "connection closed due to keepalive timeout",
            ));
            return;
        }
        unanswered += 1;
        last_ping = Instant::now();
        // A PING that cannot go out because a write is stuck counts as
        // sent and unanswered (libvirt queues it), so a peer gone silent
        // mid-stream is given up on too.
        if shared.send_if_idle(&keepalive::ping()).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvirt_rpc::remote::{ConnectGetTypeRet, ConnectSupportsFeatureArgs};

    /// A fake server on the other end of a socketpair.
    struct Peer {
        sock: UnixStream,
        frames: FrameReader,
    }

    impl Peer {
        fn recv(&mut self) -> Option<Packet> {
            loop {
                if let Some(p) = self.frames.next_packet().unwrap() {
                    return Some(p);
                }
                let mut buf = [0u8; 4096];
                let n = self.sock.read(&mut buf).ok()?;
                if n == 0 {
                    return None;
                }
                self.frames.push(&buf[..n]);
            }
        }
        fn send(&mut self, p: &Packet) {
            self.sock.write_all(&p.to_bytes().unwrap()).unwrap();
        }
    }

    /// The error a `CONNECT_CLOSE` call ends with.
    fn close_err(client: &Client) -> Error {
        client
            .call::<_, ()>(Procedure::ConnectClose, &())
            .unwrap_err()
    }

    fn pair(events: EventSink) -> (Client, Peer) {
        let (a, b) = UnixStream::pair().unwrap();
        let client = Client::new(Sock::Unix(a), events).unwrap();
        (
            client,
            Peer {
                sock: b,
                frames: FrameReader::new(),
            },
        )
    }

    #[test]
    fn replies_are_routed_by_serial_and_pings_answered() {
        let (ev_tx, ev_rx) = mpsc::channel();
        let ev_tx = Mutex::new(ev_tx);
        let (client, mut peer) = pair(Box::new(move |p| {
            let _ = ev_tx.lock().send(p);
        }));
        let client = Arc::new(client);
        let server = thread::spawn(move || {
            // Collect two calls, answer them in reverse order with an event
            // and a PING in between.
            let a = peer.recv().unwrap();
            let b = peer.recv().unwrap();
            peer.send(&keepalive::ping());
            let pong = peer.recv().unwrap();
            assert_eq!(keepalive::classify(&pong), Some(keepalive::Procedure::Pong));
            peer.send(&remote::event(Procedure::DomainEventCallbackLifecycle, &7i32).unwrap());
            for call in [b, a] {
                let arg: ConnectSupportsFeatureArgs = call.body().unwrap();
                let ret = ConnectGetTypeRet {
                    type_: format!("T{}", arg.feature),
                };
                peer.send(&Packet::reply(&call.header, &ret).unwrap());
            }
            // A third call gets an error reply.
            let c = peer.recv().unwrap();
            let err = Error::new(ErrorDomain::DOM, ErrorCode::NO_DOMAIN, "x");
            peer.send(&Packet::error_reply(&c.header, &err).unwrap());
            // Then the server goes away.
            peer
        });
        let c1 = client.clone();
        let t1 = thread::spawn(move || {
            c1.call::<_, ConnectGetTypeRet>(
                Procedure::ConnectGetType,
                &ConnectSupportsFeatureArgs { feature: 1 },
            )
        });
        let c2 = client.clone();
        let t2 = thread::spawn(move || {
            c2.call::<_, ConnectGetTypeRet>(
                Procedure::ConnectGetType,
                &ConnectSupportsFeatureArgs { feature: 2 },
            )
        });
        assert_eq!(t1.join().unwrap().unwrap().type_, "T1");
        assert_eq!(t2.join().unwrap().unwrap().type_, "T2");
        let ev = ev_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(
            ev.header.proc_,
            Procedure::DomainEventCallbackLifecycle as i32
        );
        let e = close_err(&client);
        assert_eq!(e.message, "Domain not found: x");
        let peer = server.join().unwrap();
        drop(peer);
        // The peer closed: the next call fails, and so does any after it.
        let e = close_err(&client);
        // Which error depends on who notices first: the reader (EOF), the
        // writer (EPIPE) or neither yet (closed already).
        assert!(
            e.message == "internal error: client socket is closed"
                || e.message.starts_with("End of file while reading data")
                || e.message.starts_with("Cannot write data"),
            "{e}"
        );
        let e = close_err(&client);
        assert_eq!(e.message, "internal error: client socket is closed");
        assert!(client.is_closed());
    }

    #[test]
    fn pending_call_fails_when_peer_dies() {
        let (client, mut peer) = pair(Box::new(|_| {}));
        let server = thread::spawn(move || {
            let _ = peer.recv().unwrap();
            drop(peer);
        });
        let e = close_err(&client);
        assert_eq!(
            e.message,
            "End of file while reading data: Input/output error"
        );
        assert_eq!(e.code, ErrorCode::SYSTEM_ERROR);
        server.join().unwrap();
    }

    #[test]
    fn silent_peer_is_declared_dead() {
        let (client, mut peer) = pair(Box::new(|_| {}));
        client.start_keepalive(KeepAlive {
            interval: Duration::from_millis(100),
            count: 2,
        });
        // The peer reads PINGs but never answers.
        let server = thread::spawn(move || {
            let mut pings = 0;
            while let Some(p) = peer.recv() {
                if keepalive::classify(&p) == Some(keepalive::Procedure::Ping) {
                    pings += 1;
                }
            }
            pings
        });
        let start = Instant::now();
        while !client.is_closed() {
            assert!(start.elapsed() < Duration::from_secs(10), "never closed");
            thread::sleep(Duration::from_millis(20));
        }
        let e = close_err(&client);
        assert_eq!(e.message, "internal error: client socket is closed");
        assert_eq!(server.join().unwrap(), 2);
    }
}
