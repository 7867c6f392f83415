//! The host's devices as `qemu:///system`'s node devices, read from sysfs
//! as libvirt 9.0's udev backend (src/node_device/node_device_udev.c)
//! reads them through libudev ([`udev`] says why rvirt reads the files
//! itself): "computer", PCI functions, USB devices and interfaces,
//! network links, SCSI hosts, targets and devices, disks and DRM nodes,
//! each named, described and parented as libvirt does.
//!
//! libvirt keeps a list it fills at start and updates from udev's
//! events; rvirt reads the tree again for each call, which answers the
//! same on a settled host, and watches uevents only to raise libvirt's
//! node device events ([`uevents`]). Devices are only read:
//! vHBA and mediated device creation stay refused, PCI detach is refused
//! with libvirt's words for a host without VFIO (or rvirt's own where
//! VFIO is there), re-attach of a device no stub driver holds is the
//! no-op it is in libvirt, and reset is refused.

mod devices;
mod netdev;
mod pci;
mod udev;
mod uevents;

use devices::Host;
use rvirt::driver::{
    shared, ConnectDriver, NodeDeviceDriver, NodeDeviceRef, OpenOutcome, StateConfig,
};
use rvirt::events_nodedev::{NodeDeviceEvent, ObjectEventRegistry};
use rvirt::nodedev::{list_flags, CAP_NAMES, ERROR_DOMAIN};
use rvirt_conf::nodedev::{Capability, NodeDeviceDef, ParseMode};
use rvirt_util::{Error, ErrorCode, Result, Uri};
use std::path::Path;
use std::sync::Arc;
pub use udev::Sysfs;

/// The daemon's node device driver: it only installs the shared backend.
#[derive(Default)]
pub struct NodeDeviceStateDriver;

/// Register the node device driver (a daemon calls this; the backend
/// starts with the daemon's state initialization).
pub fn register() {
    rvirt::registry::register(Arc::new(NodeDeviceStateDriver));
}

impl ConnectDriver for NodeDeviceStateDriver {
    fn name(&self) -> &'static str {
        "nodedev"
    }

    fn open(&self, _uri: &Uri, _flags: u32) -> Result<OpenOutcome> {
        Ok(OpenOutcome::Declined)
    }

    fn state_initialize(&self, config: &StateConfig) -> Result<()> {
        let sysfs = Sysfs::new("/");
        let uuid = config.host_uuid.unwrap_or_else(|| smbios_uuid(&sysfs));
        let devices = HostNodeDevices::new(sysfs, uuid);
        if let Err(e) = uevents::watch(devices.clone()) {
            tracing::warn!("no node device events: cannot listen to uevents: {e}");
        }
        shared::set_node_devices(Box::new(devices));
        Ok(())
    }
}

/// `virSetHostUUIDStr(NULL)`: the SMBIOS system UUID, or a random one
/// when it is missing or all one digit.
fn smbios_uuid(sysfs: &Sysfs) -> [u8; 16] {
    [
        "sys/devices/virtual/dmi/id/product_uuid",
        "sys/class/dmi/id/product_uuid",
    ]
    .iter()
    .find_map(|p| rvirt_util::uuid::parse(&sysfs.read(p)?))
    .map(|u| *u.as_bytes())
    .filter(|b| b.iter().any(|x| *x != b[0]))
    .unwrap_or_else(|| *rvirt_util::uuid::generate().as_bytes())
}

/// The udev backend over one sysfs tree.
#[derive(Clone)]
pub struct HostNodeDevices {
    sysfs: Sysfs,
    host_uuid: [u8; 16],
    privileged: bool,
    /// Every connection's event callbacks (the watcher raises them).
    events: Arc<ObjectEventRegistry<str, NodeDeviceEvent>>,
}

fn check_flags(api: &str, given: u32, allowed: u32) -> Result<()> {
    rvirt::connect::check_flags_in(ERROR_DOMAIN, api, given, allowed)
}

fn no_device(name: &str) -> Error {
    Error::new(
        ERROR_DOMAIN,
        ErrorCode::NO_NODE_DEVICE,
        format!("no node device with matching name '{name}'"),
    )
}

fn unsupported_type(code: ErrorCode) -> Error {
    Error::new(ERROR_DOMAIN, code, "Unsupported device type")
}

/// `VIR_NODE_DEVICE_CREATE_XML_VALIDATE` / `..._DEFINE_XML_VALIDATE`.
const XML_VALIDATE: u32 = 1;

impl HostNodeDevices {
    pub fn new(sysfs: Sysfs, host_uuid: [u8; 16]) -> HostNodeDevices {
        // SAFETY: geteuid has no preconditions.
        let privileged = unsafe { libc::geteuid() } == 0;
        HostNodeDevices {
            sysfs,
            host_uuid,
            privileged,
            events: Arc::new(ObjectEventRegistry::default()),
        }
    }

    /// Every device, "computer" first, each with its parent: what
    /// libvirt's list holds once its enumeration is done. Devices whose
    /// names collide replace the earlier one, as in libvirt's list.
    pub fn devices(&self) -> Vec<NodeDeviceDef> {
        let host = Host {
            sysfs: &self.sysfs,
            privileged: self.privileged,
        };
        let mut found: Vec<(std::path::PathBuf, NodeDeviceDef)> = Vec::new();
        for dev in self.sysfs.enumerate() {
            let Some(def) = devices::build(&dev, &host) else {
                continue;
            };
            found.retain(|(_, d)| d.name != def.name);
            found.push((dev.syspath, def));
        }
        let parents: Vec<(std::path::PathBuf, String)> = found
            .iter()
            .map(|(p, d)| (p.clone(), d.name.clone()))
            .collect();
        let mut out = vec![devices::computer(&self.sysfs, self.host_uuid)];
        out.extend(found.into_iter().map(|(path, mut def)| {
            def.parent = Some(self.parent_of(&path, &parents));
            def
        }));
        out
    }

    /// `udevSetParent`: the nearest ancestor that is a listed device,
    /// else "computer".
    fn parent_of(&self, path: &Path, listed: &[(std::path::PathBuf, String)]) -> String {
        path.ancestors()
            .skip(1)
            .take_while(|a| self.sysfs.in_devices(a))
            .find_map(|a| listed.iter().find(|(p, _)| p == a).map(|(_, n)| n.clone()))
            .unwrap_or_else(|| "computer".into())
    }

    fn find(&self, name: &str) -> Result<NodeDeviceDef> {
        self.devices()
            .into_iter()
            .find(|d| d.name == name)
            .ok_or_else(|| no_device(name))
    }
}

fn reference(def: &NodeDeviceDef) -> NodeDeviceRef {
    NodeDeviceRef {
        name: def.name.clone(),
        parent: def.parent.clone(),
    }
}

/// `virNodeDeviceObjHasCapStr` / the list filters: any of the device's
/// capabilities, nested ones included.
fn matches_flags(def: &NodeDeviceDef, flags: u32) -> bool {
    let caps = flags & list_flags::FILTERS_CAP;
    let by_cap = caps == 0
        || CAP_NAMES
            .iter()
            .enumerate()
            .any(|(i, name)| caps & (1 << i) != 0 && def.has_cap(name));
    // Every device of the host is active.
    let by_state =
        flags & (list_flags::ACTIVE | list_flags::INACTIVE) == 0 || flags & list_flags::ACTIVE != 0;
    by_cap && by_state
}

impl NodeDeviceDriver for HostNodeDevices {
    fn num_of_devices(&self, cap: Option<&str>, flags: u32) -> Result<i32> {
        check_flags("nodeNumOfDevices", flags, 0)?;
        Ok(self.list_devices(cap, usize::MAX, 0)?.len() as i32)
    }
    fn list_devices(&self, cap: Option<&str>, max: usize, flags: u32) -> Result<Vec<String>> {
        check_flags("nodeListDevices", flags, 0)?;
        Ok(self
            .devices()
            .into_iter()
            .filter(|d| cap.is_none_or(|c| d.has_cap(c)))
            .take(max)
            .map(|d| d.name)
            .collect())
    }
    fn list_all(&self, flags: u32) -> Result<Vec<NodeDeviceRef>> {
        let all = list_flags::FILTERS_CAP | list_flags::ACTIVE | list_flags::INACTIVE;
        check_flags("nodeConnectListAllNodeDevices", flags, all)?;
        Ok(self
            .devices()
            .iter()
            .filter(|d| matches_flags(d, flags))
            .map(reference)
            .collect())
    }
    fn lookup_by_name(&self, name: &str) -> Result<NodeDeviceRef> {
        Ok(reference(&self.find(name)?))
    }
    fn lookup_scsi_host_by_wwn(&self, wwnn: &str, wwpn: &str, flags: u32) -> Result<NodeDeviceRef> {
        check_flags("nodeDeviceLookupSCSIHostByWWN", flags, 0)?;
        self.devices()
            .iter()
            .find(|d| {
                d.caps.iter().any(|c| {
                    matches!(c, Capability::ScsiHost(h) if h.fc_host
                        && h.wwnn.as_deref() == Some(wwnn) && h.wwpn.as_deref() == Some(wwpn))
                })
            })
            .map(reference)
            .ok_or_else(|| {
                Error::new(
                    ERROR_DOMAIN,
                    ErrorCode::NO_NODE_DEVICE,
                    format!("no node device with matching wwnn '{wwnn}' and wwpn '{wwpn}'"),
                )
            })
    }
    fn get_xml_desc(&self, name: &str, flags: u32) -> Result<String> {
        check_flags("nodeDeviceGetXMLDesc", flags, 0)?;
        Ok(self.find(name)?.format())
    }
    fn get_parent(&self, name: &str) -> Result<Option<String>> {
        match self.find(name)?.parent {
            Some(p) => Ok(Some(p)),
            None => Err(Error::internal(ERROR_DOMAIN, "no parent for this device")),
        }
    }
    fn num_of_caps(&self, name: &str) -> Result<i32> {
        Ok(self.find(name)?.cap_names().len() as i32)
    }
    fn list_caps(&self, name: &str, max: usize) -> Result<Vec<String>> {
        Ok(self.find(name)?.cap_names().into_iter().take(max).collect())
    }
    fn create_xml(&self, xml: &str, flags: u32) -> Result<NodeDeviceRef> {
        check_flags("nodeDeviceCreateXML", flags, XML_VALIDATE)?;
        let def = NodeDeviceDef::parse_for(xml, ParseMode::Create, Some("QEMU"))?;
        if def.has_cap("scsi_host") {
            def.wwns()?;
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::OPERATION_UNSUPPORTED,
                "creating a vHBA (NPIV vport) is not supported by rvirt yet",
            ));
        }
        Err(unsupported_type(ErrorCode::CONFIG_UNSUPPORTED))
    }
    fn define_xml(&self, xml: &str, flags: u32) -> Result<NodeDeviceRef> {
        check_flags("nodeDeviceDefineXML", flags, XML_VALIDATE)?;
        NodeDeviceDef::parse_for(xml, ParseMode::Create, Some("QEMU"))?;
        Err(unsupported_type(ErrorCode::CONFIG_UNSUPPORTED))
    }
    fn destroy(&self, name: &str) -> Result<()> {
        let def = self.find(name)?;
        if def.has_cap("scsi_host") {
            def.wwns()?;
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::OPERATION_UNSUPPORTED,
                "deleting a vHBA (NPIV vport) is not supported by rvirt yet",
            ));
        }
        Err(unsupported_type(ErrorCode::CONFIG_UNSUPPORTED))
    }
    fn undefine(&self, name: &str, flags: u32) -> Result<()> {
        check_flags("nodeDeviceUndefine", flags, 0)?;
        let def = self.find(name)?;
        if def.name != "computer" {
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::OPERATION_INVALID,
                format!("Node device '{name}' is not defined"),
            ));
        }
        Err(unsupported_type(ErrorCode::CONFIG_UNSUPPORTED))
    }
    fn create(&self, name: &str, flags: u32) -> Result<()> {
        check_flags("nodeDeviceCreate", flags, 0)?;
        self.find(name)?;
        Err(Error::new(
            ERROR_DOMAIN,
            ErrorCode::OPERATION_INVALID,
            "Device is already active",
        ))
    }
    /// Only "computer" is persistent and autostarted (`udevSetupSystemDev`).
    fn get_autostart(&self, name: &str) -> Result<bool> {
        Ok(self.find(name)?.name == "computer")
    }
    fn set_autostart(&self, name: &str, _autostart: bool) -> Result<()> {
        self.find(name)?;
        Err(unsupported_type(ErrorCode::OPERATION_UNSUPPORTED))
    }
    fn is_persistent(&self, name: &str) -> Result<bool> {
        Ok(self.find(name)?.name == "computer")
    }
    fn is_active(&self, name: &str) -> Result<bool> {
        self.find(name).map(|_| true)
    }
    fn detach(&self, name: &str, driver: Option<&str>, flags: u32) -> Result<()> {
        // The QEMU driver answers this one in libvirt: its error domain.
        rvirt::connect::check_flags_in(
            rvirt_util::ErrorDomain::QEMU,
            "qemuNodeDeviceDetachFlags",
            flags,
            0,
        )?;
        hostdev::detach(&self.sysfs, name, driver, || self.find(name))
    }
    /// libvirt's QEMU driver answers the legacy call as the flags one with
    /// no driver and no flags (qemuNodeDeviceDettach).
    fn dettach(&self, name: &str) -> Result<()> {
        self.detach(name, None, 0)
    }
    fn reattach(&self, name: &str) -> Result<()> {
        hostdev::reattach(&self.sysfs, &self.find(name)?)
    }
    fn local_events(&self) -> Option<&ObjectEventRegistry<str, NodeDeviceEvent>> {
        Some(&self.events)
    }

    fn reset(&self, name: &str) -> Result<()> {
        hostdev::reset(&self.find(name)?)
    }
}

mod hostdev;

#[cfg(test)]
mod tests;
