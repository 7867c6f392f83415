//! A network's `<dns>`: forwarders, TXT, SRV and host records
//! (`virNetworkDNSDefParseXML`, `virNetworkDNSDefFormat`).

use super::{xml_err, xml_error};
use crate::domain::interface::sockaddr::{self, SockAddr};
use crate::domain::props::{self, TriBool, VirEnum};
use crate::xml::{escape, Element, Writer};
use rvirt_util::{ErrorCode, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsForwarder {
    pub domain: Option<String>,
    pub addr: Option<SockAddr>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsTxt {
    pub name: String,
    pub value: String,
}

/// `virNetworkDNSSrvDef` (0: unset for the numbers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsSrv {
    /// Absent only in an update's delete pattern.
    pub service: Option<String>,
    pub protocol: Option<String>,
    pub domain: Option<String>,
    pub target: Option<String>,
    pub port: u32,
    pub priority: u32,
    pub weight: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsHost {
    pub ip: SockAddr,
    pub names: Vec<String>,
}

/// `virNetworkDNSDef`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dns {
    pub enable: Option<TriBool>,
    pub forward_plain_names: Option<TriBool>,
    pub forwarders: Vec<DnsForwarder>,
    pub txts: Vec<DnsTxt>,
    pub srvs: Vec<DnsSrv>,
    pub hosts: Vec<DnsHost>,
}

const PROTOCOL_CHARS: &str = "-+/";
const SERVICE_CHARS: &str = "_-+/*";
/// `DNS_RECORD_LENGTH_SRV`.
const SRV_MAX: usize = 512 - 30;

fn detail(msg: String) -> rvirt_util::Error {
    xml_err(ErrorCode::XML_DETAIL, msg)
}

impl Dns {
    pub fn is_empty(&self) -> bool {
        *self == Dns::default()
    }

    pub(super) fn parse(net: &str, e: &Element) -> Result<Dns> {
        let mut dns = Dns {
            enable: props::tribool(e, "enable")?,
            forward_plain_names: props::tribool(e, "forwardPlainNames")?,
            ..Dns::default()
        };
        for f in e.children_named("forwarder") {
            let addr = match f.attr("addr") {
                None => None,
                Some(a) => Some(sockaddr::parse(a, None).ok_or_else(|| {
                    xml_error(format!(
                        "Invalid forwarder IP address '{a}' in network '{net}'"
                    ))
                })?),
            };
            let domain = f.attr_string("domain");
            if addr.is_none() && domain.is_none() {
                return Err(xml_error(
                    "Invalid forwarder element, must contain at least one of addr or domain".into(),
                ));
            }
            dns.forwarders.push(DnsForwarder { domain, addr });
        }
        for h in e.children_named("host") {
            dns.hosts.push(parse_host(net, h)?);
        }
        for s in e.children_named("srv") {
            dns.srvs.push(parse_srv(net, s, false)?);
        }
        for t in e.children_named("txt") {
            dns.txts.push(parse_txt(net, t, false)?);
        }
        let has_records = !(dns.forwarders.is_empty()
            && dns.hosts.is_empty()
            && dns.srvs.is_empty()
            && dns.txts.is_empty());
        if dns.enable == Some(TriBool::No) && has_records {
            return Err(xml_error(format!("Extra data in disabled network '{net}'")));
        }
        Ok(dns)
    }

    pub(super) fn format(&self, w: &mut Writer) {
        if self.is_empty() {
            return;
        }
        let mut head = String::from("<dns");
        if let Some(e) = self.enable {
            head.push_str(&format!(" enable='{}'", e.as_str()));
        }
        if let Some(f) = self.forward_plain_names {
            head.push_str(&format!(" forwardPlainNames='{}'", f.as_str()));
        }
        if self.forwarders.is_empty()
            && self.hosts.is_empty()
            && self.srvs.is_empty()
            && self.txts.is_empty()
        {
            w.line(&format!("{head}/>"));
            return;
        }
        w.line(&format!("{head}>"));
        w.indent();
        for f in &self.forwarders {
            let mut l = String::from("<forwarder");
            if let Some(d) = &f.domain {
                l.push_str(&format!(" domain='{}'", escape(d)));
            }
            if let Some(a) = &f.addr {
                l.push_str(&format!(" addr='{a}'"));
            }
            w.line(&format!("{l}/>"));
        }
        for t in &self.txts {
            w.line(&format!(
                "<txt name='{}' value='{}'/>",
                escape(&t.name),
                escape(&t.value)
            ));
        }
        for l in self.srvs.iter().filter_map(format_srv) {
            w.line(&l);
        }
        for h in &self.hosts {
            w.line(&format!("<host ip='{}'>", h.ip));
            w.indent();
            for n in &h.names {
                w.line(&format!("<hostname>{}</hostname>", escape(n)));
            }
            w.dedent();
            w.line("</host>");
        }
        w.dedent();
        w.line("</dns>");
    }
}

fn format_srv(s: &DnsSrv) -> Option<String> {
    let (Some(service), Some(protocol)) = (&s.service, &s.protocol) else {
        return None;
    };
    let mut l = format!(
        "<srv service='{}' protocol='{}'",
        escape(service),
        escape(protocol)
    );
    for (k, v) in [("domain", &s.domain), ("target", &s.target)] {
        if let Some(v) = v {
            l.push_str(&format!(" {k}='{}'", escape(v)));
        }
    }
    for (k, v) in [
        ("port", s.port),
        ("priority", s.priority),
        ("weight", s.weight),
    ] {
        if v != 0 {
            l.push_str(&format!(" {k}='{v}'"));
        }
    }
    l.push_str("/>");
    Some(l)
}

/// `virNetworkDNSHostDefParseXML`; `partial` (an update's delete
/// pattern) lets the address or the names be absent, not both.
pub(super) fn parse_host_pattern(
    net: &str,
    h: &Element,
    partial: bool,
) -> Result<(Option<SockAddr>, Vec<String>)> {
    let ip = match h.attr("ip") {
        None if !partial => {
            return Err(detail(format!(
                "Missing IP address in network '{net}' DNS HOST record"
            )))
        }
        None => None,
        Some(ip) => Some(sockaddr::parse(ip, None).ok_or_else(|| {
            detail(format!(
                "Invalid IP address in network '{net}' DNS HOST record"
            ))
        })?),
    };
    let mut names = Vec::new();
    for n in h.children_named("hostname") {
        if n.children.is_empty() {
            continue;
        }
        let text = n.text();
        if text.is_empty() {
            return Err(detail(format!(
                "Missing hostname in network '{net}' DNS HOST record"
            )));
        }
        names.push(text);
    }
    if names.is_empty() && !partial {
        return Err(detail(format!(
            "Missing hostname in network '{net}' DNS HOST record"
        )));
    }
    if ip.is_none() && names.is_empty() {
        return Err(detail(format!(
            "Missing ip and hostname in network '{net}' DNS HOST record"
        )));
    }
    Ok((ip, names))
}

fn parse_host(net: &str, h: &Element) -> Result<DnsHost> {
    let (ip, names) = parse_host_pattern(net, h, false)?;
    Ok(DnsHost {
        ip: ip.expect("required above"),
        names,
    })
}

fn only_chars(s: &str, extra: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

/// `virXPathUInt`: `None` absent, `Some(None)` unparsable.
fn uint_attr(e: &Element, name: &str) -> Option<Option<u32>> {
    e.attr(name).map(|v| v.trim().parse::<u32>().ok())
}

/// `virNetworkDNSSrvDefParseXML`; `partial`: service and protocol may be
/// absent (an update's delete pattern).
pub(super) fn parse_srv(net: &str, s: &Element, partial: bool) -> Result<DnsSrv> {
    let service = s.attr("service");
    if service.is_none() && !partial {
        return Err(detail(format!(
            "missing required service attribute in DNS SRV record of network '{net}'"
        )));
    }
    if let Some(service) = service {
        if service.len() > SRV_MAX {
            return Err(detail(format!(
                "service attribute '{service}' in network '{net}' is too long, limit is {SRV_MAX} bytes"
            )));
        }
        if !only_chars(service, SERVICE_CHARS) {
            return Err(detail(format!(
                "invalid character in service attribute '{service}' in DNS SRV record of network '{net}'"
            )));
        }
    }
    // libvirt prints a missing service as "(null)" here.
    let shown = service.unwrap_or("(null)");
    let protocol = s.attr("protocol");
    if protocol.is_none() && !partial {
        return Err(detail(format!(
            "missing required protocol attribute in DNS SRV record '{shown}' of network '{net}'"
        )));
    }
    if let Some(protocol) = protocol.filter(|p| !only_chars(p, PROTOCOL_CHARS)) {
        return Err(detail(format!(
            "invalid character in protocol attribute '{protocol}' in DNS SRV record of network '{net}'"
        )));
    }
    let service = shown;
    let mut srv = DnsSrv {
        service: s.attr_string("service"),
        protocol: protocol.map(str::to_string),
        domain: s.attr_string("domain"),
        target: s.attr_string("target"),
        ..DnsSrv::default()
    };
    let checks: [(&str, &str, u32); 3] = [
        ("port", "invalid", 65535),
        ("priority", "Invalid", 65535),
        ("weight", "invalid", 65535),
    ];
    for (attr, invalid, max) in checks {
        let Some(v) = uint_attr(s, attr) else {
            continue;
        };
        // An unparsable value is "invalid" even without a target.
        if srv.target.is_none() && v.is_some() {
            return Err(detail(format!(
                "DNS SRV {attr} attribute not permitted without target for service '{service}' in network '{net}'"
            )));
        }
        let ok = v.filter(|n| *n <= max && (attr != "port" || *n >= 1));
        let Some(n) = ok else {
            return Err(detail(format!(
                "{invalid} DNS SRV {attr} attribute for service '{service}' in network '{net}'"
            )));
        };
        match attr {
            "port" => srv.port = n,
            "priority" => srv.priority = n,
            _ => srv.weight = n,
        }
    }
    Ok(srv)
}

/// `virNetworkDNSTxtDefParseXML`; `partial`: the value may be absent
/// (empty here), an update's delete pattern.
pub(super) fn parse_txt(net: &str, t: &Element, partial: bool) -> Result<DnsTxt> {
    let Some(name) = t.attr("name") else {
        return Err(detail(format!(
            "missing required name attribute in DNS TXT record of network {net}"
        )));
    };
    if name.contains([' ', ',']) {
        return Err(detail(format!(
            "prohibited character in DNS TXT record name '{name}' of network {net}"
        )));
    }
    let value = match t.attr("value") {
        Some(v) => v,
        None if partial => "",
        None => {
            return Err(detail(format!(
                "missing required value attribute in DNS TXT record named '{name}' of network {net}"
            )))
        }
    };
    Ok(DnsTxt {
        name: name.to_string(),
        value: value.to_string(),
    })
}
