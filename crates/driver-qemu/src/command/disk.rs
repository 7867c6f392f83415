//! Disks through `-blockdev` (`qemuBuildDiskCommandLine`): a protocol
//! node `libvirt-N-storage`, a format node `libvirt-N-format`, then the
//! frontend `-device` (virtio-blk, ide-hd/cd on IDE or SATA, scsi-hd/cd).

use super::address::device_address;
use super::boot::BootOrder;
use super::json::Props;
use super::{unsupported, Args};
use rvirt_conf::domain::controller::{ControllerType, ScsiModel};
use rvirt_conf::domain::disk::{BackingStore, DiskCache, DiskDevice, DriverPolicies};
use rvirt_conf::domain::props::VirEnum;
use rvirt_conf::domain::{Address, Controller, Disk, DomainDef};
use rvirt_util::Result;

/// The first part of a disk the command line below does not carry (so it
/// is refused rather than lost).
fn untranslated(disk: &Disk) -> Option<&'static str> {
    let d = &disk.driver;
    let src = &disk.source;
    let boot_loadparm = disk.boot.as_ref().is_some_and(|b| b.loadparm.is_some());
    // io= (aio) and discard= are carried; the other policies are not.
    let policies = DriverPolicies {
        io: None,
        discard: None,
        ..d.policies.clone()
    };
    [
        // `<backingStore/>` (the chain ends here, as libvirt's migratable
        // XML says of an image without backing) is `"backing":null`.
        (
            matches!(disk.backing_store, Some(BackingStore::Image { .. })),
            "backingStore",
        ),
        (src.auth.is_some(), "auth"),
        (src.encryption.is_some(), "encryption"),
        (src.reservations.is_some(), "reservations"),
        (src.slice.is_some(), "slices"),
        (!src.seclabels.is_empty(), "source seclabel"),
        (
            disk.iotune.has_any() || disk.iotune.group_name.is_some(),
            "iotune",
        ),
        (disk.geometry.is_set(), "geometry"),
        (disk.blockio != Default::default(), "blockio"),
        (disk.transient.is_some(), "transient"),
        (
            disk.wwn.is_some() || disk.vendor.is_some() || disk.product.is_some(),
            "wwn/vendor/product",
        ),
        (policies != Default::default(), "driver policies"),
        (d.queues != 0 || d.queue_size != 0, "driver queues"),
        (
            d.detect_zeroes.is_some() || d.metadata_cache != 0,
            "driver detect_zeroes/metadata_cache",
        ),
        (d.virtio != Default::default(), "driver virtio options"),
        (boot_loadparm, "boot loadparm"),
    ]
    .into_iter()
    .find_map(|(set, what)| set.then_some(what))
}

pub(super) fn disks(a: &mut Args, def: &DomainDef) -> Result<()> {
    let boot = BootOrder::of(def);
    let count = def.devices.disks.len();
    for disk in &def.devices.disks {
        if let Some(what) = untranslated(disk) {
            return Err(unsupported(format!(
                "disk '{}': {what} is not supported by rvirt yet",
                disk.target.dev
            )));
        }
    }
    for (i, disk) in def.devices.disks.iter().enumerate() {
        let node = disk_node_index(count, i);
        let has_media = !disk.source.is_empty();
        if has_media {
            blockdevs(a, disk, node)?;
        }
        let p = frontend(disk, def, has_media.then_some(node))?;
        let p = match boot.disks[i] {
            0 => p,
            n => p.num("bootindex", n),
        };
        let p = match write_cache(disk) {
            Some(wc) => p.str("write-cache", wc),
            None => p,
        };
        a.json("-device", p);
    }
    Ok(())
}

fn cache_mode(disk: &Disk) -> Option<&str> {
    let cache = disk.driver.cache?;
    (cache != DiskCache::Default).then(|| cache.as_str())
}

/// `cache.direct` / `cache.no-flush` of both nodes for a cache mode.
fn cache_props(disk: &Disk) -> Option<Props> {
    let (direct, no_flush) = match cache_mode(disk)? {
        "none" => (true, false),
        "writeback" | "writethrough" => (false, false),
        "directsync" => (true, false),
        "unsafe" => (false, true),
        _ => return None,
    };
    Some(
        Props::new()
            .bool("direct", direct)
            .bool("no-flush", no_flush),
    )
}

/// The guest-visible write cache the mode implies.
fn write_cache(disk: &Disk) -> Option<&'static str> {
    match cache_mode(disk)? {
        "none" | "writeback" | "unsafe" => Some("on"),
        "writethrough" | "directsync" => Some("off"),
        _ => None,
    }
}

/// The N of disk `i`'s `libvirt-N-*` nodes (its source's index in the
/// live XML): libvirt numbers them down from the last of `count` disks.
pub fn disk_node_index(count: usize, i: usize) -> usize {
    count - i
}

/// The device alias of disk `disk` (`virtio-disk0`, `ide0-0-0`, ...): the
/// `id` its `-device` gets. libvirt's storage migration names the NBD
/// export and the mirror job `drive-ALIAS` after it.
pub fn disk_alias(disk: &Disk, def: &DomainDef) -> Result<String> {
    let json = frontend(disk, def, None)?.finish();
    let value: serde_json::Value = serde_json::from_str(&json)
        .map_err(|e| rvirt_util::Error::internal(rvirt_util::ErrorDomain::QEMU, e.to_string()))?;
    Ok(value["id"].as_str().unwrap_or_default().to_string())
}

fn blockdevs(a: &mut Args, disk: &Disk, node: usize) -> Result<()> {
    let driver = match disk.source.actual_type().as_str() {
        "file" => "file",
        "block" => "host_device",
        other => {
            return Err(unsupported(format!(
                "disk type '{other}' is not supported by rvirt yet"
            )))
        }
    };
    let format = disk.driver.format.map_or("raw", |f| f.as_str());
    if !matches!(format, "raw" | "qcow2") {
        return Err(unsupported(format!(
            "disk format '{format}' is not supported by rvirt yet"
        )));
    }
    let storage_name = format!("libvirt-{node}-storage");
    let aio = disk.driver.policies.io.map(|io| io.as_str());
    let mut storage = Props::new()
        .str("driver", driver)
        .str("filename", disk.source.path().unwrap_or(""))
        .opt_str("aio", aio)
        .str("node-name", &storage_name);
    if let Some(c) = cache_props(disk) {
        storage = storage.obj("cache", c);
    }
    storage = storage.bool("auto-read-only", true).str("discard", "unmap");
    a.json("-blockdev", storage);
    let mut fmt = Props::new()
        .str("node-name", &format!("libvirt-{node}-format"))
        .bool(
            "read-only",
            disk.readonly || disk.device == DiskDevice::Cdrom,
        );
    if let Some(c) = cache_props(disk) {
        fmt = fmt.obj("cache", c);
    }
    // What the guest's discards do, on the node it writes through
    // (qemuBlockStorageSourceAddBlockdevCommonProps' effective node).
    let discard = disk.driver.policies.discard.map(|d| d.as_str());
    let fmt = fmt
        .opt_str("discard", discard)
        .str("driver", format)
        .str("file", &storage_name);
    let fmt = match disk.backing_store {
        Some(BackingStore::Terminator) => fmt.null("backing"),
        _ => fmt,
    };
    a.json("-blockdev", fmt);
    Ok(())
}

/// The `-device` of a disk up to its id (boot index and write cache follow).
fn frontend(disk: &Disk, def: &DomainDef, node: Option<usize>) -> Result<Props> {
    let drive = node.map(|n| format!("libvirt-{n}-format"));
    let iothread = disk.driver.iothread.map(super::iothreads::alias);
    let cdrom = disk.device == DiskDevice::Cdrom;
    let index = rvirt_conf::domain::devices::disk_name_to_index(&disk.target.dev).unwrap_or(0);
    let (c, b, t, u) = match disk.address {
        Some(Address::Drive {
            controller,
            bus,
            target,
            unit,
        }) => (controller, bus, target, unit),
        _ => (0, 0, 0, 0),
    };
    let p = match disk.bus().as_str() {
        "virtio" => device_address(
            Props::new()
                .str("driver", "virtio-blk-pci")
                .opt_str("iothread", iothread.as_deref()),
            &disk.address,
            def,
        )
        .opt_str("drive", drive.as_deref())
        .str("id", &format!("virtio-disk{index}")),
        "ide" => Props::new()
            .str("driver", if cdrom { "ide-cd" } else { "ide-hd" })
            .str("bus", &format!("ide.{b}"))
            .num("unit", u)
            .opt_str("drive", drive.as_deref())
            .str("id", &format!("ide{c}-{b}-{u}")),
        "sata" => Props::new()
            .str("driver", if cdrom { "ide-cd" } else { "ide-hd" })
            .str("bus", &format!("{}.{u}", sata_alias(def, c)))
            .opt_str("drive", drive.as_deref())
            .str("id", &format!("sata{c}-{b}-{u}")),
        "scsi" => scsi(disk, def, (c, b, t, u), drive.as_deref())?,
        other => {
            return Err(unsupported(format!(
                "disk bus '{other}' is not supported by rvirt yet"
            )))
        }
    };
    Ok(p.opt_str("serial", disk.serial.as_deref()))
}

/// On q35 the built-in AHCI (sata0) is QEMU's `ide` bus.
fn sata_alias(def: &DomainDef, controller: u32) -> String {
    if controller == 0 && super::machine::is_q35(def) {
        "ide".into()
    } else {
        format!("sata{controller}")
    }
}

fn scsi(
    disk: &Disk,
    def: &DomainDef,
    (c, b, t, u): (u32, u32, u32, u32),
    drive: Option<&str>,
) -> Result<Props> {
    let driver = if disk.device == DiskDevice::Cdrom {
        "scsi-cd"
    } else {
        "scsi-hd"
    };
    let controller: Option<&Controller> = def
        .devices
        .controllers
        .iter()
        .find(|x| x.controller_type == ControllerType::Scsi && x.index == c as i32);
    let p = Props::new()
        .str("driver", driver)
        .str("bus", &format!("scsi{c}.0"));
    // lsi has one bus of units; virtio-scsi has channel, target and LUN.
    let (p, alias) = match controller.and_then(Controller::scsi_model) {
        Some(ScsiModel::VirtioScsi) => {
            let alias = format!("scsi{c}-{b}-{t}-{u}");
            let p = p.num("channel", b).num("scsi-id", t).num("lun", u);
            (p.str("device_id", &format!("drive-{alias}")), alias)
        }
        Some(ScsiModel::Lsilogic) => {
            let alias = format!("scsi{c}-{b}-{u}");
            let p = p
                .num("scsi-id", u)
                .str("device_id", &format!("drive-{alias}"));
            (p, alias)
        }
        other => {
            return Err(unsupported(format!(
                "SCSI controller model '{}' is not supported by rvirt yet",
                other.map_or("", VirEnum::as_str)
            )))
        }
    };
    Ok(p.opt_str("drive", drive).str("id", &alias))
}
