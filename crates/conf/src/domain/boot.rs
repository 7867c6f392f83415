//! Per-device `<boot order= loadparm=>` (`virDomainDeviceBootParseXML`,
//! the boot half of `virDomainDeviceInfoFormat`) and the domain-wide
//! checks of `virDomainDefBootOrderPostParse`.

use super::os::BootDev;
use super::{internal, props, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

/// A bootable device's place in the boot order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceBoot {
    /// 1 and up.
    pub order: u32,
    /// Upper-cased, 1 to 8 of `[A-Z0-9. ]` (s390 boot menus).
    pub loadparm: Option<String>,
}

impl DeviceBoot {
    /// The `<boot>` child of device element `e`, if any.
    pub(crate) fn parse(e: &Element) -> Result<Option<DeviceBoot>> {
        let Some(b) = e.child("boot") else {
            return Ok(None);
        };
        let order = props::uint(b, "order", true, true)?.unwrap_or(1);
        let loadparm = match b.attr("loadparm") {
            None => None,
            Some(l) => Some(check_loadparm(&l.to_ascii_uppercase())?),
        };
        Ok(Some(DeviceBoot { order, loadparm }))
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("order", self.order)
            .opt("loadparm", self.loadparm.as_deref());
        w.line(&format!("<boot{}/>", a.as_str()));
    }
}

/// `<acpi index=>` of device element `e` (non-zero).
pub(crate) fn acpi_index(e: &Element) -> Result<Option<u32>> {
    match e.child("acpi") {
        Some(a) => props::uint(a, "index", false, true),
        None => Ok(None),
    }
}

/// The device-info elements before `<address>`, in
/// `virDomainDeviceInfoFormat`'s order: `<boot>`, `<alias>`, `<rom>`,
/// `<acpi>`.
pub(crate) fn format_info(
    w: &mut Writer,
    boot: Option<&DeviceBoot>,
    info: &super::address::DeviceInfo,
    rom: Option<&super::rom::Rom>,
) {
    if let Some(b) = boot {
        b.format(w);
    }
    // A user alias is the device's alias: the runtime one is not taken.
    let runtime = w.take_device_alias();
    if let Some(a) = info.alias.as_deref().or(runtime.as_deref()) {
        format_alias(w, a);
    }
    if let Some(r) = rom {
        r.format(w);
    }
    if let Some(i) = info.acpi_index {
        w.line(&format!("<acpi index='{i}'/>"));
    }
}

pub(crate) fn format_alias(w: &mut Writer, alias: &str) {
    w.line(&format!(
        "<alias{}/>",
        Attrs::new().add("name", alias).as_str()
    ));
}

/// `virDomainDeviceLoadparmIsValid`.
fn check_loadparm(l: &str) -> Result<String> {
    if l.is_empty() || l.len() > 8 {
        return Err(internal(format!(
            "loadparm value '{l}' must be between 1 and 8 characters"
        )));
    }
    if !l
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == ' ')
    {
        return Err(internal(format!(
            "invalid loadparm value '{l}', expecting chars in set of [a-zA-Z0-9.] and blank spaces"
        )));
    }
    Ok(l.to_string())
}

/// `virDomainDefBootOrderPostParse` (HVM guests): no order used twice,
/// per-device orders exclude `<os><boot dev=>`, and without either the
/// guest boots from its first hard disk.
pub(crate) fn post_parse<'a>(
    orders: impl Iterator<Item = &'a DeviceBoot>,
    os_boot: &mut Vec<BootDev>,
) -> Result<()> {
    let mut seen: Vec<u32> = Vec::new();
    for b in orders {
        if seen.contains(&b.order) {
            return Err(unsupported(format!(
                "boot order '{}' used for more than one device",
                b.order
            )));
        }
        seen.push(b.order);
    }
    if !os_boot.is_empty() && !seen.is_empty() {
        return Err(unsupported(
            "per-device boot elements cannot be used together with os/boot elements",
        ));
    }
    if os_boot.is_empty() && seen.is_empty() {
        os_boot.push(BootDev::Hd);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, round_trip};

    fn dump_os(children: &str) -> Result<String, String> {
        round_trip(&format!(
            "<domain type='test'><name>p</name><memory>1024</memory><os><type>hvm</type>{children}</os></domain>"
        ))
    }

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn boot_options_as_virsh() {
        let doc = "<bootmenu enable='no' timeout='5'/><bios useserial='bogus' rebootTimeout='-1'/>";
        let want = "    <boot dev='hd'/>\n    <bootmenu enable='no'/>\n    <bios useserial='no' rebootTimeout='-1'/>\n  </os>";
        assert_dump_holds(dump_os, doc, want);
        let doc = "<bootmenu enable='yes' timeout='3000'/>";
        assert_dump_holds(dump_os, doc, "<bootmenu enable='yes' timeout='3000'/>");
        assert_errors(
            dump_os,
            &[
                ("<bootmenu enable='maybe'/>", "XML error: Invalid value for attribute 'enable' in element 'bootmenu': 'maybe'."),
                ("<bootmenu enable='yes' timeout='x'/>", "XML error: Invalid value for attribute 'timeout' in element 'bootmenu': 'x'. Expected non-negative integer value"),
                ("<bios rebootTimeout='-2'/>", "unsupported configuration: invalid value for rebootTimeout, must be in range [-1,65535]"),
                ("<bootmenu enable='yes' timeout='70000'/>", "unsupported configuration: invalid value for boot menu timeout, must be in range [0,65535]"),
            ],
        );
    }

    /// Per-device boot orders across device kinds, as virsh refuses them.
    #[test]
    fn device_boot_errors_as_virsh() {
        use super::super::test_support::dump_devices;
        let fs = "<filesystem type='mount'><source dir='/a'/><target dir='t'/><boot order='1'/></filesystem>";
        let virtiofs = fs.replace("<source", "<driver type='virtiofs'/><source");
        let disk =
            "<disk type='file'><source file='/a'/><target dev='vda'/><boot order='1'/></disk>";
        assert_errors(
            dump_devices,
            &[
                (fs, "unsupported configuration: boot order is only supported for virtiofs"),
                (&format!("{virtiofs}{disk}"), "unsupported configuration: boot order '1' used for more than one device"),
                ("<disk type='file'><source file='/a'/><target dev='vda'/><boot order='0'/></disk>", "XML error: Invalid value for attribute 'order' in element 'boot': Zero is not permitted"),
            ],
        );
    }
}
