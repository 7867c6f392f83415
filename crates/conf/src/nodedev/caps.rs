//! The node device capabilities other than PCI: parse and format as
//! node_device_conf.c's `virNodeDevCap*ParseXML` / `virNodeDeviceCap*Format`.

use super::{internal, optional_i32, required_u32, text, xml_error, ParseMode, ERROR_DOMAIN};
use crate::xml::{escape, Element, Writer};
use rvirt_util::{Error, ErrorCode, Result};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SystemCap {
    pub product: Option<String>,
    pub hw_vendor: Option<String>,
    pub hw_version: Option<String>,
    pub hw_serial: Option<String>,
    pub hw_uuid: [u8; 16],
    pub fw_vendor: Option<String>,
    pub fw_version: Option<String>,
    pub fw_release_date: Option<String>,
}

/// `string(./A/B[1])`.
fn nested(e: &Element, a: &str, b: &str) -> Option<String> {
    e.children_named(a)
        .find_map(|p| p.child(b))
        .map(Element::text)
        .filter(|t| !t.is_empty())
}

impl SystemCap {
    pub(super) fn parse(e: &Element, dev: &str) -> Result<SystemCap> {
        let uuid = nested(e, "hardware", "uuid")
            .ok_or_else(|| internal(format!("no system UUID supplied for '{dev}'")))?;
        let uuid = rvirt_util::uuid::parse(&uuid)
            .ok_or_else(|| internal(format!("malformed uuid element for '{dev}'")))?;
        Ok(SystemCap {
            product: text(e, "product"),
            hw_vendor: nested(e, "hardware", "vendor"),
            hw_version: nested(e, "hardware", "version"),
            hw_serial: nested(e, "hardware", "serial"),
            hw_uuid: *uuid.as_bytes(),
            fw_vendor: nested(e, "firmware", "vendor"),
            fw_version: nested(e, "firmware", "version"),
            fw_release_date: nested(e, "firmware", "release_date"),
        })
    }

    pub(super) fn format(&self, w: &mut Writer) {
        w.text_elem("product", self.product.as_deref());
        w.block("hardware", "", |w| {
            w.text_elem("vendor", self.hw_vendor.as_deref());
            w.text_elem("version", self.hw_version.as_deref());
            w.text_elem("serial", self.hw_serial.as_deref());
            let uuid = rvirt_util::uuid::Uuid::from_bytes(self.hw_uuid);
            w.line(&format!("<uuid>{uuid}</uuid>"));
        });
        w.block("firmware", "", |w| {
            w.text_elem("vendor", self.fw_vendor.as_deref());
            w.text_elem("version", self.fw_version.as_deref());
            w.text_elem("release_date", self.fw_release_date.as_deref());
        });
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UsbDevCap {
    pub bus: u32,
    pub device: u32,
    pub vendor: u32,
    pub vendor_name: Option<String>,
    pub product: u32,
    pub product_name: Option<String>,
}

/// `string(./NAME[1]/@id)`.
fn id_attr(e: &Element, name: &str) -> Option<String> {
    e.child(name)
        .and_then(|c| c.attr_string("id"))
        .filter(|s| !s.is_empty())
}

impl UsbDevCap {
    pub(super) fn parse(e: &Element, dev: &str) -> Result<UsbDevCap> {
        let num = |name: &str, what: &str| {
            required_u32(
                text(e, name),
                10,
                dev,
                &format!("no USB {what} supplied for '%s'"),
                &format!("invalid USB {what} supplied for '%s'"),
            )
        };
        let bus = num("bus", "bus number")?;
        let device = num("device", "device number")?;
        let hex = |name: &str, what: &str| {
            required_u32(
                id_attr(e, name),
                16,
                dev,
                &format!("no USB {what} ID supplied for '%s'"),
                &format!("invalid USB {what} ID supplied for '%s'"),
            )
        };
        let vendor = hex("vendor", "vendor")?;
        let product = hex("product", "product")?;
        Ok(UsbDevCap {
            bus,
            device,
            vendor,
            vendor_name: text(e, "vendor"),
            product,
            product_name: text(e, "product"),
        })
    }

    pub(super) fn format(&self, w: &mut Writer) {
        w.line(&format!("<bus>{}</bus>", self.bus as i32));
        w.line(&format!("<device>{}</device>", self.device as i32));
        id_line(
            w,
            "product",
            self.product,
            self.product_name.as_deref(),
            " />",
        );
        id_line(w, "vendor", self.vendor, self.vendor_name.as_deref(), " />");
    }
}

/// `<NAME id='0x%04x'>text</NAME>`, or closed with `empty` when no text.
pub(super) fn id_line(w: &mut Writer, name: &str, id: u32, text: Option<&str>, empty: &str) {
    match text {
        Some(t) => w.line(&format!("<{name} id='0x{id:04x}'>{}</{name}>", escape(t))),
        None => w.line(&format!("<{name} id='0x{id:04x}'{empty}")),
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UsbIfCap {
    pub number: u32,
    pub class: u32,
    pub subclass: u32,
    pub protocol: u32,
    pub description: Option<String>,
}

impl UsbIfCap {
    pub(super) fn parse(e: &Element, dev: &str) -> Result<UsbIfCap> {
        let num = |name: &str| {
            required_u32(
                text(e, name),
                10,
                dev,
                &format!("no USB interface {name} supplied for '%s'"),
                &format!("invalid USB interface {name} supplied for '%s'"),
            )
        };
        Ok(UsbIfCap {
            number: num("number")?,
            class: num("class")?,
            subclass: num("subclass")?,
            protocol: num("protocol")?,
            description: text(e, "description"),
        })
    }

    pub(super) fn format(&self, w: &mut Writer) {
        w.line(&format!("<number>{}</number>", self.number as i32));
        w.line(&format!("<class>{}</class>", self.class as i32));
        w.line(&format!("<subclass>{}</subclass>", self.subclass as i32));
        w.line(&format!("<protocol>{}</protocol>", self.protocol as i32));
        w.text_elem("description", self.description.as_deref());
    }
}

/// `virNetDevFeature` names, in libvirt's order (the output order).
const NET_FEATURES: [&str; 14] = [
    "rx",
    "tx",
    "sg",
    "tso",
    "gso",
    "gro",
    "lro",
    "rxvlan",
    "txvlan",
    "ntuple",
    "rxhash",
    "rdma",
    "txudptnl",
    "switchdev",
];

/// `virNetDevIfState` names (0: none).
const LINK_STATES: [&str; 8] = [
    "",
    "unknown",
    "notpresent",
    "down",
    "lowerlayerdown",
    "testing",
    "dormant",
    "up",
];

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetCap {
    pub ifname: String,
    pub address: Option<String>,
    pub link_speed: u32,
    /// Index in libvirt's `virNetDevIfState` (0: not given).
    pub link_state: usize,
    /// Indexes into libvirt's feature table, set bits.
    pub features: Vec<usize>,
    /// "80203" or "80211".
    pub subtype: Option<String>,
}

impl NetCap {
    pub(super) fn parse(e: &Element, dev: &str) -> Result<NetCap> {
        let ifname = text(e, "interface")
            .ok_or_else(|| internal(format!("no network interface supplied for '{dev}'")))?;
        let mut features = Vec::new();
        for f in e.children_named("feature") {
            let Some(name) = f.attr("name") else {
                return Err(xml_error("missing network device feature name"));
            };
            let Some(i) = NET_FEATURES.iter().position(|n| *n == name) else {
                return Err(xml_error(format!(
                    "unknown network device feature '{name}'"
                )));
            };
            if !features.contains(&i) {
                features.push(i);
            }
        }
        features.sort_unstable();
        let subtype = e
            .child("capability")
            .and_then(|c| c.attr_string("type"))
            .filter(|s| !s.is_empty());
        if let Some(t) = &subtype {
            if t != "80203" && t != "80211" {
                return Err(Error::new(
                    ERROR_DOMAIN,
                    ErrorCode::CONFIG_UNSUPPORTED,
                    format!("invalid network type supplied for '{dev}'"),
                ));
            }
        }
        let mut cap = NetCap {
            ifname,
            address: text(e, "address"),
            features,
            subtype,
            ..NetCap::default()
        };
        if let Some(link) = e.child("link") {
            if let Some(s) = link.attr("state") {
                cap.link_state = LINK_STATES
                    .iter()
                    .position(|n| *n == s)
                    .filter(|i| *i > 0)
                    .ok_or_else(|| crate::domain::props::invalid(link, "state", s))?;
            }
            cap.link_speed = crate::domain::props::uint(link, "speed", false, false)?.unwrap_or(0);
        }
        Ok(cap)
    }

    pub(super) fn format(&self, w: &mut Writer) {
        w.line(&format!("<interface>{}</interface>", escape(&self.ifname)));
        w.text_elem("address", self.address.as_deref());
        if self.link_speed != 0 || self.link_state != 0 {
            let mut s = String::from("<link");
            if self.link_speed != 0 {
                s.push_str(&format!(" speed='{}'", self.link_speed));
            }
            if self.link_state != 0 {
                s.push_str(&format!(" state='{}'", LINK_STATES[self.link_state]));
            }
            s.push_str("/>");
            w.line(&s);
        }
        for f in &self.features {
            w.line(&format!("<feature name='{}'/>", NET_FEATURES[*f]));
        }
        if let Some(t) = &self.subtype {
            w.line(&format!("<capability type='{}'/>", escape(t)));
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScsiHostCap {
    pub host: u32,
    /// -1: not given.
    pub unique_id: i32,
    pub fc_host: bool,
    pub wwnn: Option<String>,
    pub wwpn: Option<String>,
    pub fabric_wwn: Option<String>,
    pub vport_ops: bool,
    pub max_vports: i32,
    pub vports: i32,
}

/// `virRandomGenerateWWN`: "5", the OUI of the driver's vendor and 36
/// random bits; `None` for no or an unknown virt type.
fn random_wwn(virt_type: Option<&str>) -> Option<String> {
    let oui = match virt_type? {
        "QEMU" => "001a4a",
        "Xen" | "xenlight" => "00163e",
        "ESX" | "VMWARE" => "000569",
        "HYPER-V" => "0050f2",
        _ => return None,
    };
    let r = rvirt_util::uuid::generate();
    let b = r.as_bytes();
    let n = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], 0, 0]) & 0xf_ffff_ffff;
    Some(format!("5{oui}{n:09x}"))
}

impl ScsiHostCap {
    pub(super) fn parse(
        e: &Element,
        dev: &str,
        mode: ParseMode,
        virt_type: Option<&str>,
    ) -> Result<ScsiHostCap> {
        let mut cap = ScsiHostCap {
            unique_id: -1,
            ..ScsiHostCap::default()
        };
        if mode == ParseMode::Existing {
            cap.host = required_u32(
                text(e, "host"),
                10,
                dev,
                "no SCSI host ID supplied for '%s'",
                "invalid SCSI host ID supplied for '%s'",
            )?;
            if let Some(id) = optional_i32(
                text(e, "unique_id"),
                dev,
                "invalid unique_id supplied for '%s'",
            )? {
                cap.unique_id = id;
            }
        }
        for sub in e.children_named("capability") {
            match sub.attr("type") {
                None => {
                    return Err(internal(format!(
                        "missing SCSI host capability type for '{dev}'"
                    )))
                }
                Some("vport_ops") => cap.vport_ops = true,
                Some("fc_host") => {
                    cap.fc_host = true;
                    let wwn = |name: &str, upper: &str| {
                        text(sub, name)
                            .or_else(|| random_wwn(virt_type))
                            .ok_or_else(|| {
                                internal(format!(
                                    "no {upper} supplied for '{dev}', and auto-generation failed"
                                ))
                            })
                    };
                    cap.wwnn = Some(wwn("wwnn", "WWNN")?);
                    cap.wwpn = Some(wwn("wwpn", "WWPN")?);
                    cap.fabric_wwn = text(sub, "fabric_wwn");
                }
                Some(other) => {
                    return Err(internal(format!(
                        "unknown SCSI host capability type '{other}' for '{dev}'"
                    )))
                }
            }
        }
        Ok(cap)
    }

    pub(super) fn format(&self, w: &mut Writer) {
        w.line(&format!("<host>{}</host>", self.host as i32));
        if self.unique_id != -1 {
            w.line(&format!("<unique_id>{}</unique_id>", self.unique_id));
        }
        if self.fc_host {
            w.block("capability", " type='fc_host'", |w| {
                w.text_elem("wwnn", self.wwnn.as_deref());
                w.text_elem("wwpn", self.wwpn.as_deref());
                w.text_elem("fabric_wwn", self.fabric_wwn.as_deref());
            });
        }
        if self.vport_ops {
            w.block("capability", " type='vport_ops'", |w| {
                w.line(&format!("<max_vports>{}</max_vports>", self.max_vports));
                w.line(&format!("<vports>{}</vports>", self.vports));
            });
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScsiTargetCap {
    pub name: String,
    /// fc_remote_port: (rport, wwpn).
    pub rport: Option<(String, String)>,
}

impl ScsiTargetCap {
    pub(super) fn parse(e: &Element, dev: &str) -> Result<ScsiTargetCap> {
        let name = text(e, "target")
            .ok_or_else(|| internal(format!("no target name supplied for '{dev}'")))?;
        let mut cap = ScsiTargetCap { name, rport: None };
        for sub in e.children_named("capability") {
            match sub.attr("type") {
                None => {
                    return Err(internal(format!(
                        "missing type for SCSI target capability for '{dev}'"
                    )))
                }
                Some("fc_remote_port") => {
                    let rport = text(sub, "rport")
                        .ok_or_else(|| internal(format!("missing rport name for '{dev}'")))?;
                    let wwpn = text(sub, "wwpn")
                        .ok_or_else(|| internal(format!("missing wwpn identifier for '{dev}'")))?;
                    cap.rport = Some((rport, wwpn));
                }
                Some(other) => {
                    return Err(internal(format!(
                        "unknown SCSI target capability type '{other}' for '{dev}'"
                    )))
                }
            }
        }
        Ok(cap)
    }

    pub(super) fn format(&self, w: &mut Writer) {
        w.line(&format!("<target>{}</target>", escape(&self.name)));
        if let Some((rport, wwpn)) = &self.rport {
            // libvirt prints these two with %s, unescaped.
            w.block("capability", " type='fc_remote_port'", |w| {
                w.line(&format!("<rport>{rport}</rport>"));
                w.line(&format!("<wwpn>{wwpn}</wwpn>"));
            });
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScsiCap {
    pub host: u32,
    pub bus: u32,
    pub target: u32,
    pub lun: u32,
    pub kind: Option<String>,
}

impl ScsiCap {
    pub(super) fn parse(e: &Element, dev: &str) -> Result<ScsiCap> {
        let num = |name: &str, what: &str| {
            required_u32(
                text(e, name),
                10,
                dev,
                &format!("no SCSI {what} supplied for '%s'"),
                &format!("invalid SCSI {what} supplied for '%s'"),
            )
        };
        Ok(ScsiCap {
            host: num("host", "host ID")?,
            bus: num("bus", "bus ID")?,
            target: num("target", "target ID")?,
            lun: num("lun", "LUN ID")?,
            kind: text(e, "type"),
        })
    }

    pub(super) fn format(&self, w: &mut Writer) {
        w.line(&format!("<host>{}</host>", self.host as i32));
        w.line(&format!("<bus>{}</bus>", self.bus as i32));
        w.line(&format!("<target>{}</target>", self.target as i32));
        w.line(&format!("<lun>{}</lun>", self.lun as i32));
        w.text_elem("type", self.kind.as_deref());
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StorageCap {
    pub block: String,
    pub bus: Option<String>,
    pub drive_type: Option<String>,
    pub model: Option<String>,
    pub vendor: Option<String>,
    pub serial: Option<String>,
    pub size: u64,
    pub hotpluggable: bool,
    pub removable: bool,
    pub media_available: bool,
    pub media_size: u64,
    pub media_label: Option<String>,
    /// Filled by a host backend (never read from XML).
    pub logical_block_size: u64,
    pub num_blocks: u64,
}

/// `virNodeDevCapsDefParseULongLong`.
fn required_u64(value: Option<String>, dev: &str, what: &str) -> Result<u64> {
    let Some(v) = value else {
        return Err(internal(format!("no {what} supplied for '{dev}'")));
    };
    let t = v.trim_start();
    let t = t.strip_prefix('+').unwrap_or(t);
    t.parse::<u64>()
        .map_err(|_| internal(format!("invalid {what} supplied for '{dev}'")))
}

impl StorageCap {
    pub(super) fn parse(e: &Element, dev: &str) -> Result<StorageCap> {
        let block = text(e, "block")
            .ok_or_else(|| internal(format!("no block device path supplied for '{dev}'")))?;
        let mut cap = StorageCap {
            block,
            bus: text(e, "bus"),
            drive_type: text(e, "drive_type"),
            model: text(e, "model"),
            vendor: text(e, "vendor"),
            serial: text(e, "serial"),
            ..StorageCap::default()
        };
        for sub in e.children_named("capability") {
            match sub.attr("type") {
                None => {
                    return Err(internal(format!(
                        "missing storage capability type for '{dev}'"
                    )))
                }
                Some("hotpluggable") => cap.hotpluggable = true,
                Some("removable") => {
                    cap.removable = true;
                    cap.media_available = sub
                        .children_named("media_available")
                        .any(|m| m.text() == "1");
                    cap.media_label = text(sub, "media_label");
                    cap.media_size =
                        required_u64(text(sub, "media_size"), dev, "removable media size")?;
                }
                Some(other) => {
                    return Err(internal(format!(
                        "unknown storage capability type '{other}' for '{dev}'"
                    )))
                }
            }
        }
        if !cap.removable {
            cap.size = required_u64(text(e, "size"), dev, "size")?;
        }
        Ok(cap)
    }

    pub(super) fn format(&self, w: &mut Writer) {
        w.line(&format!("<block>{}</block>", escape(&self.block)));
        w.text_elem("bus", self.bus.as_deref());
        w.text_elem("drive_type", self.drive_type.as_deref());
        w.text_elem("model", self.model.as_deref());
        w.text_elem("vendor", self.vendor.as_deref());
        w.text_elem("serial", self.serial.as_deref());
        let blocks = |w: &mut Writer| {
            if self.logical_block_size > 0 {
                w.line(&format!(
                    "<logical_block_size>{}</logical_block_size>",
                    self.logical_block_size
                ));
            }
            if self.num_blocks > 0 {
                w.line(&format!("<num_blocks>{}</num_blocks>", self.num_blocks));
            }
        };
        if self.removable {
            w.block("capability", " type='removable'", |w| {
                w.line(&format!(
                    "<media_available>{}</media_available>",
                    self.media_available as i32
                ));
                w.line(&format!("<media_size>{}</media_size>", self.media_size));
                w.text_elem("media_label", self.media_label.as_deref());
                blocks(w);
            });
        } else {
            w.line(&format!("<size>{}</size>", self.size));
            blocks(w);
        }
        if self.hotpluggable {
            w.line("<capability type='hotpluggable'/>");
        }
    }
}

crate::domain::props::vir_enum! {
    /// `virNodeDevDRMType`.
    pub enum DrmType { Primary = "primary", Control = "control", Render = "render" }
}

impl DrmType {
    pub(super) fn parse(e: &Element, dev: &str) -> Result<DrmType> {
        use crate::domain::props::VirEnum;
        let t = text(e, "type");
        t.as_deref().and_then(DrmType::from_str_opt).ok_or_else(|| {
            Error::new(
                ERROR_DOMAIN,
                ErrorCode::CONFIG_UNSUPPORTED,
                format!(
                    "unknown drm type '{}' for '{dev}'",
                    t.as_deref().unwrap_or("(null)")
                ),
            )
        })
    }

    pub fn as_str(self) -> &'static str {
        crate::domain::props::VirEnum::as_str(self)
    }
}
