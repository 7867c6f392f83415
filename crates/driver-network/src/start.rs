//! Starting and stopping a network on the host (libvirt's
//! `networkStartNetworkVirtual` / `networkShutdownNetworkVirtual`): each
//! step undone in reverse when a later one fails.

use crate::paths::Paths;
use crate::{bridge, dnsmasq, firewall};
use rvirt_conf::network::{ForwardMode, NetworkDef};
use rvirt_util::{Error, ErrorDomain, Result};

/// What a running network holds on the host beyond its definition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Running {
    pub dnsmasq_pid: Option<i32>,
}

/// `networkStartNetwork` for the modes with a libvirt-managed bridge;
/// the other modes use host devices libvirt does not set up here.
pub fn start(def: &NetworkDef, paths: &Paths) -> Result<Running> {
    if !def.forward.mode.has_bridge() {
        return Ok(Running::default());
    }
    bridge::check_route_collision(def)?;
    Paths::ensure(&paths.state)?;
    Paths::ensure(&paths.dnsmasq)?;
    let Some(name) = def.bridge.as_deref() else {
        return Err(Error::internal(
            ErrorDomain::NETWORK,
            format!("network '{}' has no bridge name defined", def.name),
        ));
    };
    bridge::create(def, name)?;
    let mut undo = Undo {
        def,
        paths,
        bridge: name,
        firewall: false,
        dnsmasq: None,
    };
    bridge::configure(def, name)?;
    bridge::set_ipv6_sysctls(def, name)?;
    if def.forward.mode != ForwardMode::Open {
        firewall::apply(def)?;
        undo.firewall = true;
    }
    for ip in &def.ips {
        bridge::add_address(name, ip)?;
    }
    bridge::set_online(name, true)?;
    bridge::add_routes(def, name);
    if def.forward.mode != ForwardMode::None {
        enable_forwarding(def)?;
    }
    if dnsmasq::needed(def) {
        undo.dnsmasq = Some(dnsmasq::start(def, paths)?);
    }
    let running = Running {
        dnsmasq_pid: undo.dnsmasq.take(),
    };
    std::mem::forget(undo);
    Ok(running)
}

/// The partial start, taken down when `start` returns early.
struct Undo<'a> {
    def: &'a NetworkDef,
    paths: &'a Paths,
    bridge: &'a str,
    firewall: bool,
    dnsmasq: Option<i32>,
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        if let Some(pid) = self.dnsmasq {
            dnsmasq::stop(pid, self.paths, &self.def.name);
        }
        let _ = bridge::set_online(self.bridge, false);
        if self.firewall {
            firewall::remove(self.def);
        }
        let _ = bridge::delete(self.bridge);
    }
}

/// `networkEnableIPForwarding` for the families the network has.
fn enable_forwarding(def: &NetworkDef) -> Result<()> {
    let v4 = def.ips.iter().any(|ip| ip.is_v4());
    let v6 = def.ips.iter().any(|ip| !ip.is_v4());
    let mut files = Vec::new();
    if v4 {
        files.push("/proc/sys/net/ipv4/ip_forward");
    }
    if v6 {
        files.push("/proc/sys/net/ipv6/conf/all/forwarding");
    }
    for f in files {
        std::fs::write(f, "1\n").map_err(|e| {
            Error::system(ErrorDomain::NETWORK, "failed to enable IP forwarding", &e)
        })?;
    }
    Ok(())
}

/// `networkShutdownNetworkVirtual`: dnsmasq, the bridge, the rules.
pub fn stop(def: &NetworkDef, running: &Running, paths: &Paths) {
    if !def.forward.mode.has_bridge() {
        return;
    }
    if let Some(pid) = running.dnsmasq_pid {
        dnsmasq::stop(pid, paths, &def.name);
    }
    let Some(name) = def.bridge.as_deref() else {
        return;
    };
    let _ = bridge::set_online(name, false);
    if def.forward.mode != ForwardMode::Open {
        firewall::remove(def);
    }
    let _ = bridge::delete(name);
}
