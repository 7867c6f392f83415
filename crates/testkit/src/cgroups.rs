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

/// The thread ids QEMU reports for its vCPUs, in vCPU order, from a
/// `query-cpus-fast` reply as `virsh qemu-monitor-command` prints it.
pub fn vcpu_threads(reply: &str) -> Vec<i32> {
    // Each vCPU's `props` (flat) has a topology `thread-id` of its own.
    let mut flat = String::new();
    let mut rest = reply;
    while let Some(at) = rest.find("\"props\":") {
        flat.push_str(&rest[..at]);
        rest = rest[at..].split_once('}').map_or("", |(_, after)| after);
    }
    flat.push_str(rest);
    flat.split("\"thread-id\":")
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .collect()
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
    fn vcpu_threads_from_a_reply() {
        let reply = r#"{"return":[{"thread-id":4242,"props":{"core-id":0,"thread-id":0},"cpu-index":0},{"props":{"thread-id":1},"cpu-index":1,"thread-id": 4243}],"id":"libvirt-9"}"#;
        assert_eq!(super::vcpu_threads(reply), [4242, 4243]);
        assert!(super::vcpu_threads("{}").is_empty());
    }

    #[test]
    fn own_groups_are_found() {
        let me = std::process::id() as i32;
        if std::path::Path::new("/proc/self/cgroup").exists() {
            assert!(super::group_of(me, "").is_some() || super::group_of(me, "memory").is_some());
        }
        assert_eq!(super::group_of(me, "no-such-controller"), None);
    }
}
