//! `iface-edit` and `nwfilter-edit` (virsh-interface.c's cmdInterfaceEdit,
//! virsh-nwfilter.c's cmdNWFilterEdit) over virsh-edit.c's flow without a
//! terminal: a failed definition is reported, then the command goes on as
//! if the edit had worked, naming no object.

use super::snapshot_edit::{edit_file, read_back, write_temp};
use super::{about, cmd, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "iface-edit",
        about(
            "edit XML configuration for a physical host interface",
            "Edit the XML configuration for a physical host interface.",
        ),
        &[super::iface::IFACE],
        iface_edit,
    ),
    cmd(
        "nwfilter-edit",
        about(
            "edit XML configuration for a network filter",
            "Edit the XML configuration for a network filter.",
        ),
        &[super::nwfilter::NWFILTER],
        nwfilter_edit,
    ),
];

/// How an edit ended.
pub(crate) enum Edited {
    Unchanged,
    /// Defined again: the name of what the definition returned.
    Defined(String),
    /// Reported as failed, then carried on with (virsh names "(null)").
    Failed,
}

/// virsh-edit.c: the document from `get` in the editor; unchanged, or
/// re-read to catch a concurrent change, then handed to `define`.
pub(crate) fn edit_document(
    get: impl Fn() -> rvirt::Result<String>,
    define: impl FnOnce(&str) -> rvirt::Result<String>,
) -> Result<Edited, CmdError> {
    let doc = get()?;
    let file = write_temp(&doc)?;
    edit_file(&file)?;
    let edited = read_back(&file)?;
    if edited == doc {
        return Ok(Edited::Unchanged);
    }
    let msg = if get()? != doc {
        "The XML configuration was changed by another user."
    } else {
        match define(&edited) {
            Ok(name) => return Ok(Edited::Defined(name)),
            Err(_) => "Failed.",
        }
    };
    eprintln!("error: {msg}");
    Ok(Edited::Failed)
}

/// The closing line of an edit: `{what} {name} XML configuration ...`.
fn report(ctl: &Ctl, what: &str, original: &str, outcome: Edited) {
    let text = match outcome {
        Edited::Unchanged => format!("{what} {original} XML configuration not changed.\n"),
        Edited::Defined(name) => format!("{what} {name} XML configuration edited.\n"),
        Edited::Failed => format!("{what} (null) XML configuration edited.\n"),
    };
    ctl.print_extra(&text);
}

fn iface_edit(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let by = super::iface::BY_NAME | super::iface::BY_MAC;
    let (iface, _) = super::iface::lookup(ctl, c, by)?;
    let conn = ctl.conn()?;
    let outcome = edit_document(
        || iface.get_xml_desc(rvirt::interface::XML_INACTIVE),
        |doc| Ok(conn.interface_define_xml(doc, 0)?.name().to_string()),
    )?;
    report(ctl, "Interface", iface.name(), outcome);
    Ok(())
}

fn nwfilter_edit(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let filter = super::nwfilter::lookup(ctl, c.get("nwfilter").unwrap_or_default())?;
    let conn = ctl.conn()?;
    let outcome = edit_document(
        || filter.get_xml_desc(0),
        |doc| Ok(conn.nwfilter_define_xml(doc, 0)?.name().to_string()),
    )?;
    report(ctl, "Network filter", filter.name(), outcome);
    Ok(())
}
