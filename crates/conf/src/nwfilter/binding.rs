//! A network filter binding (`<filterbinding>`, libvirt 9.0's
//! src/conf/virnwfilterbindingdef.c): which filter, with which
//! parameters, applies to which guest port.

use super::{internal, ERROR_DOMAIN};
use crate::domain::interface::{FilterRef, MacAddr};
use crate::xml::{self, escape, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `virNWFilterBindingCreateXML`'s `VIR_NWFILTER_BINDING_CREATE_VALIDATE`.
pub const CREATE_VALIDATE: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingDef {
    pub owner_name: String,
    pub owner_uuid: [u8; 16],
    pub portdev: String,
    pub linkdev: Option<String>,
    pub mac: MacAddr,
    /// The filter and its parameters.
    pub filter: FilterRef,
}

/// `virXPathString`: `None` when absent or empty.
fn text(e: Option<&Element>) -> Option<String> {
    e.map(Element::text).filter(|t| !t.is_empty())
}

fn attr(e: Option<&Element>, name: &str) -> Option<String> {
    e.and_then(|e| e.attr(name))
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

impl BindingDef {
    /// `virNWFilterBindingDefParse`.
    pub fn parse(doc: &str) -> Result<BindingDef> {
        let root = xml::parse(doc, "(nwfilterbinding_definition)", ERROR_DOMAIN)?;
        if root.name != "filterbinding" {
            return Err(Error::new(
                ErrorDomain::XML,
                ErrorCode::XML_ERROR,
                format!(
                    "expecting root element of 'filterbinding', not '{}'",
                    root.name
                ),
            ));
        }
        Self::parse_element(&root)
    }

    /// `virNWFilterBindingDefParseXML`.
    pub fn parse_element(root: &Element) -> Result<BindingDef> {
        let missing = |what: &str| internal(format!("filter binding has no {what}"));
        let portdev =
            attr(root.child("portdev"), "name").ok_or_else(|| missing("port dev name"))?;
        let linkdev = match root.child("linkdev") {
            Some(l) => Some(attr(Some(l), "name").ok_or_else(|| missing("link dev name"))?),
            None => None,
        };
        let owner = root.child("owner");
        let owner_name =
            text(owner.and_then(|o| o.child("name"))).ok_or_else(|| missing("owner name"))?;
        let uuid =
            text(owner.and_then(|o| o.child("uuid"))).ok_or_else(|| missing("owner UUID"))?;
        let owner_uuid = rvirt_util::uuid::parse(&uuid)
            .ok_or_else(|| internal(format!("Unable to parse UUID '{uuid}'")))?;
        let mac = attr(root.child("mac"), "address").ok_or_else(|| missing("MAC address"))?;
        let mac =
            MacAddr::parse(&mac).ok_or_else(|| internal(format!("Unable to parse MAC '{mac}'")))?;
        let filter = root
            .child("filterref")
            .filter(|f| f.attr("filter").is_some_and(|n| !n.is_empty()))
            .and_then(FilterRef::parse)
            .ok_or_else(|| missing("filter reference"))?;
        Ok(BindingDef {
            owner_name,
            owner_uuid: *owner_uuid.as_bytes(),
            portdev,
            linkdev,
            mac,
            filter,
        })
    }

    /// `virNWFilterBindingDefFormatBuf`.
    pub fn format(&self) -> String {
        let mut w = Writer::new();
        self.format_into(&mut w);
        w.finish()
    }

    pub fn format_into(&self, w: &mut Writer) {
        w.block("filterbinding", "", |w| {
            w.block("owner", "", |w| {
                w.line(&format!("<name>{}</name>", escape(&self.owner_name)));
                let uuid = rvirt_util::uuid::Uuid::from_bytes(self.owner_uuid);
                w.line(&format!("<uuid>{uuid}</uuid>"));
            });
            w.line(&format!("<portdev name='{}'/>", escape(&self.portdev)));
            if let Some(l) = &self.linkdev {
                w.line(&format!("<linkdev name='{}'/>", escape(l)));
            }
            w.line(&format!("<mac address='{}'/>", self.mac));
            self.filter.format(w);
        });
    }
}
