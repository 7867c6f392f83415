//! Where a process sits in the host's cgroups, and which groups exist:
//! for tests that check a daemon's placement of QEMU.

use std::path::PathBuf;

/// The group of thread or process `tid` in the hierarchy carrying
/// `controller` ("cpu", "memory"...; "" for cgroup2), from
/// `/proc/TID/cgroup` (`ID:CONTROLLERS:PATH` lines).
pub fn group_of(tid: i32, controller: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{tid}/cgroup")).ok()?;
    text.lines().find_map(|line| {
        let (_, rest) = line.split_once(':')?;
        let (controllers, path) = rest.split_once(':')?;
        let found = match controller {
            "" => controllers.is_empty(),
            c => controllers.split(',').any(|x| x == c),
        };
        found.then(|| path.to_string())
    })
}

/// Every mounted cgroup hierarchy (v1 and cgroup2), from /proc/mounts.
pub fn hierarchies() -> Vec<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace().skip(1);
            let (dir, fstype) = (fields.next()?, fields.next()?);
            matches!(fstype, "cgroup" | "cgroup2").then(|| PathBuf::from(dir))
        })
        .collect()
}

/// The directories of group `rel` (e.g. "/machine/x") in any hierarchy.
pub fn existing(rel: &str) -> Vec<PathBuf> {
    hierarchies()
        .into_iter()
        .map(|h| h.join(rel.trim_start_matches('/')))
        .filter(|d| d.is_dir())
        .collect()
}

/// Wait until no hierarchy has `rel` (a daemon retries the removal of a
/// group still in use for a while); panics after 5 s.
pub fn wait_removed(rel: &str) {
    let start = std::time::Instant::now();
    while !existing(rel).is_empty() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "left behind: {:?}",
            existing(rel)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The vCPU threads of QEMU `pid` by index, found by the names QEMU
/// gives them with `-name ...,debug-threads=on` ("CPU 0/TCG", "CPU 1/KVM").
/// (Asking QEMU over the monitor would taint libvirtd's guest.)
pub fn vcpu_threads(pid: i32) -> Vec<(u32, i32)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, i32)> = tasks
        .flatten()
        .filter_map(|t| {
            let tid = t.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(t.path().join("comm")).ok()?;
            let (index, _accel) = comm.trim().strip_prefix("CPU ")?.split_once('/')?;
            Some((index.parse().ok()?, tid))
        })
        .collect();
    found.sort();
    found
}

/// The CPUs thread `tid` may run on, as the kernel lists them
/// (`Cpus_allowed_list` of /proc/TID/status: "0-1").
pub fn affinity(tid: i32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

/// The files `names` of group `rel` in the v1 hierarchy `controller`
/// (/sys/fs/cgroup/CONTROLLER/REL/NAME), one "NAME = VALUE" line each,
/// "NAME missing" when unreadable: a snapshot two daemons' groups can be
/// compared by.
pub fn v1_files(controller: &str, rel: &str, names: &[&str]) -> String {
    let dir = PathBuf::from("/sys/fs/cgroup")
        .join(controller)
        .join(rel.trim_start_matches('/'));
    names
        .iter()
        .map(|n| match std::fs::read_to_string(dir.join(n)) {
            Ok(v) => format!("{rel} {n} = {}\n", v.trim().replace('\n', "; ")),
            Err(_) => format!("{rel} {n} missing\n"),
        })
        .collect()
}

/// Every thread of process `pid`.
pub fn threads(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| t.file_name().to_str()?.parse().ok())
        .collect()
}

/// The QEMU process whose command line holds every one of `marks`.
pub fn qemu_with(marks: &[&str]) -> Option<i32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline);
        let qemu = cmdline.starts_with("/usr/bin/qemu-system");
        (qemu && marks.iter().all(|m| cmdline.contains(m))).then_some(pid)
    })
}

/// Whether this host looks like the one the placement tests expect: root,
/// v1 cpu and memory hierarchies, a cgroup2 mount with a controller.
pub fn hybrid_host() -> bool {
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/unified/cgroup.controllers")
        .is_ok_and(|c| !c.trim().is_empty());
    nix::unistd::geteuid().is_root()
        && PathBuf::from("/sys/fs/cgroup/cpu/cgroup.procs").exists()
        && PathBuf::from("/sys/fs/cgroup/memory/cgroup.procs").exists()
        && v2
}

#[cfg(test)]
mod tests {
    #[test]
    fn own_groups_are_found() {
        let me = std::process::id() as i32;
        if std::path::Path::new("/proc/self/cgroup").exists() {
            assert!(super::group_of(me, "").is_some() || super::group_of(me, "memory").is_some());
        }
        assert_eq!(super::group_of(me, "no-such-controller"), None);
        // Not QEMU: no vCPU threads.
        assert!(super::vcpu_threads(me).is_empty());
    }
}
