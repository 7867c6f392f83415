//! iface-bridge (cmdInterfaceBridge) and iface-unbridge
//! (cmdInterfaceUnbridge): an interface's inactive definition rewritten
//! into a bridge holding it, or back, with virsh 9.0's options, steps,
//! output and errors.

use super::iface::{lookup_opt, BY_NAME};
use super::opts::{opt_string, opt_uint};
use super::{about, cmd, data, flag, int, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::interface::XML_INACTIVE;
use rvirt::Interface;
use rvirt_conf::xml::{self, Element, Node};

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "iface-bridge",
        about(
            "create a bridge device and attach an existing network device to it",
            "bridge an existing network device",
        ),
        &[
            data("interface", "existing interface name"),
            data("bridge", "new bridge device name"),
            flag("no-stp", "do not enable STP for this bridge"),
            int(
                "delay",
                "number of seconds to squelch traffic on newly connected ports",
            ),
            flag("no-start", "don't start the bridge immediately"),
        ],
        iface_bridge,
    ),
    cmd(
        "iface-unbridge",
        about(
            "undefine a bridge device after detaching its device(s)",
            "unbridge a network device",
        ),
        &[
            data("bridge", "current bridge device name"),
            flag(
                "no-start",
                "don't start the detached interface immediately (not recommended)",
            ),
        ],
        iface_unbridge,
    ),
];

/// The elements that belong to the physical device, not the bridge.
const DEVICE_PARTS: [&str; 3] = ["mac", "bond", "vlan"];

/// The interface's inactive definition as virsh's XPath context sees it.
fn definition(iface: &Interface, name: &str, url: &str) -> Result<Element, CmdError> {
    let text = iface.get_xml_desc(XML_INACTIVE)?;
    xml::parse(&text, url, rvirt::ErrorDomain::NONE)
        .map_err(|e| CmdError::with(format!("Failed to parse configuration of {name}"), e))
}

/// xmlSetProp: replace the attribute in place, or add it last.
fn set_attr(e: &mut Element, name: &str, value: &str) {
    match e.attrs.iter_mut().find(|(k, _)| k == name) {
        Some((_, v)) => *v = value.to_string(),
        None => e.attrs.push((name.to_string(), value.to_string())),
    }
}

/// Unlink `from`'s mac, bond and vlan children, in order.
fn take_device_parts(from: &mut Element) -> Vec<Node> {
    let (moved, kept) = std::mem::take(&mut from.children)
        .into_iter()
        .partition(|n| matches!(n, Node::Element(e) if DEVICE_PARTS.contains(&e.name.as_str())));
    from.children = kept;
    moved
}

/// xmlDocDumpMemory of the rewritten document.
fn serialise(root: Element) -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n");
    xml::dump_node(&Node::Element(root), 0, &mut out);
    out.push('\n');
    out
}

/// The top element's type and name checks both commands make.
fn check_top<'a>(top: &'a Element, name: &str) -> Result<&'a str, CmdError> {
    let kind = top
        .attr("type")
        .ok_or_else(|| CmdError::msg(format!("Existing device {name} has no type")))?;
    Ok(kind)
}

fn check_name(top: &Element, name: &str) -> CmdResult {
    match top.attr("name") {
        Some(n) if n == name => Ok(()),
        other => Err(CmdError::msg(format!(
            "Interface name from config {} doesn't match given supplied name {name}",
            other.unwrap_or("(null)")
        ))),
    }
}

/// The interface's definition turned into a bridge `br_name` holding it
/// (STP on with `delay`, or off): the device's own parts move down.
fn to_bridge(
    mut top: Element,
    if_name: &str,
    br_name: &str,
    stp_delay: Option<u32>,
) -> Result<Element, CmdError> {
    let if_type = check_top(&top, if_name)?.to_string();
    if if_type == "bridge" {
        return Err(CmdError::msg(format!(
            "Existing device {if_name} is already a bridge"
        )));
    }
    check_name(&top, if_name)?;
    let mut bridge = Element {
        name: "bridge".into(),
        ..Element::default()
    };
    set_attr(
        &mut bridge,
        "stp",
        if stp_delay.is_some() { "on" } else { "off" },
    );
    if let Some(delay) = stp_delay {
        set_attr(&mut bridge, "delay", &delay.to_string());
    }
    set_attr(&mut top, "type", "bridge");
    set_attr(&mut top, "name", br_name);
    let mut device = Element {
        name: "interface".into(),
        ..Element::default()
    };
    set_attr(&mut device, "type", &if_type);
    set_attr(&mut device, "name", if_name);
    device.children = take_device_parts(&mut top);
    bridge.children.push(Node::Element(device));
    top.children.push(Node::Element(bridge));
    Ok(top)
}

fn iface_bridge(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let (iface, if_name) = lookup_opt(ctl, c, "interface", BY_NAME)?;
    let br_name = opt_string(c, "bridge")?.unwrap_or_default();
    let conn = ctl.conn()?;
    // The failed look-up's error is still libvirt's last one when the
    // delay is refused below, so virsh prints it too.
    let leftover = match conn.interface_lookup_by_name(br_name) {
        Ok(_) => {
            return Err(CmdError::msg(format!(
                "Network device {br_name} already exists"
            )))
        }
        Err(e) => e,
    };
    let stp = !c.has("no-stp");
    let delay = match opt_uint(c, "delay") {
        Ok(d) => d.unwrap_or(0),
        Err(e) => return Err(CmdError::with(e.own.unwrap_or_default(), leftover)),
    };
    let top = definition(&iface, &if_name, "(interface definition)")?;
    let top = to_bridge(top, &if_name, br_name, stp.then_some(delay))?;
    let br = conn.interface_define_xml(&serialise(top), 0).map_err(|e| {
        CmdError::with(
            format!("Failed to define new bridge interface {br_name}"),
            e,
        )
    })?;
    ctl.print_extra(&format!(
        "Created bridge {br_name} with attached device {if_name}\n"
    ));
    if !c.has("no-start") {
        br.create(0).map_err(|e| {
            CmdError::with(format!("Failed to start bridge interface {br_name}"), e)
        })?;
        ctl.print_extra(&format!("Bridge interface {br_name} started\n"));
    }
    Ok(())
}

/// The one `<interface>` inside the top element's first `<bridge>` that
/// has one, as virsh's `./bridge/interface` XPaths find it.
fn attached(top: &mut Element) -> Result<&mut Element, CmdError> {
    if top.child("bridge").is_none() {
        return Err(CmdError::msg("No bridge node in xml document"));
    }
    let counts = |b: &Element| b.children_named("interface").count();
    if top.children_named("bridge").any(|b| counts(b) > 1) {
        return Err(CmdError::msg("Multiple interfaces attached to bridge"));
    }
    top.children
        .iter_mut()
        .filter_map(|n| match n {
            Node::Element(e) if e.name == "bridge" => Some(e),
            _ => None,
        })
        .flat_map(|b| b.children.iter_mut())
        .find_map(|n| match n {
            Node::Element(e) if e.name == "interface" => Some(e),
            _ => None,
        })
        .ok_or_else(|| CmdError::msg("No interface attached to bridge"))
}

/// The bridge's definition turned into its one attached device's, whose
/// own parts move up (the `<bridge>` element stays, as virsh leaves it).
fn from_bridge(mut top: Element, br_name: &str) -> Result<(Element, String), CmdError> {
    if check_top(&top, br_name)? != "bridge" {
        return Err(CmdError::msg(format!("Device {br_name} is not a bridge")));
    }
    check_name(&top, br_name)?;
    let device = attached(&mut top)?;
    let if_name = device
        .attr("name")
        .map(str::to_string)
        .ok_or_else(|| CmdError::msg(format!("Device attached to bridge {br_name} has no name")))?;
    let if_type = device
        .attr("type")
        .map(str::to_string)
        .ok_or_else(|| CmdError::msg(format!("Attached device {if_name} has no type")))?;
    let parts = take_device_parts(device);
    set_attr(&mut top, "type", &if_type);
    set_attr(&mut top, "name", &if_name);
    top.children.extend(parts);
    Ok((top, if_name))
}

fn iface_unbridge(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let (br, br_name) = lookup_opt(ctl, c, "bridge", BY_NAME)?;
    let top = definition(&br, &br_name, "(bridge interface definition)")?;
    let (top, if_name) = from_bridge(top, &br_name)?;
    br.destroy(0)
        .map_err(|e| CmdError::with(format!("Failed to destroy bridge interface {br_name}"), e))?;
    br.undefine()
        .map_err(|e| CmdError::with(format!("Failed to undefine bridge interface {br_name}"), e))?;
    let iface = ctl
        .conn()?
        .interface_define_xml(&serialise(top), 0)
        .map_err(|e| CmdError::with(format!("Failed to define new interface {if_name}"), e))?;
    ctl.print_extra(&format!(
        "Device {if_name} un-attached from bridge {br_name}\n"
    ));
    if !c.has("no-start") {
        iface
            .create(0)
            .map_err(|e| CmdError::with(format!("Failed to start interface {if_name}"), e))?;
        ctl.print_extra(&format!("Interface {if_name} started\n"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETH: &str = "<interface type='ethernet' name='eth1'><start mode='onboot'/>\
        <mac address='aa:bb:cc:dd:ee:ff'/><vlan tag='4'/></interface>";

    fn parse(text: &str) -> Element {
        xml::parse(text, "(test)", rvirt::ErrorDomain::NONE).unwrap()
    }

    #[test]
    fn bridging_moves_the_device_parts_down_and_back_up() {
        let br = to_bridge(parse(ETH), "eth1", "br0", Some(15)).unwrap();
        let text = serialise(br.clone());
        assert_eq!(
            text,
            "<?xml version=\"1.0\"?>\n<interface type=\"bridge\" name=\"br0\">\n  \
             <start mode=\"onboot\"/>\n  <bridge stp=\"on\" delay=\"15\">\n    \
             <interface type=\"ethernet\" name=\"eth1\">\n      \
             <mac address=\"aa:bb:cc:dd:ee:ff\"/>\n      <vlan tag=\"4\"/>\n    \
             </interface>\n  </bridge>\n</interface>\n"
        );
        let (back, name) = from_bridge(parse(&text), "br0").unwrap();
        assert_eq!(name, "eth1");
        assert_eq!(back.attr("type"), Some("ethernet"));
        assert_eq!(back.attr("name"), Some("eth1"));
        let order: Vec<&str> = back.elements().map(|e| e.name.as_str()).collect();
        assert_eq!(order, ["start", "bridge", "mac", "vlan"]);
        let off = to_bridge(parse(ETH), "eth1", "br0", None).unwrap();
        assert_eq!(
            off.child("bridge").unwrap().attrs,
            [("stp".into(), "off".into())]
        );
    }

    #[test]
    fn refusals_say_what_virsh_says() {
        let own = |r: Result<Element, CmdError>| r.unwrap_err().own.unwrap();
        let br = to_bridge(parse(ETH), "eth1", "br0", None).unwrap();
        assert_eq!(
            own(to_bridge(br.clone(), "br0", "br1", None)),
            "Existing device br0 is already a bridge"
        );
        assert_eq!(
            own(to_bridge(parse(ETH), "eth2", "br1", None)),
            "Interface name from config eth1 doesn't match given supplied name eth2"
        );
        assert_eq!(
            own(to_bridge(parse("<interface name='x'/>"), "x", "b", None)),
            "Existing device x has no type"
        );
        let unbridge = |t: &str| from_bridge(parse(t), "b").unwrap_err().own.unwrap();
        assert_eq!(
            unbridge("<interface type='ethernet' name='b'/>"),
            "Device b is not a bridge"
        );
        assert_eq!(
            unbridge("<interface type='bridge' name='b'/>"),
            "No bridge node in xml document"
        );
        assert_eq!(
            unbridge("<interface type='bridge' name='b'><bridge/></interface>"),
            "No interface attached to bridge"
        );
        assert_eq!(
            unbridge(
                "<interface type='bridge' name='b'><bridge><interface name='p'/>\
                 <interface name='q'/></bridge></interface>"
            ),
            "Multiple interfaces attached to bridge"
        );
        assert_eq!(
            unbridge("<interface type='bridge' name='b'><bridge><interface/></bridge></interface>"),
            "Device attached to bridge b has no name"
        );
        assert_eq!(
            unbridge(
                "<interface type='bridge' name='b'><bridge><interface name='p'/></bridge></interface>"
            ),
            "Attached device p has no type"
        );
    }
}
