//! virsh's snapshot commands (tools/virsh-snapshot.c): snapshot-create,
//! snapshot-create-as, snapshot-current, snapshot-info, snapshot-dumpxml,
//! snapshot-parent, snapshot-revert, snapshot-delete; snapshot-list is in
//! `snapshot_list`.

use super::lifecycle::read_file;
use super::opts::{exclusive, opt_string};
use super::{about, argv, cmd, data, flag, named_string, string, CommandDef, OptDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_ANY};
use rvirt::flags::{snapshot_create as create, snapshot_delete as del};
use rvirt::flags::{snapshot_revert as revert, xml::SECURE};
use rvirt::{Domain, DomainSnapshot, ErrorCode};
use rvirt_conf::xml::{self, escape, Element};

pub const DOMAIN: OptDef = data("domain", "domain name, id or uuid");

/// The options of snapshot-create and snapshot-create-as: `$pre`, the
/// creation flags, `$post`.
macro_rules! create_opts {
    ([$($pre:expr),* $(,)?], [$($post:expr),* $(,)?]) => {
        &[
            $($pre,)*
            flag("no-metadata", "take snapshot but create no metadata"),
            flag("halt", "halt domain after snapshot is created"),
            flag("disk-only", "capture disk state but not vm state"),
            flag("reuse-external", "reuse any existing external files"),
            flag("quiesce", "quiesce guest's file systems"),
            flag("atomic", "require atomic operation"),
            flag("live", "take a live snapshot"),
            flag("validate", "validate the XML against the schema"),
            $($post,)*
        ]
    };
}

/// Options shared by commands naming one snapshot by name or `--current`.
macro_rules! by_name_or_current {
    ($name_help:literal, $current_help:literal $(, $more:expr)* $(,)?) => {
        &[
            DOMAIN,
            string("snapshotname", $name_help),
            flag("current", $current_help),
            $($more),*
        ]
    };
}

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "snapshot-create",
        about(
            "Create a snapshot from XML",
            "Create a snapshot (disk and RAM) from XML",
        ),
        create_opts!(
            [
                DOMAIN,
                string("xmlfile", "domain snapshot XML"),
                flag("redefine", "redefine metadata for existing snapshot"),
                flag("current", "with redefine, set current snapshot"),
            ],
            []
        ),
        snapshot_create,
    ),
    cmd(
        "snapshot-create-as",
        about(
            "Create a snapshot from a set of args",
            "Create a snapshot (disk and RAM) from arguments",
        ),
        create_opts!(
            [
                DOMAIN,
                string("name", "name of snapshot"),
                string("description", "description of snapshot"),
                flag("print-xml", "print XML document rather than create"),
            ],
            [
                named_string("memspec", "memory attributes: [file=]name[,snapshot=type]"),
                argv(
                    "diskspec",
                    "disk attributes: disk[,snapshot=type][,driver=type][,stype=type][,file=name]",
                ),
            ]
        ),
        snapshot_create_as,
    ),
    cmd(
        "snapshot-current",
        about(
            "Get or set the current snapshot",
            "Get or set the current snapshot",
        ),
        &[
            DOMAIN,
            flag("name", "list the name, rather than the full xml"),
            flag(
                "security-info",
                "include security sensitive information in XML dump",
            ),
            string("snapshotname", "name of existing snapshot to make current"),
        ],
        snapshot_current,
    ),
    cmd(
        "snapshot-delete",
        about("Delete a domain snapshot", "Snapshot Delete"),
        by_name_or_current!(
            "snapshot name",
            "delete current snapshot",
            flag("children", "delete snapshot and all children"),
            flag("children-only", "delete children but not snapshot"),
            flag(
                "metadata",
                "delete only libvirt metadata, leaving snapshot contents behind"
            ),
        ),
        snapshot_delete,
    ),
    cmd(
        "snapshot-dumpxml",
        about("Dump XML for a domain snapshot", "Snapshot Dump XML"),
        &[
            DOMAIN,
            data("snapshotname", "snapshot name"),
            flag(
                "security-info",
                "include security sensitive information in XML dump",
            ),
            named_string("xpath", "xpath expression to filter the XML document"),
            flag("wrap", "wrap xpath results in an common root element"),
        ],
        snapshot_dumpxml,
    ),
    cmd(
        "snapshot-info",
        about(
            "snapshot information",
            "Returns basic information about a snapshot.",
        ),
        by_name_or_current!("snapshot name", "info on current snapshot"),
        snapshot_info,
    ),
    cmd(
        "snapshot-parent",
        about(
            "Get the name of the parent of a snapshot",
            "Extract the snapshot's parent, if any",
        ),
        by_name_or_current!(
            "find parent of snapshot name",
            "find parent of current snapshot"
        ),
        snapshot_parent,
    ),
    cmd(
        "snapshot-revert",
        about("Revert a domain to a snapshot", "Revert domain to snapshot"),
        by_name_or_current!(
            "snapshot name",
            "revert to current snapshot",
            flag("running", "after reverting, change state to running"),
            flag("paused", "after reverting, change state to paused"),
            flag("force", "try harder on risky reverts"),
            flag(
                "reset-nvram",
                "re-initialize NVRAM from its pristine template"
            ),
        ),
        snapshot_revert,
    ),
];

pub fn flags_from(c: &ParsedCommand, table: &[(&str, u32)]) -> u32 {
    table
        .iter()
        .filter(|(opt, _)| c.has(opt))
        .fold(0, |acc, (_, bit)| acc | bit)
}

pub fn domain(ctl: &Ctl, c: &ParsedCommand) -> Result<Domain, CmdError> {
    ctl.lookup_domain(c.get("domain").unwrap_or_default(), BY_ANY)
}

/// virshLookupSnapshot: `--ARG name` or `--current`.
pub fn lookup_snapshot(
    c: &ParsedCommand,
    arg: &str,
    dom: &Domain,
) -> Result<DomainSnapshot, CmdError> {
    let name = opt_string(c, arg)?;
    let current = c.has("current");
    if current && name.is_some() {
        return Err(CmdError::msg(format!(
            "--{arg} and --current are mutually exclusive"
        )));
    }
    Ok(match name {
        Some(n) => dom.snapshot_lookup_by_name(n, 0)?,
        None if current => dom.snapshot_current(0)?,
        None => return Err(CmdError::msg(format!("--{arg} or --current is required"))),
    })
}

const COMMON_CREATE: &[(&str, u32)] = &[
    ("no-metadata", create::NO_METADATA),
    ("halt", create::HALT),
    ("disk-only", create::DISK_ONLY),
    ("reuse-external", create::REUSE_EXT),
    ("quiesce", create::QUIESCE),
    ("atomic", create::ATOMIC),
    ("live", create::LIVE),
    ("validate", create::VALIDATE),
];

fn snapshot_create(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let mut f = flags_from(
        c,
        &[("redefine", create::REDEFINE), ("current", create::CURRENT)],
    );
    f |= flags_from(c, COMMON_CREATE);
    let dom = domain(ctl, c)?;
    let from = opt_string(c, "xmlfile")?;
    let xml = match from {
        None => "<domainsnapshot/>".to_string(),
        Some(path) => read_file(path)?,
    };
    create_snapshot(ctl, &dom, &xml, f, from)
}

/// virshSnapshotCreate, with its fallbacks: without VALIDATE for a server
/// that lacks it, and an emulated HALT (destroy afterwards) for one that
/// refuses the flag.
fn create_snapshot(
    ctl: &mut Ctl,
    dom: &Domain,
    xml: &str,
    mut f: u32,
    from: Option<&str>,
) -> CmdResult {
    let mut made = dom.snapshot_create_xml(xml, f);
    if from.is_none() && matches!(&made, Err(e) if e.code == ErrorCode::NO_SUPPORT) {
        f &= !create::VALIDATE;
        made = dom.snapshot_create_xml(xml, f);
    }
    let mut halt = false;
    if f & create::HALT != 0 && matches!(&made, Err(e) if e.code == ErrorCode::INVALID_ARG) {
        if !dom.is_persistent()? {
            return Err(CmdError::msg(
                "cannot halt after snapshot of transient domain",
            ));
        }
        halt = dom.is_active().unwrap_or(false);
        f &= !create::HALT;
        made = dom.snapshot_create_xml(xml, f);
    }
    let snap = made?;
    if halt {
        dom.destroy(0)?;
    }
    match from {
        Some(file) => ctl.print_extra(&format!(
            "Domain snapshot {} created from '{file}'",
            snap.name()
        )),
        None => ctl.print_extra(&format!("Domain snapshot {} created", snap.name())),
    }
    Ok(())
}

/// virshParseSnapshotMemspec.
fn memspec(spec: &str) -> Result<String, CmdError> {
    let (mut snapshot, mut file) = (None, None);
    for item in super::opts::string_to_array(spec) {
        if let (None, Some(v)) = (&snapshot, item.strip_prefix("snapshot=")) {
            snapshot = Some(v.to_string());
        } else if let (None, Some(v)) = (&file, item.strip_prefix("file=")) {
            file = Some(v.to_string());
        } else if file.is_none() && item.starts_with('/') {
            file = Some(item);
        } else {
            return Err(CmdError::msg(format!("unable to parse memspec: {spec}")));
        }
    }
    let mut out = String::from("  <memory");
    if let Some(s) = snapshot {
        out.push_str(&format!(" snapshot='{}'", escape(&s)));
    }
    if let Some(f) = file {
        out.push_str(&format!(" file='{}'", escape(&f)));
    }
    out.push_str("/>\n");
    Ok(out)
}

/// virshParseSnapshotDiskspec.
fn diskspec(spec: &str) -> Result<String, CmdError> {
    let bad = || CmdError::msg(format!("unable to parse diskspec: {spec}"));
    let items = super::opts::string_to_array(spec);
    let mut fields: [Option<String>; 4] = Default::default();
    let keys = ["snapshot=", "driver=", "stype=", "file="];
    'item: for item in &items[1..] {
        for (k, slot) in keys.iter().zip(fields.iter_mut()) {
            if let (None, Some(v)) = (&slot, item.strip_prefix(k)) {
                *slot = Some(v.to_string());
                continue 'item;
            }
        }
        return Err(bad());
    }
    let [snapshot, driver, stype, file] = fields;
    let mut out = format!("    <disk name='{}'", escape(&items[0]));
    if let Some(s) = snapshot {
        out.push_str(&format!(" snapshot='{s}'"));
    }
    let mut is_file = true;
    if let Some(t) = &stype {
        match t.as_str() {
            "block" => is_file = false,
            "file" => {}
            _ => {
                return Err(CmdError::msg(format!(
                    "Unknown storage type: '{t}'\nerror: unable to parse diskspec: {spec}"
                )))
            }
        }
        out.push_str(&format!(" type='{t}'"));
    }
    if driver.is_none() && file.is_none() {
        out.push_str("/>\n");
        return Ok(out);
    }
    out.push_str(">\n");
    if let Some(d) = driver {
        out.push_str(&format!("      <driver type='{d}'/>\n"));
    }
    if let Some(f) = file {
        let attr = if is_file { "file" } else { "dev" };
        out.push_str(&format!("      <source {attr}='{}'/>\n", escape(&f)));
    }
    out.push_str("    </disk>\n");
    Ok(out)
}

fn snapshot_create_as(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let f = flags_from(c, COMMON_CREATE);
    let dom = domain(ctl, c)?;
    let name = opt_string(c, "name")?;
    let desc = opt_string(c, "description")?;
    let mut buf = String::from("<domainsnapshot>\n");
    if let Some(n) = name {
        buf.push_str(&format!("  <name>{}</name>\n", escape(n)));
    }
    if let Some(d) = desc {
        buf.push_str(&format!("  <description>{}</description>\n", escape(d)));
    }
    if let Some(m) = opt_string(c, "memspec")? {
        buf.push_str(&memspec(m)?);
    }
    if c.has("diskspec") {
        buf.push_str("  <disks>\n");
        for spec in &c.argv {
            buf.push_str(&diskspec(spec)?);
        }
        buf.push_str("  </disks>\n");
    }
    buf.push_str("</domainsnapshot>\n");
    if c.has("print-xml") {
        ctl.print(&format!("{buf}\n"));
        return Ok(());
    }
    create_snapshot(ctl, &dom, &buf, f, None)
}

fn snapshot_current(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    exclusive(c, "name", "snapshotname")?;
    let dom = domain(ctl, c)?;
    if let Some(name) = opt_string(c, "snapshotname")? {
        let snap = dom.snapshot_lookup_by_name(name, 0)?;
        let xml = snap.get_xml_desc(SECURE)?;
        let mut f = create::REDEFINE | create::CURRENT;
        if xml.contains("<state>disk-snapshot</state>") {
            f |= create::DISK_ONLY;
        }
        dom.snapshot_create_xml(&xml, f)?;
        ctl.print_extra(&format!("Snapshot {name} set as current"));
        return Ok(());
    }
    if !dom.has_current_snapshot(0)? {
        return Err(CmdError::msg(format!(
            "domain '{}' has no current snapshot",
            dom.name()
        )));
    }
    let snap = dom.snapshot_current(0)?;
    if c.has("name") {
        ctl.print(snap.name());
    } else {
        let f = if c.has("security-info") { SECURE } else { 0 };
        ctl.print(&snap.get_xml_desc(f)?);
    }
    Ok(())
}

/// The snapshot document as virsh reads it with XPath.
pub fn parse_doc(xml_text: &str) -> Result<Element, CmdError> {
    xml::parse(xml_text, "(domain_snapshot)", rvirt::ErrorDomain::NONE).map_err(CmdError::from)
}

/// `string(/domainsnapshot/parent/name)`.
pub fn parent_name(doc: &Element) -> Option<String> {
    doc.child("parent").and_then(|p| p.child_text("name"))
}

fn snapshot_info(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = domain(ctl, c)?;
    let snap = lookup_snapshot(c, "snapshotname", &dom)?;
    let line = |k: &str, v: &str| format!("{k:<15} {v}\n");
    ctl.print(&line("Name:", snap.name()));
    ctl.print(&line("Domain:", dom.name()));
    let current = snap.is_current(0).unwrap_or(false);
    ctl.print(&line("Current:", if current { "yes" } else { "no" }));
    let doc = parse_doc(&snap.get_xml_desc(0)?)?;
    let Some(state) = doc.child_text("state") else {
        return Err(CmdError::msg("unexpected problem reading snapshot xml"));
    };
    ctl.print(&line("State:", &state));
    let external = match doc.child("memory") {
        Some(m) => {
            m.attr("snapshot") == Some("external")
                || doc
                    .grandchildren("disks", "disk")
                    .any(|d| d.attr("snapshot") == Some("external"))
        }
        None => state == "disk-snapshot",
    };
    ctl.print(&line(
        "Location:",
        if external { "external" } else { "internal" },
    ));
    let parent = parent_name(&doc);
    ctl.print(&line("Parent:", parent.as_deref().unwrap_or("-")));
    let children = match snap.num_children(0) {
        Ok(n) => n,
        Err(e) if e.code == ErrorCode::NO_SUPPORT => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    ctl.print(&format!("{:<15} {children}\n", "Children:"));
    let descendants = snap.num_children(rvirt::flags::snapshot_list::DESCENDANTS)?;
    ctl.print(&format!("{:<15} {descendants}\n", "Descendants:"));
    let metadata = snap.has_metadata(0).or_else(|_| {
        dom.snapshot_num(rvirt::flags::snapshot_list::METADATA)
            .map(|n| n > 0)
    });
    if let Ok(m) = metadata {
        ctl.print(&line("Metadata:", if m { "yes" } else { "no" }));
    }
    Ok(())
}

fn snapshot_dumpxml(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let f = if c.has("security-info") { SECURE } else { 0 };
    let name = opt_string(c, "snapshotname")?.unwrap_or_default();
    let dom = domain(ctl, c)?;
    let snap = dom.snapshot_lookup_by_name(name, 0)?;
    let xml = snap.get_xml_desc(f)?;
    dump_xml(ctl, &xml, "domain-snapshot", c.get("xpath"), c.has("wrap"))
}

/// virshDumpXML: the document, or what `xpath` selects in it.
pub fn dump_xml(ctl: &Ctl, xml: &str, url: &str, xpath: Option<&str>, wrap: bool) -> CmdResult {
    let Some(expr) = xpath else {
        ctl.print(xml);
        return Ok(());
    };
    match crate::xpath::dump_xpath(xml, url, expr, wrap) {
        Ok(text) => ctl.print(&text),
        Err(crate::xpath::XPathError::NotNodeSet) => {
            return Err(CmdError::msg(format!(
                "internal error: Incorrect xpath '{expr}'"
            )))
        }
        // libxml2 reports the syntax error itself; libvirt then sees an
        // empty node set.
        Err(crate::xpath::XPathError::Invalid) => eprintln!("XPath error : Invalid expression"),
    }
    Ok(())
}

/// virshGetSnapshotParent: the API, else the document's parent name.
pub fn snapshot_parent_of(snap: &DomainSnapshot) -> Result<Option<String>, CmdError> {
    match snap.get_parent(0) {
        Ok(p) => Ok(Some(p.name().to_string())),
        Err(e) if e.code == ErrorCode::NO_DOMAIN_SNAPSHOT => Ok(None),
        Err(_) => {
            let doc = snap
                .get_xml_desc(0)
                .map_err(CmdError::from)
                .and_then(|x| parse_doc(&x))
                .map_err(|e| CmdError {
                    own: Some("unable to determine if snapshot has parent".into()),
                    libvirt: e.libvirt,
                })?;
            Ok(parent_name(&doc))
        }
    }
}

fn snapshot_parent(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = domain(ctl, c)?;
    let snap = lookup_snapshot(c, "snapshotname", &dom)?;
    match snapshot_parent_of(&snap)? {
        Some(p) => {
            ctl.print(&p);
            Ok(())
        }
        None => Err(CmdError::msg(format!(
            "snapshot '{}' has no parent",
            snap.name()
        ))),
    }
}

fn snapshot_revert(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let mut f = flags_from(
        c,
        &[
            ("running", revert::RUNNING),
            ("paused", revert::PAUSED),
            ("reset-nvram", revert::RESET_NVRAM),
        ],
    );
    let dom = domain(ctl, c)?;
    let snap = lookup_snapshot(c, "snapshotname", &dom)?;
    let mut result = snap.revert(f);
    if c.has("force") && matches!(&result, Err(e) if e.code == ErrorCode::SNAPSHOT_REVERT_RISKY) {
        f |= revert::FORCE;
        result = snap.revert(f);
    }
    result.map_err(|e| CmdError::with(format!("Failed to revert snapshot {}", snap.name()), e))?;
    ctl.print_extra(&format!("Domain snapshot {} reverted\n", snap.name()));
    Ok(())
}

fn snapshot_delete(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = domain(ctl, c)?;
    let snap = lookup_snapshot(c, "snapshotname", &dom)?;
    let f = flags_from(
        c,
        &[
            ("children", del::CHILDREN),
            ("children-only", del::CHILDREN_ONLY),
            ("metadata", del::METADATA_ONLY),
        ],
    );
    snap.delete(f)
        .map_err(|e| CmdError::with(format!("Failed to delete snapshot {}", snap.name()), e))?;
    let what = if f & del::CHILDREN_ONLY != 0 {
        " children"
    } else {
        ""
    };
    ctl.print_extra(&format!("Domain snapshot {}{what} deleted\n", snap.name()));
    Ok(())
}
