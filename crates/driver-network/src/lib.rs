//! The host's network driver (libvirt's src/network/bridge_driver.c with
//! bridge_driver_linux.c): virtual networks with forward mode nat, route,
//! open or none (isolated) on a Linux bridge carrying the network's
//! addresses, dnsmasq for DHCP and DNS, and libvirt 9.0's iptables rules
//! in its private `LIBVIRT_*` chains. It is the daemon's shared network
//! driver ([`rvirt::driver::shared`]): `qemu:///system` connections use it.
//!
//! Host changes go through the tools libvirt's own tests describe them
//! with: `ip` (iproute2; no netlink crate is in the workspace and these
//! are a handful of one-shot calls), `iptables`/`ip6tables`, `dnsmasq`.

mod bridge;
pub mod dnsmasq;
mod driver;
pub mod firewall;
mod leases;
mod objects;
mod paths;
mod start;
mod validate;

pub use driver::HostNetworks;
pub use paths::Paths;

use rvirt::driver::{shared, ConnectDriver, OpenOutcome, StateConfig};
use rvirt_util::{Result, Uri};
use std::sync::Arc;

/// The driver as registered: it opens no URI of its own and only starts
/// the host's network state.
#[derive(Default)]
pub struct NetworkStateDriver;

/// Register the network driver (a daemon calls this; its state starts
/// with the daemon's state initialization).
pub fn register() {
    rvirt::registry::register(Arc::new(NetworkStateDriver));
}

impl ConnectDriver for NetworkStateDriver {
    fn name(&self) -> &'static str {
        "network"
    }

    fn open(&self, _uri: &Uri, _flags: u32) -> Result<OpenOutcome> {
        Ok(OpenOutcome::Declined)
    }

    /// `networkStateInitialize`: load the saved definitions and the status
    /// of networks still running, then autostart.
    fn state_initialize(&self, config: &StateConfig) -> Result<()> {
        let paths = Paths::from_config(config);
        let nets = match HostNetworks::load(paths) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!("network driver disabled: {}", e.message);
                return Ok(());
            }
        };
        nets.autostart();
        shared::set_network(Box::new(nets));
        Ok(())
    }
}
