#!/usr/bin/python3
"""python3-libvirt against a daemon: the calls Nova-like programs make, and
lifecycle events through the default event loop. Prints one line per check
and 'ALL OK' at the end; exits non-zero on the first failure."""

import sys
import time

import libvirt
from transcript import events, got, on_lifecycle, start_event_loop

URI = sys.argv[1]
FOO = """<domain type='test'>
  <name>pyfoo</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa1</uuid>
  <memory unit='MiB'>128</memory>
  <os><type>hvm</type></os>
</domain>"""


def check(name, cond):
    if not cond:
        print("FAIL", name)
        sys.exit(1)
    print("ok", name)


start_event_loop()

conn = libvirt.open(URI)
check("open", conn is not None)
check("getType", conn.getType() == "TEST")
check("getLibVersion", conn.getLibVersion() == 9000000)
check("getHostname", len(conn.getHostname()) > 0)
doms = conn.listAllDomains()
check("listAllDomains", [d.name() for d in doms] == ["test"])
dom = conn.lookupByName("test")
check("lookupByName", dom.name() == "test" and dom.ID() == 1)
check("lookupByID", conn.lookupByID(1).name() == "test")
check("lookupByUUIDString", conn.lookupByUUIDString(dom.UUIDString()).name() == "test")
info = dom.info()
check("info", info[0] == libvirt.VIR_DOMAIN_RUNNING and info[1] == 8388608 and info[3] == 2)
check("state", dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING)
check("XMLDesc", "<name>test</name>" in dom.XMLDesc(0))
check("isActive", dom.isActive() == 1 and dom.isPersistent() == 1)
try:
    conn.lookupByName("nosuch")
    check("lookup error", False)
except libvirt.libvirtError as e:
    check("lookup error", e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN)

cb = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_lifecycle, None)
check("domainEventRegisterAny", cb >= 0)

d = conn.defineXML(FOO)
check("defineXML", d.name() == "pyfoo" and d.isActive() == 0)
d.create()
check("create", d.isActive() == 1)
d.destroy()
check("destroy", d.isActive() == 0)
d.undefine()
check("undefine", "pyfoo" not in [x.name() for x in conn.listAllDomains()])

t = conn.createXML(FOO, 0)
check("createXML", t.isActive() == 1 and t.isPersistent() == 0)
t.destroy()
check("transient gone", "pyfoo" not in [x.name() for x in conn.listAllDomains()])

want = [
    ("pyfoo", libvirt.VIR_DOMAIN_EVENT_DEFINED),
    ("pyfoo", libvirt.VIR_DOMAIN_EVENT_STARTED),
    ("pyfoo", libvirt.VIR_DOMAIN_EVENT_STOPPED),
    ("pyfoo", libvirt.VIR_DOMAIN_EVENT_UNDEFINED),
    ("pyfoo", libvirt.VIR_DOMAIN_EVENT_STARTED),
    ("pyfoo", libvirt.VIR_DOMAIN_EVENT_STOPPED),
]
deadline = time.time() + 10
with got:
    while len(events) < len(want) and time.time() < deadline:
        got.wait(0.2)
print("events", events)
check("lifecycle events", [(n, e) for (n, e, _) in events] == want)
check("stopped detail", events[2][2] == libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)

conn.domainEventDeregisterAny(cb)
check("deregister", True)
conn.close()
print("ALL OK")
