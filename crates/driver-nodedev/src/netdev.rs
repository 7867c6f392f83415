//! A network link's state, speed and offload features as libvirt's
//! `virNetDevGetLinkInfo` and `virNetDevGetFeatures` read them: sysfs
//! for the first two, the ethtool ioctls for the features, and the
//! InfiniBand devices sharing the link's PCI resources for RDMA.
//! (libvirt also asks devlink over generic netlink whether a PCI NIC's
//! e-switch is in switchdev mode; rvirt does not, so `switchdev` is never
//! listed.)

use crate::udev::{parse_u32, Sysfs};

/// `virNetDevIfState` words, index 0 unused (as the conf's table).
const IF_STATES: [&str; 8] = [
    "",
    "unknown",
    "notpresent",
    "down",
    "lowerlayerdown",
    "testing",
    "dormant",
    "up",
];

/// `virNetDevGetLinkInfo`: (state index, speed); `None` where libvirt
/// fails (the link vanished, an unknown state word).
pub fn link_info(sysfs: &Sysfs, ifname: &str) -> Option<(usize, u32)> {
    let state = sysfs.read(&format!("sys/class/net/{ifname}/operstate"))?;
    let index = IF_STATES
        .iter()
        .position(|s| *s == state)
        .filter(|i| *i > 0)?;
    if IF_STATES[index] != "up" {
        return Some((index, 0));
    }
    let speed = match sysfs.read(&format!("sys/class/net/{ifname}/speed")) {
        Some(text) => parse_u32(&text, 10)?,
        // Links without a speed answer EINVAL: no speed.
        None => 0,
    };
    Some((index, speed))
}

// The ethtool commands and flags libvirt asks for (linux/ethtool.h).
const SIOCETHTOOL: libc::c_ulong = 0x8946;
const ETHTOOL_GFLAGS: u32 = 0x25;
const ETHTOOL_GFEATURES: u32 = 0x3a;
/// (`ETHTOOL_G*` command, feature index) for the legacy getters: rx, tx,
/// sg, tso, gso, gro.
const LEGACY: [(u32, usize); 6] = [
    (0x14, 0),
    (0x16, 1),
    (0x18, 2),
    (0x1e, 3),
    (0x23, 4),
    (0x2b, 5),
];
/// (`ETH_FLAG_*`, feature index): lro, rxvlan, txvlan, ntuple, rxhash.
const FLAGS: [(u32, usize); 5] = [
    (1 << 15, 6),
    (1 << 8, 7),
    (1 << 7, 8),
    (1 << 27, 9),
    (1 << 28, 10),
];
const FEATURE_RDMA: usize = 11;
const FEATURE_TXUDPTNL: usize = 12;
/// `NETIF_F_GSO_UDP_TUNNEL`'s bit in the kernel's feature words.
const TX_UDP_TNL: u32 = 25;

#[repr(C)]
struct IfReq {
    name: [libc::c_char; libc::IFNAMSIZ],
    data: *mut libc::c_void,
    _pad: [u8; 16],
}

#[repr(C)]
struct EthtoolValue {
    cmd: u32,
    data: u32,
}

#[repr(C)]
struct EthtoolGFeatures {
    cmd: u32,
    size: u32,
    /// Two blocks of (available, requested, active, never_changed).
    blocks: [[u32; 4]; 2],
}

/// A datagram socket for ethtool requests, closed on drop.
struct Control(libc::c_int);

impl Control {
    fn open() -> Option<Control> {
        // SAFETY: socket(2) with constant arguments; the descriptor is owned.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        (fd >= 0).then_some(Control(fd))
    }

    /// `SIOCETHTOOL` on `ifname` with `data` as the request; whether it
    /// answered.
    fn ethtool<T>(&self, ifname: &str, data: &mut T) -> bool {
        let mut req = IfReq {
            name: [0; libc::IFNAMSIZ],
            data: data as *mut T as *mut libc::c_void,
            _pad: [0; 16],
        };
        if ifname.len() >= libc::IFNAMSIZ {
            return false;
        }
        for (d, s) in req.name.iter_mut().zip(ifname.bytes()) {
            *d = s as libc::c_char;
        }
        // SAFETY: `req` is a valid ifreq whose data points at `data`,
        // a request structure the kernel reads and fills in place.
        unsafe { libc::ioctl(self.0, SIOCETHTOOL as _, &mut req) == 0 }
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        // SAFETY: the descriptor is ours and closed once.
        unsafe { libc::close(self.0) };
    }
}

/// `virNetDevGetFeatures`: the set feature indexes, in libvirt's order.
pub fn features(sysfs: &Sysfs, ifname: &str) -> Vec<usize> {
    let mut out = Vec::new();
    if let Some(control) = Control::open() {
        for (cmd, feature) in LEGACY {
            let mut value = EthtoolValue { cmd, data: 0 };
            if control.ethtool(ifname, &mut value) && value.data > 0 {
                out.push(feature);
            }
        }
        let mut value = EthtoolValue {
            cmd: ETHTOOL_GFLAGS,
            data: 0,
        };
        if control.ethtool(ifname, &mut value) && value.data > 0 {
            out.extend(
                FLAGS
                    .iter()
                    .filter(|(flag, _)| value.data & flag != 0)
                    .map(|(_, f)| *f),
            );
        }
        let mut g = EthtoolGFeatures {
            cmd: ETHTOOL_GFEATURES,
            size: 2,
            blocks: [[0; 4]; 2],
        };
        let word = (TX_UDP_TNL / 32) as usize;
        if control.ethtool(ifname, &mut g) && g.blocks[word][2] & (1 << (TX_UDP_TNL % 32)) != 0 {
            out.push(FEATURE_TXUDPTNL);
        }
    }
    if has_rdma(sysfs, ifname) {
        out.push(FEATURE_RDMA);
    }
    out.sort_unstable();
    out
}

/// `virNetDevRDMAFeature`: an InfiniBand device with the same PCI
/// resources as the link's device.
fn has_rdma(sysfs: &Sysfs, ifname: &str) -> bool {
    let Some(resources) = sysfs.read(&format!("sys/class/net/{ifname}/device/resource")) else {
        return false;
    };
    crate::udev::read_dir_paths(&sysfs.path("sys/class/infiniband"))
        .iter()
        .any(|ib| {
            std::fs::read_to_string(ib.join("device/resource"))
                .is_ok_and(|r| r.trim_end_matches(['\n', '\r']) == resources)
        })
}
