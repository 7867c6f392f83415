#!/usr/bin/python3
"""python3-libvirt's per-device calls against a daemon's test:///default:
IOThreads (info, add, delete, pin, polling parameters, their refusals and
the XML they leave), interface bandwidth parameters, block and interface
statistics (the clock-made values shown as whether they are positive),
on the running domain 'test' and a defined, inactive one. Ends with
'DONE'."""

import sys

import libvirt
from transcript import caller

URI = sys.argv[1]
call = caller(lambda v: v)
LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG

INACTIVE = """<domain type='test'><name>idle</name><memory>1048576</memory>
<vcpu cpuset='1-2'>4</vcpu><iothreads>2</iothreads><os><type>hvm</type></os>
<devices><disk type='file' device='disk'><driver name='qemu' iothread='2'/>
<source file='/tmp/a.img'/><target dev='vdb' bus='virtio'/></disk>
<interface type='network'><mac address='52:54:00:11:22:33'/><source network='default'/>
<bandwidth><inbound average='100' peak='200'/></bandwidth></interface></devices></domain>"""


def positive(values):
    return [v > 0 for v in values]


def iothreads_xml(dom, flags=0):
    """The IOThread elements of the domain's XML, as lines."""
    xml = dom.XMLDesc(flags)
    return [l.strip() for l in xml.splitlines() if "iothread" in l]


conn = libvirt.open(URI)
test = conn.lookupByName("test")
idle = conn.defineXML(INACTIVE)

for dom, tag in ((test, "test"), (idle, "idle")):
    for flags in (0, LIVE, CONFIG, LIVE | CONFIG, 1 << 4):
        call(f"{tag} iothreads {flags}", dom.ioThreadInfo, flags)
    call(f"{tag} add 0", dom.addIOThread, 0, 0)
    call(f"{tag} add 5", dom.addIOThread, 5, 0)
    call(f"{tag} add 5 again", dom.addIOThread, 5, 0)
    call(f"{tag} add 7 config", dom.addIOThread, 7, CONFIG)
    call(f"{tag} iothreads after add", dom.ioThreadInfo, 0)
    call(f"{tag} iothreads config", dom.ioThreadInfo, CONFIG)
    call(f"{tag} pin 5", dom.pinIOThread, 5, (False, True, True), 0)
    call(f"{tag} pin 5 empty", dom.pinIOThread, 5, (False,), 0)
    call(f"{tag} pin 9", dom.pinIOThread, 9, (True,), 0)
    call(f"{tag} iothreads after pin", dom.ioThreadInfo, 0)
    call(f"{tag} params", dom.setIOThreadParams, 5,
         {"poll_max_ns": 100, "poll_grow": 2, "poll_shrink": 3}, 0)
    call(f"{tag} params live", dom.setIOThreadParams, 5, {"poll_grow": 2}, LIVE)
    call(f"{tag} params config", dom.setIOThreadParams, 5, {"poll_grow": 2}, CONFIG)
    call(f"{tag} params 9", dom.setIOThreadParams, 9, {"poll_grow": 2}, 0)
    call(f"{tag} params 0", dom.setIOThreadParams, 0, {"poll_grow": 2}, 0)
    call(f"{tag} xml", iothreads_xml, dom)
    call(f"{tag} del 0", dom.delIOThread, 0, 0)
    call(f"{tag} del 2", dom.delIOThread, 2, 0)
    call(f"{tag} del 9", dom.delIOThread, 9, 0)
    call(f"{tag} del 5", dom.delIOThread, 5, 0)
    call(f"{tag} del 1", dom.delIOThread, 1, 0)
    call(f"{tag} iothreads after del", dom.ioThreadInfo, 0)
    call(f"{tag} xml after del", iothreads_xml, dom)
    call(f"{tag} xml inactive", iothreads_xml, dom, libvirt.VIR_DOMAIN_XML_INACTIVE)

# Interface parameters, by name and by MAC.
for flags in (0, LIVE, CONFIG, 1 << 4):
    call(f"iface params {flags}", test.interfaceParameters, "testnet0", flags)
call("iface params by mac", test.interfaceParameters, "aa:bb:cc:dd:ee:ff", 0)
call("iface params unknown", test.interfaceParameters, "eth9", 0)
call("iface params unknown mac", test.interfaceParameters, "00:11:22:33:44:55", 0)
call("set iface", test.setInterfaceParameters, "testnet0",
     {"inbound.average": 1000, "inbound.peak": 2000, "outbound.average": 500}, 0)
call("iface after set", test.interfaceParameters, "testnet0", 0)
call("set iface clear inbound", test.setInterfaceParameters, "testnet0",
     {"inbound.average": 0}, 0)
call("iface after clear", test.interfaceParameters, "testnet0", 0)
call("set iface config", test.setInterfaceParameters, "testnet0",
     {"outbound.burst": 7, "outbound.average": 9}, CONFIG)
call("iface config", test.interfaceParameters, "testnet0", CONFIG)
call("set iface unknown", test.setInterfaceParameters, "eth9", {"inbound.average": 1}, 0)
call("idle iface", idle.interfaceParameters, "52:54:00:11:22:33", 0)
call("idle set iface", idle.setInterfaceParameters, "52:54:00:11:22:33",
     {"inbound.floor": 5}, 0)
call("idle iface after", idle.interfaceParameters, "52:54:00:11:22:33", 0)

# Statistics.
call("blockStats vda", lambda: positive(test.blockStats("vda")))
call("blockStats source", lambda: positive(test.blockStats("/guest/diskimage1")))
call("blockStats vdz", test.blockStats, "vdz")
call("blockStats empty", test.blockStats, "")
call("blockStats idle", idle.blockStats, "vdb")
call("interfaceStats name", lambda: positive(test.interfaceStats("testnet0")))
call("interfaceStats mac", lambda: positive(test.interfaceStats("aa:bb:cc:dd:ee:ff")))
call("interfaceStats unknown", test.interfaceStats, "eth9")
call("interfaceStats idle", idle.interfaceStats, "52:54:00:11:22:33")
idle.undefine()
print("DONE")
