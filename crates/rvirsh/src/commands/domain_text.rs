//! A domain's editable text (tools/virsh-domain.c): `edit` (cmdEdit over
//! virsh-edit.c), `desc` (cmdDesc) and `metadata` (cmdMetadata). Reading
//! goes through virDomainGetMetadata; rvirt has no virDomainSetMetadata
//! yet, so setting a description, title or metadata element answers
//! libvirt's "not supported" for it, as a driver without it does.

use super::opts::{exclusive, opt_string};
use super::snapshot::domain;
use super::snapshot_edit::{edit_file, read_back, write_temp};
use super::{about, argv, cmd, data, flag, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::flags::{define, metadata, xml as xml_flags};
use rvirt::{Domain, ErrorCode};

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "edit",
        about(
            "edit XML configuration for a domain",
            "Edit the XML configuration for a domain.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            flag(
                "skip-validate",
                "skip validation of the XML against the schema",
            ),
        ],
        edit,
    ),
    cmd(
        "desc",
        about(
            "show or set domain's description or title",
            "Allows setting or modifying the description or title of a domain.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            flag("live", "modify/get running state"),
            flag("config", "modify/get persistent configuration"),
            flag("current", "modify/get current state configuration"),
            flag("title", "modify/get the title instead of description"),
            flag("edit", "open an editor to modify the description"),
            argv("new-desc", "message"),
        ],
        desc,
    ),
    cmd(
        "metadata",
        about(
            "show or set domain's custom XML metadata",
            "Shows or modifies the XML metadata of a domain.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            data("uri", "URI of the namespace"),
            flag("live", "modify/get running state"),
            flag("config", "modify/get persistent configuration"),
            flag("current", "modify/get current state configuration"),
            flag("edit", "use an editor to change the metadata"),
            string("key", "key to be used as a namespace identifier"),
            string("set", "new metadata to set"),
            flag("remove", "remove the metadata corresponding to an uri"),
        ],
        metadata_cmd,
    ),
];

/// cmdEdit: the inactive, secure XML in the editor, then defined (with
/// schema validation unless `--skip-validate`). Without a terminal to ask
/// on, a failed definition is final.
fn edit(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = domain(ctl, c)?;
    let flags = if c.has("skip-validate") {
        0
    } else {
        define::VALIDATE
    };
    let query = xml_flags::SECURE | xml_flags::INACTIVE;
    let doc = dom.get_xml_desc(query)?;
    let file = write_temp(&doc)?;
    edit_file(&file)?;
    let edited = read_back(&file)?;
    if edited == doc {
        ctl.print_extra(&format!(
            "Domain '{}' XML configuration not changed.\n",
            dom.name()
        ));
        return Ok(());
    }
    let defined = if dom.get_xml_desc(query)? != doc {
        Err("The XML configuration was changed by another user.")
    } else {
        ctl.conn()?
            .define_xml(&edited, flags)
            .map_err(|_| "Failed.")
    };
    // Without a terminal virsh cannot ask to re-edit: it reports the
    // failure, then carries on as if the edit had worked, naming no
    // domain.
    let name = match defined {
        Ok(d) => d.name().to_string(),
        Err(msg) => {
            eprintln!("error: {msg}");
            "(null)".to_string()
        }
    };
    ctl.print_extra(&format!("Domain '{name}' XML configuration edited.\n"));
    Ok(())
}

/// virDomainSetMetadata is not in rvirt's API yet: libvirt's answer from
/// a driver without it, before anything is sent.
fn set_metadata_unsupported() -> rvirt::Error {
    rvirt::driver::unsupported("virDomainSetMetadata")
}

/// virshGetDomainDescription: the API's answer ("" for none), or the
/// document's `<title>`/`<description>` from a driver without it.
fn description(dom: &Domain, title: bool, flags: u32) -> Result<String, CmdError> {
    let kind = if title {
        metadata::TITLE
    } else {
        metadata::DESCRIPTION
    };
    match dom.get_metadata(kind, None, flags) {
        Ok(text) => return Ok(text),
        Err(e) if e.code == ErrorCode::NO_DOMAIN_METADATA => return Ok(String::new()),
        Err(e) if e.code != ErrorCode::NO_SUPPORT => return Err(e.into()),
        Err(_) => {}
    }
    let xml = dom.get_xml_desc(flags)?;
    let doc = rvirt_conf::xml::parse(&xml, "(domain_definition)", rvirt::ErrorDomain::NONE)?;
    let element = if title { "title" } else { "description" };
    Ok(doc.child_text(element).unwrap_or_default())
}

fn desc(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    super::tuning::scope(c)?;
    let query = if c.has("config") {
        xml_flags::INACTIVE
    } else {
        0
    };
    let dom = domain(ctl, c)?;
    dom.get_state()?;
    let title = c.has("title");
    let what = if title { "title" } else { "description" };
    let given = (!c.argv.is_empty()).then(|| c.argv.join(" "));
    if !c.has("edit") && given.is_none() {
        let text = description(&dom, title, query)?;
        if text.is_empty() {
            ctl.print_extra(&format!("No {what} for domain: {}", dom.name()));
        } else {
            ctl.print(&text);
        }
        return Ok(());
    }
    let current = description(&dom, title, query)?;
    if c.has("edit") {
        let file = write_temp(given.as_deref().unwrap_or(&current))?;
        edit_file(&file)?;
        let mut edited = read_back(&file)?;
        if title && edited.ends_with('\n') {
            edited.pop();
        }
        if edited == current {
            ctl.print_extra(&format!("Domain {what} not changed\n"));
            return Ok(());
        }
    }
    Err(CmdError::with(
        format!("Failed to set new domain {what}"),
        set_metadata_unsupported(),
    ))
}

fn metadata_cmd(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = super::tuning::scope(c)?;
    exclusive(c, "edit", "set")?;
    exclusive(c, "remove", "set")?;
    exclusive(c, "remove", "edit")?;
    let dom = domain(ctl, c)?;
    let uri = opt_string(c, "uri")?;
    let key = opt_string(c, "key")?;
    let set = opt_string(c, "set")?;
    let edit = c.has("edit");
    if (set.is_some() || edit) && key.is_none() {
        return Err(CmdError::msg(
            "namespace key is required when modifying metadata",
        ));
    }
    if set.is_some() || c.has("remove") {
        return Err(set_metadata_unsupported().into());
    }
    if edit {
        let doc = dom
            .get_metadata(metadata::ELEMENT, uri, flags)
            .unwrap_or_else(|_| "\n".into());
        let file = write_temp(&doc)?;
        edit_file(&file)?;
        if read_back(&file)? == doc {
            ctl.print_extra("Metadata not changed");
            return Ok(());
        }
        let reread = dom
            .get_metadata(metadata::ELEMENT, uri, flags)
            .unwrap_or_else(|_| "\n".into());
        // virsh-edit.c without a terminal: the failure is reported, then
        // the command goes on as if the edit had worked.
        eprintln!(
            "error: {}",
            if reread != doc {
                "The XML configuration was changed by another user."
            } else {
                // virDomainSetMetadata, which rvirt does not have.
                "Failed."
            }
        );
        ctl.print_extra("Metadata modified\n");
        return Ok(());
    }
    let data = dom.get_metadata(metadata::ELEMENT, uri, flags)?;
    ctl.print(&format!("{data}\n"));
    Ok(())
}
