//! `<volume>` (`virStorageVolDef`): `virStorageVolDefParseXML` and
//! `virStorageVolDefFormat`, read against the pool the volume lives in
//! (its type picks the volume format table).

use super::{parse_root, path_attr, path_text, storage_size, unsupported, xml_error};
use super::{Formats, Perms, PoolDef, VolType, FILE_FEATURES};
use crate::domain::props::{self, VirEnum};
use crate::xml::{escape, Element, Writer};
use rvirt_util::Result;

/// `VIR_VOL_XML_PARSE_NO_CAPACITY`: capacity may be missing.
pub const PARSE_NO_CAPACITY: u32 = 1;
/// `VIR_VOL_XML_PARSE_OPT_CAPACITY`: capacity may be missing with a backing store.
pub const PARSE_OPT_CAPACITY: u32 = 1 << 1;

/// A volume's `<target>` (`virStorageSource` as the storage driver fills it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VolTarget {
    pub path: Option<String>,
    /// Index in the pool's volume format table, when it has one.
    pub format: Option<usize>,
    pub perms: Perms,
    pub compat: Option<String>,
    pub nocow: bool,
    /// Bytes (0: unset).
    pub cluster_size: u64,
    /// `<features>`: indexes in [`FILE_FEATURES`], `None` without the element.
    pub features: Option<Vec<usize>>,
    /// Bytes up to the file's last offset (`<physical>`, shown when not 0);
    /// filled by a storage backend, never parsed.
    pub physical: u64,
    /// `<timestamps>` a storage backend read from the file system.
    pub timestamps: Option<Timestamps>,
}

/// `virStorageTimestamps`: seconds and nanoseconds (a negative
/// nanosecond count leaves the stamp out, as libvirt does).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timestamps {
    pub atime: (i64, i64),
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
    pub btime: (i64, i64),
}

impl Timestamps {
    /// `virStorageVolTimestampFormat` of each stamp.
    fn format(&self, w: &mut Writer) {
        w.block("timestamps", "", |w| {
            let stamps = [
                ("atime", self.atime),
                ("mtime", self.mtime),
                ("ctime", self.ctime),
                ("btime", self.btime),
            ];
            for (name, (sec, nsec)) in stamps {
                if nsec < 0 {
                    continue;
                }
                let frac = if nsec == 0 {
                    String::new()
                } else {
                    format!(".{nsec:09}")
                };
                w.line(&format!("<{name}>{sec}{frac}</{name}>"));
            }
        });
    }
}

/// `<backingStore>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackingStore {
    pub path: String,
    pub format: Option<usize>,
    pub perms: Perms,
    /// What a storage backend read from the backing file.
    pub timestamps: Option<Timestamps>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolDef {
    pub name: String,
    pub key: Option<String>,
    pub vol_type: VolType,
    pub capacity: u64,
    pub allocation: u64,
    /// Whether `<allocation>` was given (otherwise it equals capacity).
    pub has_allocation: bool,
    pub target: VolTarget,
    pub backing: Option<BackingStore>,
}

impl VolDef {
    /// `virStorageVolDefParse` of a document, for a volume of `pool`.
    pub fn parse(pool: &PoolDef, text: &str, flags: u32) -> Result<VolDef> {
        let root = parse_root(text, "(storage_volume_definition)", "volume")?;
        VolDef::from_element(pool, &root, flags)
    }

    /// `virStorageVolDefParseXML`.
    pub fn from_element(pool: &PoolDef, root: &Element, flags: u32) -> Result<VolDef> {
        let formats = pool.pool_type.volume_formats();
        let name =
            path_text(root, &["name"]).ok_or_else(|| xml_error("missing volume name element"))?;
        let key = path_text(root, &["key"]);
        let vol_type = match root.attr("type").filter(|t| !t.is_empty()) {
            None => VolType::File,
            Some(t) => VolType::from_str_opt(t)
                .ok_or_else(|| unsupported(format!("unknown volume type '{t}'")))?,
        };
        let backing = parse_backing(root, formats)?;
        let capacity = match path_text(root, &["capacity"]) {
            Some(c) => Some(storage_size(
                &c,
                root.child("capacity").and_then(|c| c.attr("unit")),
            )?),
            None => None,
        };
        let optional = flags & PARSE_NO_CAPACITY != 0
            || (flags & PARSE_OPT_CAPACITY != 0 && backing.is_some());
        if capacity.is_none() && !optional {
            return Err(xml_error("missing capacity element"));
        }
        let capacity = capacity.unwrap_or(0);
        let (allocation, has_allocation) = match path_text(root, &["allocation"]) {
            Some(a) => (
                storage_size(&a, path_attr(root, &["allocation"], "unit").as_deref())?,
                true,
            ),
            None => (capacity, false),
        };
        let target = parse_target(root, formats)?;
        Ok(VolDef {
            name,
            key,
            vol_type,
            capacity,
            allocation,
            has_allocation,
            target,
            backing,
        })
    }

    /// `virStorageVolDefFormat`.
    pub fn format(&self, pool: &PoolDef) -> String {
        let formats = pool.pool_type.volume_formats();
        let mut w = Writer::new();
        w.block("volume", &format!(" type='{}'", self.vol_type), |w| {
            w.text_elem("name", Some(&self.name));
            w.text_elem("key", self.key.as_deref());
            w.line(&format!(
                "<capacity unit='bytes'>{}</capacity>",
                self.capacity
            ));
            w.line(&format!(
                "<allocation unit='bytes'>{}</allocation>",
                self.allocation
            ));
            if self.target.physical > 0 {
                w.line(&format!(
                    "<physical unit='bytes'>{}</physical>",
                    self.target.physical
                ));
            }
            format_target(w, "target", &self.target, formats);
            if let Some(b) = &self.backing {
                let t = VolTarget {
                    path: Some(b.path.clone()),
                    format: b.format,
                    perms: b.perms.clone(),
                    timestamps: b.timestamps,
                    ..VolTarget::default()
                };
                format_target(w, "backingStore", &t, formats);
            }
        });
        w.finish()
    }
}

/// A format name of the pool's table, or libvirt's refusal.
fn volume_format(formats: Option<Formats>, given: Option<String>) -> Result<Option<usize>> {
    let Some(formats) = formats else {
        return Ok(None);
    };
    match given {
        None => Ok(Some(formats.default)),
        // virStorageVolumeFormatFromString refuses "none" (0) for files.
        Some(f) => match formats.index(&f) {
            Some(0) if formats.names == super::FILE_FORMATS => Err(unknown_format(&f)),
            Some(i) => Ok(Some(i)),
            None => Err(unknown_format(&f)),
        },
    }
}

fn unknown_format(f: &str) -> rvirt_util::Error {
    unsupported(format!("unknown volume format type {f}"))
}

fn parse_backing(root: &Element, formats: Option<Formats>) -> Result<Option<BackingStore>> {
    let Some(path) = path_text(root, &["backingStore", "path"]) else {
        return Ok(None);
    };
    let format = volume_format(
        formats,
        path_attr(root, &["backingStore", "format"], "type"),
    )?;
    let perms_node = root
        .child("backingStore")
        .and_then(|b| b.child("permissions"));
    Ok(Some(BackingStore {
        path,
        format,
        perms: Perms::parse(perms_node)?,
        timestamps: None,
    }))
}

fn parse_target(root: &Element, formats: Option<Formats>) -> Result<VolTarget> {
    let target = root.child("target");
    let format = volume_format(formats, path_attr(root, &["target", "format"], "type"))?;
    let perms = Perms::parse(target.and_then(|t| t.child("permissions")))?;
    if target.and_then(|t| t.child("encryption")).is_some() {
        // Not modelled yet: refused rather than silently dropped.
        return Err(unsupported("volume encryption is not supported"));
    }
    let mut compat = path_text(root, &["target", "compat"]);
    if let Some(c) = &compat {
        check_compat(c)?;
    }
    let cluster = target.and_then(|t| t.child("clusterSize"));
    let cluster_size = props::scaled_value(cluster, "./target/clusterSize", 1, u64::MAX)?;
    let features = match target.and_then(|t| t.child("features")) {
        None => None,
        Some(f) => {
            compat.get_or_insert_with(|| "1.1".to_string());
            let mut set = Vec::new();
            for e in f.elements() {
                let i = FILE_FEATURES
                    .iter()
                    .position(|n| *n == e.name)
                    .ok_or_else(|| unsupported(format!("unsupported feature {}", e.name)))?;
                if !set.contains(&i) {
                    set.push(i);
                }
            }
            set.sort_unstable();
            Some(set)
        }
    };
    Ok(VolTarget {
        path: path_text(root, &["target", "path"]),
        format,
        perms,
        compat,
        nocow: target.and_then(|t| t.child("nocow")).is_some(),
        cluster_size: cluster_size.unwrap_or(0),
        features,
        physical: 0,
        timestamps: None,
    })
}

/// `virStorageCheckCompat`: "MAJOR.MINOR", both unsigned numbers.
fn check_compat(compat: &str) -> Result<()> {
    let mut parts = compat.splitn(2, '.');
    let ok = |p: Option<&str>| p.is_some_and(|p| p.parse::<u32>().is_ok());
    if ok(parts.next()) && ok(parts.next()) {
        return Ok(());
    }
    Err(xml_error("forbidden characters in 'compat' attribute"))
}

/// `virStorageVolTargetDefFormat`.
fn format_target(w: &mut Writer, el: &str, t: &VolTarget, formats: Option<Formats>) {
    w.block(el, "", |w| {
        w.text_elem("path", t.path.as_deref());
        if let (Some(formats), Some(i)) = (formats, t.format) {
            w.line(&format!("<format type='{}'/>", formats.names[i]));
        }
        t.perms.format(w);
        if let Some(ts) = &t.timestamps {
            ts.format(w);
        }
        if let Some(c) = &t.compat {
            w.line(&format!("<compat>{}</compat>", escape(c)));
        }
        if t.cluster_size > 0 {
            w.line(&format!(
                "<clusterSize unit='B'>{}</clusterSize>",
                t.cluster_size
            ));
        }
        match &t.features {
            None => {}
            Some(f) if f.is_empty() => w.line("<features/>"),
            Some(f) => w.block("features", "", |w| {
                for i in f {
                    w.line(&format!("<{}/>", FILE_FEATURES[*i]));
                }
            }),
        }
    });
}
