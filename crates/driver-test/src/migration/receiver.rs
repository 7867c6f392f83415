//! The destination's side of the memory stream: the receiver state machine
//! of [`super::wire`] (header, pages, iteration marks, post-copy switch,
//! complete with the digest check) and the loop that feeds it from any
//! byte source.

use super::compress;
use super::memory::{digest_iter, hex, page_vec, zero_page_hash, PAGE_SIZE};
use super::wire::{malformed, Decoder, Header, Message, Page, PageData};
use rvirt_hypervisor::rules::MtCompression;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The largest guest a stream may announce when nothing else says how big
/// it is (V1 and direct migration learn the size from the header).
pub const MAX_UNANNOUNCED_MEMORY: u64 = 64 << 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvState {
    AwaitHeader,
    Receiving,
    PostCopy,
    Completed,
    Failed,
}

/// What the destination already knows about the incoming guest.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    pub uuid: Option<[u8; 16]>,
    pub memory_bytes: Option<u64>,
    /// Multithread compression was asked for in prepare.
    pub compression: Option<MtCompression>,
    /// Page channels prepared for (parallel migration), 0 for none.
    pub channels: u32,
}

/// What a handled message asks the caller to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Continue,
    Header(Header),
    PostcopySwitch,
    Completed([u8; 32]),
}

/// The hash of every page received so far, shared by the connections of a
/// parallel migration (each page travels on one channel only, so the
/// order of one page's versions is that channel's order).
pub struct PageTable {
    hashes: Vec<AtomicU64>,
    received: AtomicU64,
    /// Of `received`: pages that travelled as zero markers.
    zero: AtomicU64,
}

impl PageTable {
    pub fn new(pages: u64) -> Result<PageTable> {
        let mut hashes = page_vec::<AtomicU64>(pages)?;
        let zero = zero_page_hash();
        hashes.extend((0..pages).map(|_| AtomicU64::new(zero)));
        Ok(PageTable {
            hashes,
            received: AtomicU64::new(0),
            zero: AtomicU64::new(0),
        })
    }

    /// Hash (inflating where needed) and store a batch of pages.
    pub fn apply(&self, pages: &mut [Page], dthreads: u32) -> Result<()> {
        if let Some(p) = pages.iter().find(|p| p.index >= self.hashes.len() as u64) {
            return Err(malformed(&format!("page {} out of range", p.index)));
        }
        let zero = pages
            .iter()
            .filter(|p| matches!(p.data, PageData::Zero))
            .count() as u64;
        for (index, h) in compress::hash_batch(pages, dthreads)? {
            self.hashes[index as usize].store(h, Ordering::Relaxed);
        }
        self.received
            .fetch_add(pages.len() as u64, Ordering::Relaxed);
        self.zero.fetch_add(zero, Ordering::Relaxed);
        Ok(())
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Pages received as zero markers (QEMU's constant pages).
    pub fn zero_received(&self) -> u64 {
        self.zero.load(Ordering::Relaxed)
    }

    pub fn digest(&self) -> [u8; 32] {
        digest_iter(self.hashes.iter().map(|h| h.load(Ordering::Relaxed)))
    }
}

/// The page channels of a parallel migration, as the main stream sees them.
pub trait PageChannels: Send + Sync {
    /// The header arrived: the channels may store pages from now on.
    fn table_ready(&self, table: Arc<PageTable>);
    /// Wait until every channel has ended (or one failed).
    fn wait_all(&self) -> Result<()>;
    /// A channel's failure, if one failed.
    fn failure(&self) -> Option<Error>;
}

pub struct Receiver {
    pub state: RecvState,
    expect: Expect,
    table: Option<Arc<PageTable>>,
    channels: Option<Arc<dyn PageChannels>>,
    pub bytes_received: u64,
    pub iteration: u32,
    /// Guest memory size from the header.
    memory_total: u64,
    /// What the source's last iteration mark said was left to send.
    remaining: u64,
}

/// The destination's view of the transfer, for its job stats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecvProgress {
    /// Bytes read off the stream(s).
    pub bytes: u64,
    pub memory_total: u64,
    pub memory_remaining: u64,
    pub normal_pages: u64,
    pub constant_pages: u64,
    pub iteration: u32,
}

impl Receiver {
    pub fn new(expect: Expect) -> Receiver {
        Receiver {
            state: RecvState::AwaitHeader,
            expect,
            table: None,
            channels: None,
            bytes_received: 0,
            iteration: 0,
            memory_total: 0,
            remaining: 0,
        }
    }

    /// Pages also arrive on these channels (parallel migration).
    pub fn with_channels(mut self, channels: Arc<dyn PageChannels>) -> Receiver {
        self.channels = Some(channels);
        self
    }

    pub fn pages_received(&self) -> u64 {
        self.table.as_ref().map_or(0, |t| t.received())
    }

    /// The figures so far: totals from the header, remaining from the
    /// source's iteration marks (nothing once complete).
    pub fn progress(&self) -> RecvProgress {
        let (pages, zero) = self
            .table
            .as_ref()
            .map_or((0, 0), |t| (t.received(), t.zero_received()));
        RecvProgress {
            bytes: self.bytes_received,
            memory_total: self.memory_total,
            memory_remaining: if self.state == RecvState::Completed {
                0
            } else {
                self.remaining
            },
            normal_pages: pages - zero,
            constant_pages: zero,
            iteration: self.iteration,
        }
    }

    /// A page channel failed: the migration fails with its error.
    pub fn channel_failure(&self) -> Option<Error> {
        self.channels.as_ref().and_then(|c| c.failure())
    }

    pub fn handle(&mut self, msg: Message) -> Result<Step> {
        let r = self.step(msg);
        if r.is_err() {
            self.state = RecvState::Failed;
        }
        r
    }

    fn check_header(&self, h: &Header) -> Result<()> {
        if h.page_size as usize != PAGE_SIZE {
            return Err(malformed(&format!("unsupported page size {}", h.page_size)));
        }
        if self.expect.uuid.is_some_and(|u| u != h.uuid) {
            return Err(malformed("stream is for another domain"));
        }
        if h.compressed && self.expect.compression.is_none() {
            return Err(malformed("compressed pages were not negotiated"));
        }
        if h.channels != self.expect.channels {
            return Err(malformed(&format!(
                "stream uses {} page channels, {} were prepared",
                h.channels, self.expect.channels
            )));
        }
        match self.expect.memory_bytes {
            Some(m) if m != h.memory_bytes => Err(malformed(&format!(
                "memory size {} does not match the prepared {m}",
                h.memory_bytes
            ))),
            None if h.memory_bytes > MAX_UNANNOUNCED_MEMORY => {
                Err(malformed("memory size too large"))
            }
            _ => Ok(()),
        }
    }

    fn step(&mut self, msg: Message) -> Result<Step> {
        use RecvState::*;
        match (self.state, msg) {
            (_, Message::Abort { reason }) => Err(Error::new(
                ErrorDomain::TEST,
                ErrorCode::OPERATION_FAILED,
                format!("migration aborted by the source: {reason}"),
            )),
            (AwaitHeader, Message::Header(h)) => {
                self.check_header(&h)?;
                let pages = h.memory_bytes.div_ceil(PAGE_SIZE as u64).max(1);
                let table = Arc::new(PageTable::new(pages)?);
                if let Some(c) = &self.channels {
                    c.table_ready(table.clone());
                }
                self.table = Some(table);
                self.memory_total = h.memory_bytes;
                self.remaining = h.memory_bytes;
                self.state = Receiving;
                Ok(Step::Header(h))
            }
            (
                Receiving | PostCopy,
                Message::Pages {
                    iteration,
                    mut pages,
                },
            ) => {
                if iteration < self.iteration {
                    return Err(malformed("iteration went backwards"));
                }
                let dthreads = self.expect.compression.map_or(1, |c| c.dthreads);
                match &self.table {
                    Some(t) => t.apply(&mut pages, dthreads)?,
                    None => return Err(malformed("pages before the header")),
                }
                Ok(Step::Continue)
            }
            (
                Receiving | PostCopy,
                Message::Iteration {
                    iteration,
                    remaining,
                },
            ) => {
                if iteration < self.iteration {
                    return Err(malformed("iteration went backwards"));
                }
                self.iteration = iteration;
                self.remaining = remaining.min(self.memory_total);
                Ok(Step::Continue)
            }
            (Receiving, Message::PostcopySwitch) => {
                self.state = PostCopy;
                Ok(Step::PostcopySwitch)
            }
            (Receiving | PostCopy, Message::Complete { digest }) => {
                // Every channel must have delivered its pages first.
                if let Some(c) = &self.channels {
                    c.wait_all()?;
                }
                let ours = self
                    .table
                    .as_ref()
                    .map(|t| t.digest())
                    .ok_or_else(|| malformed("complete before the header"))?;
                if ours != digest {
                    return Err(Error::new(
                        ErrorDomain::TEST,
                        ErrorCode::OPERATION_FAILED,
                        format!(
                            "migration memory digest mismatch: source {}, destination {}",
                            hex(&digest),
                            hex(&ours)
                        ),
                    ));
                }
                self.state = Completed;
                Ok(Step::Completed(ours))
            }
            (s, m) => Err(malformed(&format!(
                "unexpected {} in state {s:?}",
                match m {
                    Message::Header(_) => "header",
                    Message::Pages { .. } => "pages",
                    Message::Iteration { .. } => "iteration mark",
                    Message::PostcopySwitch => "post-copy switch",
                    Message::Complete { .. } => "complete",
                    Message::Abort { .. } => "abort",
                    Message::Channel { .. } => "channel announcement",
                    Message::ChannelEnd => "channel end",
                }
            ))),
        }
    }
}

/// What the receive loop tells its owner along the way.
pub trait Hooks {
    /// The header arrived (V1/direct create the domain here).
    fn header(&mut self, h: &Header) -> Result<()>;
    /// The source switched to post-copy: the guest runs here from now on.
    fn postcopy(&mut self) -> Result<()>;
    /// Progress, for the destination's job stats.
    fn progress(&mut self, progress: RecvProgress);
    /// Stop early (the incoming migration was cancelled).
    fn cancelled(&self) -> bool;
}

/// Read the stream to its end: `Ok(digest)` once Complete verified.
pub fn run(source: &mut dyn Read, rx: &mut Receiver, hooks: &mut dyn Hooks) -> Result<[u8; 32]> {
    let mut dec = Decoder::default();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        if hooks.cancelled() {
            return Err(Error::new(
                ErrorDomain::TEST,
                ErrorCode::OPERATION_ABORTED,
                "migration in job: canceled by client",
            ));
        }
        if let Some(e) = rx.channel_failure() {
            rx.state = RecvState::Failed;
            return Err(e);
        }
        let n = match source.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(e) => {
                return Err(Error::system(
                    ErrorDomain::TEST,
                    "unable to read migration stream",
                    &e,
                ))
            }
        };
        if n == 0 {
            return Err(Error::new(
                ErrorDomain::TEST,
                ErrorCode::OPERATION_FAILED,
                "migration stream ended before the migration completed",
            ));
        }
        rx.bytes_received += n as u64;
        dec.push(&buf[..n]);
        while let Some(msg) = dec.next_message()? {
            match rx.handle(msg)? {
                Step::Continue => {}
                Step::Header(h) => hooks.header(&h)?,
                Step::PostcopySwitch => hooks.postcopy()?,
                Step::Completed(d) => {
                    hooks.progress(rx.progress());
                    return Ok(d);
                }
            }
        }
        hooks.progress(rx.progress());
    }
}

#[cfg(test)]
mod tests {
    use super::super::memory::{GuestConfig, GuestMemory};
    use super::super::wire::{Page, PageData};
    use super::*;

    struct NoHooks;
    impl Hooks for NoHooks {
        fn header(&mut self, _: &Header) -> Result<()> {
            Ok(())
        }
        fn postcopy(&mut self) -> Result<()> {
            Ok(())
        }
        fn progress(&mut self, _: RecvProgress) {}
        fn cancelled(&self) -> bool {
            false
        }
    }

    fn header(mem: u64) -> Message {
        Message::Header(Header {
            name: "g".into(),
            uuid: [1; 16],
            memory_bytes: mem,
            page_size: 4096,
            domain_xml: None,
            compressed: false,
            channels: 0,
        })
    }

    #[test]
    fn full_stream_verifies_digest() {
        let m = GuestMemory::new(5, 1 << 20, &GuestConfig::default()).unwrap();
        let mut bytes = header(1 << 20).to_bytes();
        let mut buf = vec![0u8; PAGE_SIZE];
        let pages = (0..m.pages())
            .map(|i| Page {
                index: i,
                data: if m.read_page(i, &mut buf) {
                    PageData::Raw(buf.clone())
                } else {
                    PageData::Zero
                },
            })
            .collect();
        Message::Pages {
            iteration: 1,
            pages,
        }
        .write(&mut bytes);
        Message::Complete { digest: m.digest() }.write(&mut bytes);
        let mut rx = Receiver::new(Expect::default());
        let d = run(&mut bytes.as_slice(), &mut rx, &mut NoHooks).unwrap();
        assert_eq!(d, m.digest());
        assert_eq!(rx.state, RecvState::Completed);

        // One flipped byte: the digest no longer matches.
        let mut rx = Receiver::new(Expect::default());
        let mut page = vec![0u8; PAGE_SIZE];
        m.read_page(0, &mut page);
        page[0] ^= 1;
        let mut bad = header(1 << 20).to_bytes();
        Message::Pages {
            iteration: 1,
            pages: vec![Page {
                index: 0,
                data: PageData::Raw(page),
            }],
        }
        .write(&mut bad);
        Message::Complete { digest: m.digest() }.write(&mut bad);
        let e = run(&mut bad.as_slice(), &mut rx, &mut NoHooks).unwrap_err();
        assert!(e.message.contains("digest mismatch"), "{e}");
    }

    #[test]
    fn protocol_violations_fail() {
        let mut rx = Receiver::new(Expect::default());
        assert!(rx.handle(Message::PostcopySwitch).is_err());
        assert_eq!(rx.state, RecvState::Failed);
        let mut rx = Receiver::new(Expect {
            memory_bytes: Some(8192),
            ..Expect::default()
        });
        assert!(rx.handle(header(4096)).is_err());
        // An absurd size that both sides agree on: refused, not an abort.
        let mut rx = Receiver::new(Expect {
            memory_bytes: Some(u64::MAX - 4095),
            ..Expect::default()
        });
        let e = rx.handle(header(u64::MAX - 4095)).unwrap_err();
        assert_eq!(e.code, ErrorCode::NO_MEMORY);
        // Compressed pages or page channels nobody prepared for.
        let mut rx = Receiver::new(Expect::default());
        let mut h = Header {
            name: "g".into(),
            uuid: [1; 16],
            memory_bytes: 8192,
            page_size: 4096,
            domain_xml: None,
            compressed: true,
            channels: 0,
        };
        assert!(rx.handle(Message::Header(h.clone())).is_err());
        let mut rx = Receiver::new(Expect::default());
        h.compressed = false;
        h.channels = 2;
        let e = rx.handle(Message::Header(h)).unwrap_err();
        assert!(
            e.message.contains("2 page channels, 0 were prepared"),
            "{e}"
        );
        let mut rx = Receiver::new(Expect::default());
        rx.handle(header(8192)).unwrap();
        let far = Message::Pages {
            iteration: 1,
            pages: vec![Page {
                index: 2,
                data: PageData::Zero,
            }],
        };
        assert!(rx.handle(far).is_err());
        let mut rx = Receiver::new(Expect::default());
        let e = run(
            &mut header(8192).to_bytes().as_slice(),
            &mut rx,
            &mut NoHooks,
        )
        .unwrap_err();
        assert!(e.message.contains("ended before"), "{e}");
    }
}
