//! `virDomainVirtioOptions`: the `<driver>` attributes every virtio device
//! shares (`virDomainVirtioOptionsParseXML` / `...Format`).

use super::props::{self, TriSwitch, VirEnum};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VirtioOptions {
    pub iommu: Option<TriSwitch>,
    pub ats: Option<TriSwitch>,
    pub packed: Option<TriSwitch>,
    pub page_per_vq: Option<TriSwitch>,
}

const NAMES: [&str; 4] = ["iommu", "ats", "packed", "page_per_vq"];

impl VirtioOptions {
    /// From the device's `<driver>`, if any.
    pub(crate) fn parse(driver: Option<&Element>) -> Result<VirtioOptions> {
        let Some(d) = driver else {
            return Ok(VirtioOptions::default());
        };
        Ok(VirtioOptions {
            iommu: props::triswitch(d, NAMES[0])?,
            ats: props::triswitch(d, NAMES[1])?,
            packed: props::triswitch(d, NAMES[2])?,
            page_per_vq: props::triswitch(d, NAMES[3])?,
        })
    }

    /// The attributes (` iommu='on'`...), empty when none is set.
    pub(crate) fn attrs(&self) -> String {
        let values = [self.iommu, self.ats, self.packed, self.page_per_vq];
        NAMES
            .iter()
            .zip(values)
            .filter_map(|(n, v)| v.map(|v| format!(" {n}='{}'", v.as_str())))
            .collect()
    }

    /// `<driver .../>` of a device whose driver element carries only
    /// these options; nothing when none is set.
    pub(crate) fn format_driver(&self, w: &mut Writer) {
        w.attrs_elem("driver", &self.attrs());
    }
}

impl VirtioOptions {
    /// `virDomainCheckVirtioOptionsAreAbsent`, for devices that are not
    /// virtio.
    pub(crate) fn check_absent(&self) -> Result<()> {
        let set = [
            (
                self.iommu,
                "iommu driver option is only supported for virtio devices",
            ),
            (
                self.ats,
                "ats driver option is only supported for virtio devices",
            ),
            (
                self.packed,
                "packed driver option is only supported for virtio devices",
            ),
            (
                self.page_per_vq,
                "page_per_vq option is only supported for virtio devices",
            ),
        ];
        match set.iter().find(|(v, _)| v.is_some()) {
            Some((_, msg)) => Err(super::unsupported(msg)),
            None => Ok(()),
        }
    }
}
