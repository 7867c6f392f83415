//! `virConnectGetCapabilities` for the QEMU driver: the host, and one
//! `<guest>` per emulator with its probed machine types and the domain
//! types it can run (kvm only when the KVM probe proved it).

use crate::caps_model::QemuCaps;
use crate::driver::{Driver, DEFAULT_EMULATOR};
use rvirt_conf::capabilities::{Capabilities, Guest, GuestDomain, Host, Machine, Migration};
use rvirt_conf::domain::props::VirEnum;
use rvirt_util::Result;
use std::path::Path;

/// Each machine, and after it its alias pointing back at it, default first
/// (libvirt's `virQEMUCapsInitGuestFromBinary`).
fn machines(caps: &QemuCaps) -> Vec<Machine> {
    let mut sorted: Vec<_> = caps.machines.iter().collect();
    sorted.sort_by_key(|m| !m.is_default);
    let mut out = Vec::new();
    for m in sorted {
        let max_cpus = Some(m.max_cpus);
        out.push(Machine {
            name: m.name.clone(),
            canonical: None,
            max_cpus,
            deprecated: m.deprecated,
        });
        if let Some(alias) = &m.alias {
            out.push(Machine {
                name: alias.clone(),
                canonical: Some(m.name.clone()),
                max_cpus,
                deprecated: m.deprecated,
            });
        }
    }
    out
}

pub fn guest(caps: &QemuCaps) -> Guest {
    let mut domains = vec![GuestDomain {
        domain_type: "qemu".into(),
        ..GuestDomain::default()
    }];
    if caps.kvm_usable {
        domains.push(GuestDomain {
            domain_type: "kvm".into(),
            ..GuestDomain::default()
        });
    }
    let flag = |name: &str, attrs: &[(&str, &str)]| {
        let attrs = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        (name.to_string(), attrs)
    };
    Guest {
        os_type: "hvm".into(),
        arch: caps.arch.as_str().to_string(),
        wordsize: crate::caps_model::word_size(caps.arch),
        emulator: Some(caps.binary.display().to_string()),
        machines: machines(caps),
        domains,
        features: vec![
            flag("acpi", &[("default", "on"), ("toggle", "yes")]),
            flag("apic", &[("default", "on"), ("toggle", "no")]),
            flag("cpuselection", &[]),
            flag("deviceboot", &[]),
            flag("disksnapshot", &[("default", "on"), ("toggle", "no")]),
        ],
        ..Guest::default()
    }
}

pub fn capabilities_xml(driver: &Driver) -> Result<String> {
    let caps = driver.caps(Path::new(DEFAULT_EMULATOR))?;
    let host = Host {
        uuid: driver.host_uuid.map(rvirt_util::uuid::Uuid::from_bytes),
        arch: Some(std::env::consts::ARCH.to_string()),
        migration: Some(Migration {
            live: true,
            uri_transports: vec!["tcp".into(), "rdma".into()],
        }),
        secmodels: driver.security.secmodels(),
        ..Host::default()
    };
    Ok(Capabilities {
        host,
        guests: vec![guest(&caps)],
    }
    .format())
}
