//! `Stream`: a byte channel tied to a connection, as `virStreamPtr`.
//!
//! libvirt's streams carry data that is not an RPC reply: tunnelled
//! migration pumps guest memory through one (`virDomainMigratePrepareTunnel3`
//! binds a stream on the destination; the source writes into it). The stream
//! object is created empty by [`Stream::new`] and a driver *attaches* the
//! backend that really moves the bytes: the remote driver a stream of RPC
//! `STREAM` packets, a hypervisor driver the sink of an incoming migration.

use crate::connect::Connect;
use parking_lot::Mutex;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::os::fd::BorrowedFd;
use std::sync::Arc;

/// What moves a stream's bytes. Methods block; a backend is used from one
/// thread at a time per direction.
pub trait StreamBackend: Send + Sync {
    /// `virStreamSend`: write all of `data` (may block for flow control).
    fn send(&self, data: &[u8]) -> Result<()>;
    /// `virStreamRecv`: read up to `buf.len()` bytes; `Ok(0)` means the
    /// other end finished the stream.
    fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        let _ = buf;
        Err(Error::new(
            ErrorDomain::STREAMS,
            ErrorCode::NO_SUPPORT,
            "virStreamRecv",
        ))
    }
    /// `virStreamFinish`: no more data; waits until the other end has
    /// accepted everything (or reports its error).
    fn finish(&self) -> Result<()>;
    /// `virStreamAbort`: drop the stream, telling the other end it failed.
    fn abort(&self) -> Result<()>;
    /// Send exactly `len` bytes read from the socket `from` (blocking or
    /// not; a wait asks `cancelled` every second) without copying them
    /// through this process (splice(2)). On a
    /// failure of the stream's side the rest is still read from `from`
    /// and dropped, so whatever frames `from` stays in step. `None`: the
    /// caller reads them and calls `send`.
    fn send_exact_from_fd(
        &self,
        from: BorrowedFd<'_>,
        len: usize,
        cancelled: &dyn Fn() -> bool,
    ) -> Option<Result<()>> {
        let _ = (from, len, cancelled);
        None
    }
}

#[derive(Clone)]
pub struct Stream {
    conn: Connect,
    backend: Arc<Mutex<Option<Arc<dyn StreamBackend>>>>,
}

impl Stream {
    /// `virStreamNew`. `flags` (`VIR_STREAM_NONBLOCK`) is accepted and not
    /// used: rvirt's streams block.
    pub fn new(conn: &Connect, flags: u32) -> Result<Stream> {
        if flags & !1 != 0 {
            return Err(crate::connect::unsupported_flags(
                "virStreamNew",
                flags & !1,
            ));
        }
        Ok(Stream {
            conn: conn.clone(),
            backend: Arc::new(Mutex::new(None)),
        })
    }

    pub fn connect(&self) -> &Connect {
        &self.conn
    }

    /// Bind the backend that carries this stream's bytes (drivers call this
    /// from the entry point that opens the stream). A stream binds once.
    pub fn attach(&self, backend: Arc<dyn StreamBackend>) -> Result<()> {
        let mut slot = self.backend.lock();
        if slot.is_some() {
            return Err(Error::new(
                ErrorDomain::STREAMS,
                ErrorCode::OPERATION_INVALID,
                "stream is already in use",
            ));
        }
        *slot = Some(backend);
        Ok(())
    }

    pub fn is_attached(&self) -> bool {
        self.backend.lock().is_some()
    }

    fn backend(&self) -> Result<Arc<dyn StreamBackend>> {
        self.backend.lock().clone().ok_or_else(|| {
            Error::new(
                ErrorDomain::STREAMS,
                ErrorCode::OPERATION_INVALID,
                "stream is not open",
            )
        })
    }

    pub fn send(&self, data: &[u8]) -> Result<()> {
        self.backend()?.send(data)
    }
    pub fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        self.backend()?.recv(buf)
    }
    /// [`StreamBackend::send_exact_from_fd`].
    pub fn send_exact_from_fd(
        &self,
        from: BorrowedFd<'_>,
        len: usize,
        cancelled: &dyn Fn() -> bool,
    ) -> Option<Result<()>> {
        match self.backend() {
            Ok(b) => b.send_exact_from_fd(from, len, cancelled),
            Err(e) => Some(Err(e)),
        }
    }
    pub fn finish(&self) -> Result<()> {
        self.backend()?.finish()
    }
    pub fn abort(&self) -> Result<()> {
        self.backend()?.abort()
    }
}
