#!/usr/bin/python3
"""python3-libvirt's node device events from a daemon's qemu:///system
while this script, in the daemon's network namespace, adds a veth link,
re-announces it (a `change` uevent), renames it and deletes it: after
each step, the events about that link in the order they came. Ends with
'DONE'."""

import subprocess
import sys
import time

import libvirt
from transcript import events, got, record, start_event_loop

URI = sys.argv[1]
MAC = "02:00:00:0a:0b:0c"


def on_lifecycle(conn, dev, event, detail, opaque):
    record(("lifecycle", dev.name(), event, detail))


def on_update(conn, dev, opaque):
    record(("update", dev.name()))


def ours():
    return [e for e in events if "rvtev" in e[1]]


def step(label, want, *cmd):
    """Run cmd, wait for `want` events about the link, print and forget them."""
    subprocess.run(cmd, check=True)
    deadline = time.time() + 10
    with got:
        while len(ours()) < want and time.time() < deadline:
            got.wait(0.1)
    time.sleep(0.5)  # nothing more should come
    with got:
        print(label, "=", ours())
        events.clear()


start_event_loop()
conn = libvirt.open(URI)
conn.nodeDeviceEventRegisterAny(None, libvirt.VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE, on_lifecycle, None)
conn.nodeDeviceEventRegisterAny(None, libvirt.VIR_NODE_DEVICE_EVENT_ID_UPDATE, on_update, None)
step("add", 1, "ip", "link", "add", "rvtev0", "address", MAC, "type", "veth", "peer", "name", "rvpeer0")
name = "net_rvtev0_" + MAC.replace(":", "_")
xml = conn.nodeDeviceLookupByName(name).XMLDesc(0)
print("listed =", "<path>/sys/devices/virtual/net/rvtev0</path>" in xml)
step("change", 1, "sh", "-c", "echo change > /sys/class/net/rvtev0/uevent")
step("rename", 2, "ip", "link", "set", "rvtev0", "name", "rvtev1")
step("delete", 1, "ip", "link", "del", "rvtev1")
print("DONE")
