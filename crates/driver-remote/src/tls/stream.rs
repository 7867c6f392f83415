//! A TLS session over a blocking TCP socket, shared by the client's reader
//! thread and its writers.
//!
//! rustls's `StreamOwned` owns the socket and the session together, so one
//! thread blocked in `read` would hold it and stop every writer. The remote
//! driver reads on one thread and writes on others (`Sock::try_clone`), as
//! libvirt's client reads and writes one GnuTLS session from its event
//! loop. So the session sits behind a lock that nobody holds while blocked
//! on the socket: the reader waits for bytes on its own clone of the
//! socket, then takes the lock to feed and decrypt them; a writer takes
//! the lock to encrypt and queue. All bytes leave through `out`, taken
//! before the session lock whenever records are drained, so records reach
//! the wire in the order the session produced them.

use parking_lot::Mutex;
use rustls::ClientConnection;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;

/// The socket's write side and the records drained for it (reused, so a
/// stream packet's records cost no allocation).
struct Out {
    tcp: TcpStream,
    records: Vec<u8>,
}

struct Shared {
    out: Mutex<Out>,
    session: Mutex<ClientConnection>,
}

/// Plaintext the session takes per write: a whole 256 KiB stream packet
/// and its header, so a packet costs one socket write rather than four
/// (rustls's default is 64 KiB).
const SESSION_BUFFER: usize = 1 << 20;

/// One end of the shared session: every clone reads and writes it.
pub struct TlsStream {
    shared: Arc<Shared>,
    /// This clone's socket for reading, never used under a lock.
    raw: TcpStream,
    /// Bytes read from the socket that the session has not taken yet.
    pending: Vec<u8>,
}

impl TlsStream {
    /// Wrap a session whose handshake has completed on `tcp`.
    pub fn new(tcp: TcpStream, mut session: ClientConnection) -> io::Result<TlsStream> {
        let raw = tcp.try_clone()?;
        session.set_buffer_limit(Some(SESSION_BUFFER));
        Ok(TlsStream {
            shared: Arc::new(Shared {
                out: Mutex::new(Out {
                    tcp,
                    records: Vec::new(),
                }),
                session: Mutex::new(session),
            }),
            raw,
            pending: Vec::new(),
        })
    }

    pub fn try_clone(&self) -> io::Result<TlsStream> {
        Ok(TlsStream {
            shared: self.shared.clone(),
            raw: self.raw.try_clone()?,
            pending: Vec::new(),
        })
    }

    /// The cipher's key size in bits (SASL's external SSF).
    pub fn key_bits(&self) -> u32 {
        super::cipher_key_bits(self.shared.session.lock().negotiated_cipher_suite())
    }

    /// The TCP socket under the session.
    pub fn tcp(&self) -> &TcpStream {
        &self.raw
    }

    pub fn shutdown(&self) {
        let _ = self.raw.shutdown(Shutdown::Both);
    }

    /// Send whatever records the session has queued (caller holds `out`).
    fn flush_records(out: &mut Out, session: &Mutex<ClientConnection>) -> io::Result<()> {
        out.records.clear();
        {
            let mut s = session.lock();
            while s.wants_write() {
                s.write_tls(&mut out.records)?;
            }
        }
        out.tcp.write_all(&out.records)
    }

    /// Feed the socket bytes read so far to the session; answer what the
    /// session must answer (alerts, key updates).
    fn feed(&mut self) -> io::Result<()> {
        let wants_write = {
            let mut s = self.shared.session.lock();
            let used = s.read_tls(&mut &self.pending[..])?;
            if used == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "TLS buffer full",
                ));
            }
            self.pending.drain(..used);
            let state = s.process_new_packets().map_err(io::Error::other);
            let wants = s.wants_write();
            state?;
            wants
        };
        if wants_write {
            let mut out = self.shared.out.lock();
            Self::flush_records(&mut out, &self.shared.session)?;
        }
        Ok(())
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.shared.session.lock().reader().read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return done,
            }
            if self.pending.is_empty() {
                let mut chunk = [0u8; 16 * 1024];
                let n = self.raw.read(&mut chunk)?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                self.pending.extend_from_slice(&chunk[..n]);
            }
            self.feed()?;
        }
    }
}

impl TlsStream {
    /// Encrypt all of `buf`, sending records whenever the session's buffer
    /// is full; the last records stay queued (caller holds `out`).
    fn encrypt(&self, out: &mut Out, buf: &[u8]) -> io::Result<()> {
        let (mut done, mut stalled) = (0, false);
        while done < buf.len() {
            let n = self.shared.session.lock().writer().write(&buf[done..])?;
            // Nothing taken twice running, with the queue flushed between:
            // the session is closed.
            if n == 0 && std::mem::replace(&mut stalled, true) {
                return Err(io::ErrorKind::WriteZero.into());
            }
            stalled &= n == 0;
            done += n;
            if done < buf.len() {
                Self::flush_records(out, &self.shared.session)?;
            }
        }
        Ok(())
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[io::IoSlice::new(buf)])
    }

    /// Every slice into the session, then their records in one socket
    /// write (a stream packet's header and data together).
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let mut out = self.shared.out.lock();
        for buf in bufs {
            self.encrypt(&mut out, buf)?;
        }
        Self::flush_records(&mut out, &self.shared.session)?;
        Ok(bufs.iter().map(|b| b.len()).sum())
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut out = self.shared.out.lock();
        Self::flush_records(&mut out, &self.shared.session)?;
        out.tcp.flush()
    }
}
