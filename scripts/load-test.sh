#!/usr/bin/env bash
# Full-size load on one rvirtd (release build): CLIENTS concurrent
# python3-libvirt clients x CALLS lookupByName('test').info() pairs.
#   scripts/load-test.sh [CLIENTS [CALLS]]   (default 100 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-100}
calls=${2:-1000}
cargo build --release -q -p rvirtd
work=$(mktemp -d /tmp/rvirtd-load.XXXXXX)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/rvirtd.conf" <<CONF
listen_tcp = 1
listen_tls = 0
auth_tcp = "none"
tcp_port = "$port"
listen_addr = "127.0.0.1"
unix_sock_dir = "$work"
state_dir = "$work"
max_clients = $((clients + 10))
CONF
target/release/rvirtd --listen -f "$work/rvirtd.conf" >"$work/rvirtd.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; sleep 0.3; rm -rf "$work"' EXIT
for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done
/usr/bin/python3 crates/rvirtd/tests/python/load.py "test+tcp://127.0.0.1:$port/default" "$clients" "$calls"
echo "rvirtd RSS after load: $(awk '/VmRSS/ {print $2}' /proc/$pid/status) KiB"
