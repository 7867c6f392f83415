//! Secondary drivers shared by the local hypervisor connections of a
//! daemon, as libvirt's `virSetSharedStorageDriver`,
//! `virSetSharedNetworkDriver` & co: a `qemu:///system` connection has no
//! storage, network, node device, secret, interface or nwfilter driver of
//! its own, and libvirt's `virConnectOpen` gives it the daemon's host-wide
//! ones. The test driver keeps its own (its accessors answer first).
//!
//! Each is set once, when the daemon registers its drivers, and lives for
//! the process, so callers get `&'static` references without locking.

use super::{
    HypervisorConnection, InterfaceDriver, NWFilterDriver, NetworkDriver, NodeDeviceDriver,
    SecretDriver, StorageDriver,
};
use std::sync::OnceLock;

static STORAGE: OnceLock<Box<dyn StorageDriver>> = OnceLock::new();
static NETWORK: OnceLock<Box<dyn NetworkDriver>> = OnceLock::new();
static NWFILTER: OnceLock<Box<dyn NWFilterDriver>> = OnceLock::new();
static NODE_DEVICES: OnceLock<Box<dyn NodeDeviceDriver>> = OnceLock::new();
static SECRETS: OnceLock<Box<dyn SecretDriver>> = OnceLock::new();
static INTERFACES: OnceLock<Box<dyn InterfaceDriver>> = OnceLock::new();

/// Install the host-wide driver of one kind; a second call for the same
/// kind is ignored (false), as libvirt registers each once.
macro_rules! setter {
    ($set:ident, $get:ident, $cell:ident, $trait:ident) => {
        #[doc = concat!("Install the host's shared [`", stringify!($trait), "`].")]
        pub fn $set(driver: Box<dyn $trait>) -> bool {
            $cell.set(driver).is_ok()
        }
        #[doc = concat!("The host's shared [`", stringify!($trait), "`], if installed.")]
        pub fn $get() -> Option<&'static dyn $trait> {
            $cell.get().map(|d| &**d)
        }
    };
}

setter!(set_storage, storage, STORAGE, StorageDriver);
setter!(set_network, network, NETWORK, NetworkDriver);
setter!(set_nwfilter, nwfilter, NWFILTER, NWFilterDriver);
setter!(
    set_node_devices,
    node_devices,
    NODE_DEVICES,
    NodeDeviceDriver
);
setter!(set_secrets, secrets, SECRETS, SecretDriver);
setter!(set_interfaces, interfaces, INTERFACES, InterfaceDriver);

/// A connection's own secondary driver or, for a connection that shares
/// the host's (libvirt's `local` hypervisor drivers), the host's.
pub fn or_shared<'a, T: ?Sized>(
    conn: &dyn HypervisorConnection,
    own: Option<&'a T>,
    shared: Option<&'a T>,
) -> Option<&'a T> {
    own.or(shared.filter(|_| conn.uses_shared_drivers()))
}
