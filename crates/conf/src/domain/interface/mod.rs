//! `<interface>`: a guest NIC and how it reaches the host
//! (`virDomainNetDefParseXML` / `virDomainNetDefFormat`).

mod bandwidth;
mod driver;
mod filterref;
mod ip;
mod mac;
mod port_forward;
pub(crate) mod sockaddr;
mod source;
mod tuning;
mod virtualport;
mod vlan;

pub use bandwidth::{Bandwidth, Rate};
pub use driver::{GuestOffloads, HostOffloads, NetDriver, NetDriverName, TxMode, VirtioNetAttrs};
pub use filterref::FilterRef;
pub use ip::{IpInfo, NetIp, Route, RouteFamily};
pub use mac::{generate_mac, parse_mac, MacAddr};
pub use port_forward::{NetProto, PortForward, PortRange};
pub use sockaddr::SockAddr;
pub use source::{MacvlanMode, NetSource, SocketSource, VdsSource, VhostUserMode};
pub use tuning::{GuestIfname, LinkState};
pub(crate) use virtualport::VportRules;
pub use virtualport::{VirtualPort, VirtualPortType};
pub use vlan::{NativeMode, Vlan};

use tuning::xpath_attr;

use super::address::{format_addr, parse_addr, Address, DeviceInfo};
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

/// `<backend tap= vhost= logFile=>`: host device paths QEMU uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetBackend {
    pub tap: Option<String>,
    /// Kept for a virtio NIC only.
    pub vhost: Option<String>,
    pub log_file: Option<String>,
}

impl NetBackend {
    /// `virDomainNetBackendParseXML`: libvirt 9.0 knows no backend type
    /// but the default (passt is refused), which may not be spelt out.
    fn parse(b: &Element, virtio_net: bool) -> Result<NetBackend> {
        if let Some(t) = b.attr("type") {
            return Err(xml_invalid_attr("type", "backend", t));
        }
        let path = |n| b.attr(n).map(super::sanitize_path);
        Ok(NetBackend {
            tap: path("tap"),
            vhost: path("vhost").filter(|_| virtio_net),
            log_file: b.attr_string("logFile"),
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == NetBackend::default()
    }

    fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.opt("tap", self.tap.as_deref());
        a.opt("vhost", self.vhost.as_deref());
        a.opt("logFile", self.log_file.as_deref());
        w.attrs_elem("backend", a.as_str());
    }
}

/// `<interface>`, its fields in libvirt's parse order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub net_type: NetType,
    pub trust_guest_rx_filters: Option<TriBool>,
    pub model: Option<NetModel>,
    /// `<source>`'s `<ip>`s and `<route>`s (ethernet only).
    pub host_ip: IpInfo,
    /// `<source>` as the type reads it (the host device of `hostdev`).
    pub source: NetSource,
    pub virtualport: Option<VirtualPort>,
    pub target_dev: Option<String>,
    /// `<target managed=>`: whether libvirt creates the tap.
    pub target_managed: Option<TriBool>,
    pub guest: GuestIfname,
    pub script: Option<String>,
    pub downscript: Option<String>,
    /// `<backenddomain name=>`.
    pub backend_domain: Option<String>,
    /// Read for network, bridge and ethernet interfaces only.
    pub filterref: Option<FilterRef>,
    pub bandwidth: Option<Bandwidth>,
    pub vlan: Option<Vlan>,
    /// Generated at parse time when the document has none.
    pub mac: MacAddr,
    pub mac_generated: bool,
    pub mac_type: Option<MacType>,
    pub mac_check: Option<TriBool>,
    pub boot: Option<DeviceBoot>,
    pub rom: Option<Rom>,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
    /// The guest side's `<ip>`s and `<route>`s.
    pub guest_ip: IpInfo,
    /// For passt, which libvirt 9.0 refuses; kept as libvirt keeps them.
    pub port_forwards: Vec<PortForward>,
    pub driver: NetDriver,
    pub backend: NetBackend,
    pub link_state: Option<LinkState>,
    pub teaming: Option<Teaming>,
    /// `<tune><sndbuf>`, bytes.
    pub sndbuf: Option<u64>,
    pub mtu: Option<u32>,
    /// `<coalesce><rx><frames max=>`.
    pub coalesce_rx_frames: Option<u32>,
    /// `<port isolated=>`.
    pub port_isolated: Option<TriBool>,
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

/// `<virtualport>`, which only some types take.
fn parse_virtualport(t: NetType, e: &Element) -> Result<Option<VirtualPort>> {
    let Some(v) = e.child("virtualport") else {
        return Ok(None);
    };
    let rules = match t {
        NetType::Network => VportRules::GenerateMissing,
        NetType::Bridge | NetType::Direct | NetType::Hostdev => VportRules::Complete,
        _ => {
            return Err(unsupported(format!(
                "<virtualport> element unsupported for <interface type='{}'>",
                t.as_str()
            )))
        }
    };
    VirtualPort::parse(v, rules).map(Some)
}

/// A tap or macvtap name libvirt generates: an inactive parse forgets it
/// so a fresh one is chosen at start.
fn generated_ifname(dev: &str) -> bool {
    ["vnet", "macvtap", "macvlan"]
        .iter()
        .any(|p| dev.starts_with(p))
}

/// `<target dev= managed=>`, a generated tap name forgotten.
fn parse_target(e: &Element) -> Result<(Option<String>, Option<TriBool>)> {
    let Some(target) = e.child("target") else {
        return Ok((None, None));
    };
    let managed = props::tribool(target, "managed")?;
    let dev = target.attr_string("dev");
    let dev = dev.filter(|d| managed == Some(TriBool::No) || !generated_ifname(d));
    Ok((dev, managed))
}

/// `parse` of the first child `name`, else the default.
fn child_or_default<T: Default>(
    e: &Element,
    name: &str,
    parse: impl FnOnce(&Element) -> Result<T>,
) -> Result<T> {
    e.child(name)
        .map(parse)
        .transpose()
        .map(Option::unwrap_or_default)
}

/// `<mac>`: its address (generated when absent), type and check.
type MacParts = (MacAddr, bool, Option<MacType>, Option<TriBool>);

fn parse_mac_element(e: &Element) -> Result<MacParts> {
    let m = e.child("mac");
    let given = m
        .and_then(|m| m.attr("address"))
        .map(mac::parse_attr)
        .transpose()?;
    let mac_type = m
        .map(|m| props::enumeration(m, "type", false))
        .transpose()?;
    let check = m.map(|m| props::tribool(m, "check")).transpose()?;
    Ok((
        given.unwrap_or_else(MacAddr::generate),
        given.is_none(),
        mac_type.flatten(),
        check.flatten(),
    ))
}

impl Interface {
    pub(crate) fn parse(e: &Element) -> Result<Interface> {
        let t = e.attr("type").unwrap_or("user");
        let t = NetType::from_str_opt(t).ok_or_else(|| xml_invalid_attr("type", "interface", t))?;
        let trust_guest_rx_filters = props::tribool(e, "trustGuestRxFilters")?;
        let model = xpath_attr(e, "model", "type");
        let model = model.as_deref().map(NetModel::parse).transpose()?;
        let host_ip = match e.child("source") {
            Some(s) => IpInfo::parse(s, "interface host IP")?,
            None => IpInfo::default(),
        };
        let virtio_net = t != NetType::Hostdev && model.as_ref().is_some_and(NetModel::is_virtio);
        let filters = matches!(t, NetType::Network | NetType::Bridge | NetType::Ethernet);
        let source = NetSource::parse(t, e)?;
        let virtualport = parse_virtualport(t, e)?;
        let (target_dev, target_managed) = parse_target(e)?;
        let filterref = e.child("filterref").filter(|_| filters);
        let filterref = filterref.and_then(FilterRef::parse);
        let bandwidth = match e.child("bandwidth") {
            Some(b) => Bandwidth::parse(b, t == NetType::Network)?,
            None => None,
        };
        let vlan = e.child("vlan").map(Vlan::parse).transpose()?;
        let (mac, mac_generated, mac_type, mac_check) = parse_mac_element(e)?;
        let net = Interface {
            net_type: t,
            trust_guest_rx_filters,
            model,
            host_ip,
            source,
            virtualport,
            target_dev,
            target_managed,
            guest: GuestIfname::parse(e),
            script: xpath_attr(e, "script", "path"),
            downscript: xpath_attr(e, "downscript", "path"),
            backend_domain: xpath_attr(e, "backenddomain", "name"),
            filterref,
            bandwidth,
            vlan,
            mac,
            mac_generated,
            mac_type,
            mac_check,
            boot: DeviceBoot::parse(e)?,
            rom: Rom::parse(e)?,
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
            guest_ip: IpInfo::parse(e, "guest interface")?,
            port_forwards: PortForward::parse_all(e)?,
            driver: child_or_default(e, "driver", |d| NetDriver::parse(d, virtio_net))?,
            backend: child_or_default(e, "backend", |b| NetBackend::parse(b, virtio_net))?,
            link_state: tuning::parse_link(e)?,
            teaming: parse_teaming(e)?,
            sndbuf: tuning::parse_sndbuf(e)?,
            mtu: tuning::parse_mtu(e)?,
            coalesce_rx_frames: tuning::parse_coalesce(e)?,
            port_isolated: child_or_default(e, "port", |p| props::tribool(p, "isolated"))?,
        };
        net.validate()?;
        Ok(net)
    }

    fn is_virtio(&self) -> bool {
        self.model.as_ref().is_some_and(NetModel::is_virtio)
    }

    /// The interface parts of `virDomainNetDefValidate`.
    fn validate(&self) -> Result<()> {
        ip::check_host_side(&self.host_ip, self.net_type.as_str())?;
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
        self.validate_port_options()?;
        if !self.is_virtio() {
            self.driver.options.check_absent()?;
        }
        self.validate_vhostuser()
    }

    /// The vhost-user rules of `virDomainNetDefValidate`.
    fn validate_vhostuser(&self) -> Result<()> {
        let NetSource::VhostUser {
            mode, reconnect, ..
        } = &self.source
        else {
            return Ok(());
        };
        if !self.is_virtio() {
            return Err(super::internal(
                "Wrong or no <model> 'type' attribute specified with <interface type='vhostuser'/>. vhostuser requires the virtio-net* frontend",
            ));
        }
        if *mode == VhostUserMode::Server && reconnect.enabled == Some(TriBool::Yes) {
            return Err(unsupported(
                "'reconnect' attribute unsupported 'server' mode for <interface type='vhostuser'>",
            ));
        }
        Ok(())
    }

    /// `virDomainNetDefValidatePortOptions`: an isolated port is a Linux
    /// host bridge's, without a switch port profile.
    fn validate_port_options(&self) -> Result<()> {
        if self.port_isolated != Some(TriBool::Yes) {
            return Ok(());
        }
        let refuse = |what: String| {
            Err(unsupported(format!(
                "interface {} - <port isolated='yes'/> is not supported for network interfaces with {what}",
                self.mac
            )))
        };
        if !matches!(self.net_type, NetType::Network | NetType::Bridge) {
            return refuse(format!("type='{}'", self.net_type.as_str()));
        }
        if let Some(t) = self.virtualport.as_ref().and_then(|v| v.port_type) {
            return refuse(format!("virtualport type='{}'", t.as_str()));
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
            let mut a = Attrs::new();
            a.add("address", self.mac);
            a.opt("type", self.mac_type.map(VirEnum::as_str));
            a.opt("check", self.mac_check.map(VirEnum::as_str));
            w.line(&format!("<mac{}/>", a.as_str()));
            self.source.format(w, &self.host_ip);
            if let Some(v) = &self.vlan {
                v.format(w);
            }
            if let Some(v) = &self.virtualport {
                v.format(w);
            }
            if let Some(b) = &self.bandwidth {
                b.format(w);
            }
            if let Some(p) = self.port_isolated {
                w.line(&format!("<port isolated='{}'/>", p.as_str()));
            }
            self.guest_ip.format(w);
            for p in &self.port_forwards {
                p.format(w);
            }
            self.format_host_side(w);
            self.guest.format(w);
            self.format_model_on(w);
            super::boot::format_info(w, self.boot.as_ref(), &self.info, self.rom.as_ref());
            format_addr(&self.address, w);
        });
    }

    /// From `<model>` to `<coalesce>`.
    fn format_model_on(&self, w: &mut Writer) {
        if let Some(m) = &self.model {
            w.line(&format!("<model type='{}'/>", esc(m.as_str())));
            if self.is_virtio() {
                self.driver.format(w);
            }
        }
        self.backend.format(w);
        if let Some(f) = &self.filterref {
            f.format(w);
        }
        tuning::format_sndbuf(w, self.sndbuf);
        if let Some(t) = &self.teaming {
            let mut a = Attrs::new();
            a.add("type", t.teaming_type.as_str());
            a.opt("persistent", t.persistent.as_deref());
            w.line(&format!("<teaming{}/>", a.as_str()));
        }
        tuning::format_link_mtu_coalesce(w, self.link_state, self.mtu, self.coalesce_rx_frames);
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
        w.attrs_elem("target", t.as_str());
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

    /// Stock virsh forgets generated tap names on define (unless the tap
    /// is unmanaged), and refuses vhost-user without virtio or with
    /// reconnect in server mode.
    #[test]
    fn define_time_rules_as_virsh() {
        let out = dump_devices(
            "<interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br0'/><target dev='vnet7'/></interface>\
             <interface type='direct'><mac address='52:54:00:00:00:02'/><source dev='eth0'/><target dev='macvtap2'/></interface>\
             <interface type='ethernet'><mac address='52:54:00:00:00:03'/><target dev='vnet8' managed='no'/></interface>\
             <interface type='ethernet'><mac address='52:54:00:00:00:04'/><target dev='tap0'/></interface>",
        )
        .unwrap();
        assert!(!out.contains("vnet7") && !out.contains("macvtap2"), "{out}");
        assert!(out.contains("<target dev='vnet8' managed='no'/>"), "{out}");
        assert!(out.contains("<target dev='tap0'/>"), "{out}");
        let vhost = |extra: &str, model: &str| {
            format!("<interface type='vhostuser'><source type='unix' path='/s' mode='server'>{extra}</source>{model}</interface>")
        };
        let cases = [
            (vhost("", ""), "internal error: Wrong or no <model> 'type' attribute specified with <interface type='vhostuser'/>. vhostuser requires the virtio-net* frontend"),
            (vhost("<reconnect enabled='yes' timeout='3'/>", "<model type='virtio'/>"),
             "unsupported configuration: 'reconnect' attribute unsupported 'server' mode for <interface type='vhostuser'>"),
        ];
        let cases: Vec<(&str, &str)> = cases.iter().map(|(d, m)| (d.as_str(), *m)).collect();
        assert_errors(dump_devices, &cases);
    }
}
