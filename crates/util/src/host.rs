//! Facts about the machine we run on.

use crate::error::{Error, ErrorDomain, Result};

/// The host name, as libvirt's `virGetHostname` (uname's nodename).
pub fn hostname() -> Result<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map_err(|e| Error::system(ErrorDomain::NONE, "failed to determine host name", &e))?;
    Ok(name.trim().to_string())
}
