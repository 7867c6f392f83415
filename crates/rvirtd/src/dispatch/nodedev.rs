//! Node device and host interface procedures (`REMOTE_PROC_NODE_*`,
//! `NODE_DEVICE_*`, `CONNECT_LIST_ALL_NODE_DEVICES`, `INTERFACE_*`,
//! `CONNECT_*INTERFACES`): each calls the public API on the handle the wire
//! names, as libvirtd's generated dispatchers do.

use super::{dispatch_table, rpc_error, Client};
use rvirt::driver::InterfaceRef;
use rvirt::{Interface, NodeDevice};
use rvirt_rpc::remote::*;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

dispatch_table! {
    NodeNumOfDevices => |cx, a| {
        Ok(NodeNumOfDevicesRet { num: cx.conn()?.node_num_of_devices(a.cap.as_deref(), a.flags)? })
    };
    NodeListDevices => |cx, a| {
        bound(a.maxnames, NODE_DEVICE_LIST_MAX, "maxnames > REMOTE_NODE_DEVICE_LIST_MAX")?;
        let names = cx.conn()?.node_list_devices(a.cap.as_deref(), a.maxnames, a.flags)?;
        Ok(NodeListDevicesRet { names })
    };
    ConnectListAllNodeDevices => |cx, a| {
        let devs = cx.conn()?.list_all_node_devices(a.flags)?;
        let count = too_many(devs.len(), NODE_DEVICE_LIST_MAX, "node devices")?;
        let devices = if a.need_results != 0 { devs.iter().map(wire_dev).collect() } else { Vec::new() };
        Ok(ConnectListAllNodeDevicesRet { devices, ret: count })
    };
    NodeDeviceLookupByName => |cx, a| {
        Ok(NodeDeviceLookupByNameRet { dev: wire_dev(&cx.conn()?.node_device_lookup_by_name(&a.name)?) })
    };
    NodeDeviceLookupScsiHostByWwn => |cx, a| {
        let dev = cx.conn()?.node_device_lookup_scsi_host_by_wwn(&a.wwnn, &a.wwpn, a.flags)?;
        Ok(NodeDeviceLookupScsiHostByWwnRet { dev: wire_dev(&dev) })
    };
    NodeDeviceGetXmlDesc => |cx, a| {
        Ok(NodeDeviceGetXmlDescRet { xml: dev(cx, &a.name)?.get_xml_desc(a.flags)? })
    };
    // libvirtd answers a device without parent with no name, not an error.
    NodeDeviceGetParent => |cx, a| {
        let dev = cx.conn()?.node_device_lookup_by_name(&a.name)?;
        Ok(NodeDeviceGetParentRet { parent_name: dev.get_parent().ok().flatten() })
    };
    NodeDeviceNumOfCaps => |cx, a| {
        Ok(NodeDeviceNumOfCapsRet { num: dev(cx, &a.name)?.num_of_caps()? })
    };
    NodeDeviceListCaps => |cx, a| {
        bound(a.maxnames, NODE_DEVICE_CAPS_LIST_MAX, "maxnames > REMOTE_NODE_DEVICE_CAPS_LIST_MAX")?;
        Ok(NodeDeviceListCapsRet { names: dev(cx, &a.name)?.list_caps(a.maxnames)? })
    };
    NodeDeviceCreateXml => |cx, a| {
        Ok(NodeDeviceCreateXmlRet { dev: wire_dev(&cx.conn()?.node_device_create_xml(&a.xml_desc, a.flags)?) })
    };
    NodeDeviceDestroy => |cx, a| dev(cx, &a.name)?.destroy();
    NodeDeviceDefineXml => |cx, a| {
        Ok(NodeDeviceDefineXmlRet { dev: wire_dev(&cx.conn()?.node_device_define_xml(&a.xml_desc, a.flags)?) })
    };
    NodeDeviceUndefine => |cx, a| dev(cx, &a.name)?.undefine(a.flags);
    NodeDeviceCreate => |cx, a| dev(cx, &a.name)?.create(a.flags);
    NodeDeviceGetAutostart => |cx, a| {
        Ok(NodeDeviceGetAutostartRet { autostart: dev(cx, &a.name)?.get_autostart()? as i32 })
    };
    NodeDeviceSetAutostart => |cx, a| dev(cx, &a.name)?.set_autostart(a.autostart != 0);
    NodeDeviceIsPersistent => |cx, a| {
        Ok(NodeDeviceIsPersistentRet { persistent: dev(cx, &a.name)?.is_persistent()? as i32 })
    };
    NodeDeviceIsActive => |cx, a| {
        Ok(NodeDeviceIsActiveRet { active: dev(cx, &a.name)?.is_active()? as i32 })
    };
    NodeDeviceDettach => |cx, a| dev(cx, &a.name)?.dettach();
    NodeDeviceDetachFlags => |cx, a| dev(cx, &a.name)?.detach_flags(a.driver_name.as_deref(), a.flags);
    NodeDeviceReAttach => |cx, a| dev(cx, &a.name)?.reattach();
    NodeDeviceReset => |cx, a| dev(cx, &a.name)?.reset();

    ConnectNumOfInterfaces => |cx, ()| {
        Ok(ConnectNumOfInterfacesRet { num: cx.conn()?.num_of_interfaces()? })
    };
    ConnectListInterfaces => |cx, a| {
        bound(a.maxnames, INTERFACE_LIST_MAX, "maxnames > REMOTE_INTERFACE_LIST_MAX")?;
        Ok(ConnectListInterfacesRet { names: cx.conn()?.list_interfaces(a.maxnames)? })
    };
    ConnectNumOfDefinedInterfaces => |cx, ()| {
        Ok(ConnectNumOfDefinedInterfacesRet { num: cx.conn()?.num_of_defined_interfaces()? })
    };
    ConnectListDefinedInterfaces => |cx, a| {
        bound(a.maxnames, INTERFACE_LIST_MAX, "maxnames > REMOTE_INTERFACE_LIST_MAX")?;
        Ok(ConnectListDefinedInterfacesRet { names: cx.conn()?.list_defined_interfaces(a.maxnames)? })
    };
    ConnectListAllInterfaces => |cx, a| {
        let list = cx.conn()?.list_all_interfaces(a.flags)?;
        let count = too_many(list.len(), INTERFACE_LIST_MAX, "interfaces")?;
        let ifaces = if a.need_results != 0 { list.iter().map(wire_iface).collect() } else { Vec::new() };
        Ok(ConnectListAllInterfacesRet { ifaces, ret: count })
    };
    InterfaceLookupByName => |cx, a| {
        Ok(InterfaceLookupByNameRet { iface: wire_iface(&cx.conn()?.interface_lookup_by_name(&a.name)?) })
    };
    InterfaceLookupByMacString => |cx, a| {
        let iface = cx.conn()?.interface_lookup_by_mac_string(&a.mac)?;
        Ok(InterfaceLookupByMacStringRet { iface: wire_iface(&iface) })
    };
    InterfaceGetXmlDesc => |cx, a| {
        Ok(InterfaceGetXmlDescRet { xml: iface(cx, &a.iface)?.get_xml_desc(a.flags)? })
    };
    InterfaceDefineXml => |cx, a| {
        Ok(InterfaceDefineXmlRet { iface: wire_iface(&cx.conn()?.interface_define_xml(&a.xml, a.flags)?) })
    };
    InterfaceUndefine => |cx, a| iface(cx, &a.iface)?.undefine();
    InterfaceCreate => |cx, a| iface(cx, &a.iface)?.create(a.flags);
    InterfaceDestroy => |cx, a| iface(cx, &a.iface)?.destroy(a.flags);
    InterfaceIsActive => |cx, a| {
        Ok(InterfaceIsActiveRet { active: iface(cx, &a.iface)?.is_active()? as i32 })
    };
    InterfaceChangeBegin => |cx, a| cx.conn()?.interface_change_begin(a.flags);
    InterfaceChangeCommit => |cx, a| cx.conn()?.interface_change_commit(a.flags);
    InterfaceChangeRollback => |cx, a| cx.conn()?.interface_change_rollback(a.flags);
}

fn dev(cx: &Client, name: &str) -> Result<NodeDevice> {
    Ok(NodeDevice::from_name(&cx.conn()?, name))
}

fn wire_dev(d: &NodeDevice) -> NonnullNodeDevice {
    NonnullNodeDevice {
        name: d.name().to_string(),
    }
}

fn iface(cx: &Client, i: &NonnullInterface) -> Result<Interface> {
    let r = InterfaceRef {
        name: i.name.clone(),
        mac: i.mac.clone(),
    };
    Ok(Interface::from_ref(&cx.conn()?, r))
}

fn wire_iface(i: &Interface) -> NonnullInterface {
    NonnullInterface {
        name: i.name().to_string(),
        mac: i.mac_string().to_string(),
    }
}

/// The generated dispatchers' refusal of a list bound over the protocol's.
pub(super) fn bound(max: i32, limit: usize, msg: &str) -> Result<()> {
    if max > 0 && max as usize > limit {
        return Err(rpc_error(msg));
    }
    Ok(())
}

/// libvirtd's refusal of a `ListAll` answer over the protocol's limit.
pub(super) fn too_many(n: usize, limit: usize, what: &str) -> Result<u32> {
    if n > limit {
        return Err(Error::new(
            ErrorDomain::RPC,
            ErrorCode::RPC,
            format!("Too many {what} '{n}' for limit '{limit}'"),
        ));
    }
    Ok(n as u32)
}
