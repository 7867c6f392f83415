//! `<portgroup>` of a network (`virNetworkPortGroupParseXML`,
//! `virPortGroupDefFormat`).

use super::xml_error;
use crate::domain::interface::{Bandwidth, VirtualPort, Vlan, VportRules};
use crate::domain::props::{self, TriBool, VirEnum};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

/// `virPortGroupDef`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortGroup {
    pub name: String,
    pub is_default: bool,
    pub trust_guest_rx_filters: Option<TriBool>,
    pub virtualport: Option<VirtualPort>,
    pub bandwidth: Option<Bandwidth>,
    pub vlan: Option<Vlan>,
}

impl PortGroup {
    pub(super) fn parse(e: &Element) -> Result<PortGroup> {
        let Some(name) = e.attr("name").filter(|n| !n.is_empty()) else {
            return Err(xml_error(
                "Missing required name attribute in portgroup".into(),
            ));
        };
        Ok(PortGroup {
            name: name.to_string(),
            is_default: e
                .attr("default")
                .is_some_and(|d| d.eq_ignore_ascii_case("yes")),
            trust_guest_rx_filters: props::tribool(e, "trustGuestRxFilters")?,
            virtualport: e
                .child("virtualport")
                .map(|v| VirtualPort::parse(v, VportRules::AsGiven))
                .transpose()?,
            bandwidth: match e.child("bandwidth") {
                Some(b) => Bandwidth::parse(b, false)?,
                None => None,
            },
            vlan: e.child("vlan").map(Vlan::parse).transpose()?,
        })
    }

    pub(super) fn format(&self, w: &mut Writer) {
        let mut head = format!("<portgroup name='{}'", self.name);
        if self.is_default {
            head.push_str(" default='yes'");
        }
        if let Some(t) = self.trust_guest_rx_filters {
            head.push_str(&format!(" trustGuestRxFilters='{}'", t.as_str()));
        }
        w.line(&format!("{head}>"));
        w.indent();
        if let Some(v) = &self.vlan {
            v.format(w);
        }
        if let Some(v) = &self.virtualport {
            v.format(w);
        }
        if let Some(b) = &self.bandwidth {
            b.format(w);
        }
        w.dedent();
        w.line("</portgroup>");
    }
}
