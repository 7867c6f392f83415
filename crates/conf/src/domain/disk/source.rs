//! A disk's storage source (`virStorageSource`): `<source>` of each disk
//! type (`virDomainStorageSourceParse`, `virDomainDiskSourceFormat`) and
//! the `<backingStore>` chain below it.

use super::super::chardev::Reconnect;
use super::super::device_seclabel::DeviceSeclabel;
use super::super::hostdev::{parse_pci_addr, PciAddr, StartupPolicy};
use super::super::props::{self, vir_enum, TriBool, VirEnum};
use super::super::{internal_xml, unsupported, FormatOptions};
use super::network::NetworkSource;
use super::secret::{Auth, Encryption, Reservations};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virStorageType` without "none".
    pub enum DiskType {
        File = "file", Block = "block", Dir = "dir", Network = "network",
        Volume = "volume", Nvme = "nvme", VhostUser = "vhostuser",
    }

    /// `virStorageFileFormat` without "none".
    pub enum StorageFormat {
        Raw = "raw", Dir = "dir", Bochs = "bochs", Cloop = "cloop", Dmg = "dmg",
        Iso = "iso", Vpc = "vpc", Vdi = "vdi", Fat = "fat", Vhd = "vhd",
        Ploop = "ploop", Cow = "cow", Qcow = "qcow", Qcow2 = "qcow2",
        Qed = "qed", Vmdk = "vmdk",
    }

    /// `virStorageSourcePoolMode` without "default" (`None`).
    pub enum PoolMode { Host = "host", Direct = "direct" }
}

/// `<source pool= volume= mode=>` of a volume disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeSource {
    pub pool: String,
    pub volume: String,
    pub mode: Option<PoolMode>,
    /// What the volume is on the host once a driver translated it
    /// (libvirt's `srcpool->actualtype` and `src->path`): runtime state,
    /// never parsed nor formatted.
    pub translated: Option<(DiskType, String)>,
}

/// `<source type='pci' managed= namespace=>` of an NVMe disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NvmeSource {
    pub managed: Option<TriBool>,
    pub namespace: u64,
    pub addr: PciAddr,
}

/// What the source points at, by disk type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceKind {
    File {
        path: Option<String>,
        fdgroup: Option<String>,
    },
    Block(Option<String>),
    Dir(Option<String>),
    Network(Box<NetworkSource>),
    /// `None`: a CD-ROM or floppy without media.
    Volume(Option<VolumeSource>),
    Nvme(NvmeSource),
    VhostUser {
        path: String,
        reconnect: Reconnect,
    },
}

/// `virStorageSource` as a disk or backing store holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageSource {
    pub kind: SourceKind,
    /// `<slices><slice type='storage' offset= size=>`.
    pub slice: Option<(u64, u64)>,
    pub auth: Option<Auth>,
    pub encryption: Option<Encryption>,
    pub reservations: Option<Reservations>,
    /// Per-model label overrides (not on network sources).
    pub seclabels: Vec<DeviceSeclabel>,
    /// The running hypervisor's index of this image (`index=`; QEMU's
    /// `libvirt-N-storage` node), 0 when none: runtime state, not parsed.
    pub index: u32,
    /// The hypervisor found no backing file below this image (libvirt's
    /// detected chain end): `<backingStore/>` in the live XML only.
    pub detected_chain_end: bool,
}

impl Default for StorageSource {
    fn default() -> StorageSource {
        StorageSource::of(SourceKind::File {
            path: None,
            fdgroup: None,
        })
    }
}

/// `virXMLPropString`, where libvirt drops a bogus empty path afterwards.
fn path_attr(s: &Element, name: &str) -> Option<String> {
    s.attr(name).filter(|p| !p.is_empty()).map(str::to_string)
}

impl StorageSource {
    fn of(kind: SourceKind) -> StorageSource {
        StorageSource {
            kind,
            slice: None,
            auth: None,
            encryption: None,
            reservations: None,
            seclabels: Vec::new(),
            index: 0,
            detected_chain_end: false,
        }
    }

    pub fn disk_type(&self) -> DiskType {
        match self.kind {
            SourceKind::File { .. } => DiskType::File,
            SourceKind::Block(_) => DiskType::Block,
            SourceKind::Dir(_) => DiskType::Dir,
            SourceKind::Network(_) => DiskType::Network,
            SourceKind::Volume(_) => DiskType::Volume,
            SourceKind::Nvme(_) => DiskType::Nvme,
            SourceKind::VhostUser { .. } => DiskType::VhostUser,
        }
    }

    /// `virStorageSourceGetActualType`: a translated volume's host type.
    pub fn actual_type(&self) -> DiskType {
        match &self.kind {
            SourceKind::Volume(Some(VolumeSource {
                translated: Some((t, _)),
                ..
            })) => *t,
            _ => self.disk_type(),
        }
    }

    /// The host path of a local (file, block, dir) source, or of the
    /// volume a volume source was translated to.
    pub fn path(&self) -> Option<&str> {
        match &self.kind {
            SourceKind::File { path, .. } | SourceKind::Block(path) | SourceKind::Dir(path) => {
                path.as_deref()
            }
            SourceKind::Volume(Some(v)) => v.translated.as_ref().map(|(_, p)| p.as_str()),
            _ => None,
        }
    }

    /// `virStorageSourceIsEmpty`: a local source without a path (a volume
    /// without pool is not resolved yet, so not empty).
    pub fn is_empty(&self) -> bool {
        match &self.kind {
            SourceKind::File { path, .. } | SourceKind::Block(path) | SourceKind::Dir(path) => {
                path.is_none()
            }
            _ => false,
        }
    }

    /// `virDomainStorageSourceParse` of `<source>` `s` for a disk of type `t`.
    pub(crate) fn parse(t: DiskType, s: &Element) -> Result<StorageSource> {
        let kind = match t {
            DiskType::File => SourceKind::File {
                path: path_attr(s, "file"),
                fdgroup: s.attr_string("fdgroup"),
            },
            DiskType::Block => SourceKind::Block(path_attr(s, "dev")),
            DiskType::Dir => SourceKind::Dir(path_attr(s, "dir")),
            DiskType::Network => SourceKind::Network(Box::new(NetworkSource::parse(s)?)),
            DiskType::Volume => SourceKind::Volume(parse_volume(s)?),
            DiskType::Nvme => SourceKind::Nvme(parse_nvme(s)?),
            DiskType::VhostUser => parse_vhostuser(s)?,
        };
        let mut src = StorageSource::of(kind);
        src.auth = s.child("auth").map(Auth::parse).transpose()?;
        src.encryption = s.child("encryption").map(Encryption::parse).transpose()?;
        src.reservations = s
            .child("reservations")
            .map(Reservations::parse)
            .transpose()?;
        src.slice = parse_slice(s)?;
        src.seclabels = DeviceSeclabel::parse_all(s)?;
        Ok(src)
    }

    /// `virDomainDiskSourceFormat`: `<source>` unless it would be empty.
    /// `on_disk` (auth, encryption): written on the disk element instead.
    pub(crate) fn format(
        &self,
        w: &mut Writer,
        policy: Option<StartupPolicy>,
        on_disk: (bool, bool),
        opts: &FormatOptions,
    ) {
        let mut a = Attrs::new();
        match &self.kind {
            SourceKind::File { path, fdgroup } => {
                a.opt("file", path.as_deref())
                    .opt("fdgroup", fdgroup.as_deref());
            }
            SourceKind::Block(p) => _ = a.opt("dev", p.as_deref()),
            SourceKind::Dir(p) => _ = a.opt("dir", p.as_deref()),
            SourceKind::Network(n) => n.attrs(&mut a),
            SourceKind::Volume(v) => {
                if let Some(v) = v {
                    a.add("pool", &v.pool).add("volume", &v.volume);
                    a.opt("mode", v.mode.map(VirEnum::as_str));
                }
            }
            SourceKind::Nvme(n) => {
                a.add("type", "pci");
                a.opt("managed", n.managed.map(VirEnum::as_str));
                a.add("namespace", n.namespace);
            }
            SourceKind::VhostUser { path, .. } => _ = a.add("type", "unix").add("path", path),
        }
        let network = self.disk_type() == DiskType::Network;
        if !network {
            a.opt("startupPolicy", policy.map(VirEnum::as_str));
        }
        if self.index != 0 && !opts.inactive {
            a.add("index", self.index);
        }
        super::format_element(w, "source", a.as_str(), |w| {
            match &self.kind {
                SourceKind::Network(n) => n.format_children(w, opts.secure),
                SourceKind::Nvme(n) => w.line(&format!(
                    "<address domain='0x{:04x}' bus='0x{:02x}' slot='0x{:02x}' function='0x{}'/>",
                    n.addr.domain, n.addr.bus, n.addr.slot, n.addr.function
                )),
                SourceKind::VhostUser { reconnect, .. } => reconnect.format(w),
                _ => {}
            }
            if let Some((offset, size)) = self.slice {
                w.elem_with("slices", "", |w| {
                    w.line(&format!(
                        "<slice type='storage' offset='{offset}' size='{size}'/>"
                    ))
                });
            }
            if !network {
                self.seclabels
                    .iter()
                    .for_each(|l| l.format(w, opts.inactive));
            }
            let volume = self.disk_type() == DiskType::Volume;
            if let Some(auth) = self.auth.as_ref().filter(|_| !on_disk.0 && !volume) {
                auth.format(w);
            }
            if let Some(enc) = self.encryption.as_ref().filter(|_| !on_disk.1) {
                enc.format(w);
            }
            if let Some(r) = &self.reservations {
                r.format(w);
            }
        });
    }
}

/// `virDomainDiskSourcePoolDefParse`.
pub(crate) fn parse_volume(s: &Element) -> Result<Option<VolumeSource>> {
    let (pool, volume) = (s.attr_string("pool"), s.attr_string("volume"));
    let (pool, volume) = match (pool, volume) {
        (None, None) => return Ok(None),
        (Some(p), Some(v)) => (p, v),
        _ => {
            return Err(internal_xml(
                "'pool' and 'volume' must be specified together for 'pool' type source",
            ))
        }
    };
    let mode = match s.attr("mode") {
        None => None,
        Some(m) => Some(PoolMode::from_str_opt(m).ok_or_else(|| {
            unsupported(format!("unknown source mode '{m}' for volume type disk"))
        })?),
    };
    Ok(Some(VolumeSource {
        pool,
        volume,
        mode,
        translated: None,
    }))
}

/// `virDomainDiskSourceNVMeParse`.
fn parse_nvme(s: &Element) -> Result<NvmeSource> {
    match s.attr("type") {
        None => return Err(internal_xml("missing 'type' attribute to disk source")),
        Some("pci") => {}
        Some(t) => return Err(internal_xml(format!("unsupported source type '{t}'"))),
    }
    let Some(ns) = s.attr("namespace") else {
        return Err(internal_xml("missing 'namespace' attribute to disk source"));
    };
    let namespace = ns
        .parse()
        .map_err(|_| internal_xml(format!("malformed namespace '{ns}'")))?;
    let managed = props::tribool(s, "managed")?;
    let Some(a) = s.child("address") else {
        return Err(internal_xml("NVMe disk source is missing address"));
    };
    Ok(NvmeSource {
        managed,
        namespace,
        addr: parse_pci_addr(a)?,
    })
}

/// `virDomainDiskSourceVHostUserParse`.
fn parse_vhostuser(s: &Element) -> Result<SourceKind> {
    match s.attr("type") {
        None => {
            return Err(internal_xml(
                "missing 'type' attribute for vhostuser disk source",
            ))
        }
        Some("unix") => {}
        Some(_) => {
            return Err(internal_xml(
                "invalid 'type' attribute for vhostuser disk source",
            ))
        }
    }
    let Some(path) = s.attr_string("path") else {
        return Err(internal_xml(
            "missing 'path' attribute for vhostuser disk source",
        ));
    };
    Ok(SourceKind::VhostUser {
        path,
        reconnect: Reconnect::parse(s)?,
    })
}

/// `virDomainStorageSourceParseSlices`: the storage slice, if any.
fn parse_slice(s: &Element) -> Result<Option<(u64, u64)>> {
    let slice = s
        .grandchildren("slices", "slice")
        .find(|x| x.attr("type") == Some("storage"));
    let Some(x) = slice else {
        return Ok(None);
    };
    let (Some(offset), Some(size)) = (
        x.attr("offset").filter(|v| !v.is_empty()),
        x.attr("size").filter(|v| !v.is_empty()),
    ) else {
        return Err(internal_xml("missing offset or size attribute of slice"));
    };
    let num = |v: &str, what: &str| {
        v.parse::<u64>().map_err(|_| {
            internal_xml(format!(
                "malformed value '{v}' of '{what}' attribute of slice"
            ))
        })
    };
    Ok(Some((num(offset, "offset")?, num(size, "size")?)))
}

/// `<backingStore>`: the image below, or the chain's end (`Terminator`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackingStore {
    Terminator,
    Image {
        format: StorageFormat,
        /// `<format><metadata_cache><max_size>` in bytes (0: none).
        metadata_cache: u64,
        source: Box<StorageSource>,
        backing: Option<Box<BackingStore>>,
    },
}

impl BackingStore {
    /// `virDomainDiskBackingStoreParse` of `e`'s `<backingStore>` (on
    /// define, so without `index`).
    pub(crate) fn parse(e: &Element) -> Result<Option<BackingStore>> {
        let Some(b) = e.child("backingStore") else {
            return Ok(None);
        };
        let Some(t) = b.attr("type") else {
            return Ok(Some(BackingStore::Terminator));
        };
        let fmt = b.child("format").and_then(|f| f.attr("type"));
        let Some(fmt) = fmt.filter(|f| !f.is_empty()) else {
            return Err(internal_xml("missing disk backing store format"));
        };
        let Some(s) = b.child("source") else {
            return Err(internal_xml("missing disk backing store source"));
        };
        let t = DiskType::from_str_opt(t)
            .ok_or_else(|| internal_xml(format!("unknown storage source type '{t}'")))?;
        let format = StorageFormat::from_str_opt(fmt)
            .ok_or_else(|| internal_xml(format!("unknown storage source format '{fmt}'")))?;
        let metadata_cache = match b.child("format") {
            Some(f) => super::driver::metadata_cache(f)?,
            None => 0,
        };
        Ok(Some(BackingStore::Image {
            format,
            metadata_cache,
            source: Box::new(StorageSource::parse(t, s)?),
            backing: BackingStore::parse(b)?.map(Box::new),
        }))
    }

    /// `virDomainDiskBackingStoreFormat`.
    pub(crate) fn format(&self, w: &mut Writer, opts: &FormatOptions) {
        let BackingStore::Image {
            format,
            metadata_cache,
            source,
            backing,
        } = self
        else {
            w.line("<backingStore/>");
            return;
        };
        let t = format!(" type='{}'", source.disk_type().as_str());
        w.elem_with("backingStore", &t, |w| {
            let f = format!(" type='{}'", format.as_str());
            w.elem_with("format", &f, |w| {
                super::driver::format_metadata_cache(w, *metadata_cache)
            });
            source.format(w, None, (false, false), opts);
            if let Some(b) = backing {
                b.format(w, opts);
            }
        });
    }

    /// The sources down the chain.
    pub(crate) fn sources(&self) -> Vec<&StorageSource> {
        let mut out = Vec::new();
        let mut cur = Some(self);
        while let Some(BackingStore::Image {
            source, backing, ..
        }) = cur
        {
            out.push(source.as_ref());
            cur = backing.as_deref();
        }
        out
    }
}
