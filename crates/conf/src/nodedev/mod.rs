//! Node device XML (`<device>`, libvirt 9.0's src/conf/node_device_conf.c):
//! parsed with libvirt's messages, formatted byte for byte as
//! `virNodeDeviceDefFormat`.
//!
//! Capabilities modelled: system, pci (without VPD), usb_device, usb, net,
//! scsi_host, scsi_target, scsi, storage, drm, and scsi_generic (format
//! only, as libvirt). The others (mdev, ccw, css,
//! vdpa, ap_*) are refused as not supported rather than dropped.

mod caps;
mod pci;
#[cfg(test)]
mod tests;

pub use caps::{
    DrmType, NetCap, ScsiCap, ScsiHostCap, ScsiTargetCap, StorageCap, SystemCap, UsbDevCap,
    UsbIfCap,
};
pub use pci::{MdevType, PciAddress, PciCap, PcieLink};

use crate::xml::{self, escape, Element, Writer};
use rvirt_util::names::NODE_DEVICE_CAPS;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_FROM_NODEDEV`.
pub const ERROR_DOMAIN: ErrorDomain = ErrorDomain(22);

/// Whether the XML describes an existing device (its name is read) or one
/// to create (libvirt's `EXISTING_DEVICE` / `CREATE_DEVICE`: the name is
/// "new device" and a scsi_host needs no host number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseMode {
    Existing,
    Create,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeDeviceDef {
    pub name: String,
    pub sysfs_path: Option<String>,
    pub devnode: Option<String>,
    pub devlinks: Vec<String>,
    pub parent: Option<String>,
    pub parent_wwnn: Option<String>,
    pub parent_wwpn: Option<String>,
    pub parent_fabric_wwn: Option<String>,
    /// Filled by a host backend, never read from XML (as libvirt).
    pub driver: Option<String>,
    pub caps: Vec<Capability>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Capability {
    System(SystemCap),
    Pci(Box<PciCap>),
    UsbDev(UsbDevCap),
    UsbInterface(UsbIfCap),
    Net(NetCap),
    ScsiHost(ScsiHostCap),
    ScsiTarget(ScsiTargetCap),
    Scsi(ScsiCap),
    Storage(StorageCap),
    Drm(DrmType),
    /// A SCSI generic node's character device; formatted, never parsed
    /// (libvirt's parser refuses the type).
    ScsiGeneric(String),
}

impl Capability {
    /// `virNodeDevCapTypeToString`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Capability::System(_) => "system",
            Capability::Pci(_) => "pci",
            Capability::UsbDev(_) => "usb_device",
            Capability::UsbInterface(_) => "usb",
            Capability::Net(_) => "net",
            Capability::ScsiHost(_) => "scsi_host",
            Capability::ScsiTarget(_) => "scsi_target",
            Capability::Scsi(_) => "scsi",
            Capability::Storage(_) => "storage",
            Capability::Drm(_) => "drm",
            Capability::ScsiGeneric(_) => "scsi_generic",
        }
    }
}

pub(crate) fn internal(msg: impl AsRef<str>) -> Error {
    Error::internal(ERROR_DOMAIN, msg)
}

pub(crate) fn xml_error(msg: impl AsRef<str>) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::XML_ERROR, msg)
}

/// `virXPathString("string(./NAME[1])")`: the first child's text, `None`
/// when absent or empty.
pub(crate) fn text(e: &Element, name: &str) -> Option<String> {
    e.child(name).map(Element::text).filter(|t| !t.is_empty())
}

/// `virStrToLong_ui` in `base`: leading blanks skipped, the whole rest a
/// number; a minus sign wraps as libvirt's "-1 is UINT_MAX" rule does.
pub(crate) fn parse_u32(s: &str, base: u32) -> Option<u32> {
    let s = s.trim_start();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let digits = if base == 16 {
        digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
            .unwrap_or(digits)
    } else {
        digits
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let v = u64::from_str_radix(digits, base).ok()?;
    if neg {
        (v <= u32::MAX as u64).then(|| (v as u32).wrapping_neg())
    } else {
        u32::try_from(v).ok()
    }
}

/// `virNodeDevCapsDefParseUInt` (and `...HexId` with base 16): the
/// device's `missing`/`invalid` message, `%s` being its name.
pub(crate) fn required_u32(
    value: Option<String>,
    base: u32,
    dev: &str,
    missing: &str,
    invalid: &str,
) -> Result<u32> {
    let Some(v) = value else {
        return Err(internal(missing.replace("%s", dev)));
    };
    parse_u32(&v, base).ok_or_else(|| internal(invalid.replace("%s", dev)))
}

/// `virNodeDevCapsDefParseIntOptional`.
pub(crate) fn optional_i32(value: Option<String>, dev: &str, invalid: &str) -> Result<Option<i32>> {
    let Some(v) = value else {
        return Ok(None);
    };
    v.trim_start()
        .parse::<i32>()
        .map(Some)
        .map_err(|_| internal(invalid.replace("%s", dev)))
}

impl NodeDeviceDef {
    /// `virNodeDeviceDefParse` of a document.
    pub fn parse(text: &str, mode: ParseMode) -> Result<NodeDeviceDef> {
        NodeDeviceDef::parse_for(text, mode, None)
    }

    /// `virNodeDeviceDefParse` for a driver of `virt_type` ("QEMU", ...),
    /// which lets a vHBA's missing WWNs be generated with its OUI; without
    /// one (the test driver) they are required.
    pub fn parse_for(
        text: &str,
        mode: ParseMode,
        virt_type: Option<&str>,
    ) -> Result<NodeDeviceDef> {
        let root = xml::parse(text, "(node_device_definition)", ERROR_DOMAIN)?;
        if root.name != "device" {
            return Err(Error::new(
                ErrorDomain::XML,
                ErrorCode::XML_ERROR,
                format!("expecting root element of 'device', not '{}'", root.name),
            ));
        }
        NodeDeviceDef::from_element(&root, mode, virt_type)
    }

    /// `virNodeDeviceDefParseXML`.
    pub fn from_element(
        root: &Element,
        mode: ParseMode,
        virt_type: Option<&str>,
    ) -> Result<NodeDeviceDef> {
        let name = match mode {
            ParseMode::Existing => {
                text(root, "name").ok_or_else(|| Error::bare(ERROR_DOMAIN, ErrorCode::NO_NAME))?
            }
            ParseMode::Create => "new device".to_string(),
        };
        let mut def = NodeDeviceDef {
            name,
            sysfs_path: text(root, "path"),
            ..NodeDeviceDef::default()
        };
        for node in root.children_named("devnode") {
            let kind = crate::domain::props::enumeration::<DevnodeType>(node, "type", true)?;
            match kind {
                Some(DevnodeType::Dev) => def.devnode = Some(node.text()),
                Some(DevnodeType::Link) => def.devlinks.push(node.text()),
                None => {}
            }
        }
        let parent = root.child("parent");
        def.parent = text(root, "parent");
        def.parent_wwnn = parent
            .and_then(|p| p.attr_string("wwnn"))
            .filter(|s| !s.is_empty());
        def.parent_wwpn = parent
            .and_then(|p| p.attr_string("wwpn"))
            .filter(|s| !s.is_empty());
        match (&def.parent_wwnn, &def.parent_wwpn) {
            (Some(n), None) => {
                return Err(xml_error(format!(
                    "when providing parent wwnn='{n}', the wwpn must also be provided"
                )))
            }
            (None, Some(p)) => {
                return Err(xml_error(format!(
                    "when providing parent wwpn='{p}', the wwnn must also be provided"
                )))
            }
            _ => {}
        }
        def.parent_fabric_wwn = parent
            .and_then(|p| p.attr_string("fabric_wwn"))
            .filter(|s| !s.is_empty());
        let nodes: Vec<&Element> = root.children_named("capability").collect();
        if nodes.is_empty() {
            return Err(internal(format!(
                "no device capabilities for '{}'",
                def.name
            )));
        }
        for node in nodes {
            let cap = parse_capability(node, &def.name, mode, virt_type)?;
            def.caps.push(cap);
        }
        Ok(def)
    }

    /// `virNodeDeviceDefFormat`.
    pub fn format(&self) -> String {
        let mut w = Writer::new();
        w.line("<device>");
        w.indent();
        w.line(&format!("<name>{}</name>", escape(&self.name)));
        w.text_elem("path", self.sysfs_path.as_deref());
        if let Some(d) = &self.devnode {
            w.line(&format!("<devnode type='dev'>{}</devnode>", escape(d)));
        }
        for l in &self.devlinks {
            w.line(&format!("<devnode type='link'>{}</devnode>", escape(l)));
        }
        w.text_elem("parent", self.parent.as_deref());
        if let Some(d) = &self.driver {
            w.block("driver", "", |w| w.text_elem("name", Some(d)));
        }
        for cap in &self.caps {
            w.block("capability", &format!(" type='{}'", cap.type_name()), |w| {
                format_capability(w, cap)
            });
        }
        w.dedent();
        w.line("</device>");
        w.finish()
    }

    /// The fc_host capability's WWNN and WWPN (`virNodeDeviceGetWWNs`), or
    /// libvirt's error for a device that is no vHBA.
    pub fn wwns(&self) -> Result<(String, String)> {
        for cap in &self.caps {
            if let Capability::ScsiHost(h) = cap {
                if h.fc_host {
                    return Ok((
                        h.wwnn.clone().unwrap_or_default(),
                        h.wwpn.clone().unwrap_or_default(),
                    ));
                }
            }
        }
        Err(Error::new(
            ERROR_DOMAIN,
            ErrorCode::INTERNAL_ERROR,
            "Device is not a fibre channel HBA",
        ))
    }

    /// Whether the device has capability `name`, counting the nested
    /// fc_host/vports of a scsi_host and the mdev_types of a PCI device
    /// as libvirt's `virNodeDeviceCapsListExport` / list filters do.
    pub fn has_cap(&self, name: &str) -> bool {
        self.cap_names().iter().any(|c| c == name)
    }

    /// The capability names libvirt lists for the device
    /// (`virNodeDeviceGetCapsList`... the top-level ones, then nested).
    pub fn cap_names(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .caps
            .iter()
            .map(|c| c.type_name().to_string())
            .collect();
        for cap in &self.caps {
            match cap {
                Capability::ScsiHost(h) => {
                    if h.fc_host {
                        out.push("fc_host".into());
                    }
                    if h.vport_ops {
                        out.push("vports".into());
                    }
                }
                Capability::Pci(p) if !p.mdev_types.is_empty() => out.push("mdev_types".into()),
                _ => {}
            }
        }
        out
    }
}

crate::domain::props::vir_enum! {
    pub enum DevnodeType { Dev = "dev", Link = "link" }
}

fn parse_capability(
    node: &Element,
    dev: &str,
    mode: ParseMode,
    virt_type: Option<&str>,
) -> Result<Capability> {
    let Some(kind) = node.attr("type") else {
        return Err(crate::domain::props::missing(node, "type"));
    };
    let Some(index) = NODE_DEVICE_CAPS.iter().position(|c| *c == kind) else {
        return Err(crate::domain::props::invalid(node, "type", kind));
    };
    Ok(match kind {
        "system" => Capability::System(SystemCap::parse(node, dev)?),
        "pci" => Capability::Pci(Box::new(PciCap::parse(node, dev)?)),
        "usb_device" => Capability::UsbDev(UsbDevCap::parse(node, dev)?),
        "usb" => Capability::UsbInterface(UsbIfCap::parse(node, dev)?),
        "net" => Capability::Net(NetCap::parse(node, dev)?),
        "scsi_host" => Capability::ScsiHost(ScsiHostCap::parse(node, dev, mode, virt_type)?),
        "scsi_target" => Capability::ScsiTarget(ScsiTargetCap::parse(node, dev)?),
        "scsi" => Capability::Scsi(ScsiCap::parse(node, dev)?),
        "storage" => Capability::Storage(StorageCap::parse(node, dev)?),
        "drm" => Capability::Drm(DrmType::parse(node, dev)?),
        "mdev_types" | "fc_host" | "vports" | "scsi_generic" | "vdpa" | "vpd" => {
            return Err(internal(format!(
                "unknown capability type '{index}' for '{dev}'"
            )))
        }
        other => {
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::CONFIG_UNSUPPORTED,
                format!("node device capability '{other}' is not supported by rvirt yet"),
            ))
        }
    })
}

fn format_capability(w: &mut Writer, cap: &Capability) {
    match cap {
        Capability::System(c) => c.format(w),
        Capability::Pci(c) => c.format(w),
        Capability::UsbDev(c) => c.format(w),
        Capability::UsbInterface(c) => c.format(w),
        Capability::Net(c) => c.format(w),
        Capability::ScsiHost(c) => c.format(w),
        Capability::ScsiTarget(c) => c.format(w),
        Capability::Scsi(c) => c.format(w),
        Capability::Storage(c) => c.format(w),
        Capability::Drm(t) => w.line(&format!("<type>{}</type>", t.as_str())),
        Capability::ScsiGeneric(path) => w.line(&format!("<char>{}</char>", escape(path))),
    }
}

/// `virStrToLong_ui` base 10, for the other conf modules that read
/// numbers as libvirt's XPath helpers do.
pub(crate) fn parse_u32_pub(s: &str) -> Option<u32> {
    parse_u32(s, 10)
}
