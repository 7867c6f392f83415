//! virsh's network filter binding commands (tools/virsh-nwfilter.c):
//! nwfilter-binding-create, nwfilter-binding-delete,
//! nwfilter-binding-dumpxml, nwfilter-binding-list.

use super::lifecycle::read_file;
use super::opts::opt_string;
use super::{about, cmd, data, flag, named_string, CommandDef, OptDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::NWFilterBinding;

/// `VIR_NWFILTER_BINDING_CREATE_VALIDATE`.
const CREATE_VALIDATE: u32 = 1;

const BINDING: OptDef = data("binding", "network filter binding port dev");

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "nwfilter-binding-create",
        about(
            "create a network filter binding from an XML file",
            "Create a new network filter binding.",
        ),
        &[
            data(
                "file",
                "file containing an XML network filter binding description",
            ),
            flag("validate", "validate the XML against the schema"),
        ],
        binding_create,
    ),
    cmd(
        "nwfilter-binding-delete",
        about(
            "delete a network filter binding",
            "Delete a given network filter binding.",
        ),
        &[BINDING],
        binding_delete,
    ),
    cmd(
        "nwfilter-binding-dumpxml",
        about(
            "network filter information in XML",
            "Output the network filter information as an XML dump to stdout.",
        ),
        &[
            data("binding", "network filter binding portdev"),
            named_string("xpath", "xpath expression to filter the XML document"),
            flag("wrap", "wrap xpath results in an common root element"),
        ],
        binding_dumpxml,
    ),
    cmd(
        "nwfilter-binding-list",
        about(
            "list network filter bindings",
            "Returns list of network filter bindings.",
        ),
        &[],
        binding_list,
    ),
];

/// `virshCommandOptNWFilterBinding`: by port dev only.
fn lookup(ctl: &Ctl, portdev: &str) -> Result<NWFilterBinding, CmdError> {
    ctl.conn()?
        .nwfilter_binding_lookup_by_port_dev(portdev)
        .map_err(|e| CmdError::with(format!("failed to get nwfilter binding '{portdev}'"), e))
}

fn binding_create(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let from = opt_string(c, "file")?.unwrap_or_default();
    let flags = if c.has("validate") {
        CREATE_VALIDATE
    } else {
        0
    };
    let xml = read_file(from)?;
    let binding = ctl
        .conn()?
        .nwfilter_binding_create_xml(&xml, flags)
        .map_err(|e| CmdError::with(format!("Failed to create network filter from {from}"), e))?;
    ctl.print_extra(&format!(
        "Network filter binding on {} created from {from}\n",
        binding.port_dev()
    ));
    Ok(())
}

fn binding_delete(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let portdev = c.get("binding").unwrap_or_default();
    let binding = lookup(ctl, portdev)?;
    binding.delete().map_err(|e| {
        CmdError::with(
            format!("Failed to delete network filter binding on {portdev}"),
            e,
        )
    })?;
    ctl.print_extra(&format!("Network filter binding on {portdev} deleted\n"));
    Ok(())
}

/// virsh 9.0 never reads `--xpath` here (its variable stays NULL), so the
/// whole document is printed whatever `--xpath` and `--wrap` say.
fn binding_dumpxml(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let binding = lookup(ctl, c.get("binding").unwrap_or_default())?;
    let xml = binding.get_xml_desc(0)?;
    ctl.print(&xml);
    Ok(())
}

/// virshNWFilterBindingListCollect, sorted by port ignoring case.
fn binding_list(ctl: &mut Ctl, _c: &ParsedCommand) -> CmdResult {
    let mut list = ctl
        .conn()?
        .list_all_nwfilter_bindings(0)
        .map_err(|e| CmdError::with("Failed to list network filter bindings", e))?;
    list.sort_by_key(|b| b.port_dev().to_ascii_lowercase());
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|b| vec![b.port_dev().to_string(), b.filter_name().to_string()])
        .collect();
    ctl.print(&crate::table::render(&["Port Dev", "Filter"], &rows));
    Ok(())
}
