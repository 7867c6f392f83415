//! `<vsock>`: a virtio socket to the host (`virDomainVsockDef`), parsed as
//! `virDomainVsockDefParseXML`, completed as `virDomainVsockDefPostParse`,
//! checked as `virDomainVsockDefValidate` and formatted as
//! `virDomainVsockDefFormat`. libvirt keeps one.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::props::{self, vir_enum, TriBool, VirEnum};
use super::unsupported;
use super::virtio::VirtioOptions;
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainVsockModel` ("default" is kept unformatted).
    pub enum VsockModel {
        Default = "default", Virtio = "virtio", VirtioTransitional = "virtio-transitional",
        VirtioNonTransitional = "virtio-non-transitional",
    }
}

/// `<cid>`: the guest's context ID, or libvirt picks one (`auto`, always
/// set after post-parse).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VsockCid {
    pub auto: TriBool,
    /// 0 (unset) is `None`.
    pub address: Option<u32>,
}

/// `<vsock>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vsock {
    pub model: VsockModel,
    pub cid: VsockCid,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
    pub virtio: VirtioOptions,
}

impl Vsock {
    pub(crate) fn parse(e: &Element) -> Result<Vsock> {
        let model = props::enumeration(e, "model", false)?.unwrap_or(VsockModel::Default);
        let (guest_cid, auto_cid) = match e.child("cid") {
            Some(c) => (
                props::uint(c, "address", false, true)?,
                props::tribool(c, "auto")?,
            ),
            None => (None, None),
        };
        let address = parse_addr(e)?;
        let virtio = VirtioOptions::parse(e.child("driver"))?;
        // virDomainVsockDefPostParse: a given CID is not automatic.
        let auto_cid = auto_cid.unwrap_or(match guest_cid {
            Some(_) => TriBool::No,
            None => TriBool::Yes,
        });
        Ok(Vsock {
            model,
            cid: VsockCid {
                auto: auto_cid,
                address: guest_cid,
            },
            info: DeviceInfo::parse(e)?,
            address,
            virtio,
        })
    }

    /// `virDomainVsockDefValidate`.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.cid.address.is_some_and(|c| c <= 2) {
            return Err(unsupported("guest CIDs must be >= 3"));
        }
        if self.model == VsockModel::Default {
            self.virtio.check_absent()?;
        }
        Ok(())
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        if self.model != VsockModel::Default {
            a.add("model", self.model.as_str());
        }
        w.elem_with("vsock", a.as_str(), |w| {
            let mut cid = Attrs::new();
            cid.add("auto", self.cid.auto.as_str());
            cid.opt("address", self.cid.address);
            w.line(&format!("<cid{}/>", cid.as_str()));
            format_info_addr(&self.info, &self.address, w);
            self.virtio.format_driver(w);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn vsock_and_watchdog_as_virsh() {
        let devices = "<watchdog model='ib700'/><vsock model='virtio'><cid address='4'/><driver iommu='on'/></vsock>";
        let want = "    <watchdog model='ib700' action='reset'/>
    <vsock model='virtio'>
      <cid auto='no' address='4'/>
      <driver iommu='on'/>
    </vsock>
";
        assert_dump_holds(dump, devices, want);
        assert_dump_holds(
            dump,
            "<vsock/>",
            "    <vsock>\n      <cid auto='yes'/>\n    </vsock>\n",
        );
        assert_errors(
            dump,
            &[
                ("<watchdog/>", "internal error: watchdog must contain model name"),
                ("<watchdog model='x'/>", "unsupported configuration: unknown watchdog model 'x'"),
                ("<watchdog model='ib700' action='x'/>", "unsupported configuration: unknown watchdog action 'x'"),
                ("<watchdog model='ib700'/><watchdog model='ib700'/>", "internal error: only a single watchdog device is supported"),
                ("<vsock><cid address='2'/></vsock>", "unsupported configuration: guest CIDs must be >= 3"),
                ("<vsock><cid address='0'/></vsock>", "XML error: Invalid value for attribute 'address' in element 'cid': Zero is not permitted"),
                ("<vsock><driver ats='on'/></vsock>", "unsupported configuration: ats driver option is only supported for virtio devices"),
                ("<vsock/><vsock/>", "XML error: only a single vsock device is supported"),
            ],
        );
    }
}
