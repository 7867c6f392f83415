//! `<ip>` and `<route>` of an interface: the guest side's (children of
//! `<interface>`) and the host side's (children of `<source>`, ethernet
//! only) — `virDomainNetIPInfoParseXML` / `virDomainNetIPInfoFormat` and
//! `virNetDevIPRouteParseXML` / `virNetDevIPRouteFormat`.

use super::super::props::{self, vir_enum, VirEnum};
use super::super::{internal_xml, unsupported};
use super::sockaddr::{self, Family, SockAddr};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;

vir_enum! {
    /// A route's `family=`, as libvirt accepts it.
    pub enum RouteFamily { Ipv4 = "ipv4", Ipv6 = "ipv6" }
}

/// `virNetDevIPAddr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetIp {
    pub address: SockAddr,
    /// 0 is libvirt's "none" (not written).
    pub prefix: u32,
    pub peer: Option<SockAddr>,
}

/// `virNetDevIPRoute`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub family: Option<RouteFamily>,
    pub address: SockAddr,
    pub netmask: Option<Ipv4Addr>,
    pub prefix: Option<u32>,
    pub gateway: SockAddr,
    pub metric: Option<NonZeroU32>,
}

/// `virNetDevIPInfo`: addresses, then routes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpInfo {
    pub ips: Vec<NetIp>,
    pub routes: Vec<Route>,
}

/// `virSocketAddrParse` restricted to a route family.
fn parse_addr(s: &str, family: Option<RouteFamily>) -> Option<SockAddr> {
    let family = family.map(|f| match f {
        RouteFamily::Ipv4 => Family::V4,
        RouteFamily::Ipv6 => Family::V6,
    });
    sockaddr::parse(s, family)
}

fn family_of(a: &SockAddr) -> RouteFamily {
    match a.ip {
        IpAddr::V4(_) => RouteFamily::Ipv4,
        IpAddr::V6(_) => RouteFamily::Ipv6,
    }
}

/// `virStrToLong_ui` (base 10): `-N` wraps as C's unsigned negation.
fn strtoul_ui(v: &str) -> Option<u32> {
    let s = v.trim_start();
    if s.starts_with(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '-']) {
        let n: i128 = s.parse().ok()?;
        return match n {
            0..=0xffff_ffff => Some(n as u32),
            -0xffff_ffff..=-1 => Some(n as u32),
            _ => None,
        };
    }
    None
}

impl NetIp {
    /// `virDomainNetIPParseXML`.
    fn parse(e: &Element) -> Result<NetIp> {
        let Some(address) = e.attr("address") else {
            return Err(internal_xml("Missing required address in <ip>"));
        };
        let family = match e.attr("family") {
            Some("ipv4") => Some(RouteFamily::Ipv4),
            Some("ipv6") => Some(RouteFamily::Ipv6),
            _ => parse_addr(address, None).as_ref().map(family_of),
        };
        let addr = parse_addr(address, family)
            .ok_or_else(|| internal_xml(format!("Invalid address '{address}' in <ip>")))?;
        let mut prefix = 0;
        if let Some(p) = e.attr("prefix") {
            let max = match family_of(&addr) {
                RouteFamily::Ipv4 => 32,
                RouteFamily::Ipv6 => 128,
            };
            prefix = strtoul_ui(p)
                .filter(|n| *n <= max)
                .ok_or_else(|| internal_xml(format!("Invalid prefix value '{p}' in <ip>")))?;
        }
        let peer = e
            .attr("peer")
            .map(|p| {
                parse_addr(p, family).ok_or_else(|| {
                    Error::new(
                        ErrorDomain::DOMAIN,
                        ErrorCode::INVALID_ARG,
                        format!("Invalid peer '{p}' in <ip>"),
                    )
                })
            })
            .transpose()?;
        Ok(NetIp {
            address: addr,
            prefix,
            peer,
        })
    }

    fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("address", self.address)
            .add("family", family_of(&self.address).as_str());
        a.opt("prefix", (self.prefix != 0).then_some(self.prefix));
        a.opt("peer", self.peer);
        w.line(&format!("<ip{}/>", a.as_str()));
    }
}

/// The route code reports from the network domain, naming its context.
fn route_error(detail: &str, msg: String) -> Error {
    Error::new(
        ErrorDomain::NETWORK,
        ErrorCode::XML_ERROR,
        format!("{detail}: {msg}"),
    )
}

/// `virSocketAddrMaskByPrefix` / `virSocketAddrMask` of `a` (the scope
/// plays no part, as in `virSocketAddrEqual`).
fn masked(a: IpAddr, prefix: u32, netmask: Option<Ipv4Addr>) -> IpAddr {
    match (a, netmask) {
        (IpAddr::V4(v4), Some(m)) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & u32::from(m))),
        (IpAddr::V4(v4), None) => {
            let mask = 32u32
                .checked_sub(prefix)
                .and_then(|bits| u32::MAX.checked_shl(bits))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        (IpAddr::V6(v6), _) => {
            let mask = 128u32
                .checked_sub(prefix)
                .and_then(|bits| u128::MAX.checked_shl(bits))
                .unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
    }
}

impl Route {
    /// `virNetDevIPRouteParseXML` + `virNetDevIPRouteCreate`.
    pub(crate) fn parse(e: &Element, detail: &str) -> Result<Route> {
        let prefix = props::uint(e, "prefix", false, false)?;
        let metric = props::uint(e, "metric", false, true)?.and_then(NonZeroU32::new);
        let err = |msg: String| route_error(detail, msg);
        let Some(address) = e.attr("address") else {
            return Err(err(
                "Missing required address attribute in route definition".into(),
            ));
        };
        let Some(gateway) = e.attr("gateway") else {
            return Err(err(
                "Missing required gateway attribute in route definition".into(),
            ));
        };
        let addr = parse_addr(address, None).ok_or_else(|| {
            err(format!(
                "Bad network address '{address}' in route definition"
            ))
        })?;
        let gw = parse_addr(gateway, None).ok_or_else(|| {
            err(format!(
                "Bad gateway address '{gateway}' in route definition"
            ))
        })?;
        let family = match e.attr("family") {
            None => None,
            Some(f) => Some(
                RouteFamily::from_str_opt(f)
                    .ok_or_else(|| err(format!("Unrecognized family '{f}' in route definition")))?,
            ),
        };
        let netmask = match family {
            None | Some(RouteFamily::Ipv4) => {
                Self::check_v4(e, &err, family.is_some(), (address, addr, gw), prefix)?
            }
            Some(RouteFamily::Ipv6) => {
                Self::check_v6(e, &err, (address, addr, gateway, gw), prefix)?;
                None
            }
        };
        if masked(addr.ip, prefix.unwrap_or(0), netmask) != addr.ip {
            return Err(err(format!(
                "Address '{address}' in route definition is not a network address"
            )));
        }
        Ok(Route {
            family,
            address: addr,
            netmask,
            prefix,
            gateway: gw,
            metric,
        })
    }

    /// The IPv4 (or unspecified family) rules; the netmask if any.
    fn check_v4(
        e: &Element,
        err: &dyn Fn(String) -> Error,
        explicit: bool,
        (address, addr, gw): (&str, SockAddr, SockAddr),
        prefix: Option<u32>,
    ) -> Result<Option<Ipv4Addr>> {
        let which = if explicit {
            "IPv4 family specified"
        } else {
            "No family specified"
        };
        if !addr.ip.is_ipv4() {
            return Err(err(format!(
                "{which} for non-IPv4 address '{address}' in route definition"
            )));
        }
        if !gw.ip.is_ipv4() {
            // libvirt names the address here, not the gateway.
            return Err(err(format!(
                "{which} for non-IPv4 gateway '{address}' in route definition"
            )));
        }
        let mut netmask = None;
        if let Some(m) = e.attr("netmask") {
            let parsed = parse_addr(m, None)
                .ok_or_else(|| err(format!("Bad netmask address '{m}' in route definition")))?;
            let IpAddr::V4(v4) = parsed.ip else {
                return Err(err(format!(
                    "Invalid netmask '{m}' for address '{address}' (both must be IPv4)"
                )));
            };
            if prefix.is_some() {
                return Err(err(
                    "Route definition cannot have both a prefix and a netmask".into(),
                ));
            }
            netmask = Some(v4);
        }
        if let Some(p) = prefix.filter(|p| *p > 32) {
            return Err(err(format!(
                "Invalid prefix {p} specified in route definition, must be 0 - 32"
            )));
        }
        Ok(netmask)
    }

    fn check_v6(
        e: &Element,
        err: &dyn Fn(String) -> Error,
        (address, addr, gateway, gw): (&str, SockAddr, &str, SockAddr),
        prefix: Option<u32>,
    ) -> Result<()> {
        if !addr.ip.is_ipv6() {
            return Err(err(format!(
                "ipv6 family specified for non-IPv6 address '{address}' in route definition"
            )));
        }
        if e.attr("netmask").is_some() {
            return Err(err(format!(
                "Specifying netmask invalid for IPv6 address '{address}' in route definition"
            )));
        }
        if !gw.ip.is_ipv6() {
            return Err(err(format!(
                "ipv6 specified for non-IPv6 gateway address '{gateway}' in route definition"
            )));
        }
        if let Some(p) = prefix.filter(|p| *p > 128) {
            return Err(err(format!(
                "Invalid prefix {p} specified in route definition, must be 0 - 128"
            )));
        }
        Ok(())
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.opt("family", self.family.map(VirEnum::as_str));
        a.add("address", self.address);
        a.opt("netmask", self.netmask);
        a.opt("prefix", self.prefix);
        a.add("gateway", self.gateway);
        a.opt("metric", self.metric);
        w.line(&format!("<route{}/>", a.as_str()));
    }
}

impl IpInfo {
    /// The `<ip>` and `<route>` children of `e`; `detail` names the
    /// context in route errors.
    pub(crate) fn parse(e: &Element, detail: &str) -> Result<IpInfo> {
        Ok(IpInfo {
            ips: e
                .children_named("ip")
                .map(NetIp::parse)
                .collect::<Result<_>>()?,
            routes: e
                .children_named("route")
                .map(|r| Route::parse(r, detail))
                .collect::<Result<_>>()?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.ips.is_empty() && self.routes.is_empty()
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        for ip in &self.ips {
            ip.format(w);
        }
        for r in &self.routes {
            r.format(w);
        }
    }
}

/// `virDomainNetDefValidate`: host-side addresses are for ethernet only.
pub(super) fn check_host_side(host: &IpInfo, net_type: &str) -> Result<()> {
    if host.is_empty() || net_type == "ethernet" {
        return Ok(());
    }
    Err(unsupported(format!(
        "Invalid attempt to set network interface host-side IP route and/or address info on interface of type '{net_type}'. This is only supported on interfaces of type 'ethernet'"
    )))
}

#[cfg(test)]
mod tests {
    use super::super::super::test_support::{assert_errors, dump_devices};

    const MAC: &str = "<mac address='52:54:00:00:00:01'/>";

    fn eth(source: &str, guest: &str) -> String {
        format!("<interface type='ethernet'>{MAC}<source>{source}</source>{guest}</interface>")
    }

    /// As stock virsh writes them back: family added, prefix 0 dropped,
    /// host-side addresses inside `<source>`.
    #[test]
    fn formatted_as_virsh() {
        let out = dump_devices(&eth(
            "<ip address='192.168.122.12' prefix='24'/><route family='ipv4' address='192.168.122.0' prefix='24' gateway='192.168.122.1'/><route family='ipv6' address='2001:db8:0:0::' prefix='64' gateway='2001:db8::1' metric='3'/>",
            "<ip address='10.1' prefix='0' peer='10.0.0.2'/><ip family='ipv6' address='FE80::1' prefix='64'/><route address='0.0.0.0' netmask='0.0.0.0' gateway='10.0.0.254'/>",
        ))
        .unwrap();
        let want = "\
      <source>
        <ip address='192.168.122.12' family='ipv4' prefix='24'/>
        <route family='ipv4' address='192.168.122.0' prefix='24' gateway='192.168.122.1'/>
        <route family='ipv6' address='2001:db8::' prefix='64' gateway='2001:db8::1' metric='3'/>
      </source>
      <ip address='10.0.0.1' family='ipv4' peer='10.0.0.2'/>
      <ip address='fe80::1' family='ipv6' prefix='64'/>
      <route address='0.0.0.0' netmask='0.0.0.0' gateway='10.0.0.254'/>";
        assert!(out.contains(want), "{out}");
    }

    /// libvirt's refusals, texts from stock virsh.
    #[test]
    fn refused_as_virsh() {
        let cases = [
            (eth("", "<ip prefix='1'/>"), "XML error: Missing required address in <ip>"),
            (eth("", "<ip address='1.2.3.4' family='ipv6'/>"), "XML error: Invalid address '1.2.3.4' in <ip>"),
            (eth("", "<ip address='1.2.3.4' prefix='33'/>"), "XML error: Invalid prefix value '33' in <ip>"),
            (eth("", "<ip address='1.2.3.4' prefix='-9223372036854775808'/>"),
             "XML error: Invalid prefix value '-9223372036854775808' in <ip>"),
            (eth("", "<ip address='1.2.3.4' peer='::1'/>"), "invalid argument: Invalid peer '::1' in <ip>"),
            (eth("<route address='1.2.3.0' gateway='1.2.3.1'/>", ""),
             "XML error: interface host IP: Address '1.2.3.0' in route definition is not a network address"),
            (eth("", "<route address='0.0.0.0'/>"),
             "XML error: guest interface: Missing required gateway attribute in route definition"),
            (eth("", "<route address='::' gateway='::1'/>"),
             "XML error: guest interface: No family specified for non-IPv4 address '::' in route definition"),
            (eth("", "<route family='ipv4' address='0.0.0.0' gateway='::1'/>"),
             "XML error: guest interface: IPv4 family specified for non-IPv4 gateway '0.0.0.0' in route definition"),
            (eth("", "<route family='ip' address='0.0.0.0' gateway='1.1.1.1'/>"),
             "XML error: guest interface: Unrecognized family 'ip' in route definition"),
            (eth("", "<route address='0.0.0.0' netmask='0.0.0.0' prefix='0' gateway='1.1.1.1'/>"),
             "XML error: guest interface: Route definition cannot have both a prefix and a netmask"),
            (eth("", "<route family='ipv6' address='::' prefix='129' gateway='::1'/>"),
             "XML error: guest interface: Invalid prefix 129 specified in route definition, must be 0 - 128"),
            (eth("", "<route address='0.0.0.0' gateway='1.1.1.1' metric='0'/>"),
             "XML error: Invalid value for attribute 'metric' in element 'route': Zero is not permitted"),
            (format!("<interface type='user'>{MAC}<source><ip address='1.2.3.4'/></source></interface>"),
             "unsupported configuration: Invalid attempt to set network interface host-side IP route and/or address info on interface of type 'user'. This is only supported on interfaces of type 'ethernet'"),
        ];
        let cases: Vec<(&str, &str)> = cases.iter().map(|(d, m)| (d.as_str(), *m)).collect();
        assert_errors(dump_devices, &cases);
    }
}
