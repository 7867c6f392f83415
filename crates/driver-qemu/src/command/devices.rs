//! The device section of the command line in `qemuBuildCommandLine`'s
//! order, and the memballoon and RNG that follow `-incoming`.

use super::address::device_address;
use super::json::Props;
use super::{chardev, controller, disk, graphics, net, unsupported, Args, RunContext};
use crate::caps_model::QemuCaps;
use rvirt_conf::domain::devices::MemballoonModel;
use rvirt_conf::domain::props::VirEnum;
use rvirt_conf::domain::rng::RngBackend;
use rvirt_conf::domain::virtio::VirtioOptions;
use rvirt_conf::domain::{DomainDef, Memballoon};
use rvirt_util::Result;

/// Controllers through video.
pub(super) fn build_devices(
    a: &mut Args,
    def: &DomainDef,
    _caps: &QemuCaps,
    ctx: &RunContext,
) -> Result<()> {
    refuse_unmodelled(def)?;
    controller::controllers(a, def)?;
    disk::disks(a, def)?;
    net::interfaces(a, def, ctx)?;
    chardev::serials(a, def)?;
    chardev::channels(a, def, ctx)?;
    chardev::consoles(a, def)?;
    graphics::inputs(a, def)?;
    graphics::audio(a, def)?;
    graphics::graphics(a, def)?;
    graphics::videos(a, def)
}

/// Device classes the command line cannot express yet.
fn refuse_unmodelled(def: &DomainDef) -> Result<()> {
    let d = &def.devices;
    let present = [
        ("sound", !d.sounds.is_empty()),
        ("smartcard", !d.smartcards.is_empty()),
        ("redirdev", !d.redirdevs.is_empty()),
        ("hostdev", !d.hostdevs.is_empty()),
        ("hub", !d.hubs.is_empty()),
        ("panic", !d.panics.is_empty()),
        ("nvram", d.nvram.is_some()),
        // Neither virtio-9p nor vhost-user-fs (virtiofsd) is built yet.
        ("filesystem", !d.filesystems.is_empty()),
        ("watchdog", d.watchdog.is_some()),
        ("tpm", !d.tpms.is_empty()),
        ("shmem", !d.shmems.is_empty()),
        ("memory", !d.memories.is_empty()),
        ("iommu", d.iommu.is_some()),
        ("vsock", d.vsock.is_some()),
    ];
    if let Some((name, _)) = present.iter().find(|(_, p)| *p) {
        return Err(unsupported(format!(
            "device <{name}> is not supported by the rvirt QEMU driver yet"
        )));
    }
    // Chardev ids (`serialN`, `channelN`, the console's) are positional.
    let chrs = d.serials.iter().chain(&d.parallels).chain(&d.consoles);
    if chrs
        .map(|c| &c.info.alias)
        .chain(d.channels.iter().map(|c| &c.info.alias))
        .any(Option::is_some)
    {
        return Err(unsupported(
            "a character device user alias is not supported by the rvirt QEMU driver yet",
        ));
    }
    Ok(())
}

/// Memballoon and RNGs (after `-incoming`, as libvirt orders them).
pub(super) fn build_tail(a: &mut Args, def: &DomainDef) -> Result<()> {
    if let Some(m) = def
        .devices
        .memballoon
        .as_ref()
        .filter(|m| m.model != MemballoonModel::None)
    {
        if m.model != MemballoonModel::Virtio {
            return Err(unsupported(format!(
                "Memory balloon device type '{}' is not supported by this version of qemu",
                m.model.as_str()
            )));
        }
        refuse_balloon_options(m)?;
        // Balloon statistics find the device at its QOM path as `balloon0`.
        if m.info.alias.is_some() {
            return Err(unsupported(
                "a <memballoon> user alias is not supported by the rvirt QEMU driver yet",
            ));
        }
        let p = Props::new()
            .str("driver", "virtio-balloon-pci")
            .str("id", "balloon0");
        a.json("-device", device_address(p, &m.address, def));
    }
    rngs(a, def)
}

/// Balloon settings `virtio-balloon-pci` here does not carry yet.
fn refuse_balloon_options(m: &Memballoon) -> Result<()> {
    let part = if m.autodeflate.is_some() {
        "memballoon autodeflate"
    } else if m.free_page_reporting.is_some() {
        "memballoon freePageReporting"
    } else if m.period != 0 {
        "memballoon stats period"
    } else if m.virtio != VirtioOptions::default() {
        "memballoon driver options"
    } else {
        return Ok(());
    };
    Err(unsupported(format!(
        "{part} is not supported by the rvirt QEMU driver yet"
    )))
}

/// Each `<rng>`: its backend object `objALIAS` and `virtio-rng-pci`
/// `ALIAS` (its user alias or `rngN`), as libvirt names them.
fn rngs(a: &mut Args, def: &DomainDef) -> Result<()> {
    for (i, rng) in def.devices.rngs.iter().enumerate() {
        let id = rng.info.alias.clone().unwrap_or_else(|| format!("rng{i}"));
        let obj = format!("obj{id}");
        let backend = match &rng.backend {
            RngBackend::Random(file) => Props::new()
                .str("qom-type", "rng-random")
                .str("id", &obj)
                .str("filename", file),
            RngBackend::Builtin => Props::new().str("qom-type", "rng-builtin").str("id", &obj),
            RngBackend::Egd(source) => {
                let chr = format!("char{id}");
                a.opt("-chardev", chardev::backend(source, &chr)?);
                Props::new()
                    .str("qom-type", "rng-egd")
                    .str("id", &obj)
                    .str("chardev", &chr)
            }
        };
        a.json("-object", backend);
        let mut p = Props::new()
            .str("driver", "virtio-rng-pci")
            .str("rng", &obj)
            .str("id", &id);
        if rng.rate_bytes > 0 {
            p = p.num("max-bytes", rng.rate_bytes);
            p = p.num(
                "period",
                if rng.rate_period > 0 {
                    rng.rate_period
                } else {
                    1000
                },
            );
        }
        a.json("-device", device_address(p, &rng.address, def));
    }
    Ok(())
}
