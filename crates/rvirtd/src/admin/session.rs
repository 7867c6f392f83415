//! One virt-admin connection on `libvirt-admin-sock`: a reader that runs
//! each ADMIN call on the admin server's worker pool (at most
//! `admin_max_client_requests` of this client's at once) and a writer.
//! Only the ADMIN program is served here, as on libvirtd's admin server;
//! keepalive PINGs are answered, none are sent (libvirtd pings a client
//! only once it asked through the REMOTE program's feature check, which
//! an admin client cannot make).

use super::procs::{self, AdminCx};
use super::{DaemonState, ServerState};
use crate::clients::Registration;
use crate::dispatch::{error_reply, rpc_error, RawHeader};
use crate::framing::MessageReader;
use rvirt_rpc::{admin, keepalive, MessageStatus, MessageType, Packet};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch, Semaphore};

/// Everything an admin session needs.
pub struct AdminSession {
    pub daemon: Arc<DaemonState>,
    pub server: Arc<ServerState>,
    pub max_client_requests: usize,
}

impl AdminSession {
    /// Serve one admin client until it leaves, says CONNECT_CLOSE, is
    /// closed through `virAdmClientClose`, or the daemon stops.
    pub async fn serve<S>(
        self: Arc<Self>,
        stream: S,
        reg: Registration,
        mut stop: watch::Receiver<bool>,
    ) where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let id = reg.entry.id;
        tracing::info!(id, "admin client connected");
        let (rd, wr) = tokio::io::split(stream);
        let (tx, rx) = mpsc::unbounded_channel();
        let work = async {
            let writer = write_loop(wr, rx);
            tokio::pin!(writer);
            tokio::select! {
                _ = self.clone().read_loop(rd, tx) => {}
                _ = &mut writer => return,
            }
            // Replies still on their way (CONNECT_CLOSE's) go out first.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), writer).await;
        };
        tokio::select! {
            _ = work => {}
            _ = reg.entry.closed() => tracing::info!(id, "admin client closed by the admin program"),
            _ = stop.wait_for(|v| *v) => {}
        }
        tracing::info!(id, "admin client disconnected");
    }

    async fn read_loop<R: AsyncRead + Unpin>(
        self: Arc<Self>,
        rd: R,
        tx: mpsc::UnboundedSender<Packet>,
    ) {
        let mut reader = MessageReader::new(rd);
        let requests = Arc::new(Semaphore::new(self.max_client_requests.max(1)));
        let close = Arc::new(AtomicBool::new(false));
        loop {
            let Ok(slot) = requests.clone().acquire_owned().await else {
                return;
            };
            let msg = match reader.read_message().await {
                Ok(Some(m)) => m,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!("closing admin client: {e}");
                    return;
                }
            };
            let Some(h) = RawHeader::parse(&msg) else {
                continue;
            };
            if let Some(answer) = precheck(&h) {
                let _ = answer.map(|p| tx.send(p));
                continue;
            }
            if h.proc_ == admin::Procedure::ConnectClose as i32 {
                // Answered in order, then nothing more is read
                // (virNetServerClientDelayedClose).
                let cx = AdminCx {
                    daemon: &self.daemon,
                    close_requested: &close,
                };
                let _ = tx.send(run(&cx, &h, &msg[24..]));
                return;
            }
            let (this, tx, close) = (self.clone(), tx.clone(), close.clone());
            tokio::spawn(async move {
                let Some(worker) = this.server.pool.acquire(false).await else {
                    return;
                };
                let job = this.clone();
                let reply = tokio::task::spawn_blocking(move || {
                    let cx = AdminCx {
                        daemon: &job.daemon,
                        close_requested: &close,
                    };
                    run(&cx, &h, &msg[24..])
                })
                .await;
                drop(worker);
                match reply {
                    Ok(p) => {
                        let _ = tx.send(p);
                    }
                    Err(_) => tracing::error!(proc_ = h.proc_, "admin call panicked"),
                }
                drop(slot);
            });
        }
    }
}

/// What is answered (or dropped, `Some(None)`) before dispatch: keepalive,
/// other programs, non-calls, a bad status (virNetServerProcessMsg).
fn precheck(h: &RawHeader) -> Option<Option<Packet>> {
    if h.prog == keepalive::PROGRAM && h.type_ == MessageType::Message as i32 {
        let ping = h.proc_ == keepalive::Procedure::Ping as i32;
        return Some(ping.then(keepalive::pong));
    }
    let is_call = h.type_ == MessageType::Call as i32;
    if h.prog != admin::PROGRAM || h.vers != admin::PROTOCOL_VERSION {
        let err = rpc_error(format!(
            "Cannot find program {} version {}",
            h.prog as i32, h.vers as i32
        ));
        return Some(is_call.then(|| error_reply(h, &err)));
    }
    if !is_call {
        tracing::info!(?h, "ignoring unexpected admin message");
        return Some(None);
    }
    if h.status != MessageStatus::Ok as i32 {
        let err = rpc_error(format!("Unexpected message status {}", h.status as u32));
        return Some(Some(error_reply(h, &err)));
    }
    None
}

/// Run one ADMIN call and build its reply.
pub fn run(cx: &AdminCx, h: &RawHeader, payload: &[u8]) -> Packet {
    let result = admin::Procedure::from_i32(h.proc_)
        .and_then(procs::lookup)
        .ok_or_else(|| rpc_error(format!("unknown procedure: {}", h.proc_)))
        .and_then(|handler| handler(cx, payload));
    match result {
        Ok(body) => Packet::new(h.reply(MessageStatus::Ok), body),
        Err(err) => {
            tracing::debug!(proc_ = h.proc_, error = %err, "admin call failed");
            error_reply(h, &err)
        }
    }
}

async fn write_loop<W: AsyncWrite>(wr: W, mut rx: mpsc::UnboundedReceiver<Packet>) {
    tokio::pin!(wr);
    while let Some(p) = rx.recv().await {
        let Ok(bytes) = p.to_bytes() else {
            tracing::warn!("dropping unencodable admin reply");
            continue;
        };
        if wr.write_all(&bytes).await.is_err() {
            return;
        }
    }
    let _ = wr.flush().await;
}
