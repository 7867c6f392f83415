//! `<forward>` of a network (`virNetworkForwardDefParseXML`,
//! `virNetworkForwardNatDefParseXML` and their formatting in
//! src/conf/network_conf.c).

use super::{xml_err, xml_error};
use crate::domain::address::Address;
use crate::domain::interface::sockaddr::{self, Family, SockAddr};
use crate::domain::props::{self, vir_enum, TriBool, VirEnum};
use crate::xml::{Element, Writer};
use rvirt_util::{ErrorCode, Result};

vir_enum! {
    /// `virNetworkForwardType`; `None` (0) is a network without `<forward>`.
    pub enum ForwardMode {
        None = "none", Nat = "nat", Route = "route", Open = "open", Bridge = "bridge",
        Private = "private", Vepa = "vepa", Passthrough = "passthrough", Hostdev = "hostdev",
    }

    /// `virNetworkForwardDriverNameType`, "default" (0) included.
    pub enum ForwardDriver { Default = "default", Kvm = "kvm", Vfio = "vfio", Xen = "xen" }
}

impl ForwardMode {
    /// The modes whose network has a libvirt-managed bridge with an IP.
    pub fn has_bridge(self) -> bool {
        matches!(
            self,
            ForwardMode::None | ForwardMode::Nat | ForwardMode::Route | ForwardMode::Open
        )
    }
}

/// One `<interface>` (or `dev=`) or PCI `<address>` of a forward pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ForwardIf {
    Netdev { dev: String, connections: i32 },
    Pci(Address),
}

/// `virNetworkForwardDef`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forward {
    pub mode: ForwardMode,
    pub managed: bool,
    pub driver: ForwardDriver,
    pub ifs: Vec<ForwardIf>,
    /// At most one `<pf dev=>`.
    pub pf: Option<String>,
    /// `<nat><address start= end=>` (IPv4).
    pub nat_addr: Option<(SockAddr, SockAddr)>,
    /// `<nat><port start= end=>`.
    pub nat_port: (u32, u32),
    pub nat_ipv6: Option<TriBool>,
}

impl Default for Forward {
    fn default() -> Forward {
        Forward {
            mode: ForwardMode::None,
            managed: false,
            driver: ForwardDriver::Default,
            ifs: Vec::new(),
            pf: None,
            nat_addr: None,
            nat_port: (0, 0),
            nat_ipv6: None,
        }
    }
}

/// `virXPathUInt` on an attribute: `None` absent, `Err(())` unparsable.
fn xpath_uint(e: &Element, name: &str) -> std::result::Result<Option<u32>, ()> {
    match e.attr(name) {
        None => Ok(None),
        Some(v) => v.trim().parse::<u32>().map(Some).map_err(|_| ()),
    }
}

impl Forward {
    pub(super) fn parse(net: &str, e: &Element) -> Result<Forward> {
        let mode = match e.attr("mode") {
            None => ForwardMode::Nat,
            Some(t) => ForwardMode::from_str_opt(t).ok_or_else(|| {
                xml_err(
                    ErrorCode::CONFIG_UNSUPPORTED,
                    format!("unknown forwarding type '{t}'"),
                )
            })?,
        };
        let mut fwd = Forward {
            mode,
            managed: e
                .attr("managed")
                .is_some_and(|m| m.eq_ignore_ascii_case("yes")),
            ..Forward::default()
        };
        if let Some(d) = e.child("driver").and_then(|d| d.attr("name")) {
            fwd.driver = ForwardDriver::from_str_opt(d)
                .filter(|d| *d != ForwardDriver::Default)
                .ok_or_else(|| {
                    xml_err(
                        ErrorCode::CONFIG_UNSUPPORTED,
                        format!("Unknown forward <driver name='{d}'/> in network {net}"),
                    )
                })?;
        }
        let nats: Vec<&Element> = e.children_named("nat").collect();
        if nats.len() > 1 {
            return Err(xml_error(format!(
                "Only one <nat> element is allowed in <forward> of network {net}"
            )));
        }
        if let Some(nat) = nats.first() {
            fwd.parse_nat(net, nat)?;
        }
        fwd.parse_devices(net, e)?;
        Ok(fwd)
    }

    fn parse_devices(&mut self, net: &str, e: &Element) -> Result<()> {
        let ifaces: Vec<&Element> = e.children_named("interface").collect();
        let addrs: Vec<&Element> = e.children_named("address").collect();
        let pfs: Vec<&Element> = e.children_named("pf").collect();
        let dev = e.attr("dev");
        if dev.is_some() && (!addrs.is_empty() || !pfs.is_empty()) {
            // libvirt formats this text with "%s", so its own %s stays.
            return Err(xml_error(
                "the <forward> 'dev' attribute cannot be used when <address> or <pf> sub-elements are present in network %s".into(),
            ));
        }
        if !ifaces.is_empty() || dev.is_some() {
            if let Some(d) = dev {
                self.push_netdev(d);
            }
            for (i, iface) in ifaces.iter().enumerate() {
                let Some(d) = iface.attr("dev") else {
                    return Err(xml_error(format!(
                        "Missing required dev attribute in <forward> <interface> element of network {net}"
                    )));
                };
                if i == 0 && dev.is_some() {
                    if Some(d) != dev {
                        return Err(xml_error(format!(
                            "<forward dev='{}'> must match first <interface dev='{d}'/> in network {net}",
                            dev.unwrap_or_default()
                        )));
                    }
                    continue;
                }
                if self.netdevs().any(|x| x == d) {
                    return Err(xml_error(format!(
                        "interface '{d}' can only be listed once in network {net}"
                    )));
                }
                self.push_netdev(d);
            }
        } else if !addrs.is_empty() {
            for a in addrs {
                self.ifs.push(ForwardIf::Pci(parse_pci(net, a, &self.ifs)?));
            }
        } else if pfs.len() > 1 {
            return Err(xml_error(format!(
                "Only one <pf> element is allowed in <forward> of network {net}"
            )));
        } else if let Some(pf) = pfs.first() {
            let Some(d) = pf.attr("dev") else {
                return Err(xml_error(format!(
                    "Missing required dev attribute in <pf> element of network '{net}'"
                )));
            };
            self.pf = Some(d.to_string());
        }
        Ok(())
    }

    fn push_netdev(&mut self, dev: &str) {
        self.ifs.push(ForwardIf::Netdev {
            dev: dev.to_string(),
            connections: 0,
        });
    }

    /// The names of the netdev interfaces of the pool.
    pub fn netdevs(&self) -> impl Iterator<Item = &str> {
        self.ifs.iter().filter_map(|i| match i {
            ForwardIf::Netdev { dev, .. } => Some(dev.as_str()),
            ForwardIf::Pci(_) => None,
        })
    }

    fn parse_nat(&mut self, net: &str, nat: &Element) -> Result<()> {
        if self.mode != ForwardMode::Nat {
            return Err(xml_error(format!(
                "The <nat> element can only be used when <forward> 'mode' is 'nat' in network {net}"
            )));
        }
        self.nat_ipv6 = props::tribool(nat, "ipv6")?;
        let addrs: Vec<&Element> = nat.children_named("address").collect();
        if addrs.len() > 1 {
            return Err(xml_error(format!(
                "Only one <address> element is allowed in <nat> in <forward> in network {net}"
            )));
        }
        if let Some(a) = addrs.first() {
            let missing = |which: &str| {
                xml_error(format!(
                    "missing '{which}' attribute in <address> element in <nat> in <forward> in network {net}"
                ))
            };
            let start = a.attr("start").ok_or_else(|| missing("start"))?;
            let end = a.attr("end").ok_or_else(|| missing("end"))?;
            let v4 = |s: &str, which: &str| {
                sockaddr::parse(s, Some(Family::V4)).ok_or_else(|| {
                    xml_error(format!(
                        "Bad ipv4 {which} address '{s}' in <nat> in <forward> in network '{net}'"
                    ))
                })
            };
            let (s, e) = (v4(start, "start")?, v4(end, "end")?);
            super::ip::check_range(s, e, None)?;
            self.nat_addr = Some((s, e));
        }
        let ports: Vec<&Element> = nat.children_named("port").collect();
        if ports.len() > 1 {
            return Err(xml_error(format!(
                "Only one <port> element is allowed in <nat> in <forward> in network {net}"
            )));
        }
        if let Some(p) = ports.first() {
            let detail = |which: &str| {
                xml_err(
                    ErrorCode::XML_DETAIL,
                    format!(
                        "Missing or invalid '{which}' attribute in <port> in <nat> in <forward> in network {net}"
                    ),
                )
            };
            let start = match xpath_uint(p, "start") {
                Ok(Some(n)) if n <= 65535 => n,
                _ => return Err(detail("start")),
            };
            let end = match xpath_uint(p, "end") {
                Ok(Some(n)) if n <= 65535 && n >= start => n,
                _ => return Err(detail("end")),
            };
            self.nat_port = (start, end);
        }
        Ok(())
    }

    /// Whether `<forward .../>` closes at once.
    fn is_short(&self) -> bool {
        self.ifs.is_empty()
            && self.pf.is_none()
            && self.nat_addr.is_none()
            && self.nat_port == (0, 0)
            && self.driver == ForwardDriver::Default
            && self.nat_ipv6.is_none()
    }

    pub(super) fn format(&self, w: &mut Writer, inactive: bool) {
        let dev = match (&self.pf, self.ifs.first()) {
            (None, Some(ForwardIf::Netdev { dev, .. })) => {
                format!(" dev='{}'", crate::xml::escape(dev))
            }
            _ => String::new(),
        };
        let managed = match (self.mode, self.managed) {
            (ForwardMode::Hostdev, true) => " managed='yes'",
            (ForwardMode::Hostdev, false) => " managed='no'",
            _ => "",
        };
        let short = self.is_short();
        w.line(&format!(
            "<forward{dev} mode='{}'{managed}{}>",
            self.mode.as_str(),
            if short { "/" } else { "" }
        ));
        if short {
            return;
        }
        w.indent();
        if self.driver != ForwardDriver::Default {
            w.line(&format!("<driver name='{}'/>", self.driver.as_str()));
        }
        if self.mode == ForwardMode::Nat {
            self.format_nat(w);
        }
        if let Some(pf) = &self.pf {
            w.line(&format!("<pf dev='{}'/>", crate::xml::escape(pf)));
        }
        if !self.ifs.is_empty() && (self.pf.is_none() || !inactive) {
            for i in &self.ifs {
                match i {
                    ForwardIf::Netdev { dev, connections } => {
                        let conns = if !inactive && *connections > 0 {
                            format!(" connections='{connections}'")
                        } else {
                            String::new()
                        };
                        w.line(&format!(
                            "<interface dev='{}'{conns}/>",
                            crate::xml::escape(dev)
                        ));
                    }
                    ForwardIf::Pci(a) => format_pci(a, w),
                }
            }
        }
        w.dedent();
        w.line("</forward>");
    }

    fn format_nat(&self, w: &mut Writer) {
        if self.nat_addr.is_none() && self.nat_port == (0, 0) && self.nat_ipv6.is_none() {
            return;
        }
        let ipv6 = self
            .nat_ipv6
            .map(|b| format!(" ipv6='{}'", b.as_str()))
            .unwrap_or_default();
        if self.nat_addr.is_none() && self.nat_port == (0, 0) {
            w.line(&format!("<nat{ipv6}/>"));
            return;
        }
        w.block("nat", &ipv6, |w| {
            if let Some((s, e)) = self.nat_addr {
                w.line(&format!("<address start='{s}' end='{e}'/>"));
            }
            let (start, end) = self.nat_port;
            if start != 0 || end != 0 {
                let end = if end != 0 {
                    format!(" end='{end}'")
                } else {
                    String::new()
                };
                w.line(&format!("<port start='{start}'{end}/>"));
            }
        });
    }
}

/// A forward pool `<address type='pci' .../>`.
fn parse_pci(net: &str, a: &Element, seen: &[ForwardIf]) -> Result<Address> {
    let Some(t) = a.attr("type") else {
        return Err(xml_error(format!("missing address type in network {net}")));
    };
    if !matches!(t, "none" | "pci" | "netdev") {
        return Err(xml_err(
            ErrorCode::CONFIG_UNSUPPORTED,
            format!("unknown address type '{t}' in network {net}"),
        ));
    }
    if t != "pci" {
        return Err(xml_error(format!(
            "unsupported address type '{t}' in network {net}"
        )));
    }
    let addr = Address::parse(a)?.expect("a pci address");
    if let Address::Pci {
        domain,
        bus,
        slot,
        function,
        ..
    } = &addr
    {
        let dup = seen.iter().any(|s| matches!(s, ForwardIf::Pci(Address::Pci { domain: d, bus: b, slot: sl, function: f, .. }) if (d, b, sl, f) == (domain, bus, slot, function)));
        if dup {
            return Err(xml_error(format!(
                "PCI device '{domain:04x}:{bus:02x}:{slot:02x}.{function:x}' can only be listed once in network {net}"
            )));
        }
    }
    Ok(addr)
}

/// `virPCIDeviceAddressFormat(buf, addr, true)`.
fn format_pci(a: &Address, w: &mut Writer) {
    if let Address::Pci {
        domain,
        bus,
        slot,
        function,
        ..
    } = a
    {
        w.line(&format!(
            "<address type='pci' domain='0x{domain:04x}' bus='0x{bus:02x}' slot='0x{slot:02x}' function='0x{function:x}'/>"
        ));
    }
}
