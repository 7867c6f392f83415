//! Network events (`virConnectNetworkEventRegisterAny`): libvirt 9.0 has
//! one kind, the lifecycle event, and a registry keyed by the network's
//! UUID that drivers raising them share.

use crate::driver::NetworkRef;
use parking_lot::Mutex;
use std::sync::Arc;

/// `virNetworkEventID` and `virNetworkEventLifecycleType`.
pub mod network_event {
    pub const ID_LIFECYCLE: i32 = 0;
    /// `VIR_NETWORK_EVENT_ID_LAST` in libvirt 9.0.
    pub const ID_LAST: i32 = 1;
    pub const DEFINED: i32 = 0;
    pub const UNDEFINED: i32 = 1;
    pub const STARTED: i32 = 2;
    pub const STOPPED: i32 = 3;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkEvent {
    Lifecycle { event: i32, detail: i32 },
}

impl NetworkEvent {
    pub fn id(&self) -> i32 {
        match self {
            NetworkEvent::Lifecycle { .. } => network_event::ID_LIFECYCLE,
        }
    }
}

pub type NetworkEventCallback = Arc<dyn Fn(&NetworkRef, &NetworkEvent) + Send + Sync>;

struct Registration {
    id: i32,
    uuid: Option<[u8; 16]>,
    event_id: i32,
    callback: NetworkEventCallback,
}

/// A connection's network event callbacks.
#[derive(Default)]
pub struct NetworkEventRegistry {
    inner: Mutex<(i32, Vec<Registration>)>,
}

impl NetworkEventRegistry {
    pub fn register(
        &self,
        net: Option<&NetworkRef>,
        event_id: i32,
        callback: NetworkEventCallback,
    ) -> i32 {
        let mut inner = self.inner.lock();
        let id = inner.0;
        inner.0 += 1;
        inner.1.push(Registration {
            id,
            uuid: net.map(|n| n.uuid),
            event_id,
            callback,
        });
        id
    }

    /// False if no callback had that id.
    pub fn deregister(&self, id: i32) -> bool {
        let mut inner = self.inner.lock();
        let before = inner.1.len();
        inner.1.retain(|r| r.id != id);
        inner.1.len() != before
    }

    /// Deliver to the one registration `id` (the remote driver: the server
    /// already filtered). Returns whether a callback ran.
    pub fn emit_to(&self, id: i32, net: &NetworkRef, event: &NetworkEvent) -> bool {
        let callback = self
            .inner
            .lock()
            .1
            .iter()
            .find(|r| r.id == id && r.event_id == event.id())
            .map(|r| r.callback.clone());
        callback.map(|c| c(net, event)).is_some()
    }

    /// Deliver to every matching callback, outside the lock.
    pub fn emit(&self, net: &NetworkRef, event: &NetworkEvent) {
        let matching: Vec<NetworkEventCallback> = self
            .inner
            .lock()
            .1
            .iter()
            .filter(|r| r.event_id == event.id() && r.uuid.is_none_or(|u| u == net.uuid))
            .map(|r| r.callback.clone())
            .collect();
        for callback in matching {
            callback(net, event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI32, Ordering};

    #[test]
    fn filters_by_network_and_deregisters() {
        let reg = NetworkEventRegistry::default();
        let a = NetworkRef {
            name: "a".into(),
            uuid: [1; 16],
        };
        let b = NetworkRef {
            name: "b".into(),
            uuid: [2; 16],
        };
        let seen = Arc::new(AtomicI32::new(0));
        let s = seen.clone();
        let id = reg.register(
            Some(&a),
            network_event::ID_LIFECYCLE,
            Arc::new(move |_, _| {
                s.fetch_add(1, Ordering::SeqCst);
            }),
        );
        let ev = NetworkEvent::Lifecycle {
            event: network_event::STARTED,
            detail: 0,
        };
        reg.emit(&b, &ev);
        reg.emit(&a, &ev);
        assert_eq!(seen.load(Ordering::SeqCst), 1);
        assert!(reg.deregister(id));
        assert!(!reg.deregister(id));
        reg.emit(&a, &ev);
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }
}
