//! Secret procedures (`REMOTE_PROC_SECRET_*`, `CONNECT_*SECRETS`) and the
//! node device and secret event registrations
//! (`CONNECT_NODE_DEVICE_EVENT_*`, `CONNECT_SECRET_EVENT_*`), whose
//! callbacks queue `NODE_DEVICE_EVENT_*` / `SECRET_EVENT_*` messages to
//! the client. A secret's value is refused to a read-only client by the
//! procedure's declaration (SECRET_GET_VALUE is a write procedure), as
//! libvirtd does.

use super::nodedev::{bound, too_many};
use super::{dispatch_table, Client};
use rvirt::driver::SecretRef;
use rvirt::events_nodedev::{nodedev_event, secret_event, NodeDeviceEvent, SecretEvent};
use rvirt::{NodeDevice, Secret};
use rvirt_rpc::remote::{self, Procedure, *};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

dispatch_table! {
    ConnectNumOfSecrets => |cx, ()| {
        Ok(ConnectNumOfSecretsRet { num: cx.conn()?.num_of_secrets()? })
    };
    ConnectListSecrets => |cx, a| {
        bound(a.maxuuids, SECRET_LIST_MAX, "maxuuids > REMOTE_SECRET_LIST_MAX")?;
        Ok(ConnectListSecretsRet { uuids: cx.conn()?.list_secrets(a.maxuuids)? })
    };
    ConnectListAllSecrets => |cx, a| {
        let list = cx.conn()?.list_all_secrets(a.flags)?;
        let count = too_many(list.len(), SECRET_LIST_MAX, "secrets")?;
        let secrets = if a.need_results != 0 { list.iter().map(wire).collect() } else { Vec::new() };
        Ok(ConnectListAllSecretsRet { secrets, ret: count })
    };
    SecretLookupByUuid => |cx, a| {
        Ok(SecretLookupByUuidRet { secret: wire(&cx.conn()?.secret_lookup_by_uuid(&a.uuid)?) })
    };
    SecretLookupByUsage => |cx, a| {
        let s = cx.conn()?.secret_lookup_by_usage(a.usage_type, &a.usage_id)?;
        Ok(SecretLookupByUsageRet { secret: wire(&s) })
    };
    SecretDefineXml => |cx, a| {
        Ok(SecretDefineXmlRet { secret: wire(&cx.conn()?.secret_define_xml(&a.xml, a.flags)?) })
    };
    SecretGetXmlDesc => |cx, a| {
        Ok(SecretGetXmlDescRet { xml: secret(cx, &a.secret)?.get_xml_desc(a.flags)? })
    };
    SecretSetValue => |cx, a| secret(cx, &a.secret)?.set_value(&a.value, a.flags);
    SecretGetValue => |cx, a| {
        Ok(SecretGetValueRet { value: secret(cx, &a.secret)?.get_value(a.flags)? })
    };
    SecretUndefine => |cx, a| secret(cx, &a.secret)?.undefine();

    ConnectNodeDeviceEventRegisterAny => |cx, a| {
        if !(0..nodedev_event::ID_LAST).contains(&a.event_id) {
            return Err(internal(format!("unsupported node device event ID {}", a.event_id)));
        }
        let conn = cx.conn()?;
        let dev = a.dev.map(|d| NodeDevice::from_name(&conn, d.name));
        let callback_id = cx.queue_events(nodedev_event_packet, |callback| {
            conn.node_device_event_register_any(dev.as_ref(), a.event_id, callback)
        })?;
        Ok(ConnectNodeDeviceEventRegisterAnyRet { callback_id })
    };
    ConnectNodeDeviceEventDeregisterAny => |cx, a| {
        cx.conn()?.node_device_event_deregister_any(a.callback_id).map_err(|_| {
            internal(format!("node device event callback {} not registered", a.callback_id))
        })
    };
    ConnectSecretEventRegisterAny => |cx, a| {
        if !(0..secret_event::ID_LAST).contains(&a.event_id) {
            return Err(internal(format!("unsupported secret event ID {}", a.event_id)));
        }
        let conn = cx.conn()?;
        let filter = a.secret.map(|s| Secret::from_ref(&conn, unwire(&s)));
        let callback_id = cx.queue_events(secret_event_packet, |callback| {
            conn.secret_event_register_any(filter.as_ref(), a.event_id, callback)
        })?;
        Ok(ConnectSecretEventRegisterAnyRet { callback_id })
    };
    ConnectSecretEventDeregisterAny => |cx, a| {
        cx.conn()?.secret_event_deregister_any(a.callback_id).map_err(|_| {
            internal(format!("secret event callback {} not registered", a.callback_id))
        })
    };
}

fn internal(msg: String) -> Error {
    Error::new(ErrorDomain::RPC, ErrorCode::INTERNAL_ERROR, msg)
}

fn unwire(s: &NonnullSecret) -> SecretRef {
    SecretRef {
        uuid: s.uuid,
        usage_type: s.usage_type,
        usage_id: s.usage_id.clone(),
    }
}

fn secret(cx: &Client, s: &NonnullSecret) -> Result<Secret> {
    Ok(Secret::from_ref(&cx.conn()?, unwire(s)))
}

fn wire_ref(r: &SecretRef) -> NonnullSecret {
    NonnullSecret {
        uuid: r.uuid,
        usage_type: r.usage_type,
        usage_id: r.usage_id.clone(),
    }
}

fn wire(s: &Secret) -> NonnullSecret {
    wire_ref(s.secret_ref())
}

/// The message for one node device event.
fn nodedev_event_packet(
    callback_id: i32,
    name: &str,
    ev: &NodeDeviceEvent,
) -> Option<rvirt_rpc::Packet> {
    let dev = NonnullNodeDevice {
        name: name.to_string(),
    };
    let packet = match ev {
        NodeDeviceEvent::Lifecycle { event, detail } => remote::event(
            Procedure::NodeDeviceEventLifecycle,
            &NodeDeviceEventLifecycleMsg {
                callback_id,
                dev,
                event: *event,
                detail: *detail,
            },
        ),
        NodeDeviceEvent::Update => remote::event(
            Procedure::NodeDeviceEventUpdate,
            &NodeDeviceEventUpdateMsg { callback_id, dev },
        ),
    };
    packet.ok()
}

/// The message for one secret event.
fn secret_event_packet(
    callback_id: i32,
    s: &SecretRef,
    ev: &SecretEvent,
) -> Option<rvirt_rpc::Packet> {
    let secret = wire_ref(s);
    let packet = match ev {
        SecretEvent::Lifecycle { event, detail } => remote::event(
            Procedure::SecretEventLifecycle,
            &SecretEventLifecycleMsg {
                callback_id,
                secret,
                event: *event,
                detail: *detail,
            },
        ),
        SecretEvent::ValueChanged => remote::event(
            Procedure::SecretEventValueChanged,
            &SecretEventValueChangedMsg {
                callback_id,
                secret,
            },
        ),
    };
    packet.ok()
}
