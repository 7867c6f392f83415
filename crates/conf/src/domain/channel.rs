//! `<channel>`: a host/guest communication channel (`virDomainChrDef` of
//! device type channel), parsed as `virDomainChrDefParseXML` with its
//! channel target, formatted as `virDomainChrDefFormat`.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::chardev::{ChrSource, ChrType};
use super::controller::ControllerType;
use super::devices::{Controller, Devices};
use super::props;
use super::serial::ConsoleTarget;
use super::{internal, internal_xml, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `virDomainChrChannelTargetType`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelTarget {
    None,
    /// A user-mode network forward; libvirt keeps the port as a socket
    /// address's 16 bits.
    Guestfwd {
        address: Ipv4Addr,
        port: u16,
    },
    /// The runtime `state=` is not read from inactive XML.
    Virtio {
        name: Option<String>,
    },
    Xen {
        name: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub source: ChrSource,
    pub target: ChannelTarget,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

/// `virSocketAddrParse` for a guestfwd address, which must be IPv4.
fn parse_guestfwd(t: &Element) -> Result<ChannelTarget> {
    let Some(addr) = t.attr("address") else {
        return Err(internal_xml(
            "guestfwd channel does not define a target address",
        ));
    };
    let address = match addr.parse::<Ipv4Addr>() {
        Ok(a) => a,
        Err(_) if addr.parse::<Ipv6Addr>().is_ok() => {
            return Err(unsupported("guestfwd channel only supports IPv4 addresses"))
        }
        Err(_) => {
            return Err(internal(format!(
                "Cannot parse socket address '{addr}': Name or service not known"
            )))
        }
    };
    let port = props::uint(t, "port", true, false)?.unwrap_or(0);
    Ok(ChannelTarget::Guestfwd {
        address,
        port: port as u16,
    })
}

fn parse_target(e: &Element) -> Result<ChannelTarget> {
    let Some(t) = e.child("target") else {
        return Err(internal_xml(
            "target type must be specified for channel device",
        ));
    };
    // libvirt reports the missing type, then overwrites it with this.
    let kind = t.attr("type").unwrap_or("(null)");
    let name = t.attr_string("name");
    match kind {
        "none" => Ok(ChannelTarget::None),
        "guestfwd" => parse_guestfwd(t),
        "virtio" => Ok(ChannelTarget::Virtio { name }),
        "xen" => Ok(ChannelTarget::Xen { name }),
        _ => Err(unsupported(format!(
            "unknown target type '{kind}' specified for character device"
        ))),
    }
}

impl Channel {
    pub(crate) fn parse(e: &Element) -> Result<Channel> {
        let chr_type = e
            .attr("type")
            .map_or(Ok(ChrType::Pty), ChrType::parse_host)?;
        let target = parse_target(e)?;
        let source = ChrSource::parse_labelled(e, chr_type)?;
        let virtio = matches!(target, ChannelTarget::Virtio { .. });
        if chr_type == ChrType::SpiceVmc && !virtio {
            return Err(unsupported("spicevmc device type only supports virtio"));
        }
        let ch = Channel {
            source,
            target,
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
        };
        let generated_path = virtio || matches!(ch.target, ChannelTarget::Xen { .. });
        ch.source.validate(generated_path)?;
        Ok(ch)
    }

    /// The virtio-serial controller index a virtio channel sits on.
    fn virtio_serial_controller(&self) -> Option<i32> {
        let virtio = matches!(self.target, ChannelTarget::Virtio { .. });
        virtio.then(|| virtio_serial_controller(&self.address))
    }

    /// `inactive`: as [`ChrSource::format_labelled`].
    pub(crate) fn format(&self, w: &mut Writer, inactive: bool) {
        w.block("channel", &self.source.type_attr(), |w| {
            self.source.format_labelled(w, inactive);
            let mut a = Attrs::new();
            match &self.target {
                ChannelTarget::None => a.add("type", "none"),
                ChannelTarget::Guestfwd { address, port } => a
                    .add("type", "guestfwd")
                    .add("address", address)
                    .add("port", port),
                ChannelTarget::Virtio { name } => {
                    a.add("type", "virtio").opt("name", name.as_deref())
                }
                ChannelTarget::Xen { name } => a.add("type", "xen").opt("name", name.as_deref()),
            };
            w.line(&format!("<target{}/>", a.as_str()));
            format_info_addr(&self.info, &self.address, w);
        });
    }
}

/// The `controller=` of a virtio-serial address, else controller 0.
fn virtio_serial_controller(addr: &Option<Address>) -> i32 {
    match addr {
        Some(Address::VirtioSerial { controller, .. }) => *controller as i32,
        _ => 0,
    }
}

/// `virDomainDefMaybeAddVirtioSerialController`: each virtio channel, then
/// each virtio console, needs its virtio-serial controller.
pub(crate) fn add_virtio_serial_controllers(d: &mut Devices) {
    let channels = d
        .channels
        .iter()
        .filter_map(Channel::virtio_serial_controller);
    let consoles = d
        .consoles
        .iter()
        .filter(|c| c.console_target() == Some(ConsoleTarget::Virtio))
        .map(|c| virtio_serial_controller(&c.address));
    let wanted: Vec<i32> = channels.chain(consoles).collect();
    for index in wanted {
        let present = d
            .controllers
            .iter()
            .any(|c| c.controller_type == ControllerType::VirtioSerial && c.index == index);
        if !present {
            // virDomainDefMaybeAddController appends.
            let c = Controller::new(ControllerType::VirtioSerial, index);
            d.controllers.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn channels_as_virsh() {
        let out = dump(
            "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0' state='connected'/></channel>\
             <channel type='pty'><source path='/dev/pts/3'/><target type='virtio' name='b'/>\
             <address type='virtio-serial' controller='2'/></channel>\
             <channel type='tcp'><source host='h' service='1'/><target type='guestfwd' address='10.0.2.1' port='70000'/></channel>\
             <channel type='udp'><source mode='bind' service='5'/><source mode='connect' host='a' service='6'/><target type='xen' name='x'/></channel>",
        ).unwrap();
        let want = "    <controller type='virtio-serial' index='0'/>
    <controller type='virtio-serial' index='2'/>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <channel type='pty'>
      <target type='virtio' name='b'/>
      <address type='virtio-serial' controller='2' bus='0' port='0'/>
    </channel>
    <channel type='tcp'>
      <source mode='connect' host='h' service='1'/>
      <protocol type='raw'/>
      <target type='guestfwd' address='10.0.2.1' port='4464'/>
    </channel>
    <channel type='udp'>
      <source mode='bind' service='5'/>
      <source mode='connect' host='a' service='6'/>
      <target type='xen' name='x'/>
    </channel>
";
        assert!(out.contains(want), "{out}");
        assert_errors(
            dump,
            &[
                ("<channel type='file'><source path='/a'/><target/></channel>", "unsupported configuration: unknown target type '(null)' specified for character device"),
                ("<channel type='spicevmc'><target type='xen'/></channel>", "unsupported configuration: spicevmc device type only supports virtio"),
                ("<channel type='unix'><target type='guestfwd' address='::1' port='3'/></channel>", "unsupported configuration: guestfwd channel only supports IPv4 addresses"),
                ("<channel type='tcp'><source mode='bind' host='h' service='1'><reconnect enabled='no'/></source><target type='virtio'/></channel>", "internal error: chardev reconnect is possible only for connect mode"),
                ("<channel type='spiceport'><source channel='a b'/><target type='virtio'/></channel>", "invalid argument: Invalid character in source channel for char device"),
            ],
        );
    }
}
