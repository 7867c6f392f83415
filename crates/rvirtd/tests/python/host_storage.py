#!/usr/bin/python3
"""python3-libvirt's storage API on a qemu:///system daemon's host storage
driver: a dir pool in a fresh scratch directory through its life, with
pool lifecycle and refresh events, volumes, errors with their codes and
domains. Prints a transcript (the scratch directory blanked) that must
be the same through rvirtd as through a stock libvirtd; ends with DONE."""

import shutil
import sys
import tempfile

import libvirt

import transcript
from transcript import events, on_object_lifecycle, on_pool_refresh, start_event_loop, wait_events

URI = sys.argv[1]
DIR = tempfile.mkdtemp(prefix="rvirt-pyhost-")


def show(label, call):
    """transcript.show, the scratch directory blanked."""
    transcript.show(label, call, mask=lambda text: text.replace(DIR, "<dir>"))


libvirt.registerErrorHandler(lambda *a: None, None)
start_event_loop()
conn = libvirt.open(URI)
conn.storagePoolEventRegisterAny(None, libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, on_object_lifecycle, "all")
conn.storagePoolEventRegisterAny(None, libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH, on_pool_refresh, "all")

xml = "<pool type='dir'><name>hp</name><uuid>31111111-2222-3333-4444-555555555555</uuid>" \
      "<target><path>%s/hp</path></target></pool>" % DIR
show("start missing dir", lambda: conn.storagePoolCreateXML(xml, 0))
p = conn.storagePoolDefineXML(xml, 0)
show("persistent", p.isPersistent)
show("active", p.isActive)
show("create before build", lambda: p.create(0))
show("build", lambda: p.build(0))
show("create", lambda: p.create(0))
show("create again", lambda: p.create(0))
show("by target", lambda: conn.storagePoolLookupByTargetPath(DIR + "/hp/").name())
show("autostart", lambda: p.setAutostart(1))
show("autostart get", p.autostart)
v = p.createXML("<volume><name>v1</name><capacity unit='MiB'>2</capacity>"
                "<target><format type='qcow2'/></target></volume>", 0)
show("v1 info", lambda: v.info()[:2])
show("v1 key", v.key)
show("v1 by path", lambda: conn.storageVolLookupByPath(DIR + "/hp//v1").name())
show("v1 by key", lambda: conn.storageVolLookupByKey(DIR + "/hp/v1").name())
show("v1 missing key", lambda: conn.storageVolLookupByKey(DIR + "/hp/nope"))
show("dup", lambda: p.createXML("<volume><name>v1</name><capacity>1</capacity></volume>", 0))
show("bad flags", lambda: p.createXML("<volume><name>v9</name><capacity>1</capacity></volume>", 1 << 9))
show("clone", lambda: p.createXMLFrom("<volume><name>v2</name><capacity>0</capacity></volume>", v, 0).name())
show("vols", lambda: sorted(x.name() for x in p.listAllVolumes(0)))
show("resize shrink", lambda: v.resize(1, 0))
show("resize", lambda: v.resize(4 << 20, 0))
show("v1 capacity", lambda: v.info()[1])
show("wipe alg", lambda: v.wipePattern(99, 0))
show("refresh", lambda: p.refresh(0))
show("delete active", lambda: p.delete(0))
show("undefine active", p.undefine)
show("v1 delete", lambda: v.delete(0))
show("v2 delete", lambda: p.storageVolLookupByName("v2").delete(0))
show("destroy", p.destroy)
show("vols inactive", lambda: p.listAllVolumes(0))
show("delete", lambda: p.delete(0))
show("autostart off", lambda: p.setAutostart(0))
show("undefine", p.undefine)
show("gone", lambda: conn.storagePoolLookupByName("hp"))
show("sources dir", lambda: conn.findStoragePoolSources("dir", None, 0))
show("sources bogus", lambda: conn.findStoragePoolSources("bogus", None, 0))

wait_events(8)
for e in events:
    print("event", e)
shutil.rmtree(DIR, ignore_errors=True)
print("DONE")
