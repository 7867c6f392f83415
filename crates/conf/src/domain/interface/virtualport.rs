//! `<virtualport>`: the switch port profile of an interface
//! (`virNetDevVPortProfileParse` / `virNetDevVPortProfileFormat`, with the
//! completeness checks of `virnetdevvportprofile.c`).

use super::super::props::{self, vir_enum, VirEnum};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::{uuid, Error, ErrorCode, ErrorDomain, Result};

vir_enum! {
    /// `virNetDevVPortProfile` without its `none` (that is `None`).
    pub enum VirtualPortType {
        Qbg = "802.1Qbg", Qbh = "802.1Qbh", OpenVSwitch = "openvswitch", Midonet = "midonet",
    }
}

/// What the interface type asks of its `<virtualport>` (libvirt's
/// `VIR_VPORT_XML_*` flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VportRules {
    /// network: fill in missing ids, the rest is the network's business.
    GenerateMissing,
    /// bridge, direct, hostdev: a type and every parameter it needs.
    Complete,
    /// A `<network>`'s own: a type, the parameters as given.
    RequireType,
    /// A network `<portgroup>`'s: everything as given.
    AsGiven,
}

/// `virNetDevVPortProfile`: `None` fields were not given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VirtualPort {
    pub port_type: Option<VirtualPortType>,
    pub manager_id: Option<u8>,
    /// 24 bits.
    pub type_id: Option<u32>,
    pub type_id_version: Option<u8>,
    pub instance_id: Option<uuid::Uuid>,
    /// At most 39 bytes (`LIBVIRT_IFLA_VF_PORT_PROFILE_MAX` - 1).
    pub profile_id: Option<String>,
    pub interface_id: Option<uuid::Uuid>,
}

/// The vport code reports from no particular domain.
fn error(code: ErrorCode, msg: String) -> Error {
    Error::new(ErrorDomain::NONE, code, msg)
}

fn xml_error(msg: impl Into<String>) -> Error {
    error(ErrorCode::XML_ERROR, msg.into())
}

/// `virStrToLong_ui` with base 0: `-N` wraps as C's unsigned negation.
fn strtoul_ui(v: &str) -> Option<u32> {
    let n = props::base0_signed(v)?;
    match n {
        0..=0xffff_ffff => Some(n as u32),
        -0xffff_ffff..=-1 => Some(n as u32),
        _ => None,
    }
}

/// A number parameter no larger than `max`.
fn number(v: Option<&str>, name: &str, max: u32, out_of_range: &str) -> Result<Option<u32>> {
    let Some(v) = v else { return Ok(None) };
    let n = strtoul_ui(v)
        .ok_or_else(|| xml_error(format!("cannot parse value of {name} parameter")))?;
    if n > max {
        return Err(xml_error(out_of_range.to_string()));
    }
    Ok(Some(n))
}

fn uuid_param(v: Option<&str>, name: &str) -> Result<Option<uuid::Uuid>> {
    v.map(|v| {
        uuid::parse(v).ok_or_else(|| xml_error(format!("cannot parse {name} parameter as a uuid")))
    })
    .transpose()
}

impl VirtualPort {
    pub(crate) fn parse(e: &Element, rules: VportRules) -> Result<VirtualPort> {
        let port_type = match e.attr("type") {
            None => None,
            Some(t) => Some(VirtualPortType::from_str_opt(t).ok_or_else(|| {
                error(
                    ErrorCode::CONFIG_UNSUPPORTED,
                    format!("unknown virtualport type {t}"),
                )
            })?),
        };
        if port_type.is_none() && matches!(rules, VportRules::Complete | VportRules::RequireType) {
            return Err(xml_error("missing required virtualport type"));
        }
        let p = e.child("parameters");
        let get = |n| p.and_then(|p| p.attr(n));
        let mut vp = VirtualPort {
            port_type,
            manager_id: number(
                get("managerid"),
                "managerid",
                0xff,
                "value of managerid out of range",
            )?
            .map(|n| n as u8),
            type_id: number(
                get("typeid"),
                "typeid",
                0xff_ffff,
                "value for typeid out of range",
            )?,
            type_id_version: number(
                get("typeidversion"),
                "typeidversion",
                0xff,
                "value of typeidversion out of range",
            )?
            .map(|n| n as u8),
            instance_id: uuid_param(get("instanceid"), "instanceid")?,
            profile_id: None,
            interface_id: None,
        };
        if let Some(pid) = get("profileid") {
            if pid.len() >= 40 {
                return Err(xml_error("profileid parameter too long"));
            }
            // An empty profile is libvirt's unset one.
            vp.profile_id = Some(pid.to_string()).filter(|p| !p.is_empty());
        }
        vp.interface_id = uuid_param(get("interfaceid"), "interfaceid")?;
        if matches!(rules, VportRules::GenerateMissing | VportRules::Complete) {
            vp.generate_missing();
        }
        if rules == VportRules::Complete {
            vp.check_complete()?;
        }
        vp.check_no_extras()?;
        Ok(vp)
    }

    /// The instance and interface ids libvirt generates when missing.
    fn generate_missing(&mut self) {
        use VirtualPortType as T;
        if self.instance_id.is_none() && matches!(self.port_type, None | Some(T::Qbg)) {
            self.instance_id = Some(uuid::generate());
        }
        if self.interface_id.is_none() && matches!(self.port_type, None | Some(T::OpenVSwitch)) {
            self.interface_id = Some(uuid::generate());
        }
    }

    fn type_name(&self) -> &'static str {
        self.port_type.map_or("none", VirEnum::as_str)
    }

    /// `virNetDevVPortProfileCheckComplete` (ids already generated).
    fn check_complete(&self) -> Result<()> {
        use VirtualPortType as T;
        let missing = match self.port_type {
            Some(T::Qbg) if self.manager_id.is_none() => "managerid",
            Some(T::Qbg) if self.type_id.is_none() => "typeid",
            Some(T::Qbg) if self.type_id_version.is_none() => "typeidversion",
            Some(T::Qbh) if self.profile_id.is_none() => "profileid",
            Some(T::Midonet) if self.interface_id.is_none() => "interfaceid",
            _ => return Ok(()),
        };
        Err(xml_error(format!(
            "missing {missing} in <virtualport type='{}'>",
            self.type_name()
        )))
    }

    /// `virNetDevVPortProfileCheckNoExtras`.
    fn check_no_extras(&self) -> Result<()> {
        use VirtualPortType as T;
        let qbg_ids = [
            ("managerid", self.manager_id.is_some()),
            ("typeid", self.type_id.is_some()),
            ("typeidversion", self.type_id_version.is_some()),
            ("instanceid", self.instance_id.is_some()),
        ];
        let iface = ("interfaceid", self.interface_id.is_some());
        let extras: Vec<(&str, bool)> = match self.port_type {
            Some(T::Qbg) => vec![("profileid", self.profile_id.is_some()), iface],
            Some(T::Qbh) => qbg_ids.into_iter().chain([iface]).collect(),
            Some(T::OpenVSwitch) => qbg_ids.to_vec(),
            _ => Vec::new(),
        };
        match extras.into_iter().find(|(_, set)| *set) {
            Some((extra, _)) => Err(xml_error(format!(
                "extra {extra} unsupported in <virtualport type='{}'>",
                self.type_name()
            ))),
            None => Ok(()),
        }
    }

    /// `<parameters>` attributes, each only where the type uses it.
    fn parameter_attrs(&self) -> Attrs {
        use VirtualPortType as T;
        let t = self.port_type;
        let qbg = matches!(t, None | Some(T::Qbg));
        let iface = matches!(t, None | Some(T::Midonet | T::OpenVSwitch));
        let profile = matches!(t, None | Some(T::OpenVSwitch | T::Qbh));
        let mut a = Attrs::new();
        a.opt("managerid", self.manager_id.filter(|_| qbg));
        a.opt("typeid", self.type_id.filter(|_| qbg));
        a.opt("typeidversion", self.type_id_version.filter(|_| qbg));
        a.opt("instanceid", self.instance_id.filter(|_| qbg));
        a.opt("interfaceid", self.interface_id.filter(|_| iface));
        if let Some(p) = self.profile_id.as_deref().filter(|_| profile) {
            // Written unescaped, as libvirt does.
            a.raw("profileid", p);
        }
        a
    }

    fn has_parameters(&self) -> bool {
        self.manager_id.is_some()
            || self.type_id.is_some()
            || self.type_id_version.is_some()
            || self.instance_id.is_some()
            || self.profile_id.is_some()
            || self.interface_id.is_some()
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let has_parameters = self.has_parameters();
        let mut a = Attrs::new();
        a.opt("type", self.port_type.map(VirEnum::as_str));
        if !has_parameters {
            if self.port_type.is_some() {
                w.line(&format!("<virtualport{}/>", a.as_str()));
            }
            return;
        }
        w.block("virtualport", a.as_str(), |w| {
            w.line(&format!("<parameters{}/>", self.parameter_attrs().as_str()));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::test_support::{assert_errors, dump_devices};

    const MAC: &str = "<mac address='52:54:00:00:00:01'/>";

    fn iface(t: &str, source: &str, vport: &str) -> String {
        format!("<interface type='{t}'>{MAC}{source}{vport}</interface>")
    }

    /// Checked against stock virsh: parameters a type does not use are
    /// not written, numbers come back decimal, and a network interface
    /// gets generated ids.
    #[test]
    fn formatted_as_virsh() {
        let bridge = "<source bridge='br0'/>";
        let out = dump_devices(&iface(
            "bridge",
            bridge,
            "<virtualport type='802.1Qbg'><parameters managerid='0x0b' typeid='1193047' typeidversion='2' instanceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'/></virtualport>",
        ))
        .unwrap();
        assert!(out.contains("<source bridge='br0'/>\n      <virtualport type='802.1Qbg'>\n        <parameters managerid='11' typeid='1193047' typeidversion='2' instanceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'/>\n      </virtualport>"), "{out}");
        let out = dump_devices(&iface(
            "network",
            "<source network='default'/>",
            "<virtualport><parameters profileid='a&amp;b'/></virtualport>",
        ))
        .unwrap();
        let line = out.lines().find(|l| l.contains("<parameters")).unwrap();
        assert!(line.contains(" instanceid='"), "{line}");
        assert!(line.contains(" interfaceid='"), "{line}");
        assert!(line.ends_with(" profileid='a&b'/>"), "{line}");
        let out = dump_devices(&iface(
            "network",
            "<source network='default'/>",
            "<virtualport type='802.1Qbh'/>",
        ))
        .unwrap();
        assert!(out.contains("<virtualport type='802.1Qbh'/>"), "{out}");
    }

    /// libvirt's refusals, texts from stock virsh.
    #[test]
    fn refused_as_virsh() {
        let bridge = "<source bridge='br0'/>";
        let cases = [
            (iface("user", "", "<virtualport type='openvswitch'/>"),
             "unsupported configuration: <virtualport> element unsupported for <interface type='user'>"),
            (iface("bridge", bridge, "<virtualport type='none'/>"),
             "unsupported configuration: unknown virtualport type none"),
            (iface("bridge", bridge, "<virtualport/>"),
             "XML error: missing required virtualport type"),
            (iface("bridge", bridge, "<virtualport type='802.1Qbg'><parameters managerid='256'/></virtualport>"),
             "XML error: value of managerid out of range"),
            (iface("bridge", bridge, "<virtualport type='802.1Qbg'><parameters managerid='x'/></virtualport>"),
             "XML error: cannot parse value of managerid parameter"),
            (iface("bridge", bridge, "<virtualport type='802.1Qbg'><parameters managerid='1'/></virtualport>"),
             "XML error: missing typeid in <virtualport type='802.1Qbg'>"),
            (iface("bridge", bridge, "<virtualport type='802.1Qbh'/>"),
             "XML error: missing profileid in <virtualport type='802.1Qbh'>"),
            (iface("bridge", bridge, "<virtualport type='midonet'/>"),
             "XML error: missing interfaceid in <virtualport type='midonet'>"),
            (iface("network", "<source network='n'/>", "<virtualport type='802.1Qbh'><parameters typeid='1'/></virtualport>"),
             "XML error: extra typeid unsupported in <virtualport type='802.1Qbh'>"),
            (iface("network", "<source network='n'/>", "<virtualport type='openvswitch'><parameters instanceid='x'/></virtualport>"),
             "XML error: cannot parse instanceid parameter as a uuid"),
            (iface("network", "<source network='n'/>", "<virtualport type='802.1Qbg'><parameters interfaceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'/></virtualport>"),
             "XML error: extra interfaceid unsupported in <virtualport type='802.1Qbg'>"),
        ];
        let cases: Vec<(&str, &str)> = cases.iter().map(|(d, m)| (d.as_str(), *m)).collect();
        assert_errors(dump_devices, &cases);
    }
}
