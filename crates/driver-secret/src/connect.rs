//! `secret:///system` (as root) or `secret:///session`: a connection that
//! carries only the secret driver, as libvirt's secret driver answers
//! these URIs inside a daemon (libvirtd, virtsecretd). The store lives
//! from the daemon's state initialization on; a client program that
//! never initializes it is refused as libvirt refuses it. The same store is
//! the daemon's shared secret driver ([`rvirt::driver::shared`]), so
//! `qemu:///system` connections see the same secrets.

use crate::SecretStore;
use rvirt::driver::shared;
use rvirt::driver::{
    ConnectDriver, HypervisorConnection, MigrationDriver, OpenOutcome, SecretDriver, StateConfig,
};
use rvirt_util::{Error, ErrorDomain, Result, Uri};
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

    fn state_initialize(&self, _config: &StateConfig) -> Result<()> {
        shared::set_secrets(Box::<SecretStore>::default());
        Ok(())
    }
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
