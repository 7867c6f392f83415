//! The host's cgroup hierarchies as libvirt finds them (`vircgroupv1.c`,
//! `vircgroupv2.c`): the mounts in /proc/mounts, which backends are
//! usable, and which controllers each one handles. On a hybrid host (v1
//! controllers plus a cgroup2 mount) both backends work side by side.

use super::{cgroup_error, Controller};
use rvirt_util::Result;
use std::path::{Path, PathBuf};

/// One line of /proc/mounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub dir: PathBuf,
    pub fstype: String,
    pub opts: String,
}

/// getmntent's octal escapes (`\040` for a space) undone.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// /proc/mounts (or /proc/self/mounts): device, directory, type, options.
pub fn parse_mounts(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace().skip(1);
            let (dir, fstype, opts) = (fields.next()?, fields.next()?, fields.next()?);
            Some(Mount {
                dir: PathBuf::from(unescape(dir)),
                fstype: unescape(fstype),
                opts: unescape(opts),
            })
        })
        .collect()
}

/// One line of /proc/PID/cgroup: the controllers of a hierarchy (empty
/// for cgroup2's `0::`) and the process's group in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub controllers: String,
    pub path: String,
}

/// /proc/PID/cgroup: `ID:CONTROLLERS:PATH` lines (the path may hold ':').
pub fn parse_proc_cgroup(text: &str) -> Vec<Membership> {
    text.lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once(':')?;
            let (controllers, path) = rest.split_once(':')?;
            Some(Membership {
                controllers: controllers.to_string(),
                path: path.to_string(),
            })
        })
        .collect()
}

/// The group of `pid` in the hierarchy that carries `controller` (v1
/// name, e.g. "cpu", "name=systemd"), or in cgroup2 for "".
pub fn group_of(memberships: &[Membership], controller: &str) -> Option<String> {
    memberships
        .iter()
        .find(|m| match controller {
            "" => m.controllers.is_empty(),
            c => m.controllers.split(',').any(|x| x == c),
        })
        .map(|m| m.path.clone())
}

/// `virCgroupV1MountOptsMatchController`: `name` is one of the options.
fn opts_match(opts: &str, name: &str) -> bool {
    opts.split(',').any(|o| o == name)
}

/// What the host offers the guests' groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The v1 hierarchies used, with their mount points (no systemd one:
    /// libvirt never makes groups there).
    pub v1: Vec<(Controller, PathBuf)>,
    /// The cgroup2 mount when that backend is usable, and the controllers
    /// it handles (a bit per [`Controller`]).
    pub v2: Option<(PathBuf, u32)>,
}

/// What detection reads from the host, gathered so it can be tested.
pub struct HostView<'a> {
    pub mounts: &'a [Mount],
    /// /proc/cgroups exists (the v1 backend needs it).
    pub proc_cgroups: bool,
    /// A cgroup2 mount's `cgroup.controllers`.
    pub v2_controllers: &'a dyn Fn(&Path) -> Option<String>,
    /// The kernel lets us attach device programs to cgroup2
    /// (`virCgroupV2DevicesAvailable`).
    pub bpf_devices: &'a dyn Fn(&Path) -> bool,
}

impl Layout {
    /// The layout of this host; `None` where neither backend is usable
    /// (`virCgroupAvailable`).
    pub fn detect(wanted: Option<u32>) -> Result<Option<Layout>> {
        let Ok(text) = std::fs::read_to_string("/proc/mounts") else {
            return Ok(None);
        };
        let mounts = parse_mounts(&text);
        let read = |dir: &Path| std::fs::read_to_string(dir.join("cgroup.controllers")).ok();
        let view = HostView {
            mounts: &mounts,
            proc_cgroups: Path::new("/proc/cgroups").exists(),
            v2_controllers: &read,
            bpf_devices: &super::bpf::devices_available,
        };
        Layout::from_view(&view, wanted)
    }

    /// Both backends' `detectControllers`, v2 first: what v2 handles, v1
    /// does not (`detected`). `wanted` is qemu.conf's `cgroup_controllers`.
    pub fn from_view(view: &HostView, wanted: Option<u32>) -> Result<Option<Layout>> {
        let v1_available = view.proc_cgroups
            && view
                .mounts
                .iter()
                .any(|m| m.fstype == "cgroup" && !m.opts.contains("name="));
        let v2_mount = view.mounts.iter().rev().find(|m| m.fstype == "cgroup2");
        let v2_text = v2_mount.and_then(|m| (view.v2_controllers)(&m.dir));
        let v2_available = v2_text.as_deref().is_some_and(|t| !t.is_empty());
        if !v1_available && !v2_available {
            return Ok(None);
        }
        let wanted_mask = wanted.unwrap_or(u32::MAX);
        let v2 = match (v2_available, v2_mount) {
            (true, Some(m)) => {
                let mut mask = v2_text
                    .as_deref()
                    .unwrap_or_default()
                    .split_whitespace()
                    .filter_map(Controller::from_v2_name)
                    .fold(0, |acc, c| acc | c.bit());
                // cgroup2's cpu.stat always exists: no cpuacct needed.
                mask |= Controller::Cpuacct.bit();
                if (view.bpf_devices)(&m.dir) {
                    mask |= Controller::Devices.bit();
                }
                Some((m.dir.clone(), mask & wanted_mask))
            }
            _ => None,
        };
        let detected = v2.as_ref().map_or(0, |(_, mask)| *mask);
        let v1 = if v1_available {
            v1_controllers(view.mounts, wanted, detected)?
        } else {
            Vec::new()
        };
        if detected == 0 && v1.is_empty() {
            return Err(cgroup_error(
                "At least one cgroup controller is required",
                libc::ENXIO,
            ));
        }
        Ok(Some(Layout { v1, v2 }))
    }

    pub fn has(&self, c: Controller) -> bool {
        self.v1.iter().any(|(x, _)| *x == c)
            || self.v2.as_ref().is_some_and(|(_, m)| m & c.bit() != 0)
    }
}

/// `virCgroupV1DetectMounts` + `virCgroupV1DetectControllers`: each
/// controller's last mount, the unwanted and the v2-handled ones dropped;
/// an unwanted controller co-mounted with a wanted one is an error.
fn v1_controllers(
    mounts: &[Mount],
    wanted: Option<u32>,
    detected: u32,
) -> Result<Vec<(Controller, PathBuf)>> {
    let mounted: Vec<(Controller, PathBuf)> = Controller::ALL
        .iter()
        .filter(|c| **c != Controller::Systemd && c.bit() & detected == 0)
        .filter_map(|c| {
            let m = mounts
                .iter()
                .rev()
                .find(|m| m.fstype == "cgroup" && opts_match(&m.opts, c.v1_name()))?;
            Some((*c, m.dir.clone()))
        })
        .collect();
    let Some(wanted) = wanted else {
        return Ok(mounted);
    };
    let (kept, dropped): (Vec<_>, Vec<_>) = mounted
        .into_iter()
        .partition(|(c, _)| wanted & c.bit() != 0);
    for (unwanted, dir) in &dropped {
        if let Some((other, _)) = kept.iter().find(|(_, d)| d == dir) {
            return Err(cgroup_error(
                &format!(
                    "V1 controller '{}' is not wanted, but '{}' is co-mounted",
                    unwanted.v1_name(),
                    other.v1_name()
                ),
                libc::EINVAL,
            ));
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This project's CI host: v1 controllers each on their own mount, a
    /// systemd name hierarchy and a cgroup2 mount with hugetlb only.
    const HYBRID: &str = "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n\
        cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n\
        cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0\n\
        cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0\n\
        cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n\
        cgroup /sys/fs/cgroup/devices cgroup rw,relatime,devices 0 0\n\
        cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0\n\
        cgroup /sys/fs/cgroup/blkio cgroup rw,relatime,blkio 0 0\n\
        cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0\n\
        cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0\n\
        cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";

    fn layout(mounts: &str, v2: &str, bpf: bool, wanted: Option<u32>) -> Result<Option<Layout>> {
        let mounts = parse_mounts(mounts);
        let v2 = v2.to_string();
        let read = move |_: &Path| Some(v2.clone());
        let bpf = move |_: &Path| bpf;
        let view = HostView {
            mounts: &mounts,
            proc_cgroups: true,
            v2_controllers: &read,
            bpf_devices: &bpf,
        };
        Layout::from_view(&view, wanted)
    }

    fn names(l: &Layout) -> Vec<&'static str> {
        l.v1.iter().map(|(c, _)| c.v1_name()).collect()
    }

    #[test]
    fn mounts_parse_with_escapes() {
        let m = parse_mounts("cgroup /sys/fs/cgroup/a\\040b cgroup rw,cpu 0 0\nbad\n");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].dir, PathBuf::from("/sys/fs/cgroup/a b"));
        assert_eq!(m[0].fstype, "cgroup");
        assert!(opts_match(&m[0].opts, "cpu"));
        assert!(!opts_match("rw,cpuacct", "cpu"));
    }

    #[test]
    fn proc_cgroup_lines() {
        let text = "9:name=systemd:/\n3:cpu,cpuacct:/machine/q.libvirt-qemu/emulator\n\
                    4:memory:/a:b\n0::/machine/q.libvirt-qemu/emulator\n";
        let m = parse_proc_cgroup(text);
        assert_eq!(m.len(), 4);
        assert_eq!(
            group_of(&m, "cpuacct").as_deref(),
            Some("/machine/q.libvirt-qemu/emulator")
        );
        assert_eq!(group_of(&m, "memory").as_deref(), Some("/a:b"));
        assert_eq!(
            group_of(&m, "").as_deref(),
            Some("/machine/q.libvirt-qemu/emulator")
        );
        assert_eq!(group_of(&m, "name=systemd").as_deref(), Some("/"));
        assert_eq!(group_of(&m, "blkio"), None);
    }

    /// cgroup2 with a controller takes cpuacct and (with BPF) devices
    /// from v1; pids and the systemd hierarchy are never libvirt's.
    #[test]
    fn hybrid_host_splits_controllers() {
        let l = layout(HYBRID, "hugetlb\n", true, None).unwrap().unwrap();
        assert_eq!(names(&l), ["cpu", "cpuset", "memory", "freezer", "blkio"]);
        let (dir, mask) = l.v2.clone().unwrap();
        assert_eq!(dir, PathBuf::from("/sys/fs/cgroup/unified"));
        assert_eq!(mask, Controller::Cpuacct.bit() | Controller::Devices.bit());
        let l = layout(HYBRID, "hugetlb\n", false, None).unwrap().unwrap();
        assert_eq!(
            names(&l),
            ["cpu", "cpuset", "memory", "devices", "freezer", "blkio"]
        );
        // systemd's hybrid mode: an empty cgroup2 is not a backend.
        let l = layout(HYBRID, "", true, None).unwrap().unwrap();
        assert_eq!(l.v2, None);
        assert_eq!(
            names(&l),
            ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio"]
        );
    }

    #[test]
    fn wanted_controllers_filter() {
        let wanted = Controller::Cpu.bit() | Controller::Memory.bit();
        let l = layout(HYBRID, "hugetlb", true, Some(wanted))
            .unwrap()
            .unwrap();
        assert_eq!(names(&l), ["cpu", "memory"]);
        assert_eq!(l.v2.unwrap().1, 0);
        let comounted = "cgroup /c cgroup rw,cpu,cpuacct 0 0\n";
        let err = layout(comounted, "", false, Some(Controller::Cpu.bit())).unwrap_err();
        assert_eq!(
            err.message,
            "V1 controller 'cpuacct' is not wanted, but 'cpu' is co-mounted: Invalid argument"
        );
        let none = layout(comounted, "", false, Some(Controller::Memory.bit())).unwrap_err();
        assert_eq!(none.int1, libc::ENXIO);
    }

    #[test]
    fn no_cgroups_no_layout() {
        assert_eq!(
            layout("proc /proc proc rw 0 0\n", "", false, None).unwrap(),
            None
        );
        // Only a named hierarchy: no v1 backend.
        let named = "cgroup /sys/fs/cgroup/systemd cgroup rw,name=systemd 0 0\n";
        assert_eq!(layout(named, "", false, None).unwrap(), None);
        let pure_v2 = "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n";
        let l = layout(pure_v2, "cpuset cpu io memory pids", false, None)
            .unwrap()
            .unwrap();
        assert!(l.v1.is_empty());
        let all = [
            Controller::Cpu,
            Controller::Cpuacct,
            Controller::Cpuset,
            Controller::Memory,
            Controller::Blkio,
        ];
        assert!(all.iter().all(|c| l.has(*c)));
        assert!(!l.has(Controller::Devices));
    }
}
