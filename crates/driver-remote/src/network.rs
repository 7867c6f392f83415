//! The network and network filter entry points over the wire: each
//! `NetworkDriver` / `NWFilterDriver` call is its `REMOTE_PROC_NETWORK_*` /
//! `NWFILTER_*` procedure (libvirt's remote_driver.c), and network
//! lifecycle events routed from the server's callback ids to local ones.

use crate::conn::RemoteConnection;
use crate::forward::{forward, FromWire, ToWire};
use rvirt::driver::{
    DhcpLease, NWFilterBindingRef, NWFilterDriver, NWFilterRef, NetworkDriver, NetworkRef,
    NetworkUpdate,
};
use rvirt::events_network::{NetworkEvent, NetworkEventCallback};
use rvirt_rpc::remote::RemoteCalls;
use rvirt_rpc::remote::*;
use rvirt_rpc::{Call, Packet};
use rvirt_util::Result;

/// Server callback ids and the local registrations they feed.
pub type NetworkEvents = crate::callback_ids::RemoteEvents<NetworkRef, NetworkEvent>;

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
        let ev = NetworkEvent::Lifecycle {
            event: m.event,
            detail: m.detail,
        };
        self.route(m.callback_id, &NetworkRef::from_wire(m.net), &ev);
        true
    }
}

fn count(n: i32) -> usize {
    usize::from_wire(n)
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
        let maxnames = max.to_wire();
        Ok(if active {
            let args = ConnectListNetworksArgs { maxnames };
            self.call_connect_list_networks(&args)?.names
        } else {
            let args = ConnectListDefinedNetworksArgs { maxnames };
            self.call_connect_list_defined_networks(&args)?.names
        })
    }
    forward! {
        fn list_all_networks(flags: u32) -> Vec<NetworkRef>
            = ConnectListAllNetworksArgs { need_results: 1 }.nets;
        fn lookup_by_name(name: &str) -> NetworkRef = NetworkLookupByNameArgs.net;
        fn lookup_by_uuid(uuid: &[u8; 16]) -> NetworkRef = NetworkLookupByUuidArgs.net;
        fn undefine(net: &NetworkRef) -> () = NetworkUndefineArgs;
        fn create(net: &NetworkRef) -> () = NetworkCreateArgs;
        fn destroy(net: &NetworkRef) -> () = NetworkDestroyArgs;
        fn get_xml_desc(net: &NetworkRef, flags: u32) -> String = NetworkGetXmlDescArgs.xml;
        fn get_bridge_name(net: &NetworkRef) -> String = NetworkGetBridgeNameArgs.name;
        fn get_autostart(net: &NetworkRef) -> bool = NetworkGetAutostartArgs.autostart;
        fn set_autostart(net: &NetworkRef, autostart: bool) -> () = NetworkSetAutostartArgs;
        fn is_active(net: &NetworkRef) -> bool = NetworkIsActiveArgs.active;
        fn is_persistent(net: &NetworkRef) -> bool = NetworkIsPersistentArgs.persistent;
    }
    fn create_xml(&self, xml: &str, flags: u32) -> Result<NetworkRef> {
        let xml = xml.to_string();
        Ok(NetworkRef::from_wire(if flags == 0 {
            self.call_network_create_xml(&NetworkCreateXmlArgs { xml })?
                .net
        } else {
            let args = NetworkCreateXmlFlagsArgs { xml, flags };
            self.call_network_create_xml_flags(&args)?.net
        }))
    }
    fn define_xml(&self, xml: &str, flags: u32) -> Result<NetworkRef> {
        let xml = xml.to_string();
        Ok(NetworkRef::from_wire(if flags == 0 {
            self.call_network_define_xml(&NetworkDefineXmlArgs { xml })?
                .net
        } else {
            let args = NetworkDefineXmlFlagsArgs { xml, flags };
            self.call_network_define_xml_flags(&args)?.net
        }))
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
            net: net.to_wire(),
            command,
            section,
            parent_index: change.parent_index,
            xml: change.xml.to_string(),
            flags,
        };
        self.call_network_update(&args)
    }
    fn get_dhcp_leases(
        &self,
        net: &NetworkRef,
        mac: Option<&str>,
        flags: u32,
    ) -> Result<Vec<DhcpLease>> {
        let args = NetworkGetDhcpLeasesArgs {
            net: net.to_wire(),
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
        let args = ConnectNetworkEventRegisterAnyArgs {
            event_id,
            net: net.map(ToWire::to_wire),
        };
        self.network_events().register(net, event_id, callback, || {
            Ok(self.request(&args)?.callback_id)
        })
    }
    fn event_deregister_any(&self, callback_id: i32) -> Result<()> {
        self.network_events()
            .deregister(callback_id, |callback_id| {
                self.request(&ConnectNetworkEventDeregisterAnyArgs { callback_id })
            })
    }
}

impl NWFilterDriver for RemoteConnection {
    fn num_of_nwfilters(&self) -> Result<usize> {
        Ok(count(self.call_connect_num_of_nwfilters()?.num))
    }
    forward! {
        fn list_nwfilters(maxnames: usize) -> Vec<String> = ConnectListNwfiltersArgs.names;
        fn list_all_nwfilters(flags: u32) -> Vec<NWFilterRef>
            = ConnectListAllNwfiltersArgs { need_results: 1 }.filters;
        fn lookup_by_name(name: &str) -> NWFilterRef = NwfilterLookupByNameArgs.nwfilter;
        fn lookup_by_uuid(uuid: &[u8; 16]) -> NWFilterRef = NwfilterLookupByUuidArgs.nwfilter;
        fn undefine(nwfilter: &NWFilterRef) -> () = NwfilterUndefineArgs;
        fn get_xml_desc(nwfilter: &NWFilterRef, flags: u32) -> String
            = NwfilterGetXmlDescArgs.xml;
    }
    fn define_xml(&self, xml: &str, flags: u32) -> Result<NWFilterRef> {
        let xml = xml.to_string();
        Ok(NWFilterRef::from_wire(if flags == 0 {
            self.call_nwfilter_define_xml(&NwfilterDefineXmlArgs { xml })?
                .nwfilter
        } else {
            let args = NwfilterDefineXmlFlagsArgs { xml, flags };
            self.call_nwfilter_define_xml_flags(&args)?.nwfilter
        }))
    }
    fn list_all_bindings(&self, flags: u32) -> Result<Vec<NWFilterBindingRef>> {
        self.nwfilter_bindings(flags)
    }
    fn binding_lookup_by_port_dev(&self, portdev: &str) -> Result<NWFilterBindingRef> {
        self.nwfilter_binding_by_port(portdev)
    }
    fn binding_get_xml_desc(&self, binding: &NWFilterBindingRef, flags: u32) -> Result<String> {
        self.nwfilter_binding_xml(binding, flags)
    }
    fn binding_create_xml(&self, xml: &str, flags: u32) -> Result<NWFilterBindingRef> {
        self.nwfilter_binding_create(xml, flags)
    }
    fn binding_delete(&self, binding: &NWFilterBindingRef) -> Result<()> {
        self.nwfilter_binding_delete(binding)
    }
}
