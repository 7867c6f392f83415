//! `<hub>`: a USB hub (`virDomainHubDef`), parsed as
//! `virDomainHubDefParseXML`, formatted as `virDomainHubDefFormat`.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::{internal, unsupported};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

/// `<hub type='usb'>`, the only `virDomainHubType`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hub {
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

impl Hub {
    pub(crate) fn parse(e: &Element) -> Result<Hub> {
        match e.attr("type") {
            None => return Err(internal("missing hub device type")),
            Some("usb") => {}
            Some(t) => return Err(unsupported(format!("unknown hub device type '{t}'"))),
        }
        Ok(Hub {
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
        })
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        w.elem_with("hub", " type='usb'", |w| {
            format_info_addr(&self.info, &self.address, w)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn hubs_and_usb_addresses_as_virsh() {
        let out =
            dump("<hub type='usb'><address type='usb' port='1.2.0.4'/></hub><hub type='usb'/>")
                .unwrap();
        assert!(out.contains("    <hub type='usb'>\n      <address type='usb' bus='0' port='1.2'/>\n    </hub>\n    <hub type='usb'/>\n"));
        assert_errors(
            dump,
            &[
                ("<hub/>", "internal error: missing hub device type"),
                (
                    "<hub type='usb'><address type='usb' port='1.2.3.4.5'/></hub>",
                    "internal error: Cannot parse <address> 'port' attribute",
                ),
                (
                    "<controller type='usb' model='none'/><hub type='usb'/>",
                    "unsupported configuration: Can't add USB hub: USB is disabled for this domain",
                ),
            ],
        );
    }
}
