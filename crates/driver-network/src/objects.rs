//! The host's network objects (libvirt's src/conf/virnetworkobj.c with
//! VIR_FROM_NETWORK): live and persistent definitions, the assignment
//! rules of `virNetworkObjAssignDef`, and their files: the config
//! (`NAME.xml`, written atomically), the autostart symlink and the live
//! status.

use crate::paths::{write_atomic, Paths};
use crate::start::Running;
use rvirt::driver::NetworkRef;
use rvirt::network::list_flags;
use rvirt_conf::network::{NetworkDef, XML_INACTIVE};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

const DOMAIN: ErrorDomain = ErrorDomain::NETWORK;

pub struct NetworkObj {
    /// The live definition (or the only one of an inactive network).
    pub def: NetworkDef,
    /// The next persistent definition of a running network.
    pub new_def: Option<NetworkDef>,
    pub active: bool,
    pub persistent: bool,
    pub autostart: bool,
    pub running: Running,
}

impl NetworkObj {
    pub fn net_ref(&self) -> NetworkRef {
        NetworkRef {
            name: self.def.name.clone(),
            uuid: *self.def.uuid.as_bytes(),
        }
    }

    /// The persistent definition (`virNetworkObjGetPersistentDef`).
    pub fn persistent_def(&self) -> &NetworkDef {
        self.new_def.as_ref().unwrap_or(&self.def)
    }

    /// `virNetworkObjUpdateAssignDef`.
    pub fn assign(&mut self, def: NetworkDef, live: bool) {
        if live {
            if self.persistent && self.new_def.is_none() {
                self.new_def = Some(std::mem::replace(&mut self.def, def));
            } else {
                self.def = def;
            }
        } else if self.active {
            self.new_def = Some(def);
            self.persistent = true;
        } else {
            self.new_def = None;
            self.def = def;
            self.persistent = true;
        }
    }

    /// `virNetworkObjUnsetDefTransient` after a stop: the persistent
    /// definition becomes the definition.
    pub fn unset_transient(&mut self) {
        if let Some(next) = self.new_def.take() {
            self.def = next;
        }
    }

    /// `virNetworkObjMatch`.
    pub fn matches(&self, flags: u32) -> bool {
        let pair = |a: u32, b: u32, is_a: bool| {
            flags & (a | b) == 0 || (flags & a != 0 && is_a) || (flags & b != 0 && !is_a)
        };
        pair(list_flags::ACTIVE, list_flags::INACTIVE, self.active)
            && pair(
                list_flags::PERSISTENT,
                list_flags::TRANSIENT,
                self.persistent,
            )
            && pair(
                list_flags::AUTOSTART,
                list_flags::NO_AUTOSTART,
                self.autostart,
            )
    }
}

pub fn no_network_uuid(net: &NetworkRef) -> Error {
    Error::new(
        DOMAIN,
        ErrorCode::NO_NETWORK,
        format!(
            "no network with matching uuid '{}' ({})",
            net.uuid_string(),
            net.name
        ),
    )
}

pub fn invalid(msg: String) -> Error {
    Error::operation_invalid(DOMAIN, msg)
}

/// `virNetworkObjAssignDefLocked`: the index of the object now holding
/// `def`.
pub fn assign_def(
    nets: &mut Vec<NetworkObj>,
    def: NetworkDef,
    live: bool,
    check_live: bool,
) -> Result<usize> {
    let failed = |msg: String| Error::new(DOMAIN, ErrorCode::OPERATION_FAILED, msg);
    if let Some(i) = nets.iter().position(|n| n.def.uuid == def.uuid) {
        let obj = &mut nets[i];
        if obj.def.name != def.name {
            return Err(failed(format!(
                "network '{}' is already defined with uuid {}",
                obj.def.name, obj.def.uuid
            )));
        }
        if check_live && obj.active {
            return Err(invalid(format!(
                "network is already active as '{}'",
                obj.def.name
            )));
        }
        obj.assign(def, live);
        return Ok(i);
    }
    if let Some(obj) = nets.iter().find(|n| n.def.name == def.name) {
        return Err(failed(format!(
            "network '{}' already exists with uuid {}",
            def.name, obj.def.uuid
        )));
    }
    nets.push(NetworkObj {
        def,
        new_def: None,
        active: false,
        persistent: !live,
        autostart: false,
        running: Running::default(),
    });
    Ok(nets.len() - 1)
}

fn io_error(what: String, e: std::io::Error) -> Error {
    Error::system(DOMAIN, what, &e)
}

/// `virXMLSaveFile`'s warning, then the XML.
fn with_prologue(name: &str, xml: &str) -> String {
    format!(
        "<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n\
         OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n  \
         virsh net-edit {name}\nor other application using the libvirt API.\n-->\n\n{xml}"
    )
}

/// `virNetworkSaveConfig`.
pub fn save_config(paths: &Paths, def: &NetworkDef) -> Result<()> {
    Paths::ensure(&paths.config)?;
    let path = paths.config_file(&def.name);
    let text = with_prologue(&def.name, &def.format(XML_INACTIVE));
    write_atomic(&path, &text, 0o600)
        .map_err(|e| io_error(format!("cannot save config file '{}'", path.display()), e))
}

/// The live definition of a running network (libvirt's status file).
pub fn save_status(paths: &Paths, def: &NetworkDef) -> Result<()> {
    Paths::ensure(&paths.state)?;
    let path = paths.status_file(&def.name);
    write_atomic(&path, &def.format(0), 0o600)
        .map_err(|e| io_error(format!("cannot save status file '{}'", path.display()), e))
}

pub fn delete_status(paths: &Paths, name: &str) {
    let _ = std::fs::remove_file(paths.status_file(name));
}

/// `virNetworkObjDeleteConfig`: the config and the autostart link.
pub fn delete_config(paths: &Paths, name: &str) -> Result<()> {
    let _ = std::fs::remove_file(paths.autostart_link(name));
    let path = paths.config_file(name);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(
            format!("cannot remove config file '{}'", path.display()),
            e,
        )),
        _ => Ok(()),
    }
}

/// Link or unlink `autostart/NAME.xml` (networkSetAutostart's texts).
pub fn set_autostart_link(paths: &Paths, name: &str, on: bool) -> Result<()> {
    let link = paths.autostart_link(name);
    if on {
        std::fs::create_dir_all(paths.autostart_dir()).map_err(|e| {
            io_error(
                format!(
                    "cannot create autostart directory '{}'",
                    paths.autostart_dir().display()
                ),
                e,
            )
        })?;
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(paths.config_file(name), &link).map_err(|e| {
            io_error(
                format!(
                    "Failed to create symlink '{}' to '{}'",
                    link.display(),
                    paths.config_file(name).display()
                ),
                e,
            )
        })
    } else {
        match std::fs::remove_file(&link) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(
                format!("Failed to delete symlink '{}'", link.display()),
                e,
            )),
            _ => Ok(()),
        }
    }
}

/// The objects of the saved configs, then the running networks' status
/// (`virNetworkObjLoadAllConfigs`, `virNetworkObjLoadAllState`,
/// `networkUpdateState`): a status whose bridge is gone is dropped.
pub fn load_all(paths: &Paths) -> Result<Vec<NetworkObj>> {
    let mut nets = Vec::new();
    for (name, text) in xml_files(&paths.config) {
        match NetworkDef::parse(&text) {
            Ok(def) if def.name == name => {
                let i = assign_def(&mut nets, def, false, false)?;
                nets[i].autostart = paths.autostart_link(&name).exists();
            }
            Ok(def) => tracing::warn!(
                "network config filename '{name}' does not match network name '{}'",
                def.name
            ),
            Err(e) => tracing::warn!("cannot load network '{name}': {}", e.message),
        }
    }
    for (name, text) in xml_files(&paths.state) {
        let Ok(def) = NetworkDef::parse(&text) else {
            continue;
        };
        let alive = def.bridge.as_deref().is_some_and(crate::bridge::exists)
            || !def.forward.mode.has_bridge();
        if !alive {
            delete_status(paths, &name);
            continue;
        }
        let i = assign_def(&mut nets, def, true, false)?;
        nets[i].active = true;
        let pid = crate::dnsmasq::read_pid(&paths.pid_file(&name));
        // SAFETY: signal 0 only checks that the process exists.
        nets[i].running.dnsmasq_pid = pid.filter(|p| unsafe { libc::kill(*p, 0) } == 0);
    }
    Ok(nets)
}

/// `(stem, contents)` of the `*.xml` files directly in `dir`.
fn xml_files(dir: &std::path::Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, String)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".xml")?.to_string();
            Some((stem, std::fs::read_to_string(e.path()).ok()?))
        })
        .collect();
    files.sort();
    files
}
