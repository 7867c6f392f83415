#!/usr/bin/python3
"""python3-libvirt's checkpoint API against a daemon's test:///default:
creation (a bare one, named by the clock, shown only as such), the tree
and its listings, parents, XML without the domain, deletions with their
flags, redefinition, and the refusals (a checkpoint while a snapshot
exists and the reverse, unknown names, flags, read-only, an inactive
domain). Ends with 'DONE'."""

import re
import sys

import libvirt
from transcript import caller

URI = sys.argv[1]


def shape(value):
    if isinstance(value, libvirt.virDomainCheckpoint):
        return ("checkpoint", value.getName())
    if isinstance(value, libvirt.virDomainSnapshot):
        return ("snapshot", value.getName())
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, str):
        # A new checkpoint's creation time is the clock's second.
        return re.sub(r"<creationTime>\d{6,}</creationTime>", "<creationTime>NOW</creationTime>", value)
    return value


def unordered(value):
    """A listing walked in the daemon's hash order (libvirtd seeds its
    hash at random): sorted."""
    value = shape(value)
    return sorted(value) if isinstance(value, list) else value


call = caller(shape)
call_unordered = caller(unordered)
conn = libvirt.open(URI)
dom = conn.lookupByName("test")
NO_DOMAIN = libvirt.VIR_DOMAIN_CHECKPOINT_XML_NO_DOMAIN


def named(name):
    return "<domaincheckpoint><name>%s</name><description>d %s</description></domaincheckpoint>" % (
        name,
        name,
    )


call("snapshot", dom.snapshotCreateXML, "<domainsnapshot><name>s</name></domainsnapshot>")
call("create with snapshot", dom.checkpointCreateXML, named("x"))
call("snapshot delete", dom.snapshotLookupByName("s").delete)
bare = dom.checkpointCreateXML("<domaincheckpoint/>")
print("bare name is a time:", bare.getName().isdigit())
call("bare delete", bare.delete)
for n in ["a", "b", "c"]:
    call("create " + n, dom.checkpointCreateXML, named(n))
call("create a again", dom.checkpointCreateXML, named("a"))
a = dom.checkpointLookupByName("a")
b = dom.checkpointLookupByName("b")
call("xml b", b.getXMLDesc, NO_DOMAIN)
call("xml b size", b.getXMLDesc, NO_DOMAIN | libvirt.VIR_DOMAIN_CHECKPOINT_XML_SIZE)
call("xml flags 8", b.getXMLDesc, 8)
call("parent b", b.getParent)
call("parent a", a.getParent)
call_unordered("list", dom.listAllCheckpoints)
for label, f in [
    ("roots", libvirt.VIR_DOMAIN_CHECKPOINT_LIST_ROOTS),
    ("leaves", libvirt.VIR_DOMAIN_CHECKPOINT_LIST_LEAVES),
    ("no leaves", libvirt.VIR_DOMAIN_CHECKPOINT_LIST_NO_LEAVES),
    ("topological", libvirt.VIR_DOMAIN_CHECKPOINT_LIST_TOPOLOGICAL),
    ("leaves and no leaves", 12),
    ("flags 16", 16),
]:
    walk = call if f & libvirt.VIR_DOMAIN_CHECKPOINT_LIST_TOPOLOGICAL else call_unordered
    walk("list " + label, dom.listAllCheckpoints, f)
call("children a", a.listAllChildren)
call("descendants a", a.listAllChildren, libvirt.VIR_DOMAIN_CHECKPOINT_LIST_DESCENDANTS)
call("lookup zz", dom.checkpointLookupByName, "zz")
call("lookup flags", dom.checkpointLookupByName, "a", 1)
call("snapshot with checkpoints", dom.snapshotCreateXML, "<domainsnapshot/>")
call("delete b", b.delete)
call("parent c", dom.checkpointLookupByName("c").getParent)
call("delete exclusive", a.delete, 5)
call("delete a children only", a.delete, libvirt.VIR_DOMAIN_CHECKPOINT_DELETE_CHILDREN_ONLY)
call_unordered("list after", dom.listAllCheckpoints)
call("create d", dom.checkpointCreateXML, named("d"))
call("parent d", dom.checkpointLookupByName("d").getParent)
call("delete a children", a.delete, libvirt.VIR_DOMAIN_CHECKPOINT_DELETE_CHILDREN)
call_unordered("list empty", dom.listAllCheckpoints)
redef = (
    "<domaincheckpoint><name>r</name><creationTime>5</creationTime>"
    "<disks><disk name='vda' checkpoint='bitmap'/></disks></domaincheckpoint>"
)
call("redefine r", dom.checkpointCreateXML, redef, libvirt.VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE)
call("xml r", dom.checkpointLookupByName("r").getXMLDesc, 0)
call(
    "redefine orphan",
    dom.checkpointCreateXML,
    "<domaincheckpoint><name>o</name><parent><name>zz</name></parent><creationTime>5</creationTime></domaincheckpoint>",
    libvirt.VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE,
)
call("redefine unnamed", dom.checkpointCreateXML, "<domaincheckpoint/>", libvirt.VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE)
call("redefine quiesce", dom.checkpointCreateXML, redef, 3)
call("validate alone", dom.checkpointCreateXML, redef, 4)
call("bad disk", dom.checkpointCreateXML, "<domaincheckpoint><disks><disk name='vdz'/></disks></domaincheckpoint>")
call("delete r", dom.checkpointLookupByName("r").delete)
ro = libvirt.openReadOnly(URI)
rodom = ro.lookupByName("test")
call("read-only create", rodom.checkpointCreateXML, named("z"))
dom.destroy()
call("inactive create", dom.checkpointCreateXML, named("z"))
dom.create()
print("DONE")
