//! Reading and writing whole RPC messages on a byte stream, apart from
//! what they mean: a 4-byte length word that counts itself, then header and
//! payload. A bad length word ends the connection (libvirt's
//! `virNetMessageDecodeLength`); everything else is the dispatcher's.

use crate::outbox::{OutboxReceiver, Queued};
use rvirt_rpc::packet::{frame_length, MESSAGE_LEN_MAX};
use rvirt_rpc::{Packet, PacketError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The read side of a client connection. [`MessageReader::read_message`]
/// is cancel-safe (its only await is a `read`, and partial messages stay in
/// the buffer), so a session can `select!` on it.
pub struct MessageReader<R> {
    rd: R,
    buf: Vec<u8>,
    start: usize,
}

impl<R: AsyncRead + Unpin> MessageReader<R> {
    pub fn new(rd: R) -> MessageReader<R> {
        MessageReader {
            rd,
            buf: Vec::with_capacity(64 * 1024),
            start: 0,
        }
    }

    /// A whole message already buffered, or an error for a bad length word.
    fn parse(&mut self) -> Result<Option<Vec<u8>>, PacketError> {
        let avail = &self.buf[self.start..];
        if avail.len() < MESSAGE_LEN_MAX {
            return Ok(None);
        }
        let len = frame_length([avail[0], avail[1], avail[2], avail[3]])?;
        if avail.len() < len {
            return Ok(None);
        }
        let msg = avail[MESSAGE_LEN_MAX..len].to_vec();
        self.start += len;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
            // One large message (up to 32 MiB) must not pin its buffer for
            // the rest of the connection.
            if self.buf.capacity() > 1 << 20 {
                self.buf.shrink_to(64 * 1024);
            }
        }
        Ok(Some(msg))
    }

    /// The next message without its length word; `Ok(None)` at a clean end
    /// of stream.
    pub async fn read_message(&mut self) -> Result<Option<Vec<u8>>, PacketError> {
        loop {
            if let Some(msg) = self.parse()? {
                return Ok(Some(msg));
            }
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.rd.read(&mut chunk).await?;
            if n == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Err(PacketError::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Write queued packets to the stream, coalescing what is queued into one
/// write, up to and including the first packet `last` picks (true is
/// returned when one was written: the connection should close). The
/// request slots of the answers written are freed only once the bytes are
/// with the kernel (libvirtd's `nrequests--` in
/// `virNetServerClientDispatchWrite`).
pub async fn write_packets<W: AsyncWrite + Unpin>(
    wr: &mut W,
    first: Queued,
    more: &mut OutboxReceiver,
    last: impl Fn(&Packet) -> bool,
) -> std::io::Result<bool> {
    let mut buf = Vec::with_capacity(4096);
    let mut done = last(&first.packet);
    push(&mut buf, &first.packet);
    let mut written = vec![first];
    while !done && buf.len() < 1 << 20 {
        match more.try_recv_queued() {
            Some(q) => {
                push(&mut buf, &q.packet);
                done = last(&q.packet);
                written.push(q);
            }
            None => break,
        }
    }
    wr.write_all(&buf).await?;
    drop(written);
    Ok(done)
}
fn push(buf: &mut Vec<u8>, p: &Packet) {
    match p.to_bytes() {
        Ok(bytes) => buf.extend_from_slice(&bytes),
        Err(e) => tracing::warn!("dropping unencodable packet: {e}"),
    }
}
