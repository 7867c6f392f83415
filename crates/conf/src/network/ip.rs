//! A network's `<ip>` with its `<dhcp>` ranges, hosts and bootp, and
//! `<tftp>` (`virNetworkIPDefParseXML`, `virNetworkDHCPDefParseXML`,
//! `virNetworkIPDefFormat`), and `virSocketAddrGetRange`'s checks.

use super::{xml_err, xml_error};
use crate::domain::interface::sockaddr::{self, SockAddr};
use crate::domain::interface::MacAddr;
use crate::domain::props::{self, vir_enum, TriBool, VirEnum};
use crate::xml::{escape, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::net::IpAddr;

vir_enum! {
    /// `virNetworkDHCPLeaseTimeUnitType`.
    pub enum LeaseUnit { Seconds = "seconds", Minutes = "minutes", Hours = "hours" }
}

/// `<lease expiry= unit=>`: expiry 0 is "infinite".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    pub expiry: u64,
    pub unit: LeaseUnit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhcpRange {
    pub start: SockAddr,
    pub end: SockAddr,
    pub lease: Option<Lease>,
}

/// `virNetworkDHCPHostDef`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DhcpHost {
    pub mac: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub ip: Option<SockAddr>,
    pub lease: Option<Lease>,
}

/// `virNetworkIPDef`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkIp {
    pub family: Option<String>,
    pub address: SockAddr,
    pub netmask: Option<SockAddr>,
    pub prefix: u32,
    pub local_ptr: Option<TriBool>,
    pub tftp_root: Option<String>,
    pub ranges: Vec<DhcpRange>,
    pub hosts: Vec<DhcpHost>,
    pub bootp: Option<(String, Option<SockAddr>)>,
}

/// `virSocketAddrParse`'s own error (glibc's getaddrinfo text).
fn unparsable(s: &str) -> Error {
    Error::new(
        ErrorDomain::NONE,
        ErrorCode::SYSTEM_ERROR,
        format!("Cannot parse socket address '{s}': Name or service not known"),
    )
}

fn internal(msg: String) -> Error {
    Error::new(ErrorDomain::NONE, ErrorCode::INTERNAL_ERROR, msg)
}

fn mask_of(prefix: u32, v4: bool) -> u128 {
    let bits = if v4 { 32 } else { 128 };
    let ones = u128::MAX.checked_shl(128 - prefix.min(bits)).unwrap_or(0);
    if v4 {
        (ones >> 96) & 0xffff_ffff
    } else {
        ones
    }
}

fn num(a: &SockAddr) -> u128 {
    match a.ip {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

/// `virSocketAddrGetRange`: the range's sanity, within `network/prefix`
/// when given.
pub(super) fn check_range(
    start: SockAddr,
    end: SockAddr,
    network: Option<(SockAddr, i32)>,
) -> Result<u128> {
    let v4 = start.ip.is_ipv4();
    if v4 != end.ip.is_ipv4() {
        return Err(internal(format!(
            "mismatch of address family in range {start} - {end}"
        )));
    }
    if let Some((net, prefix)) = network {
        if v4 != net.ip.is_ipv4() {
            return Err(internal(format!(
                "mismatch of address family in range {start} - {end} for network {net}"
            )));
        }
        let max_prefix = if v4 { 32 } else { 128 };
        if !(0..=max_prefix).contains(&prefix) {
            return Err(internal(format!(
                "bad prefix {prefix} for network {net} when  checking range {start} - {end}"
            )));
        }
        let m = mask_of(prefix as u32, v4);
        if num(&start) & m != num(&net) & m || num(&end) & m != num(&net) & m {
            return Err(internal(format!(
                "range {start} - {end} is not entirely within network {net}/{prefix}"
            )));
        }
        if v4 {
            if num(&start) == num(&net) & m {
                return Err(internal(format!(
                    "start of range {start} - {end} in network {net}/{prefix} is the network address"
                )));
            }
            if num(&end) == (num(&net) & m) | (!m & 0xffff_ffff) {
                return Err(internal(format!(
                    "end of range {start} - {end} in network {net}/{prefix} is the broadcast address"
                )));
            }
        }
    }
    // libvirt's legacy rule: only the last 16 bits may differ.
    if num(&start) >> 16 != num(&end) >> 16 {
        return Err(internal(format!(
            "range {start} - {end} is too large (> 65535)"
        )));
    }
    if num(&end) < num(&start) {
        return Err(internal(format!("range {start} - {end} is reversed ")));
    }
    Ok(num(&end) - num(&start) + 1)
}

/// `virSocketAddrGetIPPrefix`.
pub fn ip_prefix(address: &SockAddr, netmask: Option<&SockAddr>, prefix: u32) -> i32 {
    if prefix > 0 {
        return prefix as i32;
    }
    if let Some(m) = netmask {
        let n = match m.ip {
            IpAddr::V4(v) => u128::from(u32::from(v)) << 96,
            IpAddr::V6(v) => u128::from(v),
        };
        let ones = n.leading_ones();
        return if n.checked_shl(ones).unwrap_or(0) == 0 {
            ones as i32
        } else {
            -1
        };
    }
    match address.ip {
        IpAddr::V4(v) => {
            let octet = v.octets()[0];
            match () {
                _ if u32::from(v) == 0 => 0,
                _ if octet & 0x80 == 0 => 8,
                _ if octet & 0xc0 == 0x80 => 16,
                _ if octet & 0xe0 == 0xc0 => 24,
                _ => -1,
            }
        }
        IpAddr::V6(v) if v.is_unspecified() => 0,
        IpAddr::V6(_) => 64,
    }
}

fn parse_lease(e: &Element) -> Result<Option<Lease>> {
    let Some(v) = e.attr("expiry") else {
        return Ok(None);
    };
    let expiry: u64 = v.parse().map_err(|_| {
        xml_err(
            ErrorCode::XML_ERROR,
            format!(
                "Invalid value for attribute 'expiry' in element 'lease': '{v}'. Expected integer value"
            ),
        )
    })?;
    let unit = props::enumeration::<LeaseUnit>(e, "unit", false)?.unwrap_or(LeaseUnit::Minutes);
    if expiry > 0
        && ((unit == LeaseUnit::Seconds && expiry < 120)
            || (unit == LeaseUnit::Minutes && expiry < 2))
    {
        return Err(xml_err(
            ErrorCode::CONFIG_UNSUPPORTED,
            "The minimum lease time should be greater than 2 minutes".into(),
        ));
    }
    Ok(Some(Lease { expiry, unit }))
}

fn first_lease(e: &Element) -> Result<Option<Lease>> {
    let mut lease = None;
    for l in e.children_named("lease") {
        if let Some(x) = parse_lease(l)? {
            lease = Some(x);
        }
    }
    Ok(lease)
}

impl NetworkIp {
    pub fn is_v4(&self) -> bool {
        self.address.ip.is_ipv4()
    }

    pub fn prefix(&self) -> i32 {
        ip_prefix(&self.address, self.netmask.as_ref(), self.prefix)
    }

    pub(super) fn parse(net: &str, e: &Element) -> Result<NetworkIp> {
        let family = e.attr_string("family");
        let Some(address) = e.attr("address") else {
            return Err(xml_error(format!(
                "Missing required address attribute in network '{net}'"
            )));
        };
        let addr = sockaddr::parse(address, None)
            .ok_or_else(|| xml_error(format!("Invalid address '{address}' in network '{net}'")))?;
        let netmask_text = e.attr("netmask");
        let netmask =
            match netmask_text {
                None => None,
                Some(m) => Some(sockaddr::parse(m, None).ok_or_else(|| {
                    xml_error(format!("Invalid netmask '{m}' in network '{net}'"))
                })?),
            };
        let prefix = props::uint(e, "prefix", false, false)?.unwrap_or(0);
        let local_ptr = props::tribool(e, "localPtr")?;
        let unsupported = |m: String| xml_err(ErrorCode::CONFIG_UNSUPPORTED, m);
        match family.as_deref() {
            None | Some("ipv4") => {
                if !addr.ip.is_ipv4() {
                    return Err(unsupported(format!(
                        "{} family specified for non-IPv4 address '{address}' in network '{net}'",
                        if family.is_none() { "no" } else { "ipv4" }
                    )));
                }
                if let (Some(text), Some(m)) = (netmask_text, &netmask) {
                    if !m.ip.is_ipv4() {
                        return Err(unsupported(format!(
                            "Invalid netmask '{text}' for address '{address}' in network '{net}' (both must be IPv4)"
                        )));
                    }
                    if prefix > 0 {
                        return Err(unsupported(format!(
                            "Network '{net}' IP address cannot have both a prefix and a netmask"
                        )));
                    }
                } else if prefix > 32 {
                    return Err(unsupported(format!(
                        "Invalid IPv4 prefix '{prefix}' in network '{net}'"
                    )));
                }
            }
            Some("ipv6") => {
                if !addr.ip.is_ipv6() {
                    return Err(unsupported(format!(
                        "Family 'ipv6' specified for non-IPv6 address '{address}' in network '{net}'"
                    )));
                }
                if netmask.is_some() {
                    return Err(unsupported(format!(
                        "netmask not allowed for IPv6 address '{address}' in network '{net}'"
                    )));
                }
                if prefix > 128 {
                    return Err(unsupported(format!(
                        "Invalid IPv6 prefix '{prefix}' in network '{net}'"
                    )));
                }
            }
            Some(f) => {
                return Err(xml_error(format!(
                    "Unrecognized family '{f}' in network '{net}'"
                )))
            }
        }
        let mut ip = NetworkIp {
            family,
            address: addr,
            netmask,
            prefix,
            local_ptr,
            tftp_root: None,
            ranges: Vec::new(),
            hosts: Vec::new(),
            bootp: None,
        };
        if let Some(dhcp) = e.child("dhcp") {
            ip.parse_dhcp(net, dhcp)?;
        }
        if let Some(tftp) = e.child("tftp") {
            if !ip.is_v4() {
                return Err(unsupported(format!(
                    "Unsupported <tftp> element in an IPv6 element in network '{net}'"
                )));
            }
            ip.tftp_root = tftp.attr_string("root");
        }
        Ok(ip)
    }

    fn parse_dhcp(&mut self, net: &str, dhcp: &Element) -> Result<()> {
        for c in dhcp.elements() {
            match c.name.as_str() {
                "range" => {
                    let range = self.parse_range(net, c)?;
                    self.ranges.push(range);
                }
                "host" => {
                    let host = self.parse_host(net, c, false)?;
                    self.hosts.push(host);
                }
                "bootp" if self.is_v4() => {
                    let Some(file) = c.attr("file") else { continue };
                    let server = match c.attr("server") {
                        None => None,
                        Some(s) => Some(sockaddr::parse(s, None).ok_or_else(|| unparsable(s))?),
                    };
                    self.bootp = Some((file.to_string(), server));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `virNetworkDHCPRangeDefParseXML`.
    pub(super) fn parse_range(&self, net: &str, c: &Element) -> Result<DhcpRange> {
        let get = |which: &str| -> Result<SockAddr> {
            let v = c.attr(which).ok_or_else(|| {
                xml_error(format!(
                    "Missing '{which}' attribute in dhcp range for network '{net}'"
                ))
            })?;
            sockaddr::parse(v, None).ok_or_else(|| unparsable(v))
        };
        let start = get("start")?;
        let end = get("end")?;
        check_range(start, end, Some((self.address, self.prefix())))?;
        Ok(DhcpRange {
            start,
            end,
            lease: first_lease(c)?,
        })
    }

    /// `virNetworkDHCPHostDefParseXML`; `partial`: one of mac, name or ip
    /// is enough (an update's search pattern).
    pub(super) fn parse_host(&self, net: &str, c: &Element, partial: bool) -> Result<DhcpHost> {
        let mac = c.attr("mac");
        if let Some(mac) = mac {
            if !self.is_v4() {
                return Err(xml_error(format!(
                    "Invalid to specify MAC address '{mac}' in network '{net}' IPv6 static host definition"
                )));
            }
            let parsed = MacAddr::parse(mac).ok_or_else(|| {
                xml_error(format!(
                    "Cannot parse MAC address '{mac}' in network '{net}'"
                ))
            })?;
            if parsed.is_multicast() {
                return Err(xml_error(format!(
                    "expected unicast mac address, found multicast '{mac}' in network '{net}'"
                )));
            }
        }
        let id = c.attr("id");
        if let Some(id) = id {
            if let Some(bad) = id
                .chars()
                .find(|ch| !(ch.is_ascii_hexdigit() || *ch == ':'))
            {
                return Err(xml_error(format!(
                    "Invalid character '{bad}' in id '{id}' of network '{net}'"
                )));
            }
        }
        let name = c.attr("name");
        if let Some(n) = name.filter(|n| !n.starts_with(|ch: char| ch.is_ascii_alphanumeric())) {
            return Err(xml_error(format!(
                "Cannot use host name '{n}' in network '{net}'"
            )));
        }
        let ip = match c.attr("ip") {
            None => None,
            Some(v) => Some(sockaddr::parse(v, None).ok_or_else(|| {
                xml_error(format!(
                    "Invalid IP address in static host definition for network '{net}'"
                ))
            })?),
        };
        if partial {
            if mac.is_none() && name.is_none() && ip.is_none() {
                return Err(xml_error(format!(
                    "At least one of name, mac, or ip attribute must be specified for static host definition in network '{net}' "
                )));
            }
        } else if !self.is_v4() {
            if id.is_none() && name.is_none() {
                return Err(xml_error(format!(
                    "Static host definition in IPv6 network '{net}' must have id or name attribute"
                )));
            }
        } else if mac.is_none() && name.is_none() {
            return Err(xml_error(format!(
                "Static host definition in IPv4 network '{net}' must have mac or name attribute"
            )));
        }
        if ip.is_none() && !partial {
            return Err(xml_error(format!(
                "Missing IP address in static host definition for network '{net}'"
            )));
        }
        Ok(DhcpHost {
            mac: mac.map(str::to_string),
            id: id.map(str::to_string),
            name: name.map(str::to_string),
            ip,
            lease: first_lease(c)?,
        })
    }

    pub(super) fn format(&self, w: &mut Writer) {
        let mut head = String::from("<ip");
        if let Some(f) = &self.family {
            head.push_str(&format!(" family='{f}'"));
        }
        head.push_str(&format!(" address='{}'", self.address));
        if let Some(m) = &self.netmask {
            head.push_str(&format!(" netmask='{m}'"));
        }
        if self.prefix > 0 {
            head.push_str(&format!(" prefix='{}'", self.prefix));
        }
        if let Some(p) = self.local_ptr {
            head.push_str(&format!(" localPtr='{}'", p.as_str()));
        }
        w.line(&format!("{head}>"));
        w.indent();
        if let Some(root) = &self.tftp_root {
            w.line(&format!("<tftp root='{}'/>", escape(root)));
        }
        if !self.ranges.is_empty() || !self.hosts.is_empty() {
            w.block("dhcp", "", |w| self.format_dhcp(w));
        }
        w.dedent();
        w.line("</ip>");
    }

    fn format_dhcp(&self, w: &mut Writer) {
        for r in &self.ranges {
            let head = format!("<range start='{}' end='{}'", r.start, r.end);
            with_lease(w, &head, "range", r.lease);
        }
        for h in &self.hosts {
            let mut head = String::from("<host");
            for (k, v) in [("mac", &h.mac), ("id", &h.id), ("name", &h.name)] {
                if let Some(v) = v {
                    head.push_str(&format!(" {k}='{v}'"));
                }
            }
            if let Some(ip) = &h.ip {
                head.push_str(&format!(" ip='{ip}'"));
            }
            with_lease(w, &head, "host", h.lease);
        }
        if let Some((file, server)) = &self.bootp {
            let server = server.map(|s| format!(" server='{s}'")).unwrap_or_default();
            w.line(&format!("<bootp file='{}'{server}/>", escape(file)));
        }
    }
}

fn with_lease(w: &mut Writer, head: &str, name: &str, lease: Option<Lease>) {
    let Some(l) = lease else {
        w.line(&format!("{head}/>"));
        return;
    };
    w.line(&format!("{head}>"));
    w.indent();
    if l.expiry == 0 {
        w.line("<lease expiry='0'/>");
    } else {
        w.line(&format!(
            "<lease expiry='{}' unit='{}'/>",
            l.expiry,
            l.unit.as_str()
        ));
    }
    w.dedent();
    w.line(&format!("</{name}>"));
}
