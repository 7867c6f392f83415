//! Persistent secrets on disk as libvirt's secret driver keeps them
//! (src/conf/virsecretobj.c): `DIR/UUID.xml` holds the definition as
//! `virSecretDefFormat` prints it, `DIR/UUID.base64` the value as
//! `g_base64_encode` codes it, both mode 0600 in a 0700 directory and
//! written whole to `PATH.new`, synced and renamed over the old file
//! (`virFileRewriteStr`), so a crash leaves the old file or the new one.
//! Ephemeral secrets never reach the disk.

use rvirt::secret::ERROR_DOMAIN;
use rvirt_conf::secret::SecretDef;
use rvirt_util::{base64, Error, Result};
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The daemon setting of the directory (libvirt: /etc/libvirt/secrets).
pub const CONFIG_DIR_KEY: &str = "secret_config_dir";
/// Where a privileged daemon keeps its secrets unless told otherwise.
pub const DEFAULT_SYSTEM_DIR: &str = "/etc/rvirt/secrets";

fn sys(what: String, e: &std::io::Error) -> Error {
    Error::system(ERROR_DOMAIN, what, e)
}

/// One secret directory.
#[derive(Clone, Debug)]
pub struct SecretFiles {
    dir: PathBuf,
}

/// A secret read back from the directory.
pub struct Loaded {
    pub def: SecretDef,
    pub value: Option<Vec<u8>>,
}

impl SecretFiles {
    /// The directory, made (mode 0700) if missing, as the secret driver's
    /// initialization makes it.
    pub fn open(dir: &Path) -> Result<SecretFiles> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                sys(
                    format!("cannot create config directory '{}'", dir.display()),
                    &e,
                )
            })?;
        Ok(SecretFiles {
            dir: dir.to_path_buf(),
        })
    }

    fn config_file(&self, def: &SecretDef) -> PathBuf {
        self.dir.join(format!("{}.xml", def.uuid_string()))
    }

    fn value_file(&self, def: &SecretDef) -> PathBuf {
        self.dir.join(format!("{}.base64", def.uuid_string()))
    }

    /// `virSecretObjSaveConfig`.
    pub fn save_config(&self, def: &SecretDef) -> Result<()> {
        rewrite(&self.config_file(def), &def.format())
    }

    /// `virSecretObjSaveData`: nothing when there is no value yet.
    pub fn save_value(&self, def: &SecretDef, value: Option<&[u8]>) -> Result<()> {
        match value {
            Some(v) => rewrite(&self.value_file(def), &base64::encode(v)),
            None => Ok(()),
        }
    }

    /// `virSecretObjDeleteConfig`: a file already gone is no error.
    pub fn delete_config(&self, def: &SecretDef) -> Result<()> {
        let path = self.config_file(def);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                Err(sys(format!("cannot unlink '{}'", path.display()), &e))
            }
            _ => Ok(()),
        }
    }

    /// `virSecretObjDeleteData`: errors ignored.
    pub fn delete_value(&self, def: &SecretDef) {
        let _ = fs::remove_file(self.value_file(def));
    }

    /// `virSecretLoadAllConfigs`: every `*.xml` whose definition parses
    /// and whose name is its UUID, with its value when there is one; the
    /// others are logged and skipped.
    pub fn load_all(&self) -> Vec<Loaded> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".xml"))
            .collect();
        names.sort();
        names
            .iter()
            .filter_map(|name| match self.load(name) {
                Ok(loaded) => Some(loaded),
                Err(e) => {
                    tracing::error!("Error reading secret: {}", e.message);
                    None
                }
            })
            .collect()
    }

    /// `virSecretLoad`.
    fn load(&self, name: &str) -> Result<Loaded> {
        let path = self.dir.join(name);
        let text = fs::read_to_string(&path)
            .map_err(|e| sys(format!("cannot read '{}'", path.display()), &e))?;
        let def = SecretDef::parse(&text)?;
        let uuid = def.uuid_string();
        if name != format!("{uuid}.xml") {
            return Err(Error::internal(
                ERROR_DOMAIN,
                format!("<uuid> {uuid} does not match secret file name '{name}'"),
            ));
        }
        let value_path = self.value_file(&def);
        let value = match fs::read_to_string(&value_path) {
            Ok(text) => Some(base64::decode(&text)),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(sys(format!("cannot read '{}'", value_path.display()), &e)),
        };
        Ok(Loaded { def, value })
    }
}

/// `virFileRewriteStr(path, 0600, text)`: `PATH.new` written and synced,
/// renamed over `path`, the directory synced.
fn rewrite(path: &Path, text: &str) -> Result<()> {
    let tmp = PathBuf::from(format!("{}.new", path.display()));
    let write = || -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(path.parent().unwrap_or(Path::new("/")))?.sync_all()
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        sys(format!("cannot write file '{}'", path.display()), &e)
    })
}
