//! The `pci` node device capability (`virNodeDevCapPCIDevParseXML`,
//! `virNodeDeviceCapPCIDefFormat`): ids, SR-IOV functions, header type,
//! mediated device types, IOMMU group, NUMA node and PCI Express links.
//! VPD is not modelled and refused.

use super::caps::id_line;
use super::{internal, optional_i32, required_u32, text, xml_error, ERROR_DOMAIN};
use crate::domain::props;
use crate::xml::{escape, Element, Writer};
use rvirt_util::{Error, ErrorCode, Result};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PciAddress {
    pub domain: u32,
    pub bus: u32,
    pub slot: u32,
    pub function: u32,
}

impl PciAddress {
    /// `virPCIDeviceAddressParseXML` (base-0 attributes, checked ranges).
    fn parse(e: &Element) -> Result<PciAddress> {
        let a = PciAddress {
            domain: props::uint_base0(e, "domain", false, false)?.unwrap_or(0),
            bus: props::uint_base0(e, "bus", false, false)?.unwrap_or(0),
            slot: props::uint_base0(e, "slot", false, false)?.unwrap_or(0),
            function: props::uint_base0(e, "function", false, false)?.unwrap_or(0),
        };
        let empty = a == PciAddress::default();
        if !empty {
            if a.bus > 0xff {
                return Err(xml_error(format!(
                    "Invalid PCI address bus='0x{:x}', must be <= 0xFF",
                    a.bus
                )));
            }
            if a.slot > 0x1f {
                return Err(xml_error(format!(
                    "Invalid PCI address slot='0x{:x}', must be <= 0x1F",
                    a.slot
                )));
            }
            if a.function > 7 {
                return Err(xml_error(format!(
                    "Invalid PCI address function=0x{:x}, must be <= 7",
                    a.function
                )));
            }
        }
        Ok(a)
    }

    fn format(&self) -> String {
        format!(
            "<address domain='0x{:04x}' bus='0x{:02x}' slot='0x{:02x}' function='0x{}'/>",
            self.domain, self.bus, self.slot, self.function
        )
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct MdevType {
    pub id: String,
    pub name: Option<String>,
    pub device_api: String,
    pub available: u32,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PcieLink {
    /// -1: not given.
    pub port: i32,
    /// Index in "", "2.5", "5", "8", "16", "32", "64".
    pub speed: usize,
    pub width: u32,
}

const LINK_SPEEDS: [&str; 7] = ["", "2.5", "5", "8", "16", "32", "64"];
const HEADER_TYPES: [&str; 3] = ["endpoint", "pci-bridge", "cardbus-bridge"];

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PciCap {
    /// -1: not given.
    pub class: i32,
    pub domain: u32,
    pub bus: u32,
    pub slot: u32,
    pub function: u32,
    pub vendor: u32,
    pub vendor_name: Option<String>,
    pub product: u32,
    pub product_name: Option<String>,
    pub phys_function: Option<PciAddress>,
    /// `Some` when the device can have virtual functions.
    pub virt_functions: Option<Vec<PciAddress>>,
    pub max_virt_functions: u32,
    /// Index in libvirt's header types (0, endpoint, is never kept).
    pub header_type: usize,
    pub mdev_types: Vec<MdevType>,
    pub iommu_group: Option<(u32, Vec<PciAddress>)>,
    /// -1: not given.
    pub numa_node: i32,
    /// `Some` for a PCI Express device: (cap link, sta link).
    pub pci_express: Option<(Option<PcieLink>, Option<PcieLink>)>,
}

impl PciCap {
    pub(super) fn parse(e: &Element, dev: &str) -> Result<PciCap> {
        let class = match text(e, "class") {
            Some(t) => match i64::from_str_radix(
                t.trim_start()
                    .trim_start_matches("0x")
                    .trim_start_matches("0X"),
                16,
            ) {
                Ok(v) if (0..=0xffffff).contains(&v) => v as i32,
                _ => return Err(internal(format!("invalid PCI class supplied for '{dev}'"))),
            },
            None => -1,
        };
        let num = |name: &str, what: &str| {
            required_u32(
                text(e, name),
                10,
                dev,
                &format!("no PCI {what} ID supplied for '%s'"),
                &format!("invalid PCI {what} ID supplied for '%s'"),
            )
        };
        let (domain, bus, slot, function) = (
            num("domain", "domain")?,
            num("bus", "bus")?,
            num("slot", "slot")?,
            num("function", "function")?,
        );
        let hex = |name: &str| {
            required_u32(
                e.child(name)
                    .and_then(|c| c.attr_string("id"))
                    .filter(|s| !s.is_empty()),
                16,
                dev,
                &format!("no PCI {name} ID supplied for '%s'"),
                &format!("invalid PCI {name} ID supplied for '%s'"),
            )
        };
        let mut cap = PciCap {
            class,
            domain,
            bus,
            slot,
            function,
            vendor: hex("vendor")?,
            product: hex("product")?,
            vendor_name: text(e, "vendor"),
            product_name: text(e, "product"),
            numa_node: -1,
            ..PciCap::default()
        };
        for sub in e.children_named("capability") {
            cap.parse_sub_capability(sub)?;
        }
        if let Some(g) = e.child("iommuGroup") {
            let number = props::uint(g, "number", true, false)?.unwrap_or(0);
            let addrs = g
                .children_named("address")
                .map(PciAddress::parse)
                .collect::<Result<Vec<_>>>()?;
            cap.iommu_group = Some((number, addrs));
        }
        let numa = e
            .child("numa")
            .and_then(|n| n.attr_string("node"))
            .filter(|s| !s.is_empty());
        if let Some(n) = optional_i32(numa, dev, "invalid NUMA node ID supplied for '%s'")? {
            cap.numa_node = n;
        }
        if let Some(px) = e.child("pci-express") {
            let link = |validity: &str| -> Result<Option<PcieLink>> {
                px.children_named("link")
                    .find(|l| l.attr("validity") == Some(validity))
                    .map(parse_link)
                    .transpose()
            };
            cap.pci_express = Some((link("cap")?, link("sta")?));
        }
        Ok(cap)
    }

    fn parse_sub_capability(&mut self, sub: &Element) -> Result<()> {
        let Some(kind) = sub.attr("type") else {
            return Err(xml_error("Missing capability type"));
        };
        match kind {
            "phys_function" => {
                let Some(a) = sub.child("address") else {
                    return Err(xml_error("Missing address in 'phys_function' capability"));
                };
                self.phys_function = Some(PciAddress::parse(a)?);
            }
            "virt_functions" => {
                if let Some(m) = sub.attr("maxCount").filter(|s| !s.is_empty()) {
                    self.max_virt_functions = m
                        .parse()
                        .map_err(|_| xml_error("Malformed 'maxCount' parameter"))?;
                }
                let addrs = sub
                    .children_named("address")
                    .map(PciAddress::parse)
                    .collect::<Result<Vec<_>>>()?;
                self.virt_functions = Some(addrs);
            }
            "mdev_types" => self.mdev_types.extend(parse_mdev_types(sub)?),
            "vpd" => {
                return Err(Error::new(
                    ERROR_DOMAIN,
                    ErrorCode::CONFIG_UNSUPPORTED,
                    "PCI VPD capability is not supported by rvirt yet",
                ))
            }
            other => {
                let i = HEADER_TYPES.iter().position(|h| *h == other).unwrap_or(0);
                if i > 0 && self.header_type == 0 {
                    self.header_type = i;
                }
            }
        }
        Ok(())
    }

    pub(super) fn format(&self, w: &mut Writer) {
        if self.class >= 0 {
            w.line(&format!("<class>0x{:06x}</class>", self.class));
        }
        w.line(&format!("<domain>{}</domain>", self.domain as i32));
        w.line(&format!("<bus>{}</bus>", self.bus));
        w.line(&format!("<slot>{}</slot>", self.slot));
        w.line(&format!("<function>{}</function>", self.function));
        id_line(
            w,
            "product",
            self.product,
            self.product_name.as_deref(),
            "/>",
        );
        id_line(w, "vendor", self.vendor, self.vendor_name.as_deref(), "/>");
        if let Some(pf) = &self.phys_function {
            w.block("capability", " type='phys_function'", |w| {
                w.line(&pf.format())
            });
        }
        if let Some(vfs) = &self.virt_functions {
            let mut attrs = String::from(" type='virt_functions'");
            if self.max_virt_functions != 0 {
                attrs.push_str(&format!(" maxCount='{}'", self.max_virt_functions));
            }
            if vfs.is_empty() {
                w.line(&format!("<capability{attrs}/>"));
            } else {
                w.block("capability", &attrs, |w| {
                    for a in vfs {
                        w.line(&a.format());
                    }
                });
            }
        }
        if self.header_type != 0 {
            w.line(&format!(
                "<capability type='{}'/>",
                HEADER_TYPES[self.header_type]
            ));
        }
        format_mdev_types(w, &self.mdev_types);
        if let Some((number, addrs)) = self.iommu_group.as_ref().filter(|g| !g.1.is_empty()) {
            w.block(
                "iommuGroup",
                &format!(" number='{}'", *number as i32),
                |w| {
                    for a in addrs {
                        w.line(&a.format());
                    }
                },
            );
        }
        if self.numa_node >= 0 {
            w.line(&format!("<numa node='{}'/>", self.numa_node));
        }
        if let Some((cap, sta)) = &self.pci_express {
            if cap.is_none() && sta.is_none() {
                w.line("<pci-express/>");
            } else {
                w.block("pci-express", "", |w| {
                    for (l, v) in [(cap, "cap"), (sta, "sta")] {
                        if let Some(l) = l {
                            w.line(&format_link(l, v));
                        }
                    }
                });
            }
        }
    }
}

fn parse_link(l: &Element) -> Result<PcieLink> {
    let width = props::uint_base0(l, "width", true, false)?.unwrap_or(0);
    let speed = match l.attr("speed") {
        None => 0,
        Some(s) => LINK_SPEEDS
            .iter()
            .position(|n| *n == s)
            .filter(|i| *i > 0)
            .ok_or_else(|| props::invalid(l, "speed", s))?,
    };
    let port = props::int(l, "port")?.unwrap_or(-1);
    Ok(PcieLink { port, speed, width })
}

fn format_link(l: &PcieLink, validity: &str) -> String {
    let mut s = format!("<link validity='{validity}'");
    if l.port >= 0 {
        s.push_str(&format!(" port='{}'", l.port));
    }
    if l.speed != 0 {
        s.push_str(&format!(" speed='{}'", LINK_SPEEDS[l.speed]));
    }
    s.push_str(&format!(" width='{}'/>", l.width as i32));
    s
}

/// `virNodeDevCapMdevTypesParseXML`.
fn parse_mdev_types(cap: &Element) -> Result<Vec<MdevType>> {
    let mut out = Vec::new();
    for t in cap.children_named("type") {
        let Some(id) = t.attr_string("id").filter(|s| !s.is_empty()) else {
            return Err(xml_error(
                "missing 'id' attribute for mediated device's <type> element",
            ));
        };
        let Some(device_api) = text(t, "deviceAPI") else {
            return Err(xml_error(format!(
                "missing device API for mediated device type '{id}'"
            )));
        };
        let available = t
            .child("availableInstances")
            .and_then(|a| super::parse_u32(&a.text(), 10))
            .ok_or_else(|| {
                xml_error(format!(
                    "missing number of available instances for mediated device type '{id}'"
                ))
            })?;
        out.push(MdevType {
            name: text(t, "name"),
            id,
            device_api,
            available,
        });
    }
    Ok(out)
}

fn format_mdev_types(w: &mut Writer, types: &[MdevType]) {
    if types.is_empty() {
        return;
    }
    w.block("capability", " type='mdev_types'", |w| {
        for t in types {
            w.block("type", &format!(" id='{}'", escape(&t.id)), |w| {
                w.text_elem("name", t.name.as_deref());
                w.line(&format!("<deviceAPI>{}</deviceAPI>", escape(&t.device_api)));
                w.line(&format!(
                    "<availableInstances>{}</availableInstances>",
                    t.available
                ));
            });
        }
    });
}
