# Sourced by the bench-*.sh scripts, not run: the release rvirtd and a stock
# libvirtd side by side, each listening on a free TCP port of 127.0.0.1
# (auth none) with its config, sockets and log in a temporary directory that
# goes, with the daemons, when the script exits.
#
#   start_daemons NAME [CONF_LINES]
#
# NAME names the directory (/tmp/NAME.XXXXXX, in $work); CONF_LINES go into
# both daemons' configs. Sets rport/rpid (rvirtd) and lport/lpid (libvirtd).

py=/usr/bin/python3
pids=()

cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    rm -rf "$work"
}

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

start_daemons() { # name conf-lines
    work=$(mktemp -d "/tmp/$1.XXXXXX")
    trap cleanup EXIT

    rport=$(free_port)
    conf "$work/rvirtd" "$rport" "${2:-}
state_dir = \"$work/rvirtd\""
    target/release/rvirtd --listen -f "$work/rvirtd/daemon.conf" >"$work/rvirtd.log" 2>&1 &
    rpid=$!
    pids+=("$rpid")
    wait_port "$rport"

    id libvirt-qemu >/dev/null 2>&1 || useradd --system --no-create-home libvirt-qemu
    lport=$(free_port)
    conf "$work/libvirtd" "$lport" "${2:-}"
    # A private /run: libvirtd's drivers lock pid files there.
    unshare -m --propagation private sh -c \
        "mount -t tmpfs tmpfs /run && exec /usr/sbin/libvirtd --listen -f $work/libvirtd/daemon.conf -p $work/libvirtd/pid" \
        >"$work/libvirtd.log" 2>&1 &
    lpid=$!
    pids+=("$lpid")
    wait_port "$lport"
    sleep 1
}
