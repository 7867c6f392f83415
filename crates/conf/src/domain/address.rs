//! `<address>`: where a device sits on its bus (the address half of
//! libvirt's `virDomainDeviceInfo`).

use super::{esc, internal_xml, props};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

/// `<address>` of a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Pci {
        domain: u32,
        bus: u32,
        slot: u32,
        function: u32,
        multifunction: Option<String>,
    },
    Drive {
        controller: u32,
        bus: u32,
        target: u32,
        unit: u32,
    },
    /// `controller`, `bus`, `port` (base 10, formatted signed as libvirt).
    VirtioSerial {
        controller: u32,
        bus: u32,
        port: u32,
    },
    /// A smartcard reader slot.
    Ccid { controller: u32, slot: u32 },
    /// `bus` and the port path (up to four hops; 0 ends it).
    Usb { bus: u32, port: [u32; 4] },
    /// Any other address type: its `type` and remaining attributes, in order.
    Other {
        addr_type: String,
        attrs: Vec<(String, String)>,
    },
}

impl Address {
    /// The `type` attribute (`virDomainDeviceAddressType`).
    pub fn type_name(&self) -> &str {
        match self {
            Address::Pci { .. } => "pci",
            Address::Drive { .. } => "drive",
            Address::VirtioSerial { .. } => "virtio-serial",
            Address::Ccid { .. } => "ccid",
            Address::Usb { .. } => "usb",
            Address::Other { addr_type, .. } => addr_type,
        }
    }

    pub(crate) fn parse(e: &Element) -> Result<Option<Address>> {
        let Some(t) = e.attr("type") else {
            return Ok(None);
        };
        let num = |name: &str| -> Result<u32> {
            match e.attr(name) {
                None => Ok(0),
                Some(v) => props::base0_u32(v.trim()).ok_or_else(|| {
                    internal_xml(format!("Cannot parse <address> '{name}' attribute"))
                }),
            }
        };
        Ok(Some(match t {
            "pci" => Address::Pci {
                domain: num("domain")?,
                bus: num("bus")?,
                slot: num("slot")?,
                function: num("function")?,
                multifunction: e.attr_string("multifunction"),
            },
            "drive" => Address::Drive {
                controller: num("controller")?,
                bus: num("bus")?,
                target: num("target")?,
                unit: num("unit")?,
            },
            "ccid" => Address::Ccid {
                controller: props::uint(e, "controller", false, false)?.unwrap_or(0),
                slot: props::uint(e, "slot", false, false)?.unwrap_or(0),
            },
            "usb" => Address::Usb {
                port: match e.attr("port") {
                    Some(p) => parse_usb_port(p)?,
                    None => [0; 4],
                },
                bus: props::uint(e, "bus", false, false)?.unwrap_or(0),
            },
            "virtio-serial" => {
                let n = |name| props::uint(e, name, false, false).map(Option::unwrap_or_default);
                Address::VirtioSerial {
                    controller: n("controller")?,
                    bus: n("bus")?,
                    port: n("port")?,
                }
            }
            _ => Address::Other {
                addr_type: t.to_string(),
                attrs: e
                    .attrs
                    .iter()
                    .filter(|(k, _)| k != "type")
                    .cloned()
                    .collect(),
            },
        }))
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        match self {
            Address::Pci {
                domain,
                bus,
                slot,
                function,
                multifunction,
            } => {
                let mut s = String::from("<address type='pci'");
                // virPCIDeviceAddressIsEmpty: the function alone does not count.
                if *domain != 0 || *bus != 0 || *slot != 0 {
                    s.push_str(&format!(
                        " domain='0x{domain:04x}' bus='0x{bus:02x}' slot='0x{slot:02x}' function='0x{function:x}'"
                    ));
                }
                if let Some(m) = multifunction {
                    s.push_str(&format!(" multifunction='{}'", esc(m)));
                }
                s.push_str("/>");
                w.line(&s);
            }
            Address::Drive {
                controller,
                bus,
                target,
                unit,
            } => w.line(&format!(
                "<address type='drive' controller='{controller}' bus='{bus}' target='{target}' unit='{unit}'/>"
            )),
            Address::VirtioSerial { controller, bus, port } => w.line(&format!(
                "<address type='virtio-serial' controller='{}' bus='{}' port='{}'/>",
                *controller as i32, *bus as i32, *port as i32
            )),
            Address::Ccid { controller, slot } => w.line(&format!(
                "<address type='ccid' controller='{}' slot='{}'/>",
                *controller as i32, *slot as i32
            )),
            Address::Usb { bus, port } => {
                let hops: Vec<String> = port.iter().take_while(|p| **p != 0).map(u32::to_string).collect();
                let port = match hops.is_empty() {
                    true => String::new(),
                    false => format!(" port='{}'", hops.join(".")),
                };
                w.line(&format!("<address type='usb' bus='{}'{port}/>", *bus as i32));
            }
            Address::Other { addr_type, attrs } => {
                let mut a = Attrs::new();
                a.add("type", addr_type);
                for (k, v) in attrs {
                    a.add(k, v);
                }
                w.line(&format!("<address{}/>", a.as_str()));
            }
        }
    }
}

pub(crate) fn parse_addr(e: &Element) -> Result<Option<Address>> {
    match e.child("address") {
        Some(a) => Address::parse(a),
        None => Ok(None),
    }
}

pub(crate) fn format_addr(addr: &Option<Address>, w: &mut Writer) {
    if let Some(a) = addr {
        a.format(w);
    }
}

/// `virDomainDeviceUSBAddressParsePort`: dot-separated hops, at most four.
fn parse_usb_port(s: &str) -> Result<[u32; 4]> {
    let bad = || {
        rvirt_util::Error::new(
            rvirt_util::ErrorDomain::DOMAIN,
            rvirt_util::ErrorCode::INTERNAL_ERROR,
            "Cannot parse <address> 'port' attribute",
        )
    };
    let mut port = [0u32; 4];
    let mut rest = s;
    for hop in port.iter_mut() {
        let t = rest.trim_start();
        let end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        *hop = t[..end].parse().map_err(|_| bad())?;
        rest = &t[end..];
        if rest.is_empty() {
            return Ok(port);
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    Err(bad())
}
