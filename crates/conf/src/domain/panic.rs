//! `<panic>`: a guest panic notifier (`virDomainPanicDef`), parsed as
//! `virDomainPanicDefParseXML`, checked as `virDomainDefRejectDuplicatePanics`
//! and formatted as `virDomainPanicDefFormat`.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::internal_xml;
use super::props::{vir_enum, VirEnum};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainPanicModel`; `Default` is the unset model, never formatted.
    pub enum PanicModel {
        Default = "default", Isa = "isa", Pseries = "pseries",
        Hyperv = "hyperv", S390 = "s390",
    }
}

/// `<panic>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Panic {
    pub model: PanicModel,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

impl Panic {
    pub(crate) fn parse(e: &Element) -> Result<Panic> {
        let model = match e.attr("model") {
            None => PanicModel::Default,
            Some(m) => PanicModel::parse_named(m, "panic model")?,
        };
        Ok(Panic {
            model,
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
        })
    }

    /// Two panics of one model would be one device twice.
    pub(crate) fn reject_duplicates(panics: &[Panic]) -> Result<()> {
        for (i, p) in panics.iter().enumerate() {
            if panics[..i].iter().any(|q| q.model == p.model) {
                return Err(internal_xml(format!(
                    "Multiple panic devices with model '{}'",
                    p.model.as_str()
                )));
            }
        }
        Ok(())
    }

    /// `virXMLFormatElement`: a panic with neither model nor address is
    /// not written at all.
    pub(crate) fn format(&self, w: &mut Writer) {
        if self.model == PanicModel::Default && self.address.is_none() {
            return;
        }
        let attrs = match self.model {
            PanicModel::Default => String::new(),
            m => format!(" model='{}'", m.as_str()),
        };
        w.elem_with("panic", &attrs, |w| {
            format_info_addr(&self.info, &self.address, w)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_after_os as dump};

    /// Messages and output checked against stock virsh on test:///default.
    #[test]
    fn panic_and_pm_as_virsh() {
        assert_errors(
            dump,
            &[
                ("<devices><panic model='bogus'/></devices>", "unsupported configuration: unknown panic model 'bogus'"),
                ("<devices><panic/><panic model='default'/></devices>", "XML error: Multiple panic devices with model 'default'"),
                ("<pm><suspend-to-mem enabled='maybe'/></pm>", "XML error: Invalid value for attribute 'enabled' in element 'suspend-to-mem': 'maybe'."),
            ],
        );
        let out = dump(
            "<pm><suspend-to-disk enabled='no'/><suspend-to-mem enabled='yes'/></pm>\
             <devices><panic model='isa'><address type='isa' iobase='0x505'/></panic><panic/></devices>",
        )
        .unwrap();
        assert!(out.contains("  <pm>\n    <suspend-to-mem enabled='yes'/>\n    <suspend-to-disk enabled='no'/>\n  </pm>\n"));
        assert!(out.contains("    <panic model='isa'>\n      <address type='isa' iobase='0x505'/>\n    </panic>\n  </devices>"));
    }
}
