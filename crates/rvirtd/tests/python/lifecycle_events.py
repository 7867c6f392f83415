"""Lifecycle events through python3-libvirt's default event loop, shared by
the test scripts: `events` collects (domain name, event, detail) and `got`
is notified at each."""

import threading

import libvirt

events = []
got = threading.Condition()


def on_lifecycle(conn, dom, event, detail, opaque):
    with got:
        events.append((dom.name(), event, detail))
        got.notify_all()


def start_event_loop():
    """Register the default implementation and run it in a thread."""
    libvirt.virEventRegisterDefaultImpl()

    def loop():
        while True:
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=loop, daemon=True).start()
