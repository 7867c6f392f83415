//! `<hostdev type='scsi'>`: a host SCSI LUN by adapter and address, or an
//! iSCSI LUN (`virDomainHostdevSubsysSCSIDefParseXML`,
//! `virDomainHostdevDefFormatSubsysSCSI`, the SCSI part of
//! `virDomainHostdevDefPostParse`).

use super::address::Address;
use super::controller::{Controller, ControllerType, ScsiModel};
use super::disk::{Auth, Disk, DiskBus, Host};
use super::hostdev::Sgio;
use super::props::{self, TriBool, VirEnum};
use super::{internal, internal_xml, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

/// Where the LUN is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScsiSource {
    /// `<adapter name=>` and `<address bus= target= unit=>` on the host.
    Host {
        adapter: String,
        bus: u32,
        target: u32,
        unit: u64,
    },
    /// `<source protocol='iscsi' name=>` with its one `<host>`.
    Iscsi {
        name: String,
        host: Host,
        auth: Option<Auth>,
        initiator_iqn: Option<String>,
    },
}

/// A SCSI host device's source and its attributes on `<hostdev>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScsiHostdev {
    pub sgio: Option<Sgio>,
    pub rawio: Option<TriBool>,
    pub source: ScsiSource,
    pub readonly: bool,
    pub shareable: bool,
}

/// `virXMLPropULongLong` with base 0, required.
fn ulong_base0(e: &Element, name: &str) -> Result<u64> {
    let Some(v) = e.attr(name) else {
        return Err(internal_xml(format!(
            "Missing required attribute '{name}' in element '{}'",
            e.name
        )));
    };
    let s = v.trim_start();
    let parsed = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8)
    } else {
        s.parse()
    };
    parsed.map_err(|_| props::invalid_uint(e, name, v))
}

impl ScsiHostdev {
    /// `e` is the `<hostdev>`, `s` its `<source>`.
    pub(crate) fn parse(e: &Element, s: &Element) -> Result<ScsiHostdev> {
        let sgio = props::enumeration(e, "sgio", false)?;
        let rawio = props::tribool(e, "rawio")?;
        let source = match s.attr("protocol") {
            None => parse_host(s)?,
            Some("iscsi") => parse_iscsi(s)?,
            Some(p) => {
                return Err(unsupported(format!(
                    "Unknown SCSI subsystem protocol '{p}'"
                )))
            }
        };
        Ok(ScsiHostdev {
            sgio,
            rawio,
            source,
            readonly: e.child("readonly").is_some(),
            shareable: e.child("shareable").is_some(),
        })
    }

    /// ` sgio= rawio=` of `<hostdev>`.
    pub(crate) fn attrs(&self, a: &mut Attrs) {
        a.opt("sgio", self.sgio.map(VirEnum::as_str));
        a.opt("rawio", self.rawio.map(VirEnum::as_str));
    }

    pub(crate) fn format_source(&self, w: &mut Writer) {
        match &self.source {
            ScsiSource::Host {
                adapter,
                bus,
                target,
                unit,
            } => w.elem_with("source", "", |w| {
                w.line(&format!(
                    "<adapter{}/>",
                    Attrs::new().add("name", adapter).as_str()
                ));
                w.line(&format!(
                    "<address bus='{bus}' target='{target}' unit='{unit}'/>"
                ));
            }),
            ScsiSource::Iscsi {
                name,
                host,
                auth,
                initiator_iqn,
            } => {
                let mut a = Attrs::new();
                a.add("protocol", "iscsi").add("name", name);
                w.elem_with("source", a.as_str(), |w| {
                    let mut h = Attrs::new();
                    h.opt("name", host.name.as_deref());
                    h.opt("port", (host.port != 0).then_some(host.port));
                    w.line(&format!("<host{}/>", h.as_str()));
                    if let Some(auth) = auth {
                        auth.format(w);
                    }
                    if let Some(iqn) = initiator_iqn {
                        w.elem_with("initiator", "", |w| {
                            w.line(&format!("<iqn{}/>", Attrs::new().add("name", iqn).as_str()))
                        });
                    }
                });
            }
        }
    }

    /// After the `<readonly/>`, `<shareable/>` flags.
    pub(crate) fn format_flags(&self, w: &mut Writer) {
        if self.readonly {
            w.line("<readonly/>");
        }
        if self.shareable {
            w.line("<shareable/>");
        }
    }

    /// The SCSI part of `virDomainHostdevDefValidate`.
    pub(crate) fn validate(&self, address: &Option<Address>) -> Result<()> {
        if address
            .as_ref()
            .is_some_and(|a| !matches!(a, Address::Drive { .. }))
        {
            return Err(unsupported(
                "SCSI host device must use 'drive' address type",
            ));
        }
        if self.sgio == Some(Sgio::Unfiltered) {
            return Err(unsupported("unfiltered sgio is no longer supported"));
        }
        Ok(())
    }
}

/// `virDomainHostdevSubsysSCSIHostDefParseXML`.
fn parse_host(s: &Element) -> Result<ScsiSource> {
    let Some(a) = s.child("address") else {
        return Err(internal_xml(
            "'address' must be specified for scsi hostdev source",
        ));
    };
    let bus = props::uint_base0(a, "bus", true, false)?.unwrap_or_default();
    let target = props::uint_base0(a, "target", true, false)?.unwrap_or_default();
    let unit = ulong_base0(a, "unit")?;
    let adapter = s.child("adapter").and_then(|x| x.attr("name"));
    let Some(adapter) = adapter.filter(|n| !n.is_empty()) else {
        return Err(internal_xml(
            "'adapter' name must be specified for scsi hostdev source",
        ));
    };
    Ok(ScsiSource::Host {
        adapter: adapter.to_string(),
        bus,
        target,
        unit,
    })
}

/// `virDomainHostdevSubsysSCSIiSCSIDefParseXML`, with the LUN 0 that
/// post-parse adds to a target without one.
fn parse_iscsi(s: &Element) -> Result<ScsiSource> {
    let Some(mut name) = s.attr_string("name") else {
        return Err(internal_xml("missing iSCSI hostdev source path name"));
    };
    let mut hosts = s
        .children_named("host")
        .map(Host::parse)
        .collect::<Result<Vec<_>>>()?;
    if hosts.is_empty() {
        return Err(internal_xml(
            "missing the host address for the iSCSI hostdev",
        ));
    }
    if hosts.len() > 1 {
        return Err(internal_xml(
            "only one source host address may be specified for the iSCSI hostdev",
        ));
    }
    let auth = s.child("auth").map(Auth::parse).transpose()?;
    if let Some(a) = &auth {
        const USAGES: [&str; 6] = ["none", "volume", "ceph", "iscsi", "tls", "vtpm"];
        let t = a.secret_type.as_deref();
        if !t.is_some_and(|t| USAGES.contains(&t)) {
            return Err(unsupported(format!(
                "invalid secret type {}",
                t.unwrap_or("(null)")
            )));
        }
        if t != Some("iscsi") {
            return Err(internal(format!(
                "hostdev invalid secret type '{}'",
                t.unwrap_or_default()
            )));
        }
    }
    let iqn = s.child("initiator").and_then(|i| i.child("iqn"));
    if !name.contains('/') {
        name.push_str("/0");
    }
    Ok(ScsiSource::Iscsi {
        name,
        host: hosts.remove(0),
        auth,
        initiator_iqn: iqn
            .and_then(|i| i.attr("name"))
            .filter(|n| !n.is_empty())
            .map(str::to_string),
    })
}

/// `virDomainSCSIDriveAddressIsUsed` for unit `unit` of bus 0, target 0 of
/// controller `controller`: out of the controller model's range, reserved
/// for the controller itself, or taken by a disk or SCSI host device.
fn unit_taken(
    controller: u32,
    unit: u32,
    controllers: &[Controller],
    disks: &[Disk],
    taken: &[Address],
) -> bool {
    let model = controllers
        .iter()
        .find(|c| c.controller_type == ControllerType::Scsi && c.index == controller as i32)
        .and_then(Controller::scsi_model);
    let (max, reserved) = match model {
        Some(
            ScsiModel::VirtioScsi
            | ScsiModel::VirtioTransitional
            | ScsiModel::VirtioNonTransitional,
        ) => (Some(16383), None),
        Some(ScsiModel::Ibmvscsi) => (Some(31), Some(7)),
        Some(ScsiModel::Lsisas1068) => (Some(1), None),
        Some(ScsiModel::Lsisas1078) => (Some(255), None),
        Some(ScsiModel::Lsilogic | ScsiModel::Vmpvscsi | ScsiModel::Buslogic) => (None, Some(7)),
        Some(ScsiModel::Ncr53c90 | ScsiModel::Am53c974 | ScsiModel::Dc390) => (Some(6), None),
        _ => (None, None),
    };
    if max.is_some_and(|m| unit > m) || reserved == Some(unit) {
        return true;
    }
    let addr = Address::Drive {
        controller,
        bus: 0,
        target: 0,
        unit,
    };
    let by_disk = disks
        .iter()
        .any(|d| d.bus() == DiskBus::Scsi && d.address.as_ref() == Some(&addr));
    by_disk || taken.contains(&addr)
}

/// `virDomainHostdevAssignAddress` (the test driver's narrow SCSI bus: 7
/// units per controller): the first free unit of the first controller
/// with one.
pub(crate) fn assign_address(
    controllers: &[Controller],
    disks: &[Disk],
    taken: &[Address],
) -> Address {
    const BUS_MAX_UNIT: u32 = 7;
    // Devices are finite: some controller past theirs has unit 0 free.
    let (controller, unit) = (0..=u32::MAX)
        .find_map(|c| {
            let free = (0..BUS_MAX_UNIT).find(|u| !unit_taken(c, *u, controllers, disks, taken));
            free.map(|u| (c, u))
        })
        .unwrap_or_default();
    Address::Drive {
        controller,
        bus: 0,
        target: 0,
        unit,
    }
}

/// The host device half of `virDomainDefDuplicateDriveAddressesValidate`
/// (whose messages swap the controller and the bus).
pub(crate) fn unique_drive_addresses(
    hostdevs: &[super::hostdev::Hostdev],
    disks: &[Disk],
) -> Result<()> {
    let scsi =
        |h: &&super::hostdev::Hostdev| matches!(h.source, super::hostdev::HostdevSource::Scsi(_));
    let scsi: Vec<&super::hostdev::Hostdev> = hostdevs.iter().filter(scsi).collect();
    for (i, h) in scsi.iter().enumerate() {
        let Some(
            addr @ Address::Drive {
                controller,
                bus,
                target,
                unit,
            },
        ) = &h.address
        else {
            continue;
        };
        let used_by = if scsi[i + 1..]
            .iter()
            .any(|o| o.address.as_ref() == Some(addr))
        {
            "another SCSI host device"
        } else if disks
            .iter()
            .any(|d| d.bus() == DiskBus::Scsi && d.address.as_ref() == Some(addr))
        {
            "another SCSI disk"
        } else {
            continue;
        };
        return Err(unsupported(format!(
            "SCSI host address controller='{bus}' bus='{controller}' target='{target}' unit='{unit}' in use by {used_by}"
        )));
    }
    Ok(())
}

/// The post-parse check that a host device's drive address is not a SCSI
/// disk's.
pub(crate) fn check_not_disk_address(addr: &Address, disks: &[Disk]) -> Result<()> {
    let Address::Drive {
        controller,
        bus,
        target,
        unit,
    } = addr
    else {
        return Ok(());
    };
    if disks
        .iter()
        .any(|d| d.bus() == DiskBus::Scsi && d.address.as_ref() == Some(addr))
    {
        return Err(internal_xml(format!(
            "SCSI host address controller='{controller}' bus='{bus}' target='{target}' unit='{unit}' in use by a SCSI disk"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn scsi_hostdevs_as_virsh() {
        let doc = "<disk type='block'><source dev='/dev/sdz'/><target dev='sda'/></disk>\
            <controller type='scsi' index='0' model='lsilogic'/><controller type='usb' index='0'/>\
            <hostdev mode='subsystem' type='scsi' sgio='filtered' rawio='yes'><source><adapter name='scsi_host0'/>\
            <address bus='0' target='0x1' unit='010'/></source><readonly/><shareable/><boot order='1'/></hostdev>\
            <hostdev mode='subsystem' type='scsi' managed='yes'><source protocol='iscsi' name='iqn.1992-01.com.example:storage'>\
            <host name='example.org' port='3260'/><auth username='myname'><secret type='iscsi' usage='mycluster_myname'/></auth>\
            <initiator><iqn name='iqn.2020-07.com.example:test'/></initiator></source>\
            <address type='drive' controller='1' bus='0' target='0' unit='2'/></hostdev>\
            <redirdev bus='usb' type='spicevmc'><boot order='2'/></redirdev>";
        let want = "    <controller type='scsi' index='1' model='lsilogic'/>
    <hostdev mode='subsystem' type='scsi' managed='no' sgio='filtered' rawio='yes'>
      <source>
        <adapter name='scsi_host0'/>
        <address bus='0' target='1' unit='8'/>
      </source>
      <readonly/>
      <shareable/>
      <boot order='1'/>
      <address type='drive' controller='0' bus='0' target='0' unit='1'/>
    </hostdev>
    <hostdev mode='subsystem' type='scsi' managed='yes'>
      <source protocol='iscsi' name='iqn.1992-01.com.example:storage/0'>
        <host name='example.org' port='3260'/>
        <auth username='myname'>
          <secret type='iscsi' usage='mycluster_myname'/>
        </auth>
        <initiator>
          <iqn name='iqn.2020-07.com.example:test'/>
        </initiator>
      </source>
      <address type='drive' controller='1' bus='0' target='0' unit='2'/>
    </hostdev>
    <redirdev bus='usb' type='spicevmc'>
      <boot order='2'/>
    </redirdev>
";
        assert_dump_holds(dump, doc, want);
        let host = "<source><adapter name='a'/><address bus='0' target='0' unit='0'/></source>";
        let twice =
            format!("<hostdev type='scsi'>{host}</hostdev><hostdev type='scsi'>{host}</hostdev>");
        let on_disk = format!(
            "<disk type='block'><source dev='/a'/><target dev='sda'/></disk><hostdev type='scsi'>{host}\
             <address type='drive' controller='0' bus='0' target='0' unit='0'/></hostdev>"
        );
        let drive = "<address type='drive' controller='1' bus='0' target='0' unit='1'/>";
        let same_drive = format!(
            "<hostdev type='scsi'>{host}{drive}</hostdev><hostdev type='scsi'>{}{drive}</hostdev>",
            host.replace("unit='0'", "unit='1'")
        );
        assert_errors(
            dump,
            &[
                ("<hostdev type='scsi'><source/></hostdev>", "XML error: 'address' must be specified for scsi hostdev source"),
                ("<hostdev type='scsi'><source><address bus='0' target='0' unit='0'/></source></hostdev>", "XML error: 'adapter' name must be specified for scsi hostdev source"),
                ("<hostdev type='scsi'><source><adapter name='a'/><address bus='0' target='0'/></source></hostdev>", "XML error: Missing required attribute 'unit' in element 'address'"),
                ("<hostdev type='scsi'><source protocol='iscsi' name='x'/></hostdev>", "XML error: missing the host address for the iSCSI hostdev"),
                ("<hostdev type='scsi'><source protocol='iscsi' name='x'><host name='a'/><auth username='u'><secret type='ceph' usage='u'/></auth></source></hostdev>", "internal error: hostdev invalid secret type 'ceph'"),
                ("<hostdev type='scsi'><source protocol='nope'/></hostdev>", "unsupported configuration: Unknown SCSI subsystem protocol 'nope'"),
                ("<hostdev type='scsi'><source><adapter name='a'/><address bus='0' target='0' unit='0'/></source><address type='pci'/></hostdev>", "unsupported configuration: SCSI host device must use 'drive' address type"),
                (&twice, "XML error: Hostdev already exists in the domain configuration"),
                (&on_disk, "unsupported configuration: using disk target name 'sda' conflicts with SCSI host device address controller='0' bus='0' target='0' unit='0"),
                (&same_drive, "unsupported configuration: SCSI host address controller='0' bus='1' target='0' unit='1' in use by another SCSI host device"),
            ],
        );
    }
}
