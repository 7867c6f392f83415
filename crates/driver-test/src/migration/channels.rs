//! Parallel migration (VIR_MIGRATE_PARALLEL, QEMU's multifd): besides the
//! main stream, `parallel.connections` TCP connections to the same
//! destination port carry the pages.
//!
//! ```text
//!  source                                         destination listener
//!    main   ─ Channel{0,n} Header … Iteration … Complete ─▶ receiver
//!    chan 1 ─ Channel{1,n} Pages… ChannelEnd ─────────────▶ channel thread ┐
//!    …                                                                      ├▶ PageTable
//!    chan n ─ Channel{n,n} Pages… ChannelEnd ─────────────▶ channel thread ┘
//! ```
//!
//! Page `i` always travels on channel `1 + i % n`, so the versions of one
//! page arrive in the order they were sent; the main stream's Complete is
//! checked only once every channel has ended. Each channel has a writer
//! thread with a short queue on the source and a reader thread on the
//! destination; all of them end with the migration, whichever way it ends.

use super::receiver::{PageChannels, PageTable};
use super::transport::{shutdown_interrupt, TcpSink};
use super::wire::{malformed, Decoder, Message, Page};
use parking_lot::{Condvar, Mutex};
use rvirt_hypervisor::job::Interrupt;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Frames queued per channel before the sender waits (back-pressure).
const QUEUE: usize = 4;

fn io_err(what: &str, e: &std::io::Error) -> Error {
    Error::system(ErrorDomain::TEST, what, e)
}

/// Which channel carries page `index` (1-based: 0 is the main stream).
pub fn channel_of(index: u64, count: u32) -> usize {
    1 + (index % count.max(1) as u64) as usize
}

struct Writer {
    tx: Option<SyncSender<Vec<u8>>>,
    conn: TcpStream,
    handle: Option<JoinHandle<Result<()>>>,
}

/// The source's page channels.
pub struct ChannelSinks {
    writers: Vec<Writer>,
}

impl ChannelSinks {
    /// Open `count` page channels to `uri`, each announcing itself.
    pub fn connect(uri: &str, count: u32) -> Result<ChannelSinks> {
        let mut sinks = ChannelSinks {
            writers: Vec::new(),
        };
        for index in 1..=count {
            let mut conn = TcpSink::connect(uri)?.conn;
            conn.write_all(&Message::Channel { index, count }.to_bytes())
                .map_err(|e| io_err("unable to write to migration stream", &e))?;
            let clone = conn
                .try_clone()
                .map_err(|e| io_err("unable to write to migration stream", &e))?;
            let (tx, rx) = sync_channel::<Vec<u8>>(QUEUE);
            let handle = std::thread::spawn(move || -> Result<()> {
                for frame in rx {
                    conn.write_all(&frame)
                        .map_err(|e| io_err("unable to write to migration channel", &e))?;
                }
                conn.flush()
                    .map_err(|e| io_err("unable to write to migration channel", &e))
            });
            sinks.writers.push(Writer {
                tx: Some(tx),
                conn: clone,
                handle: Some(handle),
            });
        }
        Ok(sinks)
    }

    pub fn count(&self) -> u32 {
        self.writers.len() as u32
    }

    /// Split a batch by channel and queue one Pages frame on each.
    pub fn send_pages(&mut self, iteration: u32, pages: Vec<Page>) -> Result<u64> {
        let n = self.count();
        let mut split: Vec<Vec<Page>> = (0..n).map(|_| Vec::new()).collect();
        for p in pages {
            split[channel_of(p.index, n) - 1].push(p);
        }
        let mut bytes = 0;
        for (i, pages) in split.into_iter().enumerate() {
            if pages.is_empty() {
                continue;
            }
            let frame = Message::Pages { iteration, pages }.to_bytes();
            bytes += frame.len() as u64;
            self.queue(i, frame)?;
        }
        Ok(bytes)
    }

    fn queue(&mut self, i: usize, frame: Vec<u8>) -> Result<()> {
        let w = &mut self.writers[i];
        let sent = w.tx.as_ref().map(|tx| tx.send(frame).is_ok());
        if sent == Some(true) {
            return Ok(());
        }
        // The writer stopped: its error says why.
        w.tx = None;
        let err = w
            .handle
            .take()
            .and_then(|h| h.join().ok())
            .and_then(|r| r.err());
        Err(err.unwrap_or_else(|| malformed("migration channel closed")))
    }

    /// Everything is queued: end each channel and wait for its writer.
    pub fn finish(&mut self) -> Result<()> {
        for i in 0..self.writers.len() {
            self.queue(i, Message::ChannelEnd.to_bytes())?;
        }
        let mut first = None;
        for w in &mut self.writers {
            w.tx = None;
            if let Some(h) = w.handle.take() {
                let r = h
                    .join()
                    .unwrap_or_else(|_| Err(malformed("channel writer failed")));
                if let (Err(e), None) = (r, &first) {
                    first = Some(e);
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Shuts every channel down from another thread (abort): a writer
    /// blocked on a destination that stopped reading fails, and with it the
    /// sender waiting to queue the next frame.
    pub fn interrupter(&self) -> Option<Interrupt> {
        let hooks: Vec<Interrupt> = self
            .writers
            .iter()
            .filter_map(|w| shutdown_interrupt(&w.conn))
            .collect();
        Some(Arc::new(move || hooks.iter().for_each(|h| h())))
    }

    /// The migration failed: close every channel now.
    pub fn abort(&mut self) {
        for w in &mut self.writers {
            w.tx = None;
            let _ = w.conn.shutdown(Shutdown::Both);
            if let Some(h) = w.handle.take() {
                let _ = h.join();
            }
        }
    }
}

impl Drop for ChannelSinks {
    fn drop(&mut self) {
        self.abort();
    }
}

/// Read one small frame (a channel announcement) from a fresh connection.
fn read_announcement(conn: &mut TcpStream) -> Result<(u32, u32)> {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = [0u8; 5];
    conn.read_exact(&mut head)
        .map_err(|e| io_err("unable to read migration stream", &e))?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > 64 {
        return Err(malformed("expected a channel announcement"));
    }
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body)
        .map_err(|e| io_err("unable to read migration stream", &e))?;
    match Message::read(head[0], &body)? {
        Message::Channel { index, count } => Ok((index, count)),
        _ => Err(malformed("expected a channel announcement")),
    }
}

/// Accept the main stream and `count` page channels, in any order.
pub fn accept_all(
    listener: &TcpListener,
    count: u32,
    deadline: Instant,
    cancelled: &dyn Fn() -> bool,
) -> Result<(TcpStream, Vec<TcpStream>)> {
    let mut slots: Vec<Option<TcpStream>> = (0..=count).map(|_| None).collect();
    let mut missing = count as usize + 1;
    while missing > 0 {
        let mut c = accept_within(listener, deadline, cancelled)?;
        let _ = c.set_nonblocking(false);
        let (index, n) = read_announcement(&mut c)?;
        if n != count {
            return Err(malformed(&format!(
                "stream uses {n} page channels, {count} were prepared"
            )));
        }
        let slot = slots
            .get_mut(index as usize)
            .filter(|s| s.is_none())
            .ok_or_else(|| malformed(&format!("unexpected channel {index}")))?;
        *slot = Some(c);
        missing -= 1;
    }
    let mut conns = slots.into_iter().flatten();
    let main = conns
        .next()
        .ok_or_else(|| malformed("no main migration stream"))?;
    Ok((main, conns.collect()))
}

/// One connection on a non-blocking `listener` before `deadline`, unless
/// the migration is cancelled meanwhile.
pub fn accept_within(
    listener: &TcpListener,
    deadline: Instant,
    cancelled: &dyn Fn() -> bool,
) -> Result<TcpStream> {
    loop {
        if cancelled() {
            return Err(malformed("incoming migration was cancelled"));
        }
        match listener.accept() {
            Ok((c, _)) => return Ok(c),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(io_err("no migration connection", &e)),
        }
    }
}

#[derive(Default)]
struct Progress {
    table: Option<Arc<PageTable>>,
    ended: u32,
    failure: Option<Error>,
}

/// The destination's page channels: one reader thread each.
pub struct IncomingChannels {
    count: u32,
    progress: Mutex<Progress>,
    cond: Condvar,
    cancelled: Box<dyn Fn() -> bool + Send + Sync>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl IncomingChannels {
    /// Start reading `conns`; `cancelled` says the migration was dropped.
    pub fn start(
        conns: Vec<TcpStream>,
        cancelled: Box<dyn Fn() -> bool + Send + Sync>,
    ) -> Arc<IncomingChannels> {
        let ch = Arc::new(IncomingChannels {
            count: conns.len() as u32,
            progress: Mutex::default(),
            cond: Condvar::new(),
            cancelled,
            threads: Mutex::default(),
        });
        let handles = conns
            .into_iter()
            .map(|conn| {
                let c = ch.clone();
                std::thread::spawn(move || {
                    let r = c.read(conn);
                    let mut p = c.progress.lock();
                    match r {
                        Ok(()) => p.ended += 1,
                        Err(e) => {
                            p.failure.get_or_insert(e);
                        }
                    }
                    c.cond.notify_all();
                })
            })
            .collect();
        *ch.threads.lock() = handles;
        ch
    }

    fn stopped(&self) -> Result<()> {
        if (self.cancelled)() {
            return Err(malformed("incoming migration was cancelled"));
        }
        match &self.progress.lock().failure {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The page table, once the main stream's header made it.
    fn table(&self) -> Result<Arc<PageTable>> {
        let mut p = self.progress.lock();
        loop {
            if let Some(t) = &p.table {
                return Ok(t.clone());
            }
            drop(p);
            self.stopped()?;
            p = self.progress.lock();
            self.cond.wait_for(&mut p, Duration::from_millis(100));
        }
    }

    /// One channel's reader: pages until ChannelEnd.
    fn read(&self, mut conn: TcpStream) -> Result<()> {
        let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
        let mut dec = Decoder::default();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            while let Some(msg) = dec.next_message()? {
                match msg {
                    Message::Pages { mut pages, .. } => self.table()?.apply(&mut pages, 1)?,
                    Message::ChannelEnd if dec.pending() == 0 => return Ok(()),
                    Message::Abort { reason } => {
                        return Err(Error::new(
                            ErrorDomain::TEST,
                            ErrorCode::OPERATION_FAILED,
                            format!("migration aborted by the source: {reason}"),
                        ))
                    }
                    _ => return Err(malformed("unexpected message on a page channel")),
                }
            }
            self.stopped()?;
            match conn.read(&mut buf) {
                Ok(0) => return Err(malformed("migration channel ended early")),
                Ok(n) => dec.push(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(io_err("unable to read migration channel", &e)),
            }
        }
    }

    /// Wait for every reader thread (after the migration ended either way).
    pub fn join(&self) {
        let handles = std::mem::take(&mut *self.threads.lock());
        for h in handles {
            let _ = h.join();
        }
    }
}

impl PageChannels for IncomingChannels {
    fn table_ready(&self, table: Arc<PageTable>) {
        self.progress.lock().table = Some(table);
        self.cond.notify_all();
    }

    fn wait_all(&self) -> Result<()> {
        let mut p = self.progress.lock();
        loop {
            if let Some(e) = &p.failure {
                return Err(e.clone());
            }
            if p.ended == self.count {
                return Ok(());
            }
            if (self.cancelled)() {
                return Err(malformed("incoming migration was cancelled"));
            }
            self.cond.wait_for(&mut p, Duration::from_millis(100));
        }
    }

    fn failure(&self) -> Option<Error> {
        self.progress.lock().failure.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::wire::PageData;
    use super::*;

    #[test]
    fn pages_spread_over_the_channels_and_merge() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let uri = format!("tcp://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let u = uri.clone();
        let source = std::thread::spawn(move || {
            let mut main = TcpSink::connect(&u).unwrap();
            main.conn
                .write_all(&Message::Channel { index: 0, count: 3 }.to_bytes())
                .unwrap();
            let mut ch = ChannelSinks::connect(&u, 3).unwrap();
            let pages = (0..30)
                .map(|index| Page {
                    index,
                    data: PageData::Raw(vec![index as u8; 4096]),
                })
                .collect();
            let bytes = ch.send_pages(1, pages).unwrap();
            ch.finish().unwrap();
            (main, bytes)
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        let (_main, conns) = accept_all(&listener, 3, deadline, &|| false).unwrap();
        assert_eq!(conns.len(), 3);
        let ch = IncomingChannels::start(conns, Box::new(|| false));
        let table = Arc::new(PageTable::new(32).unwrap());
        ch.table_ready(table.clone());
        ch.wait_all().unwrap();
        ch.join();
        let (_, bytes) = source.join().unwrap();
        assert!(bytes > 30 * 4096);
        assert_eq!(table.received(), 30);
        let mut want = PageTable::new(32).unwrap();
        let mut pages: Vec<Page> = (0..30)
            .map(|index| Page {
                index,
                data: PageData::Raw(vec![index as u8; 4096]),
            })
            .collect();
        want.apply(&mut pages, 1).unwrap();
        assert_eq!(table.digest(), want.digest());
        want = PageTable::new(32).unwrap();
        assert_ne!(table.digest(), want.digest());
        // Each page has one channel: 0, 3, 6… on channel 1 and so on.
        assert_eq!(channel_of(0, 3), 1);
        assert_eq!(channel_of(4, 3), 2);
        assert_eq!(channel_of(29, 3), 3);
    }

    #[test]
    fn a_wrong_announcement_is_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            c.write_all(&Message::Channel { index: 7, count: 2 }.to_bytes())
                .unwrap();
            c
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        let e = accept_all(&listener, 2, deadline, &|| false).unwrap_err();
        assert!(e.message.ends_with("unexpected channel 7"), "{e}");
        drop(t.join());
        // Cancelled while waiting: ends at once.
        let e = accept_all(&listener, 2, deadline, &|| true).unwrap_err();
        assert!(e.message.contains("cancelled"), "{e}");
    }
}
