//! The destination's side of the memory stream: the receiver state machine
//! of [`super::wire`] (header, pages, iteration marks, post-copy switch,
//! complete with the digest check) and the loop that feeds it from any
//! byte source.

use super::memory::{digest_of, hex, page_hash, zero_page_hash, PAGE_SIZE};
use super::wire::{malformed, Decoder, Header, Message, PageData};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::io::Read;

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
}

/// What a handled message asks the caller to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Continue,
    Header(Header),
    PostcopySwitch,
    Completed([u8; 32]),
}

pub struct Receiver {
    pub state: RecvState,
    expect: Expect,
    hashes: Vec<u64>,
    pub pages_received: u64,
    pub bytes_received: u64,
    pub iteration: u32,
}

impl Receiver {
    pub fn new(expect: Expect) -> Receiver {
        Receiver {
            state: RecvState::AwaitHeader,
            expect,
            hashes: Vec::new(),
            pages_received: 0,
            bytes_received: 0,
            iteration: 0,
        }
    }

    pub fn handle(&mut self, msg: Message) -> Result<Step> {
        let r = self.step(msg);
        if r.is_err() {
            self.state = RecvState::Failed;
        }
        r
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
                if h.page_size as usize != PAGE_SIZE {
                    return Err(malformed(&format!("unsupported page size {}", h.page_size)));
                }
                if self.expect.uuid.is_some_and(|u| u != h.uuid) {
                    return Err(malformed("stream is for another domain"));
                }
                match self.expect.memory_bytes {
                    Some(m) if m != h.memory_bytes => {
                        return Err(malformed(&format!(
                            "memory size {} does not match the prepared {m}",
                            h.memory_bytes
                        )))
                    }
                    None if h.memory_bytes > MAX_UNANNOUNCED_MEMORY => {
                        return Err(malformed("memory size too large"))
                    }
                    _ => {}
                }
                let pages = h.memory_bytes.div_ceil(PAGE_SIZE as u64).max(1);
                self.hashes = vec![zero_page_hash(); pages as usize];
                self.state = Receiving;
                Ok(Step::Header(h))
            }
            (Receiving | PostCopy, Message::Pages { iteration, pages }) => {
                if iteration < self.iteration {
                    return Err(malformed("iteration went backwards"));
                }
                for p in pages {
                    let slot = self
                        .hashes
                        .get_mut(p.index as usize)
                        .ok_or_else(|| malformed(&format!("page {} out of range", p.index)))?;
                    *slot = match &p.data {
                        PageData::Zero => zero_page_hash(),
                        PageData::Raw(b) if b.len() == PAGE_SIZE => page_hash(b),
                        PageData::Raw(_) => return Err(malformed("short page")),
                    };
                    self.pages_received += 1;
                }
                Ok(Step::Continue)
            }
            (Receiving | PostCopy, Message::Iteration { iteration, .. }) => {
                if iteration < self.iteration {
                    return Err(malformed("iteration went backwards"));
                }
                self.iteration = iteration;
                Ok(Step::Continue)
            }
            (Receiving, Message::PostcopySwitch) => {
                self.state = PostCopy;
                Ok(Step::PostcopySwitch)
            }
            (Receiving | PostCopy, Message::Complete { digest }) => {
                let ours = digest_of(&self.hashes);
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
    fn progress(&mut self, bytes: u64, pages: u64, iteration: u32);
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
                    hooks.progress(rx.bytes_received, rx.pages_received, rx.iteration);
                    return Ok(d);
                }
            }
        }
        hooks.progress(rx.bytes_received, rx.pages_received, rx.iteration);
    }
}

#[cfg(test)]
mod tests {
    use super::super::memory::{fill_page, GuestConfig, GuestMemory};
    use super::super::wire::Page;
    use super::*;

    struct NoHooks;
    impl Hooks for NoHooks {
        fn header(&mut self, _: &Header) -> Result<()> {
            Ok(())
        }
        fn postcopy(&mut self) -> Result<()> {
            Ok(())
        }
        fn progress(&mut self, _: u64, _: u64, _: u32) {}
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
        })
    }

    #[test]
    fn full_stream_verifies_digest() {
        let m = GuestMemory::new(5, 1 << 20, &GuestConfig::default());
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
        fill_page(5, 0, 1, &mut page);
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
            uuid: None,
            memory_bytes: Some(8192),
        });
        assert!(rx.handle(header(4096)).is_err());
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
