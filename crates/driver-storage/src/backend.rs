//! The `dir` and `fs` pool backends (libvirt's storage_backend_fs.c with
//! the local helpers of storage_util.c): build the target directory (and
//! for `fs` the file system), check whether a pool is up, mount and
//! unmount an `fs` pool's device, delete the directory, and refresh: the
//! volumes found in the directory and the pool's figures from statvfs.

use crate::command;
use crate::pools::HostPool;
use crate::pools::PoolObj;
use crate::probe;
use crate::ERROR_DOMAIN;
use rvirt_conf::storage::PoolType;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

/// `VIR_STORAGE_POOL_BUILD_NO_OVERWRITE` and `..._OVERWRITE`.
pub const BUILD_NO_OVERWRITE: u32 = 1 << 2;
pub const BUILD_OVERWRITE: u32 = 1 << 3;
/// `VIR_STORAGE_DEFAULT_POOL_PERM_MODE`.
const DEFAULT_POOL_MODE: u32 = 0o711;
/// libvirt's Linux `default_mount_opts`.
const MOUNT_OPTS: &str = "nodev,nosuid,noexec";

fn sys(what: String, e: &std::io::Error) -> Error {
    Error::system(ERROR_DOMAIN, what, e)
}

/// `virCheckFlags` as the storage code reports it.
pub fn check_flags(func: &str, given: u32, allowed: u32) -> Result<()> {
    rvirt::connect::check_flags_in(ERROR_DOMAIN, func, given, allowed)
}

/// `VIR_EXCLUSIVE_FLAGS_RET` of the two build modes.
pub fn check_build_exclusive(flags: u32) -> Result<()> {
    if flags & BUILD_OVERWRITE != 0 && flags & BUILD_NO_OVERWRITE != 0 {
        return Err(Error::new(
            ERROR_DOMAIN,
            ErrorCode::INVALID_ARG,
            "Flags 'VIR_STORAGE_POOL_BUILD_OVERWRITE' and \
             'VIR_STORAGE_POOL_BUILD_NO_OVERWRITE' are mutually exclusive",
        ));
    }
    Ok(())
}

/// Whether rvirt has a backend for pools of this type.
pub fn supported(t: PoolType) -> Result<()> {
    match t {
        PoolType::Dir | PoolType::Fs => Ok(()),
        // virStorageBackendForType's refusal.
        other => Err(Error::internal(
            ERROR_DOMAIN,
            format!("missing backend for pool type {}", other as i32),
        )),
    }
}

/// `virStorageBackendFileSystemBuild`.
pub fn build(obj: &PoolObj, flags: u32) -> Result<()> {
    check_flags(
        "virStorageBackendFileSystemBuild",
        flags,
        BUILD_OVERWRITE | BUILD_NO_OVERWRITE,
    )?;
    check_build_exclusive(flags)?;
    build_local(obj)?;
    if flags != 0 && obj.def.pool_type == PoolType::Fs {
        make_file_system(obj, flags)?;
    }
    Ok(())
}

/// `virStorageBackendBuildLocal`: the target directory, its parents, mode
/// and owner.
fn build_local(obj: &PoolObj) -> Result<()> {
    let target = obj.target_path();
    let Some((parent, _)) = target.rsplit_once('/') else {
        return Err(Error::invalid_arg(
            ERROR_DOMAIN,
            format!("path '{target}' is not absolute"),
        ));
    };
    if !parent.is_empty() {
        std::fs::create_dir_all(parent)
            .map_err(|e| sys(format!("cannot create path '{parent}'"), &e))?;
    }
    let perms = &obj.def.perms;
    let existed = Path::new(target).exists();
    let mode = perms.mode.or((!existed).then_some(DEFAULT_POOL_MODE));
    if !existed {
        std::fs::DirBuilder::new()
            .mode(mode.unwrap_or(DEFAULT_POOL_MODE))
            .create(target)
            .map_err(|e| sys(format!("cannot create path '{target}'"), &e))?;
    }
    if let Some(m) = mode {
        std::fs::set_permissions(target, std::fs::Permissions::from_mode(m))
            .map_err(|e| sys(format!("cannot set mode of '{target}' to {m:04o}"), &e))?;
    }
    if perms.owner.is_some() || perms.group.is_some() {
        std::os::unix::fs::chown(target, perms.owner, perms.group).map_err(|e| {
            let (u, g) = (
                perms.owner.unwrap_or(u32::MAX),
                perms.group.unwrap_or(u32::MAX),
            );
            sys(format!("cannot chown '{target}' to ({u}, {g})"), &e)
        })?;
    }
    Ok(())
}

fn fs_format(obj: &PoolObj) -> &'static str {
    let formats = PoolType::Fs.source_format_names();
    formats[obj.def.source.format.unwrap_or(0)]
}

/// `virStorageBackendMakeFileSystem`: mkfs on the source device (with
/// NO_OVERWRITE only when blkid finds no file system on it).
fn make_file_system(obj: &PoolObj, flags: u32) -> Result<()> {
    let name = &obj.def.name;
    let Some(device) = obj.def.source.devices.first().map(|d| d.path.clone()) else {
        return Err(Error::operation_invalid(
            ERROR_DOMAIN,
            format!("No source device specified when formatting pool '{name}'"),
        ));
    };
    if !Path::new(&device).exists() {
        return Err(Error::operation_invalid(
            ERROR_DOMAIN,
            format!("Source device does not exist when formatting pool '{name}'"),
        ));
    }
    let format = fs_format(obj);
    if flags & BUILD_NO_OVERWRITE != 0 {
        let found = command::run_tool(
            "blkid",
            &["-p", "-o", "value", "-s", "TYPE", &device],
            "blkid is not available",
        )
        .unwrap_or_default();
        let found = found.trim();
        if found == format {
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::STORAGE_POOL_BUILT,
                format!("Device '{device}' already formatted using '{format}'"),
            ));
        }
        if !found.is_empty() {
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::STORAGE_POOL_BUILT,
                format!(
                    "Format of device '{device}' does not match the expected format \
                     '{format}', forced overwrite is necessary"
                ),
            ));
        }
    }
    let force = match format {
        "xfs" => Some("-f"),
        "ext2" | "ext3" | "ext4" => Some("-F"),
        "vfat" => Some("-I"),
        _ => None,
    };
    let mut args = vec!["-t", format];
    args.extend(force);
    args.push(&device);
    let missing = format!(
        "mkfs is not available on this platform: Failed to make filesystem of type \
         '{format}' on device '{device}'"
    );
    command::run_tool("mkfs", &args, &missing).map(drop)
}

/// `virStorageBackendFileSystemIsValid` for an `fs` pool.
fn valid_fs(obj: &PoolObj) -> Result<&str> {
    match obj.def.source.devices.as_slice() {
        [d] => Ok(&d.path),
        [] => Err(Error::internal(ERROR_DOMAIN, "missing source device")),
        _ => Err(Error::new(
            ERROR_DOMAIN,
            ErrorCode::CONFIG_UNSUPPORTED,
            "expected exactly 1 device for the storage pool",
        )),
    }
}

/// `virFileComparePaths`: the same file once links are resolved.
fn same_path(a: &str, b: &str) -> bool {
    let canon = |p: &str| std::fs::canonicalize(p).unwrap_or_else(|_| p.into());
    canon(a) == canon(b)
}

/// Undo /proc/mounts' octal escapes (`\040` for a space).
fn unescape_mount(field: &str) -> String {
    let mut out = String::new();
    let mut rest = field;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        match rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok())
        {
            Some(b) => {
                out.push(b as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out + rest
}

/// `virStorageBackendFileSystemIsMounted`.
fn is_mounted(obj: &PoolObj, device: &str) -> Result<bool> {
    let mounts = std::fs::read_to_string("/proc/mounts")
        .map_err(|e| sys("cannot read mount list '/proc/mounts'".into(), &e))?;
    Ok(mounts.lines().any(|l| {
        let mut f = l.split(' ');
        let (Some(src), Some(dir)) = (f.next(), f.next()) else {
            return false;
        };
        same_path(&unescape_mount(dir), obj.target_path())
            && same_path(&unescape_mount(src), device)
    }))
}

/// `virStorageBackendFileSystemCheck`: whether the pool is up.
pub fn check(obj: &PoolObj) -> Result<bool> {
    match obj.def.pool_type {
        PoolType::Fs => {
            let device = valid_fs(obj)?.to_string();
            is_mounted(obj, &device)
        }
        _ => Ok(Path::new(obj.target_path()).exists()),
    }
}

/// `virStorageBackendFileSystemStart`: mount an `fs` pool's device.
pub fn start(obj: &PoolObj) -> Result<()> {
    if obj.def.pool_type != PoolType::Fs {
        return Ok(());
    }
    let device = valid_fs(obj)?.to_string();
    if is_mounted(obj, &device)? {
        return Ok(());
    }
    let mount = command::find_in_path("mount").unwrap_or_else(|| "/usr/bin/mount".into());
    let args = [
        "-o",
        MOUNT_OPTS,
        "-t",
        fs_format(obj),
        &device,
        obj.target_path(),
    ];
    command::run(&mount, &args).map(drop)
}

/// `virStorageBackendFileSystemStop`: unmount an `fs` pool.
pub fn stop(obj: &PoolObj) -> Result<()> {
    if obj.def.pool_type != PoolType::Fs {
        return Ok(());
    }
    let device = valid_fs(obj)?.to_string();
    if !is_mounted(obj, &device)? {
        return Ok(());
    }
    let umount = command::find_in_path("umount").unwrap_or_else(|| "/usr/bin/umount".into());
    command::run(&umount, &[obj.target_path()]).map(drop)
}

/// `virStorageBackendDeleteLocal`.
pub fn delete(obj: &PoolObj, flags: u32) -> Result<()> {
    check_flags("virStorageBackendDeleteLocal", flags, 0)?;
    let target = obj.target_path();
    std::fs::remove_dir(target).map_err(|e| sys(format!("failed to remove pool '{target}'"), &e))
}

/// `virStorageBackendRefreshLocal`: the volumes in the directory and the
/// pool's capacity, allocation, available space and directory ownership.
pub fn refresh(obj: &mut PoolObj) -> Result<()> {
    let target = obj.target_path().to_string();
    // virDirOpen is util code: VIR_FROM_NONE.
    let entries = std::fs::read_dir(&target).map_err(|e| {
        Error::system(
            ErrorDomain::NONE,
            format!("cannot open directory '{target}'"),
            &e,
        )
    })?;
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.chars().any(char::is_control))
        .collect();
    names.sort();
    let mut volumes = Vec::new();
    for name in names {
        if let Some(vol) = probe::probe_vol(&target, &name)? {
            volumes.push(vol);
        }
    }
    let meta =
        std::fs::metadata(&target).map_err(|e| sys(format!("cannot stat path '{target}'"), &e))?;
    let vfs = nix::sys::statvfs::statvfs(target.as_str())
        .map_err(|e| sys(format!("cannot statvfs path '{target}'"), &e.into()))?;
    let def = &mut obj.def;
    def.capacity = vfs.fragment_size() as u64 * vfs.blocks() as u64;
    def.available = vfs.blocks_free() as u64 * vfs.fragment_size() as u64;
    def.allocation = def.capacity - def.available;
    def.perms.mode = Some(meta.mode() & 0o777);
    def.perms.owner = Some(meta.uid());
    def.perms.group = Some(meta.gid());
    def.perms.label = None;
    obj.volumes = volumes;
    Ok(())
}
