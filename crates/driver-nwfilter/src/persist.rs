//! Filters on disk as libvirt's nwfilter driver keeps them
//! (src/conf/virnwfilterobj.c, nwfilter_conf.c): `DIR/NAME.xml` holds the
//! definition as `virNWFilterDefFormat` prints it after `virXMLSaveFile`'s
//! warning comment, written whole to `PATH.new`, synced and renamed over
//! the old file, so a crash leaves the old file or the new one.

use rvirt::driver::nwfilter::ERROR_DOMAIN;
use rvirt_conf::nwfilter::binding::BindingDef;
use rvirt_conf::nwfilter::NWFilterDef;
use rvirt_conf::xml::Writer;
use rvirt_util::{Error, ErrorCode, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The daemon setting of the directory (libvirt: /etc/libvirt/nwfilter).
pub const CONFIG_DIR_KEY: &str = "nwfilter_config_dir";
/// Where a privileged daemon keeps its filters unless told otherwise.
pub const DEFAULT_SYSTEM_DIR: &str = "/etc/rvirt/nwfilter";
/// The daemon setting of the bindings' status directory (libvirt:
/// /run/libvirt/nwfilter-binding).
pub const BINDING_DIR_KEY: &str = "nwfilter_binding_dir";
/// Where a privileged daemon keeps its bindings unless told otherwise.
pub const DEFAULT_BINDING_DIR: &str = "/run/rvirt/nwfilter-binding";

fn sys(what: String, e: &std::io::Error) -> Error {
    Error::system(ERROR_DOMAIN, what, e)
}

/// One filter directory.
#[derive(Clone, Debug)]
pub struct FilterFiles {
    dir: PathBuf,
}

/// `virXMLPickShellSafeComment`: a text without shell metacharacters
/// or `--`.
fn shell_safe(s: &str) -> bool {
    !s.contains(|c: char| "\r\t\n !\"#$&'()*;<>?[\\]^`{|}~".contains(c)) && !s.contains("--")
}

/// `virXMLSaveFile`'s warning naming `virsh CMD ID`, then the XML.
fn with_prologue(cmd: &str, id: Option<&str>, xml: &str) -> String {
    let cmd = match id {
        Some(id) => format!("{cmd} {id}"),
        None => cmd.to_string(),
    };
    format!(
        "<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n\
         OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n  \
         virsh {cmd}\nor other application using the libvirt API.\n-->\n\n{xml}"
    )
}

impl FilterFiles {
    /// The directory, made if missing, as the driver's initialization
    /// makes it.
    pub fn open(dir: &Path) -> Result<FilterFiles> {
        fs::create_dir_all(dir).map_err(|e| {
            sys(
                format!("cannot create config directory '{}'", dir.display()),
                &e,
            )
        })?;
        Ok(FilterFiles {
            dir: dir.to_path_buf(),
        })
    }

    fn config_file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.xml"))
    }

    /// `virNWFilterSaveConfig`.
    pub fn save(&self, def: &NWFilterDef) -> Result<()> {
        let path = self.config_file(&def.name);
        // The name when it is shell-safe, else the UUID.
        let uuid = def.uuid_string();
        let id = [def.name.as_str(), uuid.as_str()]
            .into_iter()
            .find(|s| shell_safe(s));
        rewrite(&path, &with_prologue("nwfilter-edit", id, &def.format()))
    }

    /// `virNWFilterDeleteDef`.
    pub fn delete(&self, name: &str) -> Result<()> {
        let path = self.config_file(name);
        fs::remove_file(&path)
            .map_err(|_| Error::internal(ERROR_DOMAIN, format!("cannot remove config for {name}")))
    }

    /// `virNWFilterObjListLoadAllConfigs`: every `NAME.xml` whose
    /// definition parses and names `NAME`; a definition without a UUID is
    /// saved again with the one it was given. The others are logged and
    /// skipped.
    pub fn load_all(&self) -> Vec<NWFilterDef> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".xml").map(str::to_string))
            .collect();
        names.sort();
        names
            .iter()
            .filter_map(|name| match self.load(name) {
                Ok(def) => Some(def),
                Err(e) => {
                    tracing::error!("{}", e.message);
                    None
                }
            })
            .collect()
    }

    /// `virNWFilterObjListLoadConfig`.
    fn load(&self, name: &str) -> Result<NWFilterDef> {
        let path = self.config_file(name);
        let text = fs::read_to_string(&path)
            .map_err(|e| sys(format!("cannot read '{}'", path.display()), &e))?;
        let def = NWFilterDef::parse(&text)?;
        if def.name != name {
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::XML_ERROR,
                format!(
                    "network filter config filename '{}' does not match name '{}'",
                    path.display(),
                    def.name
                ),
            ));
        }
        if !def.uuid_specified {
            self.save(&def)?;
        }
        Ok(def)
    }
}

/// The bindings' status files (`virNWFilterBindingObjSave`):
/// `DIR/PORTDEV.xml` holding `<filterbindingstatus>` around the binding,
/// the directory made when the first binding is saved.
#[derive(Clone, Debug)]
pub struct BindingFiles {
    dir: PathBuf,
}

impl BindingFiles {
    pub fn new(dir: &Path) -> BindingFiles {
        BindingFiles {
            dir: dir.to_path_buf(),
        }
    }

    fn file(&self, portdev: &str) -> PathBuf {
        self.dir.join(format!("{portdev}.xml"))
    }

    /// `virNWFilterBindingObjSave`.
    pub fn save(&self, def: &BindingDef) -> Result<()> {
        fs::create_dir_all(&self.dir).map_err(|e| {
            sys(
                format!("cannot create config directory '{}'", self.dir.display()),
                &e,
            )
        })?;
        let mut w = Writer::new();
        w.block("filterbindingstatus", "", |w| def.format_into(w));
        let text = with_prologue("nwfilter-binding-create", Some(&def.portdev), &w.finish());
        rewrite(&self.file(&def.portdev), &text)
    }

    /// `virNWFilterBindingObjDelete`: errors ignored, as libvirt logs them.
    pub fn delete(&self, portdev: &str) {
        let _ = fs::remove_file(self.file(portdev));
    }

    /// `virNWFilterBindingObjListLoadAllConfigs`: every status file whose
    /// binding parses; the others are logged and skipped.
    pub fn load_all(&self) -> Vec<BindingDef> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "xml"))
            .collect();
        paths.sort();
        paths
            .iter()
            .filter_map(|p| {
                let text = fs::read_to_string(p).ok()?;
                let root = rvirt_conf::xml::parse(&text, &p.display().to_string(), ERROR_DOMAIN);
                let parsed = root.and_then(|r| {
                    let b = r.child("filterbinding").ok_or_else(|| {
                        Error::internal(ERROR_DOMAIN, "filter binding status has no binding")
                    })?;
                    BindingDef::parse_element(b)
                });
                parsed
                    .map_err(|e| tracing::error!("{}: {}", p.display(), e.message))
                    .ok()
            })
            .collect()
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
