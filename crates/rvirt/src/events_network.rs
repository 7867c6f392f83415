//! Network events (`virConnectNetworkEventRegisterAny`): libvirt 9.0 has
//! one kind, the lifecycle event, and a registry keyed by the network's
//! UUID that drivers raising them share.

use crate::driver::NetworkRef;
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

impl crate::events_object::ObjectEvent for NetworkEvent {
    fn id(&self) -> i32 {
        match self {
            NetworkEvent::Lifecycle { .. } => network_event::ID_LIFECYCLE,
        }
    }
}

pub type NetworkEventCallback = Arc<dyn Fn(&NetworkRef, &NetworkEvent) + Send + Sync>;

/// A connection's network event callbacks.
pub type NetworkEventRegistry = crate::events_object::ObjectEventRegistry<NetworkRef, NetworkEvent>;

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
