//! The network and network filter entry points over the wire: each
//! `NetworkDriver` / `NWFilterDriver` call is its `REMOTE_PROC_NETWORK_*` /
//! `NWFILTER_*` procedure (libvirt's remote_driver.c), and network
//! lifecycle events routed from the server's callback ids to local ones.

use crate::conn::RemoteConnection;
use rvirt::driver::{
    DhcpLease, NWFilterDriver, NWFilterRef, NetworkDriver, NetworkRef, NetworkUpdate,
};
use rvirt::events_network::{NetworkEvent, NetworkEventCallback, NetworkEventRegistry};
use rvirt_rpc::remote::RemoteCalls;
use rvirt_rpc::remote::*;
use rvirt_rpc::Packet;
use rvirt_util::Result;

/// Server callback ids and the local registrations they feed.
#[derive(Default)]
pub struct NetworkEvents {
    registry: NetworkEventRegistry,
    by_server: crate::callback_ids::CallbackIds,
}

impl NetworkEvents {
    /// Deliver a REMOTE_PROC_NETWORK_EVENT_LIFECYCLE; false for any other
    /// message (not ours to decode).
    pub fn deliver(&self, p: &Packet) -> bool {
        if Procedure::from_i32(p.header.proc_) != Some(Procedure::NetworkEventLifecycle) {
            return false;
        }
        let m: NetworkEventLifecycleMsg = match p.body() {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!("undecodable network event: {e}");
                return true;
            }
        };
        let local = self.by_server.local(m.callback_id);
        let ev = NetworkEvent::Lifecycle {
            event: m.event,
            detail: m.detail,
        };
        match local {
            Some(id) => {
                self.registry.emit_to(id, &net_ref(m.net), &ev);
            }
            None => tracing::debug!(
                callback_id = m.callback_id,
                "network event for an unknown callback"
            ),
        }
        true
    }
}

fn net_ref(n: NonnullNetwork) -> NetworkRef {
    NetworkRef {
        name: n.name,
        uuid: n.uuid,
    }
}

fn nonnull(n: &NetworkRef) -> NonnullNetwork {
    NonnullNetwork {
        name: n.name.clone(),
        uuid: n.uuid,
    }
}

fn filter_ref(f: NonnullNwfilter) -> NWFilterRef {
    NWFilterRef {
        name: f.name,
        uuid: f.uuid,
    }
}

fn nonnull_filter(f: &NWFilterRef) -> NonnullNwfilter {
    NonnullNwfilter {
        name: f.name.clone(),
        uuid: f.uuid,
    }
}

fn max_i32(max: usize) -> i32 {
    i32::try_from(max).unwrap_or(i32::MAX)
}

fn count(n: i32) -> usize {
    usize::try_from(n).unwrap_or(0)
}

impl NetworkDriver for RemoteConnection {
    fn num_of_networks(&self, active: bool) -> Result<usize> {
        Ok(count(if active {
            self.call_connect_num_of_networks()?.num
        } else {
            self.call_connect_num_of_defined_networks()?.num
        }))
    }
    fn list_networks(&self, active: bool, max: usize) -> Result<Vec<String>> {
        let maxnames = max_i32(max);
        Ok(if active {
            let args = ConnectListNetworksArgs { maxnames };
            self.call_connect_list_networks(&args)?.names
        } else {
            let args = ConnectListDefinedNetworksArgs { maxnames };
            self.call_connect_list_defined_networks(&args)?.names
        })
    }
    fn list_all_networks(&self, flags: u32) -> Result<Vec<NetworkRef>> {
        let args = ConnectListAllNetworksArgs {
            need_results: 1,
            flags,
        };
        let r = self.call_connect_list_all_networks(&args)?;
        Ok(r.nets.into_iter().map(net_ref).collect())
    }
    fn lookup_by_name(&self, name: &str) -> Result<NetworkRef> {
        let args = NetworkLookupByNameArgs {
            name: name.to_string(),
        };
        Ok(net_ref(self.call_network_lookup_by_name(&args)?.net))
    }
    fn lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<NetworkRef> {
        let args = NetworkLookupByUuidArgs { uuid: *uuid };
        Ok(net_ref(self.call_network_lookup_by_uuid(&args)?.net))
    }
    fn create_xml(&self, xml: &str, flags: u32) -> Result<NetworkRef> {
        let xml = xml.to_string();
        Ok(net_ref(if flags == 0 {
            self.call_network_create_xml(&NetworkCreateXmlArgs { xml })?
                .net
        } else {
            let args = NetworkCreateXmlFlagsArgs { xml, flags };
            self.call_network_create_xml_flags(&args)?.net
        }))
    }
    fn define_xml(&self, xml: &str, flags: u32) -> Result<NetworkRef> {
        let xml = xml.to_string();
        Ok(net_ref(if flags == 0 {
            self.call_network_define_xml(&NetworkDefineXmlArgs { xml })?
                .net
        } else {
            let args = NetworkDefineXmlFlagsArgs { xml, flags };
            self.call_network_define_xml_flags(&args)?.net
        }))
    }
    fn undefine(&self, net: &NetworkRef) -> Result<()> {
        self.call_network_undefine(&NetworkUndefineArgs { net: nonnull(net) })
    }
    fn update(&self, net: &NetworkRef, change: &NetworkUpdate<'_>, flags: u32) -> Result<()> {
        // A server without the fix takes the two the other way round
        // (virNetworkUpdate's VIR_DRV_FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER).
        use rvirt::HypervisorConnection;
        let feature = rvirt::flags::feature::NETWORK_UPDATE_HAS_CORRECT_ORDER;
        let (command, section) = match self.supports_feature(feature)? {
            true => (change.command, change.section),
            false => (change.section, change.command),
        };
        let args = NetworkUpdateArgs {
            net: nonnull(net),
            command,
            section,
            parent_index: change.parent_index,
            xml: change.xml.to_string(),
            flags,
        };
        self.call_network_update(&args)
    }
    fn create(&self, net: &NetworkRef) -> Result<()> {
        self.call_network_create(&NetworkCreateArgs { net: nonnull(net) })
    }
    fn destroy(&self, net: &NetworkRef) -> Result<()> {
        self.call_network_destroy(&NetworkDestroyArgs { net: nonnull(net) })
    }
    fn get_xml_desc(&self, net: &NetworkRef, flags: u32) -> Result<String> {
        let args = NetworkGetXmlDescArgs {
            net: nonnull(net),
            flags,
        };
        Ok(self.call_network_get_xml_desc(&args)?.xml)
    }
    fn get_bridge_name(&self, net: &NetworkRef) -> Result<String> {
        let args = NetworkGetBridgeNameArgs { net: nonnull(net) };
        Ok(self.call_network_get_bridge_name(&args)?.name)
    }
    fn get_autostart(&self, net: &NetworkRef) -> Result<bool> {
        let args = NetworkGetAutostartArgs { net: nonnull(net) };
        Ok(self.call_network_get_autostart(&args)?.autostart != 0)
    }
    fn set_autostart(&self, net: &NetworkRef, autostart: bool) -> Result<()> {
        let args = NetworkSetAutostartArgs {
            net: nonnull(net),
            autostart: i32::from(autostart),
        };
        self.call_network_set_autostart(&args)
    }
    fn is_active(&self, net: &NetworkRef) -> Result<bool> {
        let args = NetworkIsActiveArgs { net: nonnull(net) };
        Ok(self.call_network_is_active(&args)?.active != 0)
    }
    fn is_persistent(&self, net: &NetworkRef) -> Result<bool> {
        let args = NetworkIsPersistentArgs { net: nonnull(net) };
        Ok(self.call_network_is_persistent(&args)?.persistent != 0)
    }
    fn get_dhcp_leases(
        &self,
        net: &NetworkRef,
        mac: Option<&str>,
        flags: u32,
    ) -> Result<Vec<DhcpLease>> {
        let args = NetworkGetDhcpLeasesArgs {
            net: nonnull(net),
            mac: mac.map(str::to_string),
            need_results: 1,
            flags,
        };
        let r = self.call_network_get_dhcp_leases(&args)?;
        Ok(r.leases
            .into_iter()
            .map(|l| DhcpLease {
                iface: l.iface,
                expiry_time: l.expirytime,
                ip_type: l.type_,
                mac: l.mac,
                iaid: l.iaid,
                ipaddr: l.ipaddr,
                prefix: l.prefix,
                hostname: l.hostname,
                clientid: l.clientid,
            })
            .collect())
    }
    fn event_register_any(
        &self,
        net: Option<&NetworkRef>,
        event_id: i32,
        callback: NetworkEventCallback,
    ) -> Result<i32> {
        let events = self.network_events();
        let args = ConnectNetworkEventRegisterAnyArgs {
            event_id,
            net: net.map(nonnull),
        };
        events.by_server.register(
            || {
                Ok(self
                    .call_connect_network_event_register_any(&args)?
                    .callback_id)
            },
            || events.registry.register(net, event_id, callback),
        )
    }
    fn event_deregister_any(&self, callback_id: i32) -> Result<()> {
        let events = self.network_events();
        events.by_server.deregister(callback_id, |server| {
            let args = ConnectNetworkEventDeregisterAnyArgs {
                callback_id: server,
            };
            self.call_connect_network_event_deregister_any(&args)
        })?;
        events.registry.deregister(callback_id);
        Ok(())
    }
}

impl NWFilterDriver for RemoteConnection {
    fn num_of_nwfilters(&self) -> Result<usize> {
        Ok(count(self.call_connect_num_of_nwfilters()?.num))
    }
    fn list_nwfilters(&self, max: usize) -> Result<Vec<String>> {
        let args = ConnectListNwfiltersArgs {
            maxnames: max_i32(max),
        };
        Ok(self.call_connect_list_nwfilters(&args)?.names)
    }
    fn list_all_nwfilters(&self, flags: u32) -> Result<Vec<NWFilterRef>> {
        let args = ConnectListAllNwfiltersArgs {
            need_results: 1,
            flags,
        };
        let r = self.call_connect_list_all_nwfilters(&args)?;
        Ok(r.filters.into_iter().map(filter_ref).collect())
    }
    fn lookup_by_name(&self, name: &str) -> Result<NWFilterRef> {
        let args = NwfilterLookupByNameArgs {
            name: name.to_string(),
        };
        Ok(filter_ref(
            self.call_nwfilter_lookup_by_name(&args)?.nwfilter,
        ))
    }
    fn lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<NWFilterRef> {
        let args = NwfilterLookupByUuidArgs { uuid: *uuid };
        Ok(filter_ref(
            self.call_nwfilter_lookup_by_uuid(&args)?.nwfilter,
        ))
    }
    fn define_xml(&self, xml: &str, flags: u32) -> Result<NWFilterRef> {
        let xml = xml.to_string();
        Ok(filter_ref(if flags == 0 {
            self.call_nwfilter_define_xml(&NwfilterDefineXmlArgs { xml })?
                .nwfilter
        } else {
            let args = NwfilterDefineXmlFlagsArgs { xml, flags };
            self.call_nwfilter_define_xml_flags(&args)?.nwfilter
        }))
    }
    fn undefine(&self, filter: &NWFilterRef) -> Result<()> {
        let args = NwfilterUndefineArgs {
            nwfilter: nonnull_filter(filter),
        };
        self.call_nwfilter_undefine(&args)
    }
    fn get_xml_desc(&self, filter: &NWFilterRef, flags: u32) -> Result<String> {
        let args = NwfilterGetXmlDescArgs {
            nwfilter: nonnull_filter(filter),
            flags,
        };
        Ok(self.call_nwfilter_get_xml_desc(&args)?.xml)
    }
}
