//! dnsmasq for a network: the config file libvirt 9.0 writes
//! (`networkDnsmasqConfContents`), its DHCP hosts file and additional
//! hosts file (src/util/virdnsmasq.c), and the daemon's start and stop.

use crate::paths::{write_atomic, Paths};
use rvirt_conf::domain::props::{TriBool, VirEnum};
use rvirt_conf::network::{ForwardMode, Lease, NetworkDef, NetworkIp};
use rvirt_util::object_files::ObjectFiles;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::fmt::Write as _;
use std::path::Path;

/// What dnsmasq is given for one network.
#[derive(Debug, PartialEq, Eq)]
pub struct DnsmasqFiles {
    pub conf: String,
    /// `dhcp-hostsfile`: one `dhcp-host` per line.
    pub hostsfile: String,
    /// `addn-hosts`: the `<dns><host>` names.
    pub addnhosts: String,
}

fn unsupported(msg: &str) -> Error {
    Error::new(ErrorDomain::NETWORK, ErrorCode::CONFIG_UNSUPPORTED, msg)
}

/// `networkBuildDnsmasqLeaseTime`.
fn lease_time(lease: Option<&Lease>) -> Option<String> {
    let lease = lease?;
    if lease.expiry == 0 {
        return Some("infinite".into());
    }
    let unit = lease.unit.as_str().chars().next().unwrap_or('s');
    Some(format!("{}{unit}", lease.expiry))
}

/// `virSocketAddrPrefixToNetmask` for IPv4.
fn netmask_v4(prefix: u32) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(u32::MAX.checked_shl(32 - prefix.min(32)).unwrap_or(0))
}

/// The config, hosts file and addn-hosts contents for `def`, dnsmasq
/// writing its pid to `pidfile` and using the files under `paths`.
pub fn conf_contents(
    def: &NetworkDef,
    pidfile: Option<&Path>,
    paths: &Paths,
) -> Result<DnsmasqFiles> {
    let mut c = String::new();
    let dns = &def.dns;
    let want_dns = dns.enable != Some(TriBool::No);
    let _ = write!(
        c,
        "##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n\
         ##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:\n\
         ##    virsh net-edit {}\n\
         ## or other application using the libvirt API.\n\
         ##\n## dnsmasq conf file created by libvirt\nstrict-order\n",
        def.name
    );
    if !want_dns {
        c.push_str("port=0\n");
    }
    if want_dns && !dns.forwarders.is_empty() {
        let mut no_resolv = false;
        for fwd in &dns.forwarders {
            c.push_str("server=");
            if let Some(d) = &fwd.domain {
                let _ = write!(c, "/{d}/");
            }
            match &fwd.addr {
                Some(a) => {
                    let _ = writeln!(c, "{a}");
                    no_resolv |= fwd.domain.is_none();
                }
                None => c.push_str("#\n"),
            }
        }
        if no_resolv {
            c.push_str("no-resolv\n");
        }
    }
    if let Some(domain) = &def.domain {
        if def.domain_local_only == Some(TriBool::Yes) {
            let _ = writeln!(c, "local=/{domain}/");
        }
        let _ = write!(c, "domain={domain}\nexpand-hosts\n");
    }
    if want_dns {
        local_ptrs(&mut c, def)?;
        if dns.forward_plain_names == Some(TriBool::No) {
            c.push_str("domain-needed\nlocal=//\n");
        }
    }
    if let Some(p) = pidfile {
        let _ = writeln!(c, "pid-file={}", p.display());
    }
    let bridge = def.bridge.as_deref().unwrap_or_default();
    let _ = write!(c, "except-interface=lo\nbind-dynamic\ninterface={bridge}\n");
    if def.forward.mode == ForwardMode::None {
        c.push_str("dhcp-option=3\nno-resolv\nra-param=*,0,0\n");
    }
    if want_dns {
        dns_records(&mut c, def)?;
    }
    let (v4, v6) = dhcp_ips(&mut c, def)?;
    let mut hosts = Vec::new();
    let mut leases = 0u128;
    for ip in [v4, v6].into_iter().flatten() {
        leases += dhcp_section(&mut c, ip, &mut hosts);
    }
    if leases > 0 {
        let _ = writeln!(c, "dhcp-lease-max={leases}");
    }
    if v4.is_some() || v6.is_some() {
        let path = paths.dnsmasq_file(&def.name, "hostsfile");
        let _ = writeln!(c, "dhcp-hostsfile={}", path.display());
    }
    if want_dns {
        let path = paths.dnsmasq_file(&def.name, "addnhosts");
        let _ = writeln!(c, "addn-hosts={}", path.display());
    }
    if def.mtu > 0 {
        let _ = writeln!(c, "dhcp-option=option:mtu,{}", def.mtu);
    }
    if v6.is_some() {
        c.push_str("enable-ra\n");
    } else {
        let slaac = def.ips.iter().filter(|ip| !ip.is_v4());
        for ip in slaac.filter(|ip| ip.ranges.is_empty() && ip.hosts.is_empty()) {
            let _ = writeln!(c, "dhcp-range={},ra-only", ip.address);
        }
    }
    Ok(DnsmasqFiles {
        conf: c,
        hostsfile: hosts.iter().map(|h| format!("{h}\n")).collect(),
        addnhosts: addn_hosts(def),
    })
}

/// `networkDnsmasqConfLocalPTRs`.
fn local_ptrs(c: &mut String, def: &NetworkDef) -> Result<()> {
    for ip in def
        .ips
        .iter()
        .filter(|ip| ip.local_ptr == Some(TriBool::Yes))
    {
        let prefix = ip.prefix().max(0) as u32;
        match ptr_domain(ip, prefix) {
            Some(ptr) => {
                let _ = writeln!(c, "local=/{ptr}/");
            }
            None => {
                let family = if ip.is_v4() { "IPv4" } else { "IPv6" };
                return Err(unsupported(&format!(
                    "PTR domain for {family} network with prefix {prefix} cannot be automatically created"
                )));
            }
        }
    }
    Ok(())
}

/// `virSocketAddrPTRDomain`: whole octets (IPv4) or nibbles (IPv6) only.
fn ptr_domain(ip: &NetworkIp, prefix: u32) -> Option<String> {
    match ip.address.ip {
        std::net::IpAddr::V4(a) if prefix.is_multiple_of(8) => {
            let octets = a.octets();
            let mut parts: Vec<String> = octets[..(prefix / 8) as usize]
                .iter()
                .map(u8::to_string)
                .collect();
            parts.reverse();
            parts.push("in-addr.arpa".into());
            Some(parts.join("."))
        }
        std::net::IpAddr::V6(a) if prefix.is_multiple_of(4) => {
            let nibbles: Vec<String> = a
                .octets()
                .iter()
                .flat_map(|b| [b >> 4, b & 0xf])
                .take((prefix / 4) as usize)
                .map(|n| format!("{n:x}"))
                .collect();
            let mut parts: Vec<String> = nibbles.into_iter().rev().collect();
            parts.push("ip6.arpa".into());
            Some(parts.join("."))
        }
        _ => None,
    }
}

/// TXT and SRV records.
fn dns_records(c: &mut String, def: &NetworkDef) -> Result<()> {
    for t in &def.dns.txts {
        let _ = writeln!(c, "txt-record={},{}", t.name, t.value);
    }
    for s in &def.dns.srvs {
        let (Some(service), Some(protocol)) = (&s.service, &s.protocol) else {
            return Err(Error::internal(
                ErrorDomain::NETWORK,
                format!(
                    "Missing required 'service' attribute in SRV record of network '{}'",
                    def.name
                ),
            ));
        };
        let _ = write!(c, "srv-host=_{service}._{protocol}");
        if let Some(d) = &s.domain {
            let _ = write!(c, ".{d}");
        }
        if let Some(target) = s.target.as_deref().filter(|t| *t != ".") {
            let _ = write!(c, ",{target}");
            if s.port != 0 || s.priority != 0 || s.weight != 0 {
                let _ = write!(c, ",{}", if s.port != 0 { s.port } else { 1 });
            }
            if s.priority != 0 || s.weight != 0 {
                let _ = write!(c, ",{}", s.priority);
            }
            if s.weight != 0 {
                let _ = write!(c, ",{}", s.weight);
            }
        }
        c.push('\n');
    }
    Ok(())
}

/// The one IPv4 and one IPv6 `<ip>` that serve DHCP, and TFTP lines.
fn dhcp_ips<'a>(
    c: &mut String,
    def: &'a NetworkDef,
) -> Result<(Option<&'a NetworkIp>, Option<&'a NetworkIp>)> {
    let (mut v4, mut v6) = (None, None);
    let mut tftp = false;
    for ip in &def.ips {
        let dhcp = !(ip.ranges.is_empty() && ip.hosts.is_empty());
        if ip.is_v4() {
            if dhcp && v4.replace(ip).is_some() {
                return Err(unsupported(
                    "For IPv4, multiple DHCP definitions cannot be specified.",
                ));
            }
            if let Some(root) = &ip.tftp_root {
                if !tftp {
                    c.push_str("enable-tftp\n");
                    tftp = true;
                }
                let _ = writeln!(c, "tftp-root={root}");
            }
        } else if dhcp && v6.replace(ip).is_some() {
            return Err(unsupported(
                "For IPv6, multiple DHCP definitions cannot be specified.",
            ));
        }
    }
    Ok((v4, v6))
}

/// `networkDnsmasqConfDHCP`: the ranges (their size counted), the hosts
/// file lines and the IPv4 options.
fn dhcp_section(c: &mut String, ip: &NetworkIp, hosts: &mut Vec<String>) -> u128 {
    let prefix = ip.prefix().max(0) as u32;
    let mut leases = 0;
    for r in &ip.ranges {
        if ip.is_v4() {
            let _ = write!(c, "dhcp-range={},{},{}", r.start, r.end, netmask_v4(prefix));
        } else {
            let _ = write!(c, "dhcp-range={},{},{prefix}", r.start, r.end);
        }
        if let Some(t) = lease_time(r.lease.as_ref()) {
            let _ = write!(c, ",{t}");
        }
        c.push('\n');
        let num = |a: &rvirt_conf::domain::interface::SockAddr| match a.ip {
            std::net::IpAddr::V4(v) => u128::from(u32::from(v)),
            std::net::IpAddr::V6(v) => u128::from(v),
        };
        leases += num(&r.end).saturating_sub(num(&r.start)) + 1;
    }
    if ip.ranges.is_empty() && !ip.hosts.is_empty() {
        let _ = write!(c, "dhcp-range={},static", ip.address);
        if !ip.is_v4() {
            let _ = write!(c, ",{prefix}");
        }
        c.push('\n');
    }
    for h in &ip.hosts {
        if let Some(addr) = &h.ip {
            hosts.push(host_line(h, &addr.to_string(), !ip.is_v4()));
        }
    }
    if ip.is_v4() {
        if !(ip.ranges.is_empty() && ip.hosts.is_empty()) {
            c.push_str("dhcp-no-override\ndhcp-authoritative\n");
        }
        match &ip.bootp {
            Some((file, Some(server))) => {
                let _ = writeln!(c, "dhcp-boot={file},,{server}");
            }
            Some((file, None)) => {
                let _ = writeln!(c, "dhcp-boot={file}");
            }
            None => {}
        }
    }
    leases
}

/// `hostsfileAdd`: one `dhcp-host` line.
fn host_line(h: &rvirt_conf::network::DhcpHost, ip: &str, ipv6: bool) -> String {
    let (name, mac, id) = (h.name.as_deref(), h.mac.as_deref(), h.id.as_deref());
    let mut line = if ipv6 {
        let head = match (name, id) {
            (Some(n), Some(i)) => format!("id:{i},{n}"),
            (Some(n), None) => n.to_string(),
            (None, Some(i)) => format!("id:{i}"),
            (None, None) => String::new(),
        };
        format!("{head},[{ip}]")
    } else {
        match (name, mac) {
            (Some(n), Some(m)) => format!("{m},{ip},{n}"),
            (Some(n), None) => format!("{n},{ip}"),
            (None, m) => format!("{},{ip}", m.unwrap_or("(null)")),
        }
    };
    if let Some(t) = lease_time(h.lease.as_ref()) {
        let _ = write!(line, ",{t}");
    }
    line
}

/// `addnhostsAdd`/`addnhostsWrite`: names grouped under their address,
/// each followed by a tab.
fn addn_hosts(def: &NetworkDef) -> String {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for h in &def.dns.hosts {
        let ip = h.ip.to_string();
        let at = match groups.iter().position(|(g, _)| *g == ip) {
            Some(i) => i,
            None => {
                groups.push((ip, Vec::new()));
                groups.len() - 1
            }
        };
        groups[at].1.extend(h.names.iter().map(String::as_str));
    }
    let mut out = String::new();
    for (ip, names) in groups {
        let _ = write!(out, "{ip}\t");
        for n in names {
            let _ = write!(out, "{n}\t");
        }
        out.push('\n');
    }
    out
}

/// Whether the network needs dnsmasq (`networkStartDhcpDaemon`): some
/// address, and DHCP/TFTP on one of them or DNS left on.
pub fn needed(def: &NetworkDef) -> bool {
    let service = def
        .ips
        .iter()
        .any(|ip| !ip.ranges.is_empty() || !ip.hosts.is_empty() || ip.tftp_root.is_some());
    !def.ips.is_empty() && (service || def.dns.enable != Some(TriBool::No))
}

/// Write the files and start dnsmasq (it daemonizes once its pid file is
/// written); its pid.
pub fn start(def: &NetworkDef, paths: &Paths) -> Result<i32> {
    let pidfile = paths.pid_file(&def.name);
    let files = conf_contents(def, Some(&pidfile), paths)?;
    // The hosts files are reread as dnsmasq's own user on SIGHUP
    // (libvirt writes them with fopen's default mode too).
    let write = |ext: &str, text: &str| {
        let path = paths.dnsmasq_file(&def.name, ext);
        let mode = if ext == "conf" { 0o600 } else { 0o644 };
        write_atomic(&path, text, mode).map_err(|e| {
            Error::system(
                ErrorDomain::NETWORK,
                format!("couldn't write dnsmasq config file '{}'", path.display()),
                &e,
            )
        })
    };
    write("conf", &files.conf)?;
    write("hostsfile", &files.hostsfile)?;
    write("addnhosts", &files.addnhosts)?;
    let _ = std::fs::remove_file(&pidfile);
    let leases = paths.dnsmasq_file(&def.name, "leases");
    let out = std::process::Command::new("dnsmasq")
        .arg(format!(
            "--conf-file={}",
            paths.dnsmasq_file(&def.name, "conf").display()
        ))
        .arg(format!("--dhcp-leasefile={}", leases.display()))
        .env("VIR_BRIDGE_NAME", def.bridge.as_deref().unwrap_or_default())
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| Error::system(ErrorDomain::NETWORK, "Cannot run dnsmasq", &e))?;
    if !out.status.success() {
        return Err(Error::internal(
            ErrorDomain::NONE,
            format!(
                "Child process (dnsmasq --conf-file={}) unexpected exit status {}: {}",
                paths.dnsmasq_file(&def.name, "conf").display(),
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    read_pid(&pidfile).ok_or_else(|| {
        Error::internal(
            ErrorDomain::NETWORK,
            format!("cannot read pid file '{}'", pidfile.display()),
        )
    })
}

pub fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// `networkShutdownNetworkVirtual`'s end of dnsmasq: SIGTERM, then
/// SIGKILL if it is still there; the pid file goes.
pub fn stop(pid: i32, paths: &Paths, name: &str) {
    // SAFETY: kill has no memory preconditions; pid is dnsmasq's, read
    // from the pid file this driver had it write.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
        for _ in 0..50 {
            if libc::kill(pid, 0) != 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        if libc::kill(pid, 0) == 0 {
            libc::kill(pid, libc::SIGKILL);
        }
    }
    let _ = std::fs::remove_file(paths.pid_file(name));
}

#[cfg(test)]
#[path = "dnsmasq_tests.rs"]
mod tests;
