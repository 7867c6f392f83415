//! virsh's network filter commands (tools/virsh-nwfilter.c):
//! nwfilter-define, nwfilter-dumpxml, nwfilter-list, nwfilter-undefine.

use super::lifecycle::read_file;
use super::opts::opt_string;
use super::snapshot::dump_xml;
use super::{about, cmd, data, flag, named_string, CommandDef, OptDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::{Connect, Error, ErrorCode, ErrorDomain, NWFilter};

pub(super) const NWFILTER: OptDef = data("nwfilter", "network filter name or uuid");

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "nwfilter-define",
        about(
            "define or update a network filter from an XML file",
            "Define a new network filter or update an existing one.",
        ),
        &[
            data("file", "file containing an XML network filter description"),
            flag("validate", "validate the XML against the schema"),
        ],
        nwfilter_define,
    ),
    cmd(
        "nwfilter-dumpxml",
        about(
            "network filter information in XML",
            "Output the network filter information as an XML dump to stdout.",
        ),
        &[
            NWFILTER,
            named_string("xpath", "xpath expression to filter the XML document"),
            flag("wrap", "wrap xpath results in an common root element"),
        ],
        nwfilter_dumpxml,
    ),
    cmd(
        "nwfilter-list",
        about("list network filters", "Returns list of network filters."),
        &[],
        nwfilter_list,
    ),
    cmd(
        "nwfilter-undefine",
        about(
            "undefine a network filter",
            "Undefine a given network filter.",
        ),
        &[NWFILTER],
        nwfilter_undefine,
    ),
];

/// virshCommandOptNWFilterBy: by UUID when it has a UUID's length, then
/// by name.
pub(super) fn lookup(ctl: &Ctl, name: &str) -> Result<NWFilter, CmdError> {
    let conn = ctl.conn()?;
    if name.len() == 36 {
        if let Ok(f) = by_uuid_string(conn, name) {
            return Ok(f);
        }
    }
    // The name lookup's error is the one virsh reports.
    conn.nwfilter_lookup_by_name(name)
        .map_err(|e| CmdError::with(format!("failed to get nwfilter '{name}'"), e))
}

fn by_uuid_string(conn: &Connect, text: &str) -> rvirt::Result<NWFilter> {
    let uuid = rvirt_util::uuid::parse(text).ok_or_else(|| {
        Error::raw(
            ErrorDomain(33),
            ErrorCode::INVALID_ARG,
            "uuidstr in virNWFilterLookupByUUIDString must be a valid UUID",
        )
    })?;
    conn.nwfilter_lookup_by_uuid(uuid.as_bytes())
}

fn nwfilter_define(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let from = opt_string(c, "file")?.unwrap_or_default();
    let flags = u32::from(c.has("validate"));
    let xml = read_file(from)?;
    let filter = ctl
        .conn()?
        .nwfilter_define_xml(&xml, flags)
        .map_err(|e| CmdError::with(format!("Failed to define network filter from {from}"), e))?;
    ctl.print_extra(&format!(
        "Network filter {} defined from {from}\n",
        filter.name()
    ));
    Ok(())
}

fn nwfilter_undefine(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let name = c.get("nwfilter").unwrap_or_default();
    let filter = lookup(ctl, name)?;
    filter
        .undefine()
        .map_err(|e| CmdError::with(format!("Failed to undefine network filter {name}"), e))?;
    ctl.print_extra(&format!("Network filter {name} undefined\n"));
    Ok(())
}

fn nwfilter_dumpxml(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let filter = lookup(ctl, c.get("nwfilter").unwrap_or_default())?;
    let xml = filter.get_xml_desc(0)?;
    dump_xml(ctl, &xml, "nwfilter", c.get("xpath"), c.has("wrap"))
}

/// virshNWFilterListCollect, sorted by name ignoring case.
fn collect(conn: &Connect) -> Result<Vec<NWFilter>, CmdError> {
    let mut filters = match conn.list_all_nwfilters(0) {
        Ok(f) => f,
        Err(e) if e.code == ErrorCode::NO_SUPPORT => {
            let n = conn
                .num_of_nwfilters()
                .map_err(|e| CmdError::with("Failed to count network filters", e))?;
            let names = if n == 0 {
                Vec::new()
            } else {
                conn.list_nwfilters(n)
                    .map_err(|e| CmdError::with("Failed to list network filters", e))?
            };
            names
                .iter()
                .filter_map(|n| conn.nwfilter_lookup_by_name(n).ok())
                .collect()
        }
        Err(e) => return Err(CmdError::with("Failed to list network filters", e)),
    };
    filters.sort_by_key(|f| f.name().to_ascii_lowercase());
    Ok(filters)
}

fn nwfilter_list(ctl: &mut Ctl, _c: &ParsedCommand) -> CmdResult {
    let filters = collect(ctl.conn()?)?;
    let rows: Vec<Vec<String>> = filters
        .iter()
        .map(|f| vec![f.uuid_string(), f.name().to_string()])
        .collect();
    ctl.print(&crate::table::render(&["UUID", "Name"], &rows));
    Ok(())
}
