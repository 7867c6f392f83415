//! `<interface>`: a guest NIC and how it reaches the host
//! (`virDomainNetDefParseXML` / `virDomainNetDefFormat`).

mod bandwidth;
mod driver;
mod source;
mod vlan;

pub use bandwidth::{Bandwidth, Rate};
pub use driver::{GuestOffloads, HostOffloads, NetDriver, NetDriverName, TxMode, VirtioNetAttrs};
pub use source::{MacvlanMode, NetSource, SocketSource, VdsSource, VhostUserMode};
pub use vlan::{NativeMode, Vlan};

use super::address::{format_addr, parse_addr, Address};
use super::boot::DeviceBoot;
use super::hostdev::{HostdevSource, HostdevType};
use super::props::{self, vir_enum, TriBool, VirEnum};
use super::rom::Rom;
use super::{esc, internal_xml, unsupported, xml_invalid_attr};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainNetType`.
    pub enum NetType {
        User = "user", Ethernet = "ethernet", VhostUser = "vhostuser", Server = "server",
        Client = "client", Mcast = "mcast", Network = "network", Bridge = "bridge",
        Internal = "internal", Direct = "direct", Hostdev = "hostdev", Udp = "udp",
        Vdpa = "vdpa", Null = "null", Vds = "vds",
    }

    /// `virDomainNetModel` without its `unknown` (a name outside the table
    /// is a [`NetModel::Other`]).
    pub enum NetModelType {
        Netfront = "netfront", Rtl8139 = "rtl8139", Virtio = "virtio", E1000 = "e1000",
        E1000e = "e1000e", VirtioTransitional = "virtio-transitional",
        VirtioNonTransitional = "virtio-non-transitional", UsbNet = "usb-net",
        SpaprVlan = "spapr-vlan", Lan9118 = "lan9118", Scm91c111 = "scm91c111",
        Vlance = "vlance", Vmxnet = "vmxnet", Vmxnet2 = "vmxnet2", Vmxnet3 = "vmxnet3",
        Am79c970a = "Am79C970A", Am79c973 = "Am79C973", I82540em = "82540EM",
        I82545em = "82545EM", I82543gc = "82543GC",
    }

    /// `virDomainNetMacType`: who the address was chosen by.
    pub enum MacType { Generated = "generated", Static = "static" }

    /// `virDomainNetTeamingType`.
    pub enum TeamingType { Persistent = "persistent", Transient = "transient" }
}

/// A NIC model: one of libvirt's table, or any other name kept as written
/// (libvirt's `modelstr`: hypervisors know models libvirt does not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetModel {
    Known(NetModelType),
    Other(String),
}

impl NetModel {
    /// `virDomainNetSetModelString`: the table matched ignoring case, else
    /// a name of letters, digits, `_` and `-`.
    pub fn parse(s: &str) -> Result<NetModel> {
        let known = NetModelType::NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(s));
        if let Some(i) = known {
            return Ok(NetModel::Known(NetModelType::from_index(i)));
        }
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if !s.chars().all(valid) {
            return Err(rvirt_util::Error::new(
                rvirt_util::ErrorDomain::DOMAIN,
                rvirt_util::ErrorCode::INVALID_ARG,
                "Model name contains invalid characters",
            ));
        }
        Ok(NetModel::Other(s.to_string()))
    }

    /// `virDomainNetGetModelString`.
    pub fn as_str(&self) -> &str {
        match self {
            NetModel::Known(m) => m.as_str(),
            NetModel::Other(s) => s,
        }
    }

    /// `virDomainNetIsVirtioModel`.
    pub fn is_virtio(&self) -> bool {
        matches!(
            self,
            NetModel::Known(
                NetModelType::Virtio
                    | NetModelType::VirtioTransitional
                    | NetModelType::VirtioNonTransitional
            )
        )
    }
}

/// `<teaming>`: failover pairing of a virtio NIC with a host device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Teaming {
    pub teaming_type: TeamingType,
    /// The alias of the persistent NIC (transient side only).
    pub persistent: Option<String>,
}

/// What `<interface type='hostdev'>` hands to the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetHostdev {
    pub managed: bool,
    pub source: HostdevSource,
}

/// The host device part of `virDomainNetDefParseXML`: the subsystem
/// comes from `<source><address type=>`, a `<vendor>` meaning USB.
pub(super) fn parse_hostdev(e: &Element) -> Result<NetHostdev> {
    let s = e.child("source");
    let addr_type = s
        .and_then(|s| s.child("address"))
        .and_then(|a| a.attr("type"));
    let has_vendor = s.is_some_and(|s| s.child("vendor").is_some());
    let Some(t) = addr_type.or(has_vendor.then_some("usb")) else {
        return Err(internal_xml("missing source address type"));
    };
    let t = HostdevType::parse_named(t, "host device source address type")?;
    let Some(s) = s else {
        return Err(internal_xml("Missing <source> element in hostdev device"));
    };
    if !matches!(t, HostdevType::Pci | HostdevType::Usb) {
        return Err(unsupported(format!(
            "<interface type='hostdev'> with a '{}' source is not supported by rvirt yet",
            t.as_str()
        )));
    }
    Ok(NetHostdev {
        // An invalid `managed` is reported and ignored by libvirt.
        managed: props::tribool(e, "managed").ok().flatten() == Some(TriBool::Yes),
        source: HostdevSource::parse(e, s, t)?,
    })
}

/// `<interface>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub net_type: NetType,
    pub trust_guest_rx_filters: Option<TriBool>,
    pub mac: Option<String>,
    pub mac_type: Option<MacType>,
    pub mac_check: Option<TriBool>,
    /// `<source>` as the type reads it (the host device of `hostdev`).
    pub source: NetSource,
    pub vlan: Option<Vlan>,
    pub bandwidth: Option<Bandwidth>,
    /// `<port isolated=>`.
    pub port_isolated: Option<TriBool>,
    pub script: Option<String>,
    pub downscript: Option<String>,
    /// `<backenddomain name=>`.
    pub backend_domain: Option<String>,
    pub target_dev: Option<String>,
    /// `<target managed=>`: whether libvirt creates the tap.
    pub target_managed: Option<TriBool>,
    pub model: Option<NetModel>,
    pub driver: NetDriver,
    /// `<backend tap= vhost= logFile=>`: host device paths QEMU uses.
    pub backend: Vec<(&'static str, String)>,
    pub teaming: Option<Teaming>,
    pub boot: Option<DeviceBoot>,
    /// A user alias (`ua-`); other aliases are runtime state.
    pub alias: Option<String>,
    pub rom: Option<Rom>,
    pub acpi_index: Option<u32>,
    pub address: Option<Address>,
}

/// Normalize a MAC as `virMacAddrParse` + format: lower-case, two digits.
pub fn parse_mac(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let mut out = Vec::new();
    for p in parts {
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        out.push(format!("{:02x}", u8::from_str_radix(p, 16).ok()?));
    }
    Some(out.join(":"))
}

/// A random MAC with QEMU's `52:54:00` prefix.
pub fn generate_mac() -> String {
    let b = rvirt_util::uuid::generate().into_bytes();
    format!("52:54:00:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2])
}

/// `<mac address=>`, normalized and unicast.
fn parse_mac_attr(mac: &Element) -> Result<Option<String>> {
    let Some(m) = mac.attr("address") else {
        return Ok(None);
    };
    let norm =
        parse_mac(m).ok_or_else(|| internal_xml(format!("unable to parse mac address '{m}'")))?;
    let first = u8::from_str_radix(&norm[..2], 16).unwrap_or_default();
    if first & 1 == 1 {
        return Err(internal_xml(format!(
            "expected unicast mac address, found multicast '{m}'"
        )));
    }
    Ok(Some(norm))
}

/// `virDomainNetBackendParseXML`: libvirt 9.0 knows no backend type but
/// the default, which may not be spelt out; `vhost` only counts for virtio.
fn parse_backend(b: &Element, virtio_net: bool) -> Result<Vec<(&'static str, String)>> {
    if let Some(t) = b.attr("type") {
        return Err(xml_invalid_attr("type", "backend", t));
    }
    let path = |n| b.attr(n).map(super::sanitize_path);
    let attrs = [
        ("tap", path("tap")),
        ("vhost", path("vhost").filter(|_| virtio_net)),
        ("logFile", b.attr_string("logFile")),
    ];
    Ok(attrs
        .into_iter()
        .filter_map(|(n, v)| Some((n, v?)))
        .collect())
}

/// `virDomainNetTeamingInfoParseXML`.
fn parse_teaming(e: &Element) -> Result<Option<Teaming>> {
    let Some(t) = e.child("teaming") else {
        return Ok(None);
    };
    let (ty, persistent) = (t.attr("type"), t.attr_string("persistent"));
    if ty.is_none() && persistent.is_none() {
        return Ok(None);
    }
    let ty = ty.unwrap_or_default();
    let teaming_type = TeamingType::parse_named(ty, "teaming type")?;
    Ok(Some(Teaming {
        teaming_type,
        persistent,
    }))
}

fn child_attr(e: &Element, child: &str, attr: &str) -> Option<String> {
    e.child(child).and_then(|c| c.attr_string(attr))
}

impl Interface {
    pub(crate) fn parse(e: &Element) -> Result<Interface> {
        let t = e.attr("type").unwrap_or("user");
        let t = NetType::from_str_opt(t).ok_or_else(|| xml_invalid_attr("type", "interface", t))?;
        let trust_guest_rx_filters = props::tribool(e, "trustGuestRxFilters")?;
        // virXPathString: an empty model is no model.
        let model = child_attr(e, "model", "type").filter(|m| !m.is_empty());
        let model = model.as_deref().map(NetModel::parse).transpose()?;
        let mac_el = e.child("mac");
        let target = e.child("target");
        let virtio_net = t != NetType::Hostdev && model.as_ref().is_some_and(NetModel::is_virtio);
        let source = NetSource::parse(t, e)?;
        let net = Interface {
            net_type: t,
            trust_guest_rx_filters,
            mac: mac_el.map(parse_mac_attr).transpose()?.flatten(),
            mac_type: mac_el
                .map(|m| props::enumeration(m, "type", false))
                .transpose()?
                .flatten(),
            mac_check: mac_el
                .map(|m| props::tribool(m, "check"))
                .transpose()?
                .flatten(),
            source,
            vlan: e.child("vlan").map(Vlan::parse).transpose()?,
            bandwidth: e
                .child("bandwidth")
                .map(|b| Bandwidth::parse(b, t == NetType::Network))
                .transpose()?
                .flatten(),
            port_isolated: e
                .child("port")
                .map(|p| props::tribool(p, "isolated"))
                .transpose()?
                .flatten(),
            script: child_attr(e, "script", "path"),
            downscript: child_attr(e, "downscript", "path"),
            backend_domain: child_attr(e, "backenddomain", "name"),
            target_dev: target.and_then(|t| t.attr_string("dev")),
            target_managed: target
                .map(|t| props::tribool(t, "managed"))
                .transpose()?
                .flatten(),
            driver: e
                .child("driver")
                .map(|d| NetDriver::parse(d, virtio_net))
                .transpose()?
                .unwrap_or_default(),
            model,
            backend: e
                .child("backend")
                .map(|b| parse_backend(b, virtio_net))
                .transpose()?
                .unwrap_or_default(),
            teaming: parse_teaming(e)?,
            boot: DeviceBoot::parse(e)?,
            alias: super::disk::user_alias(e),
            rom: Rom::parse(e)?,
            acpi_index: super::boot::acpi_index(e)?,
            address: parse_addr(e)?,
        };
        net.validate()?;
        Ok(net)
    }

    fn is_virtio(&self) -> bool {
        self.model.as_ref().is_some_and(NetModel::is_virtio)
    }

    /// The interface parts of `virDomainNetDefValidate`.
    fn validate(&self) -> Result<()> {
        if self.target_managed == Some(TriBool::No) && self.net_type != NetType::Ethernet {
            return Err(unsupported(format!(
                "unmanaged target dev is not supported on interfaces of type '{}'",
                self.net_type.as_str()
            )));
        }
        if let Some(t) = &self.teaming {
            match (t.teaming_type, &t.persistent) {
                (TeamingType::Transient, None) => {
                    return Err(unsupported(
                        "teaming persistent attribute must be set if teaming type is 'transient'",
                    ))
                }
                (TeamingType::Persistent, Some(_)) => {
                    return Err(unsupported(
                        "teaming persistent attribute not allowed if teaming type is 'persistent'",
                    ))
                }
                _ => {}
            }
        }
        if !self.is_virtio() {
            self.driver.options.check_absent()?;
        }
        Ok(())
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut top = Attrs::new();
        top.add("type", self.net_type.as_str());
        if matches!(&self.source, NetSource::Hostdev(h) if h.managed) {
            top.add("managed", "yes");
        }
        top.opt(
            "trustGuestRxFilters",
            self.trust_guest_rx_filters.map(VirEnum::as_str),
        );
        w.block("interface", top.as_str(), |w| {
            if let Some(m) = &self.mac {
                let mut a = Attrs::new();
                a.add("address", m);
                a.opt("type", self.mac_type.map(VirEnum::as_str));
                a.opt("check", self.mac_check.map(VirEnum::as_str));
                w.line(&format!("<mac{}/>", a.as_str()));
            }
            self.source.format(w);
            if let Some(v) = &self.vlan {
                v.format(w);
            }
            if let Some(b) = &self.bandwidth {
                b.format(w);
            }
            if let Some(p) = self.port_isolated {
                w.line(&format!("<port isolated='{}'/>", p.as_str()));
            }
            self.format_host_side(w);
            if let Some(m) = &self.model {
                w.line(&format!("<model type='{}'/>", esc(m.as_str())));
                if self.is_virtio() {
                    self.driver.format(w);
                }
            }
            if !self.backend.is_empty() {
                let mut a = Attrs::new();
                for (k, v) in &self.backend {
                    a.add(k, v);
                }
                w.line(&format!("<backend{}/>", a.as_str()));
            }
            if let Some(t) = &self.teaming {
                let mut a = Attrs::new();
                a.add("type", t.teaming_type.as_str());
                a.opt("persistent", t.persistent.as_deref());
                w.line(&format!("<teaming{}/>", a.as_str()));
            }
            super::boot::format_info(
                w,
                self.boot.as_ref(),
                self.alias.as_deref(),
                self.rom.as_ref(),
                self.acpi_index,
            );
            format_addr(&self.address, w);
        });
    }

    /// `<script>`, `<downscript>`, `<backenddomain>` and `<target>`.
    fn format_host_side(&self, w: &mut Writer) {
        let paths = [
            ("script", "path", &self.script),
            ("downscript", "path", &self.downscript),
            ("backenddomain", "name", &self.backend_domain),
        ];
        for (elem, attr, value) in paths {
            if let Some(v) = value {
                w.line(&format!("<{elem}{}/>", Attrs::new().add(attr, v).as_str()));
            }
        }
        let mut t = Attrs::new();
        t.opt("dev", self.target_dev.as_deref());
        t.opt("managed", self.target_managed.map(VirEnum::as_str));
        if !t.as_str().is_empty() {
            w.line(&format!("<target{}/>", t.as_str()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_devices};

    /// `virDomainNetSetModelString`, checked against stock virsh on
    /// test:///default: the table matches ignoring case, an empty model is
    /// none, other names are kept as written if their characters are valid.
    #[test]
    fn nic_models_as_virsh() {
        let out = dump_devices(
            "<interface type='user'><mac address='52:54:00:00:00:01'/><model type='VIRTIO'/></interface>\
             <interface type='user'><mac address='52:54:00:00:00:02'/><model type=''/></interface>\
             <interface type='user'><mac address='52:54:00:00:00:03'/><model type='Foo_9'/></interface>",
        )
        .unwrap();
        assert!(out.contains("<mac address='52:54:00:00:00:01'/>\n      <model type='virtio'/>"));
        assert!(out.contains("<mac address='52:54:00:00:00:02'/>\n    </interface>"));
        assert!(out.contains("<model type='Foo_9'/>"), "{out}");
        assert_errors(
            dump_devices,
            &[(
                "<interface type='user'><model type='a b'/></interface>",
                "invalid argument: Model name contains invalid characters",
            )],
        );
    }
}
