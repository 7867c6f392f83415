//! The network's Linux bridge and its addresses, through `ip` (iproute2)
//! and the per-network-namespace sysctls under /proc/sys/net, as
//! libvirt's virNetDevBridge* / virNetDevIPAddrAdd / networkSetIPv6Sysctls
//! do it over netlink and sysfs.

use rvirt_conf::network::{NetworkDef, NetworkIp};
use rvirt_util::{Error, ErrorDomain, Result};
use std::process::{Command, Stdio};

/// `ip ARGS`, its stderr in the error.
pub fn ip(args: &[&str]) -> Result<String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::system(ErrorDomain::NONE, "Cannot run ip", &e))?;
    if !out.status.success() {
        return Err(Error::internal(
            ErrorDomain::NONE,
            format!(
                "Child process (ip {}) unexpected exit status {}: {}",
                args.join(" "),
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `virNetDevExists`.
pub fn exists(dev: &str) -> bool {
    std::path::Path::new("/sys/class/net").join(dev).exists()
        || ip(&["link", "show", "dev", dev]).is_ok()
}

/// `virNetDevBridgeCreate` with its MAC.
pub fn create(def: &NetworkDef, name: &str) -> Result<()> {
    let mut args = vec!["link", "add", name];
    let mac = def.mac.map(|m| m.to_string());
    if let Some(m) = &mac {
        args.extend(["address", m]);
    }
    args.extend(["type", "bridge"]);
    ip(&args)
        .map_err(|e| {
            Error::system(
                ErrorDomain::NONE,
                format!("error creating bridge interface {name}"),
                &std::io::Error::other(e.message),
            )
        })
        .map(drop)
}

/// MTU, STP delay and STP of the new bridge.
pub fn configure(def: &NetworkDef, name: &str) -> Result<()> {
    if def.mtu > 0 {
        ip(&["link", "set", "dev", name, "mtu", &def.mtu.to_string()])?;
    }
    // forward_delay is in centiseconds; set before STP, as libvirt does
    // (the kernel bounds it only while STP is on).
    let delay = (def.delay * 100).to_string();
    ip(&[
        "link",
        "set",
        "dev",
        name,
        "type",
        "bridge",
        "forward_delay",
        &delay,
    ])?;
    let stp = if def.stp { "1" } else { "0" };
    ip(&[
        "link",
        "set",
        "dev",
        name,
        "type",
        "bridge",
        "stp_state",
        stp,
    ])?;
    Ok(())
}

/// `networkSetIPv6Sysctls`.
pub fn set_ipv6_sysctls(def: &NetworkDef, name: &str) -> Result<()> {
    let enable = def.ips.iter().any(|ip| !ip.is_v4());
    let field = |f: &str| format!("/proc/sys/net/ipv6/conf/{name}/{f}");
    let write = |f: &str, v: &str| {
        std::fs::write(field(f), v).map_err(|e| {
            Error::system(
                ErrorDomain::NETWORK,
                format!("cannot write to '{}' on bridge '{name}'", field(f)),
                &e,
            )
        })
    };
    if !std::path::Path::new(&field("disable_ipv6")).exists() {
        return Ok(());
    }
    write("disable_ipv6", if enable { "0" } else { "1" })?;
    write("accept_ra", "0")?;
    write("autoconf", "0")
}

/// `networkAddAddrToBridge`.
pub fn add_address(name: &str, addr: &NetworkIp) -> Result<()> {
    let prefix = addr.prefix();
    if prefix < 0 {
        return Err(Error::internal(
            ErrorDomain::NETWORK,
            format!("bridge '{name}' has an invalid netmask or IP address"),
        ));
    }
    let cidr = format!("{}/{prefix}", addr.address);
    let mut args = vec!["addr", "add", &cidr];
    if addr.is_v4() {
        args.extend(["broadcast", "+"]);
    }
    args.extend(["dev", name]);
    ip(&args).map(drop)
}

/// `networkAddRouteToBridge`: errors only logged, as libvirt does.
pub fn add_routes(def: &NetworkDef, name: &str) {
    for r in &def.routes {
        let bits = r.netmask.map(|m| u32::from(m).count_ones());
        let full = if r.address.ip.is_ipv4() { 32 } else { 128 };
        let dest = format!("{}/{}", r.address, r.prefix.or(bits).unwrap_or(full));
        let metric = r.metric.map_or(1, |m| m.get()).to_string();
        let gw = r.gateway.to_string();
        let args = [
            "route", "add", &dest, "via", &gw, "dev", name, "metric", &metric,
        ];
        if let Err(e) = ip(&args) {
            tracing::warn!("network '{}': {}", def.name, e.message);
        }
    }
}

pub fn set_online(name: &str, up: bool) -> Result<()> {
    ip(&["link", "set", "dev", name, if up { "up" } else { "down" }]).map(drop)
}

/// `virNetDevBridgeDelete`.
pub fn delete(name: &str) -> Result<()> {
    ip(&["link", "del", "dev", name]).map(drop)
}

/// `networkCheckRouteCollision`: an IPv4 network of `def` that a route of
/// the host already covers.
pub fn check_route_collision(def: &NetworkDef) -> Result<()> {
    let Ok(table) = std::fs::read_to_string("/proc/net/route") else {
        return Ok(());
    };
    if !table.starts_with("Iface") {
        return Ok(());
    }
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            continue;
        }
        let hex = |s: &str| u32::from_str_radix(s, 16).ok();
        let (Some(dest), Some(mask)) = (hex(f[1]), hex(f[7])) else {
            continue;
        };
        // /proc/net/route is in network byte order, read as host order.
        let (dest, mask) = (u32::from_be(dest.to_le()), u32::from_be(mask.to_le()));
        for ip in def.ips.iter().filter(|ip| ip.is_v4()) {
            let std::net::IpAddr::V4(a) = ip.address.ip else {
                continue;
            };
            let prefix = ip.prefix().clamp(0, 32) as u32;
            let m = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            if u32::from(a) & m == dest & mask && m == mask {
                return Err(Error::internal(
                    ErrorDomain::NETWORK,
                    format!("Network is already in use by interface {}", f[0]),
                ));
            }
        }
    }
    Ok(())
}
