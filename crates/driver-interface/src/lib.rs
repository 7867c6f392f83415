//! The host's network links as `qemu:///system`'s interfaces, read from
//! sysfs as libvirt's udev interface backend (src/interface/
//! interface_backend_udev.c) reads them through libudev: every `net`
//! device but bridge ports (`brport/`) and taps (`tun_flags`), active
//! when its `operstate` is `up`; `iface-dumpxml` describes a link as
//! `udevGetIfaceDef` does (type from `DEVTYPE`, MAC, MTU, link state and
//! speed as `virNetDevGetLinkInfo` reads them, a bridge's STP, forward
//! delay and ports, a VLAN's tag and device from /proc/net/vlan). Like
//! that backend it only reads: define, start and the change transaction
//! stay libvirt's "not supported".

mod sysfs;

use rvirt::driver::{
    shared, ConnectDriver, InterfaceDriver, InterfaceRef, OpenOutcome, StateConfig,
};
use rvirt::interface::{list_flags, ERROR_DOMAIN, XML_INACTIVE};
use rvirt_util::{Error, ErrorCode, Result, Uri};
use std::path::PathBuf;
use std::sync::Arc;
use sysfs::Links;

/// The daemon's interface driver: it only installs the shared backend.
#[derive(Default)]
pub struct InterfaceStateDriver;

/// Register the interface driver (a daemon calls this; the backend starts
/// with the daemon's state initialization).
pub fn register() {
    rvirt::registry::register(Arc::new(InterfaceStateDriver));
}

impl ConnectDriver for InterfaceStateDriver {
    fn name(&self) -> &'static str {
        "interface"
    }

    fn open(&self, _uri: &Uri, _flags: u32) -> Result<OpenOutcome> {
        Ok(OpenOutcome::Declined)
    }

    fn state_initialize(&self, _config: &StateConfig) -> Result<()> {
        shared::set_interfaces(Box::new(HostInterfaces::new(
            PathBuf::from("/sys/class/net"),
            PathBuf::from("/proc/net/vlan"),
        )));
        Ok(())
    }
}

/// The udev backend over this host's (network namespace's) sysfs.
pub struct HostInterfaces {
    links: Links,
}

fn check_flags(api: &str, given: u32, allowed: u32) -> Result<()> {
    rvirt::connect::check_flags_in(ERROR_DOMAIN, api, given, allowed)
}

fn no_interface(msg: String) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::NO_INTERFACE, msg)
}

impl HostInterfaces {
    /// A backend reading `class_net` (`/sys/class/net`) and `vlan_dir`
    /// (`/proc/net/vlan`).
    pub fn new(class_net: PathBuf, vlan_dir: PathBuf) -> HostInterfaces {
        HostInterfaces {
            links: Links::new(class_net, vlan_dir),
        }
    }

    /// Listed links whose operstate is exactly `state` (`udevGetDevices`
    /// with ACTIVE "up" / INACTIVE "down").
    fn names_in_state(&self, state: &str) -> Vec<String> {
        self.links
            .listed()
            .into_iter()
            .filter(|n| self.links.operstate(n).as_deref() == Some(state))
            .collect()
    }

    fn reference(&self, name: &str) -> InterfaceRef {
        InterfaceRef {
            name: name.to_string(),
            mac: self.links.attr(name, "address").unwrap_or_default(),
        }
    }

    fn existing(&self, name: &str) -> Result<()> {
        match self.links.exists(name) {
            true => Ok(()),
            false => Err(no_interface(format!(
                "couldn't find interface named '{name}'"
            ))),
        }
    }
}

impl InterfaceDriver for HostInterfaces {
    fn num_of_interfaces(&self) -> Result<i32> {
        Ok(self.names_in_state("up").len() as i32)
    }
    fn list_interfaces(&self, max: usize) -> Result<Vec<String>> {
        Ok(self.names_in_state("up").into_iter().take(max).collect())
    }
    fn num_of_defined_interfaces(&self) -> Result<i32> {
        Ok(self.names_in_state("down").len() as i32)
    }
    fn list_defined_interfaces(&self, max: usize) -> Result<Vec<String>> {
        Ok(self.names_in_state("down").into_iter().take(max).collect())
    }
    fn list_all(&self, flags: u32) -> Result<Vec<InterfaceRef>> {
        let filters = list_flags::ACTIVE | list_flags::INACTIVE;
        check_flags("udevConnectListAllInterfaces", flags, filters)?;
        Ok(self
            .links
            .listed()
            .into_iter()
            .filter(|n| {
                let up = self.links.operstate(n).as_deref() == Some("up");
                flags & filters == 0
                    || (flags & list_flags::ACTIVE != 0 && up)
                    || (flags & list_flags::INACTIVE != 0 && !up)
            })
            .map(|n| self.reference(&n))
            .collect())
    }
    fn lookup_by_name(&self, name: &str) -> Result<InterfaceRef> {
        self.existing(name)?;
        Ok(self.reference(name))
    }
    fn lookup_by_mac(&self, mac: &str) -> Result<InterfaceRef> {
        let found: Vec<String> = self
            .links
            .listed()
            .into_iter()
            .filter(|n| self.links.attr(n, "address").as_deref() == Some(mac))
            .collect();
        match found.as_slice() {
            [] => Err(no_interface(format!(
                "couldn't find interface with MAC address '{mac}'"
            ))),
            [one] => Ok(self.reference(one)),
            _ => Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::MULTIPLE_INTERFACES,
                format!("the MAC address '{mac}' matches multiple interfaces"),
            )),
        }
    }
    fn get_xml_desc(&self, iface: &InterfaceRef, flags: u32) -> Result<String> {
        check_flags("udevInterfaceGetXMLDesc", flags, XML_INACTIVE)?;
        Ok(self.links.describe(&iface.name)?.format())
    }
    fn is_active(&self, iface: &InterfaceRef) -> Result<bool> {
        self.existing(&iface.name)?;
        Ok(self.links.operstate(&iface.name).as_deref() == Some("up"))
    }
}

#[cfg(test)]
mod tests;
