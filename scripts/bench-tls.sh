#!/usr/bin/env bash
# What TLS costs rvirtd and stock libvirtd 9.0, in one run (not a test):
# python3-libvirt's getLibVersion() and lookupByName('test') calls per
# second and connections opened per second over plain TCP and over TLS
# (client certificate checked), on both daemons; then a peer-to-peer
# tunnelled migration of a test-driver guest between two rvirtd hosts over
# +tcp and +tls, in MiB/s (libvirt's test driver cannot migrate, so
# libvirtd has no figure there). Prints a markdown table with each
# daemon's TLS cost. Then, for the migration beside libvirtd, QEMU guests
# migrated tunnelled over +tcp and over +tls by both daemons
# (scripts/bench-migrate.sh's table, its "tunnelled, TLS" row against its
# "tunnelled" one; QEMU_MIB, QEMU_ROUNDS; QEMU=0 skips it). Needs root (the
# hosts' UTS namespaces), certtool, libvirtd and python3-libvirt.
# Everything it starts goes on exit.
#
#   scripts/bench-tls.sh
#   CALLS=5000 OPENS=100 ROUNDS=3 MIB=1024 QEMU_MIB=128 QEMU_ROUNDS=3 scripts/bench-tls.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in /usr/sbin/libvirtd /usr/bin/virsh certtool; do
    command -v "$tool" >/dev/null || { echo "$tool not installed (scripts/install-deps.sh)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "needs root (UTS namespaces for the migration hosts)" >&2; exit 1; }
cargo build --release -q -p rvirtd --bin rvirtd
cargo build --release -q -p rvirt-testkit --example bench_tls
# Run directly, not by cargo: without CARGO set the kit takes the rvirtd
# just built instead of building it again from inside the run.
env -u CARGO CALLS="${CALLS:-20000}" OPENS="${OPENS:-300}" ROUNDS="${ROUNDS:-5}" \
    MIB="${MIB:-512}" target/release/examples/bench_tls
if [ "${QEMU:-1}" != 0 ]; then
    echo
    echo "QEMU guests, tunnelled over +tcp and +tls, rvirtd beside libvirtd:"
    MIB="${QEMU_MIB:-128}" ROUNDS="${QEMU_ROUNDS:-3}" TLS=1 \
        PAIRS=rvirtd:rvirtd,libvirtd:libvirtd scripts/bench-migrate.sh
fi
