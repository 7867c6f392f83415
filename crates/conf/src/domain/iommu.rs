//! `<iommu>`: the guest's IOMMU (`virDomainIOMMUDef`), parsed as
//! `virDomainIOMMUDefParseXML`, checked as `virDomainIOMMUDefValidate` and
//! `virDomainDefIOMMUValidate`, formatted as `virDomainIOMMUDefFormat`.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::features::Features;
use super::props::{self, attr_struct, vir_enum, TriSwitch, VirEnum};
use super::{internal_xml, unsupported};
use crate::xml::{Element, Writer};
use rvirt_util::Result;
use std::num::NonZeroU32;

vir_enum! {
    /// `virDomainIOMMUModel`.
    pub enum IommuModel { Intel = "intel", Smmuv3 = "smmuv3", Virtio = "virtio" }
}

attr_struct! {
    /// `<driver>` of an IOMMU (intel only), in libvirt's output order.
    pub struct IommuDriver {
        intremap: TriSwitch,
        caching_mode: TriSwitch,
        eim: TriSwitch,
        iotlb: TriSwitch,
        /// Address width in bits.
        aw_bits: NonZeroU32,
    }
}

/// `<iommu>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iommu {
    pub model: IommuModel,
    pub driver: IommuDriver,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

impl Iommu {
    pub(crate) fn parse(e: &Element) -> Result<Iommu> {
        let model = props::enumeration(e, "model", true)?.unwrap_or(IommuModel::Intel);
        let driver = e.child("driver").map(IommuDriver::parse).transpose()?;
        Ok(Iommu {
            model,
            driver: driver.unwrap_or_default(),
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
        })
    }

    /// `virDomainIOMMUDefValidate`.
    pub(crate) fn validate(&self) -> Result<()> {
        let model = self.model.as_str();
        if self.model != IommuModel::Intel && !self.driver.is_empty() {
            return Err(internal_xml(format!(
                "iommu model '{model}' doesn't support additional attributes"
            )));
        }
        if self.model != IommuModel::Virtio && self.address.is_some() {
            return Err(internal_xml(format!(
                "iommu model '{model}' can't have address"
            )));
        }
        Ok(())
    }

    /// `virDomainDefIOMMUValidate`: what the IOMMU needs of the machine.
    pub(crate) fn validate_features(&self, features: &Features) -> Result<()> {
        let split_ioapic = features.split_ioapic();
        let (on, d) = (Some(TriSwitch::On), &self.driver);
        if d.intremap == on && !split_ioapic {
            return Err(unsupported(
                "IOMMU interrupt remapping requires split I/O APIC (ioapic driver='qemu')",
            ));
        }
        if d.eim == on && d.intremap != on {
            return Err(unsupported(
                "IOMMU eim requires interrupt remapping to be enabled",
            ));
        }
        Ok(())
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let model = format!(" model='{}'", self.model.as_str());
        w.elem_with("iommu", &model, |w| {
            if !self.driver.is_empty() {
                w.line(&format!("<driver{}/>", self.driver.attrs().as_str()));
            }
            format_info_addr(&self.info, &self.address, w);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_around_os};

    fn dump(devices: &str) -> Result<String, String> {
        let split_ioapic = "<features><ioapic driver='qemu'/></features>";
        dump_around_os(
            "<memory>1024</memory>",
            &format!("{split_ioapic}<devices>{devices}</devices>"),
        )
    }

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn iommu_as_virsh() {
        assert_dump_holds(
            dump,
            "<iommu model='intel'><driver aw_bits='48' iotlb='on' eim='on' intremap='on' caching_mode='off'/></iommu>",
            "    <iommu model='intel'>\n      <driver intremap='on' caching_mode='off' eim='on' iotlb='on' aw_bits='48'/>\n    </iommu>\n",
        );
        assert_dump_holds(
            dump,
            "<iommu model='virtio'><driver aw_bits='0'/><address type='pci' bus='0' slot='3'/></iommu>",
            "    <iommu model='virtio'>\n      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>\n    </iommu>\n",
        );
        let plain =
            |d: &str| dump_around_os("<memory>1024</memory>", &format!("<devices>{d}</devices>"));
        assert_errors(
            plain,
            &[
                ("<iommu/>", "XML error: Missing required attribute 'model' in element 'iommu'"),
                ("<iommu model='amd'/>", "XML error: Invalid value for attribute 'model' in element 'iommu': 'amd'."),
                ("<iommu model='intel'/><iommu model='intel'/>", "XML error: only a single IOMMU device is supported"),
                ("<iommu model='smmuv3'><driver iotlb='off'/></iommu>", "XML error: iommu model 'smmuv3' doesn't support additional attributes"),
                ("<iommu model='intel'><address type='pci'/></iommu>", "XML error: iommu model 'intel' can't have address"),
                ("<iommu model='intel'><driver intremap='on'/></iommu>", "unsupported configuration: IOMMU interrupt remapping requires split I/O APIC (ioapic driver='qemu')"),
                ("<iommu model='intel'><driver eim='on'/></iommu>", "unsupported configuration: IOMMU eim requires interrupt remapping to be enabled"),
                ("<iommu model='intel'><driver aw_bits='x'/></iommu>", "XML error: Invalid value for attribute 'aw_bits' in element 'driver': 'x'. Expected non-negative integer value"),
            ],
        );
    }
}
