#!/usr/bin/python3
"""python3-libvirt's network API against a daemon's test:///default: a
transcript of results, errors (code, domain, message) and network
lifecycle events (all networks, and one network's), for comparison
between daemons. Ends with 'DONE'."""

import sys
import time

import libvirt
from lifecycle_events import events, got, start_event_loop

URI = sys.argv[1]
NET = """<network><name>evnet</name><uuid>0e0e0e0e-1111-2222-3333-444444444444</uuid>
<ip address='10.7.0.1' prefix='24'/></network>"""


def on_network(conn, net, event, detail, opaque):
    with got:
        events.append((opaque, net.name(), event, detail))
        got.notify_all()


def call(label, fn, *args):
    try:
        value = fn(*args)
    except libvirt.libvirtError as e:
        value = ("error", e.get_error_code(), e.get_error_domain(), e.get_error_message())
    if isinstance(value, libvirt.virNetwork):
        value = ("network", value.name(), value.UUIDString())
    if isinstance(value, list) and value and isinstance(value[0], libvirt.virNetwork):
        value = sorted(n.name() for n in value)
    print(label, "=", repr(value))
    return value


def settle(n):
    """Wait until n events arrived (or 5 s), print and clear them."""
    deadline = time.time() + 5
    with got:
        while len(events) < n and time.time() < deadline:
            got.wait(0.1)
        print("events =", sorted(events))
        events.clear()


start_event_loop()
conn = libvirt.open(URI)
all_id = conn.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, on_network, "all")
default = conn.networkLookupByName("default")
one_id = conn.networkEventRegisterAny(default, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, on_network, "default")
call("bad event id", conn.networkEventRegisterAny, None, 7, on_network, None)

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
call("active", net.isActive)
call("persistent", net.isPersistent)
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
