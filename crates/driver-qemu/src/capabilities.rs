//! Capabilities of a QEMU binary, probed over QMP as libvirt's
//! `qemu_capabilities.c` does (`-machine none`, then query-version,
//! query-machines, qom-list-types, query-cpu-definitions), cached per
//! binary path and modification time in the driver's cache directory.

use crate::caps_model::{MachineType, QemuCaps};
use crate::monitor::{Monitor, MonitorEvent, QueryMachines};
use crate::process;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long the probe QEMU may take to answer everything.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// One cache file: the binary it describes, as it was when probed.
#[derive(Serialize, Deserialize)]
struct CacheEntry {
    binary: PathBuf,
    mtime_ns: u128,
    caps: QemuCaps,
}

/// The emulator's modification time, or libvirt's error for a missing one.
pub fn binary_mtime(binary: &Path) -> Result<u128> {
    let meta = std::fs::metadata(binary).map_err(|e| {
        Error::system(
            ErrorDomain::QEMU,
            format!("Cannot check QEMU binary {}", binary.display()),
            &e,
        )
    })?;
    let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    Ok(mtime
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos()))
}

fn cache_file(cache_dir: &Path, binary: &Path) -> PathBuf {
    let name: String = binary
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    cache_dir.join("capabilities").join(format!("{name}.json"))
}

/// The capabilities of `binary`: from the cache when the binary has not
/// changed since, else probed (KVM included) and cached.
pub async fn load(binary: &Path, cache_dir: &Path, kvm: &KvmProbe) -> Result<QemuCaps> {
    let mtime = binary_mtime(binary)?;
    let file = cache_file(cache_dir, binary);
    if let Some(caps) = read_cache(&file, binary, mtime) {
        return Ok(caps);
    }
    let mut caps = probe(binary).await?;
    caps.kvm_usable = kvm.run(binary).await;
    let entry = CacheEntry {
        binary: binary.to_path_buf(),
        mtime_ns: mtime,
        caps,
    };
    let json = serde_json::to_vec_pretty(&entry)
        .map_err(|e| Error::internal(ErrorDomain::QEMU, e.to_string()))?;
    if let Err(e) = crate::files::write_atomic(&file, &json) {
        // A cache that cannot be written costs a probe next time, no more.
        tracing::warn!(
            "cannot cache capabilities in {}: {}",
            file.display(),
            e.message
        );
    }
    Ok(entry.caps)
}

fn read_cache(file: &Path, binary: &Path, mtime: u128) -> Option<QemuCaps> {
    let data = std::fs::read(file).ok()?;
    let entry: CacheEntry = serde_json::from_slice(&data).ok()?;
    (entry.binary == binary && entry.mtime_ns == mtime).then_some(entry.caps)
}

/// Start `binary` with no machine and ask it what it offers.
pub async fn probe(binary: &Path) -> Result<QemuCaps> {
    let dir = process::ScratchDir::new("probe")?;
    let socket = dir.path().join("qmp.sock");
    // libvirt's probe: no machine, TCG, the monitor as the only device.
    let mut args: Vec<String> = ["-S", "-no-user-config", "-nodefaults", "-nographic"]
        .map(String::from)
        .to_vec();
    args.extend(["-machine".into(), "none,accel=tcg".into()]);
    args.extend(process::qmp_server_args(&socket));
    let mut child = process::spawn_plain(binary, &args, None)?;
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel::<MonitorEvent>();
    let result = async {
        let mon = process::connect_when_ready(&socket, &mut child, PROBE_TIMEOUT, tx).await?;
        query_all(&mon, binary).await
    }
    .await;
    process::kill_child(&mut child).await;
    result
}

async fn query_all(mon: &Monitor, binary: &Path) -> Result<QemuCaps> {
    use qapi::qmp;
    let version = mon.execute(qmp::query_version {}).await?;
    let target = mon.execute(qmp::query_target {}).await?;
    let machines = mon.execute(QueryMachines {}).await?;
    let types = mon
        .execute(qmp::qom_list_types {
            abstract_: None,
            implements: None,
        })
        .await?;
    let cpus = mon.execute(qmp::query_cpu_definitions {}).await?;
    let num = |n: i64| u32::try_from(n).unwrap_or(0);
    let target_name = qapi::Enum::name(&target.arch);
    let arch = crate::caps_model::arch_from_qemu_target(target_name).ok_or_else(|| {
        Error::new(
            ErrorDomain::QEMU,
            ErrorCode::INTERNAL_ERROR,
            format!("Unknown QEMU arch {target_name}"),
        )
    })?;
    Ok(QemuCaps {
        binary: binary.to_path_buf(),
        version: (
            num(version.qemu.major),
            num(version.qemu.minor),
            num(version.qemu.micro),
        ),
        arch,
        machines: machines
            .into_iter()
            .map(|m| MachineType {
                name: m.name,
                alias: m.alias,
                is_default: m.is_default.unwrap_or(false),
                max_cpus: num(m.cpu_max),
                default_ram_id: m.default_ram_id,
                deprecated: m.deprecated,
            })
            .collect(),
        types: types.into_iter().map(|t| t.name).collect(),
        cpu_models: cpus.into_iter().map(|c| c.name).collect(),
        kvm_usable: false,
    })
}

/// The KVM verdict: a guest booted under `-accel kvm` must print `marker`
/// on its serial console before the deadline. `/dev/kvm` alone proves
/// nothing (a nested guest kernel has been seen to hang at boot), so with
/// no probe guest configured KVM counts as unusable.
#[derive(Clone, Debug, Default)]
pub struct KvmProbe {
    pub kernel: Option<PathBuf>,
    pub initrd: Option<PathBuf>,
    pub marker: String,
    pub deadline: Duration,
}

impl KvmProbe {
    pub async fn run(&self, binary: &Path) -> bool {
        let Some(kernel) = &self.kernel else {
            return false;
        };
        if !Path::new("/dev/kvm").exists() {
            return false;
        }
        match self.boot(binary, kernel).await {
            Ok(()) => true,
            Err(e) => {
                tracing::info!("KVM is not usable: {}", e.message);
                false
            }
        }
    }

    async fn boot(&self, binary: &Path, kernel: &Path) -> Result<()> {
        let dir = process::ScratchDir::new("kvm-probe")?;
        let console = dir.path().join("console.log");
        let mut args: Vec<String> = [
            "-machine",
            "pc",
            "-accel",
            "kvm",
            "-m",
            "128",
            "-nodefaults",
            "-nographic",
            "-no-reboot",
            "-append",
            "console=ttyS0 panic=-1",
            "-kernel",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(kernel.display().to_string());
        if let Some(initrd) = &self.initrd {
            args.extend(["-initrd".to_string(), initrd.display().to_string()]);
        }
        args.extend(["-serial".to_string(), format!("file:{}", console.display())]);
        let mut child = process::spawn_plain(binary, &args, None)?;
        let start = tokio::time::Instant::now();
        let verdict = loop {
            let text = std::fs::read(&console).unwrap_or_default();
            if String::from_utf8_lossy(&text).contains(&self.marker) {
                break Ok(());
            }
            if let Ok(Some(status)) = child.try_wait() {
                break Err(Error::internal(
                    ErrorDomain::QEMU,
                    format!("KVM probe guest exited ({status})"),
                ));
            }
            if start.elapsed() > self.deadline {
                break Err(Error::new(
                    ErrorDomain::QEMU,
                    ErrorCode::OPERATION_TIMEOUT,
                    format!(
                        "KVM probe guest printed no '{}' within {:?}",
                        self.marker, self.deadline
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        process::kill_child(&mut child).await;
        verdict
    }
}
