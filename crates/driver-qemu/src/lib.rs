//! The QEMU driver (`qemu:///system`): guests are real `qemu-system-*`
//! processes that rvirtd starts, watches over QMP and controls.
//!
//! Split as libvirt splits its QEMU driver, one job a module:
//! - [`caps_model`]: what a QEMU binary can do (machine types, devices,
//!   CPU models, accelerators): filled by probing, read by the command line;
//! - [`capabilities`]: the probe and its cache (`qemu_capabilities.c`);
//! - [`command`]: typed domain definition → QEMU command line
//!   (`qemu_command.c`), with device address assignment (`qemu_domain_address.c`);
//! - [`monitor`]: the QMP client (`qemu_monitor*.c`);
//! - [`process`]: spawning and stopping QEMU (`qemu_process.c`), with
//!   `lifecycle` (start/stop of a guest), `watch` (QMP events) and
//!   `init` (re-attach after a daemon restart);
//! - `migration`: live migration's phases on either side
//!   (`qemu_migration.c`, `qemu_migration_params.c`);
//! - `state`, `status`, `files`: the guests, their live status files and
//!   the driver's directories.
//!
//! Depends on the API, util and conf only, never on another driver.

mod agent;
pub mod capabilities;
pub mod caps_model;
pub mod cgroup;
pub mod command;
mod connection;
mod console;
mod disk_pool;
mod domcaps;
mod driver;
pub mod files;
mod host_caps;
mod init;
mod iothread_api;
mod iothread_params;
mod lifecycle;
mod macvtap;
mod migration;
pub mod monitor;
mod network_iface;
mod node_info;
mod numa_policy;
mod numad;
mod ops;
pub mod process;
pub mod runtime;
mod secret_object;
pub mod security;
mod state;
mod stats;
mod stats_host;
mod stats_live;
mod status;
mod tuning;
mod tuning_io;
mod vcpu_hotplug;
mod vcpus;
mod watch;

pub use driver::{
    DEFAULT_EMULATOR, DIR_KEYS, GROUP_KEY, KVM_PROBE_INITRD, KVM_PROBE_KERNEL, KVM_PROBE_MARKER,
    MONITOR_TIMEOUT_KEY, NUMAD_KEY, USER_KEY,
};

use connection::QemuConnection;
use driver::Driver;
use rvirt::driver::{ConnectDriver, OpenOutcome, StateConfig};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, Uri};
use std::sync::{Arc, OnceLock};

/// The driver as registered: its state exists once the daemon initialised
/// it (a client program never does; it reaches QEMU through the daemon).
#[derive(Default)]
pub struct QemuDriver {
    driver: OnceLock<Arc<Driver>>,
}

/// Register the QEMU driver with the public API.
pub fn register() {
    rvirt::registry::register(Arc::new(QemuDriver::default()));
}

impl ConnectDriver for QemuDriver {
    fn name(&self) -> &'static str {
        "QEMU"
    }

    /// A host where the driver's directories cannot be made (an
    /// unprivileged daemon with the system paths) runs without it: the
    /// daemon still serves its other drivers.
    fn state_initialize(&self, config: &StateConfig) -> Result<()> {
        let driver = match Driver::new(config) {
            Ok(d) => Arc::new(d),
            Err(e) => {
                tracing::warn!("QEMU driver disabled: {}", e.message);
                return Ok(());
            }
        };
        init::initialize(&driver);
        let _ = self.driver.set(driver);
        Ok(())
    }

    fn open(&self, uri: &Uri, _flags: u32) -> Result<OpenOutcome> {
        if uri.scheme != "qemu" || uri.server.is_some() {
            return Ok(OpenOutcome::Declined);
        }
        // qemu:///session shares the system driver for now.
        if uri.path != "/system" && uri.path != "/session" {
            return Err(Error::new(
                ErrorDomain::QEMU,
                ErrorCode::INTERNAL_ERROR,
                format!(
                    "unexpected QEMU URI path '{}', try qemu:///system",
                    uri.path
                ),
            ));
        }
        let Some(driver) = self.driver.get() else {
            return Err(Error::new(
                ErrorDomain::QEMU,
                ErrorCode::INTERNAL_ERROR,
                "qemu state driver is not active",
            ));
        };
        let conn = QemuConnection::new(driver.clone(), uri.to_string());
        Ok(OpenOutcome::Opened(Arc::new(conn)))
    }
}
