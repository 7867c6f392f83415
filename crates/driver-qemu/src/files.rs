//! The driver's files: every write atomic (temp file, fsync, rename, fsync
//! of the directory), so a crash leaves the old content or the new, never
//! a torn file.

use rvirt_util::object_files::ObjectFiles;
use rvirt_util::{Error, ErrorDomain, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::system(ErrorDomain::QEMU, format!("{what} '{}'", path.display()), e)
}

/// Create `dir` (and parents) if missing.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_error("cannot create directory", dir, &e))
}

/// Replace `path` with `data` atomically.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    ensure_dir(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.new", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(data)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        io_error("cannot write", path, &e)
    })
}

/// Remove `path`; a file already gone is fine.
pub fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(io_error("cannot remove", path, &e))
        }
        _ => Ok(()),
    }
}

/// The directories the driver keeps its files in (libvirt's
/// `/etc/libvirt/qemu`, `/run/libvirt/qemu`, `/var/cache/libvirt/qemu`,
/// `/var/log/libvirt/qemu`, `/var/lib/libvirt/qemu`).
#[derive(Clone, Debug)]
pub struct Dirs {
    /// Persistent definitions, NAME.xml, and autostart/NAME.xml links.
    pub config: PathBuf,
    /// Live status (NAME.xml), monitor sockets and pid files.
    pub state: PathBuf,
    pub cache: PathBuf,
    pub log: PathBuf,
    /// Per-guest private data (`domain-ID-NAME`).
    pub lib: PathBuf,
}

impl ObjectFiles for Dirs {
    fn config_dir(&self) -> &Path {
        &self.config
    }
    fn state_dir(&self) -> &Path {
        &self.state
    }
}

impl Dirs {
    pub fn create_all(&self) -> Result<()> {
        for d in [&self.config, &self.state, &self.cache, &self.log, &self.lib] {
            ensure_dir(d)?;
        }
        ensure_dir(&self.autostart_dir())
    }

    pub fn monitor_socket(&self, name: &str) -> PathBuf {
        self.lib.join(format!("{name}.monitor"))
    }

    pub fn log_file(&self, name: &str) -> PathBuf {
        self.log.join(format!("{name}.log"))
    }

    /// A running guest's private directory (`domain-ID-NAME`), where its
    /// master key lives.
    pub fn domain_lib(&self, id: i32, name: &str) -> PathBuf {
        self.lib.join(format!("domain-{id}-{name}"))
    }
}

/// Now as libvirt stamps its log lines: `2026-12-03 10:20:00.123+0000`.
pub fn log_timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}+0000",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic
/// Gregorian calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(20_425), (2025, 12, 3));
        assert_eq!(super::civil_from_days(11_016), (2000, 2, 29));
    }
}
