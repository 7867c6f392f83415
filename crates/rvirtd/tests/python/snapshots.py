#!/usr/bin/python3
"""python3-libvirt's snapshot API against a daemon's test:///default: prints
a transcript of every result, error (code, domain, message) and lifecycle
event, creation times masked, for comparison between daemons. Ends with
'DONE'."""

import re
import sys

import libvirt
import transcript
from transcript import caller, objects, on_lifecycle, start_event_loop

URI = sys.argv[1]


def say(label, value):
    """`LABEL = VALUE`, creation times masked."""
    print(label, "=", re.sub(r"\d{10}", "<epoch>", repr(value)))


call = caller(objects(libvirt.virDomainSnapshot, lambda s: ("snapshot", s.getName()), lambda s: s.getName()), say)


def snap_xml(name, desc=None):
    d = "<description>%s</description>" % desc if desc else ""
    return "<domainsnapshot><name>%s</name>%s</domainsnapshot>" % (name, d)


def settle(n):
    """Wait for n events (or 5 s), say them in order and forget them."""
    transcript.settle(n, timeout=5, report=lambda seen: say("events", seen))


start_event_loop()
conn = libvirt.open(URI)
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_lifecycle, None)
dom = conn.lookupByName("test")

call("num empty", dom.snapshotNum)
call("has current empty", dom.hasCurrentSnapshot)
call("current empty", dom.snapshotCurrent)
s1 = call("create s1", dom.snapshotCreateXML, snap_xml("s1", "first &lt;one&gt;"), 0)
s1 = dom.snapshotLookupByName("s1")
call("xml s1", s1.getXMLDesc)
call("create s2", dom.snapshotCreateXML, snap_xml("s2"), 0)
dom.suspend()
call("create s3 paused", dom.snapshotCreateXML, snap_xml("s3"), 0)
dom.resume()
settle(2)
call("current", dom.snapshotCurrent)
call("list names", lambda: sorted(dom.snapshotListNames()))
call("list names max 1", lambda: len(dom.snapshotListNames(1)))
call("list all", dom.listAllSnapshots)
call("list roots", dom.listAllSnapshots, libvirt.VIR_DOMAIN_SNAPSHOT_LIST_ROOTS)
call("list leaves", dom.listAllSnapshots, libvirt.VIR_DOMAIN_SNAPSHOT_LIST_LEAVES)
call("list active", dom.listAllSnapshots, libvirt.VIR_DOMAIN_SNAPSHOT_LIST_ACTIVE)
call("list no metadata", dom.listAllSnapshots, libvirt.VIR_DOMAIN_SNAPSHOT_LIST_NO_METADATA)
call("list topological", lambda: [s.getName() for s in dom.listAllSnapshots(
    libvirt.VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL)])
call("num roots", dom.snapshotNum, libvirt.VIR_DOMAIN_SNAPSHOT_LIST_ROOTS)
call("num bad flag", dom.snapshotNum, 1 << 30)
s2 = dom.snapshotLookupByName("s2")
call("parent s2", s2.getParent)
call("parent s1", s1.getParent)
call("children s1", s1.numChildren)
call("descendants s1", s1.numChildren, libvirt.VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS)
call("children names s1", s1.listChildrenNames)
call("all children s1", s1.listAllChildren, libvirt.VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS)
call("is current s2", s2.isCurrent)
call("has metadata s2", s2.hasMetadata)
call("lookup nosuch", dom.snapshotLookupByName, "nosuch")
call("revert both", dom.revertToSnapshot, s1, libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING
     | libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED)
call("revert s3", dom.revertToSnapshot, dom.snapshotLookupByName("s3"))
call("state after s3", dom.state)
settle(3)
call("revert s1 paused", dom.revertToSnapshot, s1, libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED)
call("state after s1", dom.state)
settle(3)
dom.destroy()
call("create off", dom.snapshotCreateXML, snap_xml("off"), 0)
call("xml off has state", lambda: "<state>shutoff</state>" in dom.snapshotLookupByName("off").getXMLDesc())
call("revert s2", dom.revertToSnapshot, s2)
call("state after s2", dom.state)
settle(2)
call("create no metadata", dom.snapshotCreateXML, snap_xml("nm"), libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA)
call("create current", dom.snapshotCreateXML, snap_xml("c"), libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT)
call("create bad xml", dom.snapshotCreateXML, "<domainsnapshot>", 0)
call("create dup", dom.snapshotCreateXML, snap_xml("s1"), 0)
redef = s2.getXMLDesc().replace("<name>s2</name>", "<name>s9</name>")
call("redefine s9", dom.snapshotCreateXML, redef, libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE)
call("current after redefine", dom.snapshotCurrent)
call("redefine cycle", dom.snapshotCreateXML, s1.getXMLDesc().replace(
    "</creationTime>", "</creationTime><parent><name>s3</name></parent>"),
    libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE)
call("delete metadata only", s2.delete, libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
call("delete both", s2.delete, libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN
     | libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY)
call("delete s2", s2.delete)
call("parent s3 after", dom.snapshotLookupByName("s3").getParent)
call("delete s1 children only", s1.delete, libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY)
call("list after", dom.listAllSnapshots)
call("undefine with snapshots", dom.undefine)
call("delete s1 children", s1.delete, libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN)
call("list end", lambda: [s.getName() for s in dom.listAllSnapshots()])
call("has current end", dom.hasCurrentSnapshot)
call("list domains with snapshots", lambda: [d.name() for d in conn.listAllDomains(
    libvirt.VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT)])
call("destroy now transient", dom.destroy)
call("gone", lambda: [d.name() for d in conn.listAllDomains()])
settle(2)
print("DONE")
