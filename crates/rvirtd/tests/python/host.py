#!/usr/bin/python3
"""python3-libvirt's host calls against a daemon's test:///default (free
memory, per-cell memory, CPU statistics, sysinfo), the legacy lifecycle
event registration, the create calls with files, and the security label
list, with their refusals. Ends with 'DONE'."""

import sys

import libvirt
from transcript import caller, events, record, settle, start_event_loop

URI = sys.argv[1]
call = caller(lambda v: v)
start_event_loop()
conn = libvirt.open(URI)


def legacy(conn, dom, event, detail, opaque):
    record(("legacy", dom.name(), event, detail))


call("free memory", conn.getFreeMemory)
call("cells 0..", conn.getCellsFreeMemory, 0, 8)
call("cells 1..1", conn.getCellsFreeMemory, 1, 1)
call("cells 2..", conn.getCellsFreeMemory, 2, 1)
call("cells negative start", conn.getCellsFreeMemory, -1, 1)
call("cells no max", conn.getCellsFreeMemory, 0, 0)
call("cpu stats all", conn.getCPUStats, -1, 0)
call("cpu stats 3", conn.getCPUStats, 3, 0)
call("cpu stats -2", conn.getCPUStats, -2, 0)
call("cpu stats flags", conn.getCPUStats, 0, 1)
call("free pages", conn.getFreePages, [4, 2048], 0, 2, 0)
call("free pages flags", conn.getFreePages, [4], 0, 1, 1)
call("sysinfo", conn.getSysinfo, 0)
call("sysinfo flags", conn.getSysinfo, 1)

# The legacy lifecycle registration.
call("register", conn.domainEventRegister, legacy, None)
call("register again", conn.domainEventRegister, legacy, None)
test = conn.lookupByName("test")
test.destroy()
settle(1)
call("deregister", conn.domainEventDeregister, legacy)
call("deregister again", conn.domainEventDeregister, legacy)
test.create()
settle(0, timeout=1)

# Creating with (no) files.
call("createWithFiles", test.createWithFiles, [], 0)
test.destroy()
call("createWithFiles", lambda: test.createWithFiles([], 0) or test.state())
call("createWithFiles flags", test.createWithFiles, [], 1)
XML = """<domain type='test'><name>withfiles</name><memory>1048576</memory>
<os><type>hvm</type></os></domain>"""
call("createXMLWithFiles", lambda: conn.createXMLWithFiles(XML, [], 0).name())
try:
    conn.createXMLWithFiles(XML, [], 0)
except libvirt.libvirtError as e:
    print("createXMLWithFiles again =", e.get_error_code(), e.get_error_message().split(" with uuid")[0])
call("createXMLWithFiles flags", conn.createXMLWithFiles, XML, [], 2)
conn.lookupByName("withfiles").destroy()

# The security label list.
try:
    print("security labels =", test.securityLabelList())
except libvirt.libvirtError as e:
    print("security labels error =", e.get_error_code())
print("DONE")
