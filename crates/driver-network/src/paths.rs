//! Where the driver keeps its files: libvirt's layout
//! (`/etc/libvirt/qemu/networks/NAME.xml` with `autostart/NAME.xml`
//! symlinks, `/run/libvirt/network/NAME.xml` status, `NAME.pid`, and
//! dnsmasq's files under `/var/lib/libvirt/dnsmasq/`), under rvirt's own
//! configurable roots.

use rvirt::driver::StateConfig;
use rvirt_util::object_files::ObjectFiles;
use std::path::{Path, PathBuf};

/// rvirtd.conf keys and their defaults.
pub const DIR_KEYS: [(&str, &str); 3] = [
    ("network_config_dir", "/etc/rvirt/qemu/networks"),
    ("network_state_dir", "/run/rvirt/network"),
    ("network_dnsmasq_dir", "/var/lib/rvirt/dnsmasq"),
];

#[derive(Clone, Debug)]
pub struct Paths {
    /// Persistent definitions (`NAME.xml`) and `autostart/`.
    pub config: PathBuf,
    /// Live status (`NAME.xml`) and dnsmasq pid files.
    pub state: PathBuf,
    /// dnsmasq's config, hosts files and leases.
    pub dnsmasq: PathBuf,
}

impl ObjectFiles for Paths {
    fn config_dir(&self) -> &Path {
        &self.config
    }
    fn state_dir(&self) -> &Path {
        &self.state
    }
}

impl Paths {
    pub fn from_config(config: &StateConfig) -> Paths {
        let dir =
            |(key, default): (&str, &str)| PathBuf::from(config.setting(key).unwrap_or(default));
        Paths {
            config: dir(DIR_KEYS[0]),
            state: dir(DIR_KEYS[1]),
            dnsmasq: dir(DIR_KEYS[2]),
        }
    }

    /// `NAME.conf`, `NAME.hostsfile`, `NAME.addnhosts`, `NAME.leases`.
    /// libvirt's dnsmasq context names the two hosts files with the
    /// network name XML-escaped (virBufferEscapeString), and so does this.
    pub fn dnsmasq_file(&self, name: &str, ext: &str) -> PathBuf {
        match ext {
            "hostsfile" | "addnhosts" => {
                let escaped = rvirt_conf::xml::escape(name);
                self.dnsmasq.join(format!("{escaped}.{ext}"))
            }
            _ => self.dnsmasq.join(format!("{name}.{ext}")),
        }
    }

    /// Make `dir` (and its parents) when first needed, so a daemon that
    /// never defines a network leaves no directories behind.
    pub fn ensure(dir: &Path) -> rvirt_util::Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| {
            rvirt_util::Error::system(
                rvirt_util::ErrorDomain::NETWORK,
                format!("cannot create directory '{}'", dir.display()),
                &e,
            )
        })
    }
}

/// Write `text` to `path` through a temporary file and a rename, so a
/// crash leaves the old file or the new one (virFileRewrite).
pub fn write_atomic(path: &Path, text: &str, mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".new");
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
