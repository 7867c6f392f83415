//! The host storage driver (libvirt's src/storage/: storage_driver.c with
//! the `dir` and `fs` backends of storage_backend_fs.c and the local
//! volume code of storage_util.c): pools whose definitions persist under
//! the daemon's storage directories, with raw and qcow2 volumes as files
//! (created directly or with `qemu-img`). The daemon installs it as its
//! shared storage driver ([`rvirt::driver::shared`]), so `qemu:///system`
//! connections see it; `storage:///system` opens it alone, as libvirt's
//! storage driver answers in a daemon.

mod api;
mod api_pool;
mod api_vol;
mod backend;
mod command;
pub mod config;
mod driver;
mod persist;
mod pools;
mod probe;
mod streams;
mod volumes;

#[cfg(test)]
mod tests;

pub use config::Paths;
pub use driver::HostStorage;

use rvirt::driver::shared;
use rvirt::driver::{
    ConnectDriver, HypervisorConnection, MigrationDriver, OpenOutcome, StateConfig, StorageDriver,
};
use rvirt_util::{Error, ErrorDomain, Result, Uri};
use std::sync::Arc;

/// `VIR_FROM_STORAGE`.
pub const ERROR_DOMAIN: ErrorDomain = rvirt::driver::storage::ERROR_DOMAIN;

#[derive(Default)]
pub struct StorageConnectDriver;

/// Register the storage driver with the public API (a daemon calls this;
/// the pools come with the daemon's state initialization).
pub fn register() {
    rvirt::registry::register(Arc::new(StorageConnectDriver));
}

fn privileged() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

impl ConnectDriver for StorageConnectDriver {
    fn name(&self) -> &'static str {
        "storage"
    }

    fn open(&self, uri: &Uri, _flags: u32) -> Result<OpenOutcome> {
        if uri.scheme != "storage" || uri.server.is_some() {
            return Ok(OpenOutcome::Declined);
        }
        let Some(storage) = shared::storage() else {
            return Err(Error::internal(
                ERROR_DOMAIN,
                "storage state driver is not active",
            ));
        };
        let want = if privileged() { "/system" } else { "/session" };
        if uri.path != want {
            return Err(Error::internal(
                ErrorDomain::NONE,
                format!(
                    "unexpected storage URI path '{}', try storage://{want}",
                    uri.path
                ),
            ));
        }
        Ok(OpenOutcome::Opened(Arc::new(StorageConnection {
            storage,
            uri: uri.to_string(),
        })))
    }

    /// A host where the directories cannot be made runs without the
    /// driver (its connections then answer "not supported").
    fn state_initialize(&self, config: &StateConfig) -> Result<()> {
        match HostStorage::start(Paths::from_config(config)) {
            Ok(s) => {
                shared::set_storage(Box::new(s));
            }
            Err(e) => tracing::warn!("storage driver disabled: {}", e.message),
        }
        Ok(())
    }
}

/// One `storage:///system` connection.
pub struct StorageConnection {
    storage: &'static dyn StorageDriver,
    uri: String,
}

impl MigrationDriver for StorageConnection {}

impl HypervisorConnection for StorageConnection {
    /// libvirt's storage connections have no `connectGetType`: the public
    /// API answers with the driver's name.
    fn get_type(&self) -> Result<String> {
        Ok("storage".into())
    }
    fn get_uri(&self) -> Result<String> {
        Ok(self.uri.clone())
    }
    fn storage(&self) -> Option<&dyn StorageDriver> {
        Some(self.storage)
    }
}
