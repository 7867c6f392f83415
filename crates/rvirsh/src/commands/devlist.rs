//! Device listings read from the domain XML, as virsh computes them on the
//! client side (cmdDomblklist, cmdDomiflist): the same attributes in the
//! same columns, "-" for what a device lacks.

use super::{about, cmd, data, flag, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_ANY};
use rvirt::flags;
use rvirt_conf::xml::{self, Element};
use rvirt_util::ErrorDomain;

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "domblklist",
        about(
            "list all domain blocks",
            "Get the summary of block devices for a domain.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            flag("inactive", "get inactive rather than running configuration"),
            flag("details", "additionally display the type and device value"),
        ],
        domblklist,
    ),
    cmd(
        "domiflist",
        about(
            "list all domain virtual interfaces",
            "Get the summary of virtual interfaces for a domain.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            flag("inactive", "get inactive rather than running configuration"),
        ],
        domiflist,
    ),
];

/// The `<devices>` children named `kind` of the domain's XML (inactive
/// with `--inactive`).
fn devices(ctl: &mut Ctl, c: &ParsedCommand, kind: &str) -> Result<Vec<Element>, CmdError> {
    let dom = ctl.lookup_domain(c.get("domain").unwrap_or_default(), BY_ANY)?;
    let f = if c.has("inactive") {
        flags::xml::INACTIVE
    } else {
        0
    };
    let root = xml::parse(
        &dom.get_xml_desc(f)?,
        "(domain_definition)",
        ErrorDomain::DOMAIN,
    )?;
    Ok(root
        .child("devices")
        .map(|d| d.children_named(kind).cloned().collect())
        .unwrap_or_default())
}

/// The first of `attrs` that `e`'s child `child` has, or "-".
fn first_attr(e: &Element, child: &str, attrs: &[&str]) -> String {
    e.child(child)
        .and_then(|c| attrs.iter().find_map(|a| c.attr(a)))
        .unwrap_or("-")
        .to_string()
}

fn domblklist(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let details = c.has("details");
    let mut rows = Vec::new();
    for disk in devices(ctl, c, "disk")? {
        let target = first_attr(&disk, "target", &["dev"]);
        let source = first_attr(&disk, "source", &["file", "dev", "dir", "name", "volume"]);
        let mut row = Vec::new();
        if details {
            for attr in ["type", "device"] {
                row.push(disk.attr(attr).unwrap_or_default().to_string());
            }
        }
        row.extend([target, source]);
        rows.push(row);
    }
    let header: &[&str] = if details {
        &["Type", "Device", "Target", "Source"]
    } else {
        &["Target", "Source"]
    };
    ctl.print(&crate::table::render(header, &rows));
    Ok(())
}

fn domiflist(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let mut rows = Vec::new();
    for net in devices(ctl, c, "interface")? {
        let source = ["bridge", "dev", "network", "name", "path"];
        rows.push(vec![
            first_attr(&net, "target", &["dev"]),
            net.attr("type").unwrap_or_default().to_string(),
            first_attr(&net, "source", &source),
            first_attr(&net, "model", &["type"]),
            first_attr(&net, "mac", &["address"]),
        ]);
    }
    let header = ["Interface", "Type", "Source", "Model", "MAC"];
    ctl.print(&crate::table::render(&header, &rows));
    Ok(())
}
