//! What one QEMU binary offers, as the driver's other modules read it.
//!
//! Probing the binary over QMP fills this (`capabilities` module); the
//! command line builder only reads it, so it can be built from a fixture in
//! unit tests without starting QEMU.

use rvirt_conf::domain::props::VirEnum;
use rvirt_conf::domain::Arch;
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
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct QemuCaps {
    pub binary: PathBuf,
    /// (major, minor, micro) from `query-version`.
    pub version: (u32, u32, u32),
    /// QEMU's target (`query-target`) as libvirt's architecture
    /// (`virQEMUCapsArchFromString`: QEMU's `i386` is `i686`).
    #[serde(with = "arch_name")]
    pub arch: Arch,
    pub machines: Vec<MachineType>,
    /// `qom-list-types` names (device and object types).
    pub types: BTreeSet<String>,
    /// `query-cpu-definitions` names.
    pub cpu_models: Vec<String>,
    /// KVM proved usable by a probe guest (never assumed from /dev/kvm).
    pub kvm_usable: bool,
}

/// A fixture's starting point: no machines, no types, an x86_64 target
/// (the one target rvirt's command line builder knows).
impl Default for QemuCaps {
    fn default() -> QemuCaps {
        QemuCaps {
            binary: PathBuf::new(),
            version: (0, 0, 0),
            arch: Arch::X86_64,
            machines: Vec::new(),
            types: BTreeSet::new(),
            cpu_models: Vec::new(),
            kvm_usable: false,
        }
    }
}

/// The architecture as its libvirt name in the capabilities cache.
mod arch_name {
    use rvirt_conf::domain::props::VirEnum;
    use rvirt_conf::domain::Arch;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(arch: &Arch, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(arch.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arch, D::Error> {
        let name = String::deserialize(d)?;
        Arch::from_str_opt(&name).ok_or_else(|| D::Error::custom(format!("unknown arch {name}")))
    }
}

/// `virQEMUCapsArchFromString`: QEMU's target name as libvirt's
/// architecture (`None` for one libvirt does not know).
pub fn arch_from_qemu_target(target: &str) -> Option<Arch> {
    match target {
        "i386" => Some(Arch::I686),
        "arm" => Some(Arch::Armv7l),
        "or32" => Some(Arch::Openrisc),
        other => Arch::from_str_opt(other),
    }
}

/// `virArchFromHost`: this machine's architecture (`uname -m` as libvirt
/// reads it), `None` for one libvirt does not know.
pub fn host_arch() -> Option<Arch> {
    match std::env::consts::ARCH {
        "x86" => Some(Arch::I686),
        "arm" => Some(Arch::Armv7l),
        "powerpc" => Some(Arch::Ppc),
        "powerpc64" if cfg!(target_endian = "little") => Some(Arch::Ppc64le),
        "powerpc64" => Some(Arch::Ppc64),
        "mips64" if cfg!(target_endian = "little") => Some(Arch::Mips64el),
        "mips" if cfg!(target_endian = "little") => Some(Arch::Mipsel),
        other => Arch::from_str_opt(other),
    }
}

/// The `ARCH_IS_X86`, `_PPC`, `_ARM`, `_S390` families: libvirt lets an
/// emulator of one member serve another of the same family.
pub fn same_arch_family(a: Arch, b: Arch) -> bool {
    use Arch::*;
    let family = |x: Arch| match x {
        I686 | X86_64 => 1,
        Ppc | Ppcle | Ppc64 | Ppc64le | Ppcemb => 2,
        Armv6l | Armv7l | Armv7b | Aarch64 => 3,
        S390 | S390x => 4,
        _ => 0,
    };
    a == b || (family(a) != 0 && family(a) == family(b))
}

/// `virArchGetWordSize`.
pub fn word_size(arch: Arch) -> u32 {
    use Arch::*;
    match arch {
        Aarch64 | Alpha | Ia64 | Mips64 | Mips64el | Parisc64 | Ppc64 | Ppc64le | Riscv64
        | S390x | Sparc64 | X86_64 => 64,
        _ => 32,
    }
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

/// The machine list `qemu-system-* -machine help` prints, for fixtures
/// and tools that do not speak QMP. The help text lacks `default-ram-id`
/// and the CPU limit: the PC machines get QEMU's `pc.ram` (what
/// `query-machines` reports for them since QEMU 5.2) and the rest none.
pub fn machines_from_help(text: &str) -> Vec<MachineType> {
    let mut machines: Vec<MachineType> = Vec::new();
    let mut aliases: Vec<(String, String)> = Vec::new();
    for line in text.lines().skip(1) {
        let Some((name, desc)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        if let Some(target) = desc
            .trim_end()
            .strip_suffix(')')
            .and_then(|d| d.split_once("(alias of "))
        {
            aliases.push((name.to_string(), target.1.to_string()));
            continue;
        }
        let pc = name.starts_with("pc-") || name == "isapc";
        machines.push(MachineType {
            name: name.to_string(),
            alias: None,
            is_default: desc.contains("(default)"),
            max_cpus: 0,
            default_ram_id: pc.then(|| "pc.ram".to_string()),
            deprecated: desc.contains("(deprecated)"),
        });
    }
    for (alias, target) in aliases {
        if let Some(m) = machines.iter_mut().find(|m| m.name == target) {
            m.alias = Some(alias);
        }
    }
    machines
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

    #[test]
    fn machine_help_gives_aliases_and_default() {
        let help = "Supported machines are:\n\
            pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)\n\
            pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)\n\
            pc-i440fx-1.4        Standard PC (i440FX + PIIX, 1996) (deprecated)\n\
            microvm              microvm (i386)\n";
        let machines = machines_from_help(help);
        assert_eq!(machines.len(), 3);
        assert_eq!(machines[0].alias.as_deref(), Some("pc"));
        assert!(machines[0].is_default && machines[1].deprecated);
        assert_eq!(machines[0].default_ram_id.as_deref(), Some("pc.ram"));
        assert_eq!(machines[2].default_ram_id, None);
    }

    /// QEMU's target names as libvirt's `virQEMUCapsArchFromString` reads them.
    #[test]
    fn guest_arch_of_qemu_targets() {
        let arch = arch_from_qemu_target;
        assert_eq!(arch("x86_64"), Some(Arch::X86_64));
        assert_eq!(arch("i386"), Some(Arch::I686));
        assert_eq!(arch("arm"), Some(Arch::Armv7l));
        assert_eq!(arch("or32"), Some(Arch::Openrisc));
        assert_eq!(arch("loongarch64"), None);
    }

    #[test]
    fn word_sizes_as_libvirt_tables_them() {
        assert_eq!(word_size(Arch::S390x), 64);
        assert_eq!(word_size(Arch::S390), 32);
        assert_eq!(word_size(Arch::I686), 32);
        assert_eq!(word_size(Arch::X86_64), 64);
    }

    #[test]
    fn arch_families_as_libvirt_groups_them() {
        assert!(same_arch_family(Arch::I686, Arch::X86_64));
        assert!(same_arch_family(Arch::Aarch64, Arch::Armv7l));
        assert!(same_arch_family(Arch::Sparc, Arch::Sparc));
        assert!(!same_arch_family(Arch::X86_64, Arch::Aarch64));
        assert!(!same_arch_family(Arch::Sparc, Arch::Sparc64));
    }

    /// The cache keeps the architecture by its libvirt name.
    #[test]
    fn arch_is_cached_by_name() {
        let caps = QemuCaps {
            arch: Arch::I686,
            ..QemuCaps::default()
        };
        let text = serde_json::to_string(&caps).unwrap();
        assert!(text.contains("\"arch\":\"i686\""), "{text}");
        let back: QemuCaps = serde_json::from_str(&text).unwrap();
        assert_eq!(back, caps);
        let bad = text.replace("i686", "vax");
        assert!(serde_json::from_str::<QemuCaps>(&bad).is_err());
    }
}
