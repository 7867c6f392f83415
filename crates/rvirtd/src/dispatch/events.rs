//! Domain event registration and delivery (libvirt's
//! remote_daemon_dispatch.c, event part): a callback registered on the
//! client's connection turns each event into a message queued to the client.
//!
//! Two styles: CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, whose messages
//! carry the callback id (what clients use when the daemon advertises
//! VIR_DRV_FEATURE_REMOTE_EVENT_CALLBACK), and the legacy
//! CONNECT_DOMAIN_EVENT_REGISTER_ANY, one registration per event id.

use super::client::ModernCallback;
use super::{dispatch_table, Client};
use rvirt::{Domain, DomainEvent, DomainRef};
use rvirt_rpc::remote::*;
use rvirt_rpc::remote::{self, Procedure};
use rvirt_rpc::{NonnullDomain, Packet};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_DOMAIN_EVENT_ID_LAST` in libvirt 9.0.
const EVENT_ID_LAST: i32 = 27;

dispatch_table! {
    ConnectDomainEventCallbackRegisterAny => |cx, a| {
            check_event_id(a.event_id)?;
            let dom = a.dom.map(|d| cx.domain(&d)).transpose()?;
            let filter = dom.as_ref().map(|d| d.domain_ref().uuid);
            // Held from the check to the push, so two concurrent calls of
            // this client cannot both pass the check.
            let mut cbs = cx.callbacks();
            if cbs.modern.iter().any(|cb| cb.event_id == a.event_id && cb.domain == filter) {
                return Err(already_tracked());
            }
            let callback_id = register(cx, dom.as_ref(), a.event_id, false)?;
            cbs.modern.push(ModernCallback { id: callback_id, event_id: a.event_id, domain: filter });
            Ok(ConnectDomainEventCallbackRegisterAnyRet { callback_id })
        };
    ConnectDomainEventCallbackDeregisterAny => |cx, a| {
            let conn = cx.conn()?;
            let mut cbs = cx.callbacks();
            let Some(pos) = cbs.modern.iter().position(|cb| cb.id == a.callback_id) else {
                return Err(internal(format!("domain event callback {} not registered", a.callback_id)));
            };
            conn.domain_event_deregister_any(a.callback_id)?;
            cbs.modern.remove(pos);
            Ok(())
        };
    ConnectDomainEventRegisterAny => |cx, a| register_legacy(cx, a.event_id);
    ConnectDomainEventDeregisterAny => |cx, a| deregister_legacy(cx, a.event_id);
    // virConnectDomainEventRegister: the legacy registration of the
    // lifecycle event, sharing its slot (libvirtd sends cb_registered 0).
    ConnectDomainEventRegister => |cx, _a| {
        register_legacy(cx, 0)?;
        Ok(ConnectDomainEventRegisterRet { cb_registered: 0 })
    };
    ConnectDomainEventDeregister => |cx, _a| {
        deregister_legacy(cx, 0)?;
        Ok(ConnectDomainEventDeregisterRet { cb_registered: 0 })
    };
}

/// A legacy registration (one per event id): its messages carry no
/// callback id.
fn register_legacy(cx: &Client, event_id: i32) -> Result<()> {
    check_event_id(event_id)?;
    cx.conn()?;
    if cx.callbacks().legacy.iter().any(|(ev, _)| *ev == event_id) {
        return Err(already_tracked());
    }
    let id = register(cx, None, event_id, true)?;
    cx.callbacks().legacy.push((event_id, id));
    Ok(())
}

fn deregister_legacy(cx: &Client, event_id: i32) -> Result<()> {
    let conn = cx.conn()?;
    let mut cbs = cx.callbacks();
    let Some(pos) = cbs.legacy.iter().position(|(ev, _)| *ev == event_id) else {
        return Err(internal(format!("domain event {event_id} not registered")));
    };
    conn.domain_event_deregister_any(cbs.legacy[pos].1)?;
    cbs.legacy.remove(pos);
    Ok(())
}

/// libvirt's refusal of a duplicate registration (object_event.c,
/// virObjectEventCallbackListAddID). In libvirtd every registration of one
/// event id uses the same relay function, so the same event id and domain
/// filter (or none) on one connection, in the same style, is a duplicate.
fn already_tracked() -> Error {
    Error::new(
        ErrorDomain::NONE,
        ErrorCode::INVALID_ARG,
        "event callback already tracked",
    )
}

fn internal(msg: String) -> Error {
    Error::new(ErrorDomain::RPC, ErrorCode::INTERNAL_ERROR, msg)
}

fn check_event_id(event_id: i32) -> Result<()> {
    if !(0..EVENT_ID_LAST).contains(&event_id) {
        return Err(internal(format!("unsupported event ID {event_id}")));
    }
    Ok(())
}

/// Register a callback that queues each event as a message to the client
/// ([`Client::queue_events`]).
fn register(cx: &Client, dom: Option<&Domain>, event_id: i32, legacy: bool) -> Result<i32> {
    let conn = cx.conn()?;
    cx.queue_events(
        move |id, dom: &DomainRef, event: &DomainEvent| event_packet(id, legacy, dom, event),
        |callback| conn.domain_event_register_any(dom, event_id, callback),
    )
}

/// The message for one event, or None for kinds not sent yet.
pub fn event_packet(
    callback_id: i32,
    legacy: bool,
    dom: &DomainRef,
    event: &DomainEvent,
) -> Option<Packet> {
    let d = NonnullDomain {
        name: dom.name.clone(),
        uuid: dom.uuid,
        id: dom.id,
    };
    let packet = match event {
        DomainEvent::Lifecycle { event, detail } => {
            let msg = DomainEventLifecycleMsg {
                dom: d,
                event: *event,
                detail: *detail,
            };
            if legacy {
                remote::event(Procedure::DomainEventLifecycle, &msg)
            } else {
                remote::event(
                    Procedure::DomainEventCallbackLifecycle,
                    &DomainEventCallbackLifecycleMsg { callback_id, msg },
                )
            }
        }
        DomainEvent::Reboot => {
            let msg = DomainEventRebootMsg { dom: d };
            if legacy {
                remote::event(Procedure::DomainEventReboot, &msg)
            } else {
                remote::event(
                    Procedure::DomainEventCallbackReboot,
                    &DomainEventCallbackRebootMsg { callback_id, msg },
                )
            }
        }
        DomainEvent::MigrationIteration { iteration } if !legacy => remote::event(
            Procedure::DomainEventCallbackMigrationIteration,
            &DomainEventCallbackMigrationIterationMsg {
                callback_id,
                dom: d,
                iteration: *iteration,
            },
        ),
        DomainEvent::JobCompleted { stats } if !legacy => remote::event(
            Procedure::DomainEventCallbackJobCompleted,
            &DomainEventCallbackJobCompletedMsg {
                callback_id,
                dom: d,
                params: stats.clone(),
            },
        ),
        DomainEvent::Tunable { params } if !legacy => remote::event(
            Procedure::DomainEventCallbackTunable,
            &DomainEventCallbackTunableMsg {
                callback_id,
                dom: d,
                params: params.clone(),
            },
        ),
        _ => return None,
    };
    packet.ok()
}
