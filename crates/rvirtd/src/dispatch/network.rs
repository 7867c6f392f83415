//! Network and network filter procedures (`REMOTE_PROC_NETWORK_*`,
//! `CONNECT_*_NETWORKS`, `NWFILTER_*`, `CONNECT_*_NWFILTERS`, network
//! event registration): each calls the public API on the handle the wire
//! names, as libvirtd's generated and hand-written dispatchers do.

use super::{dispatch_table, rpc_error, Client};
use rvirt::driver::{DhcpLease, NWFilterRef, NetworkRef};
use rvirt::events_network::{network_event, NetworkEvent};
use rvirt::{NWFilter, Network};
use rvirt_rpc::remote::*;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

dispatch_table! {
    ConnectNumOfNetworks => |cx, ()| {
        Ok(ConnectNumOfNetworksRet { num: cx.conn()?.num_of_networks()? as i32 })
    };
    ConnectNumOfDefinedNetworks => |cx, ()| {
        Ok(ConnectNumOfDefinedNetworksRet { num: cx.conn()?.num_of_defined_networks()? as i32 })
    };
    ConnectListNetworks => |cx, a| {
        let max = names_max(a.maxnames, NETWORK_LIST_MAX, "virConnectListNetworks", "NETWORK")?;
        Ok(ConnectListNetworksRet { names: cx.conn()?.list_networks(max)? })
    };
    ConnectListDefinedNetworks => |cx, a| {
        let max = names_max(a.maxnames, NETWORK_LIST_MAX, "virConnectListDefinedNetworks", "NETWORK")?;
        Ok(ConnectListDefinedNetworksRet { names: cx.conn()?.list_defined_networks(max)? })
    };
    ConnectListAllNetworks => |cx, a| {
        let nets = cx.conn()?.list_all_networks(a.flags)?;
        check_count(nets.len(), NETWORK_LIST_MAX, "networks")?;
        let ret = nets.len() as u32;
        let nets = if a.need_results != 0 { nets.iter().map(wire).collect() } else { Vec::new() };
        Ok(ConnectListAllNetworksRet { nets, ret })
    };
    NetworkLookupByName => |cx, a| {
        Ok(NetworkLookupByNameRet { net: wire(&cx.conn()?.network_lookup_by_name(&a.name)?) })
    };
    NetworkLookupByUuid => |cx, a| {
        Ok(NetworkLookupByUuidRet { net: wire(&cx.conn()?.network_lookup_by_uuid(&a.uuid)?) })
    };
    NetworkCreateXml => |cx, a| {
        Ok(NetworkCreateXmlRet { net: wire(&cx.conn()?.network_create_xml(&a.xml, 0)?) })
    };
    NetworkCreateXmlFlags => |cx, a| {
        Ok(NetworkCreateXmlFlagsRet { net: wire(&cx.conn()?.network_create_xml(&a.xml, a.flags)?) })
    };
    NetworkDefineXml => |cx, a| {
        Ok(NetworkDefineXmlRet { net: wire(&cx.conn()?.network_define_xml(&a.xml, 0)?) })
    };
    NetworkDefineXmlFlags => |cx, a| {
        Ok(NetworkDefineXmlFlagsRet { net: wire(&cx.conn()?.network_define_xml(&a.xml, a.flags)?) })
    };
    NetworkUndefine => |cx, a| handle(cx, &a.net)?.undefine();
    NetworkUpdate => |cx, a| {
        handle(cx, &a.net)?.update(a.command, a.section, a.parent_index, &a.xml, a.flags)
    };
    NetworkCreate => |cx, a| handle(cx, &a.net)?.create();
    NetworkDestroy => |cx, a| handle(cx, &a.net)?.destroy();
    NetworkGetXmlDesc => |cx, a| {
        Ok(NetworkGetXmlDescRet { xml: handle(cx, &a.net)?.get_xml_desc(a.flags)? })
    };
    NetworkGetBridgeName => |cx, a| {
        Ok(NetworkGetBridgeNameRet { name: handle(cx, &a.net)?.get_bridge_name()? })
    };
    NetworkGetAutostart => |cx, a| {
        Ok(NetworkGetAutostartRet { autostart: handle(cx, &a.net)?.get_autostart()? as i32 })
    };
    NetworkSetAutostart => |cx, a| handle(cx, &a.net)?.set_autostart(a.autostart != 0);
    NetworkIsActive => |cx, a| {
        Ok(NetworkIsActiveRet { active: handle(cx, &a.net)?.is_active()? as i32 })
    };
    NetworkIsPersistent => |cx, a| {
        Ok(NetworkIsPersistentRet { persistent: handle(cx, &a.net)?.is_persistent()? as i32 })
    };
    NetworkGetDhcpLeases => |cx, a| {
        let leases = handle(cx, &a.net)?.get_dhcp_leases(a.mac.as_deref(), a.flags)?;
        if leases.len() > NETWORK_DHCP_LEASES_MAX {
            return Err(Error::new(
                ErrorDomain::RPC,
                ErrorCode::INTERNAL_ERROR,
                format!(
                    "Number of leases is {}, which exceeds max limit: {NETWORK_DHCP_LEASES_MAX}",
                    leases.len()
                ),
            ));
        }
        let ret = leases.len() as u32;
        let leases = if a.need_results != 0 { leases.iter().map(wire_lease).collect() } else { Vec::new() };
        Ok(NetworkGetDhcpLeasesRet { leases, ret })
    };
    ConnectNetworkEventRegisterAny => |cx, a| {
        let conn = cx.conn()?;
        let net = a.net.as_ref().map(|n| handle(cx, n)).transpose()?;
        if !(0..network_event::ID_LAST).contains(&a.event_id) {
            return Err(Error::new(
                ErrorDomain::RPC,
                ErrorCode::INTERNAL_ERROR,
                format!("unsupported network event ID {}", a.event_id),
            ));
        }
        let mut cbs = cx.callbacks();
        let callback_id = cx.queue_events(event_packet, |callback| {
            conn.network_event_register_any(net.as_ref(), a.event_id, callback)
        })?;
        cbs.network.push(callback_id);
        Ok(ConnectNetworkEventRegisterAnyRet { callback_id })
    };
    ConnectNetworkEventDeregisterAny => |cx, a| {
        let conn = cx.conn()?;
        let mut cbs = cx.callbacks();
        let Some(pos) = cbs.network.iter().position(|id| *id == a.callback_id) else {
            return Err(Error::new(
                ErrorDomain::RPC,
                ErrorCode::INTERNAL_ERROR,
                format!("network event callback {} not registered", a.callback_id),
            ));
        };
        conn.network_event_deregister_any(a.callback_id)?;
        cbs.network.remove(pos);
        Ok(())
    };
    ConnectNumOfNwfilters => |cx, ()| {
        Ok(ConnectNumOfNwfiltersRet { num: cx.conn()?.num_of_nwfilters()? as i32 })
    };
    ConnectListNwfilters => |cx, a| {
        let max = names_max(a.maxnames, NWFILTER_LIST_MAX, "virConnectListNWFilters", "NWFILTER")?;
        Ok(ConnectListNwfiltersRet { names: cx.conn()?.list_nwfilters(max)? })
    };
    ConnectListAllNwfilters => |cx, a| {
        let filters = cx.conn()?.list_all_nwfilters(a.flags)?;
        check_count(filters.len(), NWFILTER_LIST_MAX, "nwfilters")?;
        let ret = filters.len() as u32;
        let filters = if a.need_results != 0 { filters.iter().map(wire_filter).collect() } else { Vec::new() };
        Ok(ConnectListAllNwfiltersRet { filters, ret })
    };
    NwfilterLookupByName => |cx, a| {
        Ok(NwfilterLookupByNameRet { nwfilter: wire_filter(&cx.conn()?.nwfilter_lookup_by_name(&a.name)?) })
    };
    NwfilterLookupByUuid => |cx, a| {
        Ok(NwfilterLookupByUuidRet { nwfilter: wire_filter(&cx.conn()?.nwfilter_lookup_by_uuid(&a.uuid)?) })
    };
    NwfilterDefineXml => |cx, a| {
        Ok(NwfilterDefineXmlRet { nwfilter: wire_filter(&cx.conn()?.nwfilter_define_xml(&a.xml, 0)?) })
    };
    NwfilterDefineXmlFlags => |cx, a| {
        Ok(NwfilterDefineXmlFlagsRet { nwfilter: wire_filter(&cx.conn()?.nwfilter_define_xml_flags(&a.xml, a.flags)?) })
    };
    NwfilterUndefine => |cx, a| filter(cx, &a.nwfilter)?.undefine();
    NwfilterGetXmlDesc => |cx, a| {
        Ok(NwfilterGetXmlDescRet { xml: filter(cx, &a.nwfilter)?.get_xml_desc(a.flags)? })
    };
}

/// The network a `remote_nonnull_network` names (`get_nonnull_network`:
/// no lookup, the driver finds it or says it is gone).
fn handle(cx: &Client, n: &NonnullNetwork) -> Result<Network> {
    let r = NetworkRef {
        name: n.name.clone(),
        uuid: n.uuid,
    };
    Ok(Network::from_ref(&cx.conn()?, r))
}

fn filter(cx: &Client, f: &NonnullNwfilter) -> Result<NWFilter> {
    let r = NWFilterRef {
        name: f.name.clone(),
        uuid: f.uuid,
    };
    Ok(NWFilter::from_ref(&cx.conn()?, r))
}

fn wire(n: &Network) -> NonnullNetwork {
    NonnullNetwork {
        name: n.name().to_string(),
        uuid: *n.uuid(),
    }
}

fn wire_filter(f: &NWFilter) -> NonnullNwfilter {
    NonnullNwfilter {
        name: f.name().to_string(),
        uuid: f.filter_ref().uuid,
    }
}

fn wire_lease(l: &DhcpLease) -> NetworkDhcpLease {
    NetworkDhcpLease {
        iface: l.iface.clone(),
        expirytime: l.expiry_time,
        type_: l.ip_type,
        mac: l.mac.clone(),
        iaid: l.iaid.clone(),
        ipaddr: l.ipaddr.clone(),
        prefix: l.prefix,
        hostname: l.hostname.clone(),
        clientid: l.clientid.clone(),
    }
}

/// The generated dispatchers' bound on `maxnames`, and the public API's
/// refusal of a negative one.
fn names_max(max: i32, limit: usize, api: &str, what: &str) -> Result<usize> {
    if max < 0 {
        return Err(Error::raw(
            ErrorDomain::NETWORK,
            ErrorCode::INVALID_ARG,
            format!("maxnames in {api} must be greater than or equal to 0"),
        ));
    }
    if max as usize > limit {
        return Err(rpc_error(format!("maxnames > REMOTE_{what}_LIST_MAX")));
    }
    Ok(max as usize)
}

fn check_count(n: usize, limit: usize, what: &str) -> Result<()> {
    if n > limit {
        return Err(Error::new(
            ErrorDomain::RPC,
            ErrorCode::RPC,
            format!("Too many {what} '{n}' for limit '{limit}'"),
        ));
    }
    Ok(())
}

/// REMOTE_PROC_NETWORK_EVENT_LIFECYCLE for one event.
pub fn event_packet(
    callback_id: i32,
    net: &NetworkRef,
    ev: &NetworkEvent,
) -> Option<rvirt_rpc::Packet> {
    let NetworkEvent::Lifecycle { event, detail } = *ev;
    let msg = NetworkEventLifecycleMsg {
        callback_id,
        net: NonnullNetwork {
            name: net.name.clone(),
            uuid: net.uuid,
        },
        event,
        detail,
    };
    rvirt_rpc::remote::event(rvirt_rpc::remote::Procedure::NetworkEventLifecycle, &msg).ok()
}
