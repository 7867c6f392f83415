//! `Network` (`virNetworkPtr`) and `NWFilter` (`virNWFilterPtr`) handles
//! and the network calls of `Connect` (libvirt's src/libvirt-network.c and
//! libvirt-nwfilter.c), with the public API's read-only checks before the
//! driver sees a call.

use crate::driver::network::unsupported;
use crate::driver::shared;
use crate::driver::{
    nwfilter, DhcpLease, NWFilterDriver, NWFilterRef, NetworkDriver, NetworkRef, NetworkUpdate,
};
use crate::events_network::NetworkEventCallback;
use crate::Connect;
use rvirt_util::Result;

/// `virConnectListAllNetworks` flags.
pub use rvirt_util::names::network_list_flags as list_flags;

/// `virNetworkUpdateCommand`, `virNetworkUpdateSection` and the
/// `virNetworkUpdateFlags`.
pub mod update {
    pub const COMMAND_NONE: u32 = 0;
    pub const MODIFY: u32 = 1;
    pub const DELETE: u32 = 2;
    pub const ADD_LAST: u32 = 3;
    pub const ADD_FIRST: u32 = 4;
    pub const AFFECT_CURRENT: u32 = 0;
    pub const AFFECT_LIVE: u32 = 1 << 0;
    pub const AFFECT_CONFIG: u32 = 1 << 1;
    /// The sections, in `virNetworkUpdateSection` order ("none" is 0).
    pub use rvirt_util::names::NETWORK_UPDATE_SECTIONS as SECTIONS;
}

#[derive(Clone)]
pub struct Network {
    conn: Connect,
    r: NetworkRef,
}

#[derive(Clone)]
pub struct NWFilter {
    conn: Connect,
    r: NWFilterRef,
}

fn net_driver<'a>(conn: &'a Connect, api: &str) -> Result<&'a dyn NetworkDriver> {
    shared::or_shared(
        conn.driver().as_ref(),
        conn.driver().network(),
        shared::network(),
    )
    .ok_or_else(|| unsupported(api))
}

pub(crate) fn filter_driver<'a>(conn: &'a Connect, api: &str) -> Result<&'a dyn NWFilterDriver> {
    shared::or_shared(
        conn.driver().as_ref(),
        conn.driver().nwfilter(),
        shared::nwfilter(),
    )
    .ok_or_else(|| nwfilter::unsupported(api))
}

impl Network {
    /// A handle for a network whose identity is known (the daemon rebuilds
    /// handles from `remote_nonnull_network` this way).
    pub fn from_ref(conn: &Connect, r: NetworkRef) -> Network {
        Network {
            conn: conn.clone(),
            r,
        }
    }
    pub fn network_ref(&self) -> &NetworkRef {
        &self.r
    }
    crate::handle::identity_getters!("virNetwork");
    fn driver(&self, api: &str) -> Result<&dyn NetworkDriver> {
        net_driver(&self.conn, api)
    }

    /// `virNetworkUndefine`.
    pub fn undefine(&self) -> Result<()> {
        self.conn.check_writable("virNetworkUndefine")?;
        self.driver("virNetworkUndefine")?.undefine(&self.r)
    }
    /// `virNetworkUpdate`.
    pub fn update(
        &self,
        command: u32,
        section: u32,
        parent_index: i32,
        xml: &str,
        flags: u32,
    ) -> Result<()> {
        self.conn.check_writable("virNetworkUpdate")?;
        let change = NetworkUpdate {
            command,
            section,
            parent_index,
            xml,
        };
        self.driver("virNetworkUpdate")?
            .update(&self.r, &change, flags)
    }
    /// `virNetworkCreate`.
    pub fn create(&self) -> Result<()> {
        self.conn.check_writable("virNetworkCreate")?;
        self.driver("virNetworkCreate")?.create(&self.r)
    }
    /// `virNetworkDestroy`.
    pub fn destroy(&self) -> Result<()> {
        self.conn.check_writable("virNetworkDestroy")?;
        self.driver("virNetworkDestroy")?.destroy(&self.r)
    }
    /// `virNetworkGetXMLDesc`.
    pub fn get_xml_desc(&self, flags: u32) -> Result<String> {
        self.driver("virNetworkGetXMLDesc")?
            .get_xml_desc(&self.r, flags)
    }
    /// `virNetworkGetBridgeName`.
    pub fn get_bridge_name(&self) -> Result<String> {
        self.driver("virNetworkGetBridgeName")?
            .get_bridge_name(&self.r)
    }
    /// `virNetworkGetAutostart`.
    pub fn get_autostart(&self) -> Result<bool> {
        self.driver("virNetworkGetAutostart")?
            .get_autostart(&self.r)
    }
    /// `virNetworkSetAutostart`.
    pub fn set_autostart(&self, autostart: bool) -> Result<()> {
        self.conn.check_writable("virNetworkSetAutostart")?;
        self.driver("virNetworkSetAutostart")?
            .set_autostart(&self.r, autostart)
    }
    /// `virNetworkIsActive`.
    pub fn is_active(&self) -> Result<bool> {
        self.driver("virNetworkIsActive")?.is_active(&self.r)
    }
    /// `virNetworkIsPersistent`.
    pub fn is_persistent(&self) -> Result<bool> {
        self.driver("virNetworkIsPersistent")?
            .is_persistent(&self.r)
    }
    /// `virNetworkGetDHCPLeases`.
    pub fn get_dhcp_leases(&self, mac: Option<&str>, flags: u32) -> Result<Vec<DhcpLease>> {
        self.driver("virNetworkGetDHCPLeases")?
            .get_dhcp_leases(&self.r, mac, flags)
    }
}

impl NWFilter {
    pub fn from_ref(conn: &Connect, r: NWFilterRef) -> NWFilter {
        NWFilter {
            conn: conn.clone(),
            r,
        }
    }
    pub fn filter_ref(&self) -> &NWFilterRef {
        &self.r
    }
    pub fn name(&self) -> &str {
        &self.r.name
    }
    pub fn uuid_string(&self) -> String {
        self.r.uuid_string()
    }
    /// `virNWFilterGetXMLDesc`.
    pub fn get_xml_desc(&self, flags: u32) -> Result<String> {
        filter_driver(&self.conn, "virNWFilterGetXMLDesc")?.get_xml_desc(&self.r, flags)
    }
    /// `virNWFilterUndefine`.
    pub fn undefine(&self) -> Result<()> {
        self.conn.check_writable("virNWFilterUndefine")?;
        filter_driver(&self.conn, "virNWFilterUndefine")?.undefine(&self.r)
    }
}

impl Connect {
    fn network(&self, r: NetworkRef) -> Network {
        Network::from_ref(self, r)
    }

    /// `virConnectNumOfNetworks`.
    pub fn num_of_networks(&self) -> Result<usize> {
        net_driver(self, "virConnectNumOfNetworks")?.num_of_networks(true)
    }
    /// `virConnectNumOfDefinedNetworks`.
    pub fn num_of_defined_networks(&self) -> Result<usize> {
        net_driver(self, "virConnectNumOfDefinedNetworks")?.num_of_networks(false)
    }
    /// `virConnectListNetworks`.
    pub fn list_networks(&self, max: usize) -> Result<Vec<String>> {
        net_driver(self, "virConnectListNetworks")?.list_networks(true, max)
    }
    /// `virConnectListDefinedNetworks`.
    pub fn list_defined_networks(&self, max: usize) -> Result<Vec<String>> {
        net_driver(self, "virConnectListDefinedNetworks")?.list_networks(false, max)
    }
    /// `virConnectListAllNetworks`.
    pub fn list_all_networks(&self, flags: u32) -> Result<Vec<Network>> {
        let refs = net_driver(self, "virConnectListAllNetworks")?.list_all_networks(flags)?;
        Ok(refs.into_iter().map(|r| self.network(r)).collect())
    }
    /// `virNetworkLookupByName`.
    pub fn network_lookup_by_name(&self, name: &str) -> Result<Network> {
        let r = net_driver(self, "virNetworkLookupByName")?.lookup_by_name(name)?;
        Ok(self.network(r))
    }
    /// `virNetworkLookupByUUID`.
    pub fn network_lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<Network> {
        let r = net_driver(self, "virNetworkLookupByUUID")?.lookup_by_uuid(uuid)?;
        Ok(self.network(r))
    }
    /// `virNetworkCreateXMLFlags` (`virNetworkCreateXML` with 0).
    pub fn network_create_xml(&self, xml: &str, flags: u32) -> Result<Network> {
        self.check_writable(&crate::forward::by_flags("virNetworkCreateXML", flags))?;
        let api = if flags == 0 {
            "virNetworkCreateXML"
        } else {
            "virNetworkCreateXMLFlags"
        };
        let r = net_driver(self, api)?.create_xml(xml, flags)?;
        Ok(self.network(r))
    }
    /// `virNetworkDefineXMLFlags` (`virNetworkDefineXML` with 0).
    pub fn network_define_xml(&self, xml: &str, flags: u32) -> Result<Network> {
        self.check_writable(&crate::forward::by_flags("virNetworkDefineXML", flags))?;
        let api = if flags == 0 {
            "virNetworkDefineXML"
        } else {
            "virNetworkDefineXMLFlags"
        };
        let r = net_driver(self, api)?.define_xml(xml, flags)?;
        Ok(self.network(r))
    }
    /// `virConnectNetworkEventRegisterAny`.
    pub fn network_event_register_any(
        &self,
        net: Option<&Network>,
        event_id: i32,
        callback: NetworkEventCallback,
    ) -> Result<i32> {
        let last = crate::events_network::network_event::ID_LAST;
        if !(0..last).contains(&event_id) {
            return Err(rvirt_util::Error::raw(
                rvirt_util::ErrorDomain::NETWORK,
                rvirt_util::ErrorCode::INVALID_ARG,
                format!("eventID in virConnectNetworkEventRegisterAny must be less than {last}"),
            ));
        }
        net_driver(self, "virConnectNetworkEventRegisterAny")?.event_register_any(
            net.map(|n| &n.r),
            event_id,
            callback,
        )
    }
    /// `virConnectNetworkEventDeregisterAny`.
    pub fn network_event_deregister_any(&self, callback_id: i32) -> Result<()> {
        net_driver(self, "virConnectNetworkEventDeregisterAny")?.event_deregister_any(callback_id)
    }

    /// `virConnectNumOfNWFilters`.
    pub fn num_of_nwfilters(&self) -> Result<usize> {
        filter_driver(self, "virConnectNumOfNWFilters")?.num_of_nwfilters()
    }
    /// `virConnectListNWFilters`.
    pub fn list_nwfilters(&self, max: usize) -> Result<Vec<String>> {
        filter_driver(self, "virConnectListNWFilters")?.list_nwfilters(max)
    }
    /// `virConnectListAllNWFilters`.
    pub fn list_all_nwfilters(&self, flags: u32) -> Result<Vec<NWFilter>> {
        let refs = filter_driver(self, "virConnectListAllNWFilters")?.list_all_nwfilters(flags)?;
        Ok(refs
            .into_iter()
            .map(|r| NWFilter::from_ref(self, r))
            .collect())
    }
    /// `virNWFilterLookupByName`.
    pub fn nwfilter_lookup_by_name(&self, name: &str) -> Result<NWFilter> {
        let r = filter_driver(self, "virNWFilterLookupByName")?.lookup_by_name(name)?;
        Ok(NWFilter::from_ref(self, r))
    }
    /// `virNWFilterLookupByUUID`.
    pub fn nwfilter_lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<NWFilter> {
        let r = filter_driver(self, "virNWFilterLookupByUUID")?.lookup_by_uuid(uuid)?;
        Ok(NWFilter::from_ref(self, r))
    }
    /// `virNWFilterDefineXMLFlags`, or `virNWFilterDefineXML` with 0 (as
    /// virsh chooses).
    pub fn nwfilter_define_xml(&self, xml: &str, flags: u32) -> Result<NWFilter> {
        let api = if flags == 0 {
            "virNWFilterDefineXML"
        } else {
            "virNWFilterDefineXMLFlags"
        };
        self.nwfilter_define(api, xml, flags)
    }
    /// `virNWFilterDefineXMLFlags` whatever the flags: the API a refusal
    /// names is the one called.
    pub fn nwfilter_define_xml_flags(&self, xml: &str, flags: u32) -> Result<NWFilter> {
        self.nwfilter_define("virNWFilterDefineXMLFlags", xml, flags)
    }
    fn nwfilter_define(&self, api: &str, xml: &str, flags: u32) -> Result<NWFilter> {
        self.check_writable(api)?;
        let r = filter_driver(self, api)?.define_xml(xml, flags)?;
        Ok(NWFilter::from_ref(self, r))
    }
}
