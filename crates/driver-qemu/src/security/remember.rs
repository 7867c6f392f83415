//! The owner a file had before a guest used it, remembered in extended
//! attributes with a reference count (libvirt's `security_util.c`), so
//! libvirtd and rvirtd, their restarts and every guest sharing the file
//! agree: `trusted.libvirt.security.dac` (the original `+UID:+GID`),
//! `trusted.libvirt.security.ref_dac` (how many guests use it) and
//! `trusted.libvirt.security.timestamp_dac` (the host's boot time: left
//! by an earlier boot, the attributes are stale and dropped).

use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

/// What a file system without extended attributes answers (libvirt's -2):
/// the caller labels without remembering.
#[derive(Debug)]
pub enum Recall {
    /// The last user left: restore this owner.
    Restore(String),
    /// Other guests still use the file: leave it.
    InUse,
    /// Nothing remembered (no attributes, stale ones, or no support).
    Unknown,
}

fn attr_name(driver: &str) -> String {
    format!("trusted.libvirt.security.{driver}")
}

fn ref_name(driver: &str) -> String {
    format!("trusted.libvirt.security.ref_{driver}")
}

fn timestamp_name(driver: &str) -> String {
    format!("trusted.libvirt.security.timestamp_{driver}")
}

fn c_path(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::internal(ErrorDomain::SECURITY, "path with a NUL byte"))
}

/// `getxattr`: `Ok(None)` when the attribute is absent.
fn get(path: &Path, name: &str) -> std::io::Result<Option<String>> {
    let (p, n) = (
        c_path(path).map_err(|_| einval())?,
        CString::new(name).unwrap(),
    );
    loop {
        // SAFETY: valid NUL-terminated strings; a NULL buffer asks the size.
        let need = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), std::ptr::null_mut(), 0) };
        if need < 0 {
            let e = std::io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::ENODATA) => Ok(None),
                _ => Err(e),
            };
        }
        let mut buf = vec![0u8; need as usize];
        // SAFETY: buf holds `need` bytes.
        let got =
            unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if got < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ERANGE) {
                continue; // it grew meanwhile
            }
            return Err(e);
        }
        buf.truncate(got as usize);
        return Ok(Some(String::from_utf8_lossy(&buf).into_owned()));
    }
}

fn einval() -> std::io::Error {
    std::io::Error::from_raw_os_error(libc::EINVAL)
}

/// `virFileSetXAttr`: the value without a terminating NUL.
fn set(path: &Path, name: &str, value: &str) -> Result<()> {
    let (p, n) = (c_path(path)?, CString::new(name).unwrap());
    // SAFETY: valid strings and a buffer of value.len() bytes.
    let rc = unsafe {
        libc::setxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        return Err(xattr_error("Unable to set XATTR", name, path, &e));
    }
    Ok(())
}

/// `virFileRemoveXAttr`; an absent attribute is fine.
fn remove(path: &Path, name: &str) -> Result<()> {
    let (p, n) = (c_path(path)?, CString::new(name).unwrap());
    // SAFETY: valid strings.
    if unsafe { libc::removexattr(p.as_ptr(), n.as_ptr()) } < 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ENODATA) {
            return Err(xattr_error("Unable to remove XATTR", name, path, &e));
        }
    }
    Ok(())
}

fn xattr_error(what: &str, name: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::system(
        ErrorDomain::SECURITY,
        format!("{what} {name} on {}", path.display()),
        e,
    )
}

fn unsupported(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP)
    )
}

/// The host's boot time, the stamp libvirt puts on remembered owners
/// (`virHostGetBootTime`). libvirt without a utmp boot record computes it
/// as whole seconds now less /proc/uptime, rounded, which differs by one
/// second from process to process about as often as not; the kernel's
/// `btime` (/proc/stat) is the same for every process and within a
/// second of libvirt's, so it is used, that formula only without it.
pub fn boot_time() -> Result<u64> {
    static BOOT: OnceLock<Option<u64>> = OnceLock::new();
    let computed = BOOT.get_or_init(|| btime().or_else(uptime_boot_time));
    computed.ok_or_else(|| {
        Error::new(
            ErrorDomain::SECURITY,
            ErrorCode::SYSTEM_ERROR,
            "Unable to get host boot time",
        )
    })
}

fn btime() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("btime "))?;
    line["btime ".len()..].trim().parse().ok()
}

fn uptime_boot_time() -> Option<u64> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    let up: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some((now as f64 - up).round() as u64)
}

/// Whether a stamp is of this boot: libvirtd's own stamps may be a second
/// off ours (see [`boot_time`]); another boot is much further away.
fn same_boot(stamp: &str, boot: u64) -> bool {
    stamp.parse::<u64>().is_ok_and(|s| s.abs_diff(boot) <= 1)
}

/// `virSecurityValidateTimestamp`: whether the attributes belong to this
/// boot; stale (or unstamped) ones are removed. `Ok(None)`: no support.
fn timestamp_valid(driver: &str, path: &Path) -> Result<Option<bool>> {
    let boot = boot_time()?;
    let name = timestamp_name(driver);
    let value = match get(path, &name) {
        Ok(v) => v,
        Err(e) if unsupported(&e) => return Ok(None),
        Err(e) => return Err(xattr_error("Unable to get XATTR", &name, path, &e)),
    };
    if value.is_some_and(|v| same_boot(&v, boot)) {
        return Ok(Some(true));
    }
    tracing::warn!(
        "Invalid XATTR timestamp detected on {} secdriver={driver}",
        path.display()
    );
    forget(driver, path)?;
    Ok(Some(false))
}

/// Drop every remembered attribute of `driver` on `path`
/// (`virSecurityMoveRememberedLabel` without a destination).
pub fn forget(driver: &str, path: &Path) -> Result<()> {
    for name in [ref_name(driver), attr_name(driver), timestamp_name(driver)] {
        remove(path, &name)?;
    }
    Ok(())
}

fn parse_count(value: &str, path: &Path) -> Result<u32> {
    value.parse().map_err(|_| {
        Error::internal(
            ErrorDomain::SECURITY,
            format!("malformed refcount {value} on {}", path.display()),
        )
    })
}

/// `virSecuritySetRememberedLabel`: the first user records `label` (the
/// current owner) and the boot time; every use counts one more. The new
/// count, or `None` where the file system has no extended attributes.
pub fn remember(driver: &str, path: &Path, label: &str) -> Result<Option<u32>> {
    let name = ref_name(driver);
    let mut value = match get(path, &name) {
        Ok(v) => v,
        Err(e) if unsupported(&e) => return Ok(None),
        Err(e) => return Err(xattr_error("Unable to get XATTR", &name, path, &e)),
    };
    if value.is_some() {
        match timestamp_valid(driver, path)? {
            None => return Ok(None),
            Some(false) => value = None,
            Some(true) => {}
        }
    }
    let count = value
        .map(|v| parse_count(&v, path))
        .transpose()?
        .unwrap_or(0)
        + 1;
    if count == 1 {
        set(path, &attr_name(driver), label)?;
        set(path, &timestamp_name(driver), &boot_time()?.to_string())?;
    }
    set(path, &name, &count.to_string())?;
    Ok(Some(count))
}

/// `virSecurityGetRememberedLabel`: one user fewer; the remembered owner
/// once none is left.
pub fn recall(driver: &str, path: &Path) -> Result<Recall> {
    let name = ref_name(driver);
    let value = match get(path, &name) {
        Ok(Some(v)) => v,
        Ok(None) => return Ok(Recall::Unknown),
        Err(e) if unsupported(&e) => return Ok(Recall::Unknown),
        Err(e) => return Err(xattr_error("Unable to get XATTR", &name, path, &e)),
    };
    if timestamp_valid(driver, path)? != Some(true) {
        return Ok(Recall::Unknown);
    }
    let count = parse_count(&value, path)?.saturating_sub(1);
    if count > 0 {
        set(path, &name, &count.to_string())?;
        return Ok(Recall::InUse);
    }
    remove(path, &name)?;
    let attr = attr_name(driver);
    let label =
        get(path, &attr).map_err(|e| xattr_error("Unable to get XATTR", &attr, path, &e))?;
    remove(path, &attr)?;
    remove(path, &timestamp_name(driver))?;
    Ok(label.map_or(Recall::Unknown, Recall::Restore))
}

/// The remembered owner and count on `path`, without changing them.
pub fn peek(driver: &str, path: &Path) -> (Option<String>, Option<u32>) {
    let label = get(path, &attr_name(driver)).ok().flatten();
    let count = get(path, &ref_name(driver))
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok());
    (label, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("rvirt-remember-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f");
        std::fs::write(&file, b"x").unwrap();
        file
    }

    #[test]
    fn counts_users_and_gives_the_owner_back_to_the_last() {
        let f = temp_file("count");
        assert_eq!(remember("dac", &f, "+0:+0").unwrap(), Some(1));
        assert_eq!(remember("dac", &f, "+999:+999").unwrap(), Some(2));
        assert_eq!(peek("dac", &f), (Some("+0:+0".into()), Some(2)));
        assert_eq!(
            get(&f, "trusted.libvirt.security.timestamp_dac").unwrap(),
            Some(boot_time().unwrap().to_string())
        );
        assert!(matches!(recall("dac", &f).unwrap(), Recall::InUse));
        assert!(matches!(recall("dac", &f).unwrap(), Recall::Restore(l) if l == "+0:+0"));
        assert_eq!(peek("dac", &f), (None, None));
        assert!(matches!(recall("dac", &f).unwrap(), Recall::Unknown));
        std::fs::remove_dir_all(f.parent().unwrap()).unwrap();
    }

    #[test]
    fn attributes_of_an_earlier_boot_are_dropped() {
        let f = temp_file("stale");
        set(&f, &attr_name("dac"), "+5:+5").unwrap();
        set(&f, &ref_name("dac"), "3").unwrap();
        set(&f, &timestamp_name("dac"), "12345").unwrap();
        // Recalling finds them stale: nothing to restore, all removed.
        assert!(matches!(recall("dac", &f).unwrap(), Recall::Unknown));
        assert_eq!(peek("dac", &f), (None, None));
        // Remembering over stale ones starts a fresh count.
        set(&f, &ref_name("dac"), "7").unwrap();
        assert_eq!(remember("dac", &f, "+1:+1").unwrap(), Some(1));
        assert_eq!(peek("dac", &f), (Some("+1:+1".into()), Some(1)));
        std::fs::remove_dir_all(f.parent().unwrap()).unwrap();
    }

    #[test]
    fn stamps_a_second_off_are_of_this_boot() {
        let boot = boot_time().unwrap();
        assert!(same_boot(&(boot + 1).to_string(), boot));
        assert!(same_boot(&(boot - 1).to_string(), boot));
        assert!(!same_boot(&(boot - 2).to_string(), boot));
        assert!(!same_boot("x", boot));
        // /proc/stat's btime and libvirt's uptime formula agree within a second.
        let libvirt = uptime_boot_time().unwrap();
        assert!(libvirt.abs_diff(boot) <= 1, "{libvirt} vs {boot}");
    }

    #[test]
    fn a_malformed_count_is_an_error() {
        let f = temp_file("bad");
        remember("dac", &f, "+0:+0").unwrap();
        set(&f, &ref_name("dac"), "many").unwrap();
        let err = recall("dac", &f).unwrap_err();
        assert!(
            err.message.contains("malformed refcount many on"),
            "{}",
            err.message
        );
        std::fs::remove_dir_all(f.parent().unwrap()).unwrap();
    }
}
