#!/usr/bin/env bash
# defineXML of one large domain definition on rvirtd (release build) and on
# stock libvirtd, side by side: the definition carries N elements inside
# <metadata> in a namespace of its own; python3-libvirt holds one connection
# per daemon (test+tcp://127.0.0.1:PORT/default) and times only the
# defineXML call, REPS times, each on a fresh name; the median is reported.
# Not a test: prints a table. The target: rvirtd within 3x libvirtd.
#
#   scripts/bench-define.sh [REPS]                 (default 5)
#   ELEMENTS="80000 250000" scripts/bench-define.sh  (the default sizes)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
sizes=${ELEMENTS:-80000 250000}
. scripts/bench-lib.sh

cargo build --release -q -p rvirtd --bin rvirtd
start_daemons rvirtd-bench-define

$py - "$rport" "$lport" "$reps" $sizes <<'PY'
import statistics, sys, time, libvirt

rport, lport, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
sizes = [int(n) for n in sys.argv[4:]]
conns = {
    "rvirtd": libvirt.open(f"test+tcp://127.0.0.1:{rport}/default"),
    "libvirtd": libvirt.open(f"test+tcp://127.0.0.1:{lport}/default"),
}

def definition(name, n):
    items = "".join(f"<b:e i='{i}'/>" for i in range(n))
    return (f"<domain type='test'><name>{name}</name><memory>1024</memory>"
            f"<os><type>hvm</type></os><metadata><b:bench xmlns:b='http://rvirt.example/bench'>"
            f"{items}</b:bench></metadata></domain>")

print(f"{'daemon':<10} {'elements':>9} {'KiB':>7} {'median s':>9} {'ratio':>6}")
for n in sizes:
    medians = {}
    for daemon, conn in conns.items():
        times = []
        for r in range(reps):
            xml = definition(f"bench{n}-{r}", n)
            t = time.perf_counter()
            dom = conn.defineXML(xml)
            times.append(time.perf_counter() - t)
            dom.undefine()
        medians[daemon] = statistics.median(times)
    for daemon in conns:
        ratio = medians[daemon] / medians["libvirtd"]
        print(f"{daemon:<10} {n:>9} {len(xml) // 1024:>7} {medians[daemon]:>9.3f} {ratio:>6.2f}")
PY
