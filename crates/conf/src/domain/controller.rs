//! `<controller>` (`virDomainControllerDef`): parsed as
//! `virDomainControllerDefParseXML` (with `virDomainControllerDefPostParse`'s
//! check), formatted as `virDomainControllerDefFormat`.

use super::address::{format_addr, parse_addr, Address, DeviceInfo};
use super::props::{self, vir_enum, TriSwitch, VirEnum};
use super::virtio::VirtioOptions;
use super::{internal_xml, unsupported, xml_invalid_attr};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

vir_enum! {
    /// `virDomainControllerType`.
    pub enum ControllerType {
        Ide = "ide", Fdc = "fdc", Scsi = "scsi", Sata = "sata", VirtioSerial = "virtio-serial",
        Ccid = "ccid", Usb = "usb", Pci = "pci", Xenbus = "xenbus", Isa = "isa",
    }

    /// `virDomainControllerModelSCSI`.
    pub enum ScsiModel {
        Auto = "auto", Buslogic = "buslogic", Lsilogic = "lsilogic", Lsisas1068 = "lsisas1068",
        Vmpvscsi = "vmpvscsi", Ibmvscsi = "ibmvscsi", VirtioScsi = "virtio-scsi",
        Lsisas1078 = "lsisas1078", VirtioTransitional = "virtio-transitional",
        VirtioNonTransitional = "virtio-non-transitional", Ncr53c90 = "ncr53c90",
        Dc390 = "dc390", Am53c974 = "am53c974",
    }

    /// `virDomainControllerModelUSB`.
    pub enum UsbModel {
        Piix3Uhci = "piix3-uhci", Piix4Uhci = "piix4-uhci", Ehci = "ehci",
        Ich9Ehci1 = "ich9-ehci1", Ich9Uhci1 = "ich9-uhci1", Ich9Uhci2 = "ich9-uhci2",
        Ich9Uhci3 = "ich9-uhci3", Vt82c686bUhci = "vt82c686b-uhci", PciOhci = "pci-ohci",
        NecXhci = "nec-xhci", Qusb1 = "qusb1", Qusb2 = "qusb2", QemuXhci = "qemu-xhci",
        None = "none",
    }

    /// `virDomainControllerModelPCI`.
    pub enum PciModel {
        PciRoot = "pci-root", PcieRoot = "pcie-root", PciBridge = "pci-bridge",
        DmiToPciBridge = "dmi-to-pci-bridge", PcieToPciBridge = "pcie-to-pci-bridge",
        PcieRootPort = "pcie-root-port", PcieSwitchUpstreamPort = "pcie-switch-upstream-port",
        PcieSwitchDownstreamPort = "pcie-switch-downstream-port",
        PciExpanderBus = "pci-expander-bus", PcieExpanderBus = "pcie-expander-bus",
    }

    /// `virDomainControllerPCIModelName` (its "none" is the unset value).
    pub enum PciModelName {
        None = "none", PciBridge = "pci-bridge", I82801b11Bridge = "i82801b11-bridge",
        Ioh3420 = "ioh3420", X3130Upstream = "x3130-upstream",
        Xio3130Downstream = "xio3130-downstream", Pxb = "pxb", PxbPcie = "pxb-pcie",
        PcieRootPort = "pcie-root-port", SpaprPciHostBridge = "spapr-pci-host-bridge",
        PciePciBridge = "pcie-pci-bridge",
    }

    /// `virDomainControllerModelIDE`.
    pub enum IdeModel { Piix3 = "piix3", Piix4 = "piix4", Ich6 = "ich6" }

    /// `virDomainControllerModelVirtioSerial`.
    pub enum VirtioSerialModel {
        Virtio = "virtio", VirtioTransitional = "virtio-transitional",
        VirtioNonTransitional = "virtio-non-transitional",
    }
}

/// A controller's `model=`, from its type's model table (libvirt keeps it
/// as an int read with that table; isa's table is empty and the other
/// types have none, so they take no model).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ControllerModel {
    Scsi(ScsiModel),
    Usb(UsbModel),
    Pci(PciModel),
    Ide(IdeModel),
    VirtioSerial(VirtioSerialModel),
}

impl ControllerModel {
    /// `virDomainControllerModelTypeFromString`: `m` in the table of `ctype`.
    pub fn parse(ctype: ControllerType, m: &str) -> Option<ControllerModel> {
        use ControllerModel as M;
        match ctype {
            ControllerType::Scsi => ScsiModel::from_str_opt(m).map(M::Scsi),
            ControllerType::Usb => UsbModel::from_str_opt(m).map(M::Usb),
            ControllerType::Pci => PciModel::from_str_opt(m).map(M::Pci),
            ControllerType::Ide => IdeModel::from_str_opt(m).map(M::Ide),
            ControllerType::VirtioSerial => VirtioSerialModel::from_str_opt(m).map(M::VirtioSerial),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ControllerModel::Scsi(m) => m.as_str(),
            ControllerModel::Usb(m) => m.as_str(),
            ControllerModel::Pci(m) => m.as_str(),
            ControllerModel::Ide(m) => m.as_str(),
            ControllerModel::VirtioSerial(m) => m.as_str(),
        }
    }
}

/// `<driver>` of a controller; 0 is unset for the numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControllerDriver {
    pub queues: u32,
    pub cmd_per_lun: u32,
    pub max_sectors: u32,
    pub ioeventfd: Option<TriSwitch>,
    pub iothread: u32,
    pub virtio: VirtioOptions,
}

/// The PCI controller options (`<model name>`, `<target>`, `<pcihole64>`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PciOpts {
    pub model_name: Option<PciModelName>,
    pub chassis_nr: Option<i32>,
    pub chassis: Option<i32>,
    pub port: Option<i32>,
    pub bus_nr: Option<i32>,
    pub target_index: Option<i32>,
    pub hotplug: Option<TriSwitch>,
    pub numa_node: Option<i32>,
    /// KiB; pci-root and pcie-root only.
    pub pcihole64_kib: Option<u64>,
}

/// `<controller>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Controller {
    pub controller_type: ControllerType,
    /// -1 until post-parse assigns one.
    pub index: i32,
    /// A model of the type's table.
    pub model: Option<ControllerModel>,
    /// usb and virtio-serial.
    pub ports: Option<i32>,
    /// virtio-serial.
    pub vectors: Option<i32>,
    /// xenbus.
    pub max_grant_frames: Option<i32>,
    pub max_event_channels: Option<i32>,
    pub driver: ControllerDriver,
    pub pci: PciOpts,
    /// `<master startport=>` of a USB companion controller.
    pub master_startport: Option<u32>,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

fn parse_driver(e: &Element) -> Result<ControllerDriver> {
    let Some(d) = e.child("driver") else {
        return Ok(ControllerDriver::default());
    };
    let n = |name| props::uint(d, name, false, false).map(Option::unwrap_or_default);
    Ok(ControllerDriver {
        queues: n("queues")?,
        cmd_per_lun: n("cmd_per_lun")?,
        max_sectors: n("max_sectors")?,
        ioeventfd: props::triswitch(d, "ioeventfd")?,
        iothread: n("iothread")?,
        virtio: VirtioOptions::parse(Some(d))?,
    })
}

/// `<model name>`, `<target>` and `<pcihole64>` of a PCI controller.
fn parse_pci(e: &Element, model: Option<PciModel>, pci: &mut PciOpts) -> Result<()> {
    if let Some(m) = e.child("model") {
        pci.model_name = props::enumeration(m, "name", false)?.filter(|n| *n != PciModelName::None);
    }
    if let Some(t) = e.child("target") {
        pci.chassis_nr = props::int_base0_nonneg(t, "chassisNr")?;
        pci.chassis = props::int_base0_nonneg(t, "chassis")?;
        pci.port = props::int_base0_nonneg(t, "port")?;
        pci.bus_nr = props::int_base0_nonneg(t, "busNr")?;
        pci.hotplug = props::triswitch(t, "hotplug")?;
        pci.target_index = props::int_base0_nonneg(t, "index")?;
    }
    if matches!(model, Some(PciModel::PciRoot | PciModel::PcieRoot)) {
        let hole = e.child("pcihole64");
        let text = hole.map(|h| h.text());
        let unit = hole.and_then(|h| h.attr("unit"));
        pci.pcihole64_kib = props::memory_kib(text.as_deref(), unit, "./pcihole64", false)?;
    }
    Ok(())
}

/// `virXPathInt("string(./target/node)")`: absent, or a node number.
fn numa_node(e: &Element) -> Result<Option<i32>> {
    let text = e
        .child("target")
        .and_then(|t| t.child("node"))
        .map(|n| n.text());
    match text.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => match t.trim_start().parse::<i32>() {
            Ok(n) if n >= 0 => Ok(Some(n)),
            _ => Err(internal_xml("invalid NUMA node in target")),
        },
    }
}

/// The `<master startport>` libvirt gives ICH9 UHCI companions by default.
fn default_startport(model: Option<UsbModel>) -> Option<u32> {
    match model {
        Some(UsbModel::Ich9Uhci1) => Some(0),
        Some(UsbModel::Ich9Uhci2) => Some(2),
        Some(UsbModel::Ich9Uhci3) => Some(4),
        _ => None,
    }
}

impl Controller {
    /// An implicit controller, as `virDomainControllerDefNew`.
    pub fn new(controller_type: ControllerType, index: i32) -> Controller {
        Controller {
            controller_type,
            index,
            model: None,
            ports: None,
            vectors: None,
            max_grant_frames: None,
            max_event_channels: None,
            driver: ControllerDriver::default(),
            pci: PciOpts::default(),
            master_startport: None,
            info: DeviceInfo::default(),
            address: None,
        }
    }

    pub(crate) fn parse(e: &Element) -> Result<Controller> {
        let t = e.attr("type").unwrap_or("ide");
        let t = ControllerType::from_str_opt(t)
            .ok_or_else(|| xml_invalid_attr("type", "controller", t))?;
        let mut c = Controller::new(t, -1);
        if let Some(m) = e.attr("model") {
            let model = ControllerModel::parse(t, m)
                .ok_or_else(|| unsupported(format!("Unknown model type '{m}'")))?;
            c.model = Some(model);
        }
        c.index = props::int_nonneg(e, "index")?.unwrap_or(-1);
        c.driver = parse_driver(e)?;
        if e.children_named("model").count() > 1 {
            return Err(internal_xml(
                "Multiple <model> elements in controller definition not allowed",
            ));
        }
        if e.children_named("target").count() > 1 {
            return Err(internal_xml(
                "Multiple <target> elements in controller definition not allowed",
            ));
        }
        if t == ControllerType::Pci {
            parse_pci(e, c.pci_model(), &mut c.pci)?;
        }
        let node = numa_node(e)?;
        // A USB controller of model none has no device info at all.
        if !c.is_usb_none() {
            c.info = DeviceInfo::parse(e)?;
            c.address = parse_addr(e)?;
            if let Some(m) = e.child("master") {
                c.master_startport = Some(props::uint(m, "startport", false, false)?.unwrap_or(0));
            }
        }
        let ports = props::int_nonneg(e, "ports")?;
        match t {
            ControllerType::VirtioSerial => {
                c.vectors = props::int_nonneg(e, "vectors")?;
                c.ports = ports;
            }
            ControllerType::Usb => {
                c.master_startport = c.master_startport.or(default_startport(c.usb_model()));
                c.ports = ports;
            }
            ControllerType::Pci => c.pci.numa_node = node,
            ControllerType::Xenbus => {
                c.max_grant_frames = props::int_nonneg(e, "maxGrantFrames")?;
                c.max_event_channels = props::int_nonneg(e, "maxEventChannels")?;
            }
            _ => {}
        }
        c.post_parse()?;
        Ok(c)
    }

    /// The model of a PCI controller.
    pub fn pci_model(&self) -> Option<PciModel> {
        match self.model {
            Some(ControllerModel::Pci(m)) => Some(m),
            _ => None,
        }
    }

    /// The model of a USB controller.
    pub fn usb_model(&self) -> Option<UsbModel> {
        match self.model {
            Some(ControllerModel::Usb(m)) => Some(m),
            _ => None,
        }
    }

    /// The model of a SCSI controller.
    pub fn scsi_model(&self) -> Option<ScsiModel> {
        match self.model {
            Some(ControllerModel::Scsi(m)) => Some(m),
            _ => None,
        }
    }

    /// A USB controller of model none: the domain has no USB.
    pub fn is_usb_none(&self) -> bool {
        self.usb_model() == Some(UsbModel::None)
    }

    /// `virDomainControllerDefPostParse`.
    fn post_parse(&self) -> Result<()> {
        let virtio_scsi = matches!(
            self.scsi_model(),
            Some(
                ScsiModel::VirtioScsi
                    | ScsiModel::VirtioTransitional
                    | ScsiModel::VirtioNonTransitional
            )
        );
        if self.driver.iothread != 0 && !virtio_scsi {
            return Err(internal_xml(
                "'iothread' attribute only supported for virtio scsi controllers",
            ));
        }
        Ok(())
    }
}

/// `N out of range - must be LO-HI` for a set PCI target value.
fn pci_range(what: &str, v: Option<i32>, lo: i32, hi: i32) -> Result<()> {
    match v {
        Some(n) if n < lo || n > hi => Err(unsupported(format!(
            "PCI controller {what} '{n}' out of range - must be {lo}-{hi}"
        ))),
        _ => Ok(()),
    }
}

impl Controller {
    /// `virDomainControllerDefValidate` (after indexes are assigned).
    pub(crate) fn validate(&self) -> Result<()> {
        if self.controller_type != ControllerType::Pci {
            return Ok(());
        }
        let root = matches!(
            self.pci_model(),
            Some(PciModel::PciRoot | PciModel::PcieRoot)
        );
        if root && self.address.is_some() {
            return Err(unsupported(
                "pci-root and pcie-root controllers should not have an address",
            ));
        }
        if self.index > 255 {
            return Err(unsupported(format!(
                "PCI controller index {} too high, maximum is 255",
                self.index
            )));
        }
        let p = &self.pci;
        if let Some(ti) = p.target_index {
            pci_range("target index", Some(ti), 0, 30)?;
            if (self.index == 0) != (ti == 0) {
                return Err(unsupported(
                    "Only the PCI controller with index 0 can have target index 0, and vice versa",
                ));
            }
        }
        pci_range("chassisNr", p.chassis_nr, 1, 255)?;
        pci_range("chassis", p.chassis, 0, 255)?;
        pci_range("port", p.port, 0, 255)?;
        pci_range("busNr", p.bus_nr, 1, 254)?;
        if p.numa_node.is_some() && self.index == 0 {
            return Err(unsupported(
                "The PCI controller with index=0 can't be associated with a NUMA node",
            ));
        }
        Ok(())
    }

    fn format_pci(&self, w: &mut Writer) {
        let p = &self.pci;
        if let Some(n) = p.model_name {
            w.line(&format!("<model name='{}'/>", n.as_str()));
        }
        let mut a = Attrs::new();
        a.opt("chassisNr", p.chassis_nr);
        a.opt("chassis", p.chassis);
        a.opt("port", p.port.map(|n| format!("0x{n:x}")));
        a.opt("busNr", p.bus_nr);
        a.opt("index", p.target_index);
        a.opt("hotplug", p.hotplug.map(VirEnum::as_str));
        let attrs = a.as_str();
        match p.numa_node {
            Some(n) => {
                w.line(&format!("<target{attrs}>"));
                w.line(&format!("  <node>{n}</node>"));
                w.line("</target>");
            }
            None if !attrs.is_empty() => w.line(&format!("<target{attrs}/>")),
            None => {}
        }
    }

    fn format_driver(&self, w: &mut Writer) {
        let d = &self.driver;
        let mut a = Attrs::new();
        a.opt("queues", Some(d.queues).filter(|n| *n != 0));
        a.opt("cmd_per_lun", Some(d.cmd_per_lun).filter(|n| *n != 0));
        a.opt("max_sectors", Some(d.max_sectors).filter(|n| *n != 0));
        a.opt("ioeventfd", d.ioeventfd.map(VirEnum::as_str));
        a.opt("iothread", Some(d.iothread).filter(|n| *n != 0));
        let attrs = format!("{}{}", a.as_str(), d.virtio.attrs());
        w.attrs_elem("driver", &attrs);
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("type", self.controller_type.as_str());
        a.add("index", self.index);
        a.opt("model", self.model.map(ControllerModel::as_str));
        a.opt("ports", self.ports);
        a.opt("vectors", self.vectors);
        a.opt("maxGrantFrames", self.max_grant_frames);
        a.opt("maxEventChannels", self.max_event_channels);
        w.elem_with("controller", a.as_str(), |w| {
            if self.controller_type == ControllerType::Pci {
                self.format_pci(w);
            }
            self.format_driver(w);
            // virDomainDeviceInfoFormat: alias, master, acpi, address.
            let runtime = w.take_device_alias();
            if let Some(a) = self.info.alias.as_deref().or(runtime.as_deref()) {
                super::boot::format_alias(w, a);
            }
            if let Some(p) = self.master_startport {
                w.line(&format!("<master startport='{p}'/>"));
            }
            if let Some(i) = self.info.acpi_index {
                w.line(&format!("<acpi index='{i}'/>"));
            }
            format_addr(&self.address, w);
            if let Some(kib) = self.pci.pcihole64_kib {
                w.line(&format!("<pcihole64 unit='KiB'>{kib}</pcihole64>"));
            }
        });
    }
}

/// `virDomainControllerInsertPreAlloced`: after the last controller of its
/// type when it has no index yet, else before the first of its type with a
/// higher index, a master before its companions of the same index.
pub(crate) fn insert(list: &mut Vec<Controller>, c: Controller) {
    let mut at: Option<usize> = None;
    for idx in (0..list.len()).rev() {
        let cur = &list[idx];
        if cur.controller_type != c.controller_type {
            continue;
        }
        if c.index == -1 {
            at = Some(idx + 1);
            break;
        }
        let master_first =
            c.master_startport.is_none() && cur.master_startport.is_some() && cur.index == c.index;
        if cur.index > c.index || master_first {
            at = Some(idx);
        } else if at.is_none() {
            at = Some(idx + 1);
        }
    }
    match at {
        Some(i) => list.insert(i, c),
        None => list.push(c),
    }
}

/// `IS_USB2_CONTROLLER`: an ICH9 EHCI1 or one of its UHCI companions.
fn is_usb2(c: &Controller) -> bool {
    matches!(
        c.usb_model(),
        Some(UsbModel::Ich9Ehci1 | UsbModel::Ich9Uhci1 | UsbModel::Ich9Uhci2 | UsbModel::Ich9Uhci3)
    )
}

/// `virDomainControllerFindUnusedIndex`.
fn unused_index(list: &[Controller], t: ControllerType) -> i32 {
    let mut n = 0;
    while list.iter().any(|c| c.controller_type == t && c.index == n) {
        n += 1;
    }
    n
}

/// `virDomainAssignControllerIndexes`: the lowest unused index of its
/// type for each controller without one, except a USB2 controller right
/// after another USB2 controller (the last USB one before it), which joins
/// that one's index unless a controller of its own model already has it.
pub(crate) fn assign_indexes(list: &mut [Controller]) {
    for outer in 0..list.len() {
        if list[outer].index != -1 {
            continue;
        }
        let cont = &list[outer];
        let prev = (outer > 0 && is_usb2(cont))
            .then(|| {
                list[..outer]
                    .iter()
                    .rev()
                    .find(|c| c.controller_type == ControllerType::Usb)
            })
            .flatten()
            .filter(|p| is_usb2(p))
            .filter(|p| {
                !list.iter().any(|o| {
                    o.controller_type == ControllerType::Usb
                        && o.index == p.index
                        && o.model == cont.model
                })
            });
        list[outer].index = match prev {
            Some(p) => p.index,
            None => unused_index(list, list[outer].controller_type),
        };
    }
}

/// `virDomainDefControllersParse`'s USB rules, in document order: model
/// none excludes every other USB controller, and companions need a master.
pub(crate) fn check_usb(parsed: &[Controller]) -> Result<()> {
    let disabled = || {
        Err(Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::XML_DETAIL,
            "Can't add another USB controller: USB is disabled for this domain",
        ))
    };
    let (mut none, mut other, mut master) = (false, false, false);
    for c in parsed
        .iter()
        .filter(|c| c.controller_type == ControllerType::Usb)
    {
        if c.is_usb_none() {
            if none || other {
                return disabled();
            }
            none = true;
        } else {
            if none {
                return disabled();
            }
            other = true;
        }
        master |= c.master_startport.is_none();
    }
    if other && !master {
        return Err(Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::XML_DETAIL,
            "No master USB controller specified",
        ));
    }
    Ok(())
}

/// `virDomainDefRejectDuplicateControllers` (USB indexes may repeat).
pub(crate) fn reject_duplicates(list: &[Controller]) -> Result<()> {
    for (i, c) in list.iter().enumerate() {
        let dup = list[..i]
            .iter()
            .any(|o| o.controller_type == c.controller_type && o.index == c.index);
        if c.controller_type != ControllerType::Usb && dup {
            return Err(internal_xml(format!(
                "Multiple '{}' controllers with index '{}'",
                c.controller_type.as_str(),
                c.index
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_devices as dump};

    fn lines(out: &str, what: &str) -> Vec<String> {
        out.lines()
            .filter(|l| l.contains(what))
            .map(|l| l.trim().to_string())
            .collect()
    }

    /// USB2 companions without an index join the USB2 controller before
    /// them (libvirt's autoindex.xml, checked against stock virsh).
    #[test]
    fn usb2_companions_share_an_index() {
        let usb = |m: &str| format!("<controller type='usb' model='{m}'/>");
        let doc: String = [
            "ich9-ehci1",
            "ich9-uhci1",
            "ich9-uhci2",
            "ich9-uhci3",
            "ich9-ehci1",
            "ich9-uhci1",
            "ich9-uhci1",
            "ich9-uhci2",
            "nec-xhci",
            "ich9-uhci1",
        ]
        .iter()
        .map(|m| usb(m))
        .collect();
        let out = dump(&doc).unwrap();
        let indexes: Vec<String> = lines(&out, "<controller type='usb'")
            .iter()
            .map(|l| l.split('\'').nth(3).unwrap().to_string())
            .collect();
        assert_eq!(
            indexes,
            ["0", "0", "0", "0", "1", "1", "2", "2", "3", "4"],
            "{out}"
        );
    }

    /// Device info in virDomainDeviceInfoFormat's order (checked against
    /// stock virsh); a non-user alias is runtime state and dropped on define.
    #[test]
    fn alias_master_and_acpi_index_in_libvirt_order() {
        let out = dump(
            "<controller type='usb' index='0' model='ich9-uhci1'><acpi index='7'/>\
             <alias name='ua-myUSB1'/><master startport='0'/></controller>\
             <controller type='usb' index='0' model='ich9-ehci1'><alias name='usb0'/></controller>\
             <controller type='usb' index='1' model='none'><alias name='ua-none'/></controller>",
        );
        assert_eq!(
            out.unwrap_err(),
            "Can't add another USB controller: USB is disabled for this domain"
        );
        let out = dump(
            "<controller type='usb' index='0' model='ich9-uhci1'><acpi index='7'/>\
             <alias name='ua-myUSB1'/><master startport='0'/></controller>\
             <controller type='usb' index='0' model='ich9-ehci1'><alias name='usb0'/></controller>",
        )
        .unwrap();
        let want = "    <controller type='usb' index='0' model='ich9-ehci1'/>
    <controller type='usb' index='0' model='ich9-uhci1'>
      <alias name='ua-myUSB1'/>
      <master startport='0'/>
      <acpi index='7'/>
    </controller>
";
        assert!(out.contains(want), "{out}");
    }

    /// A master goes before its companions of the same index, and an
    /// implicit virtio-serial controller after every controller given.
    #[test]
    fn master_first_and_implicit_controllers_last() {
        let out = dump(
            "<controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/></controller>\
             <controller type='usb' index='0' model='ich9-ehci1'/>\
             <controller type='virtio-serial' index='1'/><controller type='ide' index='0'/>\
             <channel type='pty'><target type='virtio'/></channel>",
        )
        .unwrap();
        assert_eq!(
            lines(&out, "<controller "),
            [
                "<controller type='usb' index='0' model='ich9-ehci1'/>",
                "<controller type='usb' index='0' model='ich9-uhci1'>",
                "<controller type='virtio-serial' index='1'/>",
                "<controller type='ide' index='0'/>",
                "<controller type='virtio-serial' index='0'/>",
            ],
            "{out}"
        );
    }

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn controllers_as_virsh() {
        let out = dump(
            "<controller type='usb' index='0' model='ich9-ehci1'/><controller type='usb' index='0' model='ich9-uhci2' ports='4'/>\
             <controller type='scsi' index='1' model='virtio-scsi'><driver queues='8' iothread='1' iommu='on'/></controller>\
             <controller type='pci' index='0' model='pci-root'><target hotplug='off'/><pcihole64 unit='MiB'>1</pcihole64></controller>\
             <controller type='pci' index='1' model='pci-bridge'><model name='pci-bridge'/><target chassisNr='0x1f' port='010'><node>1</node></target></controller>\
             <controller type='virtio-serial' index='0' ports='16' vectors='4'/>",
        )
        .unwrap();
        let want = "    <controller type='usb' index='0' model='ich9-ehci1'/>
    <controller type='usb' index='0' model='ich9-uhci2' ports='4'>
      <master startport='2'/>
    </controller>
    <controller type='scsi' index='1' model='virtio-scsi'>
      <driver queues='8' iothread='1' iommu='on'/>
    </controller>
    <controller type='pci' index='0' model='pci-root'>
      <target hotplug='off'/>
      <pcihole64 unit='KiB'>1024</pcihole64>
    </controller>
    <controller type='pci' index='1' model='pci-bridge'>
      <model name='pci-bridge'/>
      <target chassisNr='31' port='0x8'>
        <node>1</node>
      </target>
    </controller>
    <controller type='virtio-serial' index='0' ports='16' vectors='4'/>
";
        assert!(out.contains(want), "{out}");
        assert_errors(
            dump,
            &[
                ("<controller type='scsi' model='ehci'/>", "unsupported configuration: Unknown model type 'ehci'"),
                ("<controller type='pci' index='-1'/>", "XML error: Invalid value for attribute 'index' in element 'controller': '-1'. Expected non-negative value"),
                ("<controller type='usb' model='ehci'><driver iothread='1'/></controller>", "XML error: 'iothread' attribute only supported for virtio scsi controllers"),
                ("<controller type='pci' index='2' model='pci-bridge'><target index='31'/></controller>", "unsupported configuration: PCI controller target index '31' out of range - must be 0-30"),
                ("<controller type='usb' index='0' model='ich9-uhci2'/>", "No master USB controller specified"),
                ("<controller type='pci' index='1' model='pci-bridge'/><controller type='pci' index='1' model='pci-bridge'/>", "XML error: Multiple 'pci' controllers with index '1'"),
                ("<controller type='ide' index='0'><alias name='ua-x'/></controller><video><model type='vga'/><alias name='ua-x'/></video>", "unsupported configuration: non unique alias detected: ua-x"),
            ],
        );
    }
}
