#!/usr/bin/env bash
# rvirtd (release build) and stock libvirtd side by side, in one run:
# lookupByName('test').info() pairs per second over TCP, from python3-libvirt
# and from rvirt's own client library, at several client counts; the CPU the
# daemons and the clients spend per pair; each daemon's idle RSS. Not a
# test: prints tables.
#
#   scripts/bench-daemon.sh [CALLS_PER_CLIENT]        (default 4000)
#   CLIENT_COUNTS="1 4 8" scripts/bench-daemon.sh     (the default counts)
#
# The daemons and the clients share this machine's CPUs, so the rate is
# bounded by what the clients themselves cost: the last lines say how far.
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-4000}
counts=${CLIENT_COUNTS:-1 4 8}
load=crates/rvirtd/tests/python/load.py
. scripts/bench-lib.sh

cargo build --release -q -p rvirtd --bin rvirtd --example pairs
pairs=target/release/examples/pairs
start_daemons rvirtd-bench "max_clients = 500"

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
rrss=$(rss "$rpid")
lrss=$(rss "$lpid")

hz=$(getconf CLK_TCK)
cpus=$(nproc)
# user and system clock ticks of a process so far
ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }

# run CLIENT PORT PID N -> "pairs/s daemon-user-us daemon-sys-us client-us"
# (per pair). CLIENT is "python" or "rvirt".
run() {
    local out u0 s0 u1 s1 n=$(($4 * calls))
    read -r u0 s0 < <(ticks "$3")
    if [ "$1" = python ]; then
        out=$($py "$load" "test+tcp://127.0.0.1:$2/default" "$4" "$calls")
    else
        out=$("$pairs" "test+tcp://127.0.0.1:$2/default" "$4" "$calls")
    fi
    read -r u1 s1 < <(ticks "$3")
    case "$out" in *" errors=0 "*) ;; *) echo "load failed: $out" >&2; exit 1 ;; esac
    awk -v o="$out" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$hz" -v n="$n" 'BEGIN {
        match(o, /rate=[0-9]+/); r = substr(o, RSTART + 5, RLENGTH - 5)
        match(o, /client_cpu_us_per_pair=[0-9.]+/); c = substr(o, RSTART + 23, RLENGTH - 23)
        printf "%s %.1f %.1f %s\n", r, u / hz * 1e6 / n, s / hz * 1e6 / n, c }'
}

table() { # CLIENT TITLE
    printf '\n%s\n' "$2"
    printf '%7s  %10s %10s %6s   %-17s %-17s %10s %10s\n' clients "rvirtd/s" "libvirtd/s" ratio \
        "rvirtd us/pair" "libvirtd us/pair" "client us" "client us"
    printf '%7s  %10s %10s %6s   %-17s %-17s %10s %10s\n' "" "" "" "" "(user+sys)" "(user+sys)" \
        "(rvirtd)" "(libvirtd)"
    for n in $counts; do
        read -r rr ru rs rc < <(run "$1" "$rport" "$rpid" "$n")
        read -r lr lu ls lc < <(run "$1" "$lport" "$lpid" "$n")
        printf '%7s  %10s %10s %5.2fx   %-17s %-17s %10s %10s\n' "$n" "$rr" "$lr" \
            "$(awk -v a="$rr" -v b="$lr" 'BEGIN { print a / b }')" \
            "$ru+$rs" "$lu+$ls" "$rc" "$lc"
        last="$rr $rs $rc $lr"
    done
}

printf '%s lookupByName+info pairs per client over TCP; %s CPUs shared by daemon and clients\n' \
    "$calls" "$cpus"
table python "python3-libvirt (Debian's /usr/bin/python3), one process and connection per client"
read -r prr prs prc plr <<<"$last"
table rvirt "rvirt's client library (crates/rvirtd/examples/pairs.rs), one thread and connection per client"

printf '\n%-10s %14s\n' daemon "idle RSS KiB"
printf '%-10s %14s\n' rvirtd "$rrss" libvirtd "$lrss"
awk -v a="$rrss" -v b="$lrss" 'BEGIN { printf "%-10s %13.2fx\n", "ratio", a / b }'

# Each call costs any TCP daemon one recv and one send in the kernel; what
# rvirtd spends beyond that is its user time. With the clients' own CPU,
# that bounds the rate on this machine whatever the daemon does.
n=${counts##* }
awk -v cpus="$cpus" -v c="$prc" -v s="$prs" -v l="$plr" -v n="$n" 'BEGIN {
    bound = cpus * 1e6 / (c + s)
    printf "\nBound at %d python clients: %d CPUs / (%.1f us client + %.1f us kernel recv/send per pair)\n", n, cpus, c, s
    printf "  = %.0f pairs/s = %.2fx libvirtd, even with no user-space work in the daemon.\n", bound, bound / l
}'
