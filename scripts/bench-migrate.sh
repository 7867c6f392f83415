#!/usr/bin/env bash
# Live migration of the test guest (TCG, MIB MiB of random bytes in its
# memory) between two hosts on this machine, by the release rvirtd
# (rvirtd -> rvirtd) and by stock libvirtd 9.0 (libvirtd -> libvirtd) in one
# run: each host its own network namespace (veth pair), UTS namespace and,
# for libvirtd, mount namespace (crates/testkit: qemu_hosts, libvirtd_host).
# Native (`virsh migrate --live --p2p --migrateuri tcp://B`) and tunnelled
# (`--p2p --tunnelled`), ROUNDS times each way, the modes alternating.
#
# Prints a table of medians: MiB/s (QEMU's bytes sent / QEMU's total-time),
# QEMU's own total-time, virsh's wall time, wall minus QEMU (orchestration),
# guest-visible downtime (destination QEMU's RESUME minus source QEMU's STOP,
# from a second QMP monitor on each QEMU: crates/testkit/src/qemu_events.rs),
# the daemon's own `domjobinfo --completed` downtime, and ratios against
# libvirtd; then loopback TCP (one stream) as the physical limit and issue
# 15's targets. Not a test; needs root. Everything it starts goes on exit.
#
#   scripts/bench-migrate.sh
#   MIB=256 ROUNDS=2 scripts/bench-migrate.sh
#   PAIRS=rvirtd:rvirtd,libvirtd:libvirtd scripts/bench-migrate.sh
#       (A:B pairs; the default adds libvirtd:rvirtd, a mixed pair measured
#       both directions, issue 17)
#   TLS=0 scripts/bench-migrate.sh
#       (without the third mode, tunnelled over qemu+tls://, issue 16; it
#       runs by default where certtool is installed)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in /usr/sbin/libvirtd /usr/bin/virsh /usr/bin/qemu-system-x86_64; do
    [ -x "$tool" ] || { echo "$tool not installed (scripts/install-deps.sh)" >&2; exit 1; }
done
command -v ip >/dev/null || { echo "ip (iproute2) not installed" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
cargo build --release -q -p rvirtd --bin rvirtd
cargo build --release -q -p rvirt-testkit --example bench_migrate
# Run directly, not by cargo: without CARGO set the kit takes the rvirtd
# just built instead of building it again from inside the run.
exec env -u CARGO target/release/examples/bench_migrate
