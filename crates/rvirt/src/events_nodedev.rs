//! Node device and secret events (`virConnectNodeDeviceEventRegisterAny`,
//! `virConnectSecretEventRegisterAny`): the event kinds libvirt 9.0 sends
//! and a registry, keyed by the object's name or UUID, shared by the
//! drivers that raise them.

use crate::driver::SecretRef;
use parking_lot::Mutex;
use std::sync::Arc;

/// `virNodeDeviceEventID` and `virNodeDeviceEventLifecycleType`.
pub mod nodedev_event {
    pub const ID_LIFECYCLE: i32 = 0;
    pub const ID_UPDATE: i32 = 1;
    /// `VIR_NODE_DEVICE_EVENT_ID_LAST`.
    pub const ID_LAST: i32 = 2;
    pub const CREATED: i32 = 0;
    pub const DELETED: i32 = 1;
    pub const DEFINED: i32 = 2;
    pub const UNDEFINED: i32 = 3;
}

/// `virSecretEventID` and `virSecretEventLifecycleType`.
pub mod secret_event {
    pub const ID_LIFECYCLE: i32 = 0;
    pub const ID_VALUE_CHANGED: i32 = 1;
    /// `VIR_SECRET_EVENT_ID_LAST`.
    pub const ID_LAST: i32 = 2;
    pub const DEFINED: i32 = 0;
    pub const UNDEFINED: i32 = 1;
}

/// One event of an object kind: what it is delivered under.
pub trait ObjectEvent: Clone + Send + Sync + 'static {
    fn id(&self) -> i32;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeDeviceEvent {
    Lifecycle { event: i32, detail: i32 },
    Update,
}

impl ObjectEvent for NodeDeviceEvent {
    fn id(&self) -> i32 {
        match self {
            NodeDeviceEvent::Lifecycle { .. } => nodedev_event::ID_LIFECYCLE,
            NodeDeviceEvent::Update => nodedev_event::ID_UPDATE,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretEvent {
    Lifecycle { event: i32, detail: i32 },
    ValueChanged,
}

impl ObjectEvent for SecretEvent {
    fn id(&self) -> i32 {
        match self {
            SecretEvent::Lifecycle { .. } => secret_event::ID_LIFECYCLE,
            SecretEvent::ValueChanged => secret_event::ID_VALUE_CHANGED,
        }
    }
}

/// A node device event's callback: the device's name and the event.
pub type NodeDeviceEventCallback = Arc<dyn Fn(&str, &NodeDeviceEvent) + Send + Sync>;
/// A secret event's callback.
pub type SecretEventCallback = Arc<dyn Fn(&SecretRef, &SecretEvent) + Send + Sync>;

/// What an object is filtered by: a node device's name, a secret's UUID.
pub trait EventKey {
    fn event_key(&self) -> String;
}

impl EventKey for str {
    fn event_key(&self) -> String {
        self.to_string()
    }
}

impl EventKey for SecretRef {
    fn event_key(&self) -> String {
        self.uuid_string()
    }
}

/// A callback for events of kind `E` on objects keyed by `K`.
pub type ObjectCallback<K, E> = Arc<dyn Fn(&K, &E) + Send + Sync>;

struct Registration<K: ?Sized, E> {
    id: i32,
    filter: Option<String>,
    event_id: i32,
    callback: ObjectCallback<K, E>,
}

/// A connection's callbacks for one object kind.
pub struct ObjectEventRegistry<K: ?Sized, E> {
    inner: Mutex<(i32, Vec<Registration<K, E>>)>,
}

impl<K: ?Sized, E> Default for ObjectEventRegistry<K, E> {
    fn default() -> Self {
        ObjectEventRegistry {
            inner: Mutex::new((0, Vec::new())),
        }
    }
}

impl<K: EventKey + ?Sized, E: ObjectEvent> ObjectEventRegistry<K, E> {
    /// Register `callback` for `event_id`, only for the object `filter`
    /// names when given. Returns the callback id.
    pub fn register(
        &self,
        filter: Option<String>,
        event_id: i32,
        callback: ObjectCallback<K, E>,
    ) -> i32 {
        let mut inner = self.inner.lock();
        let id = inner.0;
        inner.0 += 1;
        inner.1.push(Registration {
            id,
            filter,
            event_id,
            callback,
        });
        id
    }

    /// Whether a callback had that id.
    pub fn deregister(&self, id: i32) -> bool {
        let mut inner = self.inner.lock();
        let before = inner.1.len();
        inner.1.retain(|r| r.id != id);
        inner.1.len() != before
    }

    /// Deliver to the one registration `id` (the remote driver: the server
    /// filtered already). Returns whether a callback ran.
    pub fn emit_to(&self, id: i32, key: &K, event: &E) -> bool {
        let callback = {
            let inner = self.inner.lock();
            inner
                .1
                .iter()
                .find(|r| r.id == id && r.event_id == event.id())
                .map(|r| r.callback.clone())
        };
        callback.map(|cb| cb(key, event)).is_some()
    }

    /// Deliver to every matching callback, outside the lock.
    pub fn emit(&self, key: &K, event: &E) {
        let name = key.event_key();
        let matching: Vec<_> = {
            let inner = self.inner.lock();
            inner
                .1
                .iter()
                .filter(|r| r.event_id == event.id())
                .filter(|r| r.filter.as_ref().is_none_or(|f| *f == name))
                .map(|r| r.callback.clone())
                .collect()
        };
        for callback in matching {
            callback(key, event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn filtered_by_name_and_event_id() {
        let reg: ObjectEventRegistry<str, NodeDeviceEvent> = ObjectEventRegistry::default();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let cb: NodeDeviceEventCallback = Arc::new(move |_, _| {
            h.fetch_add(1, Ordering::SeqCst);
        });
        let all = reg.register(None, nodedev_event::ID_LIFECYCLE, cb.clone());
        reg.register(
            Some("scsi_host1".into()),
            nodedev_event::ID_LIFECYCLE,
            cb.clone(),
        );
        reg.register(None, nodedev_event::ID_UPDATE, cb);
        let created = NodeDeviceEvent::Lifecycle {
            event: nodedev_event::CREATED,
            detail: 0,
        };
        reg.emit("scsi_host12", &created);
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        reg.emit("scsi_host1", &created);
        assert_eq!(hits.load(Ordering::SeqCst), 3);
        assert!(reg.deregister(all));
        assert!(!reg.deregister(all));
        reg.emit("scsi_host12", &NodeDeviceEvent::Update);
        assert_eq!(hits.load(Ordering::SeqCst), 4);
    }
}
