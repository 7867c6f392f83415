#!/usr/bin/env bash
# rvirtd (release build) beside a private stock libvirtd 9.0, both serving
# qemu:///system with real QEMU (TCG) guests of the test kit, driven by the
# same stock virsh over each daemon's unix socket. Per daemon:
#
#   1. `virsh start` wall time and start -> first `rvirt-tick` on the guest's
#      serial console, median of STARTS (after one unmeasured warm-up start,
#      so the daemons' one-off QEMU capability probes are not counted), the
#      starts alternating between the daemons;
#   2. GUESTS guests started and booted, then `virsh domstats` over all of
#      them, median of DOMSTATS_RUNS; one daemon's guests at a time, so
#      neither shares the CPUs with the other's;
#   3. daemon RSS (VmRSS) idle (after the warm-up, no guest running) and with
#      the GUESTS guests; CPU (utime+stime) over IDLE_SECONDS with the guests
#      running and untouched, and in total for the daemon's whole run.
#
# Prints a table: metric | rvirtd | libvirtd | ratio | target | met?. Not a
# test. Guests, daemons (by PID) and the temporary directory go on exit.
#
#   scripts/bench-qemu.sh
#   STARTS=5 GUESTS=20 DOMSTATS_RUNS=5 IDLE_SECONDS=10 GUEST_MIB=96 scripts/bench-qemu.sh
#   GUEST_DIR=DIR    the test guest's vmlinuz + initramfs.cpio (default
#                    target/testkit-guest, built by the test kit when missing)
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
starts=${STARTS:-5}
guests=${GUESTS:-20}
runs=${DOMSTATS_RUNS:-5}
idle=${IDLE_SECONDS:-10}
mib=${GUEST_MIB:-96} # with 64 the test kit's kernel never reaches its console
guest_dir=${GUEST_DIR:-target/testkit-guest}
. scripts/bench-lib.sh

for tool in /usr/sbin/libvirtd /usr/bin/virsh /usr/bin/qemu-system-x86_64; do
    [ -x "$tool" ] || { echo "$tool not installed (scripts/install-deps.sh)" >&2; exit 1; }
done
if [ ! -f "$guest_dir/vmlinuz" ]; then
    CARGO_PROFILE_TEST_DEBUG=0 cargo test -q -p rvirt-testkit --test guest_boot
fi
cargo build --release -q -p rvirtd --bin rvirtd

work=$(mktemp -d /tmp/rvirt-bench-qemu.XXXXXX)
chmod 755 "$work" # libvirtd's guests run as libvirt-qemu
trap cleanup EXIT
tag=rvbench$$ # every guest's name starts with it

# QEMU processes of this run's guests (-name guest=TAG-...), by PID: the
# daemons leave their guests running when they stop.
cleanup_extra() {
    local f pid
    for f in /proc/[0-9]*/cmdline; do
        if tr '\0' ' ' 2>/dev/null <"$f" | grep -q "guest=$tag-"; then
            pid=${f#/proc/}
            kill -9 "${pid%/cmdline}" 2>/dev/null || true
        fi
    done
}

# The image is copied: libvirtd relabels a guest's kernel and initrd.
mkdir "$work/image"
cp "$guest_dir/vmlinuz" "$guest_dir/initramfs.cpio" "$work/image/"
chmod 644 "$work"/image/*

now() { echo "${EPOCHREALTIME/./}"; } # microseconds
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

guest_xml() { # name console
    cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>$mib</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$work/image/vmlinuz</kernel>
    <initrd>$work/image/initramfs.cpio</initrd>
    <cmdline>console=ttyS0 panic=-1 rvirt.tick=5</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'>
      <source path='$2'/>
      <target port='0'/>
    </serial>
  </devices>
</domain>
XML
}

wait_console() { # file text seconds
    local deadline=$(($(now) + $3 * 1000000))
    until grep -qs "$2" "$1"; do
        [ "$(now)" -lt "$deadline" ] || { echo "no '$2' in $1 within $3 s" >&2; return 1; }
        sleep 0.01
    done
}

wait_serving() { # uri pid log
    for _ in $(seq 600); do
        virsh -q -c "$1" uri >/dev/null 2>&1 && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    echo "daemon not serving $1:" >&2
    cat "$3" >&2
    return 1
}

stop_daemon() { # pid
    kill "$1"
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$1" 2>/dev/null || true
}

# Each daemon's guests (XML, console) and measurements are in $work/NAME;
# the results, as shell assignments NAME_x=..., collect in $work/results.
uri_of() { echo "qemu+unix:///system?socket=$work/$1-daemon/libvirt-sock"; }
vsh() { # name virsh-args...
    local uri
    uri=$(uri_of "$1")
    shift
    virsh -q -c "$uri" "$@"
}

start_once() { # name -> "start-us tick-us"
    local d=$work/$1 t0 t1 t2
    rm -f "$d/s.console"
    t0=$(now)
    vsh "$1" start "$tag-s" >/dev/null
    t1=$(now)
    wait_console "$d/s.console" "^rvirt-tick 1" 120
    t2=$(now)
    vsh "$1" destroy "$tag-s" >/dev/null
    echo "$((t1 - t0)) $((t2 - t0))"
}

# prepare NAME PID: the guests defined, one warm-up start, the idle RSS.
prepare() {
    local d=$work/$1 i
    mkdir -p "$d"
    for i in s $(seq "$guests"); do
        guest_xml "$tag-$i" "$d/$i.console" >"$d/$i.xml"
        vsh "$1" define "$d/$i.xml" >/dev/null
    done
    start_once "$1" >/dev/null
    echo "${1}_rss_idle=$(rss "$2")" >>"$work/results"
}

# load NAME PID: GUESTS guests booted; RSS, CPU untouched for IDLE_SECONDS,
# domstats; then they go.
load() {
    local d=$work/$1 pid=$2 i t0 g c0 c1
    for i in $(seq "$guests"); do vsh "$1" start "$tag-$i" >/dev/null; done
    for i in $(seq "$guests"); do wait_console "$d/$i.console" "^rvirt-tick 1" 600; done
    echo "${1}_rss_full=$(rss "$pid")" >>"$work/results"
    c0=$(cpu_ticks "$pid")
    sleep "$idle"
    c1=$(cpu_ticks "$pid")
    g=$(vsh "$1" domstats | grep -c "^Domain: '$tag-" || true)
    [ "$g" = "$guests" ] || { echo "$1 domstats listed $g of $guests guests" >&2; return 1; }
    : >"$d/domstats"
    for _ in $(seq "$runs"); do
        t0=$(now)
        vsh "$1" domstats >/dev/null
        echo $(($(now) - t0)) >>"$d/domstats"
    done
    for i in $(seq "$guests"); do vsh "$1" destroy "$tag-$i" >/dev/null; done
    for i in $(seq "$guests"); do vsh "$1" undefine "$tag-$i" >/dev/null; done
    {
        echo "${1}_domstats=$(median <"$d/domstats")"
        echo "${1}_cpu_idle=$(((c1 - c0) * 1000 / hz)) ${1}_cpu_total=$(($(cpu_ticks "$pid") * 1000 / hz))"
    } >>"$work/results"
}

# rvirtd: unix socket only, its QEMU driver's directories in $work.
mkdir -p "$work/rvirtd-daemon"
{
    printf 'unix_sock_dir = "%s"\nstate_dir = "%s"\n' "$work/rvirtd-daemon" "$work/rvirtd-daemon"
    printf 'auth_unix_ro = "none"\nauth_unix_rw = "none"\n'
    for k in config state cache log lib; do printf 'qemu_%s_dir = "%s"\n' "$k" "$work/rvirtd-qemu/$k"; done
} >"$work/rvirtd-daemon/daemon.conf"
target/release/rvirtd -f "$work/rvirtd-daemon/daemon.conf" >"$work/rvirtd-daemon/log" 2>&1 &
rpid=$!
pids+=("$rpid")
start_qemu_libvirtd "$work/libvirtd-daemon"
wait_serving "$(uri_of rvirtd)" "$rpid" "$work/rvirtd-daemon/log"
wait_serving "$(uri_of libvirtd)" "$lpid" "$work/libvirtd-daemon/daemon.log"
echo "rvirtd pid $rpid, libvirtd pid $lpid: measuring" >&2

prepare rvirtd "$rpid"
prepare libvirtd "$lpid"
# The starts alternate between the daemons, so a change in the host's load
# (other work on it) weighs on both alike; one guest runs at a time.
for _ in $(seq "$starts"); do
    for n in rvirtd libvirtd; do start_once "$n" >>"$work/$n/starts"; done
done
for n in rvirtd libvirtd; do
    echo "${n}_start=$(awk '{print $1}' "$work/$n/starts" | median)" >>"$work/results"
    echo "${n}_tick=$(awk '{print $2}' "$work/$n/starts" | median)" >>"$work/results"
    # domstats covers every defined guest: only the running ones from here.
    vsh "$n" undefine "$tag-s" >/dev/null
done
# The guests of one daemon at a time: they do not share the CPUs.
load rvirtd "$rpid"
load libvirtd "$lpid"
stop_daemon "$rpid"
stop_daemon "$lpid"
# shellcheck source=/dev/null
. "$work/results"

# row METRIC RVIRTD LIBVIRTD MAX_RATIO(or -)
row() {
    awk -v m="$1" -v r="$2" -v l="$3" -v t="$4" 'BEGIN {
        ratio = (l > 0) ? sprintf("%.2f", r / l) : "n/a"
        met = (t == "-") ? "-" : ((l > 0 && r / l <= t) ? "yes" : "NO")
        target = (t == "-") ? "-" : "<= " t "x"
        printf "| %-42s | %8s | %8s | %5s | %-8s | %-4s |\n", m, r, l, ratio, target, met }'
}
ms() { awk -v u="$1" 'BEGIN { printf "%.0f", u / 1000 }'; }
per_guest() { echo $((($2 - $1) / guests)); }

echo
echo "QEMU guests (TCG, $mib MiB, stock virsh over unix sockets); $(date -u +%Y-%m-%d), $(nproc) CPUs"
printf '| %-42s | %8s | %8s | %5s | %-8s | %-4s |\n' metric rvirtd libvirtd ratio target "met?"
echo "|--------------------------------------------|----------|----------|-------|----------|------|"
row "virsh start, ms (median of $starts)" "$(ms "$rvirtd_start")" "$(ms "$libvirtd_start")" 1
row "start to first tick, ms (median)" "$(ms "$rvirtd_tick")" "$(ms "$libvirtd_tick")" 1
row "virsh domstats, $guests guests, ms (median $runs)" "$(ms "$rvirtd_domstats")" "$(ms "$libvirtd_domstats")" 0.5
row "RSS idle, KiB" "$rvirtd_rss_idle" "$libvirtd_rss_idle" -
row "RSS with $guests guests, KiB" "$rvirtd_rss_full" "$libvirtd_rss_full" -
row "RSS per guest, KiB" "$(per_guest "$rvirtd_rss_idle" "$rvirtd_rss_full")" \
    "$(per_guest "$libvirtd_rss_idle" "$libvirtd_rss_full")" 0.25
row "CPU in ${idle} s idle, $guests guests, ms (${hz} Hz)" "$rvirtd_cpu_idle" "$libvirtd_cpu_idle" -
row "CPU total for the run, ms" "$rvirtd_cpu_total" "$libvirtd_cpu_total" -
