//! The host's network objects (libvirt's src/conf/virnetworkobj.c with
//! VIR_FROM_NETWORK): live and persistent definitions, the assignment
//! rules of `virNetworkObjAssignDef`, and their files: the config
//! (`NAME.xml`, written atomically), the autostart symlink and the live
//! status.

use crate::paths::{write_atomic, Paths};
use crate::start::Running;
use rvirt::driver::NetworkRef;
use rvirt_conf::network::objlist;
pub use rvirt_conf::network::objlist::assign_def;
use rvirt_conf::network::{NetworkDef, XML_INACTIVE};
use rvirt_util::object_files::ObjectFiles;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

const DOMAIN: ErrorDomain = ErrorDomain::NETWORK;

/// A network with what the driver runs for it (libvirt's object rules
/// are conf's, shared with the test driver).
pub type NetworkObj = objlist::NetworkObj<Running>;

/// The API's handle for a network object.
pub trait NetRef {
    fn net_ref(&self) -> NetworkRef;
}

impl NetRef for NetworkObj {
    fn net_ref(&self) -> NetworkRef {
        NetworkRef::new(&self.def.name, *self.def.uuid.as_bytes())
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
    let mut nets: Vec<NetworkObj> = Vec::new();
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
