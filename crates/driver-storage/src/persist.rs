//! Pool definitions and running-pool state on disk, as libvirt's storage
//! driver keeps them (`virStoragePoolSaveConfig`, `virStoragePoolSaveState`,
//! `virStoragePoolObjLoadAllConfigs`, `virStoragePoolObjLoadAllState`):
//! `CONFIG/NAME.xml`, `AUTOSTART/NAME.xml` symlinks to them, and
//! `STATE/NAME.xml` (`<poolstate>` around the live definition) for every
//! running pool. Every file is written whole to a temporary name, synced,
//! renamed over the old one and its directory synced: a crash leaves the
//! old file or the new one, never half of one.

use crate::config::Paths;
use crate::ERROR_DOMAIN;
use rvirt_conf::storage::PoolDef;
use rvirt_util::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

fn sys(what: String, e: &std::io::Error) -> Error {
    Error::system(ERROR_DOMAIN, what, e)
}

/// `virXMLSaveFile`'s warning header.
fn header(name: &str) -> String {
    format!(
        "<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n\
         OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n  \
         virsh pool-edit {name}\nor other application using the libvirt API.\n-->\n\n"
    )
}

/// Write `text` to `path` atomically (temp file, fsync, rename, fsync of
/// the directory).
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    fs::create_dir_all(dir)
        .map_err(|e| sys(format!("cannot create directory '{}'", dir.display()), &e))?;
    let tmp = path.with_extension("xml.new");
    let write = || -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        sys(format!("cannot save config file '{}'", path.display()), &e)
    })
}

/// `virStoragePoolSaveConfig` to `CONFIG/NAME.xml`; its path.
pub fn save_config(paths: &Paths, def: &PoolDef) -> Result<PathBuf> {
    let path = paths.config_file(&def.name);
    write_atomic(&path, &(header(&def.name) + &def.format()))?;
    Ok(path)
}

/// `virStoragePoolSaveState` to `STATE/NAME.xml`.
pub fn save_state(paths: &Paths, def: &PoolDef) -> Result<()> {
    let inner: String = def.format().lines().map(|l| format!("  {l}\n")).collect();
    let text = format!("{}<poolstate>\n{inner}</poolstate>\n", header(&def.name));
    write_atomic(&paths.state_file(&def.name), &text)
}

/// Remove a file that may be gone already.
pub fn remove_quietly(path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!("cannot remove '{}': {e}", path.display());
        }
    }
}

/// `virStoragePoolObjDeleteDef`.
pub fn delete_config(path: &Path, name: &str) -> Result<()> {
    fs::remove_file(path)
        .map_err(|_| Error::internal(ERROR_DOMAIN, format!("cannot remove config for {name}")))?;
    if let Ok(dir) = File::open(path.parent().unwrap_or(Path::new("/"))) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Point `link` at `target` (autostart on) or remove it (off).
pub fn set_autostart_link(paths: &Paths, link: &Path, target: &Path, on: bool) -> Result<()> {
    if !on {
        return match fs::remove_file(link) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(sys(
                format!("Failed to delete symlink '{}'", link.display()),
                &e,
            )),
            _ => Ok(()),
        };
    }
    fs::create_dir_all(&paths.autostart_dir).map_err(|e| {
        let dir = paths.autostart_dir.display();
        sys(format!("cannot create autostart directory {dir}"), &e)
    })?;
    std::os::unix::fs::symlink(target, link).map_err(|e| {
        let (l, t) = (link.display(), target.display());
        sys(format!("Failed to create symlink '{l}' to '{t}'"), &e)
    })
}

/// `virFileLinkPointsTo`.
fn link_points_to(link: &Path, target: &Path) -> bool {
    match (fs::canonicalize(link), fs::canonicalize(target)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The `.xml` files of `dir`, by name (none when it does not exist).
fn xml_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".xml")?.to_string();
            Some((stem, e.path()))
        })
        .collect();
    files.sort();
    files
}

/// A persistent pool as found at start: its definition and whether its
/// autostart link points at it.
pub struct StoredPool {
    pub def: PoolDef,
    pub config_file: PathBuf,
    pub autostart: bool,
}

/// `virStoragePoolObjLoadAllConfigs`: every definition that parses and
/// is named after its file (the others are logged and skipped).
pub fn load_configs(paths: &Paths) -> Vec<StoredPool> {
    let mut out = Vec::new();
    for (stem, path) in xml_files(&paths.config_dir) {
        let def = fs::read_to_string(&path)
            .map_err(|e| sys(format!("cannot read '{}'", path.display()), &e))
            .and_then(|text| PoolDef::parse(&text));
        match def {
            Ok(def) if def.name == stem => {
                let autostart = link_points_to(&paths.autostart_link(&stem), &path);
                out.push(StoredPool {
                    def,
                    config_file: path,
                    autostart,
                });
            }
            Ok(def) => tracing::error!(
                "Storage pool config filename '{}' does not match pool name '{}'",
                path.display(),
                def.name
            ),
            Err(e) => tracing::error!("cannot load pool '{}': {}", path.display(), e.message),
        }
    }
    out
}

/// `virStoragePoolObjLoadAllState`: the live definitions of the pools
/// that were running.
pub fn load_states(paths: &Paths) -> Vec<PoolDef> {
    let mut out = Vec::new();
    for (stem, path) in xml_files(&paths.state_dir) {
        let parsed = fs::read_to_string(&path)
            .map_err(|e| sys(format!("cannot read '{}'", path.display()), &e))
            .and_then(|text| rvirt_conf::xml::parse(&text, &path.to_string_lossy(), ERROR_DOMAIN))
            .and_then(|root| {
                let pool = if root.name == "pool" {
                    Some(&root)
                } else {
                    root.child("pool")
                };
                let pool = pool.ok_or_else(|| {
                    Error::internal(
                        ERROR_DOMAIN,
                        "Could not find any 'pool' element in state file",
                    )
                })?;
                PoolDef::from_element(pool)
            });
        match parsed {
            Ok(def) if def.name == stem => out.push(def),
            Ok(def) => tracing::error!(
                "Storage pool state file '{}' does not match pool name '{}'",
                path.display(),
                def.name
            ),
            Err(e) => tracing::error!("cannot load state '{}': {}", path.display(), e.message),
        }
    }
    out
}
