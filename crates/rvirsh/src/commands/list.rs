//! `list`: virsh's domain listing, with its filters, sort order and formats.

use super::states::state_name;
use super::{about, cmd, flag, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::flags::list::*;
use rvirt::Domain;

pub static COMMANDS: &[CommandDef] = &[cmd(
    "list",
    about("list domains", "Returns list of domains."),
    &[
        flag("inactive", "list inactive domains"),
        flag("all", "list inactive & active domains"),
        flag("transient", "list transient domains"),
        flag("persistent", "list persistent domains"),
        flag("with-snapshot", "list domains with existing snapshot"),
        flag("without-snapshot", "list domains without a snapshot"),
        flag("with-checkpoint", "list domains with existing checkpoint"),
        flag("without-checkpoint", "list domains without a checkpoint"),
        flag("state-running", "list domains in running state"),
        flag("state-paused", "list domains in paused state"),
        flag("state-shutoff", "list domains in shutoff state"),
        flag("state-other", "list domains in other states"),
        flag("autostart", "list domains with autostart enabled"),
        flag("no-autostart", "list domains with autostart disabled"),
        flag("with-managed-save", "list domains with managed save state"),
        flag("without-managed-save", "list domains without managed save"),
        flag("uuid", "list uuid's only"),
        flag("name", "list domain names only"),
        flag("table", "list table (default)"),
        flag(
            "managed-save",
            "mark inactive domains with managed save state",
        ),
        flag("title", "show domain title"),
    ],
    list,
)];

/// The `virConnectListAllDomains` flags the options ask for.
fn list_flags(c: &ParsedCommand) -> u32 {
    let mut flags = 0;
    let pairs = [
        ("inactive", INACTIVE),
        ("transient", TRANSIENT),
        ("persistent", PERSISTENT),
        ("with-snapshot", HAS_SNAPSHOT),
        ("without-snapshot", NO_SNAPSHOT),
        ("with-checkpoint", HAS_CHECKPOINT),
        ("without-checkpoint", NO_CHECKPOINT),
        ("state-running", RUNNING),
        ("state-paused", PAUSED),
        ("state-shutoff", SHUTOFF),
        ("state-other", OTHER),
        ("autostart", AUTOSTART),
        ("no-autostart", NO_AUTOSTART),
        ("with-managed-save", MANAGEDSAVE),
        ("without-managed-save", NO_MANAGEDSAVE),
    ];
    for (opt, bit) in pairs {
        if c.has(opt) {
            flags |= bit;
        }
    }
    if c.has("all") {
        flags |= INACTIVE | ACTIVE;
    }
    if flags & (ACTIVE | INACTIVE) == 0 {
        flags |= ACTIVE;
    }
    flags
}

/// virshDomainSorter: running domains by id, then the rest by name.
fn sort(domains: &mut [Domain]) {
    domains.sort_by(|a, b| match (a.id(), b.id()) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.name().to_lowercase().cmp(&b.name().to_lowercase()),
    });
}

fn list(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let by_name = c.has("name");
    let by_uuid = c.has("uuid");
    if c.has("table") && (by_name || by_uuid) {
        let other = if by_name { "--name" } else { "--uuid" };
        return Err(CmdError::msg(format!(
            "Options --table and {other} are mutually exclusive"
        )));
    }
    let mut domains = ctl
        .conn()?
        .list_all_domains(list_flags(c))
        .map_err(|e| CmdError::with("Failed to list domains", e))?;
    sort(&mut domains);

    if by_name || by_uuid {
        let mut out = String::new();
        for dom in &domains {
            let line = match (by_uuid, by_name) {
                (true, true) => format!("{} {}", dom.uuid_string(), dom.name()),
                (true, false) => dom.uuid_string(),
                _ => dom.name().to_string(),
            };
            out.push_str(&line);
            out.push('\n');
        }
        ctl.print(&out);
        return Ok(());
    }

    let mut rows = Vec::new();
    for dom in &domains {
        let id = dom.id().map_or("-".to_string(), |i| i.to_string());
        let (state, _) = dom.get_state()?;
        let mut state = state_name(state).to_string();
        if c.has("managed-save")
            && state == "shut off"
            && dom.has_managed_save_image(0).unwrap_or(false)
        {
            state = "saved".into();
        }
        rows.push(vec![id, dom.name().to_string(), state]);
    }
    let text = if c.has("title") {
        for (row, dom) in rows.iter_mut().zip(&domains) {
            row.push(
                dom.get_metadata(rvirt::flags::metadata::TITLE, None, 0)
                    .unwrap_or_default(),
            );
        }
        crate::table::render(&["Id", "Name", "State", "Title"], &rows)
    } else {
        crate::table::render(&["Id", "Name", "State"], &rows)
    };
    ctl.print(&text);
    Ok(())
}
