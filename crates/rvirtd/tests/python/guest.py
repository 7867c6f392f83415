#!/usr/bin/python3
"""python3-libvirt's guest calls against a daemon's test:///default: the
guest clock and the control state it drives, filesystem freeze, thaw,
trim and info, process signals, user passwords, perf events, title and
description metadata, lifecycle actions, messages, launch security, the
memory statistics period, block info and rename, with their refusals,
on the running domain 'test', a defined inactive one and a transient
one, and the XML the changes leave. Ends with 'DONE'."""

import sys

import libvirt
from transcript import caller

URI = sys.argv[1]
call = caller(lambda v: v)
LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
TITLE = libvirt.VIR_DOMAIN_METADATA_TITLE
DESCRIPTION = libvirt.VIR_DOMAIN_METADATA_DESCRIPTION
ELEMENT = libvirt.VIR_DOMAIN_METADATA_ELEMENT

INACTIVE = """<domain type='test'><name>idle</name><memory>1048576</memory>
<vcpu>2</vcpu><os><type>hvm</type></os>
<devices><disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>
<disk type='file' device='disk'><source file='/tmp/a.img'/><target dev='vdb' bus='virtio'/></disk>
<memballoon model='none'/></devices></domain>"""

TRANSIENT = """<domain type='test'><name>fleeting</name><memory>1048576</memory>
<os><type>hvm</type></os><devices><memballoon model='virtio'/></devices></domain>"""


def xml_lines(dom, words, flags=0):
    """The lines of the domain's XML holding one of the words."""
    xml = dom.XMLDesc(flags)
    return [l.strip() for l in xml.splitlines() if any(w in l for w in words)]


conn = libvirt.open(URI)
test = conn.lookupByName("test")
idle = conn.defineXML(INACTIVE)
fleeting = conn.createXML(TRANSIENT, 0)

# The guest clock, and the control state the test driver derives from it.
call("time", test.getTime)
call("time flags", test.getTime, 1)
call("control", test.controlInfo)
for seconds in (5, 12345, 30001, 30002, 59999, 60000, -3):
    call(f"setTime {seconds}", test.setTime, {"seconds": seconds, "nseconds": 7})
    call(f"time {seconds}", test.getTime)
    call(f"control {seconds}", test.controlInfo)
call("setTime sync", test.setTime, {"seconds": 1}, libvirt.VIR_DOMAIN_TIME_SYNC)
call("setTime flags", test.setTime, {"seconds": 1}, 4)
call("idle time", idle.getTime)
call("idle setTime", idle.setTime, {"seconds": 1})
test.suspend()
call("paused time", test.getTime)
test.resume()

# Filesystems.
call("fsinfo", test.fsInfo)
call("fsinfo flags", test.fsInfo, 1)
call("idle fsinfo", idle.fsInfo)
call("fleeting fsinfo", fleeting.fsInfo)
call("freeze /", test.fsFreeze, ["/"])
call("freeze / again", test.fsFreeze, ["/"])
call("freeze all", test.fsFreeze)
call("freeze all again", test.fsFreeze)
call("thaw /boot", test.fsThaw, ["/boot"])
call("thaw unknown", test.fsThaw, ["/", "/srv"])
call("thaw all", test.fsThaw)
call("thaw all again", test.fsThaw)
call("freeze unknown", test.fsFreeze, ["/boot", "/home"])
call("freeze after unknown", test.fsFreeze)
call("freeze flags", test.fsFreeze, None, 2)
call("idle freeze", idle.fsFreeze)
call("idle thaw", idle.fsThaw)
call("trim", test.fSTrim, None, 0, 0)
call("trim /boot", test.fSTrim, "/boot", 1024, 0)
call("trim /srv", test.fSTrim, "/srv", 0, 0)
call("trim flags", test.fSTrim, None, 0, 1)
call("idle trim", idle.fSTrim, None, 0, 0)

# Signals and passwords.
call("signal 1", test.sendProcessSignal, 1, 15, 0)
call("signal 2", test.sendProcessSignal, 2, 15, 0)
call("signal 0", test.sendProcessSignal, 0, 15, 0)
call("signal 99", test.sendProcessSignal, 1, 99, 0)
call("signal flags", test.sendProcessSignal, 1, 9, 1)
call("idle signal", idle.sendProcessSignal, 1, 9, 0)
call("password", test.setUserPassword, "root", "secret", 0)
call("password encrypted", test.setUserPassword, "root", "$6$x", 1)
call("password flags", test.setUserPassword, "root", "x", 2)
call("idle password", idle.setUserPassword, "root", "x", 0)

# Perf events.
call("perf", test.perfEvents)
call("set perf", test.setPerfEvents, {"cmt": True, "instructions": False}, 0)
call("perf after", test.perfEvents)
call("perf config", test.perfEvents, CONFIG)
call("set perf config", test.setPerfEvents, {"cpu_cycles": True}, CONFIG)
call("perf config after", test.perfEvents, CONFIG)
call("set perf both", test.setPerfEvents, {"cmt": True}, LIVE | CONFIG)
call("idle set perf live", idle.setPerfEvents, {"cmt": True}, LIVE)
call("idle set perf", idle.setPerfEvents, {"emulation_faults": True, "cmt": False}, 0)
call("perf xml", xml_lines, test, ["perf", "event"])
call("idle perf xml", xml_lines, idle, ["perf", "event"])
call("fleeting perf config", fleeting.perfEvents, CONFIG)

# Metadata: title and description.
call("set title", test.setMetadata, TITLE, "A title", None, None, 0)
call("title", test.metadata, TITLE, None, 0)
call("set title newline", test.setMetadata, TITLE, "a\nb", None, None, 0)
call("set title with key", test.setMetadata, TITLE, "t", "k", None, 0)
call("set title with uri", test.setMetadata, TITLE, "t", None, "http://x/", 0)
call("set description config", test.setMetadata, DESCRIPTION, "Described", None, None, CONFIG)
call("description live", test.metadata, DESCRIPTION, None, 0)
call("description config", test.metadata, DESCRIPTION, None, CONFIG)
call("set description both", test.setMetadata, DESCRIPTION, "Both", None, None, LIVE | CONFIG)
call("description both", test.metadata, DESCRIPTION, None, CONFIG)
call("clear title", test.setMetadata, TITLE, "", None, None, 0)
call("title cleared", test.metadata, TITLE, None, 0)
call("clear description", test.setMetadata, DESCRIPTION, None, None, None, 0)
call("description cleared", test.metadata, DESCRIPTION, None, 0)
call("set element no uri", test.setMetadata, ELEMENT, "<a/>", "k", None, 0)
call("set element no key", test.setMetadata, ELEMENT, "<a/>", None, "http://x/", 0)
call("set unknown kind", test.setMetadata, 7, "x", None, None, 0)
call("set flags", test.setMetadata, TITLE, "x", None, None, 4)
call("idle set title live", idle.setMetadata, TITLE, "x", None, None, LIVE)
call("idle set title", idle.setMetadata, TITLE, "Idle", None, None, 0)
call("fleeting set title config", fleeting.setMetadata, TITLE, "x", None, None, CONFIG)
call("metadata xml", xml_lines, test, ["title", "description"])
call("metadata xml config", xml_lines, test, ["title", "description"],
     libvirt.VIR_DOMAIN_XML_INACTIVE)
call("idle metadata xml", xml_lines, idle, ["title", "description"])

# Lifecycle actions.
POWEROFF, REBOOT, CRASH = 0, 1, 2
call("action reboot preserve", test.setLifecycleAction, REBOOT, 3, 0)
call("action crash coredump", test.setLifecycleAction, CRASH, 4, CONFIG)
call("action poweroff coredump", test.setLifecycleAction, POWEROFF, 5, 0)
call("action bad type", test.setLifecycleAction, 3, 0, 0)
call("action bad action", test.setLifecycleAction, POWEROFF, 6, 0)
call("action flags", test.setLifecycleAction, POWEROFF, 0, 4)
call("action both", test.setLifecycleAction, POWEROFF, 1, LIVE | CONFIG)
call("idle action", idle.setLifecycleAction, CRASH, 3, 0)
call("actions xml", xml_lines, test, ["<on_"])
call("actions xml config", xml_lines, test, ["<on_"], libvirt.VIR_DOMAIN_XML_INACTIVE)
call("idle actions xml", xml_lines, idle, ["<on_"])

# Messages, launch security, memory statistics period.
call("messages", test.messages, 0)
call("messages both", test.messages, 3)
call("messages flags", test.messages, 4)
call("launch security", test.launchSecurityInfo, 0)
call("launch security flags", test.launchSecurityInfo, 1)
call("stats period", test.setMemoryStatsPeriod, 10, 0)
call("stats period config", test.setMemoryStatsPeriod, 20, CONFIG)
call("stats period negative", test.setMemoryStatsPeriod, -1, 0)
call("stats period flags", test.setMemoryStatsPeriod, 1, 4)
call("idle stats period", idle.setMemoryStatsPeriod, 5, 0)
call("fleeting stats period", fleeting.setMemoryStatsPeriod, 5, 0)
call("period xml", xml_lines, test, ["<stats", "memballoon"])
call("period xml config", xml_lines, test, ["<stats", "memballoon"],
     libvirt.VIR_DOMAIN_XML_INACTIVE)
call("fleeting period xml", xml_lines, fleeting, ["<stats", "memballoon"])

# Memory peek.
call("peek", test.memoryPeek, 250, 10, libvirt.VIR_MEMORY_VIRTUAL)
call("peek physical", test.memoryPeek, 2, 3, libvirt.VIR_MEMORY_PHYSICAL)
call("peek no kind", test.memoryPeek, 0, 4, 0)
call("peek both", test.memoryPeek, 0, 4, 3)
call("peek flags", test.memoryPeek, 0, 4, 4)
call("peek empty", test.memoryPeek, 0, 0, 1)
call("idle peek", idle.memoryPeek, 0, 4, 1)

# Block info.
call("blockInfo vda", test.blockInfo, "vda")
call("blockInfo source", test.blockInfo, "/guest/diskimage1")
call("blockInfo vdz", test.blockInfo, "vdz")
call("blockInfo empty", test.blockInfo, "")
call("blockInfo flags", test.blockInfo, "vda", 1)
call("idle blockInfo", idle.blockInfo, "vdb")
call("idle blockInfo cdrom", idle.blockInfo, "hdc")

# Rename.
call("rename running", test.rename, "other", 0)
call("rename transient", fleeting.rename, "other", 0)
call("rename to itself", idle.rename, "idle", 0)
call("rename to taken", idle.rename, "test", 0)
call("rename slash", idle.rename, "a/b", 0)
call("rename empty", idle.rename, "", 0)
call("rename flags", idle.rename, "other", 1)
call("rename", idle.rename, "renamed", 0)
call("renamed name", idle.name)
call("lookup old", lambda: conn.lookupByName("idle").name())
call("lookup new", lambda: conn.lookupByName("renamed").name())
call("names", lambda: sorted(conn.listDefinedDomains()))
call("renamed xml", xml_lines, conn.lookupByName("renamed"), ["<name>"])

conn.lookupByName("renamed").undefine()
fleeting.destroy()
print("DONE")
