//! The network filter driver's state and URI: the store lives from the
//! daemon's state initialization on (libvirt's `nwfilterStateInitialize`)
//! and is the daemon's shared nwfilter driver
//! ([`rvirt::driver::shared`]), so `qemu:///system` connections see its
//! filters; `nwfilter:///system` opens a connection that carries only it,
//! as libvirt's nwfilter connect driver does inside a daemon.

use crate::persist::{
    BindingFiles, FilterFiles, BINDING_DIR_KEY, CONFIG_DIR_KEY, DEFAULT_BINDING_DIR,
    DEFAULT_SYSTEM_DIR,
};
use crate::NWFilterStore;
use rvirt::driver::nwfilter::ERROR_DOMAIN;
use rvirt::driver::shared;
use rvirt::driver::{
    ConnectDriver, HypervisorConnection, MigrationDriver, NWFilterDriver, OpenOutcome, StateConfig,
};
use rvirt_util::{Error, ErrorDomain, Result, Uri};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Default)]
pub struct NWFilterConnectDriver;

/// Register the nwfilter driver with the public API (a daemon calls this;
/// the store starts with the daemon's state initialization).
pub fn register() {
    rvirt::registry::register(Arc::new(NWFilterConnectDriver));
}

fn privileged() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

impl ConnectDriver for NWFilterConnectDriver {
    fn name(&self) -> &'static str {
        "nwfilter"
    }

    /// `nwfilterConnectOpen`: `nwfilter:///system` only, and only in a
    /// privileged daemon whose driver is running.
    fn open(&self, uri: &Uri, _flags: u32) -> Result<OpenOutcome> {
        if uri.scheme != "nwfilter" || uri.server.is_some() {
            return Ok(OpenOutcome::Declined);
        }
        let Some(store) = shared::nwfilter() else {
            return Err(Error::internal(
                ERROR_DOMAIN,
                "nwfilter state driver is not active",
            ));
        };
        if uri.path != "/system" {
            return Err(Error::internal(
                ErrorDomain::NONE,
                format!(
                    "unexpected nwfilter URI path '{}', try nwfilter:///system",
                    uri.path
                ),
            ));
        }
        Ok(OpenOutcome::Opened(Arc::new(NWFilterConnection {
            store,
            uri: uri.to_string(),
        })))
    }

    /// `nwfilterStateInitialize`: the directory made if missing and the
    /// filters loaded from it. Without a directory the driver does not
    /// start, as libvirt's fails.
    fn state_initialize(&self, config: &StateConfig) -> Result<()> {
        let dir = filters_dir(config);
        match FilterFiles::open(&dir) {
            Ok(files) => {
                let bindings = BindingFiles::new(&bindings_dir(config));
                let store = NWFilterStore::persistent(files, bindings, privileged());
                shared::set_nwfilter(Box::new(store));
            }
            Err(e) => tracing::warn!("nwfilter driver disabled: {}", e.message),
        }
        Ok(())
    }
}

/// `nwfilter_config_dir`, or libvirt's place under rvirt's name: the
/// system directory for a privileged daemon, `$XDG_CONFIG_HOME/rvirt/nwfilter`
/// for a session daemon (where definitions are refused anyway).
fn filters_dir(config: &StateConfig) -> PathBuf {
    if let Some(dir) = config.setting(CONFIG_DIR_KEY) {
        return PathBuf::from(dir);
    }
    if privileged() {
        return PathBuf::from(DEFAULT_SYSTEM_DIR);
    }
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let config_home = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env("HOME").unwrap_or_else(|| "/".into())).join(".config")
        });
    config_home.join("rvirt/nwfilter")
}

/// `nwfilter_binding_dir`, or libvirt's place under rvirt's name (a
/// session daemon's under `$XDG_RUNTIME_DIR`, where bindings are refused
/// anyway).
fn bindings_dir(config: &StateConfig) -> PathBuf {
    if let Some(dir) = config.setting(BINDING_DIR_KEY) {
        return PathBuf::from(dir);
    }
    if privileged() {
        return PathBuf::from(DEFAULT_BINDING_DIR);
    }
    let runtime = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty());
    PathBuf::from(runtime.unwrap_or_else(|| "/tmp".into())).join("rvirt/nwfilter-binding")
}

/// One connection to the nwfilter driver.
pub struct NWFilterConnection {
    store: &'static dyn NWFilterDriver,
    uri: String,
}

impl MigrationDriver for NWFilterConnection {}

impl HypervisorConnection for NWFilterConnection {
    /// libvirt's nwfilter connections have no `connectGetType`: the
    /// public API answers with the driver's name.
    fn get_type(&self) -> Result<String> {
        Ok("nwfilter".into())
    }
    fn get_uri(&self) -> Result<String> {
        Ok(self.uri.clone())
    }
    fn nwfilter(&self) -> Option<&dyn NWFilterDriver> {
        Some(self.store)
    }
}
