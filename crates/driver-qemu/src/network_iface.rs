//! `<interface type='network'>` at start (libvirt's
//! `qemuProcessNetworkPrepareDevices` with the network driver's port
//! allocation, `qemuInterfaceBridgeConnect`): the network is resolved
//! through the public network API of the daemon's shared network driver
//! (never the driver crate itself), a tap device is made for the guest's
//! NIC and enslaved to the network's bridge, and the live definition
//! shows both (`<source network= bridge=>`, `<target dev=>`).
//!
//! rvirt's tap backends name their tap (`ifname`) rather than pass an fd
//! (see `command::net`), so the tap is created persistent, owned by
//! QEMU's user, and deleted again when the guest stops.

use crate::process::Credentials;
use rvirt::driver::{shared, NetworkDriver, NetworkRef};
use rvirt_conf::domain::interface::{MacAddr, NetSource, NetType};
use rvirt_conf::domain::DomainDef;
use rvirt_util::{Error, ErrorDomain, Result};
use std::process::{Command, Stdio};

/// Resolve the network interfaces of `def` (about to start) and make
/// their taps; on failure the taps made so far are gone again.
pub fn prepare(def: &mut DomainDef, creds: Option<&Credentials>) -> Result<()> {
    let mut made: Vec<String> = Vec::new();
    let result = connect_all(def, creds, &mut made);
    if result.is_err() {
        for tap in &made {
            delete_tap(tap);
        }
    }
    result
}

fn connect_all(
    def: &mut DomainDef,
    creds: Option<&Credentials>,
    made: &mut Vec<String>,
) -> Result<()> {
    for net in def.devices.interfaces.iter_mut() {
        if net.net_type != NetType::Network {
            continue;
        }
        let NetSource::Network {
            network, bridge, ..
        } = &mut net.source
        else {
            continue;
        };
        let drv = shared::network()
            .ok_or_else(|| rvirt::driver::network::unsupported("virNetworkLookupByName"))?;
        let br = bridge_of(drv, network)?;
        let tap = match net.target_dev.clone().filter(|t| !t.starts_with("vnet")) {
            Some(t) => t,
            None => free_tap_name(made),
        };
        made.push(tap.clone());
        create_tap(&tap, creds)?;
        crate::macvtap::set_noqueue(&tap);
        let host_mac = host_side(net.mac).to_string();
        ip(&["link", "set", "dev", &tap, "address", &host_mac])?;
        ip(&["link", "set", "dev", &tap, "master", &br])?;
        ip(&["link", "set", "dev", &tap, "up"])?;
        *bridge = Some(br);
        net.target_dev = Some(tap);
    }
    Ok(())
}

/// After a daemon restart: the bridge and the tap of each network
/// interface, which the status read back has forgotten (libvirt keeps
/// them in the status's `<actual>`; a generated `vnet` name is not read
/// back); the live XML shows both again. The tap is found by its
/// host-side MAC.
pub fn restore_ports(def: &mut DomainDef) -> Result<()> {
    for net in def.devices.interfaces.iter_mut() {
        let NetSource::Network {
            network, bridge, ..
        } = &mut net.source
        else {
            continue;
        };
        if net.net_type != NetType::Network {
            continue;
        }
        if net.target_dev.is_none() {
            net.target_dev = tap_of(net.mac);
        }
        if bridge.is_none() {
            let drv = shared::network()
                .ok_or_else(|| rvirt::driver::network::unsupported("virNetworkLookupByName"))?;
            *bridge = Some(bridge_of(drv, network)?);
        }
    }
    Ok(())
}

/// The bridge of running network `name` (`networkAllocatePort`'s checks).
fn bridge_of(drv: &dyn NetworkDriver, name: &str) -> Result<String> {
    let net: NetworkRef = drv.lookup_by_name(name)?;
    if !drv.is_active(&net)? {
        return Err(Error::operation_invalid(
            ErrorDomain::NETWORK,
            format!("network '{name}' is not active"),
        ));
    }
    drv.get_bridge_name(&net)
}

/// libvirt's `vnet%d`: the first index no device (nor one of `taken`) has.
fn free_tap_name(taken: &[String]) -> String {
    (0..)
        .map(|i| format!("vnet{i}"))
        .find(|n| !taken.contains(n) && !std::path::Path::new("/sys/class/net").join(n).exists())
        .unwrap_or_default()
}

fn create_tap(name: &str, creds: Option<&Credentials>) -> Result<()> {
    let (uid, gid) = creds.map_or((None, None), |c| {
        (Some(c.uid.to_string()), Some(c.gid.to_string()))
    });
    let mut args = vec!["tuntap", "add", "dev", name, "mode", "tap"];
    if let (Some(u), Some(g)) = (&uid, &gid) {
        args.extend(["user", u, "group", g]);
    }
    ip(&args).map_err(|e| {
        Error::system(
            ErrorDomain::NONE,
            format!("Unable to create tap device {name}"),
            &std::io::Error::other(e.message),
        )
    })
}

fn delete_tap(name: &str) {
    let _ = ip(&["tuntap", "del", "dev", name, "mode", "tap"]);
}

/// Delete the taps `prepare` made for the network interfaces of the
/// stopped guest's live definition. A definition read back from the
/// status file (a restarted daemon) has forgotten the generated tap
/// names; the tap is then found by its host-side MAC.
pub fn release(def: &DomainDef) {
    let ours = def
        .devices
        .interfaces
        .iter()
        .filter(|net| net.net_type == NetType::Network);
    for net in ours {
        if let Some(tap) = net.target_dev.clone().or_else(|| tap_of(net.mac)) {
            delete_tap(&tap);
        }
    }
}

/// The guest MAC's host side (libvirt's: 0xFE first), so the bridge
/// never takes the guest's address.
fn host_side(mut mac: MacAddr) -> MacAddr {
    mac.0[0] = 0xfe;
    mac
}

/// The `vnet` tap whose address is `mac`'s host side.
fn tap_of(mac: MacAddr) -> Option<String> {
    let want = host_side(mac).to_string();
    let entries = std::fs::read_dir("/sys/class/net").ok()?;
    entries.flatten().find_map(|e| {
        let name = e.file_name().into_string().ok()?;
        let addr = std::fs::read_to_string(e.path().join("address")).ok()?;
        (name.starts_with("vnet") && addr.trim().eq_ignore_ascii_case(&want)).then_some(name)
    })
}

pub(crate) fn ip(args: &[&str]) -> Result<()> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::system(ErrorDomain::NONE, "Cannot run ip", &e))?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::internal(
        ErrorDomain::NONE,
        format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    ))
}
