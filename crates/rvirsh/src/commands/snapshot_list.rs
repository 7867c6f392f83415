//! `snapshot-list` (virsh's cmdSnapshotList, virshSnapshotListCollect and
//! vshTreePrint): a table, names, or a tree, with the listing filters.

use super::snapshot::{domain, lookup_snapshot, parent_name, parse_doc, snapshot_parent_of};
use super::snapshot::{flags_from, DOMAIN};
use super::{about, cmd, flag, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::flags::snapshot_list as list;
use rvirt::DomainSnapshot;

pub static COMMANDS: &[CommandDef] = &[cmd(
    "snapshot-list",
    about("List snapshots for a domain", "Snapshot List"),
    &[
        DOMAIN,
        flag("parent", "add a column showing parent snapshot"),
        flag("roots", "list only snapshots without parents"),
        flag("leaves", "list only snapshots without children"),
        flag(
            "no-leaves",
            "list only snapshots that are not leaves (with children)",
        ),
        flag(
            "metadata",
            "list only snapshots that have metadata that would prevent undefine",
        ),
        flag(
            "no-metadata",
            "list only snapshots that have no metadata managed by libvirt",
        ),
        flag("inactive", "filter by snapshots taken while inactive"),
        flag(
            "active",
            "filter by snapshots taken while active (full system snapshots)",
        ),
        flag("disk-only", "filter by disk-only snapshots"),
        flag("internal", "filter by internal snapshots"),
        flag("external", "filter by external snapshots"),
        flag("tree", "list snapshots in a tree"),
        string("from", "limit list to children of given snapshot"),
        flag("current", "limit list to children of current snapshot"),
        flag("descendants", "with --from, list all descendants"),
        flag("name", "list snapshot names only"),
        flag("topological", "sort list topologically rather than by name"),
    ],
    snapshot_list,
)];

const FILTERS: &[(&str, u32)] = &[
    ("leaves", list::LEAVES),
    ("no-leaves", list::NO_LEAVES),
    ("inactive", list::INACTIVE),
    ("active", list::ACTIVE),
    ("disk-only", list::DISK_ONLY),
    ("internal", list::INTERNAL),
    ("external", list::EXTERNAL),
];

/// VSH_EXCLUSIVE_OPTIONS_VAR pairs, in virsh's order.
const EXCLUSIVE: &[(&str, &str)] = &[
    ("tree", "name"),
    ("parent", "roots"),
    ("parent", "tree"),
    ("roots", "tree"),
    ("roots", "from"),
    ("roots", "current"),
];

/// The listing flags the options ask for, with virsh's option checks.
fn list_flags(c: &ParsedCommand) -> Result<u32, CmdError> {
    for (a, b) in EXCLUSIVE {
        super::opts::exclusive(c, a, b)?;
    }
    let tree = c.has("tree");
    if let Some((opt, _)) = FILTERS.iter().find(|(o, _)| tree && c.has(o)) {
        return Err(CmdError::msg(format!(
            "--{opt} and --tree are mutually exclusive"
        )));
    }
    let mut f = flags_from(c, FILTERS);
    f |= flags_from(
        c,
        &[
            ("topological", list::TOPOLOGICAL),
            ("roots", list::ROOTS),
            ("metadata", list::METADATA),
            ("no-metadata", list::NO_METADATA),
        ],
    );
    if c.has("descendants") {
        if !c.has("from") && !c.has("current") {
            return Err(CmdError::msg(
                "--descendants requires either --from or --current",
            ));
        }
        f |= list::DESCENDANTS;
    }
    Ok(f)
}

/// One listed snapshot and, for a tree, its parent's name.
struct Listed {
    snap: DomainSnapshot,
    parent: Option<String>,
}

fn snapshot_list(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let f = list_flags(c)?;
    let tree = c.has("tree");
    let dom = domain(ctl, c)?;
    let start = if c.has("from") || c.has("current") {
        Some(lookup_snapshot(c, "from", &dom)?)
    } else {
        None
    };
    let snaps = match &start {
        Some(from) => from.list_all_children(f)?,
        None => dom.list_all_snapshots(f)?,
    };
    let mut listed = Vec::with_capacity(snaps.len() + 1);
    for snap in snaps {
        let parent = if tree {
            snapshot_parent_of(&snap)?
        } else {
            None
        };
        listed.push(Listed { snap, parent });
    }
    if let (true, Some(from)) = (tree, start) {
        listed.push(Listed {
            snap: from,
            parent: None,
        });
    }
    if f & list::TOPOLOGICAL == 0 {
        listed.sort_by_key(|l| l.snap.name().to_ascii_lowercase());
    }
    if tree {
        let names: Vec<&str> = listed.iter().map(|l| l.snap.name()).collect();
        let parents: Vec<Option<&str>> = listed.iter().map(|l| l.parent.as_deref()).collect();
        let mut out = String::new();
        for (i, l) in listed.iter().enumerate() {
            if l.parent.is_none() {
                tree_print(&mut out, &names, &parents, i, i, true, &mut String::new());
            }
        }
        ctl.print(&out);
        return Ok(());
    }
    if c.has("name") {
        let out: String = listed
            .iter()
            .map(|l| format!("{}\n", l.snap.name()))
            .collect();
        ctl.print(&out);
        return Ok(());
    }
    table(ctl, &listed, c.has("parent"));
    Ok(())
}

/// The table rows; a snapshot whose document cannot be read is skipped.
fn table(ctl: &Ctl, listed: &[Listed], with_parent: bool) {
    let mut rows = Vec::new();
    for l in listed {
        let Ok(doc) = l
            .snap
            .get_xml_desc(0)
            .map_err(CmdError::from)
            .and_then(|x| parse_doc(&x))
        else {
            continue;
        };
        let Some(state) = doc.child_text("state") else {
            continue;
        };
        let Some(time) = doc
            .child_text("creationTime")
            .and_then(|t| t.trim().parse::<i64>().ok())
        else {
            continue;
        };
        let mut row = vec![l.snap.name().to_string(), local_time(time), state];
        if with_parent {
            row.push(parent_name(&doc).unwrap_or_default());
        }
        rows.push(row);
    }
    let header: &[&str] = if with_parent {
        &["Name", "Creation Time", "State", "Parent"]
    } else {
        &["Name", "Creation Time", "State"]
    };
    ctl.print(&crate::table::render(header, &rows));
}

extern "C" {
    /// POSIX `tzset` (the libc crate leaves it out).
    fn tzset();
}

/// `g_date_time_new_from_unix_local` formatted `%Y-%m-%d %H:%M:%S %z`.
fn local_time(secs: i64) -> String {
    strftime_local(secs, c"%Y-%m-%d %H:%M:%S %z")
}

/// `secs` in local time, formatted by strftime's `fmt`.
pub(crate) fn strftime_local(secs: i64, fmt: &std::ffi::CStr) -> String {
    use nix::libc;
    let t = secs as libc::time_t;
    // SAFETY: tm is plain data that localtime_r fills in; strftime writes
    // at most buf.len() bytes and returns how many it wrote.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        tzset();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return String::new();
        }
        let mut buf = [0u8; 64];
        let n = libc::strftime(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), &tm);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

/// vshTreePrintInternal: the entry, then its children one level in, with
/// `|` continuing past every child but the last.
pub(crate) fn tree_print(
    out: &mut String,
    names: &[&str],
    parents: &[Option<&str>],
    id: usize,
    last: usize,
    root: bool,
    indent: &mut String,
) {
    let name = names[id];
    out.push_str(&format!(
        "{indent}{}{name}\n",
        if root { "" } else { "+- " }
    ));
    if !root {
        indent.push(if id == last { ' ' } else { '|' });
        indent.push(' ');
    }
    let children: Vec<usize> = (0..names.len())
        .filter(|&i| parents[i] == Some(name))
        .collect();
    let next_last = children.last().copied();
    if next_last.is_some() {
        out.push_str(&format!("{indent}  |\n"));
    }
    indent.push_str("  ");
    for &i in &children {
        tree_print(
            out,
            names,
            parents,
            i,
            next_last.unwrap_or(i),
            false,
            indent,
        );
    }
    if indent.ends_with("  ") {
        indent.truncate(indent.len() - 2);
    }
    if next_last.is_none() && id == last {
        out.push_str(&format!("{indent}\n"));
    }
    if !root {
        indent.truncate(indent.len().saturating_sub(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(names: &[&str], parents: &[Option<&str>]) -> String {
        let mut out = String::new();
        for i in 0..names.len() {
            if parents[i].is_none() {
                tree_print(&mut out, names, parents, i, i, true, &mut String::new());
            }
        }
        out
    }

    #[test]
    fn tree_as_virsh_draws_it() {
        assert_eq!(
            render(&["s1", "s2"], &[None, Some("s1")]),
            "s1\n  |\n  +- s2\n    \n"
        );
        let got = render(
            &["a", "b", "c", "d"],
            &[None, Some("a"), Some("a"), Some("b")],
        );
        assert_eq!(
            got,
            "a\n  |\n  +- b\n  |   |\n  |   +- d\n  |     \n  +- c\n    \n"
        );
    }
}
