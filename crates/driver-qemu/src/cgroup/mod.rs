//! Cgroup placement of QEMU guests as libvirt 9.0 makes it on a host
//! without systemd-machined (`virCgroupNewMachineManual` from
//! `virDomainCgroupSetupCgroup`, `qemuProcessSetupEmulator`,
//! `qemuProcessSetupVcpus`, `virDomainCgroupRemoveCgroup`):
//! the guest's group `qemu-ID-NAME.libvirt-qemu` under its
//! `<resource><partition>` (default `/machine`) in every hierarchy used,
//! and `emulator` / `vcpuN` thread groups in the cpu, cpuacct and cpuset
//! ones.
//!
//! Only a privileged daemon on a host with cgroups places guests; where
//! the groups cannot be made (no cgroup fs, EPERM, EACCES, a read-only
//! mount) the guest runs without, with a log line.
//!
//! Two daemons on one machine may start guests of the same name with the
//! same id and so share one group. Nothing here fails a start or a stop
//! for that: making a group that exists is no error, removing a group
//! still in use fails harmlessly (EBUSY) and is retried a little, then
//! left to the daemon whose guest still uses it.
//!
//! The tunables (`<cputune>`, `<memtune>`, `<blkiotune>`, `<numatune>`)
//! are written by [`setup`] at start and by the driver's tuning calls,
//! through [`files`].
//!
//! Not done: the devices ACL (neither v1's `devices.deny`/`allow` nor
//! cgroup2's BPF program); the devices controller is therefore only a
//! placement in v1 and is never used under cgroup2.

mod bpf;
pub mod files;
mod groups;
pub mod host;
pub mod names;
pub mod setup;

use groups::Kind;
use host::Layout;
use rvirt::driver::StateConfig;
use rvirt_conf::domain::resource::Resource;
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::time::Duration;

pub use host::{group_of, parse_proc_cgroup, Membership};

/// qemu.conf's `cgroup_controllers`: a comma-separated list (rvirtd.conf
/// takes a list too); unset means every controller the host has.
pub const CONTROLLERS_KEY: &str = "qemu_cgroup_controllers";
/// `VIR_FROM_CGROUP`.
pub const CGROUP: ErrorDomain = ErrorDomain(54);
/// The partition of a guest without `<resource>`.
pub const DEFAULT_PARTITION: &str = "/machine";
/// `qemuProcessStop`'s retries of a busy group's removal.
const REMOVE_RETRIES: u32 = 5;
const REMOVE_PAUSE: Duration = Duration::from_millis(200);

/// libvirt's `virCgroupController`, in its order (the bit numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controller {
    Cpu,
    Cpuacct,
    Cpuset,
    Memory,
    Devices,
    Freezer,
    Blkio,
    NetCls,
    PerfEvent,
    Systemd,
}

impl Controller {
    pub const ALL: [Controller; 10] = [
        Controller::Cpu,
        Controller::Cpuacct,
        Controller::Cpuset,
        Controller::Memory,
        Controller::Devices,
        Controller::Freezer,
        Controller::Blkio,
        Controller::NetCls,
        Controller::PerfEvent,
        Controller::Systemd,
    ];

    pub fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The v1 name (also qemu.conf's).
    pub fn v1_name(self) -> &'static str {
        const NAMES: [&str; 10] = [
            "cpu",
            "cpuacct",
            "cpuset",
            "memory",
            "devices",
            "freezer",
            "blkio",
            "net_cls",
            "perf_event",
            "name=systemd",
        ];
        NAMES[self as usize]
    }

    /// cgroup2 calls blkio `io`.
    pub fn v2_name(self) -> &'static str {
        match self {
            Controller::Blkio => "io",
            c => c.v1_name(),
        }
    }

    pub fn from_v1_name(name: &str) -> Option<Controller> {
        Controller::ALL.into_iter().find(|c| c.v1_name() == name)
    }

    pub fn from_v2_name(name: &str) -> Option<Controller> {
        Controller::ALL.into_iter().find(|c| c.v2_name() == name)
    }
}

/// A system error of the cgroup code with `errno`.
pub(crate) fn cgroup_error(what: &str, errno: i32) -> Error {
    Error::system(CGROUP, what, &std::io::Error::from_raw_os_error(errno))
}

/// `virCgroupNewIgnoreError`: errors that mean "no cgroups for us here".
/// libvirt ignores ENXIO, EPERM and EACCES; a read-only cgroup mount
/// (EROFS) fails its start, rvirtd runs the guest without placement.
fn ignorable(e: &Error) -> bool {
    e.code == ErrorCode::SYSTEM_ERROR
        && [libc::ENXIO, libc::EPERM, libc::EACCES, libc::EROFS].contains(&e.int1)
}

/// The driver's cgroup settings.
#[derive(Clone, Debug, Default)]
pub struct Cgroups {
    /// `cgroup_controllers` as a mask, `None` for all.
    wanted: Option<u32>,
}

/// Parse `cgroup_controllers` (names separated by commas or spaces).
fn parse_controllers(list: &str) -> Result<u32> {
    list.split([',', ' '])
        .filter(|s| !s.is_empty())
        .try_fold(0, |mask, name| match Controller::from_v1_name(name) {
            Some(c) => Ok(mask | c.bit()),
            None => Err(Error::new(
                ErrorDomain::CONF,
                ErrorCode::CONF_SYNTAX,
                format!("Unknown cgroup controller '{name}'"),
            )),
        })
}

impl Cgroups {
    pub fn new(config: &StateConfig) -> Result<Cgroups> {
        let wanted = config
            .setting(CONTROLLERS_KEY)
            .map(parse_controllers)
            .transpose()?;
        Ok(Cgroups { wanted })
    }

    /// `virDomainCgroupInitCgroup` up to the groups' creation, before
    /// QEMU runs: the live definition gets its partition (where the host
    /// has cgroups at all), the partition and guest groups are made.
    /// `Ok(None)`: the guest runs without placement.
    pub fn create(
        &self,
        def: &mut DomainDef,
        id: i32,
        privileged: bool,
    ) -> Result<Option<Machine>> {
        if !privileged {
            return Ok(None);
        }
        let layout = match Layout::detect(self.wanted) {
            Ok(None) => return Ok(None),
            Ok(Some(layout)) => Ok(layout),
            Err(e) => Err(e),
        };
        let partition = set_partition(def)?;
        let made = layout.and_then(|layout| Machine::make(layout, &partition, id, &def.name));
        match made {
            Ok(m) => Ok(Some(m)),
            Err(e) if ignorable(&e) => {
                tracing::debug!("No cgroups present/configured/accessible, ignoring error");
                tracing::warn!(
                    "guest {} runs without cgroup placement: {}",
                    def.name,
                    e.message
                );
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the cpuset controller is wanted and mounted, so strict
    /// NUMA binding is the cgroup's (`virCgroupControllerAvailable`).
    pub fn cpuset_binds(&self) -> bool {
        Layout::detect(self.wanted)
            .ok()
            .flatten()
            .is_some_and(|l| l.has(Controller::Cpuset))
    }

    /// The group QEMU `pid` of a running guest is in, found as
    /// `virCgroupNewDetectMachine` finds it: from /proc/PID/cgroup, kept
    /// only when it is this guest's (in the cpu, cpuset or cgroup2
    /// hierarchies QEMU's main thread sits in `emulator`).
    pub fn existing(&self, def: &DomainDef, id: i32, pid: i32) -> Option<Machine> {
        let partition = def.resource.as_ref()?.partition.as_deref()?;
        let layout = Layout::detect(self.wanted).ok()??;
        let path = group_path(partition, id, &def.name).ok()?;
        let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
        let memberships = parse_proc_cgroup(&text);
        let mut names = layout.v1.iter().map(|(c, _)| c.v1_name());
        let names = names.by_ref().chain(layout.v2.iter().map(|_| ""));
        let inside = |g: String| g == path || g == format!("{path}/emulator");
        let placed = names.filter_map(|c| group_of(&memberships, c)).any(inside);
        placed.then(|| Machine {
            layout: layout.clone(),
            path: path.clone(),
            guest: def.name.clone(),
        })
    }

    /// `virDomainCgroupRemoveCgroup` once QEMU is gone: the guest's group
    /// and its thread groups, in every hierarchy. Still in use (another
    /// daemon's guest of the same name and id shares it), the removal is
    /// retried for a second in the background and then left alone.
    pub fn remove(&self, def: &DomainDef, id: i32, privileged: bool) {
        let partition = def.resource.as_ref().and_then(|r| r.partition.as_deref());
        let (Some(partition), true) = (partition, privileged && id > 0) else {
            return;
        };
        let Ok(path) = group_path(partition, id, &def.name) else {
            return;
        };
        match groups::remove(&path) {
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                std::thread::spawn(move || retry_remove(&path));
            }
            Err(e) => tracing::warn!("Failed to remove cgroup for {}: {e}", def.name),
            Ok(()) => {}
        }
    }
}

fn retry_remove(path: &str) {
    for _ in 0..REMOVE_RETRIES {
        std::thread::sleep(REMOVE_PAUSE);
        match groups::remove(path) {
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => continue,
            Err(e) => return tracing::warn!("Failed to remove cgroup {path}: {e}"),
            Ok(()) => return,
        }
    }
    tracing::debug!("cgroup {path} still in use (another guest of the same name and id?)");
}

/// The live definition's partition: `/machine` unless it names one,
/// which must be absolute (`virDomainCgroupInitCgroup`).
fn set_partition(def: &mut DomainDef) -> Result<String> {
    let resource = def.resource.get_or_insert(Resource {
        partition: None,
        appid: None,
    });
    let partition = resource
        .partition
        .get_or_insert_with(|| DEFAULT_PARTITION.to_string())
        .clone();
    if !partition.starts_with('/') {
        return Err(Error::new(
            ErrorDomain::QEMU,
            ErrorCode::CONFIG_UNSUPPORTED,
            format!("Resource partition '{partition}' must start with '/'"),
        ));
    }
    Ok(partition)
}

/// /proc/cgroups, which escaping reads (ENXIO without it, as libvirt).
fn proc_cgroups() -> Result<String> {
    std::fs::read_to_string("/proc/cgroups").map_err(|e| {
        let errno = match e.raw_os_error() {
            Some(libc::ENOENT) | None => libc::ENXIO,
            Some(n) => n,
        };
        cgroup_error("Cannot open /proc/cgroups", errno)
    })
}

/// The guest's group from each hierarchy's root:
/// `/machine/qemu-1-NAME.libvirt-qemu`.
fn group_path(partition: &str, id: i32, name: &str) -> Result<String> {
    Ok(group_path_in(partition, id, name, &proc_cgroups()?))
}

fn group_path_in(partition: &str, id: i32, name: &str, table: &str) -> String {
    let partition = names::partition_path(partition, table);
    let machine = names::machine_name("qemu", id, name, None);
    let dir = names::machine_dir(&machine, "qemu", table);
    format!("{}/{dir}", partition.trim_end_matches('/'))
}

/// One guest's group, made.
#[derive(Clone, Debug)]
pub struct Machine {
    layout: Layout,
    path: String,
    guest: String,
}

impl Machine {
    /// `virCgroupNewPartition` (made only when it is `/machine`, else it
    /// must exist) then `virCgroupNewDomainPartition`.
    fn make(mut layout: Layout, partition: &str, id: i32, name: &str) -> Result<Machine> {
        let table = proc_cgroups()?;
        let path = group_path_in(partition, id, name, &table);
        let part = names::partition_path(partition, &table);
        if part != "/" {
            let parent = part.rsplit_once('/').map_or("/", |(p, _)| p);
            let parent = if parent.is_empty() { "/" } else { parent };
            let create = partition == DEFAULT_PARTITION;
            groups::make(&mut layout, parent, &part, create, Kind::Partition)?;
        }
        if let Err(e) = groups::make(&mut layout, &part, &path, true, Kind::Machine) {
            let _ = groups::remove(&path);
            return Err(e);
        }
        Ok(Machine {
            layout,
            path,
            guest: name.to_string(),
        })
    }

    /// `virCgroupDelThread`: thread group `name` (`iothreadN`) in every
    /// hierarchy, once its thread is gone.
    pub fn remove_thread_group(&self, name: &str) {
        if let Err(e) = groups::remove(&format!("{}/{name}", self.path)) {
            tracing::warn!("cannot remove {name} of {}: {e}", self.guest);
        }
    }

    /// The guest's group from each hierarchy's root.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `virCgroupAddProcess` for the new QEMU, then the cpuset setup of
    /// `virDomainCgroupSetupCgroup`. A failure removes the group and the
    /// guest runs without (`false`), as in `virCgroupNewMachineManual`.
    pub fn add_process(&self, pid: i32) -> bool {
        if let Err(e) = groups::add(&self.layout, &self.path, pid, Kind::Machine) {
            tracing::warn!(
                "cannot place {} in {}: {}",
                self.guest,
                self.path,
                e.message
            );
            let _ = groups::remove(&self.path);
            return false;
        }
        let migrate = groups::set_v1(
            &self.layout,
            Controller::Cpuset,
            &self.path,
            "cpuset.memory_migrate",
            "1",
        );
        if let Err(e) = migrate {
            tracing::warn!("{}", e.message);
        }
        true
    }

    /// Every thread of QEMU `pid` but the main one (placed first, with
    /// its tuning) into `emulator`; threads it starts from then on follow
    /// the main thread.
    pub fn add_emulator_threads(&self, pid: i32) {
        let Some((layout, rel)) = self.thread_group("emulator") else {
            return;
        };
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return;
        };
        let tids = tasks
            .flatten()
            .filter_map(|t| t.file_name().to_str()?.parse::<i32>().ok());
        for tid in tids.filter(|t| *t != pid) {
            // A thread may end meanwhile (ESRCH): nothing to place.
            let _ = groups::add(&layout, &rel, tid, Kind::Thread);
        }
    }

    /// The thread group `name` made (`virCgroupNewThread`), when the guest
    /// has the cpu or cpuset controller.
    fn thread_group(&self, name: &str) -> Option<(Layout, String)> {
        if !self.layout.has(Controller::Cpu) && !self.layout.has(Controller::Cpuset) {
            return None;
        }
        let rel = format!("{}/{name}", self.path);
        let mut layout = self.layout.clone();
        match groups::make(&mut layout, &self.path, &rel, true, Kind::Thread) {
            Ok(()) => Some((layout, rel)),
            Err(e) => {
                tracing::warn!("cannot make {rel} for {}: {}", self.guest, e.message);
                None
            }
        }
    }

    fn place_thread(&self, layout: &Layout, rel: &str, tid: i32) {
        if let Err(e) = groups::add(layout, rel, tid, Kind::Thread) {
            tracing::warn!(
                "cannot place thread {tid} of {} in {rel}: {}",
                self.guest,
                e.message
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controller_names() {
        assert_eq!(Controller::Blkio.v2_name(), "io");
        assert_eq!(Controller::from_v2_name("io"), Some(Controller::Blkio));
        assert_eq!(Controller::from_v1_name("blkio"), Some(Controller::Blkio));
        assert_eq!(Controller::from_v1_name("pids"), None);
        assert_eq!(Controller::Systemd.v1_name(), "name=systemd");
        assert_eq!(Controller::Cpuset.bit(), 4);
    }

    #[test]
    fn cgroup_controllers_setting() {
        let mask = parse_controllers("cpu, memory,blkio").unwrap();
        let want = Controller::Cpu.bit() | Controller::Memory.bit() | Controller::Blkio.bit();
        assert_eq!(mask, want);
        assert_eq!(parse_controllers("").unwrap(), 0);
        let err = parse_controllers("cpu,pids").unwrap_err();
        assert_eq!(err.code, ErrorCode::CONF_SYNTAX);
        assert!(
            err.message.ends_with("Unknown cgroup controller 'pids'"),
            "{}",
            err.message
        );
    }

    fn def(resource: &str) -> DomainDef {
        DomainDef::parse(&format!(
            "<domain type='qemu'><name>g</name><memory>1024</memory>{resource}\
             <os><type arch='x86_64'>hvm</type></os></domain>"
        ))
        .unwrap()
    }

    #[test]
    fn partitions_of_the_live_definition() {
        let mut d = def("");
        assert_eq!(set_partition(&mut d).unwrap(), "/machine");
        assert_eq!(d.resource.unwrap().partition.as_deref(), Some("/machine"));
        let mut d = def("<resource><partition>/prod</partition></resource>");
        assert_eq!(set_partition(&mut d).unwrap(), "/prod");
        let mut d = def("<resource><partition>prod</partition></resource>");
        let err = set_partition(&mut d).unwrap_err();
        assert_eq!(err.code, ErrorCode::CONFIG_UNSUPPORTED);
        assert_eq!(
            err.message,
            "unsupported configuration: Resource partition 'prod' must start with '/'"
        );
        // An appid alone keeps its element and gains the partition.
        let mut d = def("<resource><fibrechannel appid='a'/></resource>");
        set_partition(&mut d).unwrap();
        let r = d.resource.unwrap();
        assert_eq!(
            (r.partition.as_deref(), r.appid.as_deref()),
            (Some("/machine"), Some("a"))
        );
    }

    #[test]
    fn group_paths() {
        assert_eq!(
            group_path("/machine", 1, "cmp").unwrap(),
            "/machine/qemu-1-cmp.libvirt-qemu"
        );
        assert_eq!(
            group_path("/prod/web", 12, "a b").unwrap(),
            "/prod.partition/web.partition/qemu-12-ab.libvirt-qemu"
        );
        assert_eq!(group_path("/", 3, "g").unwrap(), "/qemu-3-g.libvirt-qemu");
    }

    #[test]
    fn only_no_access_errors_are_ignored() {
        for errno in [libc::ENXIO, libc::EPERM, libc::EACCES, libc::EROFS] {
            assert!(ignorable(&cgroup_error("x", errno)));
        }
        assert!(!ignorable(&cgroup_error("x", libc::ENOENT)));
        assert!(!ignorable(&cgroup_error("x", libc::EINVAL)));
    }
}
