//! A client's outgoing queue (libvirt's `client->tx`), bounded.
//!
//! Two kinds of message go through it:
//!
//! - **Answers** to something the client sent (call replies, quick-read
//!   replies, error replies, keepalive PONGs) travel with the client's
//!   request slot ([`RequestSlot`]). The slot is freed when the answer has
//!   been written to the socket, not when it is queued, as libvirtd
//!   decrements `nrequests` in `virNetServerClientDispatchWrite`; since the
//!   session stops reading while every slot is taken
//!   (`virNetServerClientCalculateHandleMode` only polls for input while
//!   `client->rx` exists), answers are bounded by `max_client_requests`.
//! - **Unsolicited** messages (events, stream answers, server PINGs) are
//!   not throttled by the client, so they are bounded in bytes
//!   (`max_client_queued_bytes`). libvirtd queues them without limit; a
//!   client that lets them pile up past the bound is disconnected instead
//!   of growing the daemon.

use parking_lot::{Condvar, Mutex, MutexGuard};
use rvirt_rpc::Packet;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::{Notify, OwnedSemaphorePermit};

/// One of the client's `max_client_requests` slots, held from the moment
/// a message is read until its answer is written.
pub type RequestSlot = OwnedSemaphorePermit;

/// A packet waiting to be written, with the slot its writing frees.
pub struct Queued {
    pub packet: Packet,
    slot: Option<RequestSlot>,
}

impl Queued {
    /// Bytes on the wire: length word and header (28) plus payload.
    fn size(&self) -> usize {
        28 + self.packet.payload.len()
    }
}

/// What the queue's life has reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Open,
    /// Unsolicited messages went past the byte bound: the writer
    /// disconnects the client.
    Overflowed {
        bytes: usize,
    },
    /// The session is over: whatever is sent is dropped.
    Closed,
}

struct Queue {
    items: VecDeque<Queued>,
    /// Bytes of unsolicited messages queued.
    unsolicited: usize,
    state: State,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Notify,
    /// Signalled when unsolicited bytes leave the queue or it ends: paced
    /// senders ([`Outbox::send_paced`]) wait on it.
    drained: Condvar,
    /// Woken on overflow: the session ends even while its writer is stuck
    /// on a full socket.
    overflow: Notify,
    limit: usize,
}

/// The sending side; cheap to clone (events and stream pumps hold one).
#[derive(Clone)]
pub struct Outbox {
    shared: Arc<Shared>,
}

/// What the writer gets next.
pub enum Next {
    Packet(Queued),
    /// Unsolicited messages queued past the bound (total bytes).
    Overflowed(usize),
}

/// The receiving side, owned by the session's writer.
pub struct OutboxReceiver {
    shared: Arc<Shared>,
}

/// A new queue whose unsolicited messages may total `limit` bytes.
pub fn outbox(limit: usize) -> (Outbox, OutboxReceiver) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queue {
            items: VecDeque::new(),
            unsolicited: 0,
            state: State::Open,
        }),
        ready: Notify::new(),
        drained: Condvar::new(),
        overflow: Notify::new(),
        limit,
    });
    (
        Outbox {
            shared: shared.clone(),
        },
        OutboxReceiver { shared },
    )
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock()
    }
}

/// Why a packet was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum SendError {
    /// The session is over (or about to be, for overflow).
    Closed,
    /// This packet took the unsolicited bytes past the bound.
    Overflow,
}

impl Outbox {
    /// Queue an unsolicited message (event, stream answer, PING). Past the
    /// byte bound the queue is emptied and the client is to be
    /// disconnected.
    pub fn send(&self, packet: Packet) -> Result<(), SendError> {
        let item = Queued { packet, slot: None };
        let size = item.size();
        let mut q = self.shared.lock();
        if q.state != State::Open {
            return Err(SendError::Closed);
        }
        if q.unsolicited + size > self.shared.limit {
            let bytes = q.unsolicited + size;
            q.state = State::Overflowed { bytes };
            q.items.clear();
            q.unsolicited = 0;
            drop(q);
            self.shared.drained.notify_all();
            self.shared.ready.notify_one();
            self.shared.overflow.notify_one();
            return Err(SendError::Overflow);
        }
        q.unsolicited += size;
        q.items.push_back(item);
        drop(q);
        self.shared.ready.notify_one();
        Ok(())
    }

    /// Queue a stream's data once fewer than `window` unsolicited bytes
    /// wait ahead of it, blocking the caller meanwhile: a stream whose
    /// client reads slowly is read from its source slowly too, as libvirtd
    /// reads a stream again only when its last packet went out
    /// (`daemonStreamMessageFinished`), instead of filling the queue until
    /// the client is disconnected. Call it off the reactor.
    pub fn send_paced(&self, packet: Packet, window: usize) -> Result<(), SendError> {
        let mut q = self.shared.lock();
        while q.state == State::Open && q.unsolicited > 0 && q.unsolicited >= window {
            self.shared.drained.wait(&mut q);
        }
        drop(q);
        self.send(packet)
    }

    /// Queue the answer to something the client sent; `slot` is freed
    /// once it is written (or dropped with the queue).
    pub fn answer(&self, packet: Packet, slot: RequestSlot) {
        let mut q = self.shared.lock();
        if q.state != State::Open {
            return;
        }
        q.items.push_back(Queued {
            packet,
            slot: Some(slot),
        });
        drop(q);
        self.shared.ready.notify_one();
    }

    /// Resolves once unsolicited messages went past the bound, with their
    /// total bytes.
    pub async fn overflowed(&self) -> usize {
        loop {
            if let Some(bytes) = self.overflow_bytes() {
                return bytes;
            }
            self.shared.overflow.notified().await;
        }
    }

    /// The bytes that overflowed the queue, if it did.
    pub fn overflow_bytes(&self) -> Option<usize> {
        match self.shared.lock().state {
            State::Overflowed { bytes } => Some(bytes),
            _ => None,
        }
    }

    /// End the queue: drop what is queued (freeing its slots) and refuse
    /// more.
    pub fn close(&self) {
        let mut q = self.shared.lock();
        q.state = State::Closed;
        q.items.clear();
        q.unsolicited = 0;
        self.shared.drained.notify_all();
    }
}

impl OutboxReceiver {
    /// The next packet, waiting for one; `None` once closed.
    pub async fn recv(&mut self) -> Option<Next> {
        loop {
            if let Some(next) = self.try_next() {
                return next;
            }
            // Single consumer: a notify_one before this wait leaves a
            // permit, so no wake-up is lost.
            self.shared.ready.notified().await;
        }
    }

    /// Some(next) when something is decided without waiting.
    fn try_next(&mut self) -> Option<Option<Next>> {
        let mut q = self.shared.lock();
        match q.state {
            State::Closed => return Some(None),
            State::Overflowed { bytes } => return Some(Some(Next::Overflowed(bytes))),
            State::Open => {}
        }
        let item = q.items.pop_front()?;
        if item.slot.is_none() {
            q.unsolicited -= item.size();
            self.shared.drained.notify_all();
        }
        Some(Some(Next::Packet(item)))
    }

    /// A packet already queued, without waiting (for coalescing writes).
    pub fn try_recv_queued(&mut self) -> Option<Queued> {
        match self.try_next() {
            Some(Some(Next::Packet(item))) => Some(item),
            _ => None,
        }
    }

    /// A packet already queued, without its slot (unit tests).
    pub fn try_recv(&mut self) -> Option<Packet> {
        self.try_recv_queued().map(|q| q.packet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvirt_rpc::keepalive;
    use tokio::sync::Semaphore;

    #[test]
    fn unsolicited_bytes_are_bounded_and_answers_keep_their_slot() {
        let (tx, mut rx) = outbox(100);
        assert_eq!(tx.send(keepalive::ping()), Ok(()));
        assert_eq!(tx.send(keepalive::ping()), Ok(()));
        assert_eq!(tx.send(keepalive::ping()), Ok(()));
        assert!(rx.try_recv().is_some());
        assert_eq!(tx.send(keepalive::ping()), Ok(()), "room again");
        let slots = Arc::new(Semaphore::new(1));
        let slot = slots.clone().try_acquire_owned().unwrap();
        tx.answer(keepalive::pong(), slot);
        assert_eq!(slots.available_permits(), 0, "held while queued");
        assert_eq!(tx.send(keepalive::ping()), Err(SendError::Overflow));
        assert_eq!(slots.available_permits(), 1, "freed with the queue");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(matches!(
            rt.block_on(rx.recv()),
            Some(Next::Overflowed(112))
        ));
        assert_eq!(rt.block_on(tx.overflowed()), 112);
        tx.close();
        assert!(rt.block_on(rx.recv()).is_none());
    }

    #[test]
    fn paced_senders_wait_for_the_client_to_take_what_is_queued() {
        let (tx, mut rx) = outbox(1 << 20);
        let window = 2 * 28;
        tx.send_paced(keepalive::ping(), window).unwrap();
        tx.send_paced(keepalive::ping(), window).unwrap();
        let sender = tx.clone();
        let third = std::thread::spawn(move || sender.send_paced(keepalive::ping(), window));
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!third.is_finished(), "sent past the window");
        assert!(rx.try_recv().is_some());
        assert_eq!(third.join().unwrap(), Ok(()));
        // A closed queue releases a waiting sender with an error.
        let sender = tx.clone();
        let fourth = std::thread::spawn(move || sender.send_paced(keepalive::ping(), window));
        std::thread::sleep(std::time::Duration::from_millis(50));
        tx.close();
        assert_eq!(fourth.join().unwrap(), Err(SendError::Closed));
    }
}
