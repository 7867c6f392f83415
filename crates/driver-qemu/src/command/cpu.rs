//! vCPUs: `-cpu` (`qemuBuildCpuModelArgStr`) and `-smp`
//! (`qemuBuildSmpCommandLine`).

use super::{unsupported, Args};
use rvirt_conf::domain::DomainDef;
use rvirt_util::Result;

/// `<features>` the command line expresses (elsewhere, in `-machine` and
/// the PM options) or that need no option; any other is refused.
const HANDLED_FEATURES: &[&str] = &["acpi", "apic", "pae", "vmport", "smm"];

/// `-cpu qemu64` / `-cpu host,migratable=on` / `-cpu Model,feat=on,...`.
pub(super) fn cpu(a: &mut Args, def: &DomainDef) -> Result<()> {
    if let Some(f) = def
        .features
        .iter()
        .find(|f| !HANDLED_FEATURES.contains(&f.name.as_str()))
    {
        return Err(unsupported(format!(
            "domain feature '{}' is not supported by rvirt yet",
            f.name
        )));
    }
    let Some(cpu) = &def.cpu else {
        return Ok(());
    };
    let mut arg = match cpu.mode.as_deref().unwrap_or("custom") {
        "host-passthrough" if def.virt_type == "kvm" => {
            let migratable = cpu.migratable.as_deref().unwrap_or("on");
            format!("host,migratable={migratable}")
        }
        "custom" => match &cpu.model {
            Some(model) => model.clone(),
            None => return Ok(()),
        },
        mode @ ("host-passthrough" | "host-model" | "maximum") if def.virt_type == "kvm" => {
            return Err(unsupported(format!(
                "CPU mode '{mode}' is not supported by rvirt yet"
            )))
        }
        mode => {
            return Err(unsupported(format!(
                "CPU mode '{mode}' for {arch} {virt} domain on {arch} host is not supported by hypervisor",
                arch = def.os.arch.as_deref().unwrap_or("x86_64"),
                virt = def.virt_type,
            )))
        }
    };
    if let Some(vendor) = &cpu.vendor_id {
        arg.push_str(&format!(",vendor={vendor}"));
    }
    for (policy, name) in &cpu.features {
        match policy.as_str() {
            "force" | "require" => arg.push_str(&format!(",{name}=on")),
            "disable" | "forbid" => arg.push_str(&format!(",{name}=off")),
            _ => {}
        }
    }
    a.opt("-cpu", arg);
    Ok(())
}

/// The `<vcpu>` count online at start (`current=`, else all).
pub(super) fn online_vcpus(def: &DomainDef) -> u32 {
    def.current_vcpus.unwrap_or(def.vcpus)
}

/// `-smp N[,maxcpus=M],sockets=S[,dies=D],cores=C,threads=T`.
pub(super) fn smp(a: &mut Args, def: &DomainDef) {
    let max = def.vcpus;
    let online = online_vcpus(def);
    let mut arg = online.to_string();
    if online != max {
        arg.push_str(&format!(",maxcpus={max}"));
    }
    match def.cpu.as_ref().and_then(|c| c.topology) {
        // QEMU 7.2 has `dies` (QEMU_CAPS_SMP_DIES).
        Some((sockets, dies, cores, threads)) => arg.push_str(&format!(
            ",sockets={sockets},dies={dies},cores={cores},threads={threads}"
        )),
        None => arg.push_str(&format!(",sockets={max},cores=1,threads=1")),
    }
    a.opt("-smp", arg);
}
