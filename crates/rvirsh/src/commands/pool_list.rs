//! virsh's `pool-list` (cmdPoolList, virshStoragePoolListCollect): the
//! filters, the old three-column table, `--details`, `--uuid`/`--name`.

use super::opts::{exclusive, opt_string, string_to_array};
use super::pool::{pretty, state_name};
use super::{about, cmd, flag, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::{ErrorCode, StoragePool};

pub static COMMANDS: &[CommandDef] = &[cmd(
    "pool-list",
    about("list pools", "Returns list of pools."),
    &[
        flag("inactive", "list inactive pools"),
        flag("all", "list inactive & active pools"),
        flag("transient", "list transient pools"),
        flag("persistent", "list persistent pools"),
        flag("autostart", "list pools with autostart enabled"),
        flag("no-autostart", "list pools with autostart disabled"),
        string("type", "only list pool of specified type(s) (if supported)"),
        flag("details", "display extended details for pools"),
        flag("uuid", "list UUID of active pools only"),
        flag("name", "list name of active pools only"),
    ],
    pool_list,
)];

/// `VIR_CONNECT_LIST_STORAGE_POOLS_*`.
const ACTIVE: u32 = 2;
const INACTIVE: u32 = 1;

/// The `--type` names and their `VIR_CONNECT_LIST_STORAGE_POOLS_<TYPE>` bit.
const TYPE_FLAGS: &[(&str, u32)] = &[
    ("dir", 6),
    ("fs", 7),
    ("netfs", 8),
    ("logical", 9),
    ("disk", 10),
    ("iscsi", 11),
    ("scsi", 12),
    ("mpath", 13),
    ("rbd", 14),
    ("sheepdog", 15),
    ("gluster", 16),
    ("zfs", 17),
    ("vstorage", 18),
    ("iscsi-direct", 19),
];

fn list_flags(c: &ParsedCommand) -> Result<u32, CmdError> {
    exclusive(c, "all", "inactive")?;
    let mut flags = if c.has("all") {
        ACTIVE | INACTIVE
    } else if c.has("inactive") {
        INACTIVE
    } else {
        ACTIVE
    };
    for (opt, bit) in [
        ("autostart", 16),
        ("no-autostart", 32),
        ("persistent", 4),
        ("transient", 8),
    ] {
        if c.has(opt) {
            flags |= bit;
        }
    }
    let kinds = opt_string(c, "type")?;
    exclusive(c, "details", "uuid")?;
    exclusive(c, "details", "name")?;
    for kind in kinds.map(string_to_array).unwrap_or_default() {
        let bit = TYPE_FLAGS
            .iter()
            .find(|(n, _)| *n == kind)
            .ok_or_else(|| CmdError::msg(format!("Invalid pool type '{kind}'")))?
            .1;
        flags |= 1 << bit;
    }
    Ok(flags)
}

/// virshStoragePoolListCollect, sorted by name as vshStrcasecmp does.
fn collect(ctl: &Ctl, flags: u32) -> Result<Vec<StoragePool>, CmdError> {
    let conn = ctl.conn()?;
    let mut pools = match conn.list_all_storage_pools(flags) {
        Ok(p) => p,
        // virsh then falls back to the old API; every rvirt driver has
        // both or neither, so a connection without storage fails where
        // virsh's fallback does, in its words.
        Err(e) if e.code == ErrorCode::NO_SUPPORT => {
            let err = conn.num_of_storage_pools().err().unwrap_or(e);
            return Err(CmdError::with(
                "Failed to get the number of active pools ",
                err,
            ));
        }
        Err(e) => return Err(CmdError::with("Failed to list pools", e)),
    };
    pools.sort_by_key(|p| p.name().to_ascii_lowercase());
    Ok(pools)
}

struct Row {
    state: String,
    autostart: &'static str,
    persistent: &'static str,
    sizes: [String; 3],
}

fn row(p: &StoragePool, details: bool) -> Row {
    let autostart = match p.get_autostart() {
        Ok(true) => "yes",
        Ok(false) => "no",
        Err(_) => "no autostart",
    };
    let persistent = match details.then(|| p.is_persistent()) {
        None => "",
        Some(Ok(true)) => "yes",
        Some(Ok(false)) => "no",
        Some(Err(_)) => "unknown",
    };
    let unknown = || ["unknown".to_string(), "unknown".into(), "unknown".into()];
    let (state, sizes) = match p.get_info() {
        Err(_) => {
            eprintln!("error: Could not retrieve pool information");
            ("unknown".to_string(), unknown())
        }
        Ok(info) if details => {
            let sizes = if info.state == 2 || info.state == 3 {
                [
                    pretty(info.capacity),
                    pretty(info.allocation),
                    pretty(info.available),
                ]
            } else {
                ["-".to_string(), "-".into(), "-".into()]
            };
            (state_name(info.state).to_string(), sizes)
        }
        // virStoragePoolIsActive's -1 counts as active, as in virsh.
        Ok(_) => {
            let active = p.is_active().unwrap_or(true);
            let s = if active { "active" } else { "inactive" };
            (s.to_string(), unknown())
        }
    };
    Row {
        state,
        autostart,
        persistent,
        sizes,
    }
}

fn pool_list(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = list_flags(c)?;
    let details = c.has("details");
    let pools = collect(ctl, flags)?;
    let rows: Vec<Row> = pools.iter().map(|p| row(p, details)).collect();
    if !details && (c.has("uuid") || c.has("name")) {
        let mut out = String::new();
        for p in &pools {
            if c.has("uuid") {
                let sep = if c.has("name") { ' ' } else { '\n' };
                out.push_str(&format!("{:<36}{sep}", p.uuid_string()));
            }
            if c.has("name") {
                out.push_str(&format!("{:<20}\n", p.name()));
            }
        }
        ctl.print(&out);
        return Ok(());
    }
    let table: Vec<Vec<String>> = pools
        .iter()
        .zip(&rows)
        .map(|(p, r)| {
            let mut cells = vec![p.name().to_string(), r.state.clone(), r.autostart.into()];
            if details {
                cells.push(r.persistent.into());
                cells.extend(r.sizes.iter().cloned());
            }
            cells
        })
        .collect();
    let header: &[&str] = if details {
        &[
            "Name",
            "State",
            "Autostart",
            "Persistent",
            "Capacity",
            "Allocation",
            "Available",
        ]
    } else {
        &["Name", "State", "Autostart"]
    };
    ctl.print(&crate::table::render(header, &table));
    Ok(())
}
