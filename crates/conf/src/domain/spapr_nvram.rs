//! `<devices><nvram>`: the pSeries NVRAM device (`virDomainNVRAMDef`),
//! only its device info, parsed as `virDomainNVRAMDefParseXML` and
//! formatted as `virDomainNVRAMDefFormat`. libvirt keeps one.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

/// `<nvram>` of `<devices>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NvramDevice {
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    /// A `spapr-vio` address on pSeries.
    pub address: Option<Address>,
}

impl NvramDevice {
    pub(crate) fn parse(e: &Element) -> Result<NvramDevice> {
        Ok(NvramDevice {
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
        })
    }

    /// `<nvram>` always has a body line in libvirt, even an empty one.
    pub(crate) fn format(&self, w: &mut Writer) {
        w.line("<nvram>");
        w.indent();
        format_info_addr(&self.info, &self.address, w);
        w.dedent();
        w.line("</nvram>");
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_devices};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn nvram_device_as_virsh() {
        assert_dump_holds(
            dump_devices,
            "<nvram><address type='spapr-vio' reg='0x4000'/></nvram>",
            "    <nvram>\n      <address type='spapr-vio' reg='0x00004000'/>\n    </nvram>\n",
        );
        assert_dump_holds(dump_devices, "<nvram/>", "    <nvram>\n    </nvram>\n");
        assert_errors(
            dump_devices,
            &[(
                "<nvram/><nvram/>",
                "internal error: only a single nvram device is supported",
            )],
        );
    }
}
