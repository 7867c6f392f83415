//! The remote driver: rvirt's API over libvirt's RPC protocol, to a stock
//! libvirtd or to rvirtd (libvirt's `src/remote/remote_driver.c`).
//!
//! URIs name a transport (`test+tcp://host:port/default`,
//! `qemu+unix:///system?socket=PATH`); a client program also sends plain
//! local URIs that no local driver took to the system daemon's socket, as
//! libvirt's client library does. `+tls` runs over rustls ([`tls`]); SSH
//! is refused for now.

mod callback_ids;
mod checkpoint;
mod client;
mod conn;
mod domain_devices;
mod domain_events;
mod forward;
mod guest;
mod host;
mod migration;
mod network;
mod nodedev;
mod nwfilter_binding;
pub mod sasl;
mod save;
mod snapshot;
mod storage;
mod stream;
pub mod tls;
mod tuning;
mod uri;
pub mod wire;

pub use client::KeepAlive;
pub use conn::RemoteConnection;
pub use stream::RemoteStream;
pub use uri::{open_name, split_scheme, target, Address, Target, Transport};

use rvirt::driver::{ConnectDriver, OpenOutcome};
use rvirt_util::{Result, Uri};
use std::sync::Arc;

/// The remote driver (`VIR_DRV_OPEN_DECLINED` for what it must not serve).
pub struct RemoteDriver {
    inside_daemon: bool,
}

/// Register for a client program (rvirsh, tools): serves every URI no local
/// driver accepted.
pub fn register() {
    rvirt::registry::register(Arc::new(RemoteDriver {
        inside_daemon: false,
    }));
}

/// Register inside the daemon: only URIs that name a transport or a host,
/// so the daemon never connects back to itself.
pub fn register_for_daemon() {
    rvirt::registry::register(Arc::new(RemoteDriver {
        inside_daemon: true,
    }));
}

impl ConnectDriver for RemoteDriver {
    fn name(&self) -> &'static str {
        "remote"
    }

    fn is_remote(&self) -> bool {
        true
    }

    fn open(&self, uri: &Uri, flags: u32) -> Result<OpenOutcome> {
        if self.inside_daemon && !uri.is_remote() {
            return Ok(OpenOutcome::Declined);
        }
        let conn = RemoteConnection::open(uri, flags, KeepAlive::default())?;
        Ok(OpenOutcome::Opened(Arc::new(conn)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_registration_declines_local_uris() {
        let d = RemoteDriver {
            inside_daemon: true,
        };
        for uri in ["qemu:///system", "test:///default", "qemu:///session"] {
            let outcome = d.open(&Uri::parse(uri).unwrap(), 0).unwrap();
            assert!(matches!(outcome, OpenOutcome::Declined), "{uri}");
        }
        // A remote URI is served (and here fails to connect).
        let e = d.open(
            &Uri::parse("test+unix:///default?socket=/nonexistent/s").unwrap(),
            0,
        );
        assert!(e.is_err());
        assert!(d.is_remote());
    }
}
