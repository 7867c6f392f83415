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
py=/usr/bin/python3

cargo build --release -q -p rvirtd --bin rvirtd
work=$(mktemp -d /tmp/rvirtd-bench-define.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

conf() { # dir port extra
    mkdir -p "$1"
    cat > "$1/daemon.conf" <<CONF
listen_tcp = 1
listen_tls = 0
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
tcp_port = "$2"
listen_addr = "127.0.0.1"
unix_sock_dir = "$1"
$3
CONF
}

wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

rport=$(free_port)
conf "$work/rvirtd" "$rport" "state_dir = \"$work/rvirtd\""
target/release/rvirtd --listen -f "$work/rvirtd/daemon.conf" >"$work/rvirtd.log" 2>&1 &
pids+=($!)
wait_port "$rport"

id libvirt-qemu >/dev/null 2>&1 || useradd --system --no-create-home libvirt-qemu
lport=$(free_port)
conf "$work/libvirtd" "$lport" ""
# A private /run: libvirtd's drivers lock pid files there.
unshare -m --propagation private sh -c \
    "mount -t tmpfs tmpfs /run && exec /usr/sbin/libvirtd --listen -f $work/libvirtd/daemon.conf -p $work/libvirtd/pid" \
    >"$work/libvirtd.log" 2>&1 &
pids+=($!)
wait_port "$lport"
sleep 1

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
