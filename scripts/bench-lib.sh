# Sourced by the bench-*.sh scripts, not run: the release rvirtd and a stock
# libvirtd side by side, each listening on a free TCP port of 127.0.0.1
# (auth none) with its config, sockets and log in a temporary directory that
# goes, with the daemons, when the script exits.
#
#   start_daemons NAME [CONF_LINES]
#
# NAME names the directory (/tmp/NAME.XXXXXX, in $work); CONF_LINES go into
# both daemons' configs. Sets rport/rpid (rvirtd) and lport/lpid (libvirtd).
#
#   start_qemu_libvirtd DIR
#
# A stock libvirtd with its QEMU driver serving qemu:///system on
# DIR/libvirt-sock, private as crates/testkit/src/libvirtd_qemu.rs runs it.
# Sets lpid. A script that defines cleanup_extra has it run first on exit.

py=/usr/bin/python3
pids=()

cleanup() {
    if declare -F cleanup_extra >/dev/null; then cleanup_extra || true; fi
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

start_qemu_libvirtd() { # dir
    local d=$1 mounts="" kvm="" etc=$1/etc-libvirt
    mkdir -p "$d"
    printf 'unix_sock_dir = "%s"\nauth_unix_ro = "none"\nauth_unix_rw = "none"\n' "$d" >"$d/libvirtd.conf"
    # No virtlogd here: QEMU's output goes straight to its log file.
    echo 'stdio_handler = "file"' >"$d/qemu.conf"
    for m in /run /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
        mounts+="mount -t tmpfs tmpfs $m && "
    done
    # A /dev/kvm that libvirt-qemu can open keeps libvirtd's QEMU probe (as
    # libvirt-qemu) and its cache check (as root) in agreement.
    [ -e /dev/kvm ] && kvm="mknod -m 0666 /run/kvm c 10 232 && mount --bind /run/kvm /dev/kvm && "
    # unshare execs sh, which execs libvirtd: $! is the daemon's PID.
    unshare -m --propagation private sh -c "$mounts$kvm cp -a /etc/libvirt $etc && \
        cp $d/qemu.conf $etc/qemu.conf && mount --bind $etc /etc/libvirt && \
        mkdir -p /var/lib/libvirt/qemu /var/cache/libvirt/qemu /var/log/libvirt/qemu && \
        exec /usr/sbin/libvirtd -f $d/libvirtd.conf -p $d/libvirtd.pid" >"$d/daemon.log" 2>&1 &
    lpid=$!
    pids+=("$lpid")
}
