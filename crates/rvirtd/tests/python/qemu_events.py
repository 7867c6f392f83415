#!/usr/bin/python3
"""python3-libvirt receives a real QEMU guest's lifecycle events from
rvirtd: define, start, suspend, resume, destroy, a QEMU killed behind the
daemon's back (stopped/failed), undefine. Usage: URI XML PIDFILE.
Prints the events and 'ALL OK'; exits non-zero on the first failure."""

import os
import signal
import sys

import libvirt
from transcript import events, on_lifecycle, start_event_loop, wait_events

URI, XML_PATH, PID_FILE = sys.argv[1:4]
E = libvirt


def check(name, cond):
    print("ok" if cond else "FAIL", name)
    if not cond:
        print("events so far", events)
        sys.exit(1)


start_event_loop()
conn = libvirt.open(URI)
check("getType", conn.getType() == "QEMU")
conn.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_lifecycle, None)

dom = conn.defineXML(open(XML_PATH).read())
dom.create()
dom.suspend()
check("paused", dom.state() == [E.VIR_DOMAIN_PAUSED, E.VIR_DOMAIN_PAUSED_USER])
dom.resume()
dom.destroy()
check("destroyed", dom.state() == [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_DESTROYED])
dom.create()
os.kill(int(open(PID_FILE).read().strip()), signal.SIGKILL)
wait_events(7, timeout=20)
check("crashed", dom.state() == [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_CRASHED])
dom.undefine()

want = [
    (E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED),
    (E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
    (E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
    (E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
    (E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
    (E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
    (E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_FAILED),
    (E.VIR_DOMAIN_EVENT_UNDEFINED, E.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED),
]
wait_events(len(want), timeout=20)
print("events", events)
check("lifecycle events", [(e, d) for (_, e, d) in events] == want)
print("ALL OK")
