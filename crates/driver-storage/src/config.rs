//! Where the storage driver keeps its files, from the daemon's
//! configuration: libvirt's /etc/libvirt/storage (definitions),
//! /etc/libvirt/storage/autostart (symlinks to them) and
//! /run/libvirt/storage (running pools), under rvirt's own paths.

use rvirt::driver::StateConfig;
use std::path::PathBuf;

/// The daemon setting of the definitions directory.
pub const CONFIG_DIR_KEY: &str = "storage_config_dir";
/// The daemon setting of the autostart directory (default: `autostart`
/// under the definitions directory).
pub const AUTOSTART_DIR_KEY: &str = "storage_autostart_dir";
/// The daemon setting of the running pools' state directory.
pub const STATE_DIR_KEY: &str = "storage_state_dir";

const DEFAULT_CONFIG_DIR: &str = "/etc/rvirt/storage";
const DEFAULT_STATE_DIR: &str = "/run/rvirt/storage";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub autostart_dir: PathBuf,
    pub state_dir: PathBuf,
}

impl Paths {
    pub fn from_config(config: &StateConfig) -> Paths {
        let config_dir =
            PathBuf::from(config.setting(CONFIG_DIR_KEY).unwrap_or(DEFAULT_CONFIG_DIR));
        let autostart_dir = config
            .setting(AUTOSTART_DIR_KEY)
            .map_or_else(|| config_dir.join("autostart"), PathBuf::from);
        Paths {
            config_dir,
            autostart_dir,
            state_dir: PathBuf::from(config.setting(STATE_DIR_KEY).unwrap_or(DEFAULT_STATE_DIR)),
        }
    }

    /// `CONFIG_DIR/NAME.xml`.
    pub fn config_file(&self, name: &str) -> PathBuf {
        self.config_dir.join(format!("{name}.xml"))
    }

    /// `AUTOSTART_DIR/NAME.xml`.
    pub fn autostart_link(&self, name: &str) -> PathBuf {
        self.autostart_dir.join(format!("{name}.xml"))
    }

    /// `STATE_DIR/NAME.xml`.
    pub fn state_file(&self, name: &str) -> PathBuf {
        self.state_dir.join(format!("{name}.xml"))
    }
}
