//! The test driver's node device driver (libvirt's testNodeDevice*,
//! src/test/test_driver.c): lookups, XML, parents and capabilities of its
//! devices, and vHBA creation mocked as libvirt does (a copy of
//! scsi_host11 named scsi_host12 with the requested WWNs), with node
//! device lifecycle events.

use crate::check_flags;
use crate::connection::TestConnection;
use crate::host_objects::HostObjects;
use rvirt::driver::{NodeDeviceDriver, NodeDeviceRef};
use rvirt::events_nodedev::{nodedev_event, NodeDeviceEvent};
use rvirt::nodedev::{list_flags, CAP_NAMES};
use rvirt_conf::nodedev::{Capability, NodeDeviceDef, ParseMode};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

fn no_device(name: &str) -> Error {
    Error::new(
        ErrorDomain::TEST,
        ErrorCode::NO_NODE_DEVICE,
        format!("no node device with matching name '{name}'"),
    )
}

fn internal(msg: impl AsRef<str>) -> Error {
    Error::internal(ErrorDomain::TEST, msg)
}

/// An error of libvirt's node device object list (virnodedeviceobj.c,
/// `VIR_FROM_NODEDEV`).
fn obj_list_error(msg: impl AsRef<str>) -> Error {
    Error::internal(rvirt::nodedev::ERROR_DOMAIN, msg)
}

fn find<'a>(devices: &'a [NodeDeviceDef], name: &str) -> Result<&'a NodeDeviceDef> {
    devices
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| no_device(name))
}

fn reference(def: &NodeDeviceDef) -> NodeDeviceRef {
    NodeDeviceRef {
        name: def.name.clone(),
        parent: def.parent.clone(),
    }
}

/// `virNodeDeviceMatch` for the capability filters: a device with any
/// of the requested capabilities.
fn matches_caps(def: &NodeDeviceDef, flags: u32) -> bool {
    if flags & list_flags::FILTERS_CAP == 0 {
        return true;
    }
    CAP_NAMES
        .iter()
        .enumerate()
        .any(|(i, name)| flags & (1 << i) != 0 && def.has_cap(name))
}

/// The scsi_host number of a vport-capable parent
/// (`virNodeDeviceFindFCParentHost`).
fn vport_host(def: &NodeDeviceDef) -> Result<u32> {
    def.caps
        .iter()
        .find_map(|c| match c {
            Capability::ScsiHost(h) if h.vport_ops => Some(h.host),
            _ => None,
        })
        .ok_or_else(|| {
            obj_list_error(format!(
                "Parent device {} is not capable of vport operations",
                def.name
            ))
        })
}

/// `virNodeDeviceObjListGetParentHost`: the parent a vHBA would be
/// created on, by name, WWNs, fabric WWN, or any vport-capable host.
fn parent_host(devices: &[NodeDeviceDef], def: &NodeDeviceDef) -> Result<u32> {
    let not_found = || obj_list_error(format!("Could not find parent device for '{}'", def.name));
    let fc = |d: &&NodeDeviceDef, f: &dyn Fn(&rvirt_conf::nodedev::ScsiHostCap) -> bool| {
        d.caps
            .iter()
            .any(|c| matches!(c, Capability::ScsiHost(h) if h.fc_host && f(h)))
    };
    let parent = if let Some(p) = &def.parent {
        devices
            .iter()
            .find(|d| &d.name == p)
            .ok_or_else(not_found)?
    } else if let (Some(n), Some(p)) = (&def.parent_wwnn, &def.parent_wwpn) {
        let same = |h: &rvirt_conf::nodedev::ScsiHostCap| {
            h.wwnn.as_ref() == Some(n) && h.wwpn.as_ref() == Some(p)
        };
        devices
            .iter()
            .find(|d| fc(d, &same))
            .ok_or_else(not_found)?
    } else if let Some(f) = &def.parent_fabric_wwn {
        let same = |h: &rvirt_conf::nodedev::ScsiHostCap| h.fabric_wwn.as_ref() == Some(f);
        devices
            .iter()
            .find(|d| fc(d, &same))
            .ok_or_else(not_found)?
    } else {
        devices
            .iter()
            .find(|d| d.has_cap("vports"))
            .ok_or_else(|| obj_list_error("Could not find any vport capable device"))?
    };
    vport_host(parent)
}

/// `testNodeDeviceMockCreateVport`: scsi_host11's definition, renamed
/// scsi_host12, its fc_host WWNs replaced (libvirt's loop changes nothing
/// else: the host number stays).
fn mock_vport(devices: &mut Vec<NodeDeviceDef>, wwnn: &str, wwpn: &str) -> Result<NodeDeviceDef> {
    // libvirt fails without setting an error when scsi_host11 is gone.
    let template = find(devices, "scsi_host11")
        .map_err(|_| {
            Error::raw(
                ErrorDomain::NONE,
                ErrorCode::INTERNAL_ERROR,
                "An error occurred, but the cause is unknown",
            )
        })?
        .clone();
    let mut def = NodeDeviceDef::parse(&template.format(), ParseMode::Existing)?;
    def.name = "scsi_host12".into();
    for cap in &mut def.caps {
        if let Capability::ScsiHost(h) = cap {
            if h.fc_host {
                h.wwnn = Some(wwnn.to_string());
                h.wwpn = Some(wwpn.to_string());
            }
        }
    }
    match devices.iter_mut().find(|d| d.name == def.name) {
        Some(existing) => *existing = def.clone(),
        None => devices.push(def.clone()),
    }
    Ok(def)
}

impl TestConnection {
    fn objects(&self) -> &HostObjects {
        &self.state().host_objects
    }

    fn with_device<R>(&self, name: &str, f: impl FnOnce(&NodeDeviceDef) -> R) -> Result<R> {
        let devices = self.objects().devices.lock();
        Ok(f(find(&devices, name)?))
    }
}

impl NodeDeviceDriver for TestConnection {
    fn num_of_devices(&self, cap: Option<&str>, flags: u32) -> Result<i32> {
        check_flags("testNodeNumOfDevices", flags, 0)?;
        let devices = self.objects().devices.lock();
        Ok(devices
            .iter()
            .filter(|d| cap.is_none_or(|c| d.has_cap(c)))
            .count() as i32)
    }
    fn list_devices(&self, cap: Option<&str>, max: usize, flags: u32) -> Result<Vec<String>> {
        check_flags("testNodeListDevices", flags, 0)?;
        let devices = self.objects().devices.lock();
        Ok(devices
            .iter()
            .filter(|d| cap.is_none_or(|c| d.has_cap(c)))
            .take(max)
            .map(|d| d.name.clone())
            .collect())
    }
    fn list_all(&self, flags: u32) -> Result<Vec<NodeDeviceRef>> {
        check_flags(
            "testConnectListAllNodeDevices",
            flags,
            list_flags::FILTERS_CAP,
        )?;
        let devices = self.objects().devices.lock();
        Ok(devices
            .iter()
            .filter(|d| matches_caps(d, flags))
            .map(reference)
            .collect())
    }
    fn lookup_by_name(&self, name: &str) -> Result<NodeDeviceRef> {
        self.with_device(name, reference)
    }
    fn get_xml_desc(&self, name: &str, flags: u32) -> Result<String> {
        check_flags("testNodeDeviceGetXMLDesc", flags, 0)?;
        self.with_device(name, NodeDeviceDef::format)
    }
    fn get_parent(&self, name: &str) -> Result<Option<String>> {
        self.with_device(name, |d| d.parent.clone())?
            .map(Some)
            .ok_or_else(|| internal("no parent for this device"))
    }
    fn num_of_caps(&self, name: &str) -> Result<i32> {
        self.with_device(name, |d| d.caps.len() as i32)
    }
    fn list_caps(&self, name: &str, max: usize) -> Result<Vec<String>> {
        self.with_device(name, |d| {
            d.caps
                .iter()
                .take(max)
                .map(|c| c.type_name().to_string())
                .collect()
        })
    }
    fn create_xml(&self, xml: &str, flags: u32) -> Result<NodeDeviceRef> {
        check_flags("testNodeDeviceCreateXML", flags, 1)?;
        let def = NodeDeviceDef::parse(xml, ParseMode::Create)?;
        let (wwnn, wwpn) = def.wwns()?;
        let created = {
            let mut devices = self.objects().devices.lock();
            parent_host(&devices, &def)?;
            mock_vport(&mut devices, &wwnn, &wwpn)?
        };
        self.objects().emit(
            &created.name,
            NodeDeviceEvent::Lifecycle {
                event: nodedev_event::CREATED,
                detail: 0,
            },
        );
        Ok(NodeDeviceRef {
            name: created.name,
            parent: def.parent,
        })
    }
    /// libvirt's testNodeDeviceDestroy returns success (its `ret` starts
    /// at 0) when the device is no vHBA or its parent is missing: the
    /// device stays and no event is raised.
    fn destroy(&self, name: &str) -> Result<()> {
        {
            let mut devices = self.objects().devices.lock();
            let def = find(&devices, name)?;
            if def.wwns().is_err() {
                return Ok(());
            }
            let parent = def.parent.clone().unwrap_or_default();
            if !devices.iter().any(|d| d.name == parent) {
                return Ok(());
            }
            devices.retain(|d| d.name != name);
        }
        self.objects().emit(
            name,
            NodeDeviceEvent::Lifecycle {
                event: nodedev_event::DELETED,
                detail: 0,
            },
        );
        Ok(())
    }
    fn local_events(&self) -> Option<&crate::host_objects::NodeDeviceRegistry> {
        Some(&self.nodedev_events)
    }
}
