//! Which files of a guest the DAC driver relabels, and with which owner
//! (libvirt's `virSecurityDACSetAllLabel` / `RestoreAllLabel` over the
//! definition): disk images and their backing chains, file, pipe, device
//! and unix socket character devices, the kernel, initrd, DTB, SLIC table
//! and NVRAM. What is not relabelled yet: host devices, input
//! passthrough, TPM state, memory backing files, fw_cfg files.

use super::dac::Item;
use super::ids::parse_ownership;
use super::Dac;
use rvirt_conf::domain::chardev::{ChrSource, ChrType};
use rvirt_conf::domain::device_seclabel::DeviceSeclabel;
use rvirt_conf::domain::disk::{BackingStore, DiskType, SourceKind, StorageSource};
use rvirt_conf::domain::os_loader::Nvram;
use rvirt_conf::domain::seclabel::Seclabel;
use rvirt_conf::domain::serial::ConsoleTarget;
use rvirt_conf::DomainDef;
use rvirt_util::Result;
use std::path::{Path, PathBuf};

/// `virDomainDefGetSecurityLabelDef(def, "dac")`.
pub fn dac_seclabel(def: &DomainDef) -> Option<&Seclabel> {
    def.seclabels
        .iter()
        .find(|s| s.model.as_deref() == Some("dac"))
}

fn device_seclabel(labels: &[DeviceSeclabel]) -> Option<&DeviceSeclabel> {
    labels.iter().find(|s| s.model.as_deref() == Some("dac"))
}

impl Dac {
    /// `virSecurityDACGetIds`: who QEMU runs as.
    pub fn process_ids(&self, def: &DomainDef) -> Result<(u32, u32)> {
        match dac_seclabel(def).and_then(|s| s.label.as_deref()) {
            Some(label) => parse_ownership(label),
            None => Ok((self.user, self.group)),
        }
    }

    /// `virSecurityDACGetImageIds`: who owns the guest's images.
    pub fn image_ids(&self, def: &DomainDef) -> Result<(u32, u32)> {
        match dac_seclabel(def).and_then(|s| s.imagelabel.as_deref()) {
            Some(label) => parse_ownership(label),
            None => Ok((self.user, self.group)),
        }
    }

    /// Whether files are relabelled for `def` at all.
    fn relabels(&self, def: &DomainDef) -> bool {
        self.dynamic_ownership && dac_seclabel(def).is_none_or(|s| s.relabel)
    }

    /// The changes that label every file of `def` for its QEMU.
    pub fn set_all_items(&self, def: &DomainDef) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        if !self.relabels(def) {
            return Ok(items);
        }
        let image = self.image_ids(def)?;
        let process = self.process_ids(def)?;
        for disk in &def.devices.disks {
            if disk.source.disk_type() == DiskType::Dir {
                continue;
            }
            let top = &disk.source;
            let remember_top = !disk.readonly && !disk.shareable;
            image_item(&mut items, top, top, image, remember_top)?;
            let mut next = disk.backing_store.as_ref();
            while let Some(BackingStore::Image {
                source, backing, ..
            }) = next
            {
                image_item(&mut items, source, top, image, false)?;
                next = backing.as_deref();
            }
        }
        for source in chardev_sources(def) {
            chardev_set_items(&mut items, source, process);
        }
        if let Some(path) = nvram_path(def) {
            items.push(Item::set(path, image.0, image.1, true));
        }
        for path in os_files(def) {
            items.push(Item::set(path, image.0, image.1, true));
        }
        Ok(items)
    }

    /// The changes that give `def`'s files back (`RestoreAllLabel`).
    /// After an outgoing migration (`migrated`), images on a shared file
    /// system are left to the destination's QEMU.
    pub fn restore_all_items(&self, def: &DomainDef, migrated: bool) -> Vec<Item> {
        let mut items = Vec::new();
        if !self.relabels(def) {
            return items;
        }
        for disk in &def.devices.disks {
            // Read-only and shared images may be in use by other guests.
            if disk.readonly || disk.shareable {
                continue;
            }
            let src = &disk.source;
            if matches!(
                src.kind,
                SourceKind::File {
                    fdgroup: Some(_),
                    ..
                }
            ) {
                continue;
            }
            if device_seclabel(&src.seclabels).is_some_and(|s| !s.relabel) {
                continue;
            }
            match src.path() {
                Some(path) if migrated && is_shared_fs(Path::new(path)) => {
                    tracing::debug!("Skipping image label restore on {path} because FS is shared");
                }
                Some(path) => items.push(Item::restore(path, true)),
                None => {}
            }
        }
        for source in chardev_sources(def) {
            chardev_restore_items(&mut items, source);
        }
        if let Some(path) = nvram_path(def) {
            items.push(Item::restore(path, true));
        }
        for path in os_files(def) {
            items.push(Item::restore(path, true));
        }
        items
    }
}

/// `virSecurityDACSetImageLabelInternal` for one image of a chain whose
/// top is `parent`.
fn image_item(
    items: &mut Vec<Item>,
    src: &StorageSource,
    parent: &StorageSource,
    ids: (u32, u32),
    remember: bool,
) -> Result<()> {
    if matches!(
        src.kind,
        SourceKind::File {
            fdgroup: Some(_),
            ..
        }
    ) {
        return Ok(());
    }
    let own = device_seclabel(&src.seclabels).filter(|s| !s.relabel || s.label.is_some());
    let inherited = device_seclabel(&parent.seclabels).filter(|s| !s.relabel || s.label.is_some());
    let (uid, gid) = match own.or(inherited) {
        Some(s) if !s.relabel => return Ok(()),
        Some(s) => parse_ownership(s.label.as_deref().unwrap_or_default())?,
        None => ids,
    };
    if let Some(path) = src.path() {
        items.push(Item::set(path, uid, gid, remember));
    }
    Ok(())
}

/// Serial ports, parallel ports, channels and consoles, without the
/// console that stands for the first serial port
/// (`virDomainChrDefForeach`, `virDomainSkipBackcompatConsole`).
fn chardev_sources(def: &DomainDef) -> Vec<&ChrSource> {
    let d = &def.devices;
    let mut out: Vec<&ChrSource> = d.serials.iter().map(|c| &c.source).collect();
    out.extend(d.parallels.iter().map(|c| &c.source));
    out.extend(d.channels.iter().map(|c| &c.source));
    for (i, console) in d.consoles.iter().enumerate() {
        let serial_compat = i == 0
            && !d.serials.is_empty()
            && matches!(console.console_target(), Some(ConsoleTarget::Serial) | None);
        if !serial_compat {
            out.push(&console.source);
        }
    }
    out
}

fn pipe_ends(path: &str) -> Option<[PathBuf; 2]> {
    let (inp, out) = (
        PathBuf::from(format!("{path}.in")),
        PathBuf::from(format!("{path}.out")),
    );
    (inp.exists() && out.exists()).then_some([inp, out])
}

/// `virSecurityDACSetChardevLabelHelper` (no virtlogd: file backends are
/// QEMU's to open, so they are relabelled).
fn chardev_set_items(items: &mut Vec<Item>, src: &ChrSource, (uid, gid): (u32, u32)) {
    let Some(path) = src.path.as_deref() else {
        return;
    };
    match src.chr_type {
        ChrType::Dev | ChrType::File => items.push(Item::set(path, uid, gid, true)),
        ChrType::Pipe => match pipe_ends(path) {
            Some(ends) => items.extend(ends.map(|p| Item::set(p, uid, gid, true))),
            None => items.push(Item::set(path, uid, gid, true)),
        },
        ChrType::Unix if !src.listen || Path::new(path).exists() => {
            items.push(Item::set(path, uid, gid, true))
        }
        _ => {}
    }
}

/// `virSecurityDACRestoreChardevLabelHelper`.
fn chardev_restore_items(items: &mut Vec<Item>, src: &ChrSource) {
    let Some(path) = src.path.as_deref() else {
        return;
    };
    match src.chr_type {
        ChrType::Dev | ChrType::File => items.push(Item::restore(path, true)),
        ChrType::Pipe => match pipe_ends(path) {
            Some([inp, out]) => items.extend([Item::restore(out, true), Item::restore(inp, true)]),
            None => items.push(Item::restore(path, true)),
        },
        ChrType::Unix if !src.listen => items.push(Item::restore(path, true)),
        _ => {}
    }
}

/// The kernel, initrd, DTB and SLIC table.
fn os_files(def: &DomainDef) -> Vec<&str> {
    let os = &def.os;
    [&os.kernel, &os.initrd, &os.dtb, &os.slic_table]
        .into_iter()
        .filter_map(|p| p.as_deref())
        .collect()
}

/// `virFileIsSharedFS`: NFS, GFS2, OCFS2, AFS, SMB, CIFS, Ceph, GPFS, ACFS
/// (by the file system's magic number, from the nearest existing parent;
/// FUSE file systems, which libvirt tells apart by mount type, count as
/// local here).
pub fn is_shared_fs(path: &Path) -> bool {
    const SHARED: [i64; 9] = [
        0x6969,      // NFS
        0x0116_1970, // GFS2
        0x7461_636f, // OCFS2
        0x6B41_4653, // AFS
        0x517B,      // SMB
        0xFF53_4D42, // CIFS
        0x00C3_6400, // Ceph
        0x4750_4653, // GPFS
        0x6163_6673, // ACFS
    ];
    let found = path
        .ancestors()
        .find_map(|p| nix::sys::statfs::statfs(p).ok());
    // `f_type`'s width differs between targets.
    #[allow(clippy::unnecessary_cast)]
    let shared = |fs: nix::sys::statfs::Statfs| SHARED.contains(&(fs.filesystem_type().0 as i64));
    found.is_some_and(shared)
}

/// The local file or block device that holds the guest's NVRAM, if any.
fn nvram_path(def: &DomainDef) -> Option<&str> {
    match def.os.loader.as_ref()?.nvram.as_ref()? {
        Nvram::Path(p) => Some(p),
        Nvram::Source(src) => src.path(),
    }
}
