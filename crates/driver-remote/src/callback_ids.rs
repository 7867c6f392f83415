//! The server's event callback ids and the local ones they stand for, one
//! map per kind of event (domain, network, pool, node device, secret):
//! libvirt's remote driver keeps the same pairs (`remoteEventCallbackID`).
//! Registration holds the map across the server call, so an event the
//! server sends straight after cannot arrive unrouted.

use parking_lot::Mutex;
use rvirt::events_object::{EventKey, ObjectCallback, ObjectEvent, ObjectEventRegistry};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::collections::HashMap;

#[derive(Default)]
pub(crate) struct CallbackIds(Mutex<HashMap<i32, i32>>);

impl CallbackIds {
    /// The local callback id the server's `server` id stands for.
    pub(crate) fn local(&self, server: i32) -> Option<i32> {
        self.0.lock().get(&server).copied()
    }

    /// Register with the server (`on_server`, which answers its id), then
    /// locally (`locally`, which answers ours); ours.
    pub(crate) fn register(
        &self,
        on_server: impl FnOnce() -> Result<i32>,
        locally: impl FnOnce() -> i32,
    ) -> Result<i32> {
        let mut map = self.0.lock();
        let server = on_server()?;
        let local = locally();
        map.insert(server, local);
        Ok(local)
    }

    /// Deregister our `local` id: `on_server` with the server's id, then
    /// the pair is forgotten. libvirt's text for an id never registered.
    pub(crate) fn deregister(
        &self,
        local: i32,
        on_server: impl FnOnce(i32) -> Result<()>,
    ) -> Result<()> {
        let mut map = self.0.lock();
        let server = map
            .iter()
            .find(|(_, l)| **l == local)
            .map(|(s, _)| *s)
            .ok_or_else(|| {
                Error::new(
                    ErrorDomain::REMOTE,
                    ErrorCode::INVALID_ARG,
                    format!("could not find event callback {local} for deletion"),
                )
            })?;
        on_server(server)?;
        map.remove(&server);
        Ok(())
    }
}

/// One kind of object event (network, pool, node device, secret) on a
/// connection: the local registrations and the server's ids for them.
pub(crate) struct RemoteEvents<K: ?Sized, E> {
    registry: ObjectEventRegistry<K, E>,
    by_server: CallbackIds,
}

impl<K: ?Sized, E> Default for RemoteEvents<K, E> {
    fn default() -> Self {
        RemoteEvents {
            registry: ObjectEventRegistry::default(),
            by_server: CallbackIds::default(),
        }
    }
}

impl<K: EventKey + ?Sized, E: ObjectEvent> RemoteEvents<K, E> {
    /// Register with the server (`on_server`, which answers its callback
    /// id), then locally; the local id.
    pub(crate) fn register(
        &self,
        filter: Option<&K>,
        event_id: i32,
        callback: ObjectCallback<K, E>,
        on_server: impl FnOnce() -> Result<i32>,
    ) -> Result<i32> {
        self.by_server.register(on_server, || {
            self.registry.register(filter, event_id, callback)
        })
    }

    /// Deregister the local id: with the server (`on_server`, given the
    /// server's id), then locally.
    pub(crate) fn deregister(
        &self,
        local: i32,
        on_server: impl FnOnce(i32) -> Result<()>,
    ) -> Result<()> {
        self.by_server.deregister(local, on_server)?;
        self.registry.deregister(local);
        Ok(())
    }

    /// Deliver an event the server sent for its callback id `server`.
    pub(crate) fn route(&self, server: i32, key: &K, event: &E) {
        match self.by_server.local(server) {
            Some(local) => {
                self.registry.emit_to(local, key, event);
            }
            None => tracing::debug!(server, "event for an unknown callback"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_pair_up_and_unknown_ones_are_refused() {
        let ids = CallbackIds::default();
        assert_eq!(ids.register(|| Ok(7), || 1).unwrap(), 1);
        assert_eq!(ids.local(7), Some(1));
        let e = ids.deregister(2, |_| Ok(())).unwrap_err();
        assert_eq!(
            e.message,
            "invalid argument: could not find event callback 2 for deletion"
        );
        // A server refusal keeps the pair.
        assert!(ids
            .deregister(1, |_| Err(Error::internal(ErrorDomain::REMOTE, "no")))
            .is_err());
        assert_eq!(ids.local(7), Some(1));
        ids.deregister(1, |server| {
            assert_eq!(server, 7);
            Ok(())
        })
        .unwrap();
        assert_eq!(ids.local(7), None);
        assert!(ids
            .register(|| Err(Error::internal(ErrorDomain::REMOTE, "no")), || 3)
            .is_err());
    }
}
