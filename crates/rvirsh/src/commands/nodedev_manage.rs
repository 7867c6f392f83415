//! virsh's node device management commands (tools/virsh-nodedev.c):
//! nodedev-define, nodedev-undefine, nodedev-start, nodedev-autostart,
//! nodedev-detach, nodedev-reattach and nodedev-reset.

use super::lifecycle::read_file;
use super::nodedev::find_device;
use super::opts::opt_string;
use super::{about, cmd, data, flag, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::NodeDevice;

const BY_NAME_OR_WWN: &str = "device name or wwn pair in 'wwnn,wwpn' format";

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "nodedev-detach",
        about(
            "detach node device from its device driver",
            "Detach node device from its device driver before assigning to a domain.",
        ),
        &[
            data("device", "device key"),
            string(
                "driver",
                "pci device assignment backend driver (e.g. 'vfio' or 'xen')",
            ),
        ],
        nodedev_detach,
    ),
    cmd(
        "nodedev-reattach",
        about(
            "reattach node device to its device driver",
            "Reattach node device to its device driver once released by the domain.",
        ),
        &[data("device", "device key")],
        nodedev_reattach,
    ),
    cmd(
        "nodedev-reset",
        about(
            "reset node device",
            "Reset node device before or after assigning to a domain.",
        ),
        &[data("device", "device key")],
        nodedev_reset,
    ),
    cmd(
        "nodedev-define",
        about(
            "Define a device by an xml file on a node",
            "Defines a persistent device on the node that can be assigned to a domain. \
             The device must be started before it can be assigned to a domain.",
        ),
        &[
            data("file", "file containing an XML description of the device"),
            flag("validate", "validate the XML against the schema"),
        ],
        nodedev_define,
    ),
    cmd(
        "nodedev-undefine",
        about(
            "Undefine an inactive node device",
            "Undefines the configuration for an inactive node device",
        ),
        &[data("device", BY_NAME_OR_WWN)],
        nodedev_undefine,
    ),
    cmd(
        "nodedev-start",
        about(
            "Start an inactive node device",
            "Starts an inactive node device that was previously defined",
        ),
        &[data("device", "device name")],
        nodedev_start,
    ),
    cmd(
        "nodedev-autostart",
        about(
            "autostart a defined node device",
            "Configure a node device to be automatically started at boot.",
        ),
        &[
            data("device", BY_NAME_OR_WWN),
            flag("disable", "disable autostarting"),
        ],
        nodedev_autostart,
    ),
];

/// `VIR_NODE_DEVICE_DEFINE_XML_VALIDATE`.
const DEFINE_VALIDATE: u32 = 1;

fn device_arg(c: &ParsedCommand) -> Result<&str, CmdError> {
    Ok(opt_string(c, "device")?.unwrap_or_default())
}

/// virNodeDeviceLookupByName, failing as these commands do.
fn by_name(ctl: &Ctl, name: &str) -> Result<NodeDevice, CmdError> {
    ctl.conn()?
        .node_device_lookup_by_name(name)
        .map_err(|e| CmdError::with(format!("Could not find matching device '{name}'"), e))
}

fn nodedev_detach(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let name = device_arg(c)?;
    let driver = c.get("driver");
    let dev = by_name(ctl, name)?;
    dev.detach_flags(driver, 0)
        .map_err(|e| CmdError::with(format!("Failed to detach device {name}"), e))?;
    ctl.print_extra(&format!("Device {name} detached\n"));
    Ok(())
}

fn nodedev_reattach(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let name = device_arg(c)?;
    let dev = by_name(ctl, name)?;
    dev.reattach()
        .map_err(|e| CmdError::with(format!("Failed to re-attach device {name}"), e))?;
    ctl.print_extra(&format!("Device {name} re-attached\n"));
    Ok(())
}

fn nodedev_reset(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let name = device_arg(c)?;
    let dev = by_name(ctl, name)?;
    dev.reset()
        .map_err(|e| CmdError::with(format!("Failed to reset device {name}"), e))?;
    ctl.print_extra(&format!("Device {name} reset\n"));
    Ok(())
}

fn nodedev_define(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let from = opt_string(c, "file")?.unwrap_or_default();
    let doc = read_file(from)?;
    let flags = if c.has("validate") {
        DEFINE_VALIDATE
    } else {
        0
    };
    let dev = ctl
        .conn()?
        .node_device_define_xml(&doc, flags)
        .map_err(|e| CmdError::with(format!("Failed to define node device from '{from}'"), e))?;
    ctl.print_extra(&format!(
        "Node device '{}' defined from '{from}'\n",
        dev.name()
    ));
    Ok(())
}

fn nodedev_undefine(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let value = device_arg(c)?;
    let dev = find_device(ctl, value)?;
    dev.undefine(0)
        .map_err(|e| CmdError::with(format!("Failed to undefine node device '{value}'"), e))?;
    ctl.print_extra(&format!("Undefined node device '{value}'\n"));
    Ok(())
}

fn nodedev_start(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let name = device_arg(c)?;
    let dev = by_name(ctl, name)?;
    dev.create(0)
        .map_err(|e| CmdError::with(format!("Failed to start device {name}"), e))?;
    ctl.print_extra(&format!("Device {name} started\n"));
    Ok(())
}

fn nodedev_autostart(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let name = device_arg(c)?;
    let dev = find_device(ctl, name)?;
    let on = !c.has("disable");
    let (verb, past) = if on {
        ("mark", "marked")
    } else {
        ("unmark", "unmarked")
    };
    dev.set_autostart(on)
        .map_err(|e| CmdError::with(format!("failed to {verb} device {name} as autostarted"), e))?;
    ctl.print_extra(&format!("Device {name} {past} as autostarted\n"));
    Ok(())
}
