//! Reading and writing whole RPC messages on a byte stream, apart from
//! what they mean: a 4-byte length word that counts itself, then header and
//! payload. A bad length word ends the connection (libvirt's
//! `virNetMessageDecodeLength`); everything else is the dispatcher's.

use crate::outbox::{OutboxReceiver, Queued};
use rvirt_rpc::packet::{frame_length, MESSAGE_HEADER_MAX, MESSAGE_LEN_MAX};
use rvirt_rpc::{MessageStatus, MessageType, Packet, PacketError, STREAM_DATA_MAX};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What [`MessageReader::next`] read.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    /// A whole message without its length word.
    Whole(Vec<u8>),
    /// A large stream data packet (`STREAM`, `CONTINUE`: a tunnelled
    /// migration's or an upload's bytes), its data read straight into a
    /// buffer of its own that goes to the stream as it is: no copy between
    /// the socket and the driver.
    Data { header: Vec<u8>, data: Vec<u8> },
    /// From [`MessageReader::next_spliceable`]: a large stream data
    /// packet's header and the bytes of its data already read (`head`);
    /// the other `rest` bytes are still in the socket, for the caller to
    /// splice into the stream's destination (or read).
    Splice {
        header: Vec<u8>,
        head: Vec<u8>,
        rest: usize,
    },
}

impl Message {
    /// The message as one buffer, header and data together.
    pub fn into_whole(self) -> Vec<u8> {
        match self {
            Message::Whole(msg) => msg,
            Message::Data { mut header, data } => {
                header.extend_from_slice(&data);
                header
            }
            // Only next_spliceable makes these, and its callers take them
            // apart: what was read of the packet.
            Message::Splice {
                mut header, head, ..
            } => {
                header.extend_from_slice(&head);
                header
            }
        }
    }
}

/// Data packets at least this large are read into their own buffer.
const DIRECT_DATA_MIN: usize = 64 * 1024;

/// A data packet being read into its own buffer; kept in the reader so a
/// cancelled read loses nothing.
struct DirectData {
    header: Vec<u8>,
    data: Vec<u8>,
    len: usize,
}

/// What [`MessageReader::start_direct`] did.
enum Direct {
    No,
    Started,
    Splice(Message),
}

/// The read side of a client connection. [`MessageReader::next`] is
/// cancel-safe (its only await is a `read`, and partial messages stay in
/// the reader), so a session can `select!` on it.
pub struct MessageReader<R> {
    rd: R,
    buf: Vec<u8>,
    start: usize,
    direct: Option<DirectData>,
    /// Set during [`MessageReader::next_spliceable`].
    splice: bool,
}

impl<R: AsyncRead + Unpin> MessageReader<R> {
    pub fn new(rd: R) -> MessageReader<R> {
        MessageReader {
            rd,
            buf: Vec::with_capacity(64 * 1024),
            start: 0,
            direct: None,
            splice: false,
        }
    }

    /// As [`MessageReader::next`], but a large stream data packet comes as
    /// [`Message::Splice`], its data left in the socket; and no read goes
    /// past the end of the message being read, so what follows a packet
    /// (the next one's data) stays in the socket too.
    pub async fn next_spliceable(&mut self) -> Result<Option<Message>, PacketError> {
        self.splice = true;
        let res = self.next().await;
        self.splice = false;
        res
    }

    /// Read exactly `n` bytes that follow what was parsed (the rest of a
    /// [`Message::Splice`] nobody took).
    pub async fn read_rest(&mut self, n: usize) -> Result<Vec<u8>, PacketError> {
        let mut out = self.buf[self.start..].to_vec();
        self.buf.clear();
        self.start = 0;
        out.truncate(n);
        let mut more = vec![0u8; n - out.len()];
        self.rd.read_exact(&mut more).await?;
        out.extend_from_slice(&more);
        Ok(out)
    }

    /// The next message, a large stream data packet apart; `Ok(None)` at
    /// a clean end of stream.
    pub async fn next(&mut self) -> Result<Option<Message>, PacketError> {
        loop {
            if let Some(d) = &mut self.direct {
                if d.data.len() == d.len {
                    let d = self.direct.take().expect("checked");
                    let (header, data) = (d.header, d.data);
                    return Ok(Some(Message::Data { header, data }));
                }
                let lacking = (d.len - d.data.len()) as u64;
                let n = (&mut self.rd).take(lacking).read_buf(&mut d.data).await?;
                if n == 0 {
                    return Err(PacketError::Io(std::io::ErrorKind::UnexpectedEof.into()));
                }
                continue;
            }
            if let Some(msg) = self.parse()? {
                return Ok(Some(Message::Whole(msg)));
            }
            match self.start_direct() {
                Direct::No => {}
                Direct::Started => continue,
                Direct::Splice(m) => return Ok(Some(m)),
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    /// If a large stream data packet's header is buffered (and not the
    /// whole packet: [`MessageReader::parse`] came first), move it and
    /// what came of its data into a [`DirectData`].
    fn start_direct(&mut self) -> Direct {
        let avail = &self.buf[self.start..];
        let head_end = MESSAGE_LEN_MAX + MESSAGE_HEADER_MAX;
        let Some(head) = avail.get(..head_end) else {
            return Direct::No;
        };
        let Ok(len) = frame_length([head[0], head[1], head[2], head[3]]) else {
            return Direct::No;
        };
        let word = |i: usize| i32::from_be_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let data_len = len - head_end.min(len);
        let is_data = word(MESSAGE_LEN_MAX + 12) == MessageType::Stream as i32
            && word(MESSAGE_LEN_MAX + 20) == MessageStatus::Continue as i32;
        if !is_data || !(DIRECT_DATA_MIN..=STREAM_DATA_MAX).contains(&data_len) {
            return Direct::No;
        }
        if self.splice {
            // Had it all come, parse() would have taken it: part of the
            // data at most is here.
            let head = avail[head_end..].to_vec();
            let m = Message::Splice {
                header: avail[MESSAGE_LEN_MAX..head_end].to_vec(),
                rest: data_len - head.len(),
                head,
            };
            self.buf.clear();
            self.start = 0;
            return Direct::Splice(m);
        }
        let mut data = Vec::with_capacity(data_len);
        data.extend_from_slice(&avail[head_end..]);
        self.direct = Some(DirectData {
            header: head[MESSAGE_LEN_MAX..].to_vec(),
            data,
            len: data_len,
        });
        self.buf.clear();
        self.start = 0;
        Direct::Started
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

    /// The next message without its length word, whole; `Ok(None)` at a
    /// clean end of stream.
    pub async fn read_message(&mut self) -> Result<Option<Vec<u8>>, PacketError> {
        Ok(self.next().await?.map(Message::into_whole))
    }

    /// Read more into the buffer: false at a clean end of stream.
    async fn fill(&mut self) -> Result<bool, PacketError> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        // Read straight into the buffer, as much as the message being
        // read still lacks: one system call and no intermediate copy.
        self.buf.reserve(self.wanted());
        let n = if self.splice {
            let limit = self.message_rest() as u64;
            (&mut self.rd).take(limit).read_buf(&mut self.buf).await?
        } else {
            self.rd.read_buf(&mut self.buf).await?
        };
        if n == 0 {
            if self.buf.is_empty() {
                return Ok(false);
            }
            return Err(PacketError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        Ok(true)
    }

    /// The bytes the message being read still lacks: its header while
    /// that is incomplete, else the rest its length word gives (at least
    /// one: a bad word is parse's to report).
    fn message_rest(&self) -> usize {
        let avail = &self.buf[self.start..];
        let head_end = MESSAGE_LEN_MAX + MESSAGE_HEADER_MAX;
        if avail.len() < head_end {
            return head_end - avail.len();
        }
        frame_length([avail[0], avail[1], avail[2], avail[3]])
            .map_or(1, |len| len.saturating_sub(avail.len()).max(1))
    }

    /// How many more bytes to make room for: the rest of the message whose
    /// length word is buffered (a bad word is parse's to report), else a
    /// small read's worth; never more than 1 MiB ahead of the bytes that
    /// came, whatever a length word claims.
    fn wanted(&self) -> usize {
        const SMALL: usize = 16 * 1024;
        const AHEAD: usize = 1 << 20;
        let avail = &self.buf[self.start..];
        let rest = match avail.get(..MESSAGE_LEN_MAX) {
            Some(word) => frame_length([word[0], word[1], word[2], word[3]])
                .map_or(SMALL, |len| len.saturating_sub(avail.len())),
            None => SMALL,
        };
        rest.clamp(SMALL, AHEAD)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use tokio::io::ReadBuf;

    /// Hands out its bytes at most `step` at a time.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            let n = self
                .step
                .min(buf.remaining())
                .min(self.data.len() - self.at);
            let at = self.at;
            buf.put_slice(&self.data[at..at + n]);
            self.at += n;
            Poll::Ready(Ok(()))
        }
    }

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut f = ((body.len() + MESSAGE_LEN_MAX) as u32)
            .to_be_bytes()
            .to_vec();
        f.extend_from_slice(body);
        f
    }

    fn messages(step: usize, bodies: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let data: Vec<u8> = bodies.iter().flat_map(|b| frame(b)).collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut rd = MessageReader::new(Trickle { data, at: 0, step });
            let mut out = Vec::new();
            while let Some(m) = rd.read_message().await.unwrap() {
                out.push(m);
            }
            out
        })
    }

    #[test]
    fn messages_come_whole_however_the_bytes_arrive() {
        let bodies = vec![
            vec![1u8; 24],
            (0..300 * 1024).map(|i| i as u8).collect::<Vec<u8>>(),
            vec![7u8; 40],
            (0..(2 << 20)).map(|i| (i / 7) as u8).collect::<Vec<u8>>(),
        ];
        for step in [3, 13, 16 * 1024, 1 << 20, usize::MAX] {
            assert_eq!(messages(step, &bodies), bodies, "step {step}");
        }
    }

    /// A STREAM/CONTINUE header (prog, vers, proc, type 3, serial, status 2).
    fn data_header() -> Vec<u8> {
        [0x2000_8086u32, 1, 304, 3, 7, 2]
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect()
    }

    #[test]
    fn large_stream_data_comes_in_its_own_buffer() {
        let data: Vec<u8> = (0..200 * 1024).map(|i| (i % 251) as u8).collect();
        let mut packet = data_header();
        packet.extend_from_slice(&data);
        let small = [data_header(), vec![1, 2, 3, 4]].concat();
        let bodies = vec![vec![9u8; 30], packet.clone(), small.clone(), packet.clone()];
        let bytes: Vec<u8> = bodies.iter().flat_map(|b| frame(b)).collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for step in [5, 4096, 100_000, usize::MAX] {
            let got = rt.block_on(async {
                let at = 0;
                let mut rd = MessageReader::new(Trickle {
                    data: bytes.clone(),
                    at,
                    step,
                });
                let mut out = Vec::new();
                while let Some(m) = rd.next().await.unwrap() {
                    out.push(m);
                }
                out
            });
            let apart = Message::Data {
                header: data_header(),
                data: data.clone(),
            };
            let want = vec![
                Message::Whole(vec![9u8; 30]),
                apart,
                Message::Whole(small.clone()),
                Message::Data {
                    header: data_header(),
                    data: data.clone(),
                },
            ];
            assert!(got == want, "step {step}");
        }
        assert_eq!(messages(4096, &bodies), bodies);
    }

    #[test]
    fn spliceable_data_stays_in_the_socket() {
        let data: Vec<u8> = (0..100 * 1024).map(|i| (i % 249) as u8).collect();
        let packet = [data_header(), data.clone()].concat();
        let call = vec![9u8; 40];
        let bytes: Vec<u8> = [call.clone(), packet.clone(), call.clone()]
            .iter()
            .flat_map(|b| frame(b))
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for step in [7, 4096, usize::MAX] {
            rt.block_on(async {
                let mut rd = MessageReader::new(Trickle {
                    data: bytes.clone(),
                    at: 0,
                    step,
                });
                let first = rd.next_spliceable().await.unwrap();
                assert_eq!(first, Some(Message::Whole(call.clone())));
                // Reads stop at each message's end: at most the bytes of
                // the read that brought the header came along.
                let Some(Message::Splice { header, head, rest }) =
                    rd.next_spliceable().await.unwrap()
                else {
                    panic!("no splice at step {step}");
                };
                assert_eq!(header, data_header());
                assert!(head.is_empty(), "step {step}: {} bytes read", head.len());
                assert_eq!(rest, data.len());
                assert_eq!(rd.read_rest(rest).await.unwrap(), data);
                let last = rd.next_spliceable().await.unwrap();
                assert_eq!(last, Some(Message::Whole(call.clone())));
                assert_eq!(rd.next_spliceable().await.unwrap(), None);
            });
        }
    }

    #[test]
    fn a_truncated_message_is_an_error_and_a_clean_end_is_none() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut data = frame(&[5u8; 100]);
        data.truncate(60);
        let err = rt.block_on(async {
            let mut rd = MessageReader::new(&data[..]);
            rd.read_message().await
        });
        assert!(err.is_err());
        let end = rt.block_on(async { MessageReader::new(&[][..]).read_message().await });
        assert!(matches!(end, Ok(None)));
    }

    #[test]
    fn a_length_word_claiming_much_reserves_little() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // 32 MiB claimed, 10 bytes sent: the buffer does not grow to 32 MiB.
        let mut data = ((32u32 << 20) + 4).to_be_bytes().to_vec();
        data.extend_from_slice(&[0u8; 10]);
        let mut rd = MessageReader::new(Trickle {
            data,
            at: 0,
            step: 14,
        });
        assert!(rt.block_on(rd.read_message()).is_err());
        assert!(
            rd.buf.capacity() <= (1 << 20) + 64 * 1024,
            "{}",
            rd.buf.capacity()
        );
    }
}
