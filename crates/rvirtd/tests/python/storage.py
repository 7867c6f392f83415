#!/usr/bin/python3
"""python3-libvirt's storage API on a test:///default daemon: pool
lifecycle and refresh events, pool and volume calls, errors with their
codes and domains. Prints a transcript (uuids of new pools blanked) that
must be the same through rvirtd as through a stock libvirtd; ends with
DONE."""

import sys

import libvirt

from transcript import events, on_object_lifecycle, on_pool_refresh, show, start_event_loop, wait_events

URI = sys.argv[1]

libvirt.registerErrorHandler(lambda *a: None, None)
start_event_loop()
conn = libvirt.open(URI)
conn.storagePoolEventRegisterAny(None, libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, on_object_lifecycle, "all")
conn.storagePoolEventRegisterAny(None, libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH, on_pool_refresh, "all")

show("pools", lambda: sorted(p.name() for p in conn.listAllStoragePools(0)))
show("active", lambda: conn.listStoragePools())
show("defined", lambda: conn.listDefinedStoragePools())
dp = conn.storagePoolLookupByName("default-pool")
show("default info", dp.info)
show("default xml", lambda: dp.XMLDesc(0))
show("default autostart", dp.autostart)
show("default persistent", dp.isPersistent)
show("lookup missing", lambda: conn.storagePoolLookupByName("nosuch"))
show("lookup uuid", lambda: conn.storagePoolLookupByUUIDString("dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566").name())
show("bad xml", lambda: conn.storagePoolDefineXML("<pool type='dir'><name>x</name>", 0))
show("no target", lambda: conn.storagePoolDefineXML("<pool type='dir'><name>x</name></pool>", 0))
show("bad flags", lambda: conn.listAllStoragePools(1 << 30))

xml = "<pool type='dir'><name>p1</name><uuid>11111111-2222-3333-4444-555555555555</uuid>" \
      "<target><path>/p1</path></target></pool>"
p1 = conn.storagePoolDefineXML(xml, 0)
show("p1 build", lambda: p1.build(0))
show("p1 create", lambda: p1.create(0))
show("p1 create again", lambda: p1.create(0))
show("p1 refresh", lambda: p1.refresh(0))
show("p1 autostart", lambda: p1.setAutostart(1))
show("p1 list", lambda: [p.name() for p in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART)])
v = p1.createXML("<volume><name>v1</name><capacity unit='MiB'>5</capacity></volume>", 0)
show("v1 info", v.info)
show("v1 key", v.key)
show("v1 path", v.path)
show("v1 xml", lambda: v.XMLDesc(0))
show("v1 by key", lambda: conn.storageVolLookupByKey("/p1/v1").name())
show("v1 by path", lambda: conn.storageVolLookupByPath("/p1/v1").name())
show("v1 pool", lambda: v.storagePoolLookupByVolume().name())
show("clone", lambda: p1.createXMLFrom("<volume><name>v2</name><capacity>1</capacity></volume>", v, 0).name())
show("vols", lambda: sorted(x.name() for x in p1.listAllVolumes(0)))
show("num vols", p1.numOfVolumes)
show("pool info", p1.info)
show("dup vol", lambda: p1.createXML("<volume><name>v1</name><capacity>1</capacity></volume>", 0))
show("too big", lambda: p1.createXML("<volume><name>big</name><capacity unit='T'>1</capacity></volume>", 0))
show("wipe", lambda: v.wipe(0))
show("resize", lambda: v.resize(1, 0))
show("delete v1", lambda: v.delete(0))
show("after delete", lambda: sorted(x.name() for x in p1.listAllVolumes(0)))
show("p1 destroy", p1.destroy)
show("vols inactive", lambda: p1.listAllVolumes(0))
show("p1 delete", lambda: p1.delete(0))
show("p1 undefine", p1.undefine)
t = conn.storagePoolCreateXML(xml.replace("p1", "t1").replace("11111111", "21111111"), 0)
show("t1 persistent", t.isPersistent)
show("t1 autostart", lambda: t.setAutostart(1))
show("t1 destroy", t.destroy)
show("t1 gone", lambda: conn.storagePoolLookupByName("t1"))
show("sources logical", lambda: conn.findStoragePoolSources("logical", None, 0))
show("sources netfs", lambda: conn.findStoragePoolSources("netfs", "<source><host name='h'/></source>", 0))
show("sources dir", lambda: conn.findStoragePoolSources("dir", None, 0))
show("sources fs", lambda: conn.findStoragePoolSources("fs", None, 0))

wait_events(9)
for e in events:
    print("event", e)
print("DONE")
