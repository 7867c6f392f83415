//! The machine: `-machine`, memory (`-m` + the default RAM backend), the
//! clock (`-rtc`, timers) and power management (`-no-shutdown`,
//! `-no-acpi`, S3/S4), as `qemuBuildMachineCommandLine`,
//! `qemuBuildMemCommandLine`, `qemuBuildClockCommandLine` and
//! `qemuBuildPMCommandLine` emit them for QEMU 7.2.

use super::json::Props;
use super::{unsupported, Args};
use crate::caps_model::QemuCaps;
use rvirt_conf::domain::clock::{ClockOffset, TickPolicy, TimerName, TimerTrack};
use rvirt_conf::domain::props::{TriBool, VirEnum};
use rvirt_conf::domain::{DomainDef, MemoryBacking};
use rvirt_util::Result;

/// Define-time machine handling: none → the binary's default machine, an
/// alias (`pc`) → its versioned name (`pc-i440fx-7.2`); a machine the
/// binary lacks is refused as `qemu_validate.c` refuses it.
pub(super) fn canonicalise(def: &mut DomainDef, caps: &QemuCaps) -> Result<()> {
    if caps.machines.is_empty() {
        return Ok(());
    }
    let name = match def.os.machine.as_deref() {
        Some(m) => caps.canonical_machine(m).to_string(),
        None => match caps.default_machine() {
            Some(m) => m.name.clone(),
            None => return Ok(()),
        },
    };
    if caps.machine(&name).is_none() {
        return Err(unsupported(format!(
            "Emulator '{}' does not support machine type '{name}'",
            caps.binary.display()
        )));
    }
    def.os.machine = Some(name);
    if def.os.arch.is_none() {
        def.os.arch = Some(caps.arch);
    }
    Ok(())
}

pub(super) fn machine_name(def: &DomainDef) -> &str {
    def.os.machine.as_deref().unwrap_or("")
}

/// `qemuDomainIsQ35`.
pub(super) fn is_q35(def: &DomainDef) -> bool {
    let m = machine_name(def);
    m == "q35" || m.starts_with("pc-q35-")
}

/// `qemuDomainIsI440FX`.
pub(super) fn is_i440fx(def: &DomainDef) -> bool {
    let m = machine_name(def);
    m == "pc" || m.starts_with("pc-0.") || m.starts_with("pc-1.") || m.starts_with("pc-i440fx-")
}

/// The RAM block id QEMU uses for this machine (`default-ram-id`), which
/// `-machine memory-backend=` and the backend object both name.
fn default_ram_id<'a>(def: &DomainDef, caps: &'a QemuCaps) -> Option<&'a str> {
    caps.machine(machine_name(def))?.default_ram_id.as_deref()
}

/// `-machine NAME,usb=off[,vmport=][,smm=],dump-guest-core=off,memory-backend=ID`.
pub(super) fn machine(a: &mut Args, def: &DomainDef, caps: &QemuCaps) -> Result<()> {
    refuse_unmodelled_memory(def)?;
    refuse_unexpressed_firmware(def)?;
    let mut m = format!("{},usb=off", machine_name(def));
    let smm = def.features.smm.as_ref().map(|s| s.state);
    for (feature, state) in [("vmport", def.features.vmport), ("smm", smm)] {
        if let Some(state) = state {
            m.push_str(&format!(",{feature}={}", state.as_str()));
        }
    }
    // <memory dumpCore>, else qemu.conf's dump_guest_core default (off).
    let dump_core = def.dump_core.map_or("off", |d| d.as_str());
    m.push_str(&format!(",dump-guest-core={dump_core}"));
    if def.memory_backing.nosharepages {
        m.push_str(",mem-merge=off");
    }
    // With NUMA cells there is no default RAM: each cell has its backend.
    if let Some(id) = default_ram_id(def, caps).filter(|_| !has_numa(def)) {
        m.push_str(&format!(",memory-backend={id}"));
    }
    a.opt("-machine", m);
    Ok(())
}

/// Memory configurations the command line does not express yet are
/// refused rather than started with different memory.
fn refuse_unmodelled_memory(def: &DomainDef) -> Result<()> {
    if def.max_memory.is_some() {
        return Err(unsupported(
            "At least one numa node has to be configured when enabling memory hotplug",
        ));
    }
    let plain = MemoryBacking {
        nosharepages: def.memory_backing.nosharepages,
        locked: def.memory_backing.locked,
        ..MemoryBacking::default()
    };
    if def.memory_backing != plain {
        return Err(unsupported("<memoryBacking> is not supported by rvirt yet"));
    }
    Ok(())
}

/// Firmware settings the command line does not express yet are refused
/// rather than started with the default firmware.
fn refuse_unexpressed_firmware(def: &DomainDef) -> Result<()> {
    let os = &def.os;
    let unexpressed = [
        ("<os firmware>", os.firmware.firmware.is_some()),
        ("<loader>/<nvram>", os.loader.is_some()),
        ("<acpi><table>", os.slic_table.is_some()),
        // useserial='yes' wants the sgabios device; rebootTimeout and the
        // menu's timeout are -boot options (boot.rs).
        (
            "<bios useserial>",
            os.bios_useserial == Some(rvirt_conf::domain::props::TriBool::Yes),
        ),
        ("<smbios>", os.smbios.is_some()),
        ("<sysinfo>", !def.sysinfo.is_empty()),
    ];
    match unexpressed.iter().find(|(_, set)| *set) {
        Some((what, _)) => Err(unsupported(format!(
            "{what} is not supported by rvirt's QEMU driver yet"
        ))),
        None => Ok(()),
    }
}

/// Guest RAM in MiB after `qemuDomainAlignMemorySizes` (x86: 1 MiB, each
/// NUMA cell on its own).
pub(super) fn memory_mib(def: &DomainDef) -> u64 {
    super::numa::memory_mib(def).unwrap_or_else(|| def.memory_kib.div_ceil(1024))
}

fn has_numa(def: &DomainDef) -> bool {
    !super::numa::cells(def).is_empty()
}

/// `-m MIB`, the default RAM backend object and `-overcommit`.
pub(super) fn memory(a: &mut Args, def: &DomainDef, caps: &QemuCaps) -> Result<()> {
    let mib = memory_mib(def);
    a.opt("-m", mib.to_string());
    if let Some(id) = default_ram_id(def, caps).filter(|_| !has_numa(def)) {
        let backend = Props::new()
            .str("qom-type", "memory-backend-ram")
            .str("id", id)
            .num("size", mib * 1024 * 1024);
        a.json("-object", super::tunables::host_nodes(backend, def)?);
    }
    let lock = if def.memory_backing.locked {
        "on"
    } else {
        "off"
    };
    a.opt("-overcommit", format!("mem-lock={lock}"));
    Ok(())
}

/// `-rtc` (`qemuBuildClockArgStr`) and the PIT/HPET timer options.
pub(super) fn clock(a: &mut Args, def: &DomainDef) -> Result<()> {
    let clock = &def.clock;
    let mut rtc = match clock.offset {
        ClockOffset::Utc => "base=utc".to_string(),
        ClockOffset::Localtime | ClockOffset::Timezone => "base=localtime".to_string(),
        other => {
            return Err(unsupported(format!(
                "clock offset '{}' is not supported by rvirt yet",
                other.as_str()
            )))
        }
    };
    if let Some(t) = clock.timers.iter().find(|t| t.name == TimerName::Rtc) {
        match t.track {
            Some(TimerTrack::Guest) => rtc.push_str(",clock=vm"),
            Some(TimerTrack::Wall) => rtc.push_str(",clock=host"),
            Some(TimerTrack::Realtime) => rtc.push_str(",clock=rt"),
            _ => {}
        }
        if t.tickpolicy == Some(TickPolicy::Catchup) {
            rtc.push_str(",driftfix=slew");
        }
    }
    a.opt("-rtc", rtc);
    for t in &clock.timers {
        match (t.name, t.tickpolicy) {
            (TimerName::Pit, None | Some(TickPolicy::Delay)) => {
                a.opt("-global", "kvm-pit.lost_tick_policy=delay");
            }
            (TimerName::Pit, Some(TickPolicy::Discard)) => {
                a.opt("-global", "kvm-pit.lost_tick_policy=discard")
            }
            (TimerName::Hpet, _) if t.present == Some(TriBool::No) => a.flag("-no-hpet"),
            _ => {}
        }
    }
    Ok(())
}

/// `-no-shutdown` (QEMU 7.2 has `set-action`), `-no-acpi` without
/// `<acpi/>`, and the S3/S4 switches of `<pm>`.
pub(super) fn power_management(a: &mut Args, def: &DomainDef) {
    a.flag("-no-shutdown");
    if !def.features.acpi {
        a.flag("-no-acpi");
    }
    let pm_object = if is_q35(def) { "ICH9-LPC" } else { "PIIX4_PM" };
    for (state, name) in [
        (def.pm.suspend_to_mem, "s3"),
        (def.pm.suspend_to_disk, "s4"),
    ] {
        if let Some(state) = state {
            let disabled = u8::from(state == TriBool::No);
            a.opt("-global", format!("{pm_object}.disable_{name}={disabled}"));
        }
    }
    let _ = TriBool::NAMES;
}
