//! vCPUs: `-cpu` (`qemuBuildCpuModelArgStr`) and `-smp`
//! (`qemuBuildSmpCommandLine`).

use super::{unsupported, Args};
use rvirt_conf::domain::cpu::{CpuCheck, CpuFeature, CpuMode, FeaturePolicy};
use rvirt_conf::domain::props::{TriSwitch, VirEnum};
use rvirt_conf::domain::resctrl::{MonitorKind, Resctrl};
use rvirt_conf::domain::sched::Schedulers;
use rvirt_conf::domain::{CpuDef, DomainDef, VirtType};
use rvirt_util::Result;

/// `<features>` the command line expresses (elsewhere, in `-machine` and
/// the PM options) or that need no option; any other is refused.
const HANDLED_FEATURES: &[&str] = &["acpi", "apic", "pae", "vmport", "smm"];

/// `-cpu qemu64` / `-cpu host,migratable=on` / `-cpu Model,feat=on,...`.
pub(super) fn cpu(a: &mut Args, def: &DomainDef) -> Result<()> {
    let names = def.features.names();
    if let Some(f) = names.iter().find(|f| !HANDLED_FEATURES.contains(f)) {
        return Err(unsupported(format!(
            "domain feature '{f}' is not supported by rvirt yet"
        )));
    }
    // libvirt applies these to the threads after start; rvirt does not yet.
    if def.cputune.schedulers != Schedulers::default() {
        return Err(unsupported(
            "<cputune> thread schedulers are not supported by rvirt's QEMU driver yet",
        ));
    }
    refuse_resctrl(def)?;
    super::tunables::refuse_unapplied(def)?;
    let Some(cpu) = &def.cpu else {
        return Ok(());
    };
    refuse_unexpressed(cpu)?;
    let mut arg = match cpu.mode() {
        CpuMode::HostPassthrough if def.virt_type == VirtType::Kvm => {
            let migratable = cpu.migratable.unwrap_or(TriSwitch::On).as_str();
            format!("host,migratable={migratable}")
        }
        CpuMode::Custom => match &cpu.model {
            Some(model) => model.clone(),
            None => return Ok(()),
        },
        mode if def.virt_type == VirtType::Kvm => {
            return Err(unsupported(format!(
                "CPU mode '{}' is not supported by rvirt yet",
                mode.as_str()
            )))
        }
        mode => {
            return Err(unsupported(format!(
                "CPU mode '{mode}' for {arch} {virt} domain on {arch} host is not supported by hypervisor",
                mode = mode.as_str(),
                arch = def.os.arch.map_or("x86_64", VirEnum::as_str),
                virt = def.virt_type,
            )))
        }
    };
    if let Some(vendor) = &cpu.vendor_id {
        arg.push_str(&format!(",vendor={vendor}"));
    }
    for f in &cpu.features {
        match f.policy {
            FeaturePolicy::Force | FeaturePolicy::Require => {
                arg.push_str(&format!(",{}=on", qemu_feature(&f.name)))
            }
            FeaturePolicy::Disable | FeaturePolicy::Forbid => {
                arg.push_str(&format!(",{}=off", qemu_feature(&f.name)))
            }
            // libvirt leaves optional features to the model.
            FeaturePolicy::Optional => {}
        }
    }
    a.opt("-cpu", arg);
    Ok(())
}

/// A feature as QEMU names it (`lahf_lm` is `lahf-lm`), as libvirt's
/// `virQEMUCapsCPUFeatureToQEMU` translates the cpu_map's legacy names.
fn qemu_feature(name: &str) -> String {
    name.replace('_', "-")
}

/// What QEMU 7.2's `qemu64` enables under TCG beyond libvirt's cpu_map
/// model of the same name.
const QEMU64_TCG_EXTRA: [&str; 2] = ["hypervisor", "lahf_lm"];

/// The guest CPU of a starting TCG guest on QEMU's default model, as
/// libvirt's live definition has it: the features QEMU enables beyond the
/// model required and the check full (`virCPUx86UpdateLive` after the
/// start; libvirt's migration cookie carries them, so its destinations
/// start `-cpu qemu64,hypervisor=on,lahf-lm=on`). rvirt writes them before
/// the start, so both ends of a migration run the same `-cpu` line: a
/// throttled (auto-converge) TCG guest started with a bare `qemu64` broke
/// on arrival in about one hop of two, none of eight with these.
pub fn update_for_start(def: &mut DomainDef) {
    let tcg = def.virt_type == VirtType::Qemu;
    let Some(cpu) = def.cpu.as_mut().filter(|_| tcg) else {
        return;
    };
    let default_model = cpu.mode() == CpuMode::Custom && cpu.model.as_deref() == Some("qemu64");
    if !default_model || cpu.check == Some(CpuCheck::Full) {
        return;
    }
    for name in QEMU64_TCG_EXTRA {
        if !cpu.features.iter().any(|f| f.name == name) {
            cpu.features.push(CpuFeature {
                policy: FeaturePolicy::Require,
                name: name.to_string(),
            });
        }
    }
    cpu.check = Some(CpuCheck::Full);
}

/// Resctrl groups (libvirt applies them through the host's resctrl file
/// system after the start): rvirt does not yet.
fn refuse_resctrl(def: &DomainDef) -> Result<()> {
    let cache = |g: &Resctrl| {
        !g.caches.is_empty() || g.monitors.iter().any(|m| m.kind == MonitorKind::Cache)
    };
    let groups = &def.cputune.resctrls;
    let element = match groups.iter().find(|g| cache(g)) {
        Some(_) => "cachetune",
        None if groups.is_empty() => return Ok(()),
        None => "memorytune",
    };
    Err(unsupported(format!(
        "element <cputune/{element}> is not supported by rvirt's QEMU driver yet"
    )))
}

/// `<cpu>` parts `-cpu` would need options rvirt does not build yet.
fn refuse_unexpressed(cpu: &CpuDef) -> Result<()> {
    let part = if cpu.cache.is_some() {
        "cpu/cache"
    } else if cpu.maxphysaddr.is_some() {
        "cpu/maxphysaddr"
    } else {
        return Ok(());
    };
    Err(unsupported(format!(
        "element <{part}> is not supported by rvirt's QEMU driver yet"
    )))
}

/// `-smp N[,maxcpus=M],sockets=S[,dies=D],cores=C,threads=T`: N counts
/// the boot vCPUs only; online hotpluggable ones are plugged before the
/// guest runs.
pub(super) fn smp(a: &mut Args, def: &DomainDef) {
    let max = def.vcpus;
    let online = super::vcpu_states::boot_count(def);
    let mut arg = online.to_string();
    if online != max {
        arg.push_str(&format!(",maxcpus={max}"));
    }
    match def.cpu.as_ref().and_then(|c| c.topology) {
        // QEMU 7.2 has `dies` (QEMU_CAPS_SMP_DIES).
        Some(t) => arg.push_str(&format!(
            ",sockets={},dies={},cores={},threads={}",
            t.sockets, t.dies, t.cores, t.threads
        )),
        None => arg.push_str(&format!(",sockets={max},cores=1,threads=1")),
    }
    a.opt("-smp", arg);
}
