//! One client connection: a reader that frames messages and answers
//! keepalive at once, an executor that runs the client's calls in order
//! (high-priority ones inline, the others on the blocking pool, as libvirtd
//! keeps its priority workers for calls that never block), and a writer
//! that drains the client's outbox (replies, events, pings).

use crate::dispatch::{self, Action, Client, RawHeader};
use crate::framing::{write_loop, MessageReader};
use rvirt_rpc::keepalive;
use rvirt_rpc::remote::{procedure_info, Priority};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};

/// What a session needs from the daemon.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub default_uri: String,
    /// Seconds between server pings; 0 or less disables them.
    pub keepalive_interval: i32,
    pub keepalive_count: u32,
    /// Calls queued per client before its socket is no longer read
    /// (`max_client_requests`).
    pub max_client_requests: usize,
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
    let (rd, wr) = tokio::io::split(stream);
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let writer = tokio::spawn(write_loop(wr, out_rx));
    let client = Arc::new(Client::new(readonly, cfg.default_uri.clone(), out_tx));

    let (call_tx, call_rx) = mpsc::channel(cfg.max_client_requests.max(1));
    let mut executor = tokio::spawn(execute(client.clone(), call_rx));

    let mut reader = MessageReader::new(rd);
    let keepalive_on = cfg.keepalive_interval > 0;
    let interval = Duration::from_secs(cfg.keepalive_interval.max(1) as u64);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_rx = Instant::now();
    let mut missed = 0u32;

    loop {
        tokio::select! {
            msg = reader.read_message() => match msg {
                Ok(Some(msg)) => {
                    last_rx = Instant::now();
                    missed = 0;
                    match dispatch::classify(&msg) {
                        Action::Send(p) => client.send(p),
                        Action::Nothing => {}
                        Action::Call(h) => {
                            if call_tx.send((h, msg)).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(%peer, "closing client: {e}");
                    break;
                }
            },
            _ = ticker.tick(), if keepalive_on => {
                if !client.keepalive_wanted() || last_rx.elapsed() < interval {
                    continue;
                }
                if missed >= cfg.keepalive_count {
                    tracing::warn!(%peer, "No response from client after {missed} keepalive messages");
                    break;
                }
                client.send(keepalive::ping());
                missed += 1;
            },
            _ = &mut executor => break,
            _ = shutdown.changed() => break,
        }
    }

    drop(call_tx);
    executor.abort();
    client.cleanup();
    drop(client);
    // The writer ends once the last sender (the executor's handle on the
    // client) is gone; give it a moment to flush the last replies.
    if tokio::time::timeout(Duration::from_secs(2), writer)
        .await
        .is_err()
    {
        tracing::debug!(%peer, "writer did not finish in time");
    }
    tracing::info!(%peer, "client disconnected");
}

/// Run the client's calls one after the other; stop after CONNECT_CLOSE.
async fn execute(client: Arc<Client>, mut calls: mpsc::Receiver<(RawHeader, Vec<u8>)>) {
    while let Some((h, msg)) = calls.recv().await {
        let high = procedure_info(h.proc_).is_none_or(|i| i.priority == Priority::High);
        let reply = if high {
            dispatch::dispatch_call(&client, &h, &msg[24..])
        } else {
            let c = client.clone();
            match tokio::task::spawn_blocking(move || dispatch::dispatch_call(&c, &h, &msg[24..]))
                .await
            {
                Ok(reply) => reply,
                Err(e) => {
                    tracing::error!("worker failed: {e}");
                    dispatch::error_reply(&h, &dispatch::rpc_error("internal worker failure"))
                }
            }
        };
        client.send(reply);
        if client.close_requested() {
            return;
        }
    }
}
