"""What the python3-libvirt test scripts share: python3-libvirt's default
event loop in a thread, events recorded into `events` (`got` is notified
at each), and a transcript of results and errors, printed the same way
whichever daemon answers so two runs can be compared line for line."""

import threading
import time

import libvirt

events = []
got = threading.Condition()


def record(event):
    """Keep one event and wake the waiters."""
    with got:
        events.append(event)
        got.notify_all()


def on_lifecycle(conn, dom, event, detail, opaque):
    """A domain lifecycle callback: (domain name, event, detail)."""
    record((dom.name(), event, detail))


def on_object_lifecycle(conn, obj, event, detail, opaque):
    """A network, pool or node device lifecycle callback: (opaque, the
    object's name, event, detail)."""
    record((opaque, obj.name(), event, detail))


def on_pool_refresh(conn, pool, opaque):
    """A storage pool refresh callback: (opaque, pool name, "refresh")."""
    record((opaque, pool.name(), "refresh"))


def start_event_loop():
    """Register the default implementation and run it in a thread."""
    libvirt.virEventRegisterDefaultImpl()

    def loop():
        while True:
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=loop, daemon=True).start()


def wait_events(n, timeout=10):
    """Wait until n events have arrived (or timeout seconds have passed)."""
    deadline = time.time() + timeout
    with got:
        while len(events) < n and time.time() < deadline:
            got.wait(0.1)


def print_sorted_events(seen):
    print("events =", sorted(seen))


def settle(n, timeout=10, report=print_sorted_events):
    """Wait for n events, report them (sorted, by default) and forget them."""
    wait_events(n, timeout)
    with got:
        report(list(events))
        events.clear()


def error(e):
    """A libvirt error as the transcripts print it."""
    return ("error", e.get_error_code(), e.get_error_domain(), e.get_error_message())


def print_value(label, value):
    print(label, "=", repr(value))


def objects(cls, one, key):
    """How a transcript shows libvirt objects of class cls: one through
    one(obj), a list of them as their sorted key(obj)s."""

    def shape(value):
        if isinstance(value, cls):
            return one(value)
        if isinstance(value, list) and value and isinstance(value[0], cls):
            return sorted(key(v) for v in value)
        return value

    return shape


def caller(shape, say=print_value):
    """call(label, fn, *args): run fn(*args), print its result (or its
    error) as `say(label, shape(result))` and return that."""

    def call(label, fn, *args):
        try:
            value = fn(*args)
        except libvirt.libvirtError as e:
            value = error(e)
        value = shape(value)
        say(label, value)
        return value

    return call


def show(label, call, mask=str):
    """`LABEL -> RESULT` (or `LABEL -> error CODE DOMAIN MESSAGE`), the
    text through mask."""
    try:
        text = str(call())
    except libvirt.libvirtError as e:
        text = "error %s %s %s" % (e.get_error_code(), e.get_error_domain(), e.get_error_message())
    print(label, "->", mask(text))
