#!/usr/bin/python3
"""python3-libvirt receives a real QEMU guest's lifecycle events from
rvirtd: define, start, suspend, resume, destroy, a QEMU killed behind the
daemon's back (stopped/failed), undefine. Usage: URI XML PIDFILE.
Prints the events and 'ALL OK'; exits non-zero on the first failure."""

import os
import signal
import sys
import threading
import time

import libvirt

URI, XML_PATH, PID_FILE = sys.argv[1:4]
E = libvirt

libvirt.virEventRegisterDefaultImpl()
events = []
got = threading.Condition()


def check(name, cond):
    print("ok" if cond else "FAIL", name)
    if not cond:
        print("events so far", events)
        sys.exit(1)


def record(_conn, dom, event, detail, _opaque):
    """Lifecycle callback: keep (name, event, detail), wake the waiter."""
    got.acquire()
    try:
        events.append((dom.name(), event, detail))
        got.notify_all()
    finally:
        got.release()


def wait_for(count, timeout=20):
    end = time.monotonic() + timeout
    with got:
        got.wait_for(lambda: len(events) >= count, timeout=max(0, end - time.monotonic()))


def run_event_loop():
    while libvirt.virEventRunDefaultImpl() == 0:
        pass


threading.Thread(target=run_event_loop, daemon=True).start()
conn = libvirt.open(URI)
check("getType", conn.getType() == "QEMU")
conn.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_LIFECYCLE, record, None)

dom = conn.defineXML(open(XML_PATH).read())
dom.create()
dom.suspend()
check("paused", dom.state() == [E.VIR_DOMAIN_PAUSED, E.VIR_DOMAIN_PAUSED_USER])
dom.resume()
dom.destroy()
check("destroyed", dom.state() == [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_DESTROYED])
dom.create()
os.kill(int(open(PID_FILE).read().strip()), signal.SIGKILL)
wait_for(7)
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
wait_for(len(want))
print("events", events)
check("lifecycle events", [(e, d) for (_, e, d) in events] == want)
print("ALL OK")
