//! `<redirdev>`: a USB device redirected from the client
//! (`virDomainRedirdevDef`), parsed as `virDomainRedirdevDefParseXML`,
//! checked as `virDomainRedirdevDefValidate`, formatted as
//! `virDomainRedirdevDefFormat`.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::boot::DeviceBoot;
use super::chardev::{ChrSource, ChrType};
use super::props::VirEnum;
use super::{internal, internal_xml, unsupported};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

/// `<redirdev bus='usb'>` (the only `virDomainRedirdevBus`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirdev {
    pub source: ChrSource,
    pub boot: Option<DeviceBoot>,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

impl Redirdev {
    pub(crate) fn parse(e: &Element) -> Result<Redirdev> {
        if let Some(bus) = e.attr("bus").filter(|b| *b != "usb") {
            return Err(unsupported(format!("unknown redirdev bus '{bus}'")));
        }
        let Some(t) = e.attr("type") else {
            return Err(internal("missing type in redirdev"));
        };
        let chr_type = ChrType::parse_named(t, "redirdev character device type")?;
        let mut source = ChrSource::parse(e, chr_type)?;
        if chr_type == ChrType::Dbus && source.channel.is_none() {
            source.channel = Some("org.qemu.usbredir".into());
        }
        let boot = DeviceBoot::parse(e)?;
        let address = parse_addr(e)?;
        if !matches!(address, None | Some(Address::Usb { .. })) {
            return Err(internal_xml("Invalid address for a USB device"));
        }
        Ok(Redirdev {
            source,
            boot,
            info: DeviceInfo::parse(e)?,
            address,
        })
    }

    /// `virDomainRedirdevDefValidate`; `has_usb`: the domain has a USB bus.
    pub(crate) fn validate(&self, has_usb: bool) -> Result<()> {
        if !has_usb {
            return Err(unsupported(
                "cannot add redirected USB device: USB is disabled for this domain",
            ));
        }
        self.source.validate(false)
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        w.line(&format!("<redirdev bus='usb'{}>", self.source.type_attr()));
        w.indent();
        self.source.format(w);
        if let Some(b) = &self.boot {
            b.format(w);
        }
        format_info_addr(&self.info, &self.address, w);
        w.dedent();
        w.line("</redirdev>");
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn redirdevs_as_virsh() {
        let out = dump(
            "<controller type='usb' model='ehci'/><redirdev type='spicevmc'>\
             <address type='usb' bus='0' port='3'/></redirdev><redirdev type='dbus'/>",
        )
        .unwrap();
        let want = "    <redirdev bus='usb' type='spicevmc'>
      <address type='usb' bus='0' port='3'/>
    </redirdev>
    <redirdev bus='usb' type='dbus'>
      <source channel='org.qemu.usbredir'/>
    </redirdev>
";
        assert!(out.contains(want), "{out}");
        assert_errors(
            dump,
            &[
                ("<redirdev type='spicevmc'/>", "unsupported configuration: cannot add redirected USB device: USB is disabled for this domain"),
                ("<controller type='usb' model='ehci'/><redirdev type='pty'><address type='pci'/></redirdev>", "XML error: Invalid address for a USB device"),
                ("<redirdev/>", "internal error: missing type in redirdev"),
            ],
        );
    }
}
