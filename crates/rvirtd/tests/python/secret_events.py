#!/usr/bin/python3
"""python3-libvirt's secret API against a daemon's secret:///system: a
transcript of results, errors (code, domain, message) and secret
lifecycle / value-changed events, ephemeral secrets only. Ends with
'DONE'."""

import sys

import libvirt
from transcript import caller, objects, record, settle, start_event_loop

URI = sys.argv[1]
UUID = "5ae81f5b-8403-7b23-c8d6-21ccc2f80d6f"
XML = """<secret ephemeral='yes' private='%s'>
  <uuid>%s</uuid>
  <usage type='iscsi'><target>iqn.2013-07.com.example:iscsi-pool</target></usage>
</secret>"""


def on_event(conn, secret, *rest):
    """A lifecycle or value-changed callback: (opaque, the secret's UUID,
    usage type and id, and the event's own arguments)."""
    opaque = rest[-1]
    record((opaque, secret.UUIDString(), secret.usageType(), secret.usageID()) + tuple(rest[:-1]))


def shown(secret):
    return ("secret", secret.UUIDString(), secret.usageType(), secret.usageID())


call = caller(objects(libvirt.virSecret, shown, lambda s: s.UUIDString()))
start_event_loop()
conn = libvirt.open(URI)
call("numOfSecrets", conn.numOfSecrets)
lc = conn.secretEventRegisterAny(None, libvirt.VIR_SECRET_EVENT_ID_LIFECYCLE, on_event, "lifecycle")
vc = conn.secretEventRegisterAny(None, libvirt.VIR_SECRET_EVENT_ID_VALUE_CHANGED, on_event, "value")
call("define bad", conn.secretDefineXML, "<secret><usage type='x'/></secret>", 0)
call("define", conn.secretDefineXML, XML % ("yes", UUID), 0)
settle(1)
s = conn.secretLookupByUUIDString(UUID)
call("lookupByUsage", conn.secretLookupByUsage, libvirt.VIR_SECRET_USAGE_TYPE_ISCSI,
     "iqn.2013-07.com.example:iscsi-pool")
call("lookupByUsage missing", conn.secretLookupByUsage, libvirt.VIR_SECRET_USAGE_TYPE_ISCSI, "x")
call("XMLDesc", s.XMLDesc, 0)
call("value before", s.value, 0)
call("setValue", s.setValue, b"top secret", 0)
settle(1)
call("value private", s.value, 0)
call("redefine public", conn.secretDefineXML, XML % ("no", UUID), 0)
call("listAllSecrets", conn.listAllSecrets, 0)
call("listAllSecrets private", conn.listAllSecrets, libvirt.VIR_CONNECT_LIST_SECRETS_PRIVATE)
call("listAllSecrets bad flags", conn.listAllSecrets, 16)
call("listSecrets", conn.listSecrets)
call("undefine", s.undefine)
settle(1)
call("undefine again", s.undefine)
call("deregister", conn.secretEventDeregisterAny, lc)
call("deregister", conn.secretEventDeregisterAny, vc)
call("define public", conn.secretDefineXML, XML % ("no", UUID), 0)
s = conn.secretLookupByUUIDString(UUID)
call("setValue", s.setValue, b"shared", 0)
call("value public", s.value, 0)
call("undefine", s.undefine)
ro = libvirt.openReadOnly(URI)
call("ro numOfSecrets", ro.numOfSecrets)
call("ro define", ro.secretDefineXML, XML % ("no", UUID), 0)
print("DONE")
