//! Driver registration (libvirt's `virRegisterConnectDriver`): a program links
//! the drivers it wants and registers them at start-up; `Connect::open` asks
//! each in turn, the remote driver last and only for remote URIs.

use crate::driver::{ConnectDriver, StateConfig};
use parking_lot::RwLock;
use rvirt_util::Result;
use std::sync::Arc;

static DRIVERS: RwLock<Vec<Arc<dyn ConnectDriver>>> = RwLock::new(Vec::new());

/// Register a driver; registering the same driver name twice is a no-op.
pub fn register(driver: Arc<dyn ConnectDriver>) {
    let mut drivers = DRIVERS.write();
    if drivers.iter().any(|d| d.name() == driver.name()) {
        return;
    }
    drivers.push(driver);
    // Local drivers first: the remote driver is the fallback, as in libvirt.
    drivers.sort_by_key(|d| d.is_remote());
}

pub(crate) fn drivers() -> Vec<Arc<dyn ConnectDriver>> {
    DRIVERS.read().clone()
}

/// Start every registered driver's daemon-side state (libvirt's
/// `virStateInitialize`), in registration order; the first failure stops
/// the daemon's start-up.
pub fn state_initialize(config: &StateConfig) -> Result<()> {
    drivers()
        .iter()
        .try_for_each(|d| d.state_initialize(config))
}
