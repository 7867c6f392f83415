//! `secret:///system` (as root) or `secret:///session`: a connection that
//! carries only the secret driver, as libvirt's secret driver answers
//! these URIs inside a daemon (libvirtd, virtsecretd). The store lives
//! from the daemon's state initialization on; a client program that
//! never initializes it is refused as libvirt refuses it. The same store is
//! the daemon's shared secret driver ([`rvirt::driver::shared`]), so
//! `qemu:///system` connections see the same secrets.

use crate::persist::{SecretFiles, CONFIG_DIR_KEY, DEFAULT_SYSTEM_DIR};
use crate::SecretStore;
use rvirt::driver::shared;
use rvirt::driver::{
    ConnectDriver, HypervisorConnection, MigrationDriver, OpenOutcome, SecretDriver, StateConfig,
};
use rvirt_util::{Error, ErrorDomain, Result, Uri};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Default)]
pub struct SecretConnectDriver;

/// Register the secret driver with the public API (a daemon calls this;
/// the store starts with the daemon's state initialization).
pub fn register() {
    rvirt::registry::register(Arc::new(SecretConnectDriver));
}

fn privileged() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

impl ConnectDriver for SecretConnectDriver {
    fn name(&self) -> &'static str {
        "secret"
    }

    fn open(&self, uri: &Uri, _flags: u32) -> Result<OpenOutcome> {
        if uri.scheme != "secret" || uri.server.is_some() {
            return Ok(OpenOutcome::Declined);
        }
        let Some(store) = shared::secrets() else {
            return Err(Error::internal(
                rvirt::secret::ERROR_DOMAIN,
                "secret state driver is not active",
            ));
        };
        let want = if privileged() { "/system" } else { "/session" };
        if uri.path != want {
            return Err(Error::internal(
                ErrorDomain::NONE,
                format!(
                    "unexpected secret URI path '{}', try secret://{want}",
                    uri.path
                ),
            ));
        }
        Ok(OpenOutcome::Opened(Arc::new(SecretConnection {
            store,
            uri: uri.to_string(),
        })))
    }

    /// libvirt's `secretStateInitialize`: the secrets directory made if
    /// missing and the persistent secrets loaded from it.
    fn state_initialize(&self, config: &StateConfig) -> Result<()> {
        let dir = secrets_dir(config);
        let files = SecretFiles::open(&dir)?;
        shared::set_secrets(Box::new(SecretStore::persistent(files)));
        Ok(())
    }
}

/// `secret_config_dir`, or libvirt's place under rvirt's name: the
/// system directory for a privileged daemon, `$XDG_CONFIG_HOME/rvirt/secrets`
/// (`~/.config/rvirt/secrets`) for a session daemon.
fn secrets_dir(config: &StateConfig) -> PathBuf {
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
    config_home.join("rvirt/secrets")
}

/// One connection to the secret driver.
pub struct SecretConnection {
    store: &'static dyn SecretDriver,
    uri: String,
}

impl MigrationDriver for SecretConnection {}

impl HypervisorConnection for SecretConnection {
    /// libvirt's secret connections have no `connectGetType`: the
    /// public API answers with the driver's name.
    fn get_type(&self) -> Result<String> {
        Ok("secret".into())
    }
    fn get_uri(&self) -> Result<String> {
        Ok(self.uri.clone())
    }
    fn secrets(&self) -> Option<&dyn SecretDriver> {
        Some(self.store)
    }
}
