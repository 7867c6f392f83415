#!/usr/bin/python3
"""python3-libvirt's node device API against a daemon's qemu:///system
(the host's devices): lists with capability and state filters, and for
every device its parent, capabilities and XML; the errors (code, domain,
message) of lookups, flags, create/define/destroy/undefine, autostart and
PCI detach/re-attach/reset on non-PCI devices and without VFIO, for
comparison between daemons. Ends with 'DONE'."""

import sys

import libvirt
from transcript import caller

URI = sys.argv[1]


def shape(value):
    """A device as its name; lists sorted, of names."""
    if isinstance(value, libvirt.virNodeDevice):
        value = value.name()
    if isinstance(value, list) and value and not isinstance(value[0], str):
        value = sorted(v.name() for v in value)
    elif isinstance(value, list):
        value = sorted(value)
    return value


call = caller(shape)
conn = libvirt.open(URI)

call("numOfDevices", conn.numOfDevices, None, 0)
call("numOfDevices net", conn.numOfDevices, "net", 0)
call("numOfDevices flags", conn.numOfDevices, None, 1)
call("listDevices pci", conn.listDevices, "pci", 0)
call("listAllDevices", conn.listAllDevices, 0)
call("listAllDevices inactive", conn.listAllDevices, libvirt.VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE)
call("listAllDevices active storage",
     conn.listAllDevices,
     libvirt.VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE | libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_STORAGE)
for name in sorted(conn.listDevices(None, 0)):
    dev = conn.nodeDeviceLookupByName(name)
    call(name + " parent", dev.parent)
    call(name + " numOfCaps", dev.numOfCaps)
    call(name + " listCaps", dev.listCaps)
    call(name + " XMLDesc", dev.XMLDesc, 0)
    call(name + " isActive", dev.isActive)
    call(name + " isPersistent", dev.isPersistent)
    call(name + " autostart", dev.autostart)
    if name.startswith(("net_", "block_", "computer")):
        call(name + " reAttach", dev.reAttach)
        call(name + " reset", dev.reset)
        call(name + " detachFlags", dev.detachFlags, None, 0)
call("lookup nope", conn.nodeDeviceLookupByName, "nope")
computer = conn.nodeDeviceLookupByName("computer")
call("XMLDesc flags", computer.XMLDesc, 1)
call("detachFlags kvm", computer.detachFlags, "kvm", 0)
call("detachFlags xen", computer.detachFlags, "xen", 0)
call("detachFlags flags", computer.detachFlags, None, 1)
call("destroy", computer.destroy)
call("undefine", computer.undefine, 0)
call("create", computer.create, 0)
call("setAutostart", computer.setAutostart, 1)
call("createXML bad", conn.nodeDeviceCreateXML, "<device>", 0)
call("createXML pci", conn.nodeDeviceCreateXML,
     "<device><capability type='system'><hardware><uuid>00000000-0000-0000-0000-000000000001</uuid></hardware></capability></device>", 0)
call("defineXML", conn.nodeDeviceDefineXML,
     "<device><capability type='system'><hardware><uuid>00000000-0000-0000-0000-000000000001</uuid></hardware></capability></device>", 0)
print("DONE")
