//! Reading and writing whole RPC messages on a byte stream, apart from
//! what they mean: a 4-byte length word that counts itself, then header and
//! payload. A bad length word ends the connection (libvirt's
//! `virNetMessageDecodeLength`); everything else is the dispatcher's.

use rvirt_rpc::packet::{frame_length, MESSAGE_LEN_MAX};
use rvirt_rpc::{Packet, PacketError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc::UnboundedReceiver;

/// The read side of a client connection.
pub struct MessageReader<R> {
    rd: BufReader<R>,
}

impl<R: AsyncRead + Unpin> MessageReader<R> {
    pub fn new(rd: R) -> MessageReader<R> {
        MessageReader {
            rd: BufReader::with_capacity(64 * 1024, rd),
        }
    }

    /// The next message without its length word; `Ok(None)` at a clean end
    /// of stream. Not cancel-safe: use it from one place only.
    pub async fn read_message(&mut self) -> Result<Option<Vec<u8>>, PacketError> {
        let mut word = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            let n = self.rd.read(&mut word[got..]).await?;
            if n == 0 {
                if got == 0 {
                    return Ok(None);
                }
                return Err(PacketError::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            got += n;
        }
        let len = frame_length(word)?;
        let mut msg = vec![0u8; len - MESSAGE_LEN_MAX];
        self.rd.read_exact(&mut msg).await?;
        Ok(Some(msg))
    }
}

/// Drain the outbox into the stream, coalescing whatever is queued into one
/// write. Ends when every sender is gone or the peer stops reading.
pub async fn write_loop<W: AsyncWrite + Unpin>(mut wr: W, mut outbox: UnboundedReceiver<Packet>) {
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    while let Some(first) = outbox.recv().await {
        push(&mut buf, &first);
        while buf.len() < 1 << 20 {
            match outbox.try_recv() {
                Ok(p) => push(&mut buf, &p),
                Err(_) => break,
            }
        }
        if let Err(e) = wr.write_all(&buf).await {
            tracing::debug!("write to client failed: {e}");
            return;
        }
        buf.clear();
    }
    let _ = wr.flush().await;
    let _ = wr.shutdown().await;
}

fn push(buf: &mut Vec<u8>, p: &Packet) {
    match p.to_bytes() {
        Ok(bytes) => buf.extend_from_slice(&bytes),
        Err(e) => tracing::warn!("dropping unencodable packet: {e}"),
    }
}
