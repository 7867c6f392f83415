#!/usr/bin/env bash
# rvirtd (release build) and stock libvirtd side by side: python3-libvirt
# lookupByName('test').info() pairs per second over TCP, and each daemon's
# idle RSS. Not a test: prints a table.
#
#   scripts/bench-daemon.sh [CLIENTS [CALLS_PER_CLIENT]]   (default 4 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-4}
calls=${2:-5000}
py=/usr/bin/python3
load=crates/rvirtd/tests/python/load.py

cargo build --release -q -p rvirtd
work=$(mktemp -d /tmp/rvirtd-bench.XXXXXX)
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
rpid=$!
wait_port "$rport"

id libvirt-qemu >/dev/null 2>&1 || useradd --system --no-create-home libvirt-qemu
lport=$(free_port)
conf "$work/libvirtd" "$lport" ""
# A private /run: libvirtd's drivers lock pid files there.
unshare -m --propagation private sh -c \
    "mount -t tmpfs tmpfs /run && exec /usr/sbin/libvirtd --listen -f $work/libvirtd/daemon.conf -p $work/libvirtd/pid" \
    >"$work/libvirtd.log" 2>&1 &
pids+=($!)
lpid=$!
wait_port "$lport"
sleep 1

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
rrss=$(rss "$rpid")
lrss=$(rss "$lpid")

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# rate PORT PID -> "pairs/s daemon-CPU-us-per-pair"
rate() {
    local before after r
    before=$(ticks "$2")
    r=$($py "$load" "test+tcp://127.0.0.1:$1/default" "$clients" "$calls" | sed -n 's/.*rate=\([0-9]*\).*/\1/p')
    after=$(ticks "$2")
    echo "$r $(awk -v t=$((after - before)) -v hz="$hz" -v n=$((clients * calls)) 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')"
}
read -r rrate rcpu < <(rate "$rport" "$rpid")
read -r lrate lcpu < <(rate "$lport" "$lpid")

printf '%s clients x %s lookupByName+info pairs over TCP (%s CPUs, shared with the clients)\n\n' "$clients" "$calls" "$(nproc)"
printf '%-10s %12s %14s %18s\n' daemon "pairs/s" "idle RSS KiB" "daemon CPU us/pair"
printf '%-10s %12s %14s %18s\n' rvirtd "$rrate" "$rrss" "$rcpu"
printf '%-10s %12s %14s %18s\n' libvirtd "$lrate" "$lrss" "$lcpu"
awk -v a="$rrate" -v b="$lrate" -v c="$rrss" -v d="$lrss" -v e="$rcpu" -v f="$lcpu" \
    'BEGIN { printf "%-10s %11.2fx %13.2fx %17.2fx\n", "ratio", a / b, c / d, e / f }'
