//! virsh's node device commands (tools/virsh-nodedev.c): nodedev-list
//! (with --tree and --cap), nodedev-dumpxml, nodedev-info, nodedev-create
//! and nodedev-destroy, with virsh's fallbacks, sorting and messages.

use super::lifecycle::read_file;
use super::opts::{opt_string, string_to_array};
use super::snapshot::dump_xml;
use super::snapshot_list::tree_print;
use super::{about, cmd, data, flag, named_string, string, CommandDef, OptDef, OptKind};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::nodedev::list_flags;
use rvirt::{Error, ErrorCode, NodeDevice};
use rvirt_util::ErrorDomain;

/// `<device>`, also answering to `--name` where virsh has the alias.
const fn device(aliases: &'static [&'static str]) -> OptDef {
    OptDef {
        name: "device",
        kind: OptKind::Data,
        required: true,
        aliases,
        help: "device name or wwn pair in 'wwnn,wwpn' format",
    }
}

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "nodedev-create",
        about(
            "create a device defined by an XML file on the node",
            "Create a device on the node.  Note that this command creates devices on the physical host that can then be assigned to a virtual machine.",
        ),
        &[
            data("file", "file containing an XML description of the device"),
            flag("validate", "validate the XML against the schema"),
        ],
        nodedev_create,
    ),
    cmd(
        "nodedev-destroy",
        about(
            "destroy (stop) a device on the node",
            "Destroy a device on the node.  Note that this command destroys devices on the physical host",
        ),
        &[device(&["name"])],
        nodedev_destroy,
    ),
    cmd(
        "nodedev-dumpxml",
        about(
            "node device details in XML",
            "Output the node device details as an XML dump to stdout.",
        ),
        &[
            device(&[]),
            named_string("xpath", "xpath expression to filter the XML document"),
            flag("wrap", "wrap xpath results in an common root element"),
        ],
        nodedev_dumpxml,
    ),
    cmd(
        "nodedev-list",
        about("enumerate devices on this host", ""),
        &[
            flag("tree", "list devices in a tree"),
            string("cap", "capability names, separated by comma"),
            flag("inactive", "list inactive devices"),
            flag("all", "list inactive & active devices"),
        ],
        nodedev_list,
    ),
    cmd(
        "nodedev-info",
        about(
            "node device information",
            "Returns basic information about the node device",
        ),
        &[device(&[])],
        nodedev_info,
    ),
];

/// `virValidateWWN`: 16 hex digits, after an optional `0x`.
fn validate_wwn(wwn: &str) -> Result<(), CmdError> {
    let digits = wwn.strip_prefix("0x").unwrap_or(wwn);
    if digits.len() == 16 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(());
    }
    Err(Error::internal(ErrorDomain::NONE, format!("Malformed wwn: {wwn}")).into())
}

/// vshFindNodeDevice: by name, or by a `wwnn,wwpn` pair.
pub(super) fn find_device(ctl: &Ctl, value: &str) -> Result<NodeDevice, CmdError> {
    let conn = ctl.conn()?;
    let found = if value.contains(',') {
        let parts = string_to_array(value);
        if parts.len() != 2 {
            return Err(CmdError::msg(format!("Malformed device value '{value}'")));
        }
        validate_wwn(&parts[0])?;
        validate_wwn(&parts[1])?;
        conn.node_device_lookup_scsi_host_by_wwn(&parts[0], &parts[1], 0)
    } else {
        conn.node_device_lookup_by_name(value)
    };
    found.map_err(|e| CmdError::with(format!("Could not find matching device '{value}'"), e))
}

fn device_arg(c: &ParsedCommand) -> Result<&str, CmdError> {
    Ok(opt_string(c, "device")?.unwrap_or_default())
}

fn nodedev_create(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let from = opt_string(c, "file")?.unwrap_or_default();
    let f = if c.has("validate") { 1 } else { 0 };
    let xml = read_file(from)?;
    let dev = ctl
        .conn()?
        .node_device_create_xml(&xml, f)
        .map_err(|e| CmdError::with(format!("Failed to create node device from {from}"), e))?;
    ctl.print_extra(&format!("Node device {} created from {from}\n", dev.name()));
    Ok(())
}

fn nodedev_destroy(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let value = device_arg(c)?;
    let dev = find_device(ctl, value)?;
    dev.destroy()
        .map_err(|e| CmdError::with(format!("Failed to destroy node device '{value}'"), e))?;
    ctl.print_extra(&format!("Destroyed node device '{value}'\n"));
    Ok(())
}

fn nodedev_dumpxml(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dev = find_device(ctl, device_arg(c)?)?;
    let xml = dev.get_xml_desc(0)?;
    dump_xml(ctl, &xml, "node-device", c.get("xpath"), c.has("wrap"))
}

fn nodedev_info(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dev = find_device(ctl, device_arg(c)?)?;
    let parent = dev.get_parent().ok().flatten().unwrap_or_default();
    // virsh prints -1 (an error) from these as "yes".
    let yes_no = |r: rvirt::Result<bool>| if r.unwrap_or(true) { "yes" } else { "no" };
    let line = |k: &str, v: &str| format!("{k:<15} {v}\n");
    let mut out = line("Name:", dev.name());
    out += &line("Parent:", &parent);
    out += &line("Active:", yes_no(dev.is_active()));
    out += &line("Persistent:", yes_no(dev.is_persistent()));
    out += &match dev.get_autostart() {
        Ok(a) => line("Autostart:", if a { "yes" } else { "no" }),
        Err(_) => line("Autostart:", "no autostart"),
    };
    ctl.print(&out);
    Ok(())
}

/// virshNodeDeviceListCollect: `virConnectListAllNodeDevices`, or for a
/// driver without it the old calls, filtered by capability here.
fn collect(ctl: &Ctl, caps: &[String], flags: u32) -> Result<Vec<NodeDevice>, CmdError> {
    let conn = ctl.conn()?;
    let mut list = match conn.list_all_node_devices(flags) {
        Ok(l) => l,
        Err(e) if e.code == ErrorCode::NO_SUPPORT => fallback(ctl, caps)?,
        Err(e) => return Err(CmdError::with("Failed to list node devices", e)),
    };
    list.sort_by_key(|d| d.name().to_ascii_lowercase());
    Ok(list)
}

fn fallback(ctl: &Ctl, caps: &[String]) -> Result<Vec<NodeDevice>, CmdError> {
    let conn = ctl.conn()?;
    let n = conn
        .node_num_of_devices(None, 0)
        .map_err(|e| CmdError::with("Failed to count node devices", e))?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let names = conn
        .node_list_devices(None, n, 0)
        .map_err(|e| CmdError::with("Failed to list node devices", e))?;
    let mut out = Vec::new();
    for name in names {
        let Ok(dev) = conn.node_device_lookup_by_name(&name) else {
            continue;
        };
        if !caps.is_empty() {
            let count = dev
                .num_of_caps()
                .map_err(|e| CmdError::with("Failed to get capability numbers of the device", e))?;
            let have = dev
                .list_caps(count)
                .map_err(|e| CmdError::with("Failed to get capability names of the device", e))?;
            if !have.iter().any(|h| caps.contains(h)) {
                continue;
            }
        }
        out.push(dev);
    }
    Ok(out)
}

fn nodedev_list(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let tree = c.has("tree");
    let (inactive, all) = (c.has("inactive"), c.has("all"));
    let cap_str = c.get("cap");
    let caps = cap_str.map(string_to_array).unwrap_or_default();
    if all && inactive {
        return Err(CmdError::msg(
            "Option --all is incompatible with --inactive",
        ));
    }
    if tree && (cap_str.is_some() || inactive) {
        return Err(CmdError::msg(
            "Option --tree is incompatible with --cap and --inactive",
        ));
    }
    let mut flags = 0;
    for cap in &caps {
        flags |= list_flags::cap(cap).ok_or_else(|| CmdError::msg("Invalid capability type"))?;
    }
    if inactive || all {
        flags |= list_flags::INACTIVE;
    }
    if !inactive {
        flags |= list_flags::ACTIVE;
    }
    let list = collect(ctl, &caps, flags)?;
    let names: Vec<&str> = list.iter().map(NodeDevice::name).collect();
    if !tree {
        ctl.print(&names.iter().map(|n| format!("{n}\n")).collect::<String>());
        return Ok(());
    }
    let parents: Vec<Option<String>> = list
        .iter()
        .map(|d| match d.name() {
            "computer" => None,
            _ => d.get_parent().ok().flatten(),
        })
        .collect();
    let parents: Vec<Option<&str>> = parents.iter().map(Option::as_deref).collect();
    let mut out = String::new();
    for i in 0..names.len() {
        if parents[i].is_none() {
            tree_print(&mut out, &names, &parents, i, i, true, &mut String::new());
        }
    }
    ctl.print(&out);
    Ok(())
}
