//! A device's own `<seclabel>` overrides (`virSecurityDeviceLabelDef`):
//! `virSecurityDeviceLabelDefParseXML`, `virSecurityDeviceLabelDefFormat`
//! and `virSecurityDeviceLabelDefValidate`. Disk sources carry them.

use super::devices::Devices;
use super::props::{self, TriBool};
use super::seclabel::Seclabel;
use super::{internal_xml, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_SECURITY_LABEL_BUFLEN - 1`: longer labels are dropped.
const LABEL_MAX: usize = 4096;

/// One `<seclabel model= relabel=>` of a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSeclabel {
    pub model: Option<String>,
    pub relabel: bool,
    pub label: Option<String>,
}

impl DeviceSeclabel {
    /// The `<seclabel>` children of `e` (on define: `labelskip` is
    /// runtime state and ignored).
    pub(crate) fn parse_all(e: &Element) -> Result<Vec<DeviceSeclabel>> {
        let mut out: Vec<DeviceSeclabel> = Vec::new();
        for s in e.children_named("seclabel") {
            let model = s.attr_string("model");
            if let Some(m) = &model {
                if out.iter().any(|o| o.model.as_ref() == Some(m)) {
                    return Err(Error::new(
                        ErrorDomain::DOMAIN,
                        ErrorCode::XML_DETAIL,
                        format!("seclabel for model {m} is already provided"),
                    ));
                }
            }
            let relabel = props::tribool(s, "relabel")? != Some(TriBool::No);
            let label = s
                .child_text("label")
                .filter(|l| !l.is_empty() && l.len() <= LABEL_MAX);
            if label.is_some() && !relabel {
                return Err(internal_xml(format!(
                    "Cannot specify a label if relabelling is turned off. model={}",
                    model.as_deref().unwrap_or("<null>")
                )));
            }
            out.push(DeviceSeclabel {
                model,
                relabel,
                label,
            });
        }
        Ok(out)
    }

    /// `virSecurityDeviceLabelDefFormat`.
    pub(crate) fn format(&self, w: &mut Writer, inactive: bool) {
        if inactive && self.label.is_none() && self.relabel {
            return;
        }
        let mut a = Attrs::new();
        a.opt("model", self.model.as_deref());
        a.add("relabel", if self.relabel { "yes" } else { "no" });
        match &self.label {
            Some(l) => {
                w.block("seclabel", a.as_str(), |w| {
                    w.text_elem("label", Some(l));
                });
            }
            None => w.line(&format!("<seclabel{}/>", a.as_str())),
        }
    }

    /// The overrides of every device that has them (disk sources and
    /// their backing chains, character device sources), checked against
    /// the domain's labels in libvirt's device order.
    pub(crate) fn validate_devices(devices: &Devices, domain: &[Seclabel]) -> Result<()> {
        for d in &devices.disks {
            d.validate_seclabels(domain)?;
        }
        let chrs = [&devices.serials, &devices.parallels, &devices.consoles];
        let sources = chrs.into_iter().flatten().map(|c| &c.source);
        for s in sources.chain(devices.channels.iter().map(|c| &c.source)) {
            Self::validate(&s.seclabels, domain)?;
        }
        Ok(())
    }

    /// `virSecurityDeviceLabelDefValidate`: overriding a model the domain
    /// does not relabel is refused.
    pub(crate) fn validate(labels: &[DeviceSeclabel], domain: &[Seclabel]) -> Result<()> {
        for l in labels {
            if domain.iter().any(|d| d.model == l.model && !d.relabel) {
                return Err(unsupported(
                    "label overrides require relabeling to be enabled at the domain level",
                ));
            }
        }
        Ok(())
    }
}
