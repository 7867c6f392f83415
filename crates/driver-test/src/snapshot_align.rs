//! `virDomainSnapshotAlignDisks` (src/conf/snapshot_conf.c) as the test
//! driver calls it (a uniform internal snapshot: every disk takes part in
//! the default mode): one snapshot disk per domain disk, in the domain's
//! order, named by target, with libvirt's checks and default external
//! file names.

use rvirt_conf::domain::devices::Disk;
use rvirt_conf::domain::disk::SnapshotLocation;
use rvirt_conf::snapshot::{Location, SnapshotDef, SnapshotDisk, StorageType, ERROR_DOMAIN};
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorCode, Result};

fn unsupported(msg: String) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::CONFIG_UNSUPPORTED, msg)
}

/// A domain disk's own `snapshot=` as a snapshot location.
fn disk_location(d: &Disk) -> Location {
    match d.snapshot {
        None => Location::Default,
        Some(SnapshotLocation::No) => Location::No,
        Some(SnapshotLocation::Internal) => Location::Internal,
        Some(SnapshotLocation::External) => Location::External,
        Some(SnapshotLocation::Manual) => Location::Manual,
    }
}

/// `virDomainDiskByName`: by target, else by source path.
fn disk_by_name<'a>(def: &'a DomainDef, name: &str) -> Option<&'a Disk> {
    let disks = &def.devices.disks;
    disks
        .iter()
        .find(|d| d.target.dev == name)
        .or_else(|| disks.iter().find(|d| d.source.path() == Some(name)))
}

/// Align `snap`'s disks to its domain (or `existing`, the domain of the
/// snapshot being redefined), `default` being the mode of disks that
/// name none.
pub fn align_disks(
    snap: &mut SnapshotDef,
    existing: Option<&DomainDef>,
    default: Location,
) -> Result<()> {
    let Some(domdef) = snap.dom.as_ref().or(existing) else {
        return Err(Error::internal(ERROR_DOMAIN, "missing domain in snapshot"));
    };
    let domdisks = &domdef.devices.disks;
    if snap.disks.len() > domdisks.len() {
        return Err(unsupported(
            "too many disk snapshot requests for domain".into(),
        ));
    }
    let require_match = default == Location::Internal;
    if domdisks.is_empty() {
        return Ok(());
    }
    let mut given: Vec<SnapshotDisk> = Vec::new();
    for mut sd in std::mem::take(&mut snap.disks) {
        let Some(dd) = disk_by_name(domdef, &sd.name) else {
            return Err(unsupported(format!("no disk named '{}'", sd.name)));
        };
        if given.iter().any(|g| g.name == dd.target.dev) {
            return Err(unsupported(format!("disk '{}' specified twice", sd.name)));
        }
        let own = disk_location(dd);
        if sd.snapshot == Location::Default {
            sd.snapshot = if own != Location::Default && (!require_match || own == Location::No) {
                own
            } else {
                default
            };
        } else if require_match
            && sd.snapshot != default
            && !(sd.snapshot == Location::No && own == Location::No)
        {
            return Err(unsupported(format!(
                "disk '{}' must use snapshot mode '{default}'",
                sd.name
            )));
        }
        if let Some(path) = sd.path() {
            if sd.snapshot != Location::External {
                return Err(unsupported(format!(
                    "file '{path}' for disk '{}' requires use of external snapshot mode",
                    sd.name
                )));
            }
        }
        sd.name = dd.target.dev.clone();
        given.push(sd);
    }
    let mut aligned = Vec::with_capacity(domdisks.len());
    for dd in domdisks {
        if let Some(i) = given.iter().position(|g| g.name == dd.target.dev) {
            aligned.push(given.swap_remove(i));
            continue;
        }
        let mut location = if dd.source.is_empty() {
            Location::No
        } else {
            disk_location(dd)
        };
        if location == Location::Default {
            location = default;
        }
        aligned.push(SnapshotDisk::named(&dd.target.dev, location));
    }
    snap.disks = aligned;
    assign_external_names(snap, existing)
}

/// `virDomainSnapshotDefAssignExternalNames`: an external disk without a
/// file gets its domain disk's path, less its suffix, plus the snapshot's
/// name.
fn assign_external_names(snap: &mut SnapshotDef, existing: Option<&DomainDef>) -> Result<()> {
    let Some(domdef) = snap.dom.as_ref().or(existing) else {
        return Ok(());
    };
    let mut named: Vec<(String, Option<String>)> = Vec::new();
    for (i, sd) in snap.disks.iter().enumerate() {
        let mut path = sd.path().map(str::to_string);
        if sd.snapshot == Location::External && path.is_none() {
            path = Some(external_name(sd, &domdef.devices.disks[i], &snap.name)?);
            if let Some((other, _)) = named.iter().find(|(_, p)| *p == path) {
                return Err(unsupported(format!(
                    "cannot generate external snapshot name for disk '{}': \
                     collision with disk '{other}'",
                    sd.name
                )));
            }
        }
        named.push((sd.name.clone(), path));
    }
    for (sd, (_, path)) in snap.disks.iter_mut().zip(named) {
        if let (None, Some(p)) = (sd.path(), path) {
            sd.set_path(p);
        }
    }
    Ok(())
}

fn external_name(sd: &SnapshotDisk, dd: &Disk, snapname: &str) -> Result<String> {
    if sd.storage != StorageType::File {
        return Err(unsupported(format!(
            "cannot generate external snapshot name for disk '{}' on a '{}' device",
            sd.name, sd.storage
        )));
    }
    let Some(orig) = dd.source.path() else {
        return Err(unsupported(format!(
            "cannot generate external snapshot name for disk '{}' without source",
            sd.name
        )));
    };
    if !std::fs::metadata(orig).is_ok_and(|m| m.is_file()) {
        return Err(unsupported(format!(
            "source for disk '{}' is not a regular file; refusing to generate external \
             snapshot name",
            sd.name
        )));
    }
    let base = match orig.rfind('.') {
        Some(dot) if !orig[dot..].contains('/') => &orig[..dot],
        _ => orig,
    };
    Ok(format!("{base}.{snapname}"))
}
