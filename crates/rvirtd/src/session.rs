//! One client connection: a reader, a writer and the keepalive, as three
//! futures of one task (libvirtd serves a client from its event loop the
//! same way).
//!
//! The reader frames messages, answers keepalive and quick reads
//! ([`dispatch::runs_inline`]) itself, hands every other call to a worker
//! and routes `STREAM` packets to their stream. Worker calls run
//! concurrently, as on libvirtd's worker pool: on blocking threads, at most
//! `max_workers` at once daemon-wide (plus `prio_workers` for high-priority
//! calls), each reply queued when its call completes (clients match replies
//! by serial). So a long `DOMAIN_MIGRATE_PERFORM3_PARAMS` does not hold up
//! the `GET_JOB_INFO` polls or the `ABORT_JOB` another thread sends on the
//! same connection.
//!
//! Every message read takes one of the client's `max_client_requests`
//! slots, given back when its answer has been written to the socket; with
//! no slot free the reader stops reading, so a client that does not read
//! its replies (or PONGs) stops being read (`nrequests` in
//! virnetserverclient.c). The writer drains the bounded
//! [`Outbox`](crate::outbox). Nothing here waits on a driver: cleanup and
//! every call that may block run on blocking threads, so the reactor keeps
//! answering other clients whatever this one asks.

use crate::clients::Registration;
use crate::dispatch::stream::{Input, Splice};
use crate::dispatch::{self, Action, Client, RawHeader, Reply};
use crate::framing::{write_packets, Message, MessageReader};
use crate::outbox::{outbox, Next, Outbox, OutboxReceiver, RequestSlot};
use crate::pool::WorkerPool;
use parking_lot::Mutex;
use rvirt_rpc::remote::{self, Procedure};
use rvirt_rpc::{keepalive, MessageType, Packet};
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{watch, Semaphore};

/// What a session needs from the daemon.
pub struct SessionConfig {
    pub default_uri: String,
    /// Seconds between server pings; 0 or less disables them.
    pub keepalive_interval: i32,
    pub keepalive_count: u32,
    /// The worker pool, over all clients.
    pub pool: Arc<WorkerPool>,
    /// Messages one client may have read and not yet answered; past it the
    /// daemon stops reading that client (libvirtd's `max_client_requests`).
    pub max_client_requests: usize,
    /// Bytes of events and other unsolicited messages queued for a client
    /// before it is disconnected (rvirt's own `max_client_queued_bytes`).
    pub max_client_queued_bytes: usize,
    /// Streams one client may have open (rvirt's own `max_client_streams`).
    pub max_client_streams: usize,
}

/// The server side of keepalive (`virKeepAlive`): when the client last
/// spoke, and how many pings went unanswered since (any message answers).
#[derive(Debug)]
struct KeepAlive {
    last_rx: Instant,
    missed: u32,
}

type Activity = Mutex<KeepAlive>;

fn heard(activity: &Activity) {
    let mut k = activity.lock();
    k.last_rx = Instant::now();
    k.missed = 0;
}

/// Serve one client until it leaves, breaks the protocol, stops answering
/// keepalive, lets its queue overflow, is closed through the admin program
/// (`virAdmClientClose`), or the daemon shuts down. Its registration in
/// the server's client list ends with it.
pub async fn serve<S>(
    stream: S,
    reg: Registration,
    peer: String,
    cfg: Arc<SessionConfig>,
    mut shutdown: watch::Receiver<bool>,
    auth: crate::auth::ClientAuth,
    splice_fd: Option<Arc<OwnedFd>>,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let readonly = reg.entry.readonly();
    tracing::info!(%peer, readonly, id = reg.entry.id, "client connected");
    let (rd, wr) = tokio::io::split(stream);
    let wr = tokio::sync::Mutex::new(wr);
    let (out, outbox_rx) = outbox(cfg.max_client_queued_bytes);
    let mut client = Client::new(readonly, cfg.default_uri.clone(), out.clone());
    client.attach(reg.entry.clone());
    client.set_auth(auth);
    let client = Arc::new(client);
    let activity = Mutex::new(KeepAlive {
        last_rx: Instant::now(),
        missed: 0,
    });
    let s = Session {
        client: &client,
        out: &out,
        cfg: &cfg,
        peer: &peer,
        wr: &wr,
        splice_fd,
    };
    tokio::select! {
        _ = s.read_loop(rd, &activity) => {}
        _ = s.write_loop(outbox_rx) => {}
        _ = s.keepalive_loop(&activity) => {}
        _ = out.overflowed() => {}
        _ = reg.entry.closed() => tracing::info!(%peer, "client closed by the admin program"),
        _ = shutdown.wait_for(|v| *v) => {}
    }
    if let Some(bytes) = out.overflow_bytes() {
        tracing::warn!(
            %peer,
            "closing client: {bytes} bytes of events queued and not read \
             (max_client_queued_bytes = {})",
            cfg.max_client_queued_bytes
        );
    }
    // Frees the request slots of unwritten answers; workers still running
    // find the queue closed.
    out.close();
    drop(wr);
    reg.entry.release_socket();
    // Closing the connection may wait (a remote one is a round trip, to
    // this very daemon if it points back here): never on the reactor.
    let c = client.clone();
    if tokio::task::spawn_blocking(move || c.cleanup())
        .await
        .is_err()
    {
        tracing::error!(%peer, "client cleanup panicked");
    }
    drop(reg);
    tracing::info!(%peer, "client disconnected");
}

/// One session's shared parts, borrowed by its three futures.
struct Session<'a, W> {
    client: &'a Arc<Client>,
    out: &'a Outbox,
    cfg: &'a Arc<SessionConfig>,
    peer: &'a str,
    wr: &'a tokio::sync::Mutex<W>,
    /// The client's socket where it carries the bytes as they are (TCP,
    /// UNIX; not TLS): stream data can be spliced from it.
    splice_fd: Option<Arc<OwnedFd>>,
}

/// What became of a [`Message::Splice`].
enum Spliced {
    /// The stream's pump took the data.
    Done,
    /// No pump takes it: read the rest and handle the message as usual.
    Not(Vec<u8>),
    /// The pump had ended: the rest is read and dropped.
    Dropped,
}

/// Is this a REMOTE CONNECT_CLOSE call? After it libvirtd reads nothing
/// more from the client (`delayedClose` leaves the socket out of the
/// read poll) and closes once its reply is written.
fn is_close_call(h: &RawHeader) -> bool {
    h.prog == remote::PROGRAM
        && h.proc_ == Procedure::ConnectClose as i32
        && h.type_ == MessageType::Call as i32
}

impl<W: AsyncWrite + Unpin + Send> Session<'_, W> {
    /// A request slot: free at once, or (after libvirtd's warning) when an
    /// answer has been written.
    async fn slot(&self, requests: &Arc<Semaphore>, warned: &mut bool) -> Option<RequestSlot> {
        if let Ok(slot) = requests.clone().try_acquire_owned() {
            return Some(slot);
        }
        if !*warned && self.cfg.max_client_requests > 1 {
            *warned = true;
            tracing::warn!(
                peer = %self.peer,
                "Client hit max requests limit {}. This may result in keep-alive timeouts. \
                 Consider tuning the max_client_requests server parameter",
                self.cfg.max_client_requests
            );
        }
        requests.clone().acquire_owned().await.ok()
    }

    async fn read_loop<R: AsyncRead + Unpin>(&self, rd: R, activity: &Activity) {
        let mut reader = MessageReader::new(rd);
        let requests = Arc::new(Semaphore::new(self.cfg.max_client_requests.max(1)));
        let mut warned = false;
        loop {
            let Some(slot) = self.slot(&requests, &mut warned).await else {
                return;
            };
            // Only while a stream is open do large data packets stay in
            // the socket for the stream to splice (reads stop at each
            // message's end then: one more read per message).
            let spliceable = self.splice_fd.is_some() && !self.client.streams().is_empty();
            let next = match spliceable {
                true => reader.next_spliceable().await,
                false => reader.next().await,
            };
            let (msg, data) = match next {
                Ok(Some(Message::Whole(msg))) => (msg, None),
                Ok(Some(Message::Data { header, data })) => (header, Some(data)),
                Ok(Some(Message::Splice { header, head, rest })) => {
                    heard(activity);
                    let head = match self.splice(&header, head, rest).await {
                        Spliced::Done => continue,
                        Spliced::Not(head) => Some(head),
                        Spliced::Dropped => None,
                    };
                    let more = match reader.read_rest(rest).await {
                        Ok(more) => more,
                        Err(e) => {
                            tracing::warn!(peer = %self.peer, "closing client: {e}");
                            return;
                        }
                    };
                    match head {
                        Some(head) => (header, Some([head, more].concat())),
                        None => continue,
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(peer = %self.peer, "closing client: {e}");
                    return;
                }
            };
            heard(activity);
            match dispatch::classify(&msg) {
                Action::Send(p) => self.out.answer(p, slot),
                Action::Nothing => {}
                Action::Close(reason) => {
                    tracing::warn!(peer = %self.peer, "closing client: {reason}");
                    return;
                }
                Action::Call(h) => {
                    let close = is_close_call(&h);
                    self.call(h, msg, slot).await;
                    if close {
                        // The writer ends the session after the reply.
                        std::future::pending::<()>().await;
                    }
                }
                Action::Stream(h) => match dispatch::stream_message(self.client, &h, &msg, data) {
                    // A full queue stops the reading until the driver
                    // catches up: back-pressure on the client.
                    Some(d) => {
                        let _ = d.tx.send(d.msg).await;
                    }
                    None => tracing::info!(
                        serial = h.serial,
                        proc_ = h.proc_,
                        status = h.status,
                        "Ignoring unexpected stream data"
                    ),
                },
            }
        }
    }

    /// Hand a data packet whose data is still in the socket to its
    /// stream's pump and wait until the pump has taken it from the socket
    /// (back-pressure: nothing is read meanwhile).
    async fn splice(&self, header: &[u8], head: Vec<u8>, rest: usize) -> Spliced {
        let (Some(fd), Action::Stream(h)) = (&self.splice_fd, dispatch::classify(header)) else {
            return Spliced::Not(head);
        };
        let Some(tx) = self.client.streams().sender(&h.stream_id()) else {
            return Spliced::Not(head);
        };
        let (done, taken) = tokio::sync::oneshot::channel();
        let sp = Splice {
            head,
            rest,
            fd: fd.clone(),
            done,
        };
        if let Err(e) = tx.send(Input::Splice(sp)).await {
            return match e.0 {
                Input::Splice(sp) => Spliced::Not(sp.head),
                Input::Packet(_) => Spliced::Dropped,
            };
        }
        match taken.await {
            Ok(()) => Spliced::Done,
            Err(_) => Spliced::Dropped,
        }
    }

    /// Run one call: inline when it is a quick read and nothing runs on
    /// the pool (so the driver's lock cannot be held by a long call and
    /// the reactor cannot wait on it), else on a worker.
    async fn call(&self, h: RawHeader, mut msg: Vec<u8>, slot: RequestSlot) {
        let payload = msg.split_off(dispatch::payload_start(&h));
        if dispatch::call_opens_stream(&h)
            && self.client.streams().len() >= self.cfg.max_client_streams
        {
            tracing::warn!(peer = %self.peer, "refusing stream: too many open streams");
            let err = dispatch::rpc_error(format!(
                "Too many open streams (max_client_streams = {})",
                self.cfg.max_client_streams
            ));
            self.out.answer(dispatch::error_reply(&h, &err), slot);
            return;
        }
        if dispatch::runs_inline(self.client, &h) && self.cfg.pool.idle() {
            let reply = dispatch::run(self.client, &h, &payload).packet;
            self.reply_now(reply, slot).await;
            return;
        }
        dispatch::prepare_call(self.client, &h);
        tokio::spawn(run_call(
            self.client.clone(),
            self.cfg.clone(),
            slot,
            h,
            payload,
        ));
    }

    /// Write a quick read's reply straight to the socket when the writer
    /// is idle, saving a hop through the queue (a reply to another serial
    /// may overtake what is queued); otherwise queue it. Either way its
    /// slot is freed once it is written.
    async fn reply_now(&self, reply: Packet, slot: RequestSlot) {
        let Ok(mut w) = self.wr.try_lock() else {
            self.out.answer(reply, slot);
            return;
        };
        let bytes = match reply.to_bytes() {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("dropping unencodable reply: {e}");
                return;
            }
        };
        if let Err(e) = w.write_all(&bytes).await {
            tracing::debug!(peer = %self.peer, "write to client failed: {e}");
            // The writer meets the same error and ends the session.
            self.out.close();
            std::future::pending::<()>().await;
        }
        drop(slot);
    }

    async fn write_loop(&self, mut outbox: OutboxReceiver) {
        while let Some(next) = outbox.recv().await {
            let first = match next {
                Next::Packet(q) => q,
                // Logged by the session as it ends.
                Next::Overflowed(_) => return,
            };
            let client = self.client;
            let closing = |p: &Packet| is_close_reply(p) && client.close_requested();
            let mut wr = self.wr.lock().await;
            match write_packets(&mut *wr, first, &mut outbox, closing).await {
                Ok(false) => {}
                Ok(true) => return,
                Err(e) => {
                    tracing::debug!(peer = %self.peer, "write to client failed: {e}");
                    return;
                }
            }
        }
    }

    /// Ping an idle client that asked for keepalive; give up after
    /// `keepalive_count` unanswered pings (`virKeepAliveTimer`), whether or
    /// not the writer is stuck on a client that stopped reading.
    async fn keepalive_loop(&self, activity: &Activity) {
        if self.cfg.keepalive_interval <= 0 {
            return std::future::pending().await;
        }
        let interval = Duration::from_secs(self.cfg.keepalive_interval as u64);
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if !self.client.keepalive_wanted() {
                continue;
            }
            let missed = {
                let mut k = activity.lock();
                if k.last_rx.elapsed() < interval {
                    continue;
                }
                k.missed += 1;
                k.missed - 1
            };
            if missed >= self.cfg.keepalive_count {
                tracing::warn!(
                    peer = %self.peer,
                    "No response from client after {missed} keepalive messages"
                );
                return;
            }
            self.client.send(keepalive::ping());
        }
    }
}

/// One call on the worker pool: its reply goes to the outbox with the
/// client's request slot (freed once written), then a stream it opened is
/// pumped (still off the reactor, without a worker: libvirtd moves stream
/// data in its event loop, not on a worker).
async fn run_call(
    client: Arc<Client>,
    cfg: Arc<SessionConfig>,
    slot: RequestSlot,
    h: RawHeader,
    payload: Vec<u8>,
) {
    let high = dispatch::is_high_priority(&h);
    let Some(worker) = cfg.pool.acquire(high).await else {
        return;
    };
    let cx = client.clone();
    let reply = tokio::task::spawn_blocking(move || dispatch::run(&cx, &h, &payload)).await;
    drop(worker);
    let Ok(Reply { packet, then }) = reply else {
        tracing::error!(serial = h.serial, proc_ = h.proc_, "call panicked");
        return;
    };
    client.outbox().answer(packet, slot);
    if let Some(pump) = then {
        let _busy = cfg.pool.busy();
        let _ = tokio::task::spawn_blocking(move || pump.run()).await;
    }
}

/// Is this the reply to CONNECT_CLOSE (after which the connection closes)?
fn is_close_reply(p: &Packet) -> bool {
    p.header.type_ == MessageType::Reply
        && remote::is_remote(&p.header)
        && p.header.proc_ == Procedure::ConnectClose as i32
}
