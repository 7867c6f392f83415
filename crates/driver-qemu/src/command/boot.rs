//! Boot: `-boot` and direct kernel boot (`qemuBuildBootCommandLine`), and
//! `<boot dev=>` turned into device `bootindex`es
//! (`qemuProcessPrepareDeviceBootorder`).

use super::Args;
use rvirt_conf::domain::DomainDef;

/// `-boot [menu=on|off,]strict=on`, then `-kernel`/`-initrd`/`-append`/`-dtb`.
pub(super) fn boot(a: &mut Args, def: &DomainDef) {
    let mut opts = String::new();
    match def.os.bootmenu.as_deref() {
        Some("yes") => opts.push_str("menu=on,"),
        Some("no") => opts.push_str("menu=off,"),
        _ => {}
    }
    opts.push_str("strict=on");
    a.opt("-boot", opts);
    let os = &def.os;
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

/// The `bootindex` of each device `<boot dev=>` selects: per disk (in
/// definition order) and for the first interface; 0 is none.
pub(super) struct BootOrder {
    pub(super) disks: Vec<u32>,
    pub(super) first_net: u32,
}

impl BootOrder {
    /// The position (1-based) of each device class in `<os><boot>`; the
    /// first disk of a class takes it, as libvirt does.
    pub(super) fn of(def: &DomainDef) -> BootOrder {
        let position = |dev: &str| {
            def.os
                .boot
                .iter()
                .rposition(|b| b == dev)
                .map_or(0, |i| i as u32 + 1)
        };
        let (mut cdrom, mut floppy, mut disk) = (position("cdrom"), position("fd"), position("hd"));
        let disks = def
            .devices
            .disks
            .iter()
            .map(|d| {
                let slot = match d.device.as_str() {
                    "cdrom" => &mut cdrom,
                    "floppy" => &mut floppy,
                    _ => &mut disk,
                };
                std::mem::take(slot)
            })
            .collect();
        BootOrder {
            disks,
            first_net: position("network"),
        }
    }
}
