//! Domain events, delivered to callbacks registered on a connection
//! (`virConnectDomainEventRegisterAny`).

use crate::driver::DomainRef;
use rvirt_util::TypedParams;
use std::sync::Arc;

/// `virDomainEventID`.
pub mod event_id {
    pub const LIFECYCLE: i32 = 0;
    pub const REBOOT: i32 = 1;
    pub const JOB_COMPLETED: i32 = 21;
    pub const MIGRATION_ITERATION: i32 = 20;
}

/// `virDomainEventType` (the lifecycle event kinds).
pub mod lifecycle {
    pub const DEFINED: i32 = 0;
    pub const UNDEFINED: i32 = 1;
    pub const STARTED: i32 = 2;
    pub const SUSPENDED: i32 = 3;
    pub const RESUMED: i32 = 4;
    pub const STOPPED: i32 = 5;
    pub const SHUTDOWN: i32 = 6;
    pub const PMSUSPENDED: i32 = 7;
    pub const CRASHED: i32 = 8;

    // Details, per kind.
    pub const DEFINED_ADDED: i32 = 0;
    pub const DEFINED_UPDATED: i32 = 1;
    pub const DEFINED_RENAMED: i32 = 2;
    pub const DEFINED_FROM_SNAPSHOT: i32 = 3;
    pub const UNDEFINED_REMOVED: i32 = 0;
    pub const STARTED_BOOTED: i32 = 0;
    pub const STARTED_MIGRATED: i32 = 1;
    pub const STARTED_RESTORED: i32 = 2;
    pub const SUSPENDED_PAUSED: i32 = 0;
    pub const SUSPENDED_MIGRATED: i32 = 1;
    pub const SUSPENDED_POSTCOPY: i32 = 7;
    pub const RESUMED_UNPAUSED: i32 = 0;
    pub const RESUMED_MIGRATED: i32 = 1;
    pub const RESUMED_POSTCOPY: i32 = 3;
    pub const STOPPED_SHUTDOWN: i32 = 0;
    pub const STOPPED_DESTROYED: i32 = 1;
    pub const STOPPED_CRASHED: i32 = 2;
    pub const STOPPED_MIGRATED: i32 = 3;
    pub const STOPPED_SAVED: i32 = 4;
    pub const STOPPED_FAILED: i32 = 5;
    pub const SHUTDOWN_FINISHED: i32 = 0;
}

#[derive(Clone, Debug, PartialEq)]
pub enum DomainEvent {
    Lifecycle { event: i32, detail: i32 },
    Reboot,
    MigrationIteration { iteration: i32 },
    JobCompleted { stats: TypedParams },
}

impl DomainEvent {
    /// The `virDomainEventID` this event is delivered under.
    pub fn id(&self) -> i32 {
        match self {
            DomainEvent::Lifecycle { .. } => event_id::LIFECYCLE,
            DomainEvent::Reboot => event_id::REBOOT,
            DomainEvent::MigrationIteration { .. } => event_id::MIGRATION_ITERATION,
            DomainEvent::JobCompleted { .. } => event_id::JOB_COMPLETED,
        }
    }
}

pub type EventCallback = Arc<dyn Fn(&DomainRef, &DomainEvent) + Send + Sync>;

/// A connection's registered event callbacks, shared by every driver that
/// emits events: register/deregister by id, filter by domain and event id.
#[derive(Default)]
pub struct EventRegistry {
    inner: parking_lot::Mutex<RegistryInner>,
}

#[derive(Default)]
struct RegistryInner {
    next_id: i32,
    entries: Vec<Registration>,
}

struct Registration {
    id: i32,
    uuid: Option<[u8; 16]>,
    event_id: i32,
    callback: EventCallback,
}

impl EventRegistry {
    pub fn register(&self, dom: Option<&DomainRef>, event_id: i32, callback: EventCallback) -> i32 {
        let mut inner = self.inner.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        inner.entries.push(Registration {
            id,
            uuid: dom.map(|d| d.uuid),
            event_id,
            callback,
        });
        id
    }

    /// Returns false if no callback had that id.
    pub fn deregister(&self, id: i32) -> bool {
        let mut inner = self.inner.lock();
        let before = inner.entries.len();
        inner.entries.retain(|r| r.id != id);
        inner.entries.len() != before
    }

    pub fn is_empty(&self) -> bool {
        self.inner.lock().entries.is_empty()
    }

    /// Deliver to the one registration `id`, if it exists and wants this
    /// kind of event (the remote driver: the server already filtered and
    /// named the callback). Returns whether a callback ran.
    pub fn emit_to(&self, id: i32, dom: &DomainRef, event: &DomainEvent) -> bool {
        let callback = {
            let inner = self.inner.lock();
            inner
                .entries
                .iter()
                .find(|r| r.id == id && r.event_id == event.id())
                .map(|r| r.callback.clone())
        };
        match callback {
            Some(callback) => {
                callback(dom, event);
                true
            }
            None => false,
        }
    }

    /// Deliver to every matching callback. Callbacks run outside the lock so
    /// they may (de)register in turn.
    pub fn emit(&self, dom: &DomainRef, event: &DomainEvent) {
        let matching: Vec<EventCallback> = {
            let inner = self.inner.lock();
            inner
                .entries
                .iter()
                .filter(|r| r.event_id == event.id() && r.uuid.is_none_or(|u| u == dom.uuid))
                .map(|r| r.callback.clone())
                .collect()
        };
        for callback in matching {
            callback(dom, event);
        }
    }
}
