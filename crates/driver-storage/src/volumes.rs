//! Making, copying, resizing, wiping and removing volume files (libvirt's
//! storage_util.c local volume backend): raw files directly (sparse up to
//! the capacity, the allocation reserved with fallocate), other formats
//! and conversions through `qemu-img` with the arguments libvirt gives.

use crate::backend::check_flags;
use crate::command;
use crate::probe::format;
use crate::ERROR_DOMAIN;
use rvirt_conf::storage::{VolDef, VolType, FILE_FORMATS};
use rvirt_util::{Error, ErrorCode, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

/// `VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA`, `..._REFLINK`.
pub const CREATE_PREALLOC_METADATA: u32 = 1;
pub const CREATE_REFLINK: u32 = 1 << 1;
/// `VIR_STORAGE_VOL_RESIZE_ALLOCATE`, `..._SHRINK`.
pub const RESIZE_ALLOCATE: u32 = 1;
pub const RESIZE_SHRINK: u32 = 1 << 2;
/// `VIR_STORAGE_DEFAULT_VOL_PERM_MODE`.
const DEFAULT_VOL_MODE: u32 = 0o600;
const COPY_BLOCK: usize = 1024 * 1024;
const ZERO_BLOCK: usize = 4096;

fn sys(what: String, e: &std::io::Error) -> Error {
    Error::system(ERROR_DOMAIN, what, e)
}

/// virfile.c's errors (`virFileResize`): VIR_FROM_NONE.
fn util_err(what: String, e: &std::io::Error) -> Error {
    Error::system(rvirt_util::ErrorDomain::NONE, what, e)
}

fn unsupported(msg: &str) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::CONFIG_UNSUPPORTED, msg)
}

fn path_of(vol: &VolDef) -> &str {
    vol.target.path.as_deref().unwrap_or("")
}

fn fmt_of(vol: &VolDef) -> usize {
    match vol.target.format.unwrap_or(format::RAW) {
        format::ISO => format::RAW,
        f => f,
    }
}

/// `virStorageBackendVolCreateLocal`: the new volume's type, path and key
/// in the pool's directory `dir`.
pub fn define_local(dir: &str, vol: &mut VolDef) -> Result<()> {
    vol.vol_type = if vol.target.format == Some(format::DIR) {
        VolType::Dir
    } else {
        VolType::File
    };
    if vol.name.contains('/') {
        return Err(Error::operation_invalid(
            ERROR_DOMAIN,
            format!("volume name '{}' cannot contain '/'", vol.name),
        ));
    }
    let path = format!("{dir}/{}", vol.name);
    if std::path::Path::new(&path).exists() {
        return Err(Error::operation_invalid(
            ERROR_DOMAIN,
            format!("volume target path '{path}' already exists"),
        ));
    }
    vol.target.path = Some(path.clone());
    vol.key = Some(path);
    Ok(())
}

/// `storageBackendVolBuildLocal`: make the volume's file, a copy of
/// `input` when given.
pub fn build(vol: &VolDef, input: Option<&VolDef>, flags: u32) -> Result<()> {
    let raw_file = |v: &VolDef| v.vol_type == VolType::File && fmt_of(v) == format::RAW;
    match input {
        Some(src) if raw_file(vol) && raw_file(src) => create_raw(vol, Some(src), flags),
        Some(src) => qemu_img(vol, Some(src), flags),
        None if fmt_of(vol) == format::RAW => create_raw(vol, None, flags),
        None if fmt_of(vol) == format::DIR => create_dir(vol, flags),
        None => qemu_img(vol, None, flags),
    }
}

fn create_dir(vol: &VolDef, flags: u32) -> Result<()> {
    check_flags("createFileDir", flags, 0)?;
    if vol.backing.is_some() {
        return Err(Error::no_support(
            ERROR_DOMAIN,
            "backing storage not supported for directories volumes",
        ));
    }
    let path = path_of(vol);
    let mode = vol.target.perms.mode.unwrap_or(DEFAULT_VOL_MODE);
    std::fs::create_dir(path)
        .and_then(|_| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)))
        .map_err(|e| sys(format!("cannot create path '{path}'"), &e))?;
    set_owner(vol)
}

fn set_owner(vol: &VolDef) -> Result<()> {
    let (uid, gid) = (vol.target.perms.owner, vol.target.perms.group);
    if uid.is_none() && gid.is_none() {
        return Ok(());
    }
    let path = path_of(vol);
    std::os::unix::fs::chown(path, uid, gid).map_err(|e| {
        let (u, g) = (uid.unwrap_or(u32::MAX), gid.unwrap_or(u32::MAX));
        sys(format!("cannot chown {path} to ({u}, {g})"), &e)
    })
}

/// `storageBackendCreateRaw` and `createRawFile`.
fn create_raw(vol: &VolDef, input: Option<&VolDef>, flags: u32) -> Result<()> {
    check_flags(
        "storageBackendCreateRaw",
        flags,
        CREATE_PREALLOC_METADATA | CREATE_REFLINK,
    )?;
    if flags & CREATE_PREALLOC_METADATA != 0 {
        return Err(unsupported(
            "metadata preallocation is not supported for raw volumes",
        ));
    }
    if vol.backing.is_some() {
        return Err(Error::no_support(
            ERROR_DOMAIN,
            "backing storage not supported for raw volumes",
        ));
    }
    let path = path_of(vol);
    let mode = vol.target.perms.mode.unwrap_or(DEFAULT_VOL_MODE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| sys(format!("Failed to create file '{path}'"), &e))?;
    let filled = file
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| sys(format!("Failed to create file '{path}'"), &e))
        .and_then(|_| set_owner(vol))
        .and_then(|_| fill_raw(&file, vol, input));
    if filled.is_err() {
        let _ = std::fs::remove_file(path);
    }
    filled
}

fn fill_raw(mut file: &File, vol: &VolDef, input: Option<&VolDef>) -> Result<()> {
    let path = path_of(vol);
    // A clone smaller than its source's capacity stays sparse.
    let mut need_alloc = input.is_none_or(|i| vol.allocation >= i.capacity);
    file.set_len(vol.capacity)
        .map_err(|e| sys(format!("cannot extend file '{path}'"), &e))?;
    if vol.allocation > 0 && need_alloc {
        match nix::fcntl::fallocate(
            std::os::fd::AsRawFd::as_raw_fd(file),
            nix::fcntl::FallocateFlags::empty(),
            0,
            vol.allocation as i64,
        ) {
            Ok(()) => need_alloc = false,
            Err(nix::errno::Errno::EOPNOTSUPP) | Err(nix::errno::Errno::ENOSYS) => {}
            Err(e) => {
                let what = format!("cannot allocate {} bytes in file '{path}'", vol.allocation);
                return Err(sys(what, &e.into()));
            }
        }
    }
    let mut pos = 0;
    if let Some(src) = input {
        pos = copy_data(file, path, src, !need_alloc)?;
    }
    if need_alloc && vol.allocation > pos {
        file.seek(SeekFrom::Start(pos))
            .and_then(|_| write_zeros(file, vol.allocation - pos))
            .map_err(|e| sys(format!("cannot fill file '{path}'"), &e))?;
    }
    file.sync_all()
        .map_err(|e| sys(format!("cannot sync data to file '{path}'"), &e))
}

fn write_zeros(mut file: &File, mut len: u64) -> std::io::Result<()> {
    let zeros = vec![0u8; COPY_BLOCK];
    while len > 0 {
        let n = len.min(COPY_BLOCK as u64) as usize;
        file.write_all(&zeros[..n])?;
        len -= n as u64;
    }
    Ok(())
}

/// `virStorageBackendCopyToFD`: the source's data, zero blocks skipped
/// when the copy may be sparse; how far it got.
fn copy_data(mut out: &File, path: &str, src: &VolDef, sparse: bool) -> Result<u64> {
    let src_path = path_of(src);
    let mut input = File::open(src_path)
        .map_err(|e| sys(format!("could not open input path '{src_path}'"), &e))?;
    let mut buf = vec![0u8; COPY_BLOCK];
    let mut copied = 0u64;
    let mut remain = src.capacity;
    while remain > 0 {
        let want = remain.min(COPY_BLOCK as u64) as usize;
        let n = input
            .read(&mut buf[..want])
            .map_err(|e| sys(format!("failed reading from file '{src_path}'"), &e))?;
        if n == 0 {
            break;
        }
        for chunk in buf[..n].chunks(ZERO_BLOCK) {
            let r = if sparse && chunk.iter().all(|b| *b == 0) {
                out.seek(SeekFrom::Current(chunk.len() as i64)).map(drop)
            } else {
                out.write_all(chunk)
            };
            r.map_err(|e| sys(format!("failed writing to file '{path}'"), &e))?;
        }
        copied += n as u64;
        remain -= n as u64;
    }
    Ok(copied)
}

/// `storageBackendCreateQemuImgOpts`.
fn qemu_img_opts(
    vol: &VolDef,
    fmt: usize,
    flags: u32,
    backing_fmt: Option<&str>,
) -> Result<String> {
    let mut opts = Vec::new();
    if let Some(b) = backing_fmt {
        opts.push(format!("backing_fmt={b}"));
    }
    if flags & CREATE_PREALLOC_METADATA != 0 {
        let (size_k, alloc_k) = (vol.capacity.div_ceil(1024), vol.allocation.div_ceil(1024));
        opts.push(
            if size_k > alloc_k {
                "preallocation=metadata"
            } else {
                "preallocation=falloc"
            }
            .into(),
        );
    }
    if vol.target.nocow {
        opts.push("nocow=on".into());
    }
    match &vol.target.compat {
        Some(c) => opts.push(format!("compat={c}")),
        None if fmt == format::QCOW2 => opts.push("compat=0.10".into()),
        None => {}
    }
    if vol.target.cluster_size > 0 {
        opts.push(format!("cluster_size={}", vol.target.cluster_size));
    }
    if let (Some(features), true) = (&vol.target.features, fmt == format::QCOW2) {
        let old = vol.target.compat.as_deref() == Some("0.10");
        for f in features {
            let (name, opt) = if *f == 0 {
                ("lazy_refcounts", "lazy_refcounts")
            } else {
                ("'extended_l2'", "extended_l2=on")
            };
            if old {
                return Err(unsupported(&format!(
                    "{name} not supported with compat level 0.10"
                )));
            }
            opts.push(opt.into());
        }
    }
    Ok(opts.join(","))
}

/// `storageBackendCreateQemuImg` (`qemu-img create`, or `convert` from
/// `input`) and `virStorageBackendCreateExecCommand`'s mode and owner.
fn qemu_img(vol: &VolDef, input: Option<&VolDef>, flags: u32) -> Result<()> {
    check_flags(
        "storageBackendCreateQemuImg",
        flags,
        CREATE_PREALLOC_METADATA,
    )?;
    let fmt = fmt_of(vol);
    let qcow2 = fmt == format::QCOW2;
    if flags & CREATE_PREALLOC_METADATA != 0 && !qcow2 {
        return Err(unsupported(
            "metadata preallocation only available with qcow2",
        ));
    }
    if vol.target.compat.is_some() && !qcow2 {
        return Err(unsupported(
            "compatibility option only available with qcow2",
        ));
    }
    if vol.target.features.is_some() && !qcow2 {
        return Err(unsupported("format features only available with qcow2"));
    }
    let path = path_of(vol);
    let backing = vol.backing.as_ref().filter(|_| input.is_none());
    let backing_fmt = backing.map(|b| FILE_FORMATS[b.format.unwrap_or(format::RAW)]);
    let opts = qemu_img_opts(vol, fmt, flags, backing_fmt)?;
    let size = format!("{}K", vol.capacity.div_ceil(1024));
    let mut args: Vec<&str> = match input {
        Some(src) => vec![
            "convert",
            "-f",
            FILE_FORMATS[fmt_of(src)],
            "-O",
            FILE_FORMATS[fmt],
        ],
        None => vec!["create", "-f", FILE_FORMATS[fmt]],
    };
    if let Some(b) = backing {
        args.extend(["-b", b.path.as_str()]);
    }
    if !opts.is_empty() {
        args.extend(["-o", opts.as_str()]);
    }
    if let Some(src) = input {
        args.push(path_of(src));
    }
    args.push(path);
    if input.is_none() && (vol.capacity > 0 || backing.is_none()) {
        args.push(&size);
    }
    command::run_tool(
        "qemu-img",
        &args,
        "creation of non-raw file images is not supported without qemu-img.",
    )?;
    let done = settle_mode(vol, path);
    if done.is_err() {
        let _ = std::fs::remove_file(path);
    }
    done
}

fn settle_mode(vol: &VolDef, path: &str) -> Result<()> {
    std::fs::metadata(path).map_err(|e| sys(format!("failed to create {path}"), &e))?;
    set_owner(vol)?;
    let mode = vol.target.perms.mode.unwrap_or(DEFAULT_VOL_MODE);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| sys(format!("cannot set mode of '{path}' to {mode:04o}"), &e))
}

/// `virStorageBackendVolDeleteLocal`.
pub fn delete(vol: &VolDef, flags: u32) -> Result<()> {
    check_flags("virStorageBackendVolDeleteLocal", flags, 0)?;
    let path = path_of(vol);
    let (r, what) = if vol.vol_type == VolType::Dir {
        (std::fs::remove_dir(path), "cannot remove directory")
    } else {
        (std::fs::remove_file(path), "cannot unlink file")
    };
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(sys(format!("{what} '{path}'"), &e))
        }
        _ => Ok(()),
    }
}

/// `virStorageBackendVolResizeLocal`: raw files by truncate (and
/// fallocate with ALLOCATE), others with `qemu-img resize`.
pub fn resize(vol: &VolDef, capacity: u64, flags: u32) -> Result<()> {
    check_flags(
        "virStorageBackendVolResizeLocal",
        flags,
        RESIZE_ALLOCATE | RESIZE_SHRINK,
    )?;
    let path = path_of(vol);
    let allocate = flags & RESIZE_ALLOCATE != 0;
    if fmt_of(vol) == format::RAW {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| util_err(format!("Unable to open '{path}'"), &e))?;
        if allocate {
            let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
            nix::fcntl::fallocate(fd, nix::fcntl::FallocateFlags::empty(), 0, capacity as i64)
                .map_err(|e| {
                    sys(
                        format!("Failed to pre-allocate space for file '{path}'"),
                        &e.into(),
                    )
                })?;
        }
        return file
            .set_len(capacity)
            .map_err(|e| util_err(format!("Failed to truncate file '{path}'"), &e));
    }
    if allocate {
        return Err(Error::new(
            ERROR_DOMAIN,
            ErrorCode::OPERATION_UNSUPPORTED,
            "preallocate is only supported for raw type volume",
        ));
    }
    // qemu-img refuses sizes that are not a multiple of 512.
    let size = capacity.div_ceil(512) * 512;
    let size_text = size.to_string();
    let mut args = vec!["resize"];
    if size < vol.capacity {
        args.push("--shrink");
    }
    args.extend([path, size_text.as_str()]);
    command::run_tool("qemu-img", &args, "unable to find qemu-img").map(drop)
}

/// `storageBackendVolWipeLocalFile` with the zero algorithm: a sparse
/// file truncated and extended again, others overwritten.
pub fn wipe(vol: &VolDef, algorithm: u32, flags: u32) -> Result<()> {
    check_flags("virStorageBackendVolWipeLocal", flags, 0)?;
    let path = path_of(vol);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| {
            sys(
                format!("Failed to open storage volume with path '{path}'"),
                &e,
            )
        })?;
    let meta = file.metadata().map_err(|e| {
        sys(
            format!("Failed to stat storage volume with path '{path}'"),
            &e,
        )
    })?;
    if algorithm != 0 {
        return scrub(path, algorithm);
    }
    use std::os::unix::fs::MetadataExt;
    let size = meta.size();
    if meta.is_file() && meta.blocks() < size / 512 {
        file.set_len(0).map_err(|e| {
            sys(
                format!("Failed to truncate volume with path '{path}' to 0 bytes"),
                &e,
            )
        })?;
        return file.set_len(size).map_err(|e| {
            sys(
                format!("Failed to truncate volume with path '{path}' to {size} bytes"),
                &e,
            )
        });
    }
    (&file)
        .seek(SeekFrom::Start(0))
        .and_then(|_| write_zeros(&file, vol.allocation))
        .map_err(|e| {
            sys(
                format!("Failed to write to storage volume with path '{path}'"),
                &e,
            )
        })?;
    file.sync_data()
        .map_err(|e| sys(format!("cannot sync data to volume with path '{path}'"), &e))
}

fn scrub(path: &str, algorithm: u32) -> Result<()> {
    // The pattern libvirt hands to scrub(1) (zero and trim are not scrub's).
    match rvirt_util::names::VOL_WIPE_ALGORITHMS.get(algorithm as usize) {
        Some(&"trim") => Err(Error::new(
            ERROR_DOMAIN,
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "'trim' algorithm not supported",
        )),
        Some(alg) => {
            let Some(program) = command::find_in_path("scrub") else {
                // vircommand.c's refusal (VIR_FROM_NONE).
                let e = std::io::Error::from_raw_os_error(libc::ENOENT);
                let what = "Cannot find 'scrub' in path";
                return Err(Error::system(rvirt_util::ErrorDomain::NONE, what, &e));
            };
            command::run(&program, &["-f", "-p", alg, path]).map(drop)
        }
        None => Err(Error::invalid_arg(
            ERROR_DOMAIN,
            format!("unsupported algorithm {algorithm}"),
        )),
    }
}
