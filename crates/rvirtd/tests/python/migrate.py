#!/usr/bin/python3
"""python3-libvirt migrates a guest between two daemons: migrate3 (managed)
and migrateToURI3 (peer-to-peer, tunnelled) with params dicts, jobStats and
migrateSetMaxSpeed while the job runs, abortJob, and the lifecycle,
migration-iteration and job-completed events on both hosts.

usage: migrate.py SRC_URI DST_URI NAME SOURCE_XML MOVED_XML
The guest NAME is defined from file SOURCE_XML and given file MOVED_XML
(the same guest, another description) as its destination XML.
Prints one line per check and 'ALL OK' at the end; exits non-zero on the
first failure."""

import sys
import threading
import time

import libvirt

SRC_URI, DST_URI, NAME = sys.argv[1:4]
SOURCE_XML, MOVED_XML = (open(path).read() for path in sys.argv[4:6])
NEW_NAME = NAME + "-py"


def check(name, cond, detail=""):
    if not cond:
        print("FAIL", name, detail)
        sys.stdout.flush()
        sys.exit(1)
    print("ok", name)
    sys.stdout.flush()


libvirt.virEventRegisterDefaultImpl()
events = []
got = threading.Condition()


def record(host, kind):
    def cb(conn, dom, *args):
        with got:
            events.append((host, kind, dom.name(), args[:-1]))
            got.notify_all()

    return cb


def loop():
    while True:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=loop, daemon=True).start()


def event(host, kind, name, args=lambda a: True):
    """A predicate on recorded events: `kind` on `host` for guest `name`,
    its callback arguments satisfying `args`."""
    return lambda e: e[:3] == (host, kind, name) and args(e[3])


def wait_event(pred, timeout=10):
    deadline = time.time() + timeout
    with got:
        while not any(pred(e) for e in events):
            left = deadline - time.time()
            if left <= 0:
                return False
            got.wait(left)
    return True


def check_events(name, *preds):
    """Check that an event satisfying each of `preds` arrives."""
    check(name, all(wait_event(p) for p in preds), str(events))


src = libvirt.open(SRC_URI)
dst = libvirt.open(DST_URI)
check("two hosts", src.getHostname() != dst.getHostname())
for host, conn in (("src", src), ("dst", dst)):
    conn.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, record(host, "lifecycle"), None
    )
    conn.domainEventRegisterAny(
        None,
        libvirt.VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
        record(host, "iteration"),
        None,
    )
    conn.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, record(host, "completed"), None
    )

dom = src.defineXML(SOURCE_XML)
dom.create()
check("guest running on source", dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING)


class Watcher(threading.Thread):
    """While a migration runs: read jobStats until memory moves, then
    optionally change the speed or abort the job."""

    def __init__(self, dom, action):
        super().__init__(daemon=True)
        self.dom, self.action = dom, action
        self.stats = None
        self.error = None

    def run(self):
        try:
            deadline = time.time() + 20
            while time.time() < deadline:
                st = self.dom.jobStats()
                if (
                    st.get("type") == libvirt.VIR_DOMAIN_JOB_UNBOUNDED
                    and st.get("data_processed", 0) > 0
                ):
                    self.stats = st
                    self.acted_at = time.time()
                    self.action(self.dom)
                    return
                time.sleep(0.02)
        except libvirt.libvirtError as e:
            self.error = e


def speed_up(d):
    d.migrateSetMaxSpeed(1024, 0)
    Watcher.speed_after = d.migrateGetMaxSpeed(0)


# 1. migrate3, managed, with destination name/XML and a bandwidth that the
#    watcher raises once the job is under way.
w = Watcher(dom, speed_up)
w.start()
t0 = time.time()
new = dom.migrate3(
    dst,
    {
        libvirt.VIR_MIGRATE_PARAM_URI: "tcp://127.0.0.1",
        libvirt.VIR_MIGRATE_PARAM_DEST_NAME: NEW_NAME,
        # The XML keeps the source's name; destination_name renames.
        libvirt.VIR_MIGRATE_PARAM_DEST_XML: MOVED_XML,
        libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 1,
    },
    libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PERSIST_DEST,
)
took = time.time() - t0
w.join()
check("migrate3 watcher", w.error is None, str(w.error))
check("jobStats during migrate3", w.stats is not None)
st = w.stats
check(
    "jobStats fields",
    all(k in st for k in ("time_elapsed", "data_total", "data_processed", "memory_total")),
    str(st),
)
check("migrateSetMaxSpeed during the job", Watcher.speed_after == 1024)
# 8 MiB of written memory at 1 MiB/s would take 8 s; once raised to 1 GiB/s
# the rest moves at once (measured from the raise, which a loaded machine
# may schedule late).
after_raise = t0 + took - w.acted_at
check("raised speed took effect", after_raise < 3, f"took {took:.1f}s, {after_raise:.1f}s after the raise")
check("migrate3 returns the destination domain", new.name() == NEW_NAME)
check("destination running", new.state()[0] == libvirt.VIR_DOMAIN_RUNNING)
check("destination persistent", new.isPersistent() == 1)
check("destination XML", "<description>moved by migrate3</description>" in new.XMLDesc(0))
check("source shut off", src.lookupByName(NAME).state()[0] == libvirt.VIR_DOMAIN_SHUTOFF)
check("not running on source", NAME not in [d.name() for d in src.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)])
done = dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
check("completed jobStats on source", done.get("type") == libvirt.VIR_DOMAIN_JOB_COMPLETED, str(done))
check("completed data", done.get("data_processed", 0) >= 8 << 20, str(done))

stopped = (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_MIGRATED)
resumed = (libvirt.VIR_DOMAIN_EVENT_RESUMED, libvirt.VIR_DOMAIN_EVENT_RESUMED_MIGRATED)
check_events("source lifecycle stopped/migrated", event("src", "lifecycle", NAME, lambda a: a == stopped))
check_events("destination lifecycle resumed/migrated", event("dst", "lifecycle", NEW_NAME, lambda a: a == resumed))
check_events("source migration iteration", event("src", "iteration", NAME, lambda a: a[0] >= 1))
check_events("source job completed", event("src", "completed", NAME))
check_events("destination job completed", event("dst", "completed", NEW_NAME))
src.lookupByName(NAME).undefine()

# 2. migrateToURI3 back, peer-to-peer, renamed to the first name, leaving
#    nothing on the destination.
events.clear()
new.migrateToURI3(
    SRC_URI,
    {
        libvirt.VIR_MIGRATE_PARAM_URI: "tcp://127.0.0.1",
        libvirt.VIR_MIGRATE_PARAM_DEST_NAME: NAME,
        libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 64,
    },
    libvirt.VIR_MIGRATE_LIVE
    | libvirt.VIR_MIGRATE_PEER2PEER
    | libvirt.VIR_MIGRATE_PERSIST_DEST
    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE,
)
back = src.lookupByName(NAME)
check("migrateToURI3 p2p back", back.state()[0] == libvirt.VIR_DOMAIN_RUNNING)
check("nothing left on destination", NEW_NAME not in [d.name() for d in dst.listAllDomains(0)])
check_events(
    "lifecycle on both hosts (p2p)", event("dst", "lifecycle", NEW_NAME), event("src", "lifecycle", NAME)
)

# 3. abortJob during a slow tunnelled migrateToURI3: it fails, the guest
#    keeps running on the source, the destination has nothing.
xml_before = back.XMLDesc(0)
w = Watcher(back, lambda d: d.abortJob())
w.start()
try:
    back.migrateToURI3(
        DST_URI,
        {libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 1},
        libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER | libvirt.VIR_MIGRATE_TUNNELLED,
    )
    check("abortJob fails the migration", False)
except libvirt.libvirtError as e:
    check(
        "abortJob fails the migration with VIR_ERR_OPERATION_ABORTED",
        e.get_error_code() == libvirt.VIR_ERR_OPERATION_ABORTED,
        f"{e.get_error_code()} {e}",
    )
w.join()
check("abort watcher", w.error is None and w.stats is not None, str(w.error))
check("running on source after abort", back.state()[0] == libvirt.VIR_DOMAIN_RUNNING)
check("source XML unchanged after abort", back.XMLDesc(0) == xml_before)
check("nothing on destination after abort", NAME not in [d.name() for d in dst.listAllDomains(0)])
check("no job after abort", back.jobInfo()[0] == libvirt.VIR_DOMAIN_JOB_NONE)

print("ALL OK")
