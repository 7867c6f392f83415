//! Storage pool and volume XML (`<pool>`, `<volume>`): libvirt 9.0's
//! `src/conf/storage_conf.c` (with the adapter, auth and permission parts
//! of `storage_adapter_conf.c` and `storage_source_conf.c`), parsed with
//! libvirt's error texts and formatted byte for byte as libvirt does.

mod caps;
pub mod objlist;
mod pool;
mod source;
mod volume;

#[cfg(test)]
mod tests;

pub use caps::pool_capabilities;
pub use pool::{PoolDef, PoolFeatures};
pub use source::{Adapter, Auth, AuthType, PoolSource, SecretRef, SourceDevice, SourceHost};
pub use volume::{BackingStore, Timestamps, VolDef, VolTarget};

/// `VIR_VOL_XML_PARSE_*`.
pub mod volume_parse_flags {
    pub use super::volume::PARSE_NO_CAPACITY as NO_CAPACITY;
    pub use super::volume::PARSE_OPT_CAPACITY as OPT_CAPACITY;
}

use crate::xml::{Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_FROM_STORAGE`.
pub const ERROR_DOMAIN: ErrorDomain = ErrorDomain(18);

crate::domain::props::vir_enum! {
    /// `virStoragePoolType`.
    pub enum PoolType {
        Dir = "dir", Fs = "fs", Netfs = "netfs", Logical = "logical", Disk = "disk",
        Iscsi = "iscsi", IscsiDirect = "iscsi-direct", Scsi = "scsi", Mpath = "mpath",
        Rbd = "rbd", Sheepdog = "sheepdog", Gluster = "gluster", Zfs = "zfs",
        Vstorage = "vstorage",
    }

    /// `virStorageVolType`.
    pub enum VolType {
        File = "file", Block = "block", Dir = "dir", Network = "network",
        NetDir = "netdir", Ploop = "ploop",
    }
}

/// `virStorageFileFormat` (volume formats of file-based pools).
pub const FILE_FORMATS: &[&str] = &[
    "none", "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd", "ploop",
    "cow", "qcow", "qcow2", "qed", "vmdk",
];
const FS_FORMATS: &[&str] = &[
    "auto", "ext2", "ext3", "ext4", "ufs", "iso9660", "udf", "gfs", "gfs2", "vfat", "hfs+", "xfs",
    "ocfs2", "vmfs",
];
const NETFS_FORMATS: &[&str] = &["auto", "nfs", "glusterfs", "cifs"];
const DISK_FORMATS: &[&str] = &[
    "unknown", "dos", "dvh", "gpt", "mac", "bsd", "pc98", "sun", "lvm2",
];
const LOGICAL_FORMATS: &[&str] = &["unknown", "lvm2"];
const VOL_DISK_FORMATS: &[&str] = &[
    "none",
    "linux",
    "fat16",
    "fat32",
    "linux-swap",
    "linux-lvm",
    "linux-raid",
    "extended",
];
/// `virStorageFileFeature`.
pub const FILE_FEATURES: &[&str] = &["lazy_refcounts", "extended_l2"];

/// The pool source parts a pool type uses (`VIR_STORAGE_POOL_SOURCE_*`).
pub(crate) mod flag {
    pub const HOST: u32 = 1;
    pub const DEVICE: u32 = 1 << 1;
    pub const DIR: u32 = 1 << 2;
    pub const ADAPTER: u32 = 1 << 3;
    pub const NAME: u32 = 1 << 4;
    pub const INITIATOR_IQN: u32 = 1 << 5;
    pub const NETWORK: u32 = 1 << 6;
}

/// A format table and its default entry (`defaultFormat`).
#[derive(Clone, Copy)]
pub(crate) struct Formats {
    pub names: &'static [&'static str],
    pub default: usize,
}

impl Formats {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| *n == name)
    }
}

impl PoolType {
    /// `poolTypeInfo[].poolOptions.flags`.
    pub(crate) fn source_flags(self) -> u32 {
        use flag::*;
        match self {
            PoolType::Logical | PoolType::Zfs => NAME | DEVICE,
            PoolType::Dir | PoolType::Mpath => 0,
            PoolType::Fs | PoolType::Disk => DEVICE,
            PoolType::Netfs => HOST | DIR,
            PoolType::Iscsi => HOST | DEVICE | INITIATOR_IQN,
            PoolType::IscsiDirect => HOST | DEVICE | NETWORK | INITIATOR_IQN,
            PoolType::Scsi => ADAPTER,
            PoolType::Rbd | PoolType::Sheepdog => HOST | NETWORK | NAME,
            PoolType::Gluster => HOST | NETWORK | NAME | DIR,
            PoolType::Vstorage => NAME,
        }
    }

    /// `poolOptions.formatFromString`: the pool source's format table.
    pub(crate) fn source_formats(self) -> Option<Formats> {
        let (names, default) = match self {
            PoolType::Logical => (LOGICAL_FORMATS, 1),
            PoolType::Fs => (FS_FORMATS, 0),
            PoolType::Netfs => (NETFS_FORMATS, 0),
            PoolType::Disk => (DISK_FORMATS, 0),
            _ => return None,
        };
        Some(Formats { names, default })
    }

    /// The names of the pool source's formats (empty without a table).
    pub fn source_format_names(self) -> &'static [&'static str] {
        self.source_formats().map_or(&[], |f| f.names)
    }

    /// `volOptions.formatFromString`: the volume format table.
    pub(crate) fn volume_formats(self) -> Option<Formats> {
        match self {
            PoolType::Dir
            | PoolType::Fs
            | PoolType::Netfs
            | PoolType::Rbd
            | PoolType::Gluster
            | PoolType::Vstorage => Some(Formats {
                names: FILE_FORMATS,
                default: 1,
            }),
            PoolType::Disk => Some(Formats {
                names: VOL_DISK_FORMATS,
                default: 0,
            }),
            _ => None,
        }
    }

    /// `testStorageVolumeTypeForPool`: what a volume of this pool is.
    pub fn volume_type(self) -> VolType {
        match self {
            PoolType::Dir | PoolType::Fs | PoolType::Netfs | PoolType::Vstorage => VolType::File,
            PoolType::Sheepdog | PoolType::IscsiDirect | PoolType::Gluster | PoolType::Rbd => {
                VolType::Network
            }
            _ => VolType::Block,
        }
    }
}

pub(crate) fn xml_error(msg: impl AsRef<str>) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::XML_ERROR, msg)
}

pub(crate) fn unsupported(msg: impl AsRef<str>) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::CONFIG_UNSUPPORTED, msg)
}

/// `virXPathString("string(./a/b)")`: the first match's text, `None` when
/// missing or empty.
pub(crate) fn path_text(e: &Element, path: &[&str]) -> Option<String> {
    let mut cur = e;
    for step in path {
        cur = cur.child(step)?;
    }
    Some(cur.text()).filter(|t| !t.is_empty())
}

/// `virXPathString("string(./a/@attr)")`.
pub(crate) fn path_attr(e: &Element, path: &[&str], attr: &str) -> Option<String> {
    let mut cur = e;
    for step in path {
        cur = cur.child(step)?;
    }
    cur.attr(attr).filter(|v| !v.is_empty()).map(str::to_string)
}

/// `virStoragePerms`: a pool target's or volume's `<permissions>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Perms {
    pub mode: Option<u32>,
    pub owner: Option<u32>,
    pub group: Option<u32>,
    pub label: Option<String>,
}

impl Perms {
    /// `virStorageDefParsePerms` of `<permissions>` (absent: all unset).
    pub fn parse(node: Option<&Element>) -> Result<Perms> {
        let Some(node) = node else {
            return Ok(Perms::default());
        };
        let mode = match path_text(node, &["mode"]) {
            None => None,
            Some(m) => Some(parse_mode(&m).ok_or_else(|| xml_error("malformed octal mode"))?),
        };
        Ok(Perms {
            mode,
            owner: parse_id(node, "owner", "malformed owner element")?,
            group: parse_id(node, "group", "malformed group element")?,
            label: path_text(node, &["label"]),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.mode.is_none() && self.owner.is_none() && self.group.is_none() && self.label.is_none()
    }

    /// The `<permissions>` block, when anything is set.
    pub fn format(&self, w: &mut Writer) {
        if self.is_empty() {
            return;
        }
        w.block("permissions", "", |w| {
            if let Some(m) = self.mode {
                w.line(&format!("<mode>0{m:o}</mode>"));
            }
            if let Some(o) = self.owner {
                w.line(&format!("<owner>{}</owner>", o as i32));
            }
            if let Some(g) = self.group {
                w.line(&format!("<group>{}</group>", g as i32));
            }
            w.text_elem("label", self.label.as_deref());
        });
    }
}

/// `virStrToLong_i(mode, NULL, 8)` limited to permission bits.
fn parse_mode(text: &str) -> Option<u32> {
    let t = text.trim_start();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let n = i64::from_str_radix(digits, 8).ok()?;
    let n = if neg { -n } else { n };
    (0..=0o777).contains(&n).then_some(n as u32)
}

/// `<owner>`/`<group>`: a `long long` that fits an id, or -1 (unset).
fn parse_id(node: &Element, child: &str, msg: &str) -> Result<Option<u32>> {
    let Some(e) = node.child(child) else {
        return Ok(None);
    };
    let text = e.text();
    let val: i64 = text.trim_start().parse().map_err(|_| xml_error(msg))?;
    // -1 and its uid_t twin 4294967295 both mean "unset".
    match val {
        -1 => Ok(None),
        v if v == i64::from(u32::MAX) => Ok(None),
        v if (0..i64::from(u32::MAX)).contains(&v) => Ok(Some(v as u32)),
        _ => Err(xml_error(msg)),
    }
}

/// `virStorageSize`: a volume's capacity or allocation in bytes.
pub(crate) fn storage_size(value: &str, unit: Option<&str>) -> Result<u64> {
    let n: u64 = value
        .trim_start()
        .parse()
        .map_err(|_| xml_error("malformed capacity element"))?;
    crate::domain::props::scale_integer(n, unit.unwrap_or(""), 1, i64::MAX as u64)
}

/// `virFileSanitizePath`: repeated and trailing slashes dropped, a
/// leading `//` kept (POSIX leaves its meaning open), URIs left alone.
pub fn sanitize_path(path: &str) -> String {
    if let Some(uri) = path.find("://") {
        if path.find('/').is_some_and(|slash| slash > uri) {
            return path.to_string();
        }
    }
    let b = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    if b.len() >= 2 && b[0] == b'/' && b[1] == b'/' && b.get(2) != Some(&b'/') {
        out.push_str("//");
        rest = &path[2..];
    }
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '/' {
            out.push(c);
            continue;
        }
        while chars.peek() == Some(&'/') {
            chars.next();
        }
        if !out.is_empty() && chars.peek().is_none() {
            break;
        }
        out.push('/');
    }
    out
}

/// The root element of `text`, parsed as libvirt's `virXMLParse` with
/// `url` and the expected root `root`.
pub(crate) fn parse_root(text: &str, url: &str, root: &str) -> Result<Element> {
    let e = crate::xml::parse(text, url, ERROR_DOMAIN)?;
    if e.name != root {
        return Err(xml_error(format!(
            "expecting root element of '{root}', not '{}'",
            e.name
        )));
    }
    Ok(e)
}
