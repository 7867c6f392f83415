//! The event callbacks a connection holds for one kind of object other
//! than domains (networks, storage pools, node devices, secrets): libvirt's
//! `virObjectEventState` for `virConnect*EventRegisterAny`. Callbacks are
//! filtered by event id and, when registered for one object, by its key
//! (a UUID, or a node device's name).

use parking_lot::Mutex;
use std::sync::Arc;

/// One event of an object kind: what it is delivered under.
pub trait ObjectEvent: Clone + Send + Sync + 'static {
    fn id(&self) -> i32;
}

/// What an object is filtered by: a node device's name, a secret's UUID.
pub trait EventKey {
    fn event_key(&self) -> String;
}

impl EventKey for str {
    fn event_key(&self) -> String {
        self.to_string()
    }
}

impl EventKey for crate::driver::SecretRef {
    fn event_key(&self) -> String {
        self.uuid_string()
    }
}

impl EventKey for crate::driver::NetworkRef {
    fn event_key(&self) -> String {
        hex(&self.uuid)
    }
}

impl EventKey for crate::driver::storage::PoolRef {
    fn event_key(&self) -> String {
        hex(&self.uuid)
    }
}

fn hex(uuid: &[u8; 16]) -> String {
    uuid.iter().map(|b| format!("{b:02x}")).collect()
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
    /// when given. Returns the callback id.
    pub fn register(
        &self,
        filter: Option<&K>,
        event_id: i32,
        callback: ObjectCallback<K, E>,
    ) -> i32 {
        let filter = filter.map(K::event_key);
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
