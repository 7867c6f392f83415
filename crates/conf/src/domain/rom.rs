//! `<rom enabled= bar= file=>` of a PCI device (the ROM half of
//! `virDomainDeviceInfoParseXML` / `virDomainDeviceInfoFormat`).

use super::props::{self, TriBool, TriSwitch, VirEnum};
use super::unsupported;
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rom {
    pub enabled: Option<TriBool>,
    pub bar: Option<TriSwitch>,
    pub file: Option<String>,
}

impl Rom {
    /// The `<rom>` child of device element `e`, if any.
    pub(crate) fn parse(e: &Element) -> Result<Option<Rom>> {
        let Some(r) = e.child("rom") else {
            return Ok(None);
        };
        let rom = Rom {
            enabled: props::tribool(r, "enabled")?,
            bar: props::triswitch(r, "bar")?,
            file: r.attr_string("file"),
        };
        if rom.enabled == Some(TriBool::No) && (rom.bar.is_some() || rom.file.is_some()) {
            return Err(unsupported(
                "ROM tuning is not supported when ROM is disabled",
            ));
        }
        Ok(Some(rom))
    }

    /// Written only when something is set.
    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.opt("enabled", self.enabled.map(VirEnum::as_str));
        a.opt("bar", self.bar.map(VirEnum::as_str));
        a.opt("file", self.file.as_deref());
        w.attrs_elem("rom", a.as_str());
    }
}
