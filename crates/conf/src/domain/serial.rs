//! `<serial>` and `<console>` (`virDomainChrDef` of those device types):
//! parsed as `virDomainChrDefParseXML`, given ports as
//! `virDomainChrIsaSerialDefPostParse` / `virDomainChrDefPostParse`, paired
//! as `virDomainDefAddConsoleCompat`, formatted as `virDomainChrDefFormat`.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::chardev::{ChrSource, ChrType};
use super::props::{vir_enum, VirEnum};
use super::{internal, internal_xml, unsupported};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainChrSerialTargetType` ("none" is the unset type).
    pub enum SerialTarget {
        None = "none", Isa = "isa-serial", Usb = "usb-serial", Pci = "pci-serial",
        SpaprVio = "spapr-vio-serial", System = "system-serial", Sclp = "sclp-serial",
        IsaDebug = "isa-debug",
    }

    /// `virDomainChrSerialTargetModel` ("none" is the unset model).
    pub enum SerialModel {
        None = "none", IsaSerial = "isa-serial", UsbSerial = "usb-serial",
        PciSerial = "pci-serial", SpaprVty = "spapr-vty", Pl011 = "pl011",
        SclpConsole = "sclpconsole", SclpLmConsole = "sclplmconsole",
        Uart16550a = "16550a", IsaDebugcon = "isa-debugcon",
    }

    /// `virDomainChrConsoleTargetType` ("none" is the unset type).
    pub enum ConsoleTarget {
        None = "none", Serial = "serial", Xen = "xen", Uml = "uml", Virtio = "virtio",
        Lxc = "lxc", Openvz = "openvz", Sclp = "sclp", SclpLm = "sclplm",
    }
}

/// A `<target type=>`: serial ports and consoles each read it from their
/// own table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChrTarget {
    Serial(SerialTarget),
    Console(ConsoleTarget),
}

impl ChrTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            ChrTarget::Serial(t) => t.as_str(),
            ChrTarget::Console(t) => t.as_str(),
        }
    }

    /// A set type: "none" is libvirt's unset one.
    fn is_set(self) -> bool {
        !matches!(
            self,
            ChrTarget::Serial(SerialTarget::None) | ChrTarget::Console(ConsoleTarget::None)
        )
    }
}

/// A console's serial target type.
const CONSOLE_ON_SERIAL: Option<ChrTarget> = Some(ChrTarget::Console(ConsoleTarget::Serial));

/// `VIR_MAX_ISA_SERIAL_PORTS`.
const MAX_ISA_SERIAL_PORTS: u32 = 4;

/// A serial port or console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chr {
    pub source: ChrSource,
    /// The serial or console target type; `None` is libvirt's "none".
    pub target_type: Option<ChrTarget>,
    /// Serial ports only.
    pub target_model: Option<SerialModel>,
    /// `None` until post-parse assigns one.
    pub target_port: Option<u32>,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

/// `virDomainChrDefParseTargetXML` for serial, console and parallel (which
/// has no target type or model: any given is ignored).
fn parse_target(
    t: &Element,
    kind: &str,
) -> Result<(Option<ChrTarget>, Option<SerialModel>, Option<u32>)> {
    let ty = match (kind, t.attr("type")) {
        ("parallel", _) | (_, None) => None,
        ("serial", Some(v)) => Some(
            SerialTarget::from_str_opt(v)
                .map(ChrTarget::Serial)
                .ok_or(v),
        ),
        (_, Some(v)) => Some(
            ConsoleTarget::from_str_opt(v)
                .map(ChrTarget::Console)
                .ok_or(v),
        ),
    };
    let ty = ty.transpose().map_err(|v| {
        unsupported(format!(
            "unknown target type '{v}' specified for character device"
        ))
    })?;
    let model_name = t.child("model").and_then(|m| m.attr("name"));
    let model = match (kind, model_name) {
        ("serial", Some(m)) => Some(SerialModel::from_str_opt(m).ok_or_else(|| {
            unsupported(format!(
                "unknown target model '{m}' specified for character device"
            ))
        })?),
        _ => None,
    };
    let port = match t.attr("port") {
        None => None,
        Some(p) => Some(
            p.trim_start()
                .parse::<u32>()
                .map_err(|_| internal_xml(format!("Invalid port number: {p}")))?,
        ),
    };
    Ok((
        ty.filter(|t| t.is_set()),
        model.filter(|m| *m != SerialModel::None),
        port,
    ))
}

impl Chr {
    /// `kind` is "serial", "console" or "parallel".
    pub(crate) fn parse(e: &Element, kind: &str) -> Result<Chr> {
        let chr_type = e
            .attr("type")
            .map_or(Ok(ChrType::Pty), ChrType::parse_host)?;
        let (target_type, target_model, target_port) = match e.child("target") {
            Some(t) => parse_target(t, kind)?,
            None => (None, None, None),
        };
        let source = ChrSource::parse_labelled(e, chr_type)?;
        if chr_type == ChrType::SpiceVmc {
            return Err(unsupported("spicevmc device type only supports virtio"));
        }
        let address = parse_addr(e)?;
        let usb_serial = target_type == Some(ChrTarget::Serial(SerialTarget::Usb));
        let usb_address = match &address {
            None => true,
            Some(Address::Usb { .. }) => true,
            Some(_) => false,
        };
        if usb_serial && !usb_address {
            return Err(unsupported("usb-serial requires address of usb type"));
        }
        source.validate(false)?;
        Ok(Chr {
            source,
            target_type,
            target_model,
            target_port,
            info: DeviceInfo::parse(e)?,
            address,
        })
    }

    /// The target type of a serial port.
    pub fn serial_target(&self) -> Option<SerialTarget> {
        match self.target_type {
            Some(ChrTarget::Serial(t)) => Some(t),
            _ => None,
        }
    }

    /// The target type of a console.
    pub fn console_target(&self) -> Option<ConsoleTarget> {
        match self.target_type {
            Some(ChrTarget::Console(t)) => Some(t),
            _ => None,
        }
    }

    /// A console standing for serial port 0 (`virDomainChrDefNew`).
    fn stub_console() -> Chr {
        Chr {
            source: ChrSource::new(ChrType::Null),
            target_type: CONSOLE_ON_SERIAL,
            target_model: None,
            target_port: None,
            info: DeviceInfo::default(),
            address: None,
        }
    }

    /// A pty's path is live state: written (and, for console 0, repeated
    /// as the legacy `tty=`) only in the live definition.
    pub(crate) fn format(&self, w: &mut Writer, kind: &str, inactive: bool) {
        let pty = (self.source.chr_type == ChrType::Pty && !inactive)
            .then_some(self.source.path.as_deref())
            .flatten();
        let tty = match pty {
            Some(p) if kind == "console" && self.target_port == Some(0) => {
                format!(" tty='{}'", crate::xml::escape(p))
            }
            _ => String::new(),
        };
        w.line(&format!("<{kind}{}{tty}>", self.source.type_attr()));
        w.indent();
        match pty {
            Some(p) => w.line(&format!("<source path='{}'/>", crate::xml::escape(p))),
            None => self.source.format_labelled(w, inactive),
        }
        let port = self.target_port.map_or(-1, i64::from);
        let ty = self.target_type.map(ChrTarget::as_str);
        match (kind, ty) {
            ("console", _) => w.line(&format!(
                "<target type='{}' port='{port}'/>",
                ty.unwrap_or("none")
            )),
            (_, _) => {
                let ty = ty.map(|t| format!("type='{t}' ")).unwrap_or_default();
                match self.target_model {
                    None => w.line(&format!("<target {ty}port='{port}'/>")),
                    Some(m) => {
                        w.line(&format!("<target {ty}port='{port}'>"));
                        w.line(&format!("  <model name='{}'/>", m.as_str()));
                        w.line("</target>");
                    }
                }
            }
        }
        format_info_addr(&self.info, &self.address, w);
        w.dedent();
        w.line(&format!("</{kind}>"));
    }
}

/// `virDomainChrIsaSerialDefPostParse`: at most four ISA ports, each used
/// once; unnumbered ones take the lowest free.
fn isa_serial_ports(serials: &mut [Chr]) -> Result<()> {
    let isa = |c: &Chr| c.serial_target() == Some(SerialTarget::Isa);
    let mut used = [false; MAX_ISA_SERIAL_PORTS as usize];
    for (n, c) in serials.iter().filter(|c| isa(c)).enumerate() {
        let port = c.target_port.unwrap_or(0);
        if n as u32 >= MAX_ISA_SERIAL_PORTS || port >= MAX_ISA_SERIAL_PORTS {
            return Err(internal(format!(
                "Maximum supported number of ISA serial ports is '{MAX_ISA_SERIAL_PORTS}'"
            )));
        }
        if let Some(p) = c.target_port {
            if used[p as usize] {
                return Err(internal(format!("target port '{p}' already allocated")));
            }
            used[p as usize] = true;
        }
    }
    for c in serials
        .iter_mut()
        .filter(|c| isa(c) && c.target_port.is_none())
    {
        if let Some(p) = used.iter().position(|u| !u) {
            used[p] = true;
            c.target_port = Some(p as u32);
        }
    }
    Ok(())
}

/// `virDomainChrDefPostParse`'s port: one past the highest of its kind.
fn assign_ports(list: &mut [Chr]) {
    for i in 0..list.len() {
        if list[i].target_port.is_none() {
            let max = list.iter().filter_map(|c| c.target_port).max();
            list[i].target_port = Some(max.map_or(0, |m| m + 1));
        }
    }
}

/// The console/serial post-parse of a domain (`hvm`: `<type>hvm</type>`).
/// `virDomainChrDefPostParse` of the parallel ports: numbered in order.
pub(crate) fn post_parse_parallels(parallels: &mut [Chr]) {
    assign_ports(parallels);
}

pub(crate) fn post_parse(serials: &mut Vec<Chr>, consoles: &mut Vec<Chr>, hvm: bool) -> Result<()> {
    isa_serial_ports(serials)?;
    for c in consoles.iter_mut().filter(|c| c.target_type.is_none()) {
        c.target_type = CONSOLE_ON_SERIAL;
    }
    assign_ports(serials);
    // virDomainDefParseXML numbers the consoles by position, whatever
    // port they give.
    for (i, c) in consoles.iter_mut().enumerate() {
        c.target_port = Some(i as u32);
    }
    add_console_compat(serials, consoles, hvm)?;
    assign_ports(consoles);
    // The first console of an HVM guest is written as serial port 0.
    if let (true, Some(s), Some(c)) = (hvm, serials.first(), consoles.first_mut()) {
        if c.target_type == CONSOLE_ON_SERIAL {
            *c = Chr {
                target_type: CONSOLE_ON_SERIAL,
                target_model: s.target_model,
                ..s.clone()
            };
        }
    }
    Ok(())
}

/// `virDomainDefAddConsoleCompat`: an HVM guest's first console is its
/// first serial port.
fn add_console_compat(serials: &mut Vec<Chr>, consoles: &mut Vec<Chr>, hvm: bool) -> Result<()> {
    let serial_target = |c: &Chr| c.target_type == CONSOLE_ON_SERIAL;
    if consoles.iter().skip(1).any(serial_target) {
        return Err(unsupported("Only the first console can be a serial port"));
    }
    if !hvm {
        return Ok(());
    }
    if consoles.first().is_some_and(serial_target) {
        if serials.is_empty() {
            let mut s = consoles[0].clone();
            s.target_type = None;
            s.target_port = Some(0);
            serials.push(s);
            consoles[0] = Chr::stub_console();
        } else if serials[0].source != consoles[0].source {
            consoles[0] = Chr::stub_console();
        }
        return Ok(());
    }
    if let Some(s) = serials.first() {
        if s.serial_target().is_none_or(|t| {
            matches!(
                t,
                SerialTarget::Isa
                    | SerialTarget::SpaprVio
                    | SerialTarget::System
                    | SerialTarget::Sclp
            )
        }) {
            consoles.insert(0, Chr::stub_console());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_devices, round_trip};

    fn dump(os: &str, devices: &str) -> Result<String, String> {
        round_trip(&format!("<domain type='test'><name>p</name><memory>1024</memory><os><type>{os}</type></os><devices>{devices}</devices></domain>"))
    }

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn serials_and_consoles_as_virsh() {
        // An HVM guest's console becomes serial port 0, and is written as it.
        let out = dump(
            "hvm",
            "<console type='tcp'><source mode='bind' host='a' service='1'/></console>",
        )
        .unwrap();
        let want = "    <serial type='tcp'>
      <source mode='bind' host='a' service='1'/>
      <protocol type='raw'/>
      <target port='0'/>
    </serial>
    <console type='tcp'>
      <source mode='bind' host='a' service='1'/>
      <protocol type='raw'/>
      <target type='serial' port='0'/>
    </console>
";
        assert!(out.contains(want), "{out}");
        let out = dump("hvm", "<serial type='pty'><target type='sclp-serial' port='1'><model name='sclplmconsole'/></target></serial>").unwrap();
        assert!(out.contains("<target type='sclp-serial' port='1'>\n        <model name='sclplmconsole'/>\n      </target>"));
        assert!(out.contains("<console type='pty'>\n      <target type='serial' port='1'/>"));
        assert_errors(
            |d| dump("hvm", d),
            &[
                ("<console type='pty'><target type='xen'/></console><console type='pty'><target type='serial'/></console>", "unsupported configuration: Only the first console can be a serial port"),
                ("<serial type='pty'><target type='usb-serial'/><address type='pci'/></serial>", "unsupported configuration: usb-serial requires address of usb type"),
                ("<serial type='unix'/>", "internal error: Missing source path attribute for char device"),
                ("<serial type='pty'><target type='isa-serial' port='4'/></serial>", "internal error: Maximum supported number of ISA serial ports is '4'"),
            ],
        );
    }

    /// Parallel ports: numbered in order, any target type ignored.
    #[test]
    fn parallels_as_virsh() {
        assert_dump_holds(
            dump_devices,
            "<parallel type='pty'><target port='3'/></parallel>\
             <parallel type='file'><source path='/f'/><target type='foo'/></parallel>",
            "    <parallel type='pty'>
      <target port='3'/>
    </parallel>
    <parallel type='file'>
      <source path='/f'/>
      <target port='4'/>
    </parallel>
",
        );
        assert_errors(
            dump_devices,
            &[(
                "<parallel type='file'/>",
                "internal error: Missing source path attribute for char device",
            )],
        );
    }
}
