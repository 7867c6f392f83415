//! virsh's storage volume commands that make, copy, change or remove a
//! volume (tools/virsh-volume.c): vol-create-as, vol-create,
//! vol-create-from, vol-clone, vol-delete, vol-wipe, vol-resize; the
//! read-only ones are in `vol_info`.

use super::lifecycle::read_file;
use super::opts::opt_string;
use super::pool::lookup_pool;
use super::{about, cmd, data, flag, string, CommandDef, OptDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_NAME, BY_UUID};
use rvirt::{Error, ErrorCode, ErrorDomain, StorageVol};

pub const VOL: OptDef = data("vol", "vol name, key or path");
pub const POOL_OPT: OptDef = string("pool", "pool name or uuid");
const POOL_NAME: OptDef = data("pool", "pool name");
const FILE: OptDef = data("file", "file containing an XML vol description");
const PREALLOC: OptDef = flag(
    "prealloc-metadata",
    "preallocate metadata (for qcow2 instead of full allocation)",
);
const REFLINK: OptDef = flag("reflink", "use btrfs COW lightweight copy");
const VALIDATE: OptDef = flag("validate", "validate the XML against the schema");

/// `VIR_STORAGE_VOL_CREATE_*`.
const CREATE_FLAGS: &[(&str, u32)] = &[("prealloc-metadata", 1), ("reflink", 2), ("validate", 4)];

pub static COMMANDS: &[CommandDef] = &[
    cmd("vol-clone", about("clone a volume.", "Clone an existing volume within the parent pool."),
        &[VOL, data("newname", "clone name"), POOL_OPT, PREALLOC, REFLINK,
          flag("print-xml", "print XML document rather than clone the volume")],
        vol_clone),
    cmd("vol-create-as", about("create a volume from a set of args", "Create a vol."),
        &[POOL_NAME, data("name", "name of the volume"),
          data("capacity", "size of the vol, as scaled integer (default bytes)"),
          string("allocation", "initial allocation size, as scaled integer (default bytes)"),
          string("format", "file format type raw,bochs,qcow,qcow2,qed,vmdk"),
          string("backing-vol", "the backing volume if taking a snapshot"),
          string("backing-vol-format", "format of backing volume if taking a snapshot"),
          PREALLOC, flag("print-xml", "print XML document, but don't define/create")],
        vol_create_as),
    cmd("vol-create", about("create a vol from an XML file", "Create a vol."),
        &[POOL_NAME, FILE, PREALLOC, VALIDATE], vol_create),
    cmd("vol-create-from", about("create a vol, using another volume as input", "Create a vol from an existing volume."),
        &[data("pool", "pool name or uuid"), FILE, VOL,
          string("inputpool", "pool name or uuid of the input volume's pool"), PREALLOC, REFLINK, VALIDATE],
        vol_create_from),
    cmd("vol-delete", about("delete a vol", "Delete a given vol."),
        &[VOL, POOL_OPT, flag("delete-snapshots", "delete snapshots associated with volume (must be supported by storage driver)")],
        vol_delete),
    cmd("vol-resize", about("resize a vol",
            "Resizes a storage volume. This is safe only for storage volumes not in use by an active guest.\nSee blockresize for live resizing."),
        &[VOL, data("capacity", "new capacity for the vol, as scaled integer (default bytes)"), POOL_OPT,
          flag("allocate", "allocate the new capacity, rather than leaving it sparse"),
          flag("delta", "use capacity as a delta to current size, rather than the new size"),
          flag("shrink", "allow the resize to shrink the volume")],
        vol_resize),
    cmd("vol-wipe", about("wipe a vol", "Ensure data previously on a volume is not accessible to future reads"),
        &[VOL, POOL_OPT, string("algorithm", "perform selected wiping algorithm")], vol_wipe),
];

/// virshCommandOptVolBy: with a pool, by name in it; then by key and by
/// path; the last lookup's error follows virsh's own. With `pool_opt`
/// given, the volume must be in that pool.
pub fn lookup_vol(
    ctl: &Ctl,
    c: &ParsedCommand,
    opt: &str,
    pool_opt: Option<&str>,
    by: u8,
) -> Result<StorageVol, CmdError> {
    let n = opt_string(c, opt)?.unwrap_or_default();
    let given_pool = match pool_opt {
        Some(p) => opt_string(c, p)?,
        None => None,
    };
    let pool = match (given_pool, pool_opt) {
        (Some(name), Some(p)) => {
            let pool = lookup_pool(ctl, c, p, by)?;
            if !pool.is_active().unwrap_or(false) {
                return Err(CmdError::msg(format!("pool '{name}' is not active")));
            }
            Some(pool)
        }
        _ => None,
    };
    let conn = ctl.conn()?;
    let mut last: Option<Error> = None;
    let mut found = None;
    if let (Some(pool), true) = (&pool, by & BY_NAME != 0) {
        match pool.vol_lookup_by_name(n) {
            Ok(v) => found = Some(v),
            Err(e) => last = Some(e),
        }
    }
    if found.is_none() && by & BY_UUID != 0 {
        for lookup in [
            rvirt::Connect::storage_vol_lookup_by_key,
            rvirt::Connect::storage_vol_lookup_by_path,
        ] {
            match lookup(conn, n) {
                Ok(v) => {
                    found = Some(v);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
    }
    let Some(vol) = found else {
        let own = match (&pool, pool_opt) {
            (None, Some(p)) => format!("failed to get vol '{n}', specifying --{p} might help"),
            _ => format!("failed to get vol '{n}'"),
        };
        return Err(match last {
            Some(e) => CmdError::with(own, e),
            None => CmdError::msg(own),
        });
    };
    if let Some(pool) = &pool {
        if let Ok(vp) = vol.pool() {
            if vp.name() != pool.name() {
                return Err(CmdError::msg(format!(
                    "Requested volume '{n}' is not in pool '{}'",
                    pool.name()
                )));
            }
        }
    }
    Ok(vol)
}

/// virshCommandOptVol: name, key or path, with the command's `--pool`.
pub fn vol(ctl: &Ctl, c: &ParsedCommand) -> Result<StorageVol, CmdError> {
    lookup_vol(ctl, c, "vol", Some("pool"), BY_UUID | BY_NAME)
}

fn failed<T>(r: rvirt::Result<T>, own: impl FnOnce() -> String) -> Result<T, CmdError> {
    r.map_err(|e| CmdError::with(own(), e))
}

fn create_flags(c: &ParsedCommand) -> u32 {
    CREATE_FLAGS
        .iter()
        .filter(|(o, _)| c.has(o))
        .fold(0, |f, (_, b)| f | b)
}

/// virshVolSize: a number (no sign) and a scale suffix, bytes by default;
/// "Malformed size", with virScaleInteger's error for a bad suffix or an
/// overflow.
fn size_arg(text: &str) -> Result<u64, CmdError> {
    let own = || format!("Malformed size {text}");
    let t = text.trim_start();
    let t = t.strip_prefix('+').unwrap_or(t);
    let end = t.find(|ch: char| !ch.is_ascii_digit()).unwrap_or(t.len());
    let n: u64 = t[..end].parse().map_err(|_| CmdError::msg(own()))?;
    let suffix = &t[end..];
    let libvirt =
        |code, msg: String| CmdError::with(own(), Error::new(ErrorDomain::NONE, code, msg));
    let Some(scale) = rvirt_util::units::scale_for(suffix, 1) else {
        return Err(libvirt(
            ErrorCode::INVALID_ARG,
            format!("unknown suffix '{suffix}'"),
        ));
    };
    n.checked_mul(scale)
        .ok_or_else(|| libvirt(ErrorCode::OVERFLOW, format!("value too large: {n}{suffix}")))
}

fn vol_create_as(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = u32::from(c.has("prealloc-metadata"));
    let pool = lookup_pool(ctl, c, "pool", BY_UUID | BY_NAME)?;
    let name = opt_string(c, "name")?.unwrap_or_default();
    let capacity = size_arg(opt_string(c, "capacity")?.unwrap_or_default())?;
    let allocation = match c.get("allocation") {
        Some(a) if !a.is_empty() => Some(size_arg(a)?),
        _ => None,
    };
    let format = opt_string(c, "format")?;
    let backing = opt_string(c, "backing-vol")?;
    let backing_format = opt_string(c, "backing-vol-format")?;
    let backing_path = match backing {
        None => None,
        Some(b) => Some(backing_path(ctl, &pool, b)?),
    };
    let mut w = rvirt_conf::xml::Writer::new();
    w.block("volume", "", |w| {
        w.line(&format!("<name>{name}</name>"));
        w.line(&format!("<capacity>{capacity}</capacity>"));
        if let Some(a) = allocation {
            w.line(&format!("<allocation>{a}</allocation>"));
        }
        if let Some(f) = format {
            w.block("target", "", |w| w.line(&format!("<format type='{f}'/>")));
        }
        if let Some(p) = &backing_path {
            w.block("backingStore", "", |w| {
                w.line(&format!("<path>{p}</path>"));
                if let Some(f) = backing_format {
                    w.line(&format!("<format type='{f}'/>"));
                }
            });
        }
    });
    let xml = w.finish();
    if c.has("print-xml") {
        ctl.print(&xml);
        return Ok(());
    }
    failed(pool.vol_create_xml(&xml, flags), || {
        format!("Failed to create vol {name}")
    })?;
    ctl.print_extra(&format!("Vol {name} created\n"));
    Ok(())
}

/// The backing volume's path: `b` as a name in the pool, a key or a path.
fn backing_path(ctl: &Ctl, pool: &rvirt::StoragePool, b: &str) -> Result<String, CmdError> {
    let conn = ctl.conn()?;
    let found = pool
        .vol_lookup_by_name(b)
        .or_else(|_| conn.storage_vol_lookup_by_key(b))
        .or_else(|_| conn.storage_vol_lookup_by_path(b))
        .map_err(|e| CmdError::with(format!("failed to get vol '{b}'"), e))?;
    Ok(found.get_path()?)
}

fn vol_create(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = create_flags(c);
    let pool = lookup_pool(ctl, c, "pool", BY_UUID | BY_NAME)?;
    let from = opt_string(c, "file")?.unwrap_or_default();
    let xml = read_file(from)?;
    let v = failed(pool.vol_create_xml(&xml, flags), || {
        format!("Failed to create vol from {from}")
    })?;
    ctl.print_extra(&format!("Vol {} created from {from}\n", v.name()));
    Ok(())
}

fn vol_create_from(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let pool = lookup_pool(ctl, c, "pool", BY_UUID | BY_NAME)?;
    let flags = create_flags(c);
    let from = opt_string(c, "file")?.unwrap_or_default();
    let input = lookup_vol(ctl, c, "vol", Some("inputpool"), BY_UUID | BY_NAME)?;
    let xml = read_file(from)?;
    let v = failed(pool.vol_create_xml_from(&xml, &input, flags), || {
        format!("Failed to create vol from {from}")
    })?;
    ctl.print_extra(&format!(
        "Vol {} created from input vol {}\n",
        v.name(),
        input.name()
    ));
    Ok(())
}

/// virshMakeCloneXML: the volume's document with the new name, as libxml2
/// serialises it (double quotes, no final newline).
fn clone_xml(orig: &str, new_name: &str) -> Result<String, CmdError> {
    use rvirt_conf::xml::{self, Node};
    let mut root = xml::parse(orig, "(volume_definition)", ErrorDomain::NONE)?;
    xml::strip_blanks(&mut root);
    let Some(Node::Element(name)) = root
        .children
        .iter_mut()
        .find(|n| matches!(n, Node::Element(e) if e.name == "name"))
    else {
        return Err(CmdError::msg("Failed to allocate XML buffer"));
    };
    name.children = vec![Node::Text(new_name.to_string())];
    let mut out = String::new();
    xml::dump_node(&Node::Element(root), 0, &mut out);
    Ok(out)
}

fn vol_clone(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let orig = vol(ctl, c)?;
    let flags = create_flags(c);
    let pool = orig
        .pool()
        .map_err(|e| CmdError::with("failed to get parent pool", e))?;
    let name = opt_string(c, "newname")?.unwrap_or_default();
    let xml = clone_xml(&orig.get_xml_desc(0)?, name)?;
    if c.has("print-xml") {
        ctl.print(&xml);
        return Ok(());
    }
    let v = failed(pool.vol_create_xml_from(&xml, &orig, flags), || {
        format!("Failed to clone vol from {}", orig.name())
    })?;
    ctl.print_extra(&format!("Vol {} cloned from {}\n", v.name(), orig.name()));
    Ok(())
}

fn vol_delete(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let v = vol(ctl, c)?;
    let name = c.get("vol").unwrap_or_default();
    // VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS.
    let flags = if c.has("delete-snapshots") { 2 } else { 0 };
    failed(v.delete(flags), || format!("Failed to delete vol {name}"))?;
    ctl.print_extra(&format!("Vol {name} deleted\n"));
    Ok(())
}

fn vol_wipe(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let v = vol(ctl, c)?;
    let name = c.get("vol").unwrap_or_default();
    let algorithm = match opt_string(c, "algorithm")? {
        None => 0,
        Some(a) => rvirt_util::names::VOL_WIPE_ALGORITHMS
            .iter()
            .position(|n| *n == a)
            .ok_or_else(|| CmdError::msg(format!("Unsupported algorithm '{a}'")))?
            as u32,
    };
    let result = match v.wipe_pattern(algorithm, 0) {
        Err(e) if e.code == ErrorCode::NO_SUPPORT && algorithm == 0 => v.wipe(0),
        other => other,
    };
    failed(result, || format!("Failed to wipe vol {name}"))?;
    ctl.print_extra(&format!("Vol {name} wiped\n"));
    Ok(())
}

/// `VIR_STORAGE_VOL_RESIZE_*`.
const RESIZE_ALLOCATE: u32 = 1;
const RESIZE_DELTA: u32 = 2;
const RESIZE_SHRINK: u32 = 4;

fn vol_resize(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let mut flags = 0;
    if c.has("allocate") {
        flags |= RESIZE_ALLOCATE;
    }
    if c.has("shrink") {
        flags |= RESIZE_SHRINK;
    }
    let mut delta = c.has("delta");
    let v = vol(ctl, c)?;
    let mut text = opt_string(c, "capacity")?.unwrap_or_default().trim_start();
    if let Some(rest) = text.strip_prefix('-') {
        if !c.has("shrink") {
            return Err(CmdError::msg("negative size requires --shrink"));
        }
        text = rest;
        delta = true;
    }
    if delta {
        flags |= RESIZE_DELTA;
    }
    let capacity = size_arg(text)?;
    let how = if delta { "by" } else { "to" };
    failed(v.resize(capacity, flags), || {
        format!(
            "Failed to change size of volume '{}' {how} {text}",
            v.name()
        )
    })?;
    ctl.print_extra(&format!(
        "Size of volume '{}' successfully changed {how} {text}\n",
        v.name()
    ));
    Ok(())
}
