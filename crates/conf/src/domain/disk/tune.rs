//! A disk's geometry and tuning: `<geometry>`, `<blockio>` and `<iotune>`
//! (`virDomainDiskDefGeometryParse`, `virDomainDiskDefIotuneParse` and
//! their formatters).

use super::super::internal_xml;
use super::super::props::{self, vir_enum, VirEnum};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainDiskGeometryTrans` without "default".
    pub enum GeometryTrans { None = "none", Auto = "auto", Lba = "lba" }
}

/// `<geometry cyls= heads= secs= trans=>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Geometry {
    pub cylinders: u32,
    pub heads: u32,
    pub sectors: u32,
    pub trans: Option<GeometryTrans>,
}

impl Geometry {
    pub(crate) fn parse(e: &Element) -> Result<Geometry> {
        let Some(g) = e.child("geometry") else {
            return Ok(Geometry::default());
        };
        let n = |name| props::uint(g, name, false, false).map(Option::unwrap_or_default);
        Ok(Geometry {
            cylinders: n("cyls")?,
            heads: n("heads")?,
            sectors: n("secs")?,
            trans: props::enumeration(g, "trans", false)?,
        })
    }

    pub fn is_set(&self) -> bool {
        *self != Geometry::default()
    }

    /// Written only when all three sizes are set.
    pub(crate) fn format(&self, w: &mut Writer) {
        if self.cylinders == 0 || self.heads == 0 || self.sectors == 0 {
            return;
        }
        let mut a = Attrs::new();
        a.add("cyls", self.cylinders)
            .add("heads", self.heads)
            .add("secs", self.sectors);
        a.opt("trans", self.trans.map(VirEnum::as_str));
        w.line(&format!("<geometry{}/>", a.as_str()));
    }
}

/// `<blockio logical_block_size= physical_block_size=>` (0: unset).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockIo {
    pub logical_block_size: u32,
    pub physical_block_size: u32,
}

impl BlockIo {
    pub(crate) fn parse(e: &Element) -> Result<BlockIo> {
        let Some(b) = e.child("blockio") else {
            return Ok(BlockIo::default());
        };
        let n = |name| props::uint(b, name, false, false).map(Option::unwrap_or_default);
        Ok(BlockIo {
            logical_block_size: n("logical_block_size")?,
            physical_block_size: n("physical_block_size")?,
        })
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        let set = |v: u32| (v > 0).then_some(v);
        a.opt("logical_block_size", set(self.logical_block_size));
        a.opt("physical_block_size", set(self.physical_block_size));
        w.attrs_elem("blockio", a.as_str());
    }
}

/// The numeric `<iotune>` fields in libvirt's output order; `group_name`
/// is written after the first [`GROUP_AT`].
pub const IOTUNE_FIELDS: [&str; 19] = [
    "total_bytes_sec",
    "read_bytes_sec",
    "write_bytes_sec",
    "total_iops_sec",
    "read_iops_sec",
    "write_iops_sec",
    "total_bytes_sec_max",
    "read_bytes_sec_max",
    "write_bytes_sec_max",
    "total_iops_sec_max",
    "read_iops_sec_max",
    "write_iops_sec_max",
    "size_iops_sec",
    "total_bytes_sec_max_length",
    "read_bytes_sec_max_length",
    "write_bytes_sec_max_length",
    "total_iops_sec_max_length",
    "read_iops_sec_max_length",
    "write_iops_sec_max_length",
];
const GROUP_AT: usize = 13;

/// `<iotune>` (`virDomainBlockIoTuneInfo`): 0 is unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Iotune {
    /// By [`IOTUNE_FIELDS`].
    pub values: [u64; 19],
    pub group_name: Option<String>,
}

impl Iotune {
    pub fn get(&self, field: &str) -> u64 {
        IOTUNE_FIELDS
            .iter()
            .position(|f| *f == field)
            .map_or(0, |i| self.values[i])
    }

    /// `virDomainBlockIoTuneInfoHasAny`.
    pub fn has_any(&self) -> bool {
        self.values.iter().any(|v| *v != 0)
    }

    pub(crate) fn parse(e: &Element) -> Result<Iotune> {
        let mut t = Iotune::default();
        let Some(io) = e.child("iotune") else {
            return Ok(t);
        };
        for (i, name) in IOTUNE_FIELDS.iter().enumerate() {
            let text = io.child_text(name).unwrap_or_default();
            if text.is_empty() {
                continue;
            }
            t.values[i] = text.trim_start().parse().map_err(|_| {
                internal_xml(format!("disk iotune field '{name}' must be an integer"))
            })?;
        }
        t.group_name = io.child_text("group_name").filter(|g| !g.is_empty());
        Ok(t)
    }

    /// `virDomainDiskExpandGroupIoTune`: a disk naming only its group takes
    /// the limits of the first disk of that group that has some.
    pub(crate) fn expand_groups(disks: &mut [super::Disk]) {
        for i in 0..disks.len() {
            let t = &disks[i].iotune;
            if t.group_name.is_none() || t.has_any() {
                continue;
            }
            let donor = disks
                .iter()
                .map(|d| &d.iotune)
                .find(|d| d.group_name == t.group_name && d.has_any());
            if let Some(d) = donor.cloned() {
                disks[i].iotune = d;
            }
        }
    }

    /// virDomainDiskDefValidate's iotune checks.
    pub(crate) fn validate(&self) -> Result<()> {
        for suffix in ["bytes_sec", "iops_sec", "bytes_sec_max", "iops_sec_max"] {
            let v = |dir: &str| self.get(&format!("{dir}_{suffix}"));
            if v("total") != 0 && (v("read") != 0 || v("write") != 0) {
                return Err(internal_xml(format!(
                    "total and read/write {suffix} cannot be set at the same time"
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        super::format_element(w, "iotune", "", |w| {
            for (i, name) in IOTUNE_FIELDS.iter().enumerate() {
                if i == GROUP_AT {
                    w.text_elem("group_name", self.group_name.as_deref());
                }
                if self.values[i] != 0 {
                    w.line(&format!("<{name}>{}</{name}>", self.values[i]));
                }
            }
        });
    }
}
