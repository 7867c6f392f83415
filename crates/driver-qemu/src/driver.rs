//! The driver's shared state (libvirt's `virQEMUDriver`): directories,
//! settings, capabilities per emulator, the guests, and the event
//! registries of the open connections.

use crate::capabilities::{self, KvmProbe};
use crate::caps_model::QemuCaps;
use crate::files::Dirs;
use crate::runtime::Runtime;
use crate::security::Security;
use crate::state::Domains;
use parking_lot::Mutex;
use rvirt::driver::{DomainRef, StateConfig};
use rvirt::events::{DomainEvent, EventRegistry};
use rvirt_util::{Error, ErrorDomain, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The emulator a definition without `<emulator>` runs.
pub const DEFAULT_EMULATOR: &str = "/usr/bin/qemu-system-x86_64";

/// The daemon keys this driver reads (rvirtd.conf), with their defaults:
/// rvirt's own counterparts of libvirt's QEMU driver directories.
pub const DIR_KEYS: [(&str, &str); 5] = [
    ("qemu_config_dir", "/etc/rvirt/qemu"),
    ("qemu_state_dir", "/run/rvirt/qemu"),
    ("qemu_cache_dir", "/var/cache/rvirt/qemu"),
    ("qemu_log_dir", "/var/log/rvirt/qemu"),
    ("qemu_lib_dir", "/var/lib/rvirt/qemu"),
];
pub use crate::security::{GROUP_KEY, USER_KEY};
/// A guest that proves KVM: kernel, optional initrd, and what it prints
/// on its serial console once booted. Without it KVM is never used.
pub const KVM_PROBE_KERNEL: &str = "qemu_kvm_probe_kernel";
pub const KVM_PROBE_INITRD: &str = "qemu_kvm_probe_initrd";
pub const KVM_PROBE_MARKER: &str = "qemu_kvm_probe_marker";
const KVM_PROBE_DEADLINE: Duration = Duration::from_secs(10);
/// Seconds a monitor command may take before the call fails with
/// VIR_ERR_OPERATION_TIMEOUT (the guest keeps running).
pub const MONITOR_TIMEOUT_KEY: &str = "qemu_monitor_timeout";
/// The numad asked for automatic NUMA placement (Debian's libvirt is
/// built with `/usr/bin/numad`).
pub const NUMAD_KEY: &str = "qemu_numad";

pub struct Driver {
    pub dirs: Dirs,
    /// libvirtd.conf's `host_uuid`, reported in the capabilities.
    pub host_uuid: Option<[u8; 16]>,
    pub rt: Runtime,
    /// The security managers: who QEMU runs as, which files it gets.
    pub security: Security,
    pub monitor_timeout: Duration,
    /// The numad binary ([`NUMAD_KEY`]).
    pub numad: PathBuf,
    /// Where guests' QEMU processes are placed (`cgroup_controllers`).
    pub cgroups: crate::cgroup::Cgroups,
    kvm_probe: KvmProbe,
    /// By binary: its modification time when probed, and what it offers.
    caps: Mutex<HashMap<PathBuf, (u128, Arc<QemuCaps>)>>,
    pub domains: Mutex<Domains>,
    listeners: Mutex<Vec<Weak<EventRegistry>>>,
    /// Migration jobs, ports and settings (`migration_*` keys).
    pub migrations: crate::migration::Registry,
    next_id: AtomicI32,
    next_token: AtomicU64,
}

fn numeric(config: &StateConfig, key: &str) -> Result<Option<u32>> {
    config
        .setting(key)
        .map(|v| {
            v.parse().map_err(|_| {
                Error::invalid_arg(
                    ErrorDomain::QEMU,
                    format!("{key} must be a number, not '{v}'"),
                )
            })
        })
        .transpose()
}

impl Driver {
    pub fn new(config: &StateConfig) -> Result<Driver> {
        let dir = |i: usize| {
            let (key, default) = DIR_KEYS[i];
            PathBuf::from(config.setting(key).unwrap_or(default))
        };
        let dirs = Dirs {
            config: dir(0),
            state: dir(1),
            cache: dir(2),
            log: dir(3),
            lib: dir(4),
        };
        dirs.create_all()?;
        let security = Security::new(config)?;
        security.own_lib_dir(&dirs)?;
        Ok(Driver {
            dirs,
            host_uuid: config.host_uuid,
            rt: Runtime::new()?,
            security,
            monitor_timeout: numeric(config, MONITOR_TIMEOUT_KEY)?
                .map_or(crate::monitor::DEFAULT_COMMAND_TIMEOUT, |s| {
                    Duration::from_secs(u64::from(s.max(1)))
                }),
            numad: PathBuf::from(config.setting(NUMAD_KEY).unwrap_or(crate::numad::NUMAD)),
            cgroups: crate::cgroup::Cgroups::new(config)?,
            kvm_probe: KvmProbe {
                kernel: config.setting(KVM_PROBE_KERNEL).map(PathBuf::from),
                initrd: config.setting(KVM_PROBE_INITRD).map(PathBuf::from),
                marker: config
                    .setting(KVM_PROBE_MARKER)
                    .unwrap_or("Run /init as init process")
                    .to_string(),
                deadline: KVM_PROBE_DEADLINE,
            },
            caps: Mutex::new(HashMap::new()),
            domains: Mutex::new(Domains::default()),
            listeners: Mutex::new(Vec::new()),
            migrations: crate::migration::Registry::new(config)?,
            next_id: AtomicI32::new(1),
            next_token: AtomicU64::new(1),
        })
    }

    /// The capabilities of `binary`, probed once per binary version (a
    /// changed mtime probes again; the cache file survives restarts).
    pub fn caps(&self, binary: &Path) -> Result<Arc<QemuCaps>> {
        let mtime = capabilities::binary_mtime(binary)?;
        if let Some((probed, caps)) = self.caps.lock().get(binary) {
            if *probed == mtime {
                return Ok(caps.clone());
            }
        }
        let (bin, cache, probe) = (
            binary.to_path_buf(),
            self.dirs.cache.clone(),
            self.kvm_probe.clone(),
        );
        let caps = Arc::new(
            self.rt
                .run(async move { capabilities::load(&bin, &cache, &probe).await })?,
        );
        self.caps
            .lock()
            .insert(binary.to_path_buf(), (mtime, caps.clone()));
        Ok(caps)
    }

    pub fn allocate_id(&self) -> i32 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Ids of guests found running at start-up must not be reused.
    pub fn reserve_id(&self, id: i32) {
        self.next_id.fetch_max(id + 1, Ordering::Relaxed);
    }

    pub fn next_token(&self) -> u64 {
        self.next_token.fetch_add(1, Ordering::Relaxed)
    }

    pub fn add_listener(&self, registry: &Arc<EventRegistry>) {
        let mut list = self.listeners.lock();
        list.retain(|w| w.strong_count() > 0);
        list.push(Arc::downgrade(registry));
    }

    /// Deliver `event` to every open connection's registry. Never called
    /// with the domains lock held (callbacks may call back in).
    pub fn emit(&self, dom: &DomainRef, event: DomainEvent) {
        let registries: Vec<Arc<EventRegistry>> = {
            let mut list = self.listeners.lock();
            list.retain(|w| w.strong_count() > 0);
            list.iter().filter_map(Weak::upgrade).collect()
        };
        for registry in registries {
            registry.emit(dom, &event);
        }
    }

    pub fn emit_lifecycle(&self, dom: &DomainRef, event: i32, detail: i32) {
        self.emit(dom, DomainEvent::Lifecycle { event, detail });
    }

    /// The DEFINED event of a definition: UPDATED when it replaced one,
    /// else ADDED.
    pub fn emit_defined(&self, dom: &DomainRef, replaced: bool) {
        use rvirt::events::lifecycle as ev;
        let detail = if replaced {
            ev::DEFINED_UPDATED
        } else {
            ev::DEFINED_ADDED
        };
        self.emit_lifecycle(dom, ev::DEFINED, detail);
    }
}
