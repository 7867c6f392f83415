//! What a volume is, read from the file system as libvirt's storage
//! backends read it (storage_util.c `virStorageBackendVolOpen`,
//! `virStorageBackendUpdateVolTargetInfoFD`, `storageBackendProbeTarget`;
//! storage_file_probe.c for image headers): sizes and ownership from
//! `stat`, the format from the header's magic, a qcow2 image's virtual
//! size, cluster size, compat level, features and backing file from its
//! header. libvirt reads the header itself rather than run `qemu-img
//! info`; so does rvirt (no process per volume, and no image lock taken
//! on a disk a running guest holds).

use crate::ERROR_DOMAIN;
use rvirt_conf::storage::{BackingStore, Perms, Timestamps, VolDef, VolTarget, VolType};
use rvirt_util::{Error, ErrorCode, Result};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// Indexes in the file volume format table (`virStorageFileFormat`).
pub mod format {
    pub const RAW: usize = 1;
    pub const DIR: usize = 2;
    pub const ISO: usize = 6;
    pub const QCOW: usize = 13;
    pub const QCOW2: usize = 14;
    pub const VMDK: usize = 16;
}

/// `VIR_STORAGE_MAX_HEADER`: how much of a file the probe reads.
const MAX_HEADER: usize = 0x8200;
const QCOW_MAGIC: &[u8] = b"QFI\xfb";
const QCOW2_EXT_BACKING_FORMAT: u32 = 0xE279_2ACA;

/// What `stat` (and a block device's size) says about a volume's file.
#[derive(Clone, Debug)]
pub struct FileFacts {
    pub is_dir: bool,
    pub allocation: u64,
    pub physical: u64,
    pub perms: Perms,
    pub timestamps: Timestamps,
}

/// An opened volume file, or why it was skipped (`-2` in libvirt: only
/// when the caller asked not to fail).
pub enum Opened {
    File(File, FileFacts),
    Skipped,
}

fn sys(what: String, e: &std::io::Error) -> Error {
    Error::system(ERROR_DOMAIN, what, e)
}

/// `virStorageBackendVolOpen` (regular files, block devices and, with
/// `dirs`, directories) and `virStorageBackendUpdateVolTargetInfoFD`.
pub fn open(path: &Path, dirs: bool, noerror: bool) -> Result<Opened> {
    let shown = path.display();
    let lmeta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && noerror => {
            return Ok(Opened::Skipped)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::NO_STORAGE_VOL,
                format!("no storage vol with matching path '{shown}'"),
            ))
        }
        Err(e) => return Err(sys(format!("cannot stat file '{shown}'"), &e)),
    };
    let ft = lmeta.file_type();
    if (ft.is_fifo() || ft.is_socket()) && noerror {
        return Ok(Opened::Skipped);
    }
    let file = match File::open(path) {
        Ok(f) => f,
        Err(_) if noerror => return Ok(Opened::Skipped),
        Err(e) => return Err(sys(format!("cannot open volume '{shown}'"), &e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| sys(format!("cannot stat file '{shown}'"), &e))?;
    let ft = meta.file_type();
    let usable = ft.is_file() || ft.is_block_device() || (dirs && ft.is_dir());
    if !usable {
        if noerror {
            return Ok(Opened::Skipped);
        }
        return Err(Error::internal(
            ERROR_DOMAIN,
            format!("unexpected storage mode for '{shown}'"),
        ));
    }
    let facts = facts_of(&file, &meta, path)?;
    Ok(Opened::File(file, facts))
}

fn facts_of(mut file: &File, meta: &std::fs::Metadata, path: &Path) -> Result<FileFacts> {
    let (allocation, physical) = if meta.is_file() {
        (meta.blocks() * 512, meta.size())
    } else if meta.is_dir() {
        (0, 0)
    } else {
        let end = file
            .seek(SeekFrom::End(0))
            .map_err(|e| sys(format!("failed to seek to end of {}", path.display()), &e))?;
        (end, end)
    };
    Ok(FileFacts {
        is_dir: meta.is_dir(),
        allocation,
        physical,
        perms: Perms {
            mode: Some(meta.mode() & 0o777),
            owner: Some(meta.uid()),
            group: Some(meta.gid()),
            label: None,
        },
        // Linux has no birth time in stat: libvirt shows 0.
        timestamps: Timestamps {
            atime: (meta.atime(), meta.atime_nsec()),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
            btime: (0, 0),
        },
    })
}

/// What an image header says (`virStorageFileGetMetadataInternal`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub format: usize,
    pub capacity: u64,
    pub cluster_size: u64,
    pub compat: Option<String>,
    pub features: Option<Vec<usize>>,
    /// The backing file's name and format (from the header extension).
    pub backing: Option<(String, Option<usize>)>,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The format of a header (`virStorageFileProbeFormatFromBuf`, the
/// formats rvirt tells apart): qcow2, qcow, VMDK, ISO 9660, else raw.
pub fn parse_header(buf: &[u8]) -> Header {
    let mut h = Header {
        format: format::RAW,
        ..Header::default()
    };
    if buf.starts_with(QCOW_MAGIC) {
        let version = be32(buf, 4).unwrap_or(0);
        h.format = if version == 1 {
            format::QCOW
        } else {
            format::QCOW2
        };
        h.capacity = be64(buf, 24).unwrap_or(0);
        if h.format == format::QCOW2 {
            qcow2_details(buf, version, &mut h);
        }
    } else if buf.starts_with(b"KDMV") {
        // Little endian, in 512-byte sectors.
        h.format = format::VMDK;
        let sectors = buf
            .get(12..20)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes);
        h.capacity = sectors.unwrap_or(0).saturating_mul(512);
    } else if buf.get(0x8001..0x8006) == Some(b"CD001") {
        h.format = format::ISO;
    }
    h
}

/// qcow2's cluster size, features (v3), and backing file with its format.
fn qcow2_details(buf: &[u8], version: u32, h: &mut Header) {
    if let Some(bits) = be32(buf, 20).filter(|b| (9..=21).contains(b)) {
        h.cluster_size = 1 << bits;
    }
    if version >= 3 {
        let (incompatible, compatible) = (be64(buf, 72).unwrap_or(0), be64(buf, 80).unwrap_or(0));
        let mut features = Vec::new();
        if compatible & 1 != 0 {
            features.push(0); // lazy_refcounts
        }
        if incompatible & (1 << 4) != 0 {
            features.push(1); // extended_l2
        }
        h.features = Some(features);
        h.compat = Some("1.1".into());
    }
    let (offset, size) = (
        be64(buf, 8).unwrap_or(0) as usize,
        be32(buf, 16).unwrap_or(0) as usize,
    );
    if offset == 0 || size == 0 {
        return;
    }
    let Some(name) = buf.get(offset..offset + size) else {
        return;
    };
    let name = String::from_utf8_lossy(name).into_owned();
    let ext_start = if version >= 3 {
        be32(buf, 100).unwrap_or(104) as usize
    } else {
        72
    };
    h.backing = Some((name, backing_format(buf, ext_start, offset)));
}

/// The backing format header extension, walked up to `end`.
fn backing_format(buf: &[u8], mut at: usize, end: usize) -> Option<usize> {
    while at + 8 <= end {
        let (kind, len) = (be32(buf, at)?, be32(buf, at + 4)? as usize);
        if kind == 0 {
            return None;
        }
        if kind == QCOW2_EXT_BACKING_FORMAT {
            let name = String::from_utf8_lossy(buf.get(at + 8..at + 8 + len)?).into_owned();
            return rvirt_conf::storage::FILE_FORMATS
                .iter()
                .position(|f| *f == name);
        }
        at += 8 + len.div_ceil(8) * 8;
    }
    None
}

fn read_header(mut file: &File, path: &Path) -> Result<Vec<u8>> {
    let shown = path.display();
    file.seek(SeekFrom::Start(0))
        .map_err(|e| sys(format!("cannot seek to start of '{shown}'"), &e))?;
    let mut buf = Vec::with_capacity(MAX_HEADER);
    file.take(MAX_HEADER as u64)
        .read_to_end(&mut buf)
        .map_err(|e| sys(format!("cannot read header '{shown}'"), &e))?;
    Ok(buf)
}

fn apply_facts(target: &mut VolTarget, vol_caps: (&mut u64, &mut u64), f: &FileFacts) {
    *vol_caps.0 = f.physical;
    *vol_caps.1 = f.allocation;
    target.physical = f.physical;
    target.perms = f.perms.clone();
    target.timestamps = Some(f.timestamps);
}

/// `virStorageBackendVolRefreshLocal`: sizes, ownership and times of a
/// known volume again, its capacity from the header of its own format.
pub fn refresh_vol(vol: &mut VolDef) -> Result<()> {
    let path = vol.target.path.clone().unwrap_or_default();
    let Opened::File(file, facts) = open(Path::new(&path), true, false)? else {
        return Ok(());
    };
    apply_facts(
        &mut vol.target,
        (&mut vol.capacity, &mut vol.allocation),
        &facts,
    );
    let fmt = vol.target.format.unwrap_or(format::RAW);
    if facts.is_dir || fmt == format::RAW || fmt == format::DIR {
        return Ok(());
    }
    let header = parse_header(&read_header(&file, Path::new(&path))?);
    if header.format == fmt && header.capacity > 0 {
        vol.capacity = header.capacity;
    }
    Ok(())
}

/// `virStorageBackendRefreshVolTargetUpdate` of a file found in a pool's
/// directory: `None` for what a pool skips (FIFOs, sockets, dangling
/// links, files it may not read).
pub fn probe_vol(dir: &str, name: &str) -> Result<Option<VolDef>> {
    let path = format!("{dir}/{name}");
    let Opened::File(file, facts) = open(Path::new(&path), true, true)? else {
        return Ok(None);
    };
    let mut vol = VolDef {
        name: name.to_string(),
        key: Some(path.clone()),
        vol_type: VolType::File,
        capacity: 0,
        allocation: 0,
        has_allocation: true,
        target: VolTarget {
            path: Some(path.clone()),
            format: Some(format::RAW),
            ..VolTarget::default()
        },
        backing: None,
    };
    apply_facts(
        &mut vol.target,
        (&mut vol.capacity, &mut vol.allocation),
        &facts,
    );
    if facts.is_dir {
        vol.vol_type = VolType::Dir;
        vol.target.format = Some(format::DIR);
        return Ok(Some(vol));
    }
    let header = parse_header(&read_header(&file, Path::new(&path))?);
    vol.target.format = Some(header.format);
    if header.capacity > 0 {
        vol.capacity = header.capacity;
    }
    vol.target.cluster_size = header.cluster_size;
    vol.target.features = header.features;
    vol.target.compat = header.compat;
    vol.backing = header.backing.map(|(p, f)| backing_store(dir, p, f));
    Ok(Some(vol))
}

/// The backing store as libvirt shows it: path relative to the image's
/// directory resolved, format probed when the header has none, and the
/// file's ownership and times when it is there.
fn backing_store(dir: &str, path: String, format: Option<usize>) -> BackingStore {
    let full = if path.starts_with('/') {
        path
    } else {
        format!("{dir}/{path}")
    };
    let mut b = BackingStore {
        path: full.clone(),
        format,
        perms: Perms::default(),
        timestamps: None,
    };
    if let Ok(Opened::File(file, facts)) = open(Path::new(&full), false, true) {
        if b.format.is_none() {
            b.format = read_header(&file, Path::new(&full))
                .ok()
                .map(|h| parse_header(&h).format);
        }
        b.perms = facts.perms;
        b.timestamps = Some(facts.timestamps);
    }
    b.format.get_or_insert(format::RAW);
    b
}
