//! `<address>`: where a device sits on its bus (the address half of
//! libvirt's `virDomainDeviceInfo`).

use super::{esc, internal, internal_xml, props, unsupported};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

/// `<zpci uid= fid=>`: the s390 PCI identifiers, each set or not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Zpci {
    pub uid: Option<u32>,
    pub fid: Option<u32>,
}

/// `virPCIDeviceAddressParseXML`: base-0 numbers, libvirt's range checks
/// (unless the address is empty), then the `<zpci>` child.
fn parse_pci(e: &Element) -> Result<Address> {
    let num = |name| props::uint_base0(e, name, false, false).map(Option::unwrap_or_default);
    let (domain, bus, slot, function) =
        (num("domain")?, num("bus")?, num("slot")?, num("function")?);
    props::triswitch(e, "multifunction")?;
    if domain != 0 || bus != 0 || slot != 0 {
        let invalid = |msg: String| Err(internal_xml(format!("Invalid PCI address {msg}")));
        if bus > 0xFF {
            return invalid(format!("bus='0x{bus:x}', must be <= 0xFF"));
        }
        if slot > 0x1F {
            return invalid(format!("slot='0x{slot:x}', must be <= 0x1F"));
        }
        if function > 7 {
            return invalid(format!("function=0x{function:x}, must be <= 7"));
        }
    }
    let zpci = match e.children_named("zpci").last() {
        Some(z) => Some(Zpci {
            uid: props::uint_base0(z, "uid", false, false)?,
            fid: props::uint_base0(z, "fid", false, false)?,
        }),
        None => None,
    };
    Ok(Address::Pci {
        domain,
        bus,
        slot,
        function,
        multifunction: e.attr_string("multifunction"),
        zpci: zpci.filter(|z| z.uid.is_some() || z.fid.is_some()),
    })
}

/// `virXMLPropUInt` with base 16.
fn uint_hex(e: &Element, name: &str) -> Result<Option<u32>> {
    match e.attr(name) {
        None => Ok(None),
        Some(v) => parse_hex(v)
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| props::invalid_uint(e, name, v)),
    }
}

/// `virXMLPropULongLong` with base 16; `None` when absent.
fn ull_hex(e: &Element, name: &str) -> Result<Option<u64>> {
    match e.attr(name) {
        None => Ok(None),
        Some(v) => parse_hex(v)
            .map(Some)
            .ok_or_else(|| props::invalid_uint(e, name, v)),
    }
}

/// `strtoull` with base 16: an optional `0x` prefix.
fn parse_hex(v: &str) -> Option<u64> {
    let t = v.trim_start();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    u64::from_str_radix(t, 16).ok()
}

/// `virCCWDeviceAddressParseXML`: all three numbers or none, in range.
fn parse_ccw(e: &Element) -> Result<Address> {
    let given = ["cssid", "ssid", "devno"].map(|n| e.attr(n).is_some());
    let n = |name| props::uint_base0(e, name, false, false).map(Option::unwrap_or_default);
    let (cssid, ssid, devno) = (n("cssid")?, n("ssid")?, n("devno")?);
    if cssid > 0xfe || ssid > 3 || devno > 0xffff {
        return Err(internal(format!(
            "Invalid specification for virtio ccw address: cssid='0x{cssid:x}' ssid='0x{ssid:x}' devno='0x{devno:04x}'"
        )));
    }
    if given.contains(&true) && given.contains(&false) {
        return Err(internal(
            "Invalid partial specification for virtio ccw address",
        ));
    }
    Ok(Address::Ccw { cssid, ssid, devno })
}

/// `<address>` of a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Pci {
        domain: u32,
        bus: u32,
        slot: u32,
        function: u32,
        multifunction: Option<String>,
        /// s390's `<zpci>` extension.
        zpci: Option<Zpci>,
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
    Ccid {
        controller: u32,
        slot: u32,
    },
    /// `bus` and the port path (up to four hops; 0 ends it).
    Usb {
        bus: u32,
        port: [u32; 4],
    },
    /// s390 channel I/O: channel subsystem, subchannel set, device number.
    Ccw {
        cssid: u32,
        ssid: u32,
        devno: u32,
    },
    /// pSeries VIO: the register, when given.
    SpaprVio {
        reg: Option<u64>,
    },
    Isa {
        iobase: u32,
        irq: u32,
    },
    /// A memory module's slot and base address (0 unset).
    Dimm {
        slot: u32,
        base: u64,
    },
    VirtioMmio,
    Unassigned,
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
            Address::Ccw { .. } => "ccw",
            Address::SpaprVio { .. } => "spapr-vio",
            Address::Isa { .. } => "isa",
            Address::Dimm { .. } => "dimm",
            Address::VirtioMmio => "virtio-mmio",
            Address::Unassigned => "unassigned",
        }
    }

    /// `virDomainDeviceAddressParseXML`.
    pub(crate) fn parse(e: &Element) -> Result<Option<Address>> {
        let Some(t) = e.attr("type") else {
            return Err(internal("No type specified for device address"));
        };
        let n = |name| props::uint(e, name, false, false).map(Option::unwrap_or_default);
        let hex = |name| uint_hex(e, name).map(Option::unwrap_or_default);
        Ok(Some(match t {
            "pci" => parse_pci(e)?,
            "drive" => Address::Drive {
                controller: n("controller")?,
                bus: n("bus")?,
                target: n("target")?,
                unit: n("unit")?,
            },
            "virtio-serial" => Address::VirtioSerial {
                controller: n("controller")?,
                bus: n("bus")?,
                port: n("port")?,
            },
            "ccid" => Address::Ccid {
                controller: n("controller")?,
                slot: n("slot")?,
            },
            "usb" => Address::Usb {
                bus: n("bus")?,
                port: match e.attr("port") {
                    Some(p) => parse_usb_port(p)?,
                    None => [0; 4],
                },
            },
            "spapr-vio" => Address::SpaprVio {
                reg: ull_hex(e, "reg")?,
            },
            "ccw" => parse_ccw(e)?,
            "virtio-mmio" => Address::VirtioMmio,
            "isa" => Address::Isa {
                iobase: hex("iobase")?,
                irq: hex("irq")?,
            },
            "virtio-s390" => return Err(internal_xml("virtio-s390 bus doesn't have an address")),
            "dimm" => Address::Dimm {
                slot: props::uint(e, "slot", true, false)?.unwrap_or(0),
                base: ull_hex(e, "base")?.unwrap_or(0),
            },
            "unassigned" => Address::Unassigned,
            _ => return Err(unsupported(format!("unknown address type '{t}'"))),
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
                zpci,
            } => {
                let mut a = String::from(" type='pci'");
                // virPCIDeviceAddressIsEmpty: the function alone does not count.
                if *domain != 0 || *bus != 0 || *slot != 0 {
                    a.push_str(&format!(
                        " domain='0x{domain:04x}' bus='0x{bus:02x}' slot='0x{slot:02x}' function='0x{function:x}'"
                    ));
                }
                if let Some(m) = multifunction {
                    a.push_str(&format!(" multifunction='{}'", esc(m)));
                }
                w.elem_with("address", &a, |w| {
                    if let Some(z) = zpci {
                        let (uid, fid) = (z.uid.unwrap_or(0), z.fid.unwrap_or(0));
                        w.line(&format!("<zpci uid='0x{uid:04x}' fid='0x{fid:08x}'/>"));
                    }
                });
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
            Address::Ccw { cssid, ssid, devno } => w.line(&format!(
                "<address type='ccw' cssid='0x{cssid:x}' ssid='0x{ssid:x}' devno='0x{devno:04x}'/>"
            )),
            Address::SpaprVio { reg } => match reg {
                Some(r) => w.line(&format!("<address type='spapr-vio' reg='0x{r:08x}'/>")),
                None => w.line("<address type='spapr-vio'/>"),
            },
            Address::Isa { iobase, irq } => {
                let mut a = String::from(" type='isa'");
                if *iobase > 0 {
                    a.push_str(&format!(" iobase='0x{iobase:x}'"));
                }
                if *irq > 0 {
                    a.push_str(&format!(" irq='0x{irq:x}'"));
                }
                w.line(&format!("<address{a}/>"));
            }
            Address::Dimm { slot, base } => {
                let base = (*base != 0).then(|| format!(" base='0x{base:x}'"));
                w.line(&format!(
                    "<address type='dimm' slot='{slot}'{}/>",
                    base.unwrap_or_default()
                ));
            }
            Address::VirtioMmio | Address::Unassigned => {
                w.line(&format!("<address type='{}'/>", self.type_name()))
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

/// The device-info a device keeps besides its address
/// (`virDomainDeviceInfo`'s user alias and `<acpi index>`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    /// A user alias (`ua-...`; any other is runtime state, dropped).
    pub alias: Option<String>,
    /// `<acpi index=>`, non-zero.
    pub acpi_index: Option<u32>,
}

impl DeviceInfo {
    /// The info of device element `e` (`virDomainDeviceInfoParseXML`).
    pub(crate) fn parse(e: &Element) -> Result<DeviceInfo> {
        Ok(DeviceInfo {
            alias: super::disk::user_alias(e),
            acpi_index: super::boot::acpi_index(e)?,
        })
    }
}

/// `virDomainDeviceInfoFormat` of a device without boot order or ROM:
/// alias, `<acpi>`, `<address>`.
pub(crate) fn format_info_addr(info: &DeviceInfo, addr: &Option<Address>, w: &mut Writer) {
    super::boot::format_info(w, None, info, None);
    format_addr(addr, w);
}

pub(crate) fn format_addr(addr: &Option<Address>, w: &mut Writer) {
    if let Some(alias) = w.take_device_alias() {
        super::boot::format_alias(w, &alias);
    }
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

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_devices};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn addresses_as_virsh() {
        let doc = "<watchdog model='i6300esb'><address type='pci' domain='0' bus='0' slot='4' function='0'>\
                   <zpci uid='0x1'/></address></watchdog><memballoon model='virtio'>\
                   <address type='ccw' cssid='0xfe' ssid='0' devno='0x10'/></memballoon>";
        assert_dump_holds(
            dump_devices,
            doc,
            "      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'>\n        <zpci uid='0x0001' fid='0x00000000'/>\n      </address>\n    </watchdog>\n    <memballoon model='virtio'>\n      <address type='ccw' cssid='0xfe' ssid='0x0' devno='0x0010'/>\n    </memballoon>\n",
        );
        let watchdog =
            |addr: &str| dump_devices(&format!("<watchdog model='i6300esb'>{addr}</watchdog>"));
        assert_errors(
            watchdog,
            &[
                ("<address type='pci' bus='0x100' slot='1'/>", "XML error: Invalid PCI address bus='0x100', must be <= 0xFF"),
                ("<address type='pci' slot='0x20'/>", "XML error: Invalid PCI address slot='0x20', must be <= 0x1F"),
                ("<address type='pci' slot='1' function='8'/>", "XML error: Invalid PCI address function=0x8, must be <= 7"),
                ("<address/>", "internal error: No type specified for device address"),
                ("<address type='bogus'/>", "unsupported configuration: unknown address type 'bogus'"),
                ("<address type='ccw' cssid='0xfe'/>", "internal error: Invalid partial specification for virtio ccw address"),
                ("<address type='ccw' cssid='0xff' ssid='0' devno='1'/>", "internal error: Invalid specification for virtio ccw address: cssid='0xff' ssid='0x0' devno='0x0001'"),
            ],
        );
    }

    /// Every device keeps its user alias and ACPI index, in
    /// virDomainDeviceInfoFormat's place (checked against stock virsh); a
    /// console on serial port 0 writes the serial port's.
    #[test]
    fn user_aliases_and_acpi_indexes_of_every_device() {
        let doc = "<controller type='usb' index='0'><alias name='ua-usb'/></controller>\
            <filesystem type='mount'><source dir='/tmp'/><target dir='t'/><alias name='ua-fs'/><acpi index='5'/></filesystem>\
            <serial type='pty'><alias name='ua-serial'/></serial><parallel type='pty'><alias name='ua-par'/></parallel>\
            <console type='pty'><target type='virtio'/><alias name='ua-con'/></console>\
            <channel type='pty'><target type='virtio' name='x'/><alias name='ua-chan'/></channel>\
            <input type='tablet' bus='usb'><alias name='ua-input'/></input><sound model='ich6'><alias name='ua-sound'/></sound>\
            <watchdog model='i6300esb'><acpi index='9'/><alias name='ua-wd'/></watchdog>\
            <memballoon model='virtio'><alias name='ua-balloon'/></memballoon>\
            <rng model='virtio'><backend model='random'>/dev/random</backend><alias name='ua-rng'/></rng>\
            <redirdev bus='usb' type='spicevmc'><alias name='ua-redir'/></redirdev><hub type='usb'><alias name='ua-hub'/></hub>\
            <smartcard mode='passthrough' type='spicevmc'><alias name='ua-sc'/></smartcard>\
            <tpm model='tpm-tis'><backend type='emulator'/><alias name='ua-tpm'/></tpm><panic model='isa'><alias name='ua-panic'/></panic>\
            <shmem name='s'><alias name='ua-shmem'/></shmem><vsock model='virtio'><cid auto='yes'/><alias name='ua-vsock'/></vsock>";
        let out = dump_devices(doc).unwrap();
        for alias in doc.split("<alias name='").skip(1) {
            let alias = &alias[..alias.find('\'').unwrap()];
            assert!(
                out.contains(&format!("<alias name='{alias}'/>")),
                "{alias}: {out}"
            );
        }
        let want = "    <console type='pty'>\n      <target type='serial' port='0'/>\n      <alias name='ua-serial'/>\n    </console>\n";
        assert!(out.contains(want), "{out}");
        let want = "      <alias name='ua-wd'/>\n      <acpi index='9'/>\n    </watchdog>\n";
        assert!(out.contains(want), "{out}");
        assert_errors(
            dump_devices,
            &[(
                "<rng model='virtio'><backend model='random'/><alias name='ua-x'/></rng><shmem name='s'><alias name='ua-x'/></shmem>",
                "unsupported configuration: non unique alias detected: ua-x",
            )],
        );
    }
}
