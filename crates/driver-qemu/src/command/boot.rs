//! Boot: `-boot` and direct kernel boot (`qemuBuildBootCommandLine`), and
//! `<boot dev=>` turned into device `bootindex`es
//! (`qemuProcessPrepareDeviceBootorder`).

use super::Args;
use rvirt_conf::domain::boot::DeviceBoot;
use rvirt_conf::domain::disk::DiskDevice;
use rvirt_conf::domain::props::TriBool;
use rvirt_conf::domain::{BootDev, DomainDef};

/// `-boot [menu=on|off,][reboot-timeout=N,][splash-time=N,]strict=on`,
/// then `-kernel`/`-initrd`/`-append`/`-dtb`.
pub(super) fn boot(a: &mut Args, def: &DomainDef) {
    let mut opts = String::new();
    let os = &def.os;
    match os.bootmenu {
        Some(TriBool::Yes) => opts.push_str("menu=on,"),
        Some(TriBool::No) => opts.push_str("menu=off,"),
        None => {}
    }
    if let Some(t) = os.bios_reboot_timeout {
        opts.push_str(&format!("reboot-timeout={t},"));
    }
    if let Some(t) = os.bootmenu_timeout {
        opts.push_str(&format!("splash-time={t},"));
    }
    opts.push_str("strict=on");
    a.opt("-boot", opts);
    for (flag, value) in [
        ("-kernel", &os.kernel),
        ("-initrd", &os.initrd),
        ("-append", &os.cmdline),
        ("-dtb", &os.dtb),
    ] {
        if let Some(v) = value {
            a.opt(flag, v.clone());
        }
    }
}

/// The `bootindex` of each disk and interface (in definition order): the
/// per-device `<boot order>`, or what `<os><boot dev=>` selects (per disk
/// class and the first interface); 0 is none.
pub(super) struct BootOrder {
    pub(super) disks: Vec<u32>,
    pub(super) nets: Vec<u32>,
}

impl BootOrder {
    /// The position (1-based) of each device class in `<os><boot>`; the
    /// first disk of a class takes it, as libvirt does.
    pub(super) fn of(def: &DomainDef) -> BootOrder {
        let devs = &def.devices;
        if def.os.boot.is_empty() {
            let order = |b: Option<&DeviceBoot>| b.map_or(0, |b| b.order);
            return BootOrder {
                disks: devs.disks.iter().map(|d| order(d.boot.as_ref())).collect(),
                nets: devs
                    .interfaces
                    .iter()
                    .map(|n| order(n.boot.as_ref()))
                    .collect(),
            };
        }
        let position = |dev: BootDev| {
            def.os
                .boot
                .iter()
                .rposition(|b| *b == dev)
                .map_or(0, |i| i as u32 + 1)
        };
        let (mut cdrom, mut floppy, mut disk) = (
            position(BootDev::Cdrom),
            position(BootDev::Fd),
            position(BootDev::Hd),
        );
        let disks = def
            .devices
            .disks
            .iter()
            .map(|d| {
                let slot = match d.device {
                    DiskDevice::Cdrom => &mut cdrom,
                    DiskDevice::Floppy => &mut floppy,
                    _ => &mut disk,
                };
                std::mem::take(slot)
            })
            .collect();
        let mut nets = vec![0; devs.interfaces.len()];
        if let Some(first) = nets.first_mut() {
            *first = position(BootDev::Network);
        }
        BootOrder { disks, nets }
    }
}
