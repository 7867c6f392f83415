//! Events the daemon pushes on a remote connection: each server-side
//! callback's packets decoded and routed to the local registration it
//! feeds (domain events here; network, pool and node device / secret
//! events through their own lists).

use crate::conn::domain_ref;
use rvirt::events::{DomainEvent, EventRegistry};
use rvirt_rpc::remote::Procedure;
use rvirt_rpc::remote::*;
use rvirt_rpc::{NonnullDomain, Packet, XdrDecode};

/// Server-side callback ids and the local registrations they feed.
#[derive(Default)]
pub(crate) struct Events {
    pub(crate) registry: EventRegistry,
    pub(crate) objects: crate::nodedev::ObjectEvents,
    /// server callback id -> local callback id
    pub(crate) by_server: crate::callback_ids::CallbackIds,
    pub(crate) network: crate::network::NetworkEvents,
    pub(crate) pools: crate::storage::PoolEvents,
}

impl Events {
    pub(crate) fn deliver(&self, packet: Packet) {
        if self.network.deliver(&packet)
            || self.pools.deliver(&packet)
            || self.objects.deliver(&packet)
        {
            return;
        }
        let Some((server_id, dom, event)) = decode_event(&packet) else {
            return;
        };
        let local = self.by_server.local(server_id);
        match local {
            Some(id) => {
                self.registry.emit_to(id, &domain_ref(dom), &event);
            }
            None => tracing::debug!(server_id, "event for an unknown callback"),
        }
    }
}

fn decode_event(p: &Packet) -> Option<(i32, NonnullDomain, DomainEvent)> {
    fn body<T: XdrDecode>(p: &Packet) -> Option<T> {
        p.body()
            .map_err(|e| tracing::debug!("undecodable event: {e}"))
            .ok()
    }
    Some(match Procedure::from_i32(p.header.proc_)? {
        Procedure::DomainEventCallbackLifecycle => {
            let m: DomainEventCallbackLifecycleMsg = body(p)?;
            let ev = DomainEvent::Lifecycle {
                event: m.msg.event,
                detail: m.msg.detail,
            };
            (m.callback_id, m.msg.dom, ev)
        }
        Procedure::DomainEventCallbackReboot => {
            let m: DomainEventCallbackRebootMsg = body(p)?;
            (m.callback_id, m.msg.dom, DomainEvent::Reboot)
        }
        Procedure::DomainEventCallbackMigrationIteration => {
            let m: DomainEventCallbackMigrationIterationMsg = body(p)?;
            let ev = DomainEvent::MigrationIteration {
                iteration: m.iteration,
            };
            (m.callback_id, m.dom, ev)
        }
        Procedure::DomainEventCallbackTunable => {
            let m: DomainEventCallbackTunableMsg = body(p)?;
            let ev = DomainEvent::Tunable { params: m.params };
            (m.callback_id, m.dom, ev)
        }
        Procedure::DomainEventCallbackJobCompleted => {
            let m: DomainEventCallbackJobCompletedMsg = body(p)?;
            let ev = DomainEvent::JobCompleted { stats: m.params };
            (m.callback_id, m.dom, ev)
        }
        other => {
            tracing::debug!(proc_ = other.name(), "ignoring event");
            return None;
        }
    })
}
