//! File ownership for the DAC driver (libvirt's `security_dac.c`):
//! chown a guest's files to the user QEMU runs as and give them back
//! afterwards, remembering the original owner in extended attributes
//! ([`super::remember`]) with a reference count, so a file two guests
//! share keeps the guests' owner until the last one stops.
//!
//! Changes are made as one transaction: every path to remember is locked
//! first (the byte libvirt locks, so libvirtd and rvirtd never interleave
//! their attribute updates), and a failure part-way gives back what was
//! already changed.

use super::ids::{format_ownership, parse_ownership};
use super::remember::{self, Recall};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The name of the attributes (`SECURITY_DAC_NAME`).
pub const DAC: &str = "dac";

/// One change of a transaction (`virSecurityDACChownItem`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub path: PathBuf,
    /// The owner to set; `None` restores the remembered one (or root).
    pub owner: Option<(u32, u32)>,
    /// Whether to remember (set) or recall (restore) the original owner.
    pub remember: bool,
}

impl Item {
    pub fn set(path: impl Into<PathBuf>, uid: u32, gid: u32, remember: bool) -> Item {
        Item {
            path: path.into(),
            owner: Some((uid, gid)),
            remember,
        }
    }

    pub fn restore(path: impl Into<PathBuf>, recall: bool) -> Item {
        Item {
            path: path.into(),
            owner: None,
            remember: recall,
        }
    }
}

fn stat(path: &Path) -> Result<std::fs::Metadata> {
    std::fs::metadata(path).map_err(|e| {
        Error::system(
            ErrorDomain::SECURITY,
            format!("unable to stat: {}", path.display()),
            &e,
        )
    })
}

/// `virSecurityDACSetOwnershipInternal`: chown unless already so; a file
/// system that cannot (or may not) change owners is only noted.
fn chown(path: &Path, uid: u32, gid: u32) -> Result<()> {
    let meta = stat(path)?;
    if meta.uid() == uid && meta.gid() == gid {
        return Ok(());
    }
    let Err(e) = std::os::unix::fs::chown(path, Some(uid), Some(gid)) else {
        return Ok(());
    };
    match e.raw_os_error() {
        Some(libc::EOPNOTSUPP | libc::EINVAL | libc::EPERM | libc::EROFS) => {
            tracing::info!(
                "Setting user and group to '{uid}:{gid}' on '{}' not possible: {e}",
                path.display()
            );
            Ok(())
        }
        _ => Err(Error::system(
            ErrorDomain::SECURITY,
            format!(
                "unable to set user and group to '{uid}:{gid}' on '{}'",
                path.display()
            ),
            &e,
        )),
    }
}

/// `virSecurityDACSetOwnership`: remember the current owner (refusing a
/// different owner on a file another guest already uses), then chown.
fn set_ownership(path: &Path, uid: u32, gid: u32, remember: bool) -> Result<()> {
    if remember {
        let meta = stat(path)?;
        let current = format_ownership(meta.uid(), meta.gid());
        let count = remember::remember(DAC, path, &current)?;
        if count.is_some_and(|n| n > 1) && (meta.uid(), meta.gid()) != (uid, gid) {
            let err = Error::operation_invalid(
                ErrorDomain::SECURITY,
                format!(
                    "Setting different DAC user or group on {} which is already in use",
                    path.display()
                ),
            );
            return Err(undo_remember(path, err));
        }
    }
    tracing::info!(
        "Setting DAC user and group on '{}' to '{uid}:{gid}'",
        path.display()
    );
    chown(path, uid, gid).map_err(|e| if remember { undo_remember(path, e) } else { e })
}

/// Take back the count a failed [`set_ownership`] added.
fn undo_remember(path: &Path, err: Error) -> Error {
    if restore_ownership(path, true).is_err() {
        tracing::warn!(
            "Unable to restore label on '{}'. XATTRs might have been left in inconsistent state.",
            path.display()
        );
    }
    err
}

/// `virSecurityDACRestoreFileLabelInternal`: back to the remembered owner
/// once no other guest uses the file; root when nothing was remembered.
fn restore_ownership(path: &Path, recall: bool) -> Result<()> {
    let (mut uid, mut gid) = (0, 0);
    if recall {
        match remember::recall(DAC, path)? {
            Recall::InUse => return Ok(()),
            Recall::Restore(label) => (uid, gid) = parse_ownership(&label)?,
            Recall::Unknown => {}
        }
    }
    tracing::info!(
        "Restoring DAC user and group on '{}' to {uid}:{gid}",
        path.display()
    );
    chown(path, uid, gid)
}

fn apply(item: &Item, remember: bool) -> Result<()> {
    match item.owner {
        Some((uid, gid)) => set_ownership(&item.path, uid, gid, remember),
        None => restore_ownership(&item.path, remember),
    }
}

/// The lock libvirt takes on a file whose attributes it changes
/// (`virSecurityManagerMetadataLock`: a write lock on byte 1), held as an
/// open file description lock so threads of this daemon exclude each
/// other as well as other processes.
struct MetadataLock(#[allow(dead_code)] std::fs::File);

const LOCK_RETRIES: u32 = 10_000;

fn lock_one(path: &Path) -> Result<Option<MetadataLock>> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(None);
    };
    if meta.is_dir() {
        return Ok(None);
    }
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::EROFS) || meta.file_type().is_socket() => {
            return Ok(None)
        }
        Err(e) => {
            return Err(Error::system(
                ErrorDomain::SECURITY,
                format!("unable to open {}", path.display()),
                &e,
            ))
        }
    };
    let lock = libc::flock {
        l_type: libc::F_WRLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 1,
        l_len: 1,
        l_pid: 0,
    };
    for _ in 0..LOCK_RETRIES {
        // SAFETY: a valid descriptor and a filled-in flock.
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &lock) } == 0 {
            return Ok(Some(MetadataLock(file)));
        }
        let e = std::io::Error::last_os_error();
        if !matches!(e.raw_os_error(), Some(libc::EACCES | libc::EAGAIN)) {
            return Err(Error::system(
                ErrorDomain::SECURITY,
                format!("unable to lock {} for metadata change", path.display()),
                &e,
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Err(Error::new(
        ErrorDomain::SECURITY,
        ErrorCode::SYSTEM_ERROR,
        format!("unable to lock {} for metadata change", path.display()),
    ))
}

/// Lock the paths of `items` that remember, in sorted order (as libvirt,
/// so two daemons never wait on each other in a circle). A path that
/// cannot be locked (a directory, a socket) is changed without
/// remembering, as in libvirt.
fn lock_all(items: &[Item]) -> Result<(Vec<MetadataLock>, Vec<PathBuf>)> {
    let mut paths: Vec<&PathBuf> = items
        .iter()
        .filter(|i| i.remember)
        .map(|i| &i.path)
        .collect();
    paths.sort();
    paths.dedup();
    let (mut locks, mut locked) = (Vec::new(), Vec::new());
    for path in paths {
        if let Some(lock) = lock_one(path)? {
            locks.push(lock);
            locked.push(path.clone());
        }
    }
    Ok((locks, locked))
}

/// `virSecurityDACTransactionCommit` + `Run`: apply `items` in order,
/// remembering owners when `remember_owner` (qemu.conf's
/// `remember_owner`); on a failure the changes made so far are given
/// back and the error returned.
pub fn commit(items: &[Item], remember_owner: bool) -> Result<()> {
    let (_locks, locked) = if remember_owner {
        lock_all(items)?
    } else {
        (Vec::new(), Vec::new())
    };
    let remembers = |i: &Item| i.remember && locked.contains(&i.path);
    for (n, item) in items.iter().enumerate() {
        let Err(e) = apply(item, remembers(item)) else {
            continue;
        };
        for done in items[..n].iter().rev() {
            match done.owner {
                Some(_) => {
                    let _ = restore_ownership(&done.path, remembers(done));
                }
                None => {
                    tracing::warn!("Ignoring failed restore attempt on {}", done.path.display())
                }
            }
        }
        return Err(e);
    }
    Ok(())
}

/// As [`commit`], for restores: every item is tried, the first error
/// returned (libvirt's `RestoreAllLabel` goes on after a failure).
pub fn commit_restores(items: &[Item], remember_owner: bool) -> Result<()> {
    let (_locks, locked) = if remember_owner {
        lock_all(items)?
    } else {
        (Vec::new(), Vec::new())
    };
    let mut first = None;
    for item in items {
        if let Err(e) = apply(item, item.remember && locked.contains(&item.path)) {
            tracing::warn!("{}", e.message);
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests;
