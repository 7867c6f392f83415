//! The test driver's capabilities: a fixed i686 host with two NUMA cells of
//! eight CPUs and hvm/xen guests, the figures of libvirt's
//! `testBuildCapabilities`.

use rvirt_conf::capabilities::{Capabilities, Cell, CellCpu, Guest, GuestDomain, Host, SecModel};
use rvirt_conf::domain::props::VirEnum;
use rvirt_conf::domain::Arch;

/// Architecture of the test driver's guests; the post-parse default.
pub const DEFAULT_ARCH: Arch = Arch::I686;

const CELLS: u32 = 2;
const CPUS_PER_CELL: u32 = 8;

fn cell(id: u32) -> Cell {
    // Cell 0 has 2 GiB of 4 KiB pages, cell 1 4 GiB of 8 KiB pages.
    let (memory_kib, page_size) = if id == 0 {
        (2_097_152, 4)
    } else {
        (4_194_304, 8)
    };
    Cell {
        id,
        memory_kib: Some(memory_kib),
        pages: vec![(page_size, 524_288), (2048, 0), (1_048_576, 0)],
        distances: Vec::new(),
        cpus: (0..CPUS_PER_CELL)
            .map(|core| {
                let cpu = id * CPUS_PER_CELL + core;
                CellCpu {
                    id: cpu,
                    socket_id: Some(id),
                    die_id: Some(0),
                    core_id: Some(core),
                    siblings: Some(cpu.to_string()),
                }
            })
            .collect(),
    }
}

fn guest(os_type: &str) -> Guest {
    Guest {
        os_type: os_type.into(),
        arch: DEFAULT_ARCH.as_str().into(),
        wordsize: 32,
        emulator: Some("/usr/bin/test-hv".into()),
        domains: vec![GuestDomain {
            domain_type: "test".into(),
            ..GuestDomain::default()
        }],
        features: vec![("pae".into(), Vec::new()), ("nonpae".into(), Vec::new())],
        ..Guest::default()
    }
}

pub fn capabilities() -> Capabilities {
    Capabilities {
        host: Host {
            arch: Some(DEFAULT_ARCH.as_str().into()),
            cpu_features: vec!["pae".into(), "nonpae".into()],
            pages: vec![4, 8, 2048, 1_048_576],
            cells: (0..CELLS).map(cell).collect(),
            secmodels: vec![SecModel {
                model: "testSecurity".into(),
                doi: String::new(),
                baselabels: Vec::new(),
            }],
            ..Host::default()
        },
        guests: vec![guest("hvm"), guest("xen")],
    }
}

pub fn capabilities_xml() -> String {
    capabilities().format()
}
