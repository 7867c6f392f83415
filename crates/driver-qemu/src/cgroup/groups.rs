//! Making, filling and removing one group in every hierarchy the layout
//! uses (the backends' `makeGroup`, `addTask` and `remove`), cgroup2
//! first as libvirt orders its backends.

use super::host::{parse_mounts, Layout};
use super::Controller;
use rvirt_util::{Error, Result};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Which group is being made: libvirt's `virCgroupMakeGroup` flags.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Partition,
    /// The guest's group (`VIR_CGROUP_MEM_HIERACHY`).
    Machine,
    /// `emulator`, `vcpuN` (`VIR_CGROUP_THREAD`): cpu, cpuacct, cpuset only.
    Thread,
}

const THREAD_CONTROLLERS: [Controller; 3] =
    [Controller::Cpu, Controller::Cpuacct, Controller::Cpuset];

pub(super) fn at(mount: &Path, rel: &str) -> PathBuf {
    mount.join(rel.trim_start_matches('/'))
}

fn io_error(what: &str, e: &std::io::Error) -> Error {
    Error::system(super::CGROUP, what, e)
}

pub(super) fn write(path: &Path, value: &str) -> Result<()> {
    std::fs::write(path, value)
        .map_err(|e| io_error(&format!("Unable to write to '{}'", path.display()), &e))
}

pub(super) fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end_matches('\n').to_string())
        .map_err(|e| io_error(&format!("Unable to read from '{}'", path.display()), &e))
}

/// The v2 mask a group of `kind` has (a thread group only its three).
fn v2_mask(layout: &Layout, kind: Kind) -> Option<(&Path, u32)> {
    let (mount, mask) = layout.v2.as_ref()?;
    let mask = match kind {
        Kind::Thread => mask & THREAD_CONTROLLERS.iter().fold(0, |a, c| a | c.bit()),
        _ => *mask,
    };
    (mask != 0).then_some((mount.as_path(), mask))
}

/// The v1 hierarchies a group of `kind` lives in.
pub fn v1_of(layout: &Layout, kind: Kind) -> impl Iterator<Item = &(Controller, PathBuf)> {
    layout
        .v1
        .iter()
        .filter(move |(c, _)| kind != Kind::Thread || THREAD_CONTROLLERS.contains(c))
}

/// `mkdir` unless it exists; `Ok(true)` when this call made it.
fn make_dir(path: &Path, create: bool, what: impl Fn() -> String) -> Result<bool> {
    if path.exists() {
        return Ok(false);
    }
    if !create {
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        return Err(io_error(&what(), &e));
    }
    match std::fs::create_dir(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io_error(&what(), &e)),
    }
}

/// The group `rel` under `parent` in every hierarchy; controllers a
/// hierarchy cannot give (blkio's mkdir, a v2 controller the parent will
/// not delegate) are dropped from `layout`, as libvirt drops them.
pub fn make(layout: &mut Layout, parent: &str, rel: &str, create: bool, kind: Kind) -> Result<()> {
    if let Some((mount, mask)) = v2_mask(layout, kind) {
        let dir = at(mount, rel);
        make_dir(&dir, create, || {
            format!("Failed to create v2 cgroup '{}'", dir.display())
        })?;
        if create {
            let kept = v2_setup(&at(mount, parent), &dir, mask, kind)?;
            if let Some((_, all)) = layout.v2.as_mut() {
                *all &= kept | !mask;
            }
        }
    }
    let mut dropped = Vec::new();
    for (c, mount) in v1_of(layout, kind) {
        let dir = at(mount, rel);
        let what = || format!("Failed to create v1 controller {} for group", c.v1_name());
        let made = match make_dir(&dir, create, what) {
            Ok(made) => made,
            // Old kernels refuse nested blkio groups: blkio goes, not the start.
            Err(_) if *c == Controller::Blkio => {
                tracing::debug!("Ignoring mkdir failure with blkio controller");
                dropped.push(*c);
                continue;
            }
            Err(e) => return Err(e),
        };
        if made && *c == Controller::Cpuset {
            cpuset_inherit(&at(mount, parent), &dir)?;
        }
        if made && *c == Controller::Memory && kind == Kind::Machine {
            memory_use_hierarchy(&dir)?;
        }
    }
    layout.v1.retain(|(c, _)| !dropped.contains(c));
    Ok(())
}

/// cgroup2 after mkdir: a thread group is made `threaded` with cpu and
/// cpuset delegated to it; another gets the parent's controllers it can
/// (cpuacct and devices need none). Returns the controllers kept.
fn v2_setup(parent: &Path, dir: &Path, mask: u32, kind: Kind) -> Result<u32> {
    let enable = |c: Controller| {
        let file = parent.join("cgroup.subtree_control");
        std::fs::write(&file, format!("+{}", c.v2_name())).map_err(|e| {
            let what = format!(
                "Failed to enable controller '+{}' for '{}'",
                c.v2_name(),
                file.display()
            );
            io_error(&what, &e)
        })
    };
    let mut kept = mask;
    if kind == Kind::Thread {
        write(&dir.join("cgroup.type"), "threaded")?;
        for c in [Controller::Cpu, Controller::Cpuset] {
            if mask & c.bit() != 0 {
                enable(c)?;
            }
        }
        return Ok(kept);
    }
    for c in Controller::ALL {
        let implicit = matches!(c, Controller::Cpuacct | Controller::Devices);
        if mask & c.bit() != 0 && !implicit && enable(c).is_err() {
            tracing::debug!("failed to enable '{}' controller, skipping", c.v2_name());
            kept &= !c.bit();
        }
    }
    Ok(kept)
}

/// `virCgroupV1CpuSetInherit`: a new cpuset group starts with no CPUs
/// and no memory nodes; it gets its parent's.
fn cpuset_inherit(parent: &Path, dir: &Path) -> Result<()> {
    for key in ["cpuset.cpus", "cpuset.mems", "cpuset.memory_migrate"] {
        let value = read(&parent.join(key))?;
        write(&dir.join(key), &value)?;
    }
    Ok(())
}

/// `virCgroupV1SetMemoryUseHierarchy` (set twice is an error).
fn memory_use_hierarchy(dir: &Path) -> Result<()> {
    let file = dir.join("memory.use_hierarchy");
    if !file.exists() || read(&file)? == "1" {
        return Ok(());
    }
    write(&file, "1")
}

/// Move `pid` into `rel`: a whole process (`cgroup.procs`) or one thread
/// (`cgroup.threads` in v2, `tasks` in v1). libvirt writes v1's `tasks`
/// for the process too, before exec when QEMU has one thread; rvirtd
/// places QEMU right after spawning it, so every thread it has moves.
pub fn add(layout: &Layout, rel: &str, pid: i32, kind: Kind) -> Result<()> {
    let (v2_file, v1_file) = match kind {
        Kind::Thread => ("cgroup.threads", "tasks"),
        _ => ("cgroup.procs", "cgroup.procs"),
    };
    if let Some((mount, _)) = v2_mask(layout, kind) {
        write(&at(mount, rel).join(v2_file), &pid.to_string())?;
    }
    for (_, mount) in v1_of(layout, kind) {
        write(&at(mount, rel).join(v1_file), &pid.to_string())?;
    }
    Ok(())
}

/// Write `value` to `key` of the v1 group `rel` of `controller`, if used.
pub fn set_v1(
    layout: &Layout,
    controller: Controller,
    rel: &str,
    key: &str,
    value: &str,
) -> Result<()> {
    match layout.v1.iter().find(|(c, _)| *c == controller) {
        Some((_, mount)) => write(&at(mount, rel).join(key), value),
        None => Ok(()),
    }
}

/// Every hierarchy libvirt could have used, whatever the layout or the
/// settings were when the group was made: all cgroup2 mounts and the v1
/// mounts but named ones (systemd's is never ours).
fn all_hierarchies() -> Vec<PathBuf> {
    let text = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    parse_mounts(&text)
        .into_iter()
        .filter(|m| m.fstype == "cgroup2" || (m.fstype == "cgroup" && !m.opts.contains("name=")))
        .map(|m| m.dir)
        .collect()
}

/// `virCgroupRemove`: the group `rel` and its children (the thread
/// groups) in every hierarchy; a missing one is no error. The first
/// other error is returned after every hierarchy was tried.
pub fn remove(rel: &str) -> std::result::Result<(), std::io::Error> {
    if rel.trim_matches('/').is_empty() {
        return Ok(()); // never the root group
    }
    let mut first = Ok(());
    for mount in all_hierarchies() {
        if let Err(e) = remove_recursively(&at(&mount, rel)) {
            tracing::debug!("Unable to remove {}: {e}", at(&mount, rel).display());
            if first.is_ok() {
                first = Err(e);
            }
        }
    }
    first
}

/// `virCgroupRemoveRecursively`: children first, then the group.
fn remove_recursively(dir: &Path) -> std::result::Result<(), std::io::Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut result = Ok(());
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            result = remove_recursively(&entry.path());
            if result.is_err() {
                break;
            }
        }
    }
    match std::fs::remove_dir(dir) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => result,
    }
}
