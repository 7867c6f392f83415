//! Incoming data streams (libvirt's remote_daemon_stream.c, the direction
//! tunnelled migration uses: client → daemon → driver).
//!
//! When a call that opens a stream arrives, the session registers an
//! [`Incoming`] slot for its serial *before* the call runs, so STREAM
//! packets that race ahead of the reply are queued, not dropped. The slot's
//! channel is bounded: when the driver is behind, the session stops reading
//! the client's socket (libvirtd's back-pressure). After the reply, a
//! [`Pump`] on a blocking thread feeds each packet to the `rvirt::Stream`:
//! data to `send`, `OK` to `finish` (answered by `OK`, or `ERROR` with the
//! driver's error), `ERROR` to `abort` (confirmed by `OK`). A driver error
//! while writing fails the stream with a `STREAM`/`ERROR` at once. Packets
//! for a serial with no open stream are ignored, as libvirtd ignores them;
//! a client that goes away aborts its streams.
//!
//! A console stream also carries data the other way: a [`Pump::duplex`]
//! runs a second thread that reads the driver's side (`recv`) and sends it
//! as `STREAM`/`CONTINUE` packets, then an empty `CONTINUE` at its end (the
//! guest went away), or `ERROR` when the read fails (remote_daemon_stream.c's
//! `daemonStreamHandleRead`). It reads again only while less than a window
//! of its output waits for the client, so a client that reads slowly slows
//! the guest's console instead of being disconnected.

use super::client::Outbox;
use parking_lot::{Mutex, MutexGuard};
use rvirt_rpc::{StreamId, StreamMessage};
use rvirt_util::splice;
use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Stream packets queued per stream before the reader waits (≈2 MiB of
/// data at 262,120 bytes a packet).
const QUEUE: usize = 8;

/// What the session hands a stream's pump.
pub enum Input {
    Packet(StreamMessage),
    Splice(Splice),
}

/// A data packet whose data is still in the client's socket (plain TCP or
/// UNIX): `head`, the part the session read, then `rest` bytes in `fd`
/// that the pump moves into the stream, spliced where the driver's side
/// is a socket too (a tunnelled migration into QEMU). The session reads
/// nothing until `done`; dropped unsent, the session reads `rest` itself.
pub struct Splice {
    pub head: Vec<u8>,
    pub rest: usize,
    pub fd: Arc<OwnedFd>,
    pub done: tokio::sync::oneshot::Sender<()>,
}

struct Slot {
    id: StreamId,
    tx: mpsc::Sender<Input>,
    rx: Option<mpsc::Receiver<Input>>,
}

/// A client's open incoming streams, by serial.
#[derive(Clone, Default)]
pub struct Streams {
    slots: Arc<Mutex<HashMap<u32, Slot>>>,
}

impl Streams {
    fn lock(&self) -> MutexGuard<'_, HashMap<u32, Slot>> {
        self.slots.lock()
    }

    /// Open the slot for the stream a call is about to create. A serial
    /// reused while its stream is open replaces it (the old one aborts).
    pub fn open(&self, id: StreamId) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let slot = Slot {
            id,
            tx,
            rx: Some(rx),
        };
        self.lock().insert(id.serial, slot);
    }

    /// The queue for a packet of this stream, if it is open.
    pub fn sender(&self, id: &StreamId) -> Option<mpsc::Sender<Input>> {
        self.lock()
            .get(&id.serial)
            .filter(|s| s.id == *id)
            .map(|s| s.tx.clone())
    }

    /// The receiving end for the call that opened `id` (opening the slot if
    /// the session did not). Dropping it closes the stream.
    pub fn take(&self, id: StreamId) -> StreamInput {
        let mut slots = self.lock();
        let rx = slots
            .get_mut(&id.serial)
            .filter(|s| s.id == id)
            .and_then(|s| s.rx.take());
        let rx = match rx {
            Some(rx) => rx,
            None => {
                let (tx, rx) = mpsc::channel(QUEUE);
                slots.insert(id.serial, Slot { id, tx, rx: None });
                rx
            }
        };
        StreamInput {
            id,
            rx,
            streams: self.clone(),
        }
    }

    /// Forget every stream (the client left): their pumps see the end of
    /// input and abort.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many streams are open (bounded by `max_client_streams`).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    pub fn is_open(&self, serial: u32) -> bool {
        self.lock().contains_key(&serial)
    }

    fn close(&self, id: StreamId) {
        let mut slots = self.lock();
        if slots.get(&id.serial).is_some_and(|s| s.id == id) {
            slots.remove(&id.serial);
        }
    }
}

/// The packets of one stream, in order; closes the slot when dropped.
pub struct StreamInput {
    id: StreamId,
    rx: mpsc::Receiver<Input>,
    streams: Streams,
}

impl StreamInput {
    pub fn id(&self) -> StreamId {
        self.id
    }
}

impl Drop for StreamInput {
    fn drop(&mut self) {
        self.streams.close(self.id);
    }
}

/// The most one read of a duplex stream's driver side takes.
const READ_CHUNK: usize = 64 * 1024;

/// Output bytes a duplex stream may have waiting for its client before
/// the driver's side is read again (back-pressure toward the guest).
const OUTPUT_WINDOW: usize = 1024 * 1024;

/// Feeds one stream's packets to its `rvirt::Stream`, after the reply to
/// the call that opened it has been queued.
pub struct Pump {
    st: rvirt::Stream,
    input: Option<StreamInput>,
    outbox: Outbox,
    duplex: bool,
}

impl Pump {
    pub fn new(st: rvirt::Stream, input: StreamInput, outbox: Outbox) -> Pump {
        Pump {
            st,
            input: Some(input),
            outbox,
            duplex: false,
        }
    }

    /// A pump that also sends what the driver's side produces.
    pub fn duplex(st: rvirt::Stream, input: StreamInput, outbox: Outbox) -> Pump {
        let mut pump = Pump::new(st, input, outbox);
        pump.duplex = true;
        pump
    }

    /// Run to the end of the stream. Blocks: call it off the reactor.
    pub fn run(mut self) {
        let Some(input) = self.input.take() else {
            return;
        };
        // Set once the client's side ended: the reader sends no more.
        let ended = Arc::new(AtomicBool::new(false));
        if self.duplex {
            let (st, outbox, id) = (self.st.clone(), self.outbox.clone(), input.id);
            let ended = ended.clone();
            std::thread::spawn(move || send_output(&st, &outbox, id, &ended));
        }
        self.feed(input, &ended);
    }

    /// Hand the client's packets to the driver until the stream ends
    /// (`ended` is set before the driver's side is closed).
    fn feed(&self, mut input: StreamInput, ended: &AtomicBool) {
        let id = input.id;
        loop {
            let msg = input.rx.blocking_recv();
            if !matches!(
                msg,
                Some(Input::Packet(StreamMessage::Data(_)) | Input::Splice(_))
            ) {
                ended.store(true, Ordering::SeqCst);
            }
            let Some(msg) = msg else {
                tracing::debug!(serial = id.serial, "client gone: aborting stream");
                let _ = self.st.abort();
                return;
            };
            let msg = match msg {
                Input::Packet(p) => p,
                Input::Splice(sp) => {
                    let res = self.splice(&sp);
                    let _ = sp.done.send(());
                    if let Err(e) = res {
                        tracing::info!(serial = id.serial, "stream send failed: {e}");
                        let _ = self.st.abort();
                        let _ = self.outbox.send(id.error(&e));
                        return;
                    }
                    continue;
                }
            };
            match msg {
                StreamMessage::Data(data) => {
                    if let Err(e) = self.st.send(&data) {
                        tracing::info!(serial = id.serial, "stream send failed: {e}");
                        let _ = self.st.abort();
                        let _ = self.outbox.send(id.error(&e));
                        return;
                    }
                }
                StreamMessage::Finish => {
                    let answer = match self.st.finish() {
                        Ok(()) => id.finish(),
                        Err(e) => id.error(&e),
                    };
                    let _ = self.outbox.send(answer);
                    return;
                }
                StreamMessage::Error(_) => {
                    tracing::info!(serial = id.serial, "stream aborted at client request");
                    let answer = match self.st.abort() {
                        Ok(()) => id.finish(),
                        Err(e) => id.error(&e),
                    };
                    let _ = self.outbox.send(answer);
                    return;
                }
            }
        }
    }
}

impl Pump {
    /// Send a [`Splice`]'s data: its head, then the rest from the socket,
    /// spliced where the stream can, else read and sent. Whatever fails,
    /// all `rest` bytes are taken from the socket (or it is broken).
    fn splice(&self, sp: &Splice) -> rvirt_util::Result<()> {
        let cancelled = || sp.done.is_closed();
        let from = sp.fd.as_fd();
        let head = match sp.head.is_empty() {
            true => Ok(()),
            false => self.st.send(&sp.head),
        };
        if let Err(e) = head {
            let _ = splice::read_exact(from, sp.rest, &cancelled);
            return Err(e);
        }
        if let Some(res) = self.st.send_exact_from_fd(from, sp.rest, &cancelled) {
            return res;
        }
        let data = splice::read_exact(from, sp.rest, &cancelled).map_err(|e| {
            rvirt_util::Error::system(rvirt_util::ErrorDomain::RPC, "Cannot recv data", &e)
        })?;
        self.st.send(&data)
    }
}

/// Send what the driver's side of `st` produces until it ends, fails, or
/// the client's side `ended`.
fn send_output(st: &rvirt::Stream, outbox: &Outbox, id: StreamId, ended: &AtomicBool) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        // The end of the data is an empty CONTINUE, as libvirtd sends it
        // (an unasked-for OK would be a protocol error to the client).
        let (packet, last) = match st.recv(&mut buf) {
            Ok(n) => (id.data(&buf[..n]).map_err(|e| e.to_error()), n == 0),
            Err(e) => (Err(e), true),
        };
        let packet = packet.unwrap_or_else(|e| id.error(&e));
        if ended.load(Ordering::SeqCst) {
            return;
        }
        if outbox.send_paced(packet, OUTPUT_WINDOW).is_err() {
            let _ = st.abort();
            return;
        }
        if last {
            return;
        }
    }
}

impl Drop for Pump {
    /// A pump that never ran (its reply could not be sent) aborts.
    fn drop(&mut self) {
        if self.input.take().is_some() {
            let _ = self.st.abort();
        }
    }
}
