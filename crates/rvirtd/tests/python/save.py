#!/usr/bin/python3
"""python3-libvirt's save, restore, save image, managed save and core
dump calls against a daemon's test:///default, with their refusals, the
states, events and lists they leave, and the files they write (the
image's header and length, the core's bytes). Paths under a fresh
directory are shown as TMP. Ends with 'DONE'."""

import os
import sys
import tempfile

import libvirt
from transcript import caller, events, on_lifecycle, settle, start_event_loop

URI = sys.argv[1]
TMP = tempfile.mkdtemp()


def masked(value):
    return eval(repr(value).replace(TMP, "TMP")) if TMP in repr(value) else value


call = caller(masked)
start_event_loop()
conn = libvirt.open(URI)
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_lifecycle, None)
test = conn.lookupByName("test")
TRANSIENT = """<domain type='test'><name>fleeting</name><memory>1048576</memory>
<os><type>hvm</type></os></domain>"""
fleeting = conn.createXML(TRANSIENT, 0)
settle(1)


def path(name):
    return os.path.join(TMP, name)


def header(name):
    with open(path(name), "rb") as f:
        data = f.read()
    return (data[:15], len(data) > 19 and int.from_bytes(data[15:19], sys.byteorder) == len(data) - 19)


def state(dom):
    return dom.state()


# Save and restore.
call("save", test.save, path("test.img"))
settle(1)
call("state after save", state, test)
call("header", header, "test.img")
call("image xml", conn.saveImageGetXMLDesc, path("test.img"), 0)
call("image xml secure", lambda: conn.saveImageGetXMLDesc(path("test.img"), 1) ==
     conn.saveImageGetXMLDesc(path("test.img"), 0))
call("image xml flags", conn.saveImageGetXMLDesc, path("test.img"), 2)
call("save inactive", test.save, path("again.img"))
call("save relative", lambda: os.chdir(TMP) or test.save("rel.img"))
call("restore", conn.restore, path("test.img"))
settle(1)
call("state after restore", state, test)
call("restore while running", conn.restore, path("test.img"))
call("restore missing", conn.restore, path("missing.img"))
call("restore directory", conn.restore, TMP)
with open(path("junk.img"), "wb") as f:
    f.write(b"NotAGuestMagic\0\x05\0\0\0hello")
call("restore junk", conn.restore, path("junk.img"))
with open(path("short.img"), "wb") as f:
    f.write(b"TestGuestMagic\0\xff\xff\0\0")
call("restore long", conn.restore, path("short.img"))
call("saveFlags xml", test.saveFlags, path("x.img"), "<domain/>", 0)
call("saveFlags running paused", test.saveFlags, path("x.img"), None,
     libvirt.VIR_DOMAIN_SAVE_RUNNING | libvirt.VIR_DOMAIN_SAVE_PAUSED)
call("saveFlags flags", test.saveFlags, path("x.img"), None, libvirt.VIR_DOMAIN_SAVE_RUNNING)
call("save to missing dir", test.save, path("no/such/dir.img"))
call("restoreFlags xml", conn.restoreFlags, path("test.img"), "<domain/>", 0)
call("restoreFlags flags", conn.restoreFlags, path("test.img"), None, libvirt.VIR_DOMAIN_SAVE_PAUSED)

# A transient domain saved goes away, and comes back restored.
call("save transient", fleeting.save, path("fleeting.img"))
settle(1)
call("transient gone", lambda: conn.lookupByName("fleeting").name())
call("restore transient", conn.restore, path("fleeting.img"))
settle(1)
call("transient back", lambda: (conn.lookupByName("fleeting").isPersistent(),
                                conn.lookupByName("fleeting").state()))

# Redefining the image's XML.
test.save(path("redefine.img"))
settle(1)
xml = conn.saveImageGetXMLDesc(path("redefine.img"), 0).replace("<memory unit='KiB'>8388608",
                                                                  "<memory unit='KiB'>4194304")
call("define image xml", conn.saveImageDefineXML, path("redefine.img"), xml, 0)
call("image memory", lambda: [l.strip() for l in conn.saveImageGetXMLDesc(
    path("redefine.img"), 0).splitlines() if "memory" in l])
call("define image bad xml", conn.saveImageDefineXML, path("redefine.img"), "<domain", 0)
call("define image flags", conn.saveImageDefineXML, path("redefine.img"), xml, 1)
call("define image missing", conn.saveImageDefineXML, path("nothing.img"), xml, 0)
call("restore redefined", conn.restore, path("redefine.img"))
settle(1)
call("memory after restore", test.maxMemory)

# Managed save.
call("has managed save", test.hasManagedSaveImage, 0)
call("managed save", test.managedSave, 0)
settle(1)
call("state after managed save", state, test)
call("has managed save after", test.hasManagedSaveImage, 0)
call("listed managed save", lambda: [d.name() for d in conn.listAllDomains(
    libvirt.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE)])
call("managed save inactive", test.managedSave, 0)
call("managed save transient", fleeting.managedSave, 0)
call("managed save flags", fleeting.managedSave, 8)
call("undefine with managed save", test.undefine)
call("managed save remove flags", test.managedSaveRemove, 1)
call("managed save remove", test.managedSaveRemove, 0)
call("has managed save removed", test.hasManagedSaveImage, 0)
test.managedSave(0) if test.isActive() else None
test.create()
settle(1)
call("managed save", test.managedSave, libvirt.VIR_DOMAIN_SAVE_BYPASS_CACHE)
settle(1)
call("start clears it", lambda: test.create() or test.hasManagedSaveImage(0))
settle(1)

# Core dumps.
call("core dump", test.coreDump, path("core"), 0)
call("core bytes", lambda: open(path("core"), "rb").read())
call("core dump state", state, test)
call("core dump format", test.coreDumpWithFormat, path("core2"), 1, 0)
call("core2 bytes", lambda: open(path("core2"), "rb").read())
call("core dump bad format", test.coreDumpWithFormat, path("core3"), 9, 0)
call("core dump crash live", test.coreDump, path("core"), libvirt.VIR_DUMP_CRASH | libvirt.VIR_DUMP_LIVE)
call("core dump live", test.coreDump, path("core"), libvirt.VIR_DUMP_LIVE)
call("core dump missing dir", test.coreDump, path("no/core"), 0)
call("core dump crash", test.coreDump, path("core"), libvirt.VIR_DUMP_CRASH)
settle(1)
call("state after crash dump", state, test)
call("core dump inactive", test.coreDump, path("core"), 0)
call("files", lambda: sorted(os.listdir(TMP)))
print("DONE")
