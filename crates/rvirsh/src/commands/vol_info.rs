//! virsh's storage volume commands that only read (tools/virsh-volume.c):
//! vol-info, vol-dumpxml, vol-key, vol-name, vol-path, vol-pool, vol-list.

use super::pool::{lookup_pool, pretty};
use super::snapshot::dump_xml;
use super::volume::{lookup_vol, vol, POOL_OPT, VOL};
use super::{about, cmd, data, flag, named_string, CommandDef, OptDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_NAME, BY_UUID};
use rvirt::{ErrorCode, StorageVol};

const BY_KEY: OptDef = data("vol", "volume key or path");

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "vol-dumpxml",
        about(
            "vol information in XML",
            "Output the vol information as an XML dump to stdout.",
        ),
        &[
            VOL,
            POOL_OPT,
            named_string("xpath", "xpath expression to filter the XML document"),
            flag("wrap", "wrap xpath results in an common root element"),
        ],
        vol_dumpxml,
    ),
    cmd(
        "vol-info",
        about(
            "storage vol information",
            "Returns basic information about the storage vol.",
        ),
        &[
            VOL,
            POOL_OPT,
            flag(
                "bytes",
                "sizes are represented in bytes rather than pretty units",
            ),
            flag(
                "physical",
                "return the physical size of the volume in allocation field",
            ),
        ],
        vol_info,
    ),
    cmd(
        "vol-key",
        about("returns the volume key for a given volume name or path", ""),
        &[data("vol", "volume name or path"), POOL_OPT],
        vol_key,
    ),
    cmd(
        "vol-list",
        about("list vols", "Returns list of vols by pool."),
        &[
            data("pool", "pool name or uuid"),
            flag("details", "display extended details for volumes"),
        ],
        vol_list,
    ),
    cmd(
        "vol-name",
        about("returns the volume name for a given volume key or path", ""),
        &[BY_KEY],
        vol_name,
    ),
    cmd(
        "vol-path",
        about("returns the volume path for a given volume name or key", ""),
        &[data("vol", "volume name or key"), POOL_OPT],
        vol_path,
    ),
    cmd(
        "vol-pool",
        about(
            "returns the storage pool for a given volume key or path",
            "",
        ),
        &[
            BY_KEY,
            flag("uuid", "return the pool uuid rather than pool name"),
        ],
        vol_pool,
    ),
];

/// virshStorageVol's type names.
fn type_name(t: i32) -> &'static str {
    match t {
        0 => "file",
        1 => "block",
        2 => "dir",
        3 => "network",
        4 => "netdir",
        5 => "ploop",
        _ => "unknown",
    }
}

fn vol_info(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let v = vol(ctl, c)?;
    let line = |k: &str, val: &str| format!("{k:<15} {val}\n");
    ctl.print(&line("Name:", v.name()));
    let physical = c.has("physical");
    // VIR_STORAGE_VOL_GET_PHYSICAL.
    let info = if physical {
        v.get_info_flags(1)?
    } else {
        v.get_info()?
    };
    ctl.print(&line("Type:", type_name(info.kind)));
    let show = |n: u64| {
        if c.has("bytes") {
            format!("{n} bytes")
        } else {
            pretty(n)
        }
    };
    ctl.print(&line("Capacity:", &show(info.capacity)));
    let label = if physical { "Physical:" } else { "Allocation:" };
    ctl.print(&line(label, &show(info.allocation)));
    Ok(())
}

fn vol_dumpxml(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let v = vol(ctl, c)?;
    let xml = v.get_xml_desc(0)?;
    dump_xml(ctl, &xml, "volume", c.get("xpath"), c.has("wrap"))
}

fn vol_key(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let v = vol(ctl, c)?;
    ctl.print(&format!("{}\n", v.key()));
    Ok(())
}

fn vol_path(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let v = vol(ctl, c)?;
    ctl.print(&format!("{}\n", v.get_path()?));
    Ok(())
}

fn vol_name(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let v = lookup_vol(ctl, c, "vol", None, BY_UUID)?;
    ctl.print(&format!("{}\n", v.name()));
    Ok(())
}

fn vol_pool(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let v = lookup_vol(ctl, c, "vol", None, BY_UUID)?;
    let pool = v
        .pool()
        .map_err(|e| CmdError::with("failed to get parent pool", e))?;
    if c.has("uuid") {
        ctl.print(&format!("{}\n", pool.uuid_string()));
    } else {
        ctl.print(&format!("{}\n", pool.name()));
    }
    Ok(())
}

/// virshStorageVolListCollect, sorted by name.
fn collect(pool: &rvirt::StoragePool) -> Result<Vec<StorageVol>, CmdError> {
    let mut vols = match pool.list_all_volumes(0) {
        Ok(v) => v,
        // virsh's fallback to the old API fails where it would.
        Err(e) if e.code == ErrorCode::NO_SUPPORT => {
            let err = pool.num_of_volumes().err().unwrap_or(e);
            return Err(CmdError::with("Failed to list storage volumes", err));
        }
        Err(e) => return Err(CmdError::with("Failed to list volumes", e)),
    };
    vols.sort_by_key(|v| v.name().to_ascii_lowercase());
    Ok(vols)
}

fn vol_list(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let pool = lookup_pool(ctl, c, "pool", BY_UUID | BY_NAME)?;
    let details = c.has("details");
    let vols = collect(&pool)?;
    let rows: Vec<Vec<String>> = vols
        .iter()
        .map(|v| {
            let path = v.get_path().unwrap_or_else(|_| "unknown".into());
            let mut row = vec![v.name().to_string(), path];
            if details {
                match v.get_info() {
                    Ok(i) => row.extend([
                        type_name(i.kind).to_string(),
                        pretty(i.capacity),
                        pretty(i.allocation),
                    ]),
                    Err(_) => {
                        row.extend(["unknown".to_string(), "unknown".into(), "unknown".into()])
                    }
                }
            }
            row
        })
        .collect();
    let header: &[&str] = if details {
        &["Name", "Path", "Type", "Capacity", "Allocation"]
    } else {
        &["Name", "Path"]
    };
    ctl.print(&crate::table::render(header, &rows));
    Ok(())
}
