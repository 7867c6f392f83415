//! Node device and secret events (`virConnectNodeDeviceEventRegisterAny`,
//! `virConnectSecretEventRegisterAny`): the event kinds libvirt 9.0 sends
//! and a registry, keyed by the object's name or UUID, shared by the
//! drivers that raise them.

use crate::driver::SecretRef;
pub use crate::events_object::{EventKey, ObjectCallback, ObjectEvent, ObjectEventRegistry};
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
        reg.register(Some("scsi_host1"), nodedev_event::ID_LIFECYCLE, cb.clone());
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
