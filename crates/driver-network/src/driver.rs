//! `HostNetworks`: the host's `virNetworkDriver` entries
//! (src/network/bridge_driver.c), with lifecycle events.

use crate::objects::{self, assign_def, invalid, no_network_uuid, NetRef, NetworkObj};
use crate::paths::Paths;
use crate::start;
use parking_lot::Mutex;
use rvirt::driver::{DhcpLease, NetworkDriver, NetworkRef, NetworkUpdate};
use rvirt::events_network::{network_event, NetworkEvent, NetworkEventRegistry};
use rvirt_conf::domain::interface::MacAddr;
use rvirt_conf::network::{objlist, NetworkDef, XML_INACTIVE};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

const ALL_LIST_FLAGS: u32 = (1 << 6) - 1;
/// `VIR_NETWORK_DEFINE_VALIDATE` / `VIR_NETWORK_CREATE_VALIDATE`.
const VALIDATE: u32 = 1;
/// Bridge names tried for a `virbr%d` template (libvirt's MAX_BRIDGE_ID).
const MAX_BRIDGE_ID: u32 = 256;

pub struct HostNetworks {
    pub(crate) paths: Paths,
    pub(crate) nets: Mutex<Vec<NetworkObj>>,
    events: NetworkEventRegistry,
}

fn check_flags(api: &str, given: u32, allowed: u32) -> Result<()> {
    rvirt::connect::check_flags_in(ErrorDomain::NETWORK, api, given, allowed)
}

fn find<'a>(nets: &'a mut [NetworkObj], net: &NetworkRef) -> Result<&'a mut NetworkObj> {
    nets.iter_mut()
        .find(|n| n.def.uuid.as_bytes() == &net.uuid)
        .ok_or_else(|| no_network_uuid(net))
}

/// `virNetworkUpdateSection` by name.
fn update_section_index(name: &str) -> u32 {
    rvirt::network::update::SECTIONS
        .iter()
        .position(|s| *s == name)
        .unwrap_or(0) as u32
}

fn not_active(name: &str) -> Error {
    invalid(format!("network '{name}' is not active"))
}

impl HostNetworks {
    /// The saved networks and the state of those still running.
    pub fn load(paths: Paths) -> Result<HostNetworks> {
        let nets = objects::load_all(&paths)?;
        Ok(HostNetworks {
            paths,
            nets: Mutex::new(nets),
            events: NetworkEventRegistry::default(),
        })
    }

    /// `networkAutostartConfig`: start each autostart network not running.
    pub fn autostart(&self) {
        let refs: Vec<NetworkRef> = self
            .nets
            .lock()
            .iter()
            .filter(|n| n.autostart && !n.active)
            .map(NetRef::net_ref)
            .collect();
        for net in refs {
            if let Err(e) = self.create(&net) {
                tracing::warn!("Failed to autostart network '{}': {}", net.name, e.message);
            }
        }
    }

    fn emit(&self, net: &NetworkRef, event: i32) {
        self.events
            .emit(net, &NetworkEvent::Lifecycle { event, detail: 0 });
    }

    /// `networkValidate` for the bridged modes: a bridge name (from the
    /// `virbr%d` template when none or a template is given) that no other
    /// network uses, and a MAC address.
    fn validate(&self, nets: &[NetworkObj], def: &mut NetworkDef) -> Result<()> {
        crate::validate::check(def)?;
        if !def.forward.mode.has_bridge() {
            return Ok(());
        }
        let in_use = |name: &str| {
            nets.iter().any(|n| {
                n.def.name != def.name
                    && (n.def.bridge.as_deref() == Some(name)
                        || n.new_def.as_ref().and_then(|d| d.bridge.as_deref()) == Some(name))
            })
        };
        match def.bridge.as_deref() {
            Some(b) if !b.contains("%d") => {
                if in_use(b) {
                    return Err(Error::internal(
                        ErrorDomain::NETWORK,
                        format!("bridge name '{b}' already in use."),
                    ));
                }
            }
            given => {
                let template = given
                    .filter(|b| b.matches('%').count() == 1)
                    .unwrap_or("virbr%d")
                    .to_string();
                let name = (0..=MAX_BRIDGE_ID)
                    .map(|id| template.replace("%d", &id.to_string()))
                    .find(|n| !in_use(n) && !crate::bridge::exists(n))
                    .ok_or_else(|| {
                        Error::internal(
                            ErrorDomain::NETWORK,
                            format!("Bridge generation exceeded max id {MAX_BRIDGE_ID}"),
                        )
                    })?;
                def.bridge = Some(name);
            }
        }
        if def.mac.is_none() {
            def.mac = Some(MacAddr::generate());
        }
        Ok(())
    }

    /// Start `obj` on the host and record its live state.
    fn start_obj(&self, obj: &mut NetworkObj) -> Result<()> {
        if obj.active {
            return Err(invalid("network is already active".into()));
        }
        // virNetworkObjSetDefTransient: what the start changes in the live
        // definition stays out of the persistent one.
        if obj.persistent && obj.new_def.is_none() {
            obj.new_def = Some(obj.def.clone());
        }
        crate::firewall::fill_default_nat_ports(&mut obj.def);
        obj.running = match start::start(&obj.def, &self.paths) {
            Ok(r) => r,
            Err(e) => {
                obj.unset_transient();
                return Err(e);
            }
        };
        obj.active = true;
        if let Err(e) = objects::save_status(&self.paths, &obj.def) {
            start::stop(&obj.def, &obj.running, &self.paths);
            obj.active = false;
            obj.unset_transient();
            return Err(e);
        }
        Ok(())
    }

    fn stop_obj(&self, obj: &mut NetworkObj) {
        start::stop(&obj.def, &obj.running, &self.paths);
        objects::delete_status(&self.paths, &obj.def.name);
        obj.running = Default::default();
        obj.active = false;
        obj.unset_transient();
    }

    /// After a live update (networkUpdate): dnsmasq restarted for what its
    /// config file holds (DHCP ranges, TXT and SRV records), or its hosts
    /// files rewritten and reread on SIGHUP (`networkRefreshDhcpDaemon`)
    /// for DHCP hosts and DNS hosts.
    fn refresh_dnsmasq(&self, obj: &mut NetworkObj, section: u32) -> Result<()> {
        let Some(pid) = obj.running.dnsmasq_pid else {
            return Ok(());
        };
        let restart = ["ip-dhcp-range", "dns-txt", "dns-srv"]
            .map(update_section_index)
            .contains(&section);
        let reread = ["ip-dhcp-host", "dns-host"]
            .map(update_section_index)
            .contains(&section);
        if !(restart || reread) {
            return Ok(());
        }
        if restart {
            crate::dnsmasq::stop(pid, &self.paths, &obj.def.name);
            obj.running.dnsmasq_pid = None;
            obj.running.dnsmasq_pid = Some(crate::dnsmasq::start(&obj.def, &self.paths)?);
            return Ok(());
        }
        let files = crate::dnsmasq::conf_contents(&obj.def, None, &self.paths)?;
        for (ext, text) in [
            ("hostsfile", &files.hostsfile),
            ("addnhosts", &files.addnhosts),
        ] {
            let path = self.paths.dnsmasq_file(&obj.def.name, ext);
            crate::paths::write_atomic(&path, text, 0o644).map_err(|e| {
                Error::system(
                    ErrorDomain::NONE,
                    format!("cannot write config file '{}'", path.display()),
                    &e,
                )
            })?;
        }
        // SAFETY: pid is this network's dnsmasq, from its pid file.
        unsafe { libc::kill(pid, libc::SIGHUP) };
        Ok(())
    }

    fn read<R>(&self, net: &NetworkRef, f: impl FnOnce(&NetworkObj) -> Result<R>) -> Result<R> {
        let mut nets = self.nets.lock();
        f(find(&mut nets, net)?)
    }
}

impl NetworkDriver for HostNetworks {
    fn num_of_networks(&self, active: bool) -> Result<usize> {
        Ok(self
            .nets
            .lock()
            .iter()
            .filter(|n| n.active == active)
            .count())
    }

    fn list_networks(&self, active: bool, max: usize) -> Result<Vec<String>> {
        let nets = self.nets.lock();
        let names = nets.iter().filter(|n| n.active == active);
        Ok(names.take(max).map(|n| n.def.name.clone()).collect())
    }

    fn list_all_networks(&self, flags: u32) -> Result<Vec<NetworkRef>> {
        check_flags("networkConnectListAllNetworks", flags, ALL_LIST_FLAGS)?;
        let nets = self.nets.lock();
        Ok(objlist::matching(&nets, flags)
            .map(NetRef::net_ref)
            .collect())
    }

    fn lookup_by_name(&self, name: &str) -> Result<NetworkRef> {
        let nets = self.nets.lock();
        nets.iter()
            .find(|n| n.def.name == name)
            .map(NetRef::net_ref)
            .ok_or_else(|| {
                Error::new(
                    ErrorDomain::NETWORK,
                    ErrorCode::NO_NETWORK,
                    format!("no network with matching name '{name}'"),
                )
            })
    }

    fn lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<NetworkRef> {
        let nets = self.nets.lock();
        nets.iter()
            .find(|n| n.def.uuid.as_bytes() == uuid)
            .map(NetRef::net_ref)
            .ok_or_else(|| {
                let text = rvirt_util::uuid::Uuid::from_bytes(*uuid).to_string();
                Error::new(
                    ErrorDomain::NETWORK,
                    ErrorCode::NO_NETWORK,
                    format!("no network with matching uuid '{text}'"),
                )
            })
    }

    fn create_xml(&self, xml: &str, flags: u32) -> Result<NetworkRef> {
        check_flags("networkCreateXMLFlags", flags, VALIDATE)?;
        let mut def = NetworkDef::parse(xml)?;
        let r = {
            let mut nets = self.nets.lock();
            self.validate(&nets, &mut def)?;
            let i = assign_def(&mut nets, def, true, true)?;
            if let Err(e) = self.start_obj(&mut nets[i]) {
                if nets[i].persistent {
                    nets[i].unset_transient();
                } else {
                    nets.remove(i);
                }
                return Err(e);
            }
            nets[i].net_ref()
        };
        self.emit(&r, network_event::STARTED);
        Ok(r)
    }

    fn define_xml(&self, xml: &str, flags: u32) -> Result<NetworkRef> {
        check_flags("networkDefineXMLFlags", flags, VALIDATE)?;
        let mut def = NetworkDef::parse(xml)?;
        let r = {
            let mut nets = self.nets.lock();
            self.validate(&nets, &mut def)?;
            let existed = nets.iter().any(|n| n.def.uuid == def.uuid);
            let saved = def.clone();
            let i = assign_def(&mut nets, def, false, false)?;
            if let Err(e) = objects::save_config(&self.paths, &saved) {
                if !existed {
                    nets.remove(i);
                }
                return Err(e);
            }
            nets[i].net_ref()
        };
        self.emit(&r, network_event::DEFINED);
        Ok(r)
    }

    fn undefine(&self, net: &NetworkRef) -> Result<()> {
        {
            let mut nets = self.nets.lock();
            let obj = find(&mut nets, net)?;
            if !obj.persistent {
                return Err(invalid("can't undefine transient network".into()));
            }
            objects::delete_config(&self.paths, &obj.def.name)?;
            obj.autostart = false;
            if obj.active {
                obj.new_def = None;
                obj.persistent = false;
            } else {
                nets.retain(|n| n.def.uuid.as_bytes() != &net.uuid);
            }
        }
        self.emit(net, network_event::UNDEFINED);
        Ok(())
    }

    fn update(&self, net: &NetworkRef, change: &NetworkUpdate<'_>, flags: u32) -> Result<()> {
        use rvirt::network::update::{AFFECT_CONFIG, AFFECT_LIVE};
        check_flags("networkUpdate", flags, AFFECT_LIVE | AFFECT_CONFIG)?;
        let mut nets = self.nets.lock();
        let obj = find(&mut nets, net)?;
        let flags = obj.resolve_current(flags);
        let position = (change.command, change.section, change.parent_index);
        obj.update(position, change.xml, flags)?;
        if flags & AFFECT_LIVE != 0 {
            self.refresh_dnsmasq(obj, change.section)?;
            objects::save_status(&self.paths, &obj.def)?;
        }
        if flags & AFFECT_CONFIG != 0 {
            objects::save_config(&self.paths, obj.persistent_def())?;
        }
        Ok(())
    }

    fn create(&self, net: &NetworkRef) -> Result<()> {
        {
            let mut nets = self.nets.lock();
            let obj = find(&mut nets, net)?;
            self.start_obj(obj)?;
        }
        self.emit(net, network_event::STARTED);
        Ok(())
    }

    fn destroy(&self, net: &NetworkRef) -> Result<()> {
        {
            let mut nets = self.nets.lock();
            let obj = find(&mut nets, net)?;
            if !obj.active {
                return Err(not_active(&obj.def.name));
            }
            self.stop_obj(obj);
            if !obj.persistent {
                nets.retain(|n| n.def.uuid.as_bytes() != &net.uuid);
            }
        }
        self.emit(net, network_event::STOPPED);
        Ok(())
    }

    fn get_xml_desc(&self, net: &NetworkRef, flags: u32) -> Result<String> {
        check_flags("networkGetXMLDesc", flags, XML_INACTIVE)?;
        self.read(net, |obj| {
            let def = match (&obj.new_def, flags & XML_INACTIVE != 0) {
                (Some(next), true) => next,
                _ => &obj.def,
            };
            Ok(def.format(flags))
        })
    }

    fn get_bridge_name(&self, net: &NetworkRef) -> Result<String> {
        self.read(net, |obj| {
            obj.def.bridge.clone().ok_or_else(|| {
                Error::internal(
                    ErrorDomain::NETWORK,
                    format!("network '{}' does not have a bridge name.", obj.def.name),
                )
            })
        })
    }

    fn get_autostart(&self, net: &NetworkRef) -> Result<bool> {
        self.read(net, |obj| Ok(obj.autostart))
    }

    fn set_autostart(&self, net: &NetworkRef, autostart: bool) -> Result<()> {
        let mut nets = self.nets.lock();
        let obj = find(&mut nets, net)?;
        if !obj.persistent {
            return Err(invalid("cannot set autostart for transient network".into()));
        }
        if obj.autostart != autostart {
            objects::set_autostart_link(&self.paths, &obj.def.name, autostart)?;
            obj.autostart = autostart;
        }
        Ok(())
    }

    fn is_active(&self, net: &NetworkRef) -> Result<bool> {
        self.read(net, |obj| Ok(obj.active))
    }

    fn is_persistent(&self, net: &NetworkRef) -> Result<bool> {
        self.read(net, |obj| Ok(obj.persistent))
    }

    fn get_dhcp_leases(
        &self,
        net: &NetworkRef,
        mac: Option<&str>,
        flags: u32,
    ) -> Result<Vec<DhcpLease>> {
        check_flags("networkGetDHCPLeases", flags, 0)?;
        if let Some(m) = mac.filter(|m| MacAddr::parse(m).is_none()) {
            return Err(Error::new(ErrorDomain::NETWORK, ErrorCode::INVALID_MAC, m));
        }
        let (def, path) = self.read(net, |obj| {
            let path = self.paths.dnsmasq_file(&obj.def.name, "leases");
            Ok((obj.def.clone(), path))
        })?;
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::system(
                    ErrorDomain::NETWORK,
                    format!("Unable to read leases file: {}", path.display()),
                    &e,
                ))
            }
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Ok(crate::leases::parse(&text, &def, mac, now))
    }

    fn local_events(&self) -> Option<&NetworkEventRegistry> {
        Some(&self.events)
    }
}

#[cfg(test)]
#[path = "driver_tests.rs"]
mod tests;
