#!/usr/bin/python3
"""python3-libvirt's network API against a daemon's test:///default: a
transcript of results, errors (code, domain, message) and network
lifecycle events (all networks, and one network's), for comparison
between daemons. Ends with 'DONE'."""

import sys

import libvirt
from transcript import caller, objects, on_object_lifecycle, settle, start_event_loop

URI = sys.argv[1]
NET = """<network><name>evnet</name><uuid>0e0e0e0e-1111-2222-3333-444444444444</uuid>
<ip address='10.7.0.1' prefix='24'/></network>"""


call = caller(objects(libvirt.virNetwork, lambda n: ("network", n.name(), n.UUIDString()), lambda n: n.name()))


start_event_loop()
conn = libvirt.open(URI)
all_id = conn.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, on_object_lifecycle, "all")
default = conn.networkLookupByName("default")
one_id = conn.networkEventRegisterAny(default, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, on_object_lifecycle, "default")
call("bad event id", conn.networkEventRegisterAny, None, 7, on_object_lifecycle, None)

call("list all", conn.listAllNetworks, 0)
call("list active", conn.listNetworks)
call("list defined", conn.listDefinedNetworks)
call("num", conn.numOfNetworks)
call("num defined", conn.numOfDefinedNetworks)
call("lookup bad", conn.networkLookupByName, "nope")
call("lookup uuid", conn.networkLookupByUUIDString, "dd8fe884-6c02-601e-7551-cca97df1c5df")
call("bridge", default.bridgeName)
call("xml", default.XMLDesc, 0)
call("xml inactive", default.XMLDesc, 1)
call("leases", default.DHCPLeases)
call("nwfilters", conn.listAllNWFilters, 0)
call("nwfilter lookup", conn.nwfilterLookupByName, "x")

net = call("define", conn.networkDefineXML, NET)
net = conn.networkLookupByName("evnet")
for label, state in (("active", net.isActive), ("persistent", net.isPersistent)):
    call(label, state)
settle(1)
call("create", net.create)
call("create again", net.create)
settle(1)
call("update", net.update, libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
     libvirt.VIR_NETWORK_SECTION_DNS_TXT, -1, "<txt name='a' value='b'/>", 0)
call("xml updated", net.XMLDesc, 0)
call("destroy", net.destroy)
call("undefine", net.undefine)
settle(2)
call("destroy default", default.destroy)
call("start default", default.create)
settle(4)
call("transient", conn.networkCreateXML, NET)
call("transient persistent", conn.networkLookupByName("evnet").isPersistent)
call("destroy transient", conn.networkLookupByName("evnet").destroy)
call("gone", conn.networkLookupByName, "evnet")
settle(2)
conn.networkEventDeregisterAny(one_id)
call("deregister again", conn.networkEventDeregisterAny, one_id)
call("destroy default 2", default.destroy)
settle(1)
conn.networkEventDeregisterAny(all_id)
print("DONE")
