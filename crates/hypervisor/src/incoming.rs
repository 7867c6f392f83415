//! The destination end's shared parts: the state of a prepared incoming
//! migration as one enum, and the outcome of its transfer that finish
//! waits for.
//!
//! ```text
//!   prepare ──► Receiving ──(post-copy switch)──► PostCopy
//!                  │   \                            │   \
//!                  │    finish ok ──► Finished ◄────┘    │
//!                  └─ failure, cancel, close ──► Discarded ◄┘ (guest left
//!                                                 paused: it ran here)
//! ```
//!
//! Discarding happens once (the first caller removes what prepare
//! created); a finished migration is never discarded afterwards.
//!
//! A host keeps its prepared migrations in a [`Registry`] (finish finds
//! them by name); each connection keeps the ones it prepared in a
//! [`PreparedBy`], so when it closes before finish the driver discards
//! them (libvirt's close callback, `qemuMigrationDstPrepareCleanup`).

use parking_lot::{Condvar, Mutex};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncomingState {
    /// Prepared; the guest's state is arriving (or about to).
    Receiving,
    /// Post-copy: the guest runs here while pages still arrive, so it
    /// can no longer go back to the source.
    PostCopy,
    /// Failed, cancelled or its preparing connection closed: what
    /// prepare created is gone (or being removed).
    Discarded,
    /// Finish ran the guest here.
    Finished,
}

/// An incoming migration's state, shared by its threads.
pub struct IncomingStatus(Mutex<IncomingState>);

impl Default for IncomingStatus {
    fn default() -> IncomingStatus {
        IncomingStatus(Mutex::new(IncomingState::Receiving))
    }
}

impl IncomingStatus {
    pub fn get(&self) -> IncomingState {
        *self.0.lock()
    }

    /// The guest started running here; false unless it was receiving.
    pub fn enter_postcopy(&self) -> bool {
        let mut s = self.0.lock();
        if *s != IncomingState::Receiving {
            return false;
        }
        *s = IncomingState::PostCopy;
        true
    }

    /// Mark it discarded: the previous state for the one caller that
    /// does the removing, `None` when it was discarded or finished already.
    pub fn discard(&self) -> Option<IncomingState> {
        let mut s = self.0.lock();
        match *s {
            IncomingState::Discarded | IncomingState::Finished => None,
            prev => {
                *s = IncomingState::Discarded;
                Some(prev)
            }
        }
    }

    /// Finish ran the guest here.
    pub fn finish(&self) {
        let mut s = self.0.lock();
        if *s != IncomingState::Discarded {
            *s = IncomingState::Finished;
        }
    }

    pub fn is_discarded(&self) -> bool {
        self.get() == IncomingState::Discarded
    }

    /// Neither finished nor discarded yet.
    pub fn pending(&self) -> bool {
        matches!(
            self.get(),
            IncomingState::Receiving | IncomingState::PostCopy
        )
    }
}

/// The outcome of an incoming transfer: set once (the first wins),
/// waited for by finish.
pub struct Outcome<T> {
    done: Mutex<Option<Result<T>>>,
    cond: Condvar,
}

impl<T> Default for Outcome<T> {
    fn default() -> Outcome<T> {
        Outcome {
            done: Mutex::new(None),
            cond: Condvar::new(),
        }
    }
}

impl<T: Clone> Outcome<T> {
    /// Keep `r` unless an outcome is known already, without waking anyone
    /// (the caller wakes them once its cleanup is done).
    pub fn record(&self, r: Result<T>) {
        let mut d = self.done.lock();
        if d.is_none() {
            *d = Some(r);
        }
    }

    /// Keep `r` (unless known already) and wake the waiters.
    pub fn set(&self, r: Result<T>) {
        self.record(r);
        self.cond.notify_all();
    }

    /// Wait until the outcome is known, at most `timeout`.
    pub fn wait(&self, timeout: Duration, domain: ErrorDomain) -> Result<T> {
        let deadline = Instant::now() + timeout;
        let mut d = self.done.lock();
        loop {
            if let Some(r) = d.as_ref() {
                return r.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::new(
                    domain,
                    ErrorCode::OPERATION_TIMEOUT,
                    "migration stream did not complete",
                ));
            }
            self.cond.wait_for(&mut d, left);
        }
    }
}

/// What the registries need to know of a driver's incoming migration.
pub trait Prepared: Send + Sync {
    /// The guest's name on this host (what finish asks for).
    fn name(&self) -> String;
    fn status(&self) -> &IncomingStatus;
    /// Its job, for the resume checks at finish.
    fn job(&self) -> Option<Arc<crate::job::Job>> {
        None
    }
}

/// A list of prepared migrations that keeps those `keep` accepts.
struct List<T>(Mutex<Vec<Arc<T>>>);

impl<T> Default for List<T> {
    fn default() -> List<T> {
        List(Mutex::new(Vec::new()))
    }
}

impl<T> List<T> {
    fn push(&self, inc: Arc<T>, keep: impl Fn(&T) -> bool) {
        let mut list = self.0.lock();
        list.retain(|i| keep(i));
        list.push(inc);
    }

    fn lock(&self) -> parking_lot::MutexGuard<'_, Vec<Arc<T>>> {
        self.0.lock()
    }
}

/// One host's prepared incoming migrations.
pub struct Registry<T> {
    list: List<T>,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Registry {
            list: List::default(),
        }
    }
}

impl<T: Prepared> Registry<T> {
    /// Register a prepared migration (and drop the discarded ones).
    pub fn add(&self, inc: Arc<T>) {
        self.list.push(inc, |i| !i.status().is_discarded());
    }

    /// The newest migration prepared for guest `name`.
    pub fn find(&self, name: &str) -> Option<Arc<T>> {
        self.list
            .lock()
            .iter()
            .rev()
            .find(|i| i.name() == name)
            .cloned()
    }

    /// Finish ran (or it was discarded): forget it.
    pub fn forget(&self, inc: &Arc<T>) {
        inc.status().finish();
        self.list.lock().retain(|i| !Arc::ptr_eq(i, inc));
    }

    /// Take out the migrations `gone` picks (say, their hypervisor process
    /// died before finish), for the driver to end them.
    pub fn take_where(&self, gone: impl Fn(&T) -> bool) -> Vec<Arc<T>> {
        let mut list = self.list.lock();
        let (taken, kept) = std::mem::take(&mut *list)
            .into_iter()
            .partition(|i| gone(i));
        *list = kept;
        taken
    }
}

/// The incoming migrations one connection prepared.
pub struct PreparedBy<T> {
    list: List<T>,
}

impl<T> Default for PreparedBy<T> {
    fn default() -> Self {
        PreparedBy {
            list: List::default(),
        }
    }
}

impl<T: Prepared> PreparedBy<T> {
    pub fn track(&self, inc: Arc<T>) {
        self.list.push(inc, |i| i.status().pending());
    }

    /// The connection closes: the ones finish has not settled, to discard.
    pub fn take_pending(&self) -> Vec<Arc<T>> {
        let list = std::mem::take(&mut *self.list.lock());
        list.into_iter().filter(|i| i.status().pending()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discarded_once_and_never_after_finish() {
        let s = IncomingStatus::default();
        assert!(s.pending());
        assert!(s.enter_postcopy());
        assert!(!s.enter_postcopy());
        assert_eq!(s.discard(), Some(IncomingState::PostCopy));
        assert_eq!(s.discard(), None);
        assert!(s.is_discarded() && !s.pending());
        s.finish();
        assert!(s.is_discarded(), "a discarded migration does not finish");

        let f = IncomingStatus::default();
        f.finish();
        assert_eq!(f.discard(), None);
        assert_eq!(f.get(), IncomingState::Finished);
    }

    struct Named(&'static str, IncomingStatus);

    impl Prepared for Named {
        fn name(&self) -> String {
            self.0.to_string()
        }
        fn status(&self) -> &IncomingStatus {
            &self.1
        }
    }

    #[test]
    fn registries_find_the_newest_and_hand_back_the_unsettled() {
        let host = Registry::default();
        let conn = PreparedBy::default();
        let (a, b) = (
            Arc::new(Named("g", IncomingStatus::default())),
            Arc::new(Named("g", IncomingStatus::default())),
        );
        for i in [&a, &b] {
            host.add(i.clone());
            conn.track(i.clone());
        }
        assert!(Arc::ptr_eq(&host.find("g").unwrap(), &b));
        host.forget(&b);
        assert!(Arc::ptr_eq(&host.find("g").unwrap(), &a));
        let left = conn.take_pending();
        assert_eq!(left.len(), 1);
        assert!(Arc::ptr_eq(&left[0], &a));
        assert!(host.find("h").is_none());
    }

    #[test]
    fn the_first_outcome_wins_and_waits_time_out() {
        let o: Outcome<u32> = Outcome::default();
        let e = o
            .wait(Duration::from_millis(10), ErrorDomain::TEST)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::OPERATION_TIMEOUT);
        o.record(Ok(1));
        o.set(Ok(2));
        assert_eq!(o.wait(Duration::ZERO, ErrorDomain::TEST).unwrap(), 1);
    }
}
