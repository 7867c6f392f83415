//! The host's devices as libudev shows them to libvirt's udev backend,
//! read straight from sysfs (and udevd's database when one runs).
//!
//! rvirt reads sysfs itself instead of linking libudev: libudev's view of
//! a device is its `uevent` file (the kernel's properties: `DEVTYPE`,
//! `DRIVER`, `PCI_CLASS`, `INTERFACE`, `DEVNAME` ...), its `subsystem`
//! link, its attribute files, and the properties and links udevd stored in
//! /run/udev/data — all plain files, so reading them gives the same
//! devices without a C library, its thread-safety rules or a running udevd.
//! Enumeration is libudev's `udev_enumerate_scan_devices` without
//! filters: every device under /sys/bus/*/devices and /sys/class/*, in
//! syspath order, less libvirt's ignored subsystems.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Subsystems libvirt does not enumerate (`subsystem_ignored`).
const IGNORED_SUBSYSTEMS: [&str; 4] = ["acpi", "tty", "vc", "i2c"];

/// The file system the devices are read from: `/` on a host, a fake tree
/// in tests.
#[derive(Clone, Debug)]
pub struct Sysfs {
    root: PathBuf,
}

/// One device: libudev's `struct udev_device`.
#[derive(Clone, Debug)]
pub struct UdevDevice {
    /// The real path (under the root).
    pub syspath: PathBuf,
    /// The path as libvirt prints it (`/sys/devices/...`).
    pub shown_path: String,
    pub sysname: String,
    pub subsystem: Option<String>,
    props: BTreeMap<String, String>,
    pub devlinks: Vec<String>,
}

impl Sysfs {
    pub fn new(root: impl Into<PathBuf>) -> Sysfs {
        Sysfs { root: root.into() }
    }

    /// A path under the root (`rel` without its leading slash).
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel.trim_start_matches('/'))
    }

    /// The text of a file, without its trailing newline.
    pub fn read(&self, rel: &str) -> Option<String> {
        read_trimmed(&self.path(rel))
    }

    /// `udev_enumerate_scan_devices` with libvirt's filters: devices in
    /// syspath order.
    pub fn enumerate(&self) -> Vec<UdevDevice> {
        let mut paths = BTreeSet::new();
        for entries in [self.path("sys/bus"), self.path("sys/class")] {
            for group in read_dir_paths(&entries) {
                let members = if entries.ends_with("bus") {
                    read_dir_paths(&group.join("devices"))
                } else {
                    read_dir_paths(&group)
                };
                paths.extend(members.iter().filter_map(|p| p.canonicalize().ok()));
            }
        }
        paths
            .into_iter()
            .filter_map(|p| self.device(&p))
            .filter(|d| {
                !d.subsystem
                    .as_deref()
                    .is_some_and(|s| IGNORED_SUBSYSTEMS.contains(&s))
            })
            .collect()
    }

    /// `udev_device_new_from_syspath`: a directory with a `uevent` file.
    pub fn device(&self, syspath: &Path) -> Option<UdevDevice> {
        let uevent = std::fs::read_to_string(syspath.join("uevent")).ok()?;
        let sysname = syspath.file_name()?.to_string_lossy().replace('!', "/");
        let subsystem = std::fs::read_link(syspath.join("subsystem"))
            .ok()
            .and_then(|l| l.file_name().map(|n| n.to_string_lossy().into_owned()));
        let mut props: BTreeMap<String, String> = uevent
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some(s) = &subsystem {
            props.insert("SUBSYSTEM".into(), s.clone());
        }
        let shown_path = match syspath.strip_prefix(&self.root) {
            Ok(rel) => format!("/{}", rel.display()),
            Err(_) => syspath.display().to_string(),
        };
        let mut dev = UdevDevice {
            syspath: syspath.to_path_buf(),
            shown_path,
            sysname,
            subsystem,
            props,
            devlinks: Vec::new(),
        };
        self.add_database(&mut dev);
        Some(dev)
    }

    /// udevd's record of the device (/run/udev/data/ID): `E:` properties
    /// and `S:` links below /dev.
    fn add_database(&self, dev: &mut UdevDevice) {
        let id = match (dev.prop("MAJOR"), dev.prop("MINOR"), dev.prop("IFINDEX")) {
            (Some(major), Some(minor), _) => {
                let kind = if dev.subsystem.as_deref() == Some("block") {
                    'b'
                } else {
                    'c'
                };
                format!("{kind}{major}:{minor}")
            }
            (_, _, Some(index)) => format!("n{index}"),
            _ => format!(
                "+{}:{}",
                dev.subsystem.as_deref().unwrap_or(""),
                dev.sysname.replace('/', "!")
            ),
        };
        let Ok(text) = std::fs::read_to_string(self.path("run/udev/data").join(id)) else {
            return;
        };
        for line in text.lines() {
            if let Some((k, v)) = line.strip_prefix("E:").and_then(|p| p.split_once('=')) {
                dev.props.insert(k.to_string(), v.to_string());
            } else if let Some(link) = line.strip_prefix("S:") {
                dev.devlinks.push(format!("/dev/{link}"));
            }
        }
        dev.devlinks.sort();
    }

    /// Whether `path` is at or below /sys/devices (where parents are looked
    /// for).
    pub fn in_devices(&self, path: &Path) -> bool {
        path.starts_with(self.path("sys/devices")) && path != self.path("sys/devices")
    }
}

impl UdevDevice {
    /// `udev_device_get_property_value`.
    pub fn prop(&self, key: &str) -> Option<&str> {
        self.props.get(key).map(String::as_str)
    }

    pub fn devtype(&self) -> Option<&str> {
        self.prop("DEVTYPE")
    }

    /// `udev_device_get_devnode`.
    pub fn devnode(&self) -> Option<String> {
        let name = self.prop("DEVNAME")?;
        Some(match name.starts_with('/') {
            true => name.to_string(),
            false => format!("/dev/{name}"),
        })
    }

    /// `udev_device_get_sysattr_value`: a file's text without its
    /// trailing newline; `None` for a directory or what cannot be read.
    pub fn attr(&self, name: &str) -> Option<String> {
        read_trimmed(&self.syspath.join(name))
    }

    /// `udevGetStringSysfsAttr`: control characters dropped, empty is none.
    pub fn string_attr(&self, name: &str) -> Option<String> {
        let v: String = self
            .attr(name)?
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        (!v.is_empty()).then_some(v)
    }
}

fn read_trimmed(path: &Path) -> Option<String> {
    if path.is_dir() {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    Some(text.trim_end_matches(['\n', '\r']).to_string())
}

/// A directory's entries in readdir order (sysfs keeps creation order,
/// which libvirt's directory walks print as they come).
pub fn read_dir_paths(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

/// `virStrToLong_ui`/`_ull` in `base` (0: C's prefixes), with libvirt's
/// "a minus sign wraps" rule for unsigned values.
pub fn parse_unsigned(text: &str, base: u32) -> Option<u64> {
    let t = text.trim_start();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X"));
    let (digits, radix) = match (base, hex) {
        (16, Some(h)) | (0, Some(h)) => (h, 16),
        (0, None) if t.len() > 1 && t.starts_with('0') => (&t[1..], 8),
        (0, None) => (t, 10),
        (b, _) => (t, b),
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let v = u64::from_str_radix(digits, radix).ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// `virStrToLong_ui`: [`parse_unsigned`] within 32 bits (a negative value
/// wraps within them).
pub fn parse_u32(text: &str, base: u32) -> Option<u32> {
    let v = parse_unsigned(text, base)?;
    match u32::try_from(v) {
        Ok(v) => Some(v),
        Err(_) if v >= (u64::MAX - u32::MAX as u64) => Some(v as u32),
        Err(_) => None,
    }
}

/// `virStrToLong_i`.
pub fn parse_i32(text: &str, base: u32) -> Option<i32> {
    let t = text.trim_start();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let digits = match base {
        16 => t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t),
        _ => t,
    };
    let v = i64::from_str_radix(digits, base).ok()?;
    i32::try_from(if neg { -v } else { v }).ok()
}
