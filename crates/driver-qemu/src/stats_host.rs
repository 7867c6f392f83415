//! The figures of a running guest the host keeps: its interfaces'
//! counters (libvirt's virNetDevTapInterfaceStats on /proc/net/dev) and
//! the KVM halt-polling times in debugfs (virHostCPUGetHaltPollTime).

use crate::state::DomainObj;
use rvirt_conf::domain::interface::NetType;
use rvirt_util::{TypedParamValue as V, TypedParams};

/// The `net` group of a running guest (qemuDomainGetStatsInterface):
/// the count, then each interface with a host device (a tap: user-mode
/// networking has none, so it gets no entry), its name and counters.
pub fn interfaces(p: &mut TypedParams, obj: &DomainObj) {
    let nets = &obj.def.devices.interfaces;
    p.push("net.count", V::UInt(nets.len() as u32));
    let dev = std::fs::read_to_string("/proc/net/dev").unwrap_or_default();
    for (i, net) in nets.iter().enumerate() {
        if !matches!(
            net.net_type,
            NetType::Ethernet | NetType::Bridge | NetType::Network
        ) {
            continue;
        }
        let ifname = crate::command::tap_name(net, i);
        p.push(format!("net.{i}.name"), V::String(ifname.clone()));
        // A tap's host side sees the guest's traffic the other way round:
        // what the host transmits the guest received (libvirt's `swapped`).
        let Some([rx, tx]) = tap_counters(&dev, &ifname) else {
            continue;
        };
        for (dir, counters) in [("rx", tx), ("tx", rx)] {
            for (name, value) in ["bytes", "pkts", "errs", "drop"].iter().zip(counters) {
                p.push(format!("net.{i}.{dir}.{name}"), V::ULLong(value));
            }
        }
    }
}

/// The host's (receive, transmit) bytes, packets, errors and drops of
/// `ifname` in /proc/net/dev's text: the first line whose name ends with
/// it, as libvirt matches.
fn tap_counters(dev: &str, ifname: &str) -> Option<[[u64; 4]; 2]> {
    dev.lines().find_map(|line| {
        let (name, figures) = line.split_once(':')?;
        if !name.ends_with(ifname) {
            return None;
        }
        let f: Vec<u64> = figures
            .split_whitespace()
            .map(|v| v.parse().ok())
            .collect::<Option<_>>()?;
        (f.len() == 16).then(|| [[f[0], f[1], f[2], f[3]], [f[8], f[9], f[10], f[11]]])
    })
}

/// (success, fail) halt-polling ns of a KVM guest from debugfs's
/// `kvm/PID-FD/` directory, when debugfs is mounted and readable.
pub fn debugfs_haltpoll(pid: i32) -> Option<(u64, u64)> {
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    let debugfs = mounts.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        let (_, dir, kind) = (f.next()?, f.next()?, f.next()?);
        (kind == "debugfs").then(|| dir.to_string())
    })?;
    let kvm = std::path::Path::new(&debugfs).join("kvm");
    let prefix = format!("{pid}-");
    let vm = std::fs::read_dir(&kvm)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))?;
    let read = |name: &str| -> Option<u64> {
        std::fs::read_to_string(vm.path().join(name))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    Some((read("halt_poll_success_ns")?, read("halt_poll_fail_ns")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tap_counters_are_read_by_name_suffix() {
        let dev = "Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n    lo: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n vnet0: 100 2 3 4 0 0 0 0 500 6 7 8 0 0 0 0\n";
        assert_eq!(
            tap_counters(dev, "vnet0"),
            Some([[100, 2, 3, 4], [500, 6, 7, 8]])
        );
        assert_eq!(tap_counters(dev, "tap9"), None);
    }
}
