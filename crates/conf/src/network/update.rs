//! `virNetworkDefUpdateSection`: one `virNetworkUpdate` command (modify,
//! delete, add-last, add-first) on one section of a definition, with
//! libvirt 9.0's rules and texts (src/conf/network_conf.c).

use super::dns::{parse_host_pattern, parse_srv, parse_txt};
use super::{xml_err, xml_error, DnsHost, ForwardIf, NetworkDef, NetworkIp, PortGroup};
use crate::domain::interface::MacAddr;
use crate::xml::{self, Element};
use rvirt_util::names::NETWORK_UPDATE_SECTIONS as SECTIONS;
use rvirt_util::{Error, ErrorCode, Result};

pub const MODIFY: u32 = 1;
pub const DELETE: u32 = 2;
pub const ADD_LAST: u32 = 3;
pub const ADD_FIRST: u32 = 4;

fn op_invalid(msg: String) -> Error {
    xml_err(ErrorCode::OPERATION_INVALID, msg)
}

fn op_unsupported(msg: String) -> Error {
    xml_err(ErrorCode::OPERATION_UNSUPPORTED, msg)
}

fn unknown_command(command: u32) -> Error {
    op_unsupported(format!(
        "unrecognized network update command code {command}"
    ))
}

fn is_add(command: u32) -> bool {
    command == ADD_FIRST || command == ADD_LAST
}

/// Insert at the front or the back, as the add command says.
fn insert<T>(list: &mut Vec<T>, command: u32, item: T) {
    if command == ADD_FIRST {
        list.insert(0, item);
    } else {
        list.push(item);
    }
}

/// libvirt's texts for a record section that can only be added to or
/// deleted from, each followed by " in network NAME".
struct RecordTexts {
    exists: &'static str,
    missing: &'static str,
    ambiguous: &'static str,
}

/// libvirt's rule for DNS HOST and SRV records: add (`record()`) only when
/// no existing record matches, delete only when exactly one does.
fn add_or_delete_one<T>(
    list: &mut Vec<T>,
    command: u32,
    matching: &[usize],
    record: impl FnOnce() -> T,
    texts: &RecordTexts,
    net: &str,
) -> Result<()> {
    let refuse = |text: &str| Err(op_invalid(format!("{text} in network {net}")));
    match (command, matching) {
        (ADD_FIRST | ADD_LAST, []) => insert(list, command, record()),
        (ADD_FIRST | ADD_LAST, _) => return refuse(texts.exists),
        (DELETE, []) => return refuse(texts.missing),
        (DELETE, [i]) => {
            list.remove(*i);
        }
        (DELETE, _) => return refuse(texts.ambiguous),
        _ => return Err(unknown_command(command)),
    }
    Ok(())
}

fn same_mac(a: &str, b: &str) -> bool {
    MacAddr::parse(a).is_some() && MacAddr::parse(a) == MacAddr::parse(b)
}

impl NetworkDef {
    /// Apply one update command to `section` (a `virNetworkUpdateSection`)
    /// with `xml` the element it takes.
    pub fn update_section(
        &mut self,
        command: u32,
        section: u32,
        parent_index: i32,
        xml_text: &str,
    ) -> Result<()> {
        let mut el = xml::parse(xml_text, "(network_update_xml)", super::ERROR_DOMAIN)?;
        xml::strip_blanks(&mut el);
        let name = SECTIONS.get(section as usize).copied().unwrap_or("none");
        let no_support = |what: &str| {
            op_unsupported(format!(
                "can't update '{what}' section of network '{}'",
                self.name
            ))
        };
        match name {
            "bridge" | "domain" | "ip" | "forward" => Err(no_support(name)),
            "forward-pf" => Err(no_support("forward pf")),
            "ip-dhcp-host" => self.update_dhcp_host(command, parent_index, &el),
            "ip-dhcp-range" => self.update_dhcp_range(command, parent_index, &el),
            "forward-interface" => self.update_forward_interface(command, &el),
            "portgroup" => self.update_portgroup(command, &el),
            "dns-host" => self.update_dns_host(command, &el),
            "dns-txt" => self.update_dns_txt(command, &el),
            "dns-srv" => self.update_dns_srv(command, &el),
            _ => Err(op_unsupported(
                "can't update unrecognized section of network".into(),
            )),
        }
    }

    fn check_element(&self, el: &Element, section: &str) -> Result<()> {
        if el.name != section {
            return Err(xml_error(format!(
                "unexpected element <{}>, expecting <{section}>, while updating network '{}'",
                el.name, self.name
            )));
        }
        Ok(())
    }

    /// `virNetworkIPDefByIndex`: the `<ip>` whose DHCP the update is for.
    fn dhcp_ip_index(&self, parent_index: i32) -> Result<usize> {
        if parent_index >= 0 {
            return usize::try_from(parent_index)
                .ok()
                .filter(|i| *i < self.ips.len())
                .ok_or_else(|| {
                    op_invalid(format!(
                        "couldn't update dhcp host entry - no <ip> element found at index {parent_index} in network '{}'",
                        self.name
                    ))
                });
        }
        let with_dhcp = self
            .ips
            .iter()
            .position(|ip| !(ip.ranges.is_empty() && ip.hosts.is_empty()));
        with_dhcp
            .or_else(|| self.ips.iter().position(NetworkIp::is_v4))
            .or_else(|| self.ips.iter().position(|ip| !ip.is_v4()))
            .ok_or_else(|| {
                op_invalid(format!(
                    "couldn't update dhcp host entry - no <ip> element found in network '{}'",
                    self.name
                ))
            })
    }

    /// `virNetworkDefUpdateCheckMultiDHCP`.
    fn check_multi_dhcp(&self, index: usize) -> Result<()> {
        let v4 = self.ips[index].is_v4();
        let other = self.ips.iter().enumerate().any(|(i, ip)| {
            i != index && ip.is_v4() == v4 && !(ip.ranges.is_empty() && ip.hosts.is_empty())
        });
        if other {
            return Err(op_invalid(format!(
                "dhcp is supported only for a single {} address on each network",
                if v4 { "IPv4" } else { "IPv6" }
            )));
        }
        Ok(())
    }

    fn update_dhcp_host(&mut self, command: u32, parent: i32, el: &Element) -> Result<()> {
        let index = self.dhcp_ip_index(parent);
        self.check_element(el, "host")?;
        let index = index?;
        let partial = command == DELETE;
        let ip = &self.ips[index];
        let host = ip.parse_host(&self.name, el, partial)?;
        if !partial && host.ip.is_some_and(|h| h.ip.is_ipv4() != ip.is_v4()) {
            return Err(op_invalid(
                "the address family of a host entry IP must match the address family of the dhcp element's parent".into(),
            ));
        }
        let net = self.name.clone();
        let shown = |h: &super::DhcpHost| {
            (
                h.mac.clone().unwrap_or_else(|| "unknown".into()),
                h.name.clone().unwrap_or_else(|| "(null)".into()),
                h.ip.map_or_else(|| "unknown".into(), |a| a.to_string()),
            )
        };
        let hosts = &mut self.ips[index].hosts;
        let mac_eq = |h: &super::DhcpHost| matches!((&host.mac, &h.mac), (Some(a), Some(b)) if same_mac(a, b));
        let ip_eq = |h: &super::DhcpHost| host.ip.is_some() && host.ip == h.ip;
        let name_eq = |h: &super::DhcpHost| host.name.is_some() && host.name == h.name;
        match command {
            MODIFY => {
                let Some(i) = hosts
                    .iter()
                    .position(|h| mac_eq(h) || ip_eq(h) || name_eq(h))
                else {
                    let (m, n, a) = shown(&host);
                    return Err(op_invalid(format!(
                        "couldn't locate an existing dhcp host entry with \"mac='{m}'\" \"name='{n}'\" \"ip='{a}'\" in network '{net}'"
                    )));
                };
                hosts[i] = host;
            }
            ADD_FIRST | ADD_LAST => {
                self.check_multi_dhcp(index)?;
                let hosts = &mut self.ips[index].hosts;
                if hosts.iter().any(|h| mac_eq(h) || name_eq(h) || ip_eq(h)) {
                    let (m, n, a) = shown(&host);
                    return Err(op_invalid(format!(
                        "there is an existing dhcp host entry in network '{net}' that matches \"<host mac='{m}' name='{n}' ip='{a}'/>\""
                    )));
                }
                insert(hosts, command, host);
            }
            DELETE => {
                let found = hosts.iter().position(|h| {
                    (host.mac.is_none() || h.mac.is_none() || mac_eq(h))
                        && (host.name.is_none() || name_eq(h))
                        && (host.ip.is_none() || ip_eq(h))
                });
                let Some(i) = found else {
                    return Err(op_invalid(format!(
                        "couldn't locate a matching dhcp host entry in network '{net}'"
                    )));
                };
                hosts.remove(i);
            }
            _ => return Err(unknown_command(command)),
        }
        Ok(())
    }

    fn update_dhcp_range(&mut self, command: u32, parent: i32, el: &Element) -> Result<()> {
        let index = self.dhcp_ip_index(parent);
        self.check_element(el, "range")?;
        let index = index?;
        if command == MODIFY {
            return Err(op_unsupported(
                "dhcp ranges cannot be modified, only added or deleted".into(),
            ));
        }
        let ip = &self.ips[index];
        let range = ip.parse_range(&self.name, el)?;
        if range.start.ip.is_ipv4() != ip.is_v4() {
            return Err(op_invalid(
                "the address family of a dhcp range must match the address family of the dhcp element's parent".into(),
            ));
        }
        let found = ip
            .ranges
            .iter()
            .position(|r| r.start == range.start && r.end == range.end);
        let net = self.name.clone();
        match command {
            ADD_FIRST | ADD_LAST => {
                self.check_multi_dhcp(index)?;
                if found.is_some() {
                    return Err(op_invalid(format!(
                        "there is an existing dhcp range entry in network '{net}' that matches \"<range start='{}' end='{}'/>\"",
                        range.start, range.end
                    )));
                }
                insert(&mut self.ips[index].ranges, command, range);
            }
            DELETE => {
                let Some(i) = found else {
                    return Err(op_invalid(format!(
                        "couldn't locate a matching dhcp range entry in network '{net}'"
                    )));
                };
                self.ips[index].ranges.remove(i);
            }
            _ => return Err(unknown_command(command)),
        }
        Ok(())
    }

    fn update_forward_interface(&mut self, command: u32, el: &Element) -> Result<()> {
        self.check_element(el, "interface")?;
        if command == MODIFY {
            return Err(op_unsupported(
                "forward interface entries cannot be modified, only added or deleted".into(),
            ));
        }
        let Some(dev) = el.attr("dev") else {
            return Err(xml_error(
                "missing dev attribute in <interface> element".into(),
            ));
        };
        let net = self.name.clone();
        let ifs = &mut self.forward.ifs;
        let found = ifs
            .iter()
            .position(|i| matches!(i, ForwardIf::Netdev { dev: d, .. } if d == dev));
        match command {
            ADD_FIRST | ADD_LAST => {
                if found.is_some() {
                    return Err(op_invalid(format!(
                        "there is an existing interface entry in network '{net}' that matches \"<interface dev='{dev}'>\""
                    )));
                }
                let iface = ForwardIf::Netdev {
                    dev: dev.to_string(),
                    connections: 0,
                };
                insert(ifs, command, iface);
            }
            DELETE => {
                let Some(i) = found else {
                    return Err(op_invalid(format!(
                        "couldn't find an interface entry in network '{net}' matching <interface dev='{dev}'>"
                    )));
                };
                if let ForwardIf::Netdev { connections, .. } = ifs[i] {
                    if connections > 0 {
                        return Err(op_invalid(format!(
                            "unable to delete interface '{dev}' in network '{net}'. It is currently being used  by {connections} domains."
                        )));
                    }
                }
                ifs.remove(i);
            }
            _ => return Err(unknown_command(command)),
        }
        Ok(())
    }

    fn update_portgroup(&mut self, command: u32, el: &Element) -> Result<()> {
        self.check_element(el, "portgroup")?;
        let pg = PortGroup::parse(el)?;
        let net = self.name.clone();
        let found = self.portgroups.iter().position(|p| p.name == pg.name);
        let default = self.portgroups.iter().position(|p| p.is_default);
        match (found, command) {
            (None, MODIFY | DELETE) => {
                return Err(op_invalid(format!(
                    "couldn't find a portgroup entry in network '{net}' matching <portgroup name='{}'>",
                    pg.name
                )))
            }
            (Some(_), ADD_FIRST | ADD_LAST) => {
                return Err(op_invalid(format!(
                    "there is an existing portgroup entry in network '{net}' that matches \"<portgroup name='{}'>\"",
                    pg.name
                )))
            }
            _ => {}
        }
        if command != DELETE && pg.is_default && default.is_some() && default != found {
            return Err(op_invalid(format!(
                "a different portgroup entry in network '{net}' is already set as the default. Only one default is allowed."
            )));
        }
        match (command, found) {
            (MODIFY, Some(i)) => self.portgroups[i] = pg,
            (ADD_FIRST | ADD_LAST, _) => insert(&mut self.portgroups, command, pg),
            (DELETE, Some(i)) => {
                self.portgroups.remove(i);
            }
            _ => return Err(unknown_command(command)),
        }
        Ok(())
    }

    fn update_dns_host(&mut self, command: u32, el: &Element) -> Result<()> {
        if command == MODIFY {
            return Err(op_unsupported(
                "DNS HOST records cannot be modified, only added or deleted".into(),
            ));
        }
        self.check_element(el, "host")?;
        let add = is_add(command);
        let (ip, names) = parse_host_pattern(&self.name, el, !add)?;
        let net = self.name.clone();
        let matching: Vec<usize> = (self.dns.hosts.iter().enumerate())
            .filter(|(_, h)| {
                // Adding checks the address only: one name on several
                // addresses is a legitimate configuration.
                Some(h.ip) == ip || (!add && names.iter().any(|n| h.names.contains(n)))
            })
            .map(|(i, _)| i)
            .collect();
        let texts = RecordTexts {
            exists: "there is already at least one DNS HOST record with a matching field",
            missing: "couldn't locate a matching DNS HOST record",
            ambiguous: "multiple matching DNS HOST records were found",
        };
        let host = || DnsHost {
            ip: ip.expect("an added record has its address"),
            names,
        };
        add_or_delete_one(&mut self.dns.hosts, command, &matching, host, &texts, &net)
    }

    fn update_dns_txt(&mut self, command: u32, el: &Element) -> Result<()> {
        if command == MODIFY {
            return Err(op_unsupported(
                "DNS TXT records cannot be modified, only added or deleted".into(),
            ));
        }
        self.check_element(el, "txt")?;
        let txt = parse_txt(&self.name, el, !is_add(command))?;
        let net = self.name.clone();
        let found = self.dns.txts.iter().position(|t| t.name == txt.name);
        match command {
            ADD_FIRST | ADD_LAST => {
                if found.is_some() {
                    return Err(op_invalid(format!(
                        "there is already a DNS TXT record with name '{}' in network {net}",
                        txt.name
                    )));
                }
                insert(&mut self.dns.txts, command, txt);
            }
            DELETE => {
                let Some(i) = found else {
                    return Err(op_invalid(format!(
                        "couldn't locate a matching DNS TXT record in network {net}"
                    )));
                };
                self.dns.txts.remove(i);
            }
            _ => return Err(unknown_command(command)),
        }
        Ok(())
    }

    fn update_dns_srv(&mut self, command: u32, el: &Element) -> Result<()> {
        if command == MODIFY {
            return Err(op_unsupported(
                "DNS SRV records cannot be modified, only added or deleted".into(),
            ));
        }
        self.check_element(el, "srv")?;
        let srv = parse_srv(&self.name, el, !is_add(command))?;
        let net = self.name.clone();
        let same = |want: &Option<String>, have: &Option<String>| want.is_none() || want == have;
        let matching: Vec<usize> = (self.dns.srvs.iter().enumerate())
            .filter(|(_, s)| {
                same(&srv.domain, &s.domain)
                    && same(&srv.service, &s.service)
                    && same(&srv.protocol, &s.protocol)
                    && same(&srv.target, &s.target)
            })
            .map(|(i, _)| i)
            .collect();
        let texts = RecordTexts {
            exists: "there is already at least one DNS SRV record matching all specified fields",
            missing: "couldn't locate a matching DNS SRV record",
            ambiguous: "multiple DNS SRV records matching all specified fields were found",
        };
        add_or_delete_one(&mut self.dns.srvs, command, &matching, || srv, &texts, &net)
    }
}
