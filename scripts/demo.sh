#!/usr/bin/env bash
# The main job: live migration between two rvirtd "hosts" on this machine.
# Builds rvirt, starts a source and a destination daemon (each in its own
# UTS namespace with its own host name, TCP port and host UUID), defines and
# starts a 1 GiB test-driver guest whose memory is being dirtied, migrates
# it live, peer-to-peer and tunnelled, with rvirsh's progress bar, shows
# both hosts afterwards, then stops both daemons and removes what it made.
set -euo pipefail
cd "$(dirname "$0")/.."

# Bandwidth cap (MiB/s) so the transfer is slow enough to watch.
BANDWIDTH=${BANDWIDTH:-48}

need_deps=0
command -v unshare >/dev/null || need_deps=1
/usr/bin/python3 -c 'import libvirt' 2>/dev/null || need_deps=1
[ "$need_deps" -eq 0 ] || scripts/install-deps.sh

echo "== building rvirtd and rvirsh (release)"
cargo build --release -q -p rvirtd -p rvirsh
target=${CARGO_TARGET_DIR:-$PWD/target}
RVIRTD=$target/release/rvirtd
RVIRSH=$target/release/rvirsh

work=$(mktemp -d /tmp/rvirt-demo.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# A TCP port nothing listens on.
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

# Root may set a host name in a new UTS namespace; anyone else gets one
# inside a user namespace where they are root.
if [ "$(id -u)" -eq 0 ]; then
    uts=(unshare --uts)
else
    uts=(unshare --user --map-root-user --uts)
fi

# start_host NAME: sets HOST_URI. Config, daemon, and a client that holds a connection so
# the daemon's test:///default (which starts afresh when its last
# connection closes) keeps its guests between rvirsh runs.
start_host() {
    local name=$1 port reloc dir
    port=$(free_port)
    reloc=$(free_port)
    dir=$work/$name
    mkdir -p "$dir"
    cat >"$dir/rvirtd.conf" <<EOF
listen_tcp = 1
listen_tls = 0
auth_tcp = "none"
tcp_port = "$port"
listen_addr = "127.0.0.1"
unix_sock_dir = "$dir"
state_dir = "$dir"
host_uuid = "$(cat /proc/sys/kernel/random/uuid)"
test_relocation_listen = "127.0.0.1:$reloc"
EOF
    "${uts[@]}" sh -c "hostname $name && exec $RVIRTD --listen -f $dir/rvirtd.conf" \
        >"$dir/rvirtd.log" 2>&1 &
    local daemon=$!
    pids+=("$daemon")
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        kill -0 "$daemon" 2>/dev/null || { cat "$dir/rvirtd.log"; exit 1; }
        sleep 0.05
    done
    local uri="test+tcp://127.0.0.1:$port/default"
    /usr/bin/python3 -c 'import libvirt, signal, sys
conn = libvirt.open(sys.argv[1]); print("held", flush=True); signal.pause()' "$uri" \
        >"$dir/holder.out" 2>&1 &
    pids+=($!)
    for _ in $(seq 200); do
        grep -q held "$dir/holder.out" 2>/dev/null && break
        sleep 0.05
    done
    grep -q held "$dir/holder.out" || { cat "$dir/rvirtd.log" "$dir/holder.out"; exit 1; }
    HOST_URI=$uri
}

start_host rvirt-src
SRC=$HOST_URI
start_host rvirt-dst
DST=$HOST_URI
echo "== source $SRC, destination $DST"

cat >"$work/guest.xml" <<'EOF'
<domain type='test'>
  <name>demo</name>
  <uuid>0b3b6ea4-45c2-4b6e-9a4f-7d7c1f0d9e11</uuid>
  <title>A demo guest</title>
  <metadata>
    <rvirt:guest xmlns:rvirt='https://rvirt.dev/xmlns/test-guest/1'>
      <rvirt:dirty-rate unit='KiB/s'>8192</rvirt:dirty-rate>
      <rvirt:working-set unit='KiB'>262144</rvirt:working-set>
    </rvirt:guest>
  </metadata>
  <memory unit='GiB'>1</memory>
  <currentMemory unit='GiB'>1</currentMemory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
  </os>
</domain>
EOF

run() {
    echo
    echo "\$ rvirsh -c $1 \"$2\""
    "$RVIRSH" -c "$1" "$2"
}

run "$SRC" "hostname; define $work/guest.xml; start demo; list --all"
sleep 2 # let the guest write some memory
run "$SRC" "migrate --verbose --live --p2p --tunnelled --persistent --bandwidth $BANDWIDTH demo $DST"
run "$DST" "hostname; list --all; domjobinfo --completed demo"
run "$SRC" "hostname; list --all; domjobinfo --completed demo"
