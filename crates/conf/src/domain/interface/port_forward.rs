//! `<portForward proto= address= dev=>` and its `<range>`s
//! (`virDomainNetPortForwardDefParseXML` / `virDomainNetPortForwardsFormat`).
//! libvirt 9.0 keeps them on any interface; only passt (which 9.0 refuses)
//! would use them.

use super::super::internal_xml;
use super::super::props::{self, vir_enum, TriBool, VirEnum};
use super::sockaddr::{self, SockAddr};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;
use std::num::NonZeroU32;

vir_enum! {
    /// `virDomainNetProto` without its `none`.
    pub enum NetProto { Tcp = "tcp", Udp = "udp" }
}

/// `virDomainNetPortForwardRange`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortRange {
    pub start: Option<NonZeroU32>,
    /// `end` and `to` are written only with a `start`.
    pub end: Option<NonZeroU32>,
    pub to: Option<NonZeroU32>,
    pub exclude: Option<TriBool>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortForward {
    pub proto: NetProto,
    pub address: Option<SockAddr>,
    pub dev: Option<String>,
    pub ranges: Vec<PortRange>,
}

fn nonzero(e: &Element, name: &str) -> Result<Option<NonZeroU32>> {
    Ok(props::uint(e, name, false, true)?.and_then(NonZeroU32::new))
}

impl PortRange {
    fn parse(e: &Element) -> Result<PortRange> {
        Ok(PortRange {
            start: nonzero(e, "start")?,
            end: nonzero(e, "end")?,
            to: nonzero(e, "to")?,
            exclude: props::tribool(e, "exclude")?,
        })
    }

    fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        if let Some(s) = self.start {
            a.add("start", s).opt("end", self.end).opt("to", self.to);
        }
        a.opt("exclude", self.exclude.map(VirEnum::as_str));
        w.attrs_elem("range", a.as_str());
    }
}

impl PortForward {
    fn parse(e: &Element) -> Result<PortForward> {
        let proto = props::enumeration(e, "proto", true)?.unwrap_or(NetProto::Tcp);
        let address = e
            .attr("address")
            .map(|a| {
                sockaddr::parse(a, None)
                    .ok_or_else(|| internal_xml(format!("Invalid address '{a}' in <portForward>")))
            })
            .transpose()?;
        Ok(PortForward {
            proto,
            address,
            dev: e.attr_string("dev"),
            ranges: e
                .children_named("range")
                .map(PortRange::parse)
                .collect::<Result<_>>()?,
        })
    }

    /// Every `<portForward>` child of `<interface>`.
    pub(super) fn parse_all(e: &Element) -> Result<Vec<PortForward>> {
        e.children_named("portForward")
            .map(PortForward::parse)
            .collect()
    }

    pub(super) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("proto", self.proto.as_str());
        a.opt("address", self.address);
        a.opt("dev", self.dev.as_deref());
        w.elem_with("portForward", a.as_str(), |w| {
            for r in &self.ranges {
                r.format(w);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::test_support::{assert_errors, dump_devices};

    fn eth(body: &str) -> String {
        format!("<interface type='ethernet'><mac address='52:54:00:00:00:01'/>{body}</interface>")
    }

    /// As stock virsh writes them: after the guest `<ip>`s, `end`/`to`
    /// only with a `start`, empty ranges dropped.
    #[test]
    fn formatted_as_virsh() {
        let out = dump_devices(&eth(
            "<portForward proto='udp' address='2001:db8::0001' dev='eth0'><range start='22' end='30' to='1022'/><range end='5' exclude='yes'/><range/></portForward>\
             <ip address='10.0.0.1'/><portForward proto='tcp'/>",
        ))
        .unwrap();
        let want = "\
      <ip address='10.0.0.1' family='ipv4'/>
      <portForward proto='udp' address='2001:db8::1' dev='eth0'>
        <range start='22' end='30' to='1022'/>
        <range exclude='yes'/>
      </portForward>
      <portForward proto='tcp'/>";
        assert!(out.contains(want), "{out}");
    }

    #[test]
    fn refused_as_virsh() {
        let cases = [
            (eth("<portForward/>"), "XML error: Missing required attribute 'proto' in element 'portForward'"),
            (eth("<portForward proto='x'/>"), "XML error: Invalid value for attribute 'proto' in element 'portForward': 'x'."),
            (eth("<portForward proto='tcp' address='x'/>"), "XML error: Invalid address 'x' in <portForward>"),
            (eth("<portForward proto='tcp'><range start='0'/></portForward>"),
             "XML error: Invalid value for attribute 'start' in element 'range': Zero is not permitted"),
        ];
        let cases: Vec<(&str, &str)> = cases.iter().map(|(d, m)| (d.as_str(), *m)).collect();
        assert_errors(dump_devices, &cases);
    }
}
