//! The migration port range (libvirt's `virPortAllocator` for
//! `migration_port_min` .. `migration_port_max`): a port is handed out
//! when nothing here holds it and nothing on the host is bound to it.

use parking_lot::Mutex;
use rvirt_util::{Error, ErrorDomain, Result};
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};

/// libvirt's defaults for the migration range.
pub const DEFAULT_MIN: u16 = 49152;
pub const DEFAULT_MAX: u16 = 49215;

pub struct Ports {
    min: u16,
    max: u16,
    taken: Mutex<BTreeSet<u16>>,
}

/// Whether nothing on this host (this network namespace) listens on `port`.
fn bindable(port: u16) -> bool {
    let v4 = TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok();
    // A host without IPv6 cannot bind [::] at all; that is no conflict.
    let v6 = match TcpListener::bind((Ipv6Addr::UNSPECIFIED, port)) {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::AddrInUse,
    };
    v4 && v6
}

impl Ports {
    pub fn new(min: u16, max: u16) -> Result<Ports> {
        if min == 0 || min > max {
            return Err(Error::invalid_arg(
                ErrorDomain::QEMU,
                format!(
                    "migration_port_min ({min}) must be between 1 and migration_port_max ({max})"
                ),
            ));
        }
        Ok(Ports {
            min,
            max,
            taken: Mutex::default(),
        })
    }

    /// A free port of the range, held until [`Ports::release`].
    pub fn acquire(&self) -> Result<u16> {
        let mut taken = self.taken.lock();
        let port = (self.min..=self.max)
            .find(|p| !taken.contains(p) && bindable(*p))
            .ok_or_else(|| {
                Error::internal(
                    ErrorDomain::NONE,
                    format!(
                        "Unable to find an unused port in range 'migration' ({}-{})",
                        self.min, self.max
                    ),
                )
            })?;
        taken.insert(port);
        Ok(port)
    }

    /// A port the client chose (`virPortAllocatorSetUsed`): held like an
    /// acquired one when it is in the range (true), refused when it is
    /// held already; a port outside the range is not ours to track.
    pub fn reserve(&self, port: u16) -> Result<bool> {
        if !(self.min..=self.max).contains(&port) {
            return Ok(false);
        }
        if !self.taken.lock().insert(port) {
            return Err(Error::internal(
                ErrorDomain::NONE,
                format!("Failed to reserve port {port}"),
            ));
        }
        Ok(true)
    }

    pub fn release(&self, port: u16) {
        self.taken.lock().remove(&port);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_handed_out_once_and_come_back() {
        let ports = Ports::new(DEFAULT_MIN + 40, DEFAULT_MIN + 41).unwrap();
        let a = ports.acquire().unwrap();
        let b = ports.acquire().unwrap();
        assert_ne!(a, b);
        let e = ports.acquire().unwrap_err();
        assert!(
            e.message.contains("Unable to find an unused port"),
            "{}",
            e.message
        );
        ports.release(a);
        assert_eq!(ports.acquire().unwrap(), a);
        ports.release(b);
        assert!(ports.reserve(b).unwrap());
        assert!(ports.reserve(b).is_err());
        assert!(!ports.reserve(DEFAULT_MIN).unwrap());
        assert!(Ports::new(10, 9).is_err());
    }
}
