//! Domain events, delivered to callbacks registered on a connection
//! (`virConnectDomainEventRegisterAny`).

use crate::driver::DomainRef;
use rvirt_util::{Error, ErrorDomain, Result, TypedParams};
use std::sync::Arc;

/// `virDomainEventID`.
pub mod event_id {
    rvirt_util::int_enum! {
        virDomainEventID {
            LIFECYCLE = 0,
            REBOOT,
            TUNABLE = 17,
            MIGRATION_ITERATION = 20,
            JOB_COMPLETED,
        }
    }
}

/// `virDomainEventType` (the lifecycle event kinds) and, per kind, the
/// details libvirt reports with it.
pub mod lifecycle {
    rvirt_util::int_enum! {
        virDomainEventType {
            DEFINED = 0,
            UNDEFINED,
            STARTED,
            SUSPENDED,
            RESUMED,
            STOPPED,
            SHUTDOWN,
            PMSUSPENDED,
            CRASHED,
        }

        virDomainEventDefinedDetailType {
            DEFINED_ADDED = 0,
            DEFINED_UPDATED,
            DEFINED_RENAMED,
            DEFINED_FROM_SNAPSHOT,
        }

        virDomainEventUndefinedDetailType {
            UNDEFINED_REMOVED = 0,
            UNDEFINED_RENAMED,
        }

        virDomainEventStartedDetailType {
            STARTED_BOOTED = 0,
            STARTED_MIGRATED,
            STARTED_RESTORED,
            STARTED_FROM_SNAPSHOT,
        }

        virDomainEventSuspendedDetailType {
            SUSPENDED_PAUSED = 0,
            SUSPENDED_MIGRATED,
            SUSPENDED_FROM_SNAPSHOT = 5,
            SUSPENDED_POSTCOPY = 7,
            SUSPENDED_POSTCOPY_FAILED,
        }

        virDomainEventResumedDetailType {
            RESUMED_UNPAUSED = 0,
            RESUMED_MIGRATED,
            RESUMED_POSTCOPY = 3,
            RESUMED_POSTCOPY_FAILED,
        }

        virDomainEventStoppedDetailType {
            STOPPED_SHUTDOWN = 0,
            STOPPED_DESTROYED,
            STOPPED_CRASHED,
            STOPPED_MIGRATED,
            STOPPED_SAVED,
            STOPPED_FAILED,
            STOPPED_FROM_SNAPSHOT,
        }

        virDomainEventShutdownDetailType {
            SHUTDOWN_FINISHED = 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum DomainEvent {
    Lifecycle {
        event: i32,
        detail: i32,
    },
    Reboot,
    MigrationIteration {
        iteration: i32,
    },
    JobCompleted {
        stats: TypedParams,
    },
    /// `VIR_DOMAIN_EVENT_ID_TUNABLE`: the tunables a live change set
    /// (`cputune.cpu_shares`, `cputune.vcpupin0`...).
    Tunable {
        params: TypedParams,
    },
}

impl DomainEvent {
    /// The `virDomainEventID` this event is delivered under.
    pub fn id(&self) -> i32 {
        match self {
            DomainEvent::Lifecycle { .. } => event_id::LIFECYCLE,
            DomainEvent::Reboot => event_id::REBOOT,
            DomainEvent::MigrationIteration { .. } => event_id::MIGRATION_ITERATION,
            DomainEvent::JobCompleted { .. } => event_id::JOB_COMPLETED,
            DomainEvent::Tunable { .. } => event_id::TUNABLE,
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

/// A driver's `*EventDeregisterAny` once its registry said whether
/// `callback_id` was there: libvirt's `virObjectEventStateDeregisterID`
/// error for an unknown one.
pub fn deregistered(found: bool, callback_id: i32) -> Result<()> {
    if found {
        return Ok(());
    }
    Err(Error::invalid_arg(
        ErrorDomain::NONE,
        format!("could not find event callback {callback_id} for deletion"),
    ))
}
