//! `<vlan>`: the VLAN tags of an interface's host side
//! (`virNetDevVlanParse` / `virNetDevVlanFormat`).

use super::super::props::{self, vir_enum, VirEnum};
use crate::xml::{Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

vir_enum! {
    /// `virNativeVlanMode` without its `default` (which is refused).
    pub enum NativeMode { Tagged = "tagged", Untagged = "untagged" }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vlan {
    pub trunk: bool,
    /// Never empty.
    pub tags: Vec<u32>,
    /// The native VLAN: its mode and tag.
    pub native: Option<(NativeMode, u32)>,
}

/// The VLAN code reports from no particular domain.
fn xml_error(msg: String) -> Error {
    Error::new(ErrorDomain::NONE, ErrorCode::XML_ERROR, msg)
}

impl Vlan {
    pub(crate) fn parse(e: &Element) -> Result<Vlan> {
        let (mut tags, mut native) = (Vec::new(), None);
        for t in e.children_named("tag") {
            let id = props::uint(t, "id", true, false)?.unwrap_or_default();
            if id > 4095 {
                return Err(xml_error(format!(
                    "vlan tag id {id} too large (maximum 4095)"
                )));
            }
            if let Some(mode) = props::enumeration::<NativeMode>(t, "nativeMode", false)? {
                if native.is_some() {
                    return Err(xml_error("duplicate native vlan setting".into()));
                }
                native = Some((mode, id));
            }
            tags.push(id);
        }
        if tags.is_empty() {
            return Err(xml_error(
                "missing tag id - each <vlan> must have at least one <tag id='n'/> subelement"
                    .into(),
            ));
        }
        let trunk = match e.attr("trunk") {
            None => tags.len() > 1,
            Some(t) if t.eq_ignore_ascii_case("yes") => true,
            Some(t) => Self::check_not_trunk(t, tags.len(), native.is_some())?,
        };
        Ok(Vlan {
            trunk,
            tags,
            native,
        })
    }

    /// `trunk` other than yes: only a single tag without native mode, and
    /// only when it says `no`.
    fn check_not_trunk(trunk: &str, tags: usize, native: bool) -> Result<bool> {
        if tags > 1 {
            return Err(xml_error(format!(
                "invalid \"trunk='{trunk}'\" in <vlan> - trunk='yes' is required for more than one vlan tag"
            )));
        }
        if native {
            return Err(xml_error(
                "invalid configuration in <vlan> - \"trunk='no'\" is not allowed with a native vlan id"
                    .into(),
            ));
        }
        if !trunk.eq_ignore_ascii_case("no") {
            return Err(xml_error(format!(
                "invalid \"trunk='{trunk}'\" in <vlan> - must be yes or no"
            )));
        }
        Ok(false)
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        w.line(&format!(
            "<vlan{}>",
            if self.trunk { " trunk='yes'" } else { "" }
        ));
        w.indent();
        for id in &self.tags {
            match self.native {
                Some((mode, tag)) if tag == *id => {
                    w.line(&format!("<tag id='{id}' nativeMode='{}'/>", mode.as_str()))
                }
                _ => w.line(&format!("<tag id='{id}'/>")),
            }
        }
        w.dedent();
        w.line("</vlan>");
    }
}
