//! What one QEMU binary offers, as the driver's other modules read it.
//!
//! Probing the binary over QMP fills this (`capabilities` module); the
//! command line builder only reads it, so it can be built from a fixture in
//! unit tests without starting QEMU.

use std::collections::BTreeSet;
use std::path::PathBuf;

/// One `query-machines` entry.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MachineType {
    /// The versioned name, e.g. `pc-i440fx-7.2`.
    pub name: String,
    /// The short alias QEMU gives it, e.g. `pc` (libvirt expands it).
    pub alias: Option<String>,
    pub is_default: bool,
    pub max_cpus: u32,
    /// `default-ram-id`: the RAM block name QEMU uses for this machine
    /// (`pc.ram`), which libvirt's `-machine memory-backend=` must match
    /// for migration.
    pub default_ram_id: Option<String>,
    pub deprecated: bool,
}

/// Which accelerator a guest runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    Kvm,
    Tcg,
}

/// The probed capabilities of one emulator binary.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct QemuCaps {
    pub binary: PathBuf,
    /// (major, minor, micro) from `query-version`.
    pub version: (u32, u32, u32),
    /// QEMU's target architecture, e.g. `x86_64`.
    pub arch: String,
    pub machines: Vec<MachineType>,
    /// `qom-list-types` names (device and object types).
    pub types: BTreeSet<String>,
    /// `query-cpu-definitions` names.
    pub cpu_models: Vec<String>,
    /// KVM proved usable by a probe guest (never assumed from /dev/kvm).
    pub kvm_usable: bool,
}

impl QemuCaps {
    /// libvirt's alias expansion: `pc` → `pc-i440fx-7.2`; a full name or an
    /// unknown one is returned as given (QEMU then refuses the unknown).
    pub fn canonical_machine<'a>(&'a self, name: &'a str) -> &'a str {
        self.machines
            .iter()
            .find(|m| m.alias.as_deref() == Some(name))
            .map_or(name, |m| m.name.as_str())
    }

    /// The machine QEMU starts when none is given.
    pub fn default_machine(&self) -> Option<&MachineType> {
        self.machines.iter().find(|m| m.is_default)
    }

    pub fn machine(&self, name: &str) -> Option<&MachineType> {
        let name = self.canonical_machine(name);
        self.machines.iter().find(|m| m.name == name)
    }

    pub fn has_type(&self, name: &str) -> bool {
        self.types.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_expands_to_the_versioned_machine() {
        let caps = QemuCaps {
            machines: vec![MachineType {
                name: "pc-i440fx-7.2".into(),
                alias: Some("pc".into()),
                is_default: true,
                max_cpus: 255,
                default_ram_id: Some("pc.ram".into()),
                deprecated: false,
            }],
            ..QemuCaps::default()
        };
        assert_eq!(caps.canonical_machine("pc"), "pc-i440fx-7.2");
        assert_eq!(caps.canonical_machine("q35"), "q35");
        assert_eq!(caps.machine("pc").unwrap().max_cpus, 255);
    }
}
