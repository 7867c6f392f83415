//! One client connection: a reader and a writer.
//!
//! The reader frames messages, answers keepalive and quick reads
//! ([`dispatch::runs_inline`]) itself, hands every other call to a worker
//! and routes `STREAM` packets to their stream. Worker calls run
//! concurrently, as on libvirtd's worker pool: on blocking threads, at most
//! `max_workers` at once daemon-wide, each reply written when its call
//! completes (clients match replies by serial). So a long
//! `DOMAIN_MIGRATE_PERFORM3_PARAMS` does not hold up the `GET_JOB_INFO`
//! polls or the `ABORT_JOB` another thread sends on the same connection.
//!
//! The writer drains the client's outbox (replies, events, stream answers,
//! pings) and runs the server side of keepalive. Either side ending ends
//! the session; open streams are then aborted.

use crate::dispatch::{self, Action, Client, Reply};
use crate::framing::{write_packets, MessageReader};
use rvirt_rpc::{keepalive, remote, MessageType, Packet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

/// What a session needs from the daemon.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub default_uri: String,
    /// Seconds between server pings; 0 or less disables them.
    pub keepalive_interval: i32,
    pub keepalive_count: u32,
    /// The worker pool: calls running at once, over all clients.
    pub workers: Arc<Semaphore>,
    /// Calls one client may have running at once; past it the daemon stops
    /// reading that client (libvirtd's `max_client_requests`).
    pub max_client_requests: usize,
}

/// What the reader tells the writer's keepalive: when the client last
/// spoke, and how many pings went unanswered since (any message answers).
#[derive(Debug)]
struct Activity {
    last_rx: Mutex<Instant>,
    missed: AtomicU32,
}

impl Activity {
    fn heard(&self) {
        *self.last_rx.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        self.missed.store(0, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        self.last_rx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }
}

/// Serve one client until it leaves, breaks the protocol, stops answering
/// keepalive, or the daemon shuts down.
pub async fn serve<S>(
    stream: S,
    readonly: bool,
    peer: String,
    cfg: Arc<SessionConfig>,
    shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    tracing::info!(%peer, readonly, "client connected");
    let (rd, wr) = tokio::io::split(stream);
    let wr = Arc::new(tokio::sync::Mutex::new(wr));
    let (out_tx, outbox) = mpsc::unbounded_channel::<Packet>();
    let client = Arc::new(Client::new(readonly, cfg.default_uri.clone(), out_tx));
    let activity = Arc::new(Activity {
        last_rx: Mutex::new(Instant::now()),
        missed: AtomicU32::new(0),
    });
    let (over_tx, over) = watch::channel(false);

    let writer = tokio::spawn(write_loop(
        wr.clone(),
        outbox,
        client.clone(),
        cfg.clone(),
        activity.clone(),
        peer.clone(),
        [shutdown.clone(), over.clone()],
    ));
    read_loop(rd, &wr, &client, &cfg, &activity, &peer, [shutdown, over]).await;
    let _ = over_tx.send(true);
    let _ = writer.await;
    // Workers still running hold the client; its connection closes when
    // the last of them is done.
    client.cleanup();
    tracing::info!(%peer, "client disconnected");
}

/// Resolves when any of the watched flags turns true (or its sender is
/// gone).
async fn any_set(stops: &mut [watch::Receiver<bool>; 2]) {
    let [a, b] = stops;
    tokio::select! {
        _ = a.wait_for(|v| *v) => {}
        _ = b.wait_for(|v| *v) => {}
    }
}

async fn read_loop<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    rd: R,
    wr: &tokio::sync::Mutex<W>,
    client: &Arc<Client>,
    cfg: &Arc<SessionConfig>,
    activity: &Activity,
    peer: &str,
    mut stops: [watch::Receiver<bool>; 2],
) {
    let mut reader = MessageReader::new(rd);
    let requests = Arc::new(Semaphore::new(cfg.max_client_requests.max(1)));
    loop {
        let msg = tokio::select! {
            msg = reader.read_message() => msg,
            _ = any_set(&mut stops) => return,
        };
        let msg = match msg {
            Ok(Some(msg)) => msg,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(%peer, "closing client: {e}");
                return;
            }
        };
        activity.heard();
        match dispatch::classify(&msg) {
            Action::Send(p) => client.send(p),
            Action::Nothing => {}
            Action::Call(h) if dispatch::runs_inline(client, &h) => {
                let reply = dispatch::run(client, &h, &msg[24..]).packet;
                if !reply_now(wr, client, reply, &mut stops, peer).await {
                    return;
                }
            }
            Action::Call(h) => {
                let request = tokio::select! {
                    r = requests.clone().acquire_owned() => r,
                    _ = any_set(&mut stops) => return,
                };
                let Ok(request) = request else { return };
                dispatch::prepare_call(client, &h);
                let mut payload = msg;
                let payload = payload.split_off(24);
                tokio::spawn(run_call(
                    client.clone(),
                    cfg.workers.clone(),
                    request,
                    h,
                    payload,
                ));
            }
            Action::Stream(h) => match dispatch::stream_message(client, &h, &msg) {
                // A full queue stops the reading until the driver catches
                // up: back-pressure on the client.
                Some(d) => {
                    tokio::select! {
                        _ = d.tx.send(d.msg) => {}
                        _ = any_set(&mut stops) => return,
                    }
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

/// Write a quick read's reply straight to the socket when the writer is
/// idle, saving a hop through the writer task (a reply to another serial
/// may overtake what is queued); otherwise queue it. False when the
/// connection is over.
async fn reply_now<W: AsyncWrite + Unpin>(
    wr: &tokio::sync::Mutex<W>,
    client: &Client,
    reply: Packet,
    stops: &mut [watch::Receiver<bool>; 2],
    peer: &str,
) -> bool {
    let Ok(mut w) = wr.try_lock() else {
        client.send(reply);
        return true;
    };
    let bytes = match reply.to_bytes() {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("dropping unencodable reply: {e}");
            return true;
        }
    };
    let written = tokio::select! {
        r = w.write_all(&bytes) => r,
        _ = any_set(stops) => return false,
    };
    if let Err(e) = written {
        tracing::debug!(%peer, "write to client failed: {e}");
        return false;
    }
    true
}

/// One call on the worker pool: its reply goes to the outbox (which frees
/// the client's request slot), then a stream it opened is pumped (still
/// off the reactor, without a worker: libvirtd moves stream data in its
/// event loop, not on a worker).
async fn run_call(
    client: Arc<Client>,
    workers: Arc<Semaphore>,
    request: OwnedSemaphorePermit,
    h: dispatch::RawHeader,
    payload: Vec<u8>,
) {
    let Ok(permit) = workers.acquire_owned().await else {
        return;
    };
    let cx = client.clone();
    let reply = tokio::task::spawn_blocking(move || {
        let reply = dispatch::run(&cx, &h, &payload);
        drop(permit);
        reply
    })
    .await;
    let Ok(Reply { packet, then }) = reply else {
        tracing::error!(serial = h.serial, proc_ = h.proc_, "call panicked");
        return;
    };
    client.send(packet);
    drop(request);
    if let Some(pump) = then {
        let _ = tokio::task::spawn_blocking(move || pump.run()).await;
    }
}

/// Is this the reply to CONNECT_CLOSE (after which the connection closes)?
fn is_close_reply(p: &Packet) -> bool {
    p.header.type_ == MessageType::Reply
        && remote::is_remote(&p.header)
        && p.header.proc_ == remote::Procedure::ConnectClose as i32
}

async fn write_loop<W: AsyncWrite + Unpin>(
    wr: Arc<tokio::sync::Mutex<W>>,
    mut outbox: mpsc::UnboundedReceiver<Packet>,
    client: Arc<Client>,
    cfg: Arc<SessionConfig>,
    activity: Arc<Activity>,
    peer: String,
    mut stops: [watch::Receiver<bool>; 2],
) {
    let keepalive_on = cfg.keepalive_interval > 0;
    let interval = Duration::from_secs(cfg.keepalive_interval.max(1) as u64);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let p = tokio::select! {
            Some(p) = outbox.recv() => p,
            _ = ticker.tick(), if keepalive_on => {
                if !client.keepalive_wanted() || activity.idle() < interval {
                    continue;
                }
                let missed = activity.missed.fetch_add(1, Ordering::Relaxed);
                if missed >= cfg.keepalive_count {
                    tracing::warn!(%peer, "No response from client after {missed} keepalive messages");
                    break;
                }
                keepalive::ping()
            },
            _ = any_set(&mut stops) => break,
        };
        let closing = |p: &Packet| is_close_reply(p) && client.close_requested();
        let mut wr = wr.lock().await;
        match write_packets(&mut *wr, p, &mut outbox, closing).await {
            Ok(false) => {}
            Ok(true) => break,
            Err(e) => {
                tracing::debug!(%peer, "write to client failed: {e}");
                break;
            }
        }
    }
    let _ = wr.lock().await.shutdown().await;
}
