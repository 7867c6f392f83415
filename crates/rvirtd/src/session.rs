//! One client connection, one task: it frames messages, answers keepalive,
//! runs the client's calls in order and writes their replies, and writes
//! the events and pings queued in the client's outbox, whichever comes
//! first (`select!` over a cancel-safe reader and the outbox).
//!
//! Calls run inline on the runtime's worker threads, of which the daemon
//! starts `max_workers` (libvirtd's worker pool): a call that blocks holds
//! one worker, as it would hold one of libvirtd's.

use crate::dispatch::{self, Action, Client};
use crate::framing::{write_packets, MessageReader};
use rvirt_rpc::{keepalive, Packet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

/// What a session needs from the daemon.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub default_uri: String,
    /// Seconds between server pings; 0 or less disables them.
    pub keepalive_interval: i32,
    pub keepalive_count: u32,
}

/// Serve one client until it leaves, breaks the protocol, stops answering
/// keepalive, or the daemon shuts down.
pub async fn serve<S>(
    stream: S,
    readonly: bool,
    peer: String,
    cfg: Arc<SessionConfig>,
    mut shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    tracing::info!(%peer, readonly, "client connected");
    let (rd, mut wr) = tokio::io::split(stream);
    let (out_tx, mut outbox) = mpsc::unbounded_channel::<Packet>();
    let client = Arc::new(Client::new(readonly, cfg.default_uri.clone(), out_tx));
    let mut reader = MessageReader::new(rd);

    let keepalive_on = cfg.keepalive_interval > 0;
    let interval = Duration::from_secs(cfg.keepalive_interval.max(1) as u64);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_rx = Instant::now();
    let mut missed = 0u32;

    loop {
        let out = tokio::select! {
            msg = reader.read_message() => match msg {
                Ok(Some(msg)) => {
                    last_rx = Instant::now();
                    missed = 0;
                    match dispatch::classify(&msg) {
                        Action::Send(p) => Some(p),
                        Action::Nothing => None,
                        Action::Call(h) => Some(dispatch::dispatch_call(&client, &h, &msg[24..])),
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(%peer, "closing client: {e}");
                    break;
                }
            },
            Some(p) = outbox.recv() => Some(p),
            _ = ticker.tick(), if keepalive_on => {
                if !client.keepalive_wanted() || last_rx.elapsed() < interval {
                    continue;
                }
                if missed >= cfg.keepalive_count {
                    tracing::warn!(%peer, "No response from client after {missed} keepalive messages");
                    break;
                }
                missed += 1;
                Some(keepalive::ping())
            },
            _ = shutdown.changed() => break,
        };
        if let Some(p) = out {
            if let Err(e) = write_packets(&mut wr, p, &mut outbox).await {
                tracing::debug!(%peer, "write to client failed: {e}");
                break;
            }
        }
        if client.close_requested() {
            break;
        }
    }

    client.cleanup();
    let _ = wr.shutdown().await;
    tracing::info!(%peer, "client disconnected");
}
