//! The test guest's QEMU guest agent: a busybox sh loop on the
//! `org.qemu.guest_agent.0` virtio-serial port answering the commands
//! rvirt's driver and libvirt send for a shutdown or reboot through the
//! agent: `guest-sync` and `guest-sync-delimited` (the id back, the latter
//! after a 0xFF byte), `guest-ping`, and `guest-shutdown` (no answer, as
//! qemu-ga: the guest powers off, or reboots with `"mode":"reboot"`).
//! Anything else gets qemu-ga's CommandNotFound error. It lives in its own
//! file in the initramfs, /bin/rvirt-agent, started by /init.

/// Where the script goes in the initramfs.
pub(super) const AGENT_PATH: &str = "bin/rvirt-agent";

/// The script; it does nothing when the guest has no agent channel.
pub(super) const AGENT_SCRIPT: &str = r#"#!/bin/busybox sh
port=
for p in /sys/class/virtio-ports/*; do
    [ "$(cat $p/name 2>/dev/null)" = org.qemu.guest_agent.0 ] && port=/dev/${p##*/}
done
[ -n "$port" ] || exit 0
echo "rvirt-guest: agent on $port"
# One open for good: the port takes a single opener, and QEMU reports the
# agent connected while it is open. With no host client a read ends at
# once (end of file): read again a moment later.
exec 3<>$port
while :; do
    while read -r line <&3; do
        id=$(echo "$line" | sed -n 's/.*"id" *: *\([0-9]*\).*/\1/p')
        case "$line" in
        *'"guest-sync-delimited"'*) printf '\377{"return": %s}\n' "$id" >&3 ;;
        *'"guest-sync"'*) printf '{"return": %s}\n' "$id" >&3 ;;
        *'"guest-ping"'*) printf '{"return": {}}\n' >&3 ;;
        *'"guest-shutdown"'*)
            sync
            case "$line" in
            *'"reboot"'*) echo "rvirt-guest: agent reboot"; reboot -f ;;
            *) echo "rvirt-guest: agent powerdown"; poweroff -f ;;
            esac ;;
        *'"execute"'*)
            cmd=$(echo "$line" | sed -n 's/.*"execute" *: *"\([^"]*\)".*/\1/p')
            printf '{"error": {"class": "CommandNotFound", "desc": "The command %s has not been found"}}\n' "$cmd" >&3 ;;
        esac
    done
    sleep 0.2
done
"#;
