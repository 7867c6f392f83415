//! `net-edit` (virsh's cmdNetworkEdit over virsh-edit.c): the network's
//! XML in `$VISUAL`/`$EDITOR`/vi, then defined again.

use super::network::{network, NETWORK};
use super::snapshot_edit::{edit_file, read_back, write_temp};
use super::{about, cmd, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdResult, Ctl};
use rvirt::{ErrorCode, Network};

pub static COMMANDS: &[CommandDef] = &[cmd(
    "net-edit",
    about(
        "edit XML configuration for a network",
        "Edit the XML configuration for a network.",
    ),
    &[NETWORK],
    net_edit,
)];

/// virshNetworkGetXMLDesc: the inactive XML, or the plain one from a
/// server that refuses the flag (libvirt's test driver does).
fn xml_of(net: &Network) -> rvirt::Result<String> {
    match net.get_xml_desc(rvirt_conf::network::XML_INACTIVE) {
        Err(e) if e.code == ErrorCode::INVALID_ARG => net.get_xml_desc(0),
        other => other,
    }
}

fn net_edit(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let net = network(ctl, c)?;
    let doc = xml_of(&net)?;
    let file = write_temp(&doc)?;
    edit_file(&file)?;
    let edited = read_back(&file)?;
    if edited == doc {
        ctl.print_extra(&format!(
            "Network {} XML configuration not changed.\n",
            net.name()
        ));
        return Ok(());
    }
    let msg = if xml_of(&net)? != doc {
        Err("The XML configuration was changed by another user.")
    } else {
        ctl.conn()?
            .network_define_xml(&edited, 0)
            .map_err(|_| "Failed.")
    };
    // Without a terminal virsh cannot ask to re-edit: it reports the
    // failure, then carries on as if the edit had worked, naming no
    // network.
    let name = match msg {
        Ok(n) => n.name().to_string(),
        Err(m) => {
            eprintln!("error: {m}");
            "(null)".to_string()
        }
    };
    ctl.print_extra(&format!("Network {name} XML configuration edited.\n"));
    Ok(())
}
