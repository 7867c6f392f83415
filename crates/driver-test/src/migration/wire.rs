//! The memory stream: how guest memory travels from the source to the
//! destination test driver. One-way (source → destination), so it runs over
//! any byte pipe: a TCP connection (native), a `virStream` (tunnelled), the
//! relocation connection (direct).
//!
//! Every message is a frame: `tag: u8`, `length: u32` (big endian), then
//! `length` bytes of payload. Integers are big endian, strings are a `u32`
//! length and UTF-8 bytes.
//!
//! ```text
//!  source                                        destination
//!    │ Header{name, uuid, memory, page size, xml?}  │ (allocates page table)
//!    │───────────────────────────────────────────▶│
//!    │ Pages{iteration 1, page…}  (full pass)       │
//!    │───────────────────────────────────────────▶│
//!    │ Iteration{1, remaining}                      │
//!    │───────────────────────────────────────────▶│
//!    │ Pages{iteration 2, dirtied pages…} …         │
//!    │───────────────────────────────────────────▶│
//!    │   [source pauses the guest]                  │
//!    │ Pages{last pass}                             │
//!    │ Complete{sha256 digest}                      │ (compares with its own)
//!    │───────────────────────────────────────────▶│
//!    │                  verdict (TCP only, 1 frame) │
//!    │◀───────────────────────────────────────────│
//!
//!  post-copy: … Iteration{n} ▶ PostcopySwitch ▶ (destination runs the
//!  guest) ▶ Pages{remaining} ▶ Complete{digest}
//!  any time: Abort{reason} ▶ (destination drops what it prepared)
//!
//!  parallel (channels.rs): each connection opens with Channel{index, n};
//!  pages go on channels 1..=n, each ending with ChannelEnd.
//!  compressed: pages of kind Deflated (zlib) when the header says so.
//! ```
//!
//! The receiver's states:
//!
//! ```text
//!   AwaitHeader ──Header──▶ Receiving ──Pages/Iteration──▶ Receiving
//!                             │  └──PostcopySwitch──▶ PostCopy ──Pages──▶ PostCopy
//!                             └──────────Complete──────────┴──────▶ Completed
//!   any ──Abort / bad frame / end of stream before Complete──▶ Failed
//! ```

use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// Magic + version at the start of every header.
pub const MAGIC: &[u8; 8] = b"RVIRTMIG";
pub const VERSION: u32 = 2;
/// No frame may be larger (a page batch is at most ~1 MiB).
pub const MAX_FRAME: usize = 16 << 20;
/// Pages per batch.
pub const BATCH_PAGES: usize = 64;

const T_HEADER: u8 = 1;
const T_PAGES: u8 = 2;
const T_ITERATION: u8 = 3;
const T_POSTCOPY: u8 = 4;
const T_COMPLETE: u8 = 5;
const T_ABORT: u8 = 6;
const T_CHANNEL: u8 = 7;
const T_CHANNEL_END: u8 = 8;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub uuid: [u8; 16],
    pub memory_bytes: u64,
    pub page_size: u32,
    /// The domain definition, for V1 and direct migration, where no other
    /// phase carries it.
    pub domain_xml: Option<String>,
    /// Pages may arrive deflated (multithread compression).
    pub compressed: bool,
    /// Page channels besides this one (parallel migration); 0 when all
    /// pages travel on this stream.
    pub channels: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageData {
    /// A page of zeros: only the marker travels.
    Zero,
    Raw(Vec<u8>),
    /// The page deflated in zlib format (multithread compression).
    Deflated(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub index: u64,
    pub data: PageData,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Header(Header),
    Pages {
        iteration: u32,
        pages: Vec<Page>,
    },
    Iteration {
        iteration: u32,
        remaining: u64,
    },
    PostcopySwitch,
    Complete {
        digest: [u8; 32],
    },
    Abort {
        reason: String,
    },
    /// First frame of every connection of a parallel migration: which one
    /// it is (0 is the main stream) and how many page channels there are.
    Channel {
        index: u32,
        count: u32,
    },
    /// A page channel has sent everything.
    ChannelEnd,
}

pub fn malformed(what: &str) -> Error {
    Error::new(
        ErrorDomain::TEST,
        ErrorCode::OPERATION_FAILED,
        format!("malformed migration stream: {what}"),
    )
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// A cursor over one frame's payload that refuses to run past its end.
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.b.len() < n {
            return Err(malformed("truncated message"));
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().unwrap_or_default(),
        ))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().unwrap_or_default(),
        ))
    }
    fn string(&mut self) -> Result<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| malformed("string is not UTF-8"))
    }
    fn end(&self) -> Result<()> {
        if self.b.is_empty() {
            Ok(())
        } else {
            Err(malformed("trailing bytes in message"))
        }
    }
}

impl Message {
    /// Append this message as one frame.
    pub fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0; 5]);
        let tag = match self {
            Message::Header(h) => {
                out.extend_from_slice(MAGIC);
                out.extend_from_slice(&VERSION.to_be_bytes());
                put_str(out, &h.name);
                out.extend_from_slice(&h.uuid);
                out.extend_from_slice(&h.memory_bytes.to_be_bytes());
                out.extend_from_slice(&h.page_size.to_be_bytes());
                match &h.domain_xml {
                    Some(x) => {
                        out.push(1);
                        put_str(out, x);
                    }
                    None => out.push(0),
                }
                out.push(h.compressed as u8);
                out.extend_from_slice(&h.channels.to_be_bytes());
                T_HEADER
            }
            Message::Pages { iteration, pages } => {
                out.extend_from_slice(&iteration.to_be_bytes());
                out.extend_from_slice(&(pages.len() as u32).to_be_bytes());
                for p in pages {
                    out.extend_from_slice(&p.index.to_be_bytes());
                    match &p.data {
                        PageData::Zero => out.push(0),
                        PageData::Raw(b) => {
                            out.push(1);
                            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
                            out.extend_from_slice(b);
                        }
                        PageData::Deflated(b) => {
                            out.push(2);
                            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
                            out.extend_from_slice(b);
                        }
                    }
                }
                T_PAGES
            }
            Message::Iteration {
                iteration,
                remaining,
            } => {
                out.extend_from_slice(&iteration.to_be_bytes());
                out.extend_from_slice(&remaining.to_be_bytes());
                T_ITERATION
            }
            Message::PostcopySwitch => T_POSTCOPY,
            Message::Complete { digest } => {
                out.extend_from_slice(digest);
                T_COMPLETE
            }
            Message::Abort { reason } => {
                put_str(out, reason);
                T_ABORT
            }
            Message::Channel { index, count } => {
                out.extend_from_slice(&index.to_be_bytes());
                out.extend_from_slice(&count.to_be_bytes());
                T_CHANNEL
            }
            Message::ChannelEnd => T_CHANNEL_END,
        };
        let len = (out.len() - start - 5) as u32;
        out[start] = tag;
        out[start + 1..start + 5].copy_from_slice(&len.to_be_bytes());
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write(&mut v);
        v
    }

    /// Decode one frame's payload.
    pub fn read(tag: u8, payload: &[u8]) -> Result<Message> {
        let mut r = Reader { b: payload };
        let msg = match tag {
            T_HEADER => {
                if r.take(8)? != MAGIC {
                    return Err(malformed("bad magic"));
                }
                let v = r.u32()?;
                if v != VERSION {
                    return Err(malformed(&format!("unsupported version {v}")));
                }
                let name = r.string()?;
                let uuid: [u8; 16] = r.take(16)?.try_into().unwrap_or_default();
                let memory_bytes = r.u64()?;
                let page_size = r.u32()?;
                let domain_xml = match r.u8()? {
                    0 => None,
                    1 => Some(r.string()?),
                    _ => return Err(malformed("bad header")),
                };
                let compressed = match r.u8()? {
                    0 => false,
                    1 => true,
                    _ => return Err(malformed("bad header")),
                };
                Message::Header(Header {
                    name,
                    uuid,
                    memory_bytes,
                    page_size,
                    domain_xml,
                    compressed,
                    channels: r.u32()?,
                })
            }
            T_PAGES => {
                let iteration = r.u32()?;
                let n = r.u32()? as usize;
                // Each page takes at least 9 bytes: bound the allocation.
                if n > payload.len() / 9 {
                    return Err(malformed("page count exceeds message"));
                }
                let mut pages = Vec::with_capacity(n);
                for _ in 0..n {
                    let index = r.u64()?;
                    let data = match r.u8()? {
                        0 => PageData::Zero,
                        1 => {
                            let len = r.u32()? as usize;
                            PageData::Raw(r.take(len)?.to_vec())
                        }
                        2 => {
                            let len = r.u32()? as usize;
                            PageData::Deflated(r.take(len)?.to_vec())
                        }
                        k => return Err(malformed(&format!("unknown page kind {k}"))),
                    };
                    pages.push(Page { index, data });
                }
                Message::Pages { iteration, pages }
            }
            T_ITERATION => Message::Iteration {
                iteration: r.u32()?,
                remaining: r.u64()?,
            },
            T_POSTCOPY => Message::PostcopySwitch,
            T_COMPLETE => Message::Complete {
                digest: r.take(32)?.try_into().unwrap_or_default(),
            },
            T_ABORT => Message::Abort {
                reason: r.string()?,
            },
            T_CHANNEL => Message::Channel {
                index: r.u32()?,
                count: r.u32()?,
            },
            T_CHANNEL_END => Message::ChannelEnd,
            t => return Err(malformed(&format!("unknown message type {t}"))),
        };
        r.end()?;
        Ok(msg)
    }
}

/// Splits a byte stream that arrives in arbitrary pieces into messages.
#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
    pos: usize,
}

impl Decoder {
    pub fn push(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next complete message, `None` until more bytes arrive.
    pub fn next_message(&mut self) -> Result<Option<Message>> {
        let avail = &self.buf[self.pos..];
        if avail.len() < 5 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([avail[1], avail[2], avail[3], avail[4]]) as usize;
        if len > MAX_FRAME {
            return Err(malformed("message too large"));
        }
        if avail.len() < 5 + len {
            return Ok(None);
        }
        let msg = Message::read(avail[0], &avail[5..5 + len])?;
        self.pos += 5 + len;
        if self.pos > (1 << 20) {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        Ok(Some(msg))
    }

    /// Bytes received but not yet decoded.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }
}

/// The destination's answer at the end of a TCP stream: empty for success,
/// else the error's code and message.
pub fn encode_verdict(result: &Result<()>) -> Vec<u8> {
    match result {
        Ok(()) => vec![0],
        Err(e) => {
            let mut v = vec![1];
            v.extend_from_slice(&e.code.0.to_be_bytes());
            put_str(&mut v, &e.message);
            v
        }
    }
}

/// Read a verdict written by [`encode_verdict`].
pub fn read_verdict(r: &mut impl std::io::Read) -> Result<()> {
    let io = |e: std::io::Error| {
        Error::new(
            ErrorDomain::TEST,
            ErrorCode::OPERATION_FAILED,
            format!("migration destination did not answer: {e}"),
        )
    };
    let mut k = [0u8; 1];
    r.read_exact(&mut k).map_err(io)?;
    if k[0] == 0 {
        return Ok(());
    }
    let mut head = [0u8; 8];
    r.read_exact(&mut head).map_err(io)?;
    let code = i32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let len = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
    if len > 65536 {
        return Err(malformed("verdict too long"));
    }
    let mut text = vec![0u8; len];
    r.read_exact(&mut text).map_err(io)?;
    Err(Error::raw(
        ErrorDomain::TEST,
        ErrorCode(code),
        String::from_utf8_lossy(&text).into_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn samples() -> Vec<Message> {
        vec![
            Message::Header(Header {
                name: "g".into(),
                uuid: [7; 16],
                memory_bytes: 1 << 24,
                page_size: 4096,
                domain_xml: Some("<domain/>".into()),
                compressed: true,
                channels: 3,
            }),
            Message::Pages {
                iteration: 1,
                pages: vec![
                    Page {
                        index: 0,
                        data: PageData::Zero,
                    },
                    Page {
                        index: 9,
                        data: PageData::Raw(vec![1, 2, 3]),
                    },
                    Page {
                        index: 10,
                        data: PageData::Deflated(vec![4, 5]),
                    },
                ],
            },
            Message::Iteration {
                iteration: 1,
                remaining: 4096,
            },
            Message::PostcopySwitch,
            Message::Complete { digest: [3; 32] },
            Message::Abort {
                reason: "stop".into(),
            },
            Message::Channel { index: 2, count: 4 },
            Message::ChannelEnd,
        ]
    }

    #[test]
    fn round_trip_in_any_pieces() {
        let mut bytes = Vec::new();
        for m in samples() {
            m.write(&mut bytes);
        }
        for piece in [1, 3, 7, 1000] {
            let mut d = Decoder::default();
            let mut got = Vec::new();
            for chunk in bytes.chunks(piece) {
                d.push(chunk);
                while let Some(m) = d.next_message().unwrap() {
                    got.push(m);
                }
            }
            assert_eq!(got, samples());
            assert_eq!(d.pending(), 0);
        }
    }

    #[test]
    fn bad_frames_are_errors() {
        assert!(Message::read(99, &[]).is_err());
        assert!(Message::read(T_COMPLETE, &[0; 31]).is_err());
        assert!(Message::read(T_COMPLETE, &[0; 33]).is_err());
        assert!(Message::read(T_PAGES, &[0, 0, 0, 1, 255, 255, 255, 255]).is_err());
        let mut d = Decoder::default();
        d.push(&[T_PAGES, 0xff, 0xff, 0xff, 0xff]);
        assert!(d.next_message().is_err());
        let v = encode_verdict(&Err(malformed("x")));
        let e = read_verdict(&mut v.as_slice()).unwrap_err();
        assert_eq!(e.message, "operation failed: malformed migration stream: x");
        assert!(read_verdict(&mut [0u8].as_slice()).is_ok());
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut d = Decoder::default();
            d.push(&bytes);
            for _ in 0..64 {
                match d.next_message() {
                    Ok(Some(_)) => continue,
                    _ => break,
                }
            }
        }

        #[test]
        fn garbage_payloads_never_panic(tag in 0u8..10, bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = Message::read(tag, &bytes);
        }
    }
}
