//! Virtual network XML (`<network>`): libvirt 9.0's src/conf/network_conf.c
//! (`virNetworkDefParseXML`, `virNetworkDefFormatBuf`) and
//! docs/formatnetwork.rst, with libvirt's error texts.

mod dns;
mod forward;
mod ip;
pub mod objlist;
mod portgroup;
#[cfg(test)]
mod tests;
pub mod update;

pub use dns::{Dns, DnsForwarder, DnsHost, DnsSrv, DnsTxt};
pub use forward::{Forward, ForwardDriver, ForwardIf, ForwardMode};
pub use ip::{ip_prefix, DhcpHost, DhcpRange, Lease, LeaseUnit, NetworkIp};
pub use portgroup::PortGroup;

use crate::domain::interface::{Bandwidth, MacAddr, Route, VirtualPort, Vlan, VportRules};
use crate::domain::props::{self, vir_enum, TriBool, VirEnum};
use crate::xml::{self, escape, Element, Writer};
use rvirt_util::uuid::{self, Uuid};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_FROM_NETWORK`.
pub const ERROR_DOMAIN: ErrorDomain = ErrorDomain::NETWORK;

/// `VIR_NETWORK_XML_INACTIVE`.
pub const XML_INACTIVE: u32 = 1;

vir_enum! {
    /// `virNetworkBridgeMACTableManagerType`, "default" (0) included.
    pub enum MacTableManager { Default = "default", Kernel = "kernel", Libvirt = "libvirt" }
}

pub(crate) fn xml_err(code: ErrorCode, msg: String) -> Error {
    Error::new(ERROR_DOMAIN, code, msg)
}

pub(crate) fn xml_error(msg: String) -> Error {
    xml_err(ErrorCode::XML_ERROR, msg)
}

/// `virNetworkDef`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkDef {
    pub name: String,
    pub uuid: Uuid,
    pub uuid_specified: bool,
    /// `<network ipv6='yes'>`.
    pub ipv6_no_gateway: bool,
    pub trust_guest_rx_filters: Option<TriBool>,
    /// The live `connections=` count (not in the inactive XML).
    pub connections: i32,
    pub metadata: Option<String>,
    pub forward: Forward,
    pub bridge: Option<String>,
    pub bridge_zone: Option<String>,
    pub stp: bool,
    pub delay: u64,
    pub mac_table_manager: MacTableManager,
    pub mtu: u32,
    pub mac: Option<MacAddr>,
    pub domain: Option<String>,
    pub domain_local_only: Option<TriBool>,
    pub dns: Dns,
    pub vlan: Option<Vlan>,
    pub bandwidth: Option<Bandwidth>,
    pub isolated_port: Option<TriBool>,
    pub ips: Vec<NetworkIp>,
    pub routes: Vec<Route>,
    pub virtualport: Option<VirtualPort>,
    pub portgroups: Vec<PortGroup>,
}

impl NetworkDef {
    /// `virNetworkDefParse` of a document (`(network_definition)` in
    /// well-formedness errors).
    pub fn parse(text: &str) -> Result<NetworkDef> {
        let mut root = xml::parse(text, "(network_definition)", ERROR_DOMAIN)?;
        xml::strip_blanks(&mut root);
        if root.name != "network" {
            return Err(Error::new(
                ErrorDomain::XML,
                ErrorCode::XML_ERROR,
                format!("expecting root element of 'network', not '{}'", root.name),
            ));
        }
        Self::from_element(&root)
    }

    /// `virNetworkDefParseXML` on a `<network>` element.
    pub fn from_element(e: &Element) -> Result<NetworkDef> {
        // virXPathString: an empty string is no string.
        let text_of = |n: &str| e.child(n).map(|c| c.text()).filter(|t| !t.is_empty());
        let Some(name) = text_of("name") else {
            return Err(Error::bare(ERROR_DOMAIN, ErrorCode::NO_NAME));
        };
        crate::domain::check_illegal_chars("name", &name, "/")?;
        let (uuid, uuid_specified) = match text_of("uuid") {
            None => (uuid::generate(), false),
            Some(t) => (
                uuid::parse(&t).ok_or_else(|| {
                    xml_err(ErrorCode::INTERNAL_ERROR, "malformed uuid element".into())
                })?,
                true,
            ),
        };
        let ipv6_no_gateway = match e.attr("ipv6") {
            None => false,
            Some("yes") => true,
            Some("no") => false,
            Some(v) => {
                return Err(xml_error(format!(
                    "Invalid ipv6 setting '{v}' in network '{name}'"
                )))
            }
        };
        let trust_guest_rx_filters = props::tribool(e, "trustGuestRxFilters")?;
        let domain_el = e.child("domain");
        let mut def = NetworkDef {
            domain: domain_el.and_then(|d| d.attr_string("name")),
            domain_local_only: domain_el
                .map(|d| props::tribool(d, "localOnly"))
                .transpose()?
                .flatten(),
            bandwidth: match e.child("bandwidth") {
                Some(b) => Bandwidth::parse(b, false)?,
                None => None,
            },
            vlan: e.child("vlan").map(Vlan::parse).transpose()?,
            isolated_port: e
                .child("port")
                .map(|p| props::tribool(p, "isolated"))
                .transpose()?
                .flatten(),
            ..NetworkDef::empty(name, uuid)
        };
        def.uuid_specified = uuid_specified;
        def.ipv6_no_gateway = ipv6_no_gateway;
        def.trust_guest_rx_filters = trust_guest_rx_filters;
        let stp_given = def.parse_bridge(e)?;
        def.parse_mac_mtu(e)?;
        let net = def.name.clone();
        if let Some(d) = e.child("dns") {
            def.dns = Dns::parse(&net, d)?;
        }
        if let Some(v) = e.child("virtualport") {
            def.virtualport = Some(VirtualPort::parse(v, VportRules::RequireType)?);
        }
        for p in e.children_named("portgroup") {
            def.portgroups.push(PortGroup::parse(p)?);
        }
        for i in e.children_named("ip") {
            def.ips.push(NetworkIp::parse(&net, i)?);
        }
        for r in e.children_named("route") {
            def.routes.push(Route::parse(r, &net)?);
        }
        def.check_route_gateways()?;
        if let Some(f) = e.child("forward") {
            def.forward = Forward::parse(&net, f)?;
        }
        def.check_forward_mode(stp_given)?;
        def.metadata = crate::domain::parse_metadata(e);
        Ok(def)
    }

    /// A network with only a name and uuid (libvirt's zeroed `virNetworkDef`).
    pub fn empty(name: String, uuid: Uuid) -> NetworkDef {
        NetworkDef {
            name,
            uuid,
            uuid_specified: false,
            ipv6_no_gateway: false,
            trust_guest_rx_filters: None,
            connections: 0,
            metadata: None,
            forward: Forward::default(),
            bridge: None,
            bridge_zone: None,
            stp: true,
            delay: 0,
            mac_table_manager: MacTableManager::Default,
            mtu: 0,
            mac: None,
            domain: None,
            domain_local_only: None,
            dns: Dns::default(),
            vlan: None,
            bandwidth: None,
            isolated_port: None,
            ips: Vec::new(),
            routes: Vec::new(),
            virtualport: None,
            portgroups: Vec::new(),
        }
    }

    /// `<bridge>`: returns whether `stp=` was given (libvirt refuses it
    /// outside the modes with their own bridge).
    fn parse_bridge(&mut self, e: &Element) -> Result<bool> {
        let b = e.child("bridge");
        let get = |n: &str| b.and_then(|b| b.attr(n));
        self.bridge = get("name").map(str::to_string);
        self.bridge_zone = get("zone").map(str::to_string);
        self.stp = get("stp") != Some("off");
        if let Some(d) = get("delay") {
            self.delay = d.parse().map_err(|_| {
                xml_error(format!("Invalid delay value in network '{}'", self.name))
            })?;
        }
        if let Some(m) = get("macTableManager") {
            self.mac_table_manager = MacTableManager::from_str_opt(m)
                .filter(|m| *m != MacTableManager::Default)
                .ok_or_else(|| {
                    xml_error(format!(
                        "Invalid macTableManager setting '{m}' in network '{}'",
                        self.name
                    ))
                })?;
        }
        Ok(get("stp").is_some())
    }

    fn parse_mac_mtu(&mut self, e: &Element) -> Result<()> {
        let name = &self.name;
        if let Some(m) = e.child("mac").and_then(|m| m.attr("address")) {
            let mac = MacAddr::parse(m).ok_or_else(|| {
                xml_error(format!(
                    "Invalid bridge mac address '{m}' in network '{name}'"
                ))
            })?;
            if mac.is_multicast() {
                return Err(xml_error(format!(
                    "Invalid multicast bridge mac address '{m}' in network '{name}'"
                )));
            }
            self.mac = Some(mac);
        }
        if let Some(m) = e.child("mtu").and_then(|m| m.attr("size")) {
            self.mtu = m
                .parse()
                .map_err(|_| xml_error(format!("Invalid mtu size '{m}' in network '{name}'")))?;
        }
        Ok(())
    }

    /// Every static route's gateway must be on one of the network's subnets.
    fn check_route_gateways(&self) -> Result<()> {
        for r in &self.routes {
            let gw = r.gateway;
            let reachable = self.ips.iter().any(|ip| {
                if gw.ip.is_ipv4() != ip.is_v4() {
                    return false;
                }
                let prefix = ip.prefix();
                prefix >= 0 && same_subnet(&ip.address.ip, &gw.ip, prefix as u32)
            });
            if !reachable {
                return Err(xml_err(
                    ErrorCode::CONFIG_UNSUPPORTED,
                    format!(
                        "unreachable static route gateway '{gw}' specified for network '{}'",
                        self.name
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_forward_mode(&self, stp_given: bool) -> Result<()> {
        let mode = self.forward.mode;
        let (m, name) = (mode.as_str(), &self.name);
        let nifs = self.forward.ifs.len();
        use ForwardMode as F;
        match mode {
            F::None => {}
            F::Route | F::Nat | F::Open => {
                if self.ips.is_empty() {
                    return Err(xml_error(format!(
                        "{m} forwarding requested, but no IP address provided for network '{name}'"
                    )));
                }
                if nifs > 1 {
                    return Err(xml_error(format!(
                        "multiple forwarding interfaces specified for network '{name}', only one is supported"
                    )));
                }
                if mode == F::Open && nifs > 0 {
                    return Err(xml_error(format!(
                        "forward dev not allowed for network '{name}' with forward mode='{m}'"
                    )));
                }
            }
            F::Private | F::Vepa | F::Passthrough | F::Hostdev | F::Bridge => {
                if mode != F::Bridge {
                    self.check_no_bridge(m)?;
                }
                if self.delay != 0 || stp_given || self.bridge_zone.is_some() {
                    return Err(xml_error(format!(
                        "bridge delay/stp/zone options only allowed in route, nat, and isolated mode, not in {m} (network '{name}')"
                    )));
                }
                if self.bridge.is_some() && (nifs > 0 || self.forward.pf.is_some()) {
                    return Err(xml_error(format!(
                        "A network with forward mode='{m}' can specify a bridge name or a forward dev, but not both (network '{name}')"
                    )));
                }
            }
        }
        if self.mtu != 0 && !mode.has_bridge() {
            return Err(xml_error(format!(
                "mtu size only allowed in open, route, nat, and isolated mode, not in {m} (network '{name}')"
            )));
        }
        Ok(())
    }

    fn check_no_bridge(&self, m: &str) -> Result<()> {
        let name = &self.name;
        if self.bridge.is_some() {
            return Err(xml_error(format!(
                "bridge name not allowed in {m} mode (network '{name}')"
            )));
        }
        if self.bridge_zone.is_some() {
            return Err(xml_error(format!(
                "bridge zone not allowed in {m} mode (network '{name}')"
            )));
        }
        if self.mac_table_manager != MacTableManager::Default {
            return Err(xml_error(format!(
                "bridge macTableManager setting not allowed in {m} mode (network '{name}')"
            )));
        }
        Ok(())
    }

    pub fn uuid_string(&self) -> String {
        self.uuid.to_string()
    }

    /// `virNetworkDefFormat`; `flags` takes [`XML_INACTIVE`].
    pub fn format(&self, flags: u32) -> String {
        let inactive = flags & XML_INACTIVE != 0;
        let mut w = Writer::new();
        let mut head = String::from("<network");
        if !inactive && self.connections > 0 {
            head.push_str(&format!(" connections='{}'", self.connections));
        }
        if self.ipv6_no_gateway {
            head.push_str(" ipv6='yes'");
        }
        if let Some(t) = self.trust_guest_rx_filters {
            head.push_str(&format!(" trustGuestRxFilters='{}'", t.as_str()));
        }
        w.line(&format!("{head}>"));
        w.indent();
        w.line(&format!("<name>{}</name>", escape(&self.name)));
        w.line(&format!("<uuid>{}</uuid>", self.uuid));
        self.format_metadata(&mut w);
        if self.forward.mode != ForwardMode::None {
            self.forward.format(&mut w, inactive);
        }
        self.format_bridge(&mut w);
        self.format_body(&mut w);
        w.dedent();
        w.line("</network>");
        w.finish()
    }

    fn format_metadata(&self, w: &mut Writer) {
        match self.metadata.as_deref() {
            None => {}
            Some("") => w.line("<metadata/>"),
            Some(m) => {
                w.line("<metadata>");
                w.indent();
                crate::domain::format_metadata(w, m);
                w.dedent();
                w.line("</metadata>");
            }
        }
    }

    fn format_bridge(&self, w: &mut Writer) {
        let has_bridge = self.forward.mode.has_bridge();
        let mtm = self.mac_table_manager != MacTableManager::Default;
        if !(has_bridge || self.bridge.is_some() || mtm) {
            return;
        }
        let mut l = String::from("<bridge");
        if let Some(b) = &self.bridge {
            l.push_str(&format!(" name='{}'", escape(b)));
        }
        if let Some(z) = &self.bridge_zone {
            l.push_str(&format!(" zone='{}'", escape(z)));
        }
        if has_bridge {
            let stp = if self.stp { "on" } else { "off" };
            l.push_str(&format!(" stp='{stp}' delay='{}'", self.delay));
        }
        if mtm {
            l.push_str(&format!(
                " macTableManager='{}'",
                self.mac_table_manager.as_str()
            ));
        }
        w.line(&format!("{l}/>"));
    }

    fn format_body(&self, w: &mut Writer) {
        if self.mtu != 0 {
            w.line(&format!("<mtu size='{}'/>", self.mtu));
        }
        if let Some(m) = &self.mac {
            w.line(&format!("<mac address='{m}'/>"));
        }
        if let Some(d) = &self.domain {
            let local = self
                .domain_local_only
                .map(|l| format!(" localOnly='{}'", l.as_str()))
                .unwrap_or_default();
            w.line(&format!("<domain name='{d}'{local}/>"));
        }
        self.dns.format(w);
        if let Some(v) = &self.vlan {
            v.format(w);
        }
        if let Some(b) = &self.bandwidth {
            b.format(w);
        }
        if let Some(p) = self.isolated_port {
            w.line(&format!("<port isolated='{}'/>", p.as_str()));
        }
        for ip in &self.ips {
            ip.format(w);
        }
        for r in &self.routes {
            r.format(w);
        }
        if let Some(v) = &self.virtualport {
            v.format(w);
        }
        for p in &self.portgroups {
            p.format(w);
        }
    }

    /// The first IPv4 `<ip>` with DHCP ranges or hosts, as the network
    /// driver hands leases from.
    pub fn dhcp_ipv4(&self) -> Option<&NetworkIp> {
        self.ips
            .iter()
            .find(|ip| ip.is_v4() && !(ip.ranges.is_empty() && ip.hosts.is_empty()))
    }
}

/// Whether `a` and `b` share their first `prefix` bits.
fn same_subnet(a: &std::net::IpAddr, b: &std::net::IpAddr, prefix: u32) -> bool {
    use std::net::IpAddr::{V4, V6};
    match (a, b) {
        (V4(a), V4(b)) => {
            let m = u32::MAX.checked_shl(32 - prefix.min(32)).unwrap_or(0);
            u32::from(*a) & m == u32::from(*b) & m
        }
        (V6(a), V6(b)) => {
            let m = u128::MAX.checked_shl(128 - prefix.min(128)).unwrap_or(0);
            u128::from(*a) & m == u128::from(*b) & m
        }
        _ => false,
    }
}
