//! Domain snapshot XML (`<domainsnapshot>`): libvirt's
//! `src/conf/snapshot_conf.c` and docs/formatsnapshot.rst, parsed and
//! formatted as libvirt 9.0 does, with its error texts.

use crate::domain::disk::{DiskType, SourceKind, StorageSource};
use crate::domain::props::{self, VirEnum};
use crate::domain::DomainDef;
use crate::xml::{self, Attrs, Element, Writer};
use crate::FormatOptions;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_FROM_DOMAIN_SNAPSHOT`.
pub const ERROR_DOMAIN: ErrorDomain = ErrorDomain(35);

crate::domain::props::vir_enum! {
    /// `virDomainSnapshotState`: `virDomainState` plus "disk-snapshot".
    pub enum SnapshotState {
        NoState = "nostate", Running = "running", Blocked = "blocked", Paused = "paused",
        Shutdown = "shutdown", Shutoff = "shutoff", Crashed = "crashed",
        PmSuspended = "pmsuspended", DiskSnapshot = "disk-snapshot",
    }

    /// `virDomainSnapshotLocation`, "default" (0) included.
    pub enum Location {
        Default = "default", No = "no", Internal = "internal", External = "external",
        Manual = "manual",
    }

    /// `virStorageType` as a snapshot disk's `type=` takes it.
    pub enum StorageType {
        None = "none", File = "file", Block = "block", Dir = "dir", Network = "network",
        Volume = "volume", Nvme = "nvme", VhostUser = "vhostuser",
    }
}

impl SnapshotState {
    /// Whether a guest in this state has memory to keep (running or paused).
    pub fn is_online(self) -> bool {
        matches!(self, SnapshotState::Running | SnapshotState::Paused)
    }

    /// The snapshot state for a domain state number (`virDomainState`).
    pub fn from_domain_state(state: i32) -> SnapshotState {
        usize::try_from(state)
            .ok()
            .filter(|i| *i < 8)
            .map_or(SnapshotState::NoState, SnapshotState::from_index)
    }
}

/// `virStorageFileFormat` names a snapshot's `<driver type=>` accepts
/// (every format but "none", 0).
const DISK_FORMATS: &[&str] = &[
    "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd", "ploop", "cow",
    "qcow", "qcow2", "qed", "vmdk",
];

/// One `<disks><disk>` (`virDomainSnapshotDiskDef`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotDisk {
    pub name: String,
    pub snapshot: Location,
    pub storage: StorageType,
    /// `<source>`, read as a disk's source of the `type=` given.
    pub source: Option<StorageSource>,
    /// `<driver type=>`.
    pub format: Option<String>,
    /// `<driver><metadata_cache><max_size>`, bytes (0: unset).
    pub metadata_cache_max: u64,
}

impl SnapshotDisk {
    /// A disk entry the alignment fills in for a domain disk.
    pub fn named(name: &str, snapshot: Location) -> SnapshotDisk {
        SnapshotDisk {
            name: name.to_string(),
            snapshot,
            storage: StorageType::File,
            source: None,
            format: None,
            metadata_cache_max: 0,
        }
    }

    /// The image the source names (`src->path`): a local path, or a
    /// network source's image name.
    pub fn path(&self) -> Option<&str> {
        let src = self.source.as_ref()?;
        match &src.kind {
            SourceKind::Network(n) => n.image(),
            _ => src.path(),
        }
    }

    /// Point a file (or block) source at `path`, as libvirt's generated
    /// external names do.
    pub fn set_path(&mut self, path: String) {
        let kind = match self.storage {
            StorageType::Block => SourceKind::Block(Some(path)),
            _ => SourceKind::File {
                path: Some(path),
                fdgroup: None,
            },
        };
        let src = self.source.get_or_insert_with(StorageSource::default);
        src.kind = kind;
    }
}

/// A snapshot definition (`virDomainSnapshotDef` and its moment base).
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotDef {
    pub name: String,
    pub description: Option<String>,
    /// `None`: no `<state>` (a definition before the driver fills it in).
    pub state: Option<SnapshotState>,
    pub parent: Option<String>,
    /// Seconds since the epoch (0: unset, not written).
    pub creation_time: i64,
    pub memory: Location,
    pub memory_file: Option<String>,
    pub disks: Vec<SnapshotDisk>,
    pub dom: Option<DomainDef>,
    /// `<inactiveDomain>`: the persistent config of a running guest.
    pub inactive_dom: Option<DomainDef>,
}

/// `virDomainSnapshotParseFlags`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParseFlags {
    /// `VIR_DOMAIN_SNAPSHOT_PARSE_REDEFINE`: an existing snapshot's XML.
    pub redefine: bool,
    /// `VIR_DOMAIN_SNAPSHOT_PARSE_OFFLINE`.
    pub offline: bool,
    /// `VIR_DOMAIN_SNAPSHOT_PARSE_INTERNAL`: read `<active>`.
    pub internal: bool,
}

fn xml_error(msg: impl AsRef<str>) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::XML_ERROR, msg)
}

fn internal(msg: impl AsRef<str>) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::INTERNAL_ERROR, msg)
}

fn unsupported(msg: impl AsRef<str>) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::CONFIG_UNSUPPORTED, msg)
}

/// The current time in seconds, as `virDomainMomentDefPostParse` takes it.
pub fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `virXMLPropEnumDefault` with `VIR_XML_PROP_NONZERO`: the zero entry
/// ("default", "none") is refused like an unknown value.
fn location_attr(e: &Element, name: &str) -> Result<Location> {
    match props::enumeration::<Location>(e, name, false)? {
        None => Ok(Location::Default),
        Some(Location::Default) => Err(props::invalid(e, name, "default")),
        Some(l) => Ok(l),
    }
}

impl SnapshotDisk {
    /// `virDomainSnapshotDiskDefParseXML`.
    fn parse(e: &Element) -> Result<SnapshotDisk> {
        let Some(name) = e.attr_string("name") else {
            return Err(internal("missing name from disk snapshot element"));
        };
        let snapshot = location_attr(e, "snapshot")?;
        let storage = match props::enumeration::<StorageType>(e, "type", false)? {
            None => StorageType::File,
            Some(StorageType::None) => return Err(props::invalid(e, "type", "none")),
            Some(t) => t,
        };
        if matches!(storage, StorageType::Volume | StorageType::Dir) {
            return Err(xml_error(format!(
                "unsupported disk snapshot type '{storage}'"
            )));
        }
        let disk_type = DiskType::from_str_opt(storage.as_str())
            .ok_or_else(|| props::invalid(e, "type", storage.as_str()))?;
        let source = e
            .child("source")
            .map(|src| StorageSource::parse(disk_type, src))
            .transpose()?;
        let driver = e.child("driver");
        let format = match driver.and_then(|d| d.attr("type")) {
            None => None,
            Some(f) if DISK_FORMATS.contains(&f) => Some(f.to_string()),
            Some(f) => return Err(unsupported(format!("unknown disk snapshot driver '{f}'"))),
        };
        let metadata_cache_max = match driver.and_then(|d| d.child("metadata_cache")) {
            Some(mc) if mc.child("max_size").is_some() => props::scaled_bytes(mc, "max_size")?,
            _ => 0,
        };
        let mut disk = SnapshotDisk {
            name,
            snapshot,
            storage,
            source,
            format,
            metadata_cache_max,
        };
        // virStorageSourceIsRelative: only local paths.
        let local = matches!(storage, StorageType::File | StorageType::Block);
        if let Some(p) = disk.path().filter(|p| local && !p.starts_with('/')) {
            return Err(xml_error(format!(
                "disk snapshot image path '{p}' must be absolute"
            )));
        }
        if snapshot == Location::Default && (disk.path().is_some() || disk.format.is_some()) {
            disk.snapshot = Location::External;
        }
        Ok(disk)
    }

    /// `virDomainSnapshotDiskDefFormat`.
    fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("name", &self.name);
        if self.snapshot != Location::Default {
            a.add("snapshot", self.snapshot);
        }
        if self.path().is_none() && self.format.is_none() {
            w.line(&format!("<disk{}/>", a.as_str()));
            return;
        }
        a.add("type", self.storage);
        w.elem_with("disk", a.as_str(), |w| {
            if self.format.is_some() || self.metadata_cache_max > 0 {
                let mut d = Attrs::new();
                d.opt("type", self.format.as_deref());
                w.elem_with("driver", d.as_str(), |w| {
                    if self.metadata_cache_max > 0 {
                        w.block("metadata_cache", "", |w| {
                            w.line(&format!(
                                "<max_size unit='bytes'>{}</max_size>",
                                self.metadata_cache_max
                            ));
                        });
                    }
                });
            }
            if let Some(src) = &self.source {
                // virDomainDiskSourceFormat with no flags.
                let opts = FormatOptions::default();
                src.format(w, None, (false, false), &opts);
            }
        });
    }
}

impl SnapshotDef {
    /// `virDomainSnapshotDefParseString`, taking the time of a new
    /// snapshot from the clock. Returns the definition and, with
    /// `flags.internal`, whether `<active>` marked it current.
    pub fn parse(text: &str, flags: ParseFlags) -> Result<(SnapshotDef, bool)> {
        Self::parse_at(text, flags, now_seconds())
    }

    /// As [`SnapshotDef::parse`], with `now` as the creation time of a
    /// new snapshot.
    pub fn parse_at(text: &str, flags: ParseFlags, now: i64) -> Result<(SnapshotDef, bool)> {
        let root = xml::parse(text, "(domain_snapshot)", ERROR_DOMAIN)?;
        if root.name != "domainsnapshot" {
            return Err(xml_error(format!(
                "expecting root element of 'domainsnapshot', not '{}'",
                root.name
            )));
        }
        Self::from_element(&root, flags, now)
    }

    /// `virDomainSnapshotDefParse` on an element already read (a node
    /// description's `<test:domainsnapshot>`), whatever its name.
    pub fn from_node(el: &Element, flags: ParseFlags) -> Result<(SnapshotDef, bool)> {
        Self::from_element(el, flags, now_seconds())
    }

    fn from_element(root: &Element, flags: ParseFlags, now: i64) -> Result<(SnapshotDef, bool)> {
        let mut name = root.child_text("name");
        if name.is_none() && flags.redefine {
            return Err(xml_error("a redefined snapshot must have a name"));
        }
        let description = root.child_text("description");
        let mut offline = flags.offline;
        let mut def = SnapshotDef {
            name: String::new(),
            description,
            state: None,
            parent: None,
            creation_time: 0,
            memory: Location::Default,
            memory_file: None,
            disks: Vec::new(),
            dom: None,
            inactive_dom: None,
        };
        if flags.redefine {
            def.creation_time = root
                .child_text("creationTime")
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| internal("missing creationTime from existing snapshot"))?;
            def.parent = root.child("parent").and_then(|p| p.child_text("name"));
            let Some(state) = root.child_text("state") else {
                return Err(xml_error("missing state from existing snapshot"));
            };
            let state = SnapshotState::from_str_opt(&state)
                .filter(|s| *s != SnapshotState::NoState)
                .ok_or_else(|| {
                    unsupported(format!("Invalid state '{state}' in domain snapshot XML"))
                })?;
            offline = matches!(state, SnapshotState::Shutoff | SnapshotState::DiskSnapshot);
            def.state = Some(state);
            if let Some(dom) = root.child("domain").filter(|d| d.attr("type").is_some()) {
                def.dom = Some(DomainDef::from_element(dom)?);
            }
            if let Some(inactive) = root.child("inactiveDomain") {
                let mut renamed = inactive.clone();
                renamed.name = "domain".into();
                def.inactive_dom = Some(DomainDef::from_element(&renamed)?);
            }
        } else {
            def.creation_time = now;
            name.get_or_insert_with(|| now.to_string());
        }
        def.name = name.unwrap_or_default();
        def.parse_memory(root, flags.redefine, offline)?;
        for e in root.children_named("disks").flat_map(|d| d.elements()) {
            def.disks.push(SnapshotDisk::parse(e)?);
        }
        let mut current = false;
        if flags.internal {
            let active: i32 = root
                .child_text("active")
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| internal("Could not find 'active' element"))?;
            current = active != 0;
        }
        Ok((def, current))
    }

    /// The `<memory>` element and libvirt's checks on it.
    fn parse_memory(&mut self, root: &Element, redefine: bool, offline: bool) -> Result<()> {
        if let Some(m) = root.child("memory") {
            self.memory_file = m.attr_string("file");
            self.memory = location_attr(m, "snapshot")?;
            if self.memory == Location::Manual {
                return Err(xml_error("'manual' memory snapshot mode not supported"));
            }
        }
        if self.memory == Location::Default {
            if self.memory_file.is_some() {
                self.memory = Location::External;
            } else if redefine {
                self.memory = if offline {
                    Location::No
                } else {
                    Location::Internal
                };
            }
        }
        match (&self.memory_file, self.memory) {
            (Some(f), m) if m != Location::External => {
                return Err(xml_error(format!(
                    "memory filename '{f}' requires external snapshot"
                )))
            }
            (None, Location::External) => {
                return Err(xml_error("external memory snapshots require a filename"))
            }
            _ => {}
        }
        if offline && !matches!(self.memory, Location::Default | Location::No) {
            return Err(xml_error(
                "memory state cannot be saved with offline or disk-only snapshot",
            ));
        }
        if let Some(f) = &self.memory_file {
            if !f.starts_with('/') {
                return Err(xml_error(format!(
                    "memory snapshot file path ({f}) must be absolute"
                )));
            }
        }
        Ok(())
    }

    /// `virDomainSnapshotDefIsExternal`.
    pub fn is_external(&self) -> bool {
        self.memory == Location::External
            || self.disks.iter().any(|d| d.snapshot == Location::External)
    }

    /// `virDomainSnapshotDefFormat`: `uuid` is written as a bare
    /// `<domain><uuid>` when the snapshot has no domain; `internal`
    /// (`Some(current)`) adds `<active>`.
    pub fn format(&self, uuid: Option<&str>, secure: bool, internal: Option<bool>) -> String {
        let mut w = Writer::new();
        w.line("<domainsnapshot>");
        w.indent();
        w.text_elem("name", Some(&self.name));
        w.text_elem("description", self.description.as_deref());
        if let Some(state) = self.state.filter(|s| *s != SnapshotState::NoState) {
            w.line(&format!("<state>{state}</state>"));
        }
        if let Some(parent) = &self.parent {
            w.block("parent", "", |w| w.text_elem("name", Some(parent)));
        }
        if self.creation_time != 0 {
            w.line(&format!(
                "<creationTime>{}</creationTime>",
                self.creation_time
            ));
        }
        if self.memory != Location::Default {
            let mut a = Attrs::new();
            a.add("snapshot", self.memory);
            a.opt("file", self.memory_file.as_deref());
            w.line(&format!("<memory{}/>", a.as_str()));
        }
        if !self.disks.is_empty() {
            w.block("disks", "", |w| self.disks.iter().for_each(|d| d.format(w)));
        }
        let opts = FormatOptions {
            id: None,
            inactive: true,
            secure,
        };
        if let Some(dom) = &self.dom {
            embed(&mut w, dom, &opts, None);
        } else if let Some(uuid) = uuid {
            w.block("domain", "", |w| w.text_elem("uuid", Some(uuid)));
        }
        if let Some(dom) = &self.inactive_dom {
            embed(&mut w, dom, &opts, Some("inactiveDomain"));
        }
        if let Some(current) = internal {
            w.line(&format!("<active>{}</active>", u8::from(current)));
        }
        w.dedent();
        w.line("</domainsnapshot>");
        w.finish()
    }
}

/// A domain inside the snapshot, one level in, its root element renamed
/// when `root` is given (`virDomainDefFormatInternalSetRootName`).
fn embed(w: &mut Writer, dom: &DomainDef, opts: &FormatOptions, root: Option<&str>) {
    let text = dom.format_indented(opts, 1);
    let text = match root {
        None => text,
        Some(r) => {
            let head = text.replacen("  <domain", &format!("  <{r}"), 1);
            match head.rfind("  </domain>") {
                Some(at) => format!("{}  </{r}>\n", &head[..at]),
                None => head,
            }
        }
    };
    w.raw(&text);
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
