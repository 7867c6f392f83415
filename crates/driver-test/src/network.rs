//! Virtual networks of a test host: libvirt's test driver network entries
//! (src/test/test_driver.c `testNetwork*`) over libvirt's network object
//! rules (src/conf/virnetworkobj.c: live and persistent definitions,
//! `virNetworkObjAssignDef`, `virNetworkObjUpdate`), with its events.

use crate::check_flags;
use parking_lot::Mutex;
use rvirt::driver::{NetworkDriver, NetworkRef, NetworkUpdate};
use rvirt::events_network::{network_event, NetworkEvent, NetworkEventRegistry};
use rvirt::network::update;
use rvirt_conf::network::objlist::{self, assign_def, NetworkObj};
use rvirt_conf::network::NetworkDef;
use rvirt_conf::xml::Element;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::sync::{Arc, Weak};

/// The API's handle for a network object.
fn net_ref(obj: &NetworkObj) -> NetworkRef {
    NetworkRef::new(&obj.def.name, *obj.def.uuid.as_bytes())
}

/// The networks of one host and the event registries listening to them.
#[derive(Default)]
pub struct NetworkHost {
    nets: Mutex<Vec<NetworkObj>>,
    listeners: Mutex<Vec<Weak<NetworkEventRegistry>>>,
}

const ALL_LIST_FLAGS: u32 = (1 << 6) - 1;
/// `VIR_NETWORK_DEFINE_VALIDATE` / `VIR_NETWORK_CREATE_VALIDATE`.
const VALIDATE: u32 = 1;

fn no_network_named(name: &str) -> Error {
    Error::new(
        ErrorDomain::TEST,
        ErrorCode::NO_NETWORK,
        format!("no network with matching name '{name}'"),
    )
}

fn no_network_with_uuid(uuid: &[u8; 16]) -> Error {
    let text = rvirt_util::uuid::Uuid::from_bytes(*uuid).to_string();
    Error::new(
        ErrorDomain::TEST,
        ErrorCode::NO_NETWORK,
        format!("no network with matching uuid '{text}'"),
    )
}

fn invalid(msg: String) -> Error {
    Error::operation_invalid(ErrorDomain::TEST, msg)
}

impl NetworkHost {
    /// A host with the `<network>` elements of its node description, each
    /// active and persistent.
    pub fn from_elements(elements: &[Element]) -> Result<NetworkHost> {
        let host = NetworkHost::default();
        {
            let mut nets = host.nets.lock();
            for el in elements {
                let def = NetworkDef::from_element(el)?;
                let index = assign_def(&mut nets, def, false, false)?;
                nets[index].active = true;
            }
        }
        Ok(host)
    }

    pub fn add_listener(&self, registry: &Arc<NetworkEventRegistry>) {
        let mut list = self.listeners.lock();
        list.retain(|w| w.strong_count() > 0);
        list.push(Arc::downgrade(registry));
    }

    fn emit(&self, net: &NetworkRef, event: i32) {
        let registries: Vec<Arc<NetworkEventRegistry>> = self
            .listeners
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        let ev = NetworkEvent::Lifecycle { event, detail: 0 };
        for r in registries {
            r.emit(net, &ev);
        }
    }

    /// Run `f` on the networks; the lifecycle event it names, if any, goes
    /// out once the lock is released.
    fn with<R>(
        &self,
        f: impl FnOnce(&mut Vec<NetworkObj>) -> Result<(R, Option<(NetworkRef, i32)>)>,
    ) -> Result<R> {
        let (result, event) = f(&mut self.nets.lock())?;
        if let Some((net, ev)) = event {
            self.emit(&net, ev);
        }
        Ok(result)
    }

    fn read<R>(&self, f: impl FnOnce(&[NetworkObj]) -> Result<R>) -> Result<R> {
        f(&self.nets.lock())
    }
}

fn by_name<'a>(nets: &'a mut [NetworkObj], name: &str) -> Result<&'a mut NetworkObj> {
    nets.iter_mut()
        .find(|n| n.def.name == name)
        .ok_or_else(|| no_network_named(name))
}

fn by_uuid<'a>(nets: &'a mut [NetworkObj], uuid: &[u8; 16]) -> Result<&'a mut NetworkObj> {
    nets.iter_mut()
        .find(|n| n.def.uuid.as_bytes() == uuid)
        .ok_or_else(|| no_network_with_uuid(uuid))
}

fn find_name<'a>(nets: &'a [NetworkObj], name: &str) -> Result<&'a NetworkObj> {
    nets.iter()
        .find(|n| n.def.name == name)
        .ok_or_else(|| no_network_named(name))
}

fn find_uuid<'a>(nets: &'a [NetworkObj], uuid: &[u8; 16]) -> Result<&'a NetworkObj> {
    nets.iter()
        .find(|n| n.def.uuid.as_bytes() == uuid)
        .ok_or_else(|| no_network_with_uuid(uuid))
}

/// A connection's view of its host's networks: the host and the
/// connection's own event registry.
pub struct TestNetworks {
    host: Arc<NetworkHost>,
    events: Arc<NetworkEventRegistry>,
}

impl TestNetworks {
    pub fn new(host: Arc<NetworkHost>) -> TestNetworks {
        let events = Arc::new(NetworkEventRegistry::default());
        host.add_listener(&events);
        TestNetworks { host, events }
    }
}

impl NetworkDriver for TestNetworks {
    fn num_of_networks(&self, active: bool) -> Result<usize> {
        self.host
            .read(|nets| Ok(nets.iter().filter(|n| n.active == active).count()))
    }

    fn list_networks(&self, active: bool, max: usize) -> Result<Vec<String>> {
        self.host.read(|nets| {
            Ok(nets
                .iter()
                .filter(|n| n.active == active)
                .take(max)
                .map(|n| n.def.name.clone())
                .collect())
        })
    }

    fn list_all_networks(&self, flags: u32) -> Result<Vec<NetworkRef>> {
        check_flags("testConnectListAllNetworks", flags, ALL_LIST_FLAGS)?;
        self.host
            .read(|nets| Ok(objlist::matching(nets, flags).map(net_ref).collect()))
    }

    fn lookup_by_name(&self, name: &str) -> Result<NetworkRef> {
        self.host.read(|nets| Ok(net_ref(find_name(nets, name)?)))
    }

    fn lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<NetworkRef> {
        self.host.read(|nets| Ok(net_ref(find_uuid(nets, uuid)?)))
    }

    fn create_xml(&self, xml: &str, flags: u32) -> Result<NetworkRef> {
        check_flags("testNetworkCreateXMLFlags", flags, VALIDATE)?;
        let def = NetworkDef::parse(xml)?;
        self.host.with(|nets| {
            let i = assign_def(nets, def, true, true)?;
            nets[i].active = true;
            let r = net_ref(&nets[i]);
            Ok((r.clone(), Some((r, network_event::STARTED))))
        })
    }

    fn define_xml(&self, xml: &str, flags: u32) -> Result<NetworkRef> {
        check_flags("testNetworkDefineXMLFlags", flags, VALIDATE)?;
        let def = NetworkDef::parse(xml)?;
        self.host.with(|nets| {
            let i = assign_def(nets, def, false, false)?;
            let r = net_ref(&nets[i]);
            Ok((r.clone(), Some((r, network_event::DEFINED))))
        })
    }

    fn undefine(&self, net: &NetworkRef) -> Result<()> {
        self.host.with(|nets| {
            let obj = by_name(nets, &net.name)?;
            if obj.active {
                return Err(invalid(format!("Network '{}' is still running", net.name)));
            }
            nets.retain(|n| n.def.name != net.name);
            Ok(((), Some((net.clone(), network_event::UNDEFINED))))
        })
    }

    fn update(&self, net: &NetworkRef, change: &NetworkUpdate<'_>, flags: u32) -> Result<()> {
        check_flags(
            "testNetworkUpdate",
            flags,
            update::AFFECT_LIVE | update::AFFECT_CONFIG,
        )?;
        self.host.with(|nets| {
            let obj = by_uuid(nets, &net.uuid)?;
            let flags = obj.resolve_current(flags);
            let position = (change.command, change.section, change.parent_index);
            obj.update(position, change.xml, flags)?;
            Ok(((), None))
        })
    }

    fn create(&self, net: &NetworkRef) -> Result<()> {
        self.host.with(|nets| {
            let obj = by_name(nets, &net.name)?;
            if obj.active {
                return Err(invalid(format!(
                    "Network '{}' is already running",
                    net.name
                )));
            }
            obj.active = true;
            Ok(((), Some((net_ref(obj), network_event::STARTED))))
        })
    }

    fn destroy(&self, net: &NetworkRef) -> Result<()> {
        // As libvirt's test driver: no check that it runs, the event
        // goes out regardless, and a transient network is gone.
        self.host.with(|nets| {
            let obj = by_name(nets, &net.name)?;
            obj.active = false;
            let r = net_ref(obj);
            if !obj.persistent {
                nets.retain(|n| n.def.name != net.name);
            }
            Ok(((), Some((r, network_event::STOPPED))))
        })
    }

    fn get_xml_desc(&self, net: &NetworkRef, flags: u32) -> Result<String> {
        check_flags("testNetworkGetXMLDesc", flags, 0)?;
        self.host
            .read(|nets| Ok(find_name(nets, &net.name)?.def.format(flags)))
    }

    fn get_bridge_name(&self, net: &NetworkRef) -> Result<String> {
        self.host.read(|nets| {
            let obj = find_name(nets, &net.name)?;
            obj.def.bridge.clone().ok_or_else(|| {
                Error::internal(
                    ErrorDomain::TEST,
                    format!("network '{}' does not have a bridge name.", obj.def.name),
                )
            })
        })
    }

    fn get_autostart(&self, net: &NetworkRef) -> Result<bool> {
        self.host
            .read(|nets| Ok(find_name(nets, &net.name)?.autostart))
    }

    fn set_autostart(&self, net: &NetworkRef, autostart: bool) -> Result<()> {
        self.host.with(|nets| {
            by_name(nets, &net.name)?.autostart = autostart;
            Ok(((), None))
        })
    }

    fn is_active(&self, net: &NetworkRef) -> Result<bool> {
        self.host
            .read(|nets| Ok(find_uuid(nets, &net.uuid)?.active))
    }

    fn is_persistent(&self, net: &NetworkRef) -> Result<bool> {
        self.host
            .read(|nets| Ok(find_uuid(nets, &net.uuid)?.persistent))
    }

    fn local_events(&self) -> Option<&NetworkEventRegistry> {
        Some(&self.events)
    }
}
