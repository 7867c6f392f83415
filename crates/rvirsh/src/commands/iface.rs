//! virsh's host interface commands (tools/virsh-interface.c): iface-list,
//! iface-dumpxml, iface-define, iface-undefine, iface-start,
//! iface-destroy, iface-name, iface-mac and the change transaction
//! (iface-begin, iface-commit, iface-rollback).

use super::lifecycle::read_file;
use super::opts::{exclusive, opt_string};
use super::snapshot::dump_xml;
use super::{about, cmd, data, flag, named_string, CommandDef, OptDef, OptKind};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::interface::{list_flags, XML_INACTIVE};
use rvirt::{ErrorCode, Interface};

pub(super) const BY_NAME: u8 = 1;
pub(super) const BY_MAC: u8 = 2;

const fn iface_opt(help: &'static str) -> OptDef {
    OptDef {
        name: "interface",
        kind: OptKind::Data,
        required: true,
        aliases: &[],
        help,
    }
}
pub(super) const IFACE: OptDef = iface_opt("interface name or MAC address");

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "iface-begin",
        about(
            "create a snapshot of current interfaces settings, which can be later committed (iface-commit) or restored (iface-rollback)",
            "Create a restore point for interfaces settings",
        ),
        &[],
        iface_begin,
    ),
    cmd(
        "iface-commit",
        about(
            "commit changes made since iface-begin and free restore point",
            "commit changes and free restore point",
        ),
        &[],
        iface_commit,
    ),
    cmd(
        "iface-define",
        about(
            "define an inactive persistent physical host interface or modify an existing persistent one from an XML file",
            "Define or modify a persistent physical host interface.",
        ),
        &[
            data("file", "file containing an XML interface description"),
            flag("validate", "validate the XML against the schema"),
        ],
        iface_define,
    ),
    cmd(
        "iface-destroy",
        about(
            "destroy a physical host interface (disable it / \"if-down\")",
            "forcefully stop a physical host interface.",
        ),
        &[IFACE],
        iface_destroy,
    ),
    cmd(
        "iface-dumpxml",
        about(
            "interface information in XML",
            "Output the physical host interface information as an XML dump to stdout.",
        ),
        &[
            IFACE,
            flag("inactive", "show inactive defined XML"),
            named_string("xpath", "xpath expression to filter the XML document"),
            flag("wrap", "wrap xpath results in an common root element"),
        ],
        iface_dumpxml,
    ),
    cmd(
        "iface-list",
        about(
            "list physical host interfaces",
            "Returns list of physical host interfaces.",
        ),
        &[
            flag("inactive", "list inactive interfaces"),
            flag("all", "list inactive & active interfaces"),
        ],
        iface_list,
    ),
    cmd(
        "iface-mac",
        about("convert an interface name to interface MAC address", ""),
        &[iface_opt("interface name")],
        iface_mac,
    ),
    cmd(
        "iface-name",
        about("convert an interface MAC address to interface name", ""),
        &[iface_opt("interface mac")],
        iface_name,
    ),
    cmd(
        "iface-rollback",
        about(
            "rollback to previous saved configuration created via iface-begin",
            "rollback to previous restore point",
        ),
        &[],
        iface_rollback,
    ),
    cmd(
        "iface-start",
        about(
            "start a physical host interface (enable it / \"if-up\")",
            "start a physical host interface.",
        ),
        &[IFACE],
        iface_start,
    ),
    cmd(
        "iface-undefine",
        about(
            "undefine a physical host interface (remove it from configuration)",
            "undefine an interface.",
        ),
        &[IFACE],
        iface_undefine,
    ),
];

/// `virMacAddrParse`: six groups of one or two hex digits, `:`-separated.
fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// virshCommandOptInterfaceBy for `--interface`.
pub(super) fn lookup(
    ctl: &Ctl,
    c: &ParsedCommand,
    by: u8,
) -> Result<(Interface, String), CmdError> {
    lookup_opt(ctl, c, "interface", by)
}

/// virshCommandOptInterfaceBy: the option's value looked up by name or,
/// when it reads as a MAC address, by MAC.
pub(super) fn lookup_opt(
    ctl: &Ctl,
    c: &ParsedCommand,
    opt: &str,
    by: u8,
) -> Result<(Interface, String), CmdError> {
    let n = opt_string(c, opt)?.unwrap_or_default().to_string();
    let conn = ctl.conn()?;
    let mac = is_mac(&n);
    let found = if !mac && by & BY_NAME != 0 {
        Some(conn.interface_lookup_by_name(&n))
    } else if mac && by & BY_MAC != 0 {
        Some(conn.interface_lookup_by_mac_string(&n))
    } else {
        None
    };
    let own = format!("failed to get interface '{n}'");
    match found {
        Some(Ok(iface)) => Ok((iface, n)),
        Some(Err(e)) => Err(CmdError::with(own, e)),
        None => Err(CmdError::msg(own)),
    }
}

fn iface_list(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    exclusive(c, "all", "inactive")?;
    let flags = if c.has("all") {
        list_flags::ACTIVE | list_flags::INACTIVE
    } else if c.has("inactive") {
        list_flags::INACTIVE
    } else {
        list_flags::ACTIVE
    };
    let mut list = collect(ctl, flags)?;
    list.sort_by_key(|i| i.name().to_ascii_lowercase());
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|i| {
            let state = if i.is_active().unwrap_or(true) {
                "active"
            } else {
                "inactive"
            };
            vec![i.name().into(), state.into(), i.mac_string().into()]
        })
        .collect();
    ctl.print(&crate::table::render(
        &["Name", "State", "MAC Address"],
        &rows,
    ));
    Ok(())
}

/// virshInterfaceListCollect, with its fallback to the old calls.
fn collect(ctl: &Ctl, flags: u32) -> Result<Vec<Interface>, CmdError> {
    let conn = ctl.conn()?;
    match conn.list_all_interfaces(flags) {
        Ok(l) => return Ok(l),
        Err(e) if e.code == ErrorCode::NO_SUPPORT => {}
        Err(e) => return Err(CmdError::with("Failed to list interfaces", e)),
    }
    let mut names = Vec::new();
    if flags & list_flags::ACTIVE != 0 {
        let err = |e| CmdError::with("Failed to list active interfaces", e);
        let n = conn.num_of_interfaces().map_err(err)?;
        if n > 0 {
            names.extend(conn.list_interfaces(n).map_err(err)?);
        }
    }
    if flags & list_flags::INACTIVE != 0 {
        let err = |e| CmdError::with("Failed to list inactive interfaces", e);
        let n = conn.num_of_defined_interfaces().map_err(err)?;
        if n > 0 {
            names.extend(conn.list_defined_interfaces(n).map_err(err)?);
        }
    }
    Ok(names
        .iter()
        .filter_map(|n| conn.interface_lookup_by_name(n).ok())
        .collect())
}

fn iface_name(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let (iface, _) = lookup(ctl, c, BY_MAC)?;
    ctl.print(&format!("{}\n", iface.name()));
    Ok(())
}

fn iface_mac(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let (iface, _) = lookup(ctl, c, BY_NAME)?;
    ctl.print(&format!("{}\n", iface.mac_string()));
    Ok(())
}

fn iface_dumpxml(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let f = if c.has("inactive") { XML_INACTIVE } else { 0 };
    let (iface, _) = lookup(ctl, c, BY_NAME | BY_MAC)?;
    let xml = iface.get_xml_desc(f)?;
    dump_xml(ctl, &xml, "interface", c.get("xpath"), c.has("wrap"))
}

fn iface_define(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let from = opt_string(c, "file")?.unwrap_or_default();
    let f = if c.has("validate") { 1 } else { 0 };
    let xml = read_file(from)?;
    let iface = ctl
        .conn()?
        .interface_define_xml(&xml, f)
        .map_err(|e| CmdError::with(format!("Failed to define interface from {from}"), e))?;
    ctl.print_extra(&format!("Interface {} defined from {from}\n", iface.name()));
    Ok(())
}

/// The shape of iface-undefine/start/destroy: look up, act, report.
fn act(
    ctl: &mut Ctl,
    c: &ParsedCommand,
    verb: &str,
    done: &str,
    f: impl FnOnce(&Interface) -> rvirt::Result<()>,
) -> CmdResult {
    let (iface, name) = lookup(ctl, c, BY_NAME | BY_MAC)?;
    f(&iface).map_err(|e| CmdError::with(format!("Failed to {verb} interface {name}"), e))?;
    ctl.print_extra(&format!("Interface {name} {done}\n"));
    Ok(())
}

fn iface_undefine(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    act(ctl, c, "undefine", "undefined", Interface::undefine)
}

fn iface_start(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    act(ctl, c, "start", "started", |i| i.create(0))
}

fn iface_destroy(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    act(ctl, c, "destroy", "destroyed", |i| i.destroy(0))
}

/// The shape of the transaction commands.
fn transaction(
    ctl: &mut Ctl,
    verb: &str,
    done: &str,
    f: impl FnOnce(&rvirt::Connect) -> rvirt::Result<()>,
) -> CmdResult {
    f(ctl.conn()?).map_err(|e| {
        CmdError::with(
            format!("Failed to {verb} network config change transaction"),
            e,
        )
    })?;
    ctl.print_extra(&format!("Network config change transaction {done}\n"));
    Ok(())
}

fn iface_begin(ctl: &mut Ctl, _: &ParsedCommand) -> CmdResult {
    transaction(ctl, "begin", "started", |c| c.interface_change_begin(0))
}

fn iface_commit(ctl: &mut Ctl, _: &ParsedCommand) -> CmdResult {
    transaction(ctl, "commit", "committed", |c| c.interface_change_commit(0))
}

fn iface_rollback(ctl: &mut Ctl, _: &ParsedCommand) -> CmdResult {
    transaction(ctl, "rollback", "rolled back", |c| {
        c.interface_change_rollback(0)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn macs_as_virmacaddrparse() {
        assert!(super::is_mac("aa:bb:cc:dd:ee:ff"));
        assert!(super::is_mac("a:b:c:d:e:f"));
        assert!(!super::is_mac("eth1"));
        assert!(!super::is_mac("aa:bb:cc:dd:ee"));
        assert!(!super::is_mac("aaa:bb:cc:dd:ee:ff"));
    }
}
