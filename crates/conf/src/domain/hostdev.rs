//! `<hostdev mode='subsystem'>`: a host device handed to the guest
//! (`virDomainHostdevDef`), parsed as `virDomainHostdevDefParseXML`,
//! checked as `virDomainHostdevDefValidate` / `virDomainDefHostdevValidate`
//! and formatted as `virDomainHostdevDefFormat`. PCI, USB, mediated and
//! vhost-scsi and SCSI (`hostdev_scsi.rs`) devices are modelled;
//! capabilities mode is refused as not supported yet.

use super::address::{format_addr, parse_addr, Address, DeviceInfo};
use super::boot::DeviceBoot;
use super::controller::ControllerType;
use super::hostdev_caps::CapsSource;
use super::hostdev_scsi::{ScsiHostdev, ScsiSource};
use super::props::{self, attr_struct, vir_enum, TriBool, TriSwitch, VirEnum};
use super::rom::Rom;
use super::{internal, internal_xml, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::{uuid, Result};

vir_enum! {
    /// `virDomainHostdevSubsysType`.
    pub enum HostdevType { Usb = "usb", Pci = "pci", Scsi = "scsi", ScsiHost = "scsi_host", Mdev = "mdev" }

    /// `virDomainHostdevSubsysPCIBackend` without "default" (`None`).
    pub enum PciBackend { Kvm = "kvm", Vfio = "vfio", Xen = "xen" }

    /// `virDomainStartupPolicy` without "default" (`None`).
    pub enum StartupPolicy { Mandatory = "mandatory", Requisite = "requisite", Optional = "optional" }

    /// `virDomainHostdevSubsysUSBGuestReset` without "default" (`None`).
    pub enum GuestReset { Off = "off", Uninitialized = "uninitialized", On = "on" }

    /// `virDomainHostdevSubsysSCSIVHostModel`; "default" is kept unformatted.
    pub enum VhostScsiModel {
        Default = "default", Virtio = "virtio", VirtioTransitional = "virtio-transitional",
        VirtioNonTransitional = "virtio-non-transitional",
    }

    /// `virMediatedDeviceModel`.
    pub enum MdevModel { VfioPci = "vfio-pci", VfioCcw = "vfio-ccw", VfioAp = "vfio-ap" }

    /// `virDomainDeviceSGIO` without "default": only checked, SCSI only.
    pub enum Sgio { Filtered = "filtered", Unfiltered = "unfiltered" }
}

/// The host PCI address of `<source><address>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PciAddr {
    pub domain: u32,
    pub bus: u32,
    pub slot: u32,
    pub function: u32,
}

attr_struct! {
    /// `<source>` attributes of a USB device, in libvirt's output order.
    pub struct UsbSourceAttrs {
        startup_policy: StartupPolicy = "startupPolicy",
        guest_reset: GuestReset = "guestReset",
    }
}

/// What is handed through, by subsystem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostdevSource {
    Pci {
        addr: PciAddr,
        backend: Option<PciBackend>,
        write_filtering: Option<TriBool>,
    },
    Usb {
        attrs: UsbSourceAttrs,
        /// (vendor, product); vendor is never 0.
        ids: Option<(u32, u32)>,
        /// (bus, device) on the host.
        location: Option<(u32, u32)>,
    },
    ScsiHost {
        model: VhostScsiModel,
        /// `naa.` and 16 hex digits.
        wwpn: String,
    },
    Mdev {
        model: MdevModel,
        display: Option<TriSwitch>,
        ramfb: Option<TriSwitch>,
        uuid: uuid::Uuid,
    },
    Scsi(ScsiHostdev),
    /// `mode='capabilities'`: a host block, character or network device.
    Caps(CapsSource),
}

/// `<hostdev mode='subsystem'>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hostdev {
    pub managed: bool,
    pub source: HostdevSource,
    /// `<teaming type='transient' persistent=>`: the alias of the
    /// virtio interface this PCI device fails over to.
    pub teaming: Option<String>,
    pub boot: Option<DeviceBoot>,
    pub rom: Option<Rom>,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

/// `virPCIDeviceAddressParseXML`: base-0 numbers, checked when not empty.
pub(crate) fn parse_pci_addr(a: &Element) -> Result<PciAddr> {
    let n = |name| props::uint_base0(a, name, false, false).map(Option::unwrap_or_default);
    let addr = PciAddr {
        domain: n("domain")?,
        bus: n("bus")?,
        slot: n("slot")?,
        function: n("function")?,
    };
    props::triswitch(a, "multifunction")?;
    // virPCIDeviceAddressIsValid, for a non-empty address.
    let empty = addr.domain == 0 && addr.bus == 0 && addr.slot == 0;
    let invalid = |m: String| Err(internal_xml(format!("Invalid PCI address {m}")));
    if !empty && addr.bus > 0xFF {
        return invalid(format!("bus='0x{:x}', must be <= 0xFF", addr.bus));
    }
    if !empty && addr.slot > 0x1F {
        return invalid(format!("slot='0x{:x}', must be <= 0x1F", addr.slot));
    }
    if !empty && addr.function > 7 {
        return invalid(format!("function=0x{:x}, must be <= 7", addr.function));
    }
    Ok(addr)
}

fn parse_usb(s: &Element) -> Result<HostdevSource> {
    let attrs = UsbSourceAttrs::parse(s)?;
    props::tribool(s, "autoAddress")?;
    let id = |e: Option<&Element>, nonzero| match e {
        Some(e) => props::uint_base0(e, "id", true, nonzero),
        None => Ok(None),
    };
    let vendor = id(s.child("vendor"), true)?;
    if vendor.is_some() && s.child("product").is_none() {
        return Err(internal("missing product"));
    }
    let product = id(s.child("product"), false)?;
    if product.is_some() && vendor.is_none() {
        return Err(internal("missing vendor"));
    }
    let location = match s.child("address") {
        Some(a) => Some((
            props::uint_base0(a, "bus", true, false)?.unwrap_or_default(),
            props::uint_base0(a, "device", true, false)?.unwrap_or_default(),
        )),
        None => None,
    };
    Ok(HostdevSource::Usb {
        attrs,
        ids: vendor.zip(product),
        location: location.filter(|(bus, dev)| *bus != 0 || *dev != 0),
    })
}

/// `virValidateWWN` of what follows `naa.`.
fn valid_wwn(wwn: &str) -> bool {
    let digits = wwn.strip_prefix("0x").unwrap_or(wwn);
    digits.len() == 16 && digits.chars().all(|c| c.is_ascii_hexdigit())
}

fn parse_scsi_host(e: &Element, s: &Element) -> Result<HostdevSource> {
    let model = props::enumeration(e, "model", false)?.unwrap_or(VhostScsiModel::Default);
    let Some(protocol) = s.attr("protocol") else {
        return Err(internal_xml("Missing scsi_host subsystem protocol"));
    };
    if protocol != "vhost" {
        return Err(unsupported(format!(
            "Unknown scsi_host subsystem protocol '{protocol}'"
        )));
    }
    let Some(wwpn) = s.attr("wwpn") else {
        return Err(internal_xml("missing vhost-scsi hostdev source wwpn"));
    };
    // virValidateWWN's own error is replaced by this one.
    if !wwpn.strip_prefix("naa.").is_some_and(valid_wwn) {
        return Err(internal_xml("malformed 'wwpn' value"));
    }
    Ok(HostdevSource::ScsiHost {
        model,
        wwpn: wwpn.to_string(),
    })
}

fn parse_mdev(e: &Element, s: &Element) -> Result<HostdevSource> {
    let model = props::enumeration(e, "model", true)?.unwrap_or(MdevModel::VfioPci);
    let display = props::triswitch(e, "display")?;
    let ramfb = props::triswitch(e, "ramfb")?;
    let Some(a) = s.child("address") else {
        return Err(unsupported("Missing <address> element"));
    };
    let Some(u) = a.attr("uuid") else {
        return Err(unsupported(
            "Missing 'uuid' attribute for element <address>",
        ));
    };
    let uuid = uuid::parse(u)
        .ok_or_else(|| internal("Cannot parse uuid attribute of element <address>"))?;
    Ok(HostdevSource::Mdev {
        model,
        display,
        ramfb,
        uuid,
    })
}

/// `virDomainNetTeamingInfoParseXML` with the host device checks of
/// `virDomainHostdevDefValidate`: only a transient PCI member naming its
/// persistent peer.
fn parse_teaming(e: &Element, pci: bool) -> Result<Option<String>> {
    let tm = e.child("teaming");
    let get = |n| tm.and_then(|x| x.attr(n)).filter(|v| !v.is_empty());
    let (kind, persistent) = (get("type"), get("persistent"));
    if kind.is_none() && persistent.is_none() {
        return Ok(None);
    }
    match kind {
        Some("transient") => {}
        Some("persistent") => {
            return Err(unsupported(
                "teaming hostdev devices must have type='transient'",
            ))
        }
        k => {
            return Err(unsupported(format!(
                "unknown teaming type '{}'",
                k.unwrap_or("(null)")
            )))
        }
    }
    let Some(p) = persistent else {
        return Err(unsupported(
            "missing required persistent attribute in hostdev teaming element",
        ));
    };
    if !pci {
        return Err(unsupported(
            "teaming is only supported for pci hostdev devices",
        ));
    }
    Ok(Some(p.to_string()))
}

impl HostdevSource {
    /// The `<source>` (and PCI `<driver>`) of a subsystem device of type
    /// `t`; `e` is the element carrying them (`<hostdev>` or
    /// `<interface type='hostdev'>`).
    pub(crate) fn parse(e: &Element, s: &Element, t: HostdevType) -> Result<HostdevSource> {
        Ok(match t {
            HostdevType::Pci => HostdevSource::Pci {
                write_filtering: props::tribool(s, "writeFiltering")?,
                addr: s
                    .child("address")
                    .map(parse_pci_addr)
                    .transpose()?
                    .unwrap_or_default(),
                backend: e
                    .child("driver")
                    .map(|d| props::enumeration(d, "name", false))
                    .transpose()?
                    .flatten(),
            },
            HostdevType::Usb => parse_usb(s)?,
            HostdevType::ScsiHost => parse_scsi_host(e, s)?,
            HostdevType::Mdev => parse_mdev(e, s)?,
            HostdevType::Scsi => HostdevSource::Scsi(ScsiHostdev::parse(e, s)?),
        })
    }
}

/// `virDomainHostdevDefParseXMLSubsys`'s checks of the attributes that
/// belong to one subsystem only.
fn check_subsys_attrs(e: &Element, t: HostdevType) -> Result<()> {
    if t != HostdevType::Usb
        && e.child("source")
            .is_some_and(|s| s.attr("startupPolicy").is_some())
    {
        return Err(unsupported(
            "Setting startupPolicy is only allowed for USB devices",
        ));
    }
    let scsi = t == HostdevType::Scsi;
    if props::enumeration::<Sgio>(e, "sgio", false)?.is_some() && !scsi {
        return Err(internal_xml("sgio is only supported for scsi host device"));
    }
    if props::tribool(e, "rawio")?.is_some() && !scsi {
        return Err(internal_xml("rawio is only supported for scsi host device"));
    }
    if e.attr("model").is_some() && !matches!(t, HostdevType::Mdev | HostdevType::ScsiHost) {
        return Err(internal_xml(format!(
            "'model' attribute in <hostdev> is only supported when type='{}'",
            t.as_str()
        )));
    }
    Ok(())
}

impl Hostdev {
    pub(crate) fn parse(e: &Element) -> Result<Hostdev> {
        match e.attr("mode") {
            None | Some("subsystem") => {}
            Some("capabilities") => {
                let source = HostdevSource::Caps(CapsSource::parse(e, e.attr("type"))?);
                // Refused as on any non-PCI device.
                parse_teaming(e, false)?;
                return Hostdev::with_info(e, false, source, None);
            }
            Some(m) => return Err(unsupported(format!("unknown hostdev mode '{m}'"))),
        }
        // An invalid `managed` is reported and ignored by libvirt.
        let managed = props::tribool(e, "managed").ok().flatten() == Some(TriBool::Yes);
        let Some(t) = e.attr("type") else {
            return Err(internal_xml("missing source address type"));
        };
        let t = HostdevType::parse_named(t, "host device source address type")?;
        let Some(s) = e.child("source") else {
            return Err(internal_xml("Missing <source> element in hostdev device"));
        };
        check_subsys_attrs(e, t)?;
        let source = HostdevSource::parse(e, s, t)?;
        let teaming = parse_teaming(e, t == HostdevType::Pci)?;
        Hostdev::with_info(e, managed, source, teaming)
    }

    /// The hostdev with the device info of `e` (`virDomainDeviceInfoParseXML`).
    fn with_info(
        e: &Element,
        managed: bool,
        source: HostdevSource,
        teaming: Option<String>,
    ) -> Result<Hostdev> {
        let hostdev = Hostdev {
            teaming,
            managed,
            source,
            boot: DeviceBoot::parse(e)?,
            rom: Rom::parse(e)?,
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
        };
        hostdev.check_mdev_address()?;
        Ok(hostdev)
    }

    /// The subsystem of a `mode='subsystem'` device; `None` for
    /// `mode='capabilities'`.
    pub fn hostdev_type(&self) -> Option<HostdevType> {
        Some(match &self.source {
            HostdevSource::Pci { .. } => HostdevType::Pci,
            HostdevSource::Usb { .. } => HostdevType::Usb,
            HostdevSource::ScsiHost { .. } => HostdevType::ScsiHost,
            HostdevSource::Mdev { .. } => HostdevType::Mdev,
            HostdevSource::Scsi(_) => HostdevType::Scsi,
            HostdevSource::Caps(_) => return None,
        })
    }

    /// The `type=` attribute: the subsystem or the capabilities type.
    pub fn type_name(&self) -> &'static str {
        match (&self.source, self.hostdev_type()) {
            (HostdevSource::Caps(c), _) => c.type_name(),
            (_, Some(t)) => t.as_str(),
            (_, None) => "",
        }
    }

    /// `virDomainHostdevDefPostParse`: a mediated device's address fits
    /// its model.
    fn check_mdev_address(&self) -> Result<()> {
        let (HostdevSource::Mdev { model, .. }, Some(a)) = (&self.source, &self.address) else {
            return Ok(());
        };
        let wanted = match model {
            MdevModel::VfioPci => "pci",
            MdevModel::VfioCcw => "ccw",
            MdevModel::VfioAp => return Ok(()),
        };
        if a.type_name() != wanted {
            return Err(internal_xml(format!(
                "Unsupported address type '{}' with mediated device model '{}'",
                a.type_name(),
                model.as_str()
            )));
        }
        Ok(())
    }

    /// `virDomainHostdevDefValidate`: the address types each subsystem takes.
    pub(crate) fn validate(&self) -> Result<()> {
        if let HostdevSource::Scsi(s) = &self.source {
            return s.validate(&self.address);
        }
        let Some(a) = &self.address else {
            return Ok(());
        };
        let t = a.type_name();
        match self.hostdev_type() {
            Some(HostdevType::Pci) if t != "pci" && t != "unassigned" => Err(internal(
                "PCI host devices must use 'pci' or 'unassigned' address type",
            )),
            Some(HostdevType::ScsiHost) if t != "pci" && t != "ccw" => Err(unsupported(
                "SCSI_host host device must use 'pci' or 'ccw' address type",
            )),
            Some(HostdevType::Usb) if t != "usb" => {
                Err(unsupported("USB host device must use 'usb' address type"))
            }
            _ => Ok(()),
        }
    }

    /// `virDomainHostdevMatch`: the same host device.
    fn same_host_device(&self, other: &Hostdev) -> bool {
        use HostdevSource as S;
        match (&self.source, &other.source) {
            (S::Pci { addr: a, .. }, S::Pci { addr: b, .. }) => a == b,
            (
                S::Usb {
                    ids: ia,
                    location: la,
                    ..
                },
                S::Usb {
                    ids: ib,
                    location: lb,
                    ..
                },
            ) => match la {
                Some((bus, dev)) if *bus != 0 && *dev != 0 => la == lb,
                _ => ia.unwrap_or_default() == ib.unwrap_or_default(),
            },
            (S::ScsiHost { wwpn: a, .. }, S::ScsiHost { wwpn: b, .. }) => a == b,
            (S::Mdev { uuid: a, .. }, S::Mdev { uuid: b, .. }) => a == b,
            (S::Scsi(a), S::Scsi(b)) => match (&a.source, &b.source) {
                (
                    ScsiSource::Iscsi {
                        name: na, host: ha, ..
                    },
                    ScsiSource::Iscsi {
                        name: nb, host: hb, ..
                    },
                ) => na == nb && ha.name == hb.name,
                (x, y) => x == y,
            },
            (S::Caps(a), S::Caps(b)) => a.same_device(b),
            _ => false,
        }
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        let caps = matches!(self.source, HostdevSource::Caps(_));
        a.add("mode", if caps { "capabilities" } else { "subsystem" })
            .add("type", self.type_name());
        if !caps {
            a.add("managed", if self.managed { "yes" } else { "no" });
        }
        match &self.source {
            HostdevSource::ScsiHost { model, .. } if *model != VhostScsiModel::Default => {
                a.add("model", model.as_str());
            }
            HostdevSource::Mdev {
                model,
                display,
                ramfb,
                ..
            } => {
                a.add("model", model.as_str());
                a.opt("display", display.map(VirEnum::as_str));
                a.opt("ramfb", ramfb.map(VirEnum::as_str));
            }
            HostdevSource::Scsi(s) => s.attrs(&mut a),
            _ => {}
        }
        w.block("hostdev", a.as_str(), |w| {
            self.source.format(w, false);
            if let Some(p) = &self.teaming {
                let a = Attrs::new().add("persistent", p).as_str().to_string();
                w.line(&format!("<teaming type='transient'{a}/>"));
            }
            if let HostdevSource::Scsi(s) = &self.source {
                s.format_flags(w);
            }
            super::boot::format_info(w, self.boot.as_ref(), &self.info, self.rom.as_ref());
            format_addr(&self.address, w);
        });
    }
}

impl HostdevSource {
    /// `virDomainHostdevDefFormatSubsys`; an interface's addresses carry
    /// their `type`.
    pub(crate) fn format(&self, w: &mut Writer, type_in_addr: bool) {
        match self {
            HostdevSource::Pci {
                addr,
                backend,
                write_filtering,
            } => {
                if let Some(b) = backend {
                    w.line(&format!("<driver name='{}'/>", b.as_str()));
                }
                let mut s = Attrs::new();
                s.opt("writeFiltering", write_filtering.map(VirEnum::as_str));
                w.elem_with("source", s.as_str(), |w| {
                    w.line(&format!(
                        "<address {}domain='0x{:04x}' bus='0x{:02x}' slot='0x{:02x}' function='0x{}'/>",
                        if type_in_addr { "type='pci' " } else { "" },
                        addr.domain, addr.bus, addr.slot, addr.function
                    ))
                });
            }
            HostdevSource::Usb {
                attrs,
                ids,
                location,
            } => w.elem_with("source", attrs.attrs().as_str(), |w| {
                if let Some((vendor, product)) = ids {
                    w.line(&format!("<vendor id='0x{vendor:04x}'/>"));
                    w.line(&format!("<product id='0x{product:04x}'/>"));
                }
                if let Some((bus, device)) = location {
                    let t = if type_in_addr { "type='usb' " } else { "" };
                    w.line(&format!("<address {t}bus='{bus}' device='{device}'/>"));
                }
            }),
            HostdevSource::ScsiHost { wwpn, .. } => {
                let mut s = Attrs::new();
                s.add("protocol", "vhost").add("wwpn", wwpn);
                w.line(&format!("<source{}/>", s.as_str()));
            }
            HostdevSource::Scsi(s) => s.format_source(w),
            HostdevSource::Caps(c) => c.format(w),
            HostdevSource::Mdev { uuid, .. } => w.elem_with("source", "", |w| {
                w.line(&format!("<address uuid='{}'/>", uuid.hyphenated()))
            }),
        }
    }
}

/// The SCSI part of `virDomainHostdevDefPostParse`: a drive address for
/// each SCSI host device without one, none of them a SCSI disk's.
pub(crate) fn post_parse_scsi(
    hostdevs: &mut [Hostdev],
    controllers: &[super::controller::Controller],
    disks: &[super::disk::Disk],
) -> Result<()> {
    for i in 0..hostdevs.len() {
        if hostdevs[i].hostdev_type() != Some(HostdevType::Scsi) {
            continue;
        }
        if hostdevs[i].address.is_none() {
            let taken: Vec<Address> = hostdevs
                .iter()
                .filter(|h| h.hostdev_type() == Some(HostdevType::Scsi))
                .filter_map(|h| h.address.clone())
                .collect();
            let addr = super::hostdev_scsi::assign_address(controllers, disks, &taken);
            hostdevs[i].address = Some(addr);
        }
        if let Some(a) = &hostdevs[i].address {
            super::hostdev_scsi::check_not_disk_address(a, disks)?;
        }
    }
    Ok(())
}

/// `virDomainDefMaybeAddHostdevSCSIcontroller`: SCSI controllers up to
/// the highest one a SCSI host device sits on, of that one's model.
pub(crate) fn add_scsi_controllers(
    hostdevs: &[Hostdev],
    controllers: &mut Vec<super::controller::Controller>,
) {
    let (mut max, mut model) = (-1i32, None);
    for h in hostdevs
        .iter()
        .filter(|h| h.hostdev_type() == Some(HostdevType::Scsi))
    {
        let Some(Address::Drive { controller, .. }) = h.address else {
            continue;
        };
        if controller as i32 > max {
            max = controller as i32;
            let found = controllers
                .iter()
                .find(|c| c.controller_type == ControllerType::Scsi && c.index == max);
            if let Some(m) = found.and_then(|c| c.model) {
                model = Some(m);
            }
        }
    }
    for idx in 0..=max {
        let exists = controllers
            .iter()
            .any(|c| c.controller_type == ControllerType::Scsi && c.index == idx);
        if !exists {
            let mut c = super::controller::Controller::new(ControllerType::Scsi, idx);
            c.model = model;
            controllers.push(c);
        }
    }
}

/// `virDomainDefHostdevValidate`: no host device twice, one ramfb vGPU.
pub(crate) fn validate_all(hostdevs: &[Hostdev]) -> Result<()> {
    let mut ramfb = false;
    for (i, h) in hostdevs.iter().enumerate() {
        if hostdevs[i + 1..].iter().any(|o| h.same_host_device(o)) {
            return Err(internal_xml(
                "Hostdev already exists in the domain configuration",
            ));
        }
        if let HostdevSource::Mdev {
            ramfb: Some(TriSwitch::On),
            ..
        } = h.source
        {
            if ramfb {
                return Err(unsupported("Only one vgpu device can have 'ramfb' enabled"));
            }
            ramfb = true;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn hostdevs_as_virsh() {
        let pci_and_usb = "<hostdev type='pci' managed='bogus'><driver name='vfio'/>\
            <source writeFiltering='yes'><address bus='1' slot='0x1f' function='7'/></source></hostdev>\
            <hostdev type='usb' managed='yes'><source startupPolicy='optional' guestReset='off' autoAddress='yes'>\
            <vendor id='0x1234'/><product id='0xbeef'/><address bus='0' device='3'/></source></hostdev>";
        let want = "    <hostdev mode='subsystem' type='pci' managed='no'>
      <driver name='vfio'/>
      <source writeFiltering='yes'>
        <address domain='0x0000' bus='0x01' slot='0x1f' function='0x7'/>
      </source>
    </hostdev>
    <hostdev mode='subsystem' type='usb' managed='yes'>
      <source startupPolicy='optional' guestReset='off'>
        <vendor id='0x1234'/>
        <product id='0xbeef'/>
        <address bus='0' device='3'/>
      </source>
    </hostdev>
";
        assert_dump_holds(dump, pci_and_usb, want);
        let mdev_and_vhost = "<hostdev type='mdev' model='vfio-ccw' display='on' ramfb='off'>\
            <source><address uuid='c2177883f1bb47f0914d32a22e3a8804'/></source></hostdev>\
            <hostdev type='scsi_host' model='default'><source protocol='vhost' wwpn='naa.0x5000000000000001'/></hostdev>";
        let want = "    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-ccw' display='on' ramfb='off'>
      <source>
        <address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/>
      </source>
    </hostdev>
    <hostdev mode='subsystem' type='scsi_host' managed='no'>
      <source protocol='vhost' wwpn='naa.0x5000000000000001'/>
    </hostdev>
";
        assert_dump_holds(dump, mdev_and_vhost, want);
        assert_errors(
            dump,
            &[
                ("<hostdev mode='bogus'/>", "unsupported configuration: unknown hostdev mode 'bogus'"),
                ("<hostdev/>", "XML error: missing source address type"),
                ("<hostdev type='pci'/>", "XML error: Missing <source> element in hostdev device"),
                ("<hostdev type='pci' model='x'><source/></hostdev>", "XML error: 'model' attribute in <hostdev> is only supported when type='pci'"),
                ("<hostdev type='pci'><source><address bus='1' slot='0x20'/></source></hostdev>", "XML error: Invalid PCI address slot='0x20', must be <= 0x1F"),
                ("<hostdev type='pci'><source><address bus='1' function='8'/></source></hostdev>", "XML error: Invalid PCI address function=0x8, must be <= 7"),
                ("<hostdev type='pci'><source><address bus='1'/></source><address type='usb'/></hostdev>", "internal error: PCI host devices must use 'pci' or 'unassigned' address type"),
                ("<hostdev type='pci'><source><address bus='1'/></source></hostdev><hostdev type='pci'><source><address bus='1'/></source></hostdev>", "XML error: Hostdev already exists in the domain configuration"),
                ("<hostdev type='usb'><source><vendor id='0'/></source></hostdev>", "XML error: Invalid value for attribute 'id' in element 'vendor': Zero is not permitted"),
                ("<hostdev type='usb'><source><vendor id='1'/></source></hostdev>", "internal error: missing product"),
                ("<hostdev type='scsi_host'><source protocol='vhost' wwpn='naa.123'/></hostdev>", "XML error: malformed 'wwpn' value"),
                ("<hostdev type='mdev' model='vfio-pci'><source><address/></source></hostdev>", "unsupported configuration: Missing 'uuid' attribute for element <address>"),
                ("<hostdev type='mdev' model='vfio-ccw'><source><address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source><address type='pci'/></hostdev>", "XML error: Unsupported address type 'pci' with mediated device model 'vfio-ccw'"),
            ],
        );
    }

    /// A transient PCI teaming member, and virsh's refusals of others.
    #[test]
    fn teaming_as_virsh() {
        let pci = "<source><address bus='1'/></source>";
        let doc = format!(
            "<hostdev type='pci' managed='yes'>{pci}<teaming type='transient' persistent='ua-net0'/><alias name='ua-hostdev0'/></hostdev>"
        );
        let want = "      </source>\n      <teaming type='transient' persistent='ua-net0'/>\n      <alias name='ua-hostdev0'/>\n    </hostdev>";
        assert_dump_holds(dump, &doc, want);
        let cases = [
            (format!("<hostdev type='pci'>{pci}<teaming type='bogus'/></hostdev>"), "unsupported configuration: unknown teaming type 'bogus'"),
            (format!("<hostdev type='pci'>{pci}<teaming type='persistent'/></hostdev>"), "unsupported configuration: teaming hostdev devices must have type='transient'"),
            (format!("<hostdev type='pci'>{pci}<teaming type='transient'/></hostdev>"), "unsupported configuration: missing required persistent attribute in hostdev teaming element"),
            ("<hostdev type='usb'><source><vendor id='1'/><product id='2'/></source><teaming type='transient' persistent='ua-x'/></hostdev>".to_string(), "unsupported configuration: teaming is only supported for pci hostdev devices"),
            ("<hostdev mode='capabilities' type='misc'><source><char>/a</char></source><teaming type='transient' persistent='ua-x'/></hostdev>".to_string(), "unsupported configuration: teaming is only supported for pci hostdev devices"),
        ];
        let cases: Vec<(&str, &str)> = cases.iter().map(|(d, m)| (d.as_str(), *m)).collect();
        assert_errors(dump, &cases);
    }
}
