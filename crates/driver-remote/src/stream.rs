//! The client side of an RPC data stream (libvirt's virnetclientstream.c
//! with the remote driver's `remoteStreamDrv`): this side writes (tunnelled
//! migration) and, for a console, also reads what the daemon sends.
//!
//! `send` writes `STREAM`/`CONTINUE` packets of at most 262,120 bytes and
//! waits for nothing (TCP flow control is the back-pressure: the daemon
//! stops reading while its driver is behind). `finish` sends `OK` and waits
//! for the daemon's `OK` or error; `abort` sends `ERROR` and waits for the
//! confirmation. An error the daemon sends at any time (as `STREAM`/`ERROR`
//! or an error `REPLY` with the stream's serial), or the loss of the
//! connection, fails the stream: the next call reports it. `recv` waits
//! for `STREAM`/`CONTINUE` data; an empty one is the end of the daemon's
//! data (`recv` then returns 0, `send` fails).

use crate::client::Shared;
use parking_lot::{Condvar, Mutex, MutexGuard};
use rvirt::StreamBackend;
use rvirt_rpc::{stream::chunks, StreamId};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::collections::VecDeque;
use std::sync::Arc;

#[derive(Default)]
struct Inner {
    /// The daemon's error, or why the connection ended.
    error: Option<Error>,
    /// The daemon's `OK` arrived (confirming our finish or abort).
    confirmed: bool,
    /// Finished or aborted on this side.
    closed: bool,
    /// Data the daemon sent, not read yet.
    incoming: VecDeque<u8>,
    /// The daemon's empty `CONTINUE`: no more data will come.
    incoming_eof: bool,
}

/// What the reader thread knows about one stream.
pub(crate) struct StreamState {
    id: StreamId,
    inner: Mutex<Inner>,
    cond: Condvar,
}

impl StreamState {
    pub(crate) fn new(id: StreamId) -> Arc<StreamState> {
        Arc::new(StreamState {
            id,
            inner: Mutex::new(Inner::default()),
            cond: Condvar::new(),
        })
    }

    pub(crate) fn id(&self) -> StreamId {
        self.id
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock()
    }

    /// The daemon (or the connection) failed the stream; the first error
    /// is the one reported.
    pub(crate) fn fail(&self, e: Error) {
        let mut inner = self.lock();
        if inner.error.is_none() {
            inner.error = Some(e);
        }
        self.cond.notify_all();
    }

    /// The daemon's `STREAM`/`OK`: the answer to our finish or abort, or
    /// (before we sent either) an end we did not ask for.
    pub(crate) fn confirm(&self) {
        let mut inner = self.lock();
        if inner.closed {
            inner.confirmed = true;
        } else if inner.error.is_none() {
            inner.error = Some(Error::raw(
                ErrorDomain::RPC,
                ErrorCode::RPC,
                "stream had unexpected termination",
            ));
        }
        self.cond.notify_all();
    }

    /// `STREAM`/`CONTINUE` from the daemon; empty, the end of its data.
    pub(crate) fn data(&self, data: &[u8]) {
        let mut inner = self.lock();
        if data.is_empty() {
            inner.incoming_eof = true;
        } else if !inner.closed {
            inner.incoming.extend(data);
        }
        self.cond.notify_all();
    }

    /// Wait for the daemon's answer to our finish or abort.
    fn wait(&self) -> Result<()> {
        let mut inner = self.lock();
        loop {
            if let Some(e) = &inner.error {
                return Err(e.clone());
            }
            if inner.confirmed {
                return Ok(());
            }
            self.cond.wait(&mut inner);
        }
    }
}

fn closed() -> Error {
    Error::new(
        ErrorDomain::RPC,
        ErrorCode::OPERATION_INVALID,
        "stream is closed",
    )
}

/// The `StreamBackend` the remote driver attaches to an `rvirt::Stream`.
pub struct RemoteStream {
    shared: Arc<Shared>,
    state: Arc<StreamState>,
}

impl RemoteStream {
    pub(crate) fn new(shared: Arc<Shared>, state: Arc<StreamState>) -> RemoteStream {
        RemoteStream { shared, state }
    }

    /// libvirt's `virNetClientStreamCheckState`: a stored error first,
    /// then "closed".
    fn check(&self) -> Result<()> {
        let inner = self.state.lock();
        if let Some(e) = &inner.error {
            return Err(e.clone());
        }
        if inner.closed {
            return Err(closed());
        }
        if inner.incoming_eof {
            return Err(Error::raw(
                ErrorDomain::RPC,
                ErrorCode::RPC,
                "stream had unexpected termination",
            ));
        }
        Ok(())
    }

    /// Send a finish or abort and wait for the answer; the stream is over
    /// on this side either way.
    fn close_with(&self, packet: rvirt_rpc::Packet) -> Result<()> {
        self.state.lock().closed = true;
        let res = self.shared.send(&packet).and_then(|()| self.state.wait());
        self.shared.forget_stream(&self.state.id);
        res
    }
}

impl StreamBackend for RemoteStream {
    fn send(&self, data: &[u8]) -> Result<()> {
        for chunk in chunks(data) {
            self.check()?;
            let prefix = self
                .state
                .id
                .data_prefix(chunk.len())
                .map_err(|e| e.to_error())?;
            self.shared.send_frame(&prefix, chunk)?;
        }
        Ok(())
    }

    /// Buffered data first; then the daemon's error, the end of its data
    /// (0), or a wait for more.
    fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        let mut inner = self.state.lock();
        loop {
            if !inner.incoming.is_empty() {
                let n = buf.len().min(inner.incoming.len());
                for (slot, byte) in buf.iter_mut().zip(inner.incoming.drain(..n)) {
                    *slot = byte;
                }
                return Ok(n);
            }
            if let Some(e) = &inner.error {
                return Err(e.clone());
            }
            if inner.closed {
                return Err(closed());
            }
            if inner.incoming_eof || buf.is_empty() {
                return Ok(0);
            }
            self.state.cond.wait(&mut inner);
        }
    }

    fn finish(&self) -> Result<()> {
        let ended = self.state.lock().incoming_eof;
        if !ended {
            self.check()?;
        }
        self.close_with(self.state.id.finish())
    }

    /// After the daemon failed the stream there is nothing left to abort
    /// there: only this side is closed.
    fn abort(&self) -> Result<()> {
        let failed = {
            let inner = self.state.lock();
            if inner.closed {
                return Err(closed());
            }
            inner.error.is_some()
        };
        if failed {
            self.state.lock().closed = true;
            self.shared.forget_stream(&self.state.id);
            return Ok(());
        }
        self.close_with(self.state.id.abort())
    }
}

impl Drop for RemoteStream {
    fn drop(&mut self) {
        self.shared.forget_stream(&self.state.id);
    }
}
