#!/usr/bin/python3
"""python3-libvirt's node device, interface and secret API against a
daemon's test:///default: a transcript of every result, error (code,
domain, message) and node device lifecycle event, for comparison between
daemons. Ends with 'DONE'."""

import sys

import libvirt
from transcript import caller, on_object_lifecycle, settle, start_event_loop

URI = sys.argv[1]
VHBA = """<device>
  <parent>scsi_host1</parent>
  <capability type='scsi_host'>
    <capability type='fc_host'>
      <wwnn>2001001b32a9da4e</wwnn>
      <wwpn>2101001b32a9da4e</wwpn>
    </capability>
  </capability>
</device>"""
BRIDGE = """<interface type='bridge' name='br0'>
  <bridge><interface type='ethernet' name='eth0'/></bridge>
</interface>"""


def shape(value):
    """A device or interface as (class, name); lists sorted, of names."""
    if isinstance(value, (libvirt.virNodeDevice, libvirt.virInterface)):
        value = (type(value).__name__, value.name())
    if isinstance(value, list) and value and not isinstance(value[0], str):
        value = sorted(v.name() for v in value)
    elif isinstance(value, list):
        value = sorted(value)
    return value


call = caller(shape)
start_event_loop()
conn = libvirt.open(URI)

call("numOfDevices", conn.numOfDevices, None, 0)
call("numOfDevices scsi_host", conn.numOfDevices, "scsi_host", 0)
call("numOfDevices fc_host", conn.numOfDevices, "fc_host", 0)
call("numOfDevices vports", conn.numOfDevices, "vports", 0)
call("listDevices", conn.listDevices, None, 0)
call("listDevices system", conn.listDevices, "system", 0)
call("listAllDevices", conn.listAllDevices, 0)
call("listAllDevices scsi_host", conn.listAllDevices, libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_SCSI_HOST)
call("listAllDevices vports", conn.listAllDevices, libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_VPORTS)
call("listAllDevices active", conn.listAllDevices, libvirt.VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE)
for name in ["computer", "scsi_host1", "scsi_host11", "nope"]:
    dev = call("lookup " + name, conn.nodeDeviceLookupByName, name)
    if isinstance(dev, tuple) and dev[0] == "error":
        continue
    dev = conn.nodeDeviceLookupByName(name)
    call(name + " parent", dev.parent)
    call(name + " numOfCaps", dev.numOfCaps)
    call(name + " listCaps", dev.listCaps)
    call(name + " XMLDesc", dev.XMLDesc, 0)
    call(name + " XMLDesc flags", dev.XMLDesc, 1)

all_cb = conn.nodeDeviceEventRegisterAny(None, libvirt.VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE,
                                         on_object_lifecycle, "all")
host12 = conn.nodeDeviceEventRegisterAny(conn.nodeDeviceLookupByName("scsi_host11"),
                                         libvirt.VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE,
                                         on_object_lifecycle, "scsi_host11 only")
call("createXML bad", conn.nodeDeviceCreateXML, "<device>", 0)
call("createXML flags", conn.nodeDeviceCreateXML, VHBA, 2)
dev = call("createXML", conn.nodeDeviceCreateXML, VHBA, 0)
settle(1)
created = conn.nodeDeviceLookupByName("scsi_host12")
call("scsi_host12 XMLDesc", created.XMLDesc, 0)
call("destroy", created.destroy)
settle(1)
call("destroy again", created.destroy)
call("destroy scsi_host11", conn.nodeDeviceLookupByName("scsi_host11").destroy)
settle(2)
call("deregister", conn.nodeDeviceEventDeregisterAny, all_cb)
call("deregister again", conn.nodeDeviceEventDeregisterAny, all_cb)
call("deregister filtered", conn.nodeDeviceEventDeregisterAny, host12)

call("numOfInterfaces", conn.numOfInterfaces)
call("numOfDefinedInterfaces", conn.numOfDefinedInterfaces)
call("listInterfaces", conn.listInterfaces)
call("listAllInterfaces", conn.listAllInterfaces, 0)
call("listAllInterfaces bad flags", conn.listAllInterfaces, 4)
call("lookup mac", conn.interfaceLookupByMACString, "AA:BB:CC:DD:EE:FF")
eth1 = conn.interfaceLookupByName("eth1")
call("eth1 MACString", eth1.MACString)
call("eth1 isActive", eth1.isActive)
call("eth1 XMLDesc", eth1.XMLDesc, 0)
call("define bad", conn.interfaceDefineXML, "<interface type='bridge' name='x'/>", 0)
br0 = call("define", conn.interfaceDefineXML, BRIDGE, 0)
br0 = conn.interfaceLookupByName("br0")
call("br0 MACString", br0.MACString)
call("br0 create", br0.create, 0)
call("br0 create again", br0.create, 0)
call("br0 destroy", br0.destroy, 0)
call("br0 undefine", br0.undefine)
call("br0 isActive", br0.isActive)
# The interface transaction calls, each with flags 0.
for label, step in (("changeBegin", conn.changeBegin), ("changeBegin again", conn.changeBegin),
                    ("changeRollback", conn.changeRollback), ("changeCommit", conn.changeCommit)):
    call(label, step, 0)
call("eth1 isActive after rollback", eth1.isActive)

call("numOfSecrets", conn.numOfSecrets)
call("listAllSecrets", conn.listAllSecrets, 0)
call("secretLookupByUUIDString", conn.secretLookupByUUIDString,
     "f52a81b2-424e-490c-823d-6bd4235bc573")
call("secretLookupByUsage", conn.secretLookupByUsage, libvirt.VIR_SECRET_USAGE_TYPE_CEPH, "x")
call("secretDefineXML", conn.secretDefineXML, "<secret/>", 0)
print("DONE")
