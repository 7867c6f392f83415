#!/usr/bin/env bash
# Install what rvirt's build and tests use on a fresh Debian 12 machine:
# stock libvirt 9.0 (the reference virsh, libvirtd and python3-libvirt),
# QEMU, iproute2 for test hosts in network namespaces.
set -euo pipefail

packages=(
    libvirt-clients
    libvirt-daemon
    libvirt-daemon-driver-qemu
    python3-libvirt
    qemu-system-x86
    iproute2
    busybox-static
    libxml2-utils
    gnutls-bin  # certtool: the TLS tests make their certificates as libvirt's docs do
    # SASL: rvirt binds the system's Cyrus SASL (sasl2-sys links libsasl2),
    # whose SCRAM and sasldb modules stock virsh and libvirtd use too;
    # saslpasswd2 makes the tests' password databases.
    libsasl2-dev
    libsasl2-modules
    libsasl2-modules-db
    sasl2-bin
    pkg-config
    dnsmasq-base  # the network driver's DHCP/DNS server
    iptables  # the network driver's firewall rules (iptables-nft on Debian 12)
    python3-pip  # fetches libvirt-python 9.0.0's own test suite (its sdist) at test time
    virtinst  # virt-install, run against both daemons by the qemu_virt_install test
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# A machine may come with a newer qemu-utils (a backport, 10.x) whose package
# Breaks Debian 12's qemu-system-common: apt then refuses the whole install.
# Take bookworm's, which matches the QEMU 7.2 the tests run.
qemu_utils_version="$(dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null || true)"
if [ -n "$qemu_utils_version" ] && dpkg --compare-versions "$qemu_utils_version" ge "1:8"; then
    missing+=("qemu-utils/bookworm")
fi

if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends --allow-downgrades "${missing[@]}"
fi

# qemu-img (qemu-utils): storage migration creates missing disk images with
# it, and its tests compare the images. Installed on its own, after the
# packages above: installing libvirt's packages can take it away again.
if ! dpkg-query -W -f='${Status}' qemu-utils 2>/dev/null | grep -q "install ok installed"; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends qemu-utils \
        || { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive \
             $sudo apt-get install -y -q --no-install-recommends qemu-utils; }
fi

# The QEMU test guest's kernel is fetched at test time with `apt-get download
# linux-image-<version>-cloud-amd64` (crates/testkit/src/guest): that needs
# package lists that know it.
if ! apt-cache depends linux-image-cloud-amd64 2>/dev/null | grep -q "Depends: linux-image-"; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
fi

# libvirtd's QEMU driver refuses to start without this user.
id libvirt-qemu >/dev/null 2>&1 || useradd --system --no-create-home libvirt-qemu 2>/dev/null || true
