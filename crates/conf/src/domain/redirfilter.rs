//! `<redirfilter>`: which USB devices may be redirected
//! (`virDomainRedirFilterDef`), parsed as `virDomainRedirFilterDefParseXML`
//! and formatted as `virDomainRedirFilterDefFormat`.

use super::props::{self, TriBool};
use super::{internal, internal_xml};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

/// One `<usbdev>` rule; `None` matches any value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsbdevRule {
    pub class: Option<u8>,
    /// libvirt keeps any integer; only non-negative ones are written.
    pub vendor: Option<i32>,
    pub product: Option<i32>,
    /// BCD `major.minor`, as USB descriptors hold it.
    pub version: Option<u16>,
    pub allow: bool,
}

/// `virDomainRedirFilterUSBVersionHelper`: `J.M` (`J.M0`) or `J.MM`.
fn parse_version(v: &str) -> Result<u16> {
    let bad = || internal_xml(format!("Cannot parse USB device version {v}"));
    let (major, minor) = v.split_once('.').ok_or_else(bad)?;
    let num = |s: &str| s.trim_start().parse::<u32>().ok().filter(|n| *n < 100);
    let (major, mut minor) = num(major).zip(num(minor)).ok_or_else(bad)?;
    if minor_digits(v) == 1 {
        minor *= 10;
    }
    let bcd = (major / 10) << 12 | (major % 10) << 8 | (minor / 10) << 4 | (minor % 10);
    Ok(bcd as u16)
}

fn minor_digits(v: &str) -> usize {
    v.split_once('.').map_or(0, |(_, m)| m.len())
}

impl UsbdevRule {
    fn parse(e: &Element) -> Result<UsbdevRule> {
        let any = |n: Option<i32>| n.filter(|n| *n != -1);
        let class = any(props::int_base0(e, "class")?);
        if let Some(c) = class.filter(|c| c & !0xFF != 0) {
            return Err(internal(format!("Invalid USB Class code 0x{c:x}")));
        }
        let vendor = any(props::int_base0(e, "vendor")?);
        let product = any(props::int_base0(e, "product")?);
        let version = match e.attr("version") {
            None | Some("-1") => None,
            Some(v) => Some(parse_version(v)?),
        };
        let allow = props::enumeration(e, "allow", true)? == Some(TriBool::Yes);
        Ok(UsbdevRule {
            class: class.map(|c| c as u8),
            vendor,
            product,
            version,
            allow,
        })
    }

    fn format(&self, w: &mut Writer) {
        let mut s = String::from("<usbdev");
        if let Some(c) = self.class {
            s.push_str(&format!(" class='0x{c:02X}'"));
        }
        if let Some(v) = self.vendor.filter(|v| *v >= 0) {
            s.push_str(&format!(" vendor='0x{v:04X}'"));
        }
        if let Some(p) = self.product.filter(|p| *p >= 0) {
            s.push_str(&format!(" product='0x{p:04X}'"));
        }
        if let Some(v) = self.version {
            let digit = |shift: u16| (v >> shift) & 0xf;
            let major = digit(12) * 10 + digit(8);
            let minor = digit(4) * 10 + digit(0);
            s.push_str(&format!(" version='{major}.{minor:02}'"));
        }
        let allow = if self.allow { "yes" } else { "no" };
        w.line(&format!("{s} allow='{allow}'/>"));
    }
}

/// `<redirfilter>`: its rules in document order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RedirFilter {
    pub rules: Vec<UsbdevRule>,
}

impl RedirFilter {
    pub(crate) fn parse(e: &Element) -> Result<RedirFilter> {
        let rules = e.children_named("usbdev").map(UsbdevRule::parse);
        Ok(RedirFilter {
            rules: rules.collect::<Result<_>>()?,
        })
    }

    /// An empty filter is not written.
    pub(crate) fn format(&self, w: &mut Writer) {
        if self.rules.is_empty() {
            return;
        }
        w.elem_with("redirfilter", "", |w| {
            self.rules.iter().for_each(|r| r.format(w))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn redirfilter_as_virsh() {
        assert_dump_holds(
            dump,
            "<redirfilter><usbdev class='0x08' vendor='0x15E1' product='0x2007' version='1.1' allow='yes'/>\
             <usbdev class='-1' vendor='-1' product='-1' version='-1' allow='no'/><usbdev version='2.05' allow='yes'/></redirfilter>",
            "    <redirfilter>
      <usbdev class='0x08' vendor='0x15E1' product='0x2007' version='1.10' allow='yes'/>
      <usbdev allow='no'/>
      <usbdev version='2.05' allow='yes'/>
    </redirfilter>
",
        );
        assert_errors(
            dump,
            &[
                (
                    "<redirfilter><usbdev/></redirfilter>",
                    "XML error: Missing required attribute 'allow' in element 'usbdev'",
                ),
                (
                    "<redirfilter><usbdev class='0x100' allow='yes'/></redirfilter>",
                    "internal error: Invalid USB Class code 0x100",
                ),
                (
                    "<redirfilter><usbdev version='1' allow='yes'/></redirfilter>",
                    "XML error: Cannot parse USB device version 1",
                ),
                (
                    "<redirfilter/><redirfilter/>",
                    "internal error: only one set of redirection filter rule is supported",
                ),
            ],
        );
    }
}
