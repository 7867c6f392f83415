//! virsh's checkpoint commands (tools/virsh-checkpoint.c):
//! checkpoint-create, checkpoint-create-as, checkpoint-delete,
//! checkpoint-dumpxml, checkpoint-edit, checkpoint-info, checkpoint-list,
//! checkpoint-parent.

use super::lifecycle::read_file;
use super::opts::{exclusive, opt_string, require};
use super::snapshot::{domain, dump_xml, flags_from, DOMAIN};
use super::snapshot_edit::{edit_file, read_back, write_temp};
use super::snapshot_list::{strftime_local, tree_print};
use super::{about, argv, cmd, flag, named_string, string, CommandDef, OptDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::flags::{checkpoint_create as create, checkpoint_delete as del};
use rvirt::flags::{checkpoint_list as list, checkpoint_xml as xml_flags};
use rvirt::{Domain, DomainCheckpoint, ErrorCode};
use rvirt_conf::xml::{self, escape};

const NAME: OptDef = string("checkpointname", "checkpoint name");

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "checkpoint-create",
        about(
            "Create a checkpoint from XML",
            "Create a checkpoint from XML for use in future incremental backups",
        ),
        &[
            DOMAIN,
            string("xmlfile", "domain checkpoint XML"),
            flag("redefine", "redefine metadata for existing checkpoint"),
            flag("redefine-validate", "validate the redefined checkpoint"),
            flag("quiesce", "quiesce guest's file systems"),
        ],
        checkpoint_create,
    ),
    cmd(
        "checkpoint-create-as",
        about(
            "Create a checkpoint from a set of args",
            "Create a checkpoint from arguments for use in future incremental backups",
        ),
        &[
            DOMAIN,
            string("name", "name of checkpoint"),
            string("description", "description of checkpoint"),
            flag("print-xml", "print XML document rather than create"),
            flag("quiesce", "quiesce guest's file systems"),
            argv(
                "diskspec",
                "disk attributes: disk[,checkpoint=type][,bitmap=name]",
            ),
        ],
        checkpoint_create_as,
    ),
    cmd(
        "checkpoint-delete",
        about("Delete a domain checkpoint", "Checkpoint Delete"),
        &[
            DOMAIN,
            NAME,
            flag("children", "delete checkpoint and all children"),
            flag("children-only", "delete children but not checkpoint"),
            flag(
                "metadata",
                "delete only libvirt metadata, leaving checkpoint contents behind",
            ),
        ],
        checkpoint_delete,
    ),
    cmd(
        "checkpoint-dumpxml",
        about("Dump XML for a domain checkpoint", "Checkpoint Dump XML"),
        &[
            DOMAIN,
            NAME,
            flag(
                "security-info",
                "include security sensitive information in XML dump",
            ),
            flag("no-domain", "exclude <domain> from XML"),
            flag("size", "include backup size estimate in XML dump"),
            named_string("xpath", "xpath expression to filter the XML document"),
            flag("wrap", "wrap xpath results in an common root element"),
        ],
        checkpoint_dumpxml,
    ),
    cmd(
        "checkpoint-edit",
        about(
            "edit XML for a checkpoint",
            "Edit the domain checkpoint XML for a named checkpoint",
        ),
        &[DOMAIN, NAME],
        checkpoint_edit,
    ),
    cmd(
        "checkpoint-info",
        about(
            "checkpoint information",
            "Returns basic information about a checkpoint.",
        ),
        &[DOMAIN, NAME],
        checkpoint_info,
    ),
    cmd(
        "checkpoint-list",
        about("List checkpoints for a domain", "Checkpoint List"),
        &[
            DOMAIN,
            flag("parent", "add a column showing parent checkpoint"),
            flag("roots", "list only checkpoints without parents"),
            flag("leaves", "list only checkpoints without children"),
            flag(
                "no-leaves",
                "list only checkpoints that are not leaves (with children)",
            ),
            flag("tree", "list checkpoints in a tree"),
            string("from", "limit list to children of given checkpoint"),
            flag("descendants", "with --from, list all descendants"),
            flag("name", "list checkpoint names only"),
            flag("topological", "sort list topologically rather than by name"),
        ],
        checkpoint_list,
    ),
    cmd(
        "checkpoint-parent",
        about(
            "Get the name of the parent of a checkpoint",
            "Extract the checkpoint's parent, if any",
        ),
        &[
            DOMAIN,
            string("checkpointname", "find parent of checkpoint name"),
        ],
        checkpoint_parent,
    ),
];

/// virshCheckpointCreate.
fn create_checkpoint(
    ctl: &Ctl,
    dom: &Domain,
    doc: &str,
    flags: u32,
    from: Option<&str>,
) -> CmdResult {
    let chk = dom.checkpoint_create_xml(doc, flags)?;
    match from {
        Some(file) => ctl.print_extra(&format!(
            "Domain checkpoint {} created from '{file}'",
            chk.name()
        )),
        None => ctl.print_extra(&format!("Domain checkpoint {} created", chk.name())),
    }
    Ok(())
}

fn checkpoint_create(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    require(c, "redefine-validate", "redefine")?;
    let flags = flags_from(
        c,
        &[
            ("redefine", create::REDEFINE),
            ("redefine-validate", create::REDEFINE_VALIDATE),
            ("quiesce", create::QUIESCE),
        ],
    );
    let dom = domain(ctl, c)?;
    let from = opt_string(c, "xmlfile")?;
    let doc = match from {
        None => "<domaincheckpoint/>".to_string(),
        Some(path) => read_file(path)?,
    };
    create_checkpoint(ctl, &dom, &doc, flags, from)
}

/// virshParseCheckpointDiskspec.
fn diskspec(spec: &str) -> Result<String, CmdError> {
    let items = super::opts::string_to_array(spec);
    let (mut checkpoint, mut bitmap) = (None, None);
    for item in &items[1..] {
        if let (None, Some(v)) = (&checkpoint, item.strip_prefix("checkpoint=")) {
            checkpoint = Some(v.to_string());
        } else if let (None, Some(v)) = (&bitmap, item.strip_prefix("bitmap=")) {
            bitmap = Some(v.to_string());
        } else {
            return Err(CmdError::msg(format!("unable to parse diskspec: {spec}")));
        }
    }
    let mut out = format!("    <disk name='{}'", escape(&items[0]));
    if let Some(v) = checkpoint {
        out.push_str(&format!(" checkpoint='{v}'"));
    }
    if let Some(v) = bitmap {
        out.push_str(&format!(" bitmap='{v}'"));
    }
    out.push_str("/>\n");
    Ok(out)
}

fn checkpoint_create_as(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = flags_from(c, &[("quiesce", create::QUIESCE)]);
    let dom = domain(ctl, c)?;
    let name = opt_string(c, "name")?;
    let desc = opt_string(c, "description")?;
    let mut buf = String::from("<domaincheckpoint>\n");
    if let Some(n) = name {
        buf.push_str(&format!("  <name>{}</name>\n", escape(n)));
    }
    if let Some(d) = desc {
        buf.push_str(&format!("  <description>{}</description>\n", escape(d)));
    }
    if c.has("diskspec") {
        buf.push_str("  <disks>\n");
        for spec in &c.argv {
            buf.push_str(&diskspec(spec)?);
        }
        buf.push_str("  </disks>\n");
    }
    buf.push_str("</domaincheckpoint>\n");
    if c.has("print-xml") {
        ctl.print(&format!("{buf}\n"));
        return Ok(());
    }
    create_checkpoint(ctl, &dom, &buf, flags, None)
}

/// virshLookupCheckpoint: the checkpoint `--ARG` names.
fn lookup(c: &ParsedCommand, arg: &str, dom: &Domain) -> Result<DomainCheckpoint, CmdError> {
    match opt_string(c, arg)? {
        Some(name) => Ok(dom.checkpoint_lookup_by_name(name, 0)?),
        None => Err(CmdError::msg(format!("--{arg} is required"))),
    }
}

/// virshGetCheckpointParent: `None` for a root.
fn parent_of(chk: &DomainCheckpoint) -> Result<Option<String>, CmdError> {
    match chk.get_parent(0) {
        Ok(p) => Ok(Some(p.name().to_string())),
        Err(e) if e.code == ErrorCode::NO_DOMAIN_CHECKPOINT => Ok(None),
        Err(e) => Err(CmdError {
            own: Some(format!(
                "{}\nerror: unable to determine if checkpoint has parent",
                e.message
            )),
            libvirt: None,
        }),
    }
}

fn checkpoint_delete(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = domain(ctl, c)?;
    let chk = lookup(c, "checkpointname", &dom)?;
    let flags = flags_from(
        c,
        &[
            ("children", del::CHILDREN),
            ("children-only", del::CHILDREN_ONLY),
            ("metadata", del::METADATA_ONLY),
        ],
    );
    chk.delete(flags)
        .map_err(|e| CmdError::with(format!("Failed to delete checkpoint {}", chk.name()), e))?;
    let what = if flags & del::CHILDREN_ONLY != 0 {
        " children"
    } else {
        ""
    };
    ctl.print_extra(&format!("Domain checkpoint {}{what} deleted\n", chk.name()));
    Ok(())
}

fn checkpoint_dumpxml(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = flags_from(
        c,
        &[
            ("security-info", xml_flags::SECURE),
            ("no-domain", xml_flags::NO_DOMAIN),
            ("size", xml_flags::SIZE),
        ],
    );
    let dom = domain(ctl, c)?;
    let chk = lookup(c, "checkpointname", &dom)?;
    let doc = chk.get_xml_desc(flags)?;
    dump_xml(
        ctl,
        &doc,
        "domain-checkpoint",
        c.get("xpath"),
        c.has("wrap"),
    )
}

/// cmdCheckpointEdit over virsh-edit.c, without a terminal to ask on: a
/// changed name is refused (the new checkpoint's metadata removed again).
fn checkpoint_edit(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = domain(ctl, c)?;
    let chk = lookup(c, "checkpointname", &dom)?;
    let name = chk.name().to_string();
    let failed = |text: String| CmdError::msg(format!("{text}\nerror: Failed to update {name}"));
    let doc = chk.get_xml_desc(xml_flags::SECURE)?;
    let file = write_temp(&doc)?;
    edit_file(&file)?;
    let edited = read_back(&file)?;
    if edited == doc {
        ctl.print_extra(&format!(
            "Checkpoint {name} XML configuration not changed.\n"
        ));
        return Ok(());
    }
    if chk.get_xml_desc(xml_flags::SECURE)? != doc {
        return Err(failed(
            "The XML configuration was changed by another user.".into(),
        ));
    }
    let made = dom
        .checkpoint_create_xml(&edited, create::REDEFINE)
        .map_err(|e| failed(format!("Failed.\nerror: {}", e.message)))?;
    if made.name() == name {
        ctl.print_extra(&format!("Checkpoint {name} edited.\n"));
        return Ok(());
    }
    if let Err(e) = made.delete(del::METADATA_ONLY) {
        return Err(failed(format!(
            "{}\nerror: Failed to clean up {}",
            e.message,
            made.name()
        )));
    }
    Err(failed(format!(
        "Cannot rename checkpoint {name} to {}",
        made.name()
    )))
}

fn checkpoint_info(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = domain(ctl, c)?;
    let chk = lookup(c, "checkpointname", &dom)?;
    ctl.print(&format!("{:<15} {}\n", "Name:", chk.name()));
    ctl.print(&format!("{:<15} {}\n", "Domain:", dom.name()));
    let parent = parent_of(&chk).map_err(|mut e| {
        let own = e.own.take().unwrap_or_default();
        e.own = Some(format!(
            "{own}\nerror: unexpected problem querying checkpoint state"
        ));
        e
    })?;
    ctl.print(&format!(
        "{:<15} {}\n",
        "Parent:",
        parent.as_deref().unwrap_or("-")
    ));
    let children = match chk.list_all_children(0) {
        Ok(c) => c.len(),
        Err(e) if e.code == ErrorCode::NO_SUPPORT => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    ctl.print(&format!("{:<15} {children}\n", "Children:"));
    let descendants = chk.list_all_children(list::DESCENDANTS)?.len();
    ctl.print(&format!("{:<15} {descendants}\n", "Descendants:"));
    Ok(())
}

fn checkpoint_parent(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = domain(ctl, c)?;
    let chk = lookup(c, "checkpointname", &dom)?;
    match parent_of(&chk)? {
        Some(p) => {
            ctl.print(&p);
            Ok(())
        }
        None => Err(CmdError::msg(format!(
            "checkpoint '{}' has no parent",
            chk.name()
        ))),
    }
}

/// The listing flags the options ask for, with virsh's option checks.
fn list_flags(c: &ParsedCommand) -> Result<u32, CmdError> {
    for (a, b) in [
        ("tree", "name"),
        ("parent", "roots"),
        ("parent", "tree"),
        ("roots", "tree"),
        ("roots", "from"),
    ] {
        exclusive(c, a, b)?;
    }
    let mut flags = 0;
    for (opt, bit) in [("leaves", list::LEAVES), ("no-leaves", list::NO_LEAVES)] {
        if c.has(opt) {
            if c.has("tree") {
                return Err(CmdError::msg(format!(
                    "--{opt} and --tree are mutually exclusive"
                )));
            }
            flags |= bit;
        }
    }
    flags |= flags_from(
        c,
        &[("topological", list::TOPOLOGICAL), ("roots", list::ROOTS)],
    );
    if c.has("descendants") {
        if !c.has("from") {
            return Err(CmdError::msg("--descendants requires --from"));
        }
        flags |= list::DESCENDANTS;
    }
    Ok(flags)
}

fn checkpoint_list(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = list_flags(c)?;
    let tree = c.has("tree");
    let dom = domain(ctl, c)?;
    let start = match c.has("from") {
        true => Some(lookup(c, "from", &dom)?),
        false => None,
    };
    let listed = match &start {
        Some(from) => from.list_all_children(flags),
        None => dom.list_all_checkpoints(flags),
    }
    .map_err(|e| CmdError::with("unexpected problem querying checkpoints", e))?;
    let mut rows: Vec<(DomainCheckpoint, Option<String>)> = Vec::new();
    for chk in listed {
        let parent = if tree { parent_of(&chk)? } else { None };
        rows.push((chk, parent));
    }
    if let (true, Some(from)) = (tree, start) {
        rows.push((from, None));
    }
    if flags & list::TOPOLOGICAL == 0 {
        rows.sort_by_key(|(chk, _)| chk.name().to_ascii_lowercase());
    }
    if tree {
        let names: Vec<&str> = rows.iter().map(|(chk, _)| chk.name()).collect();
        let parents: Vec<Option<&str>> = rows.iter().map(|(_, p)| p.as_deref()).collect();
        let mut out = String::new();
        for i in (0..rows.len()).filter(|&i| parents[i].is_none()) {
            tree_print(&mut out, &names, &parents, i, i, true, &mut String::new());
        }
        ctl.print(&out);
        return Ok(());
    }
    if c.has("name") {
        let names: String = rows
            .iter()
            .map(|(chk, _)| format!("{}\n", chk.name()))
            .collect();
        ctl.print(&names);
        return Ok(());
    }
    let with_parent = c.has("parent");
    let mut table = Vec::new();
    for (chk, _) in &rows {
        let Ok(doc) = chk.get_xml_desc(0) else {
            continue;
        };
        let Ok(doc) = xml::parse(&doc, "(domain_checkpoint)", rvirt::ErrorDomain::NONE) else {
            continue;
        };
        let Some(time) = doc
            .child_text("creationTime")
            .and_then(|t| t.trim().parse::<i64>().ok())
        else {
            continue;
        };
        let mut row = vec![
            chk.name().to_string(),
            strftime_local(time, c"%Y-%m-%d %H:%M:%S %z"),
        ];
        if with_parent {
            let parent = doc.child("parent").and_then(|p| p.child_text("name"));
            row.push(parent.unwrap_or_default());
        }
        table.push(row);
    }
    let header: &[&str] = if with_parent {
        &["Name", "Creation Time", "Parent"]
    } else {
        &["Name", "Creation Time"]
    };
    ctl.print(&crate::table::render(header, &table));
    Ok(())
}
