//! `<launchSecurity>`: confidential-guest settings (`virDomainSecDef`),
//! parsed as `virDomainSecDefParseXML` and formatted as
//! `virDomainSecDefFormat`.

use super::internal_xml;
use super::props::{self, TriBool, VirEnum};
use crate::xml::{escape, Element, Writer};
use rvirt_util::Result;

/// AMD SEV: the policy and the platform values libvirt may fill later.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sev {
    pub kernel_hashes: Option<TriBool>,
    pub policy: u32,
    pub cbitpos: Option<u32>,
    pub reduced_phys_bits: Option<u32>,
    pub dh_cert: Option<String>,
    pub session: Option<String>,
}

/// `virDomainLaunchSecurity`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LaunchSecurity {
    Sev(Sev),
    /// IBM Secure Execution (s390-pv): no settings.
    S390Pv,
}

/// `virXPathUInt` of a child's text: `None` when absent, `Err` when not a
/// number.
fn child_uint(e: &Element, name: &str, radix: u32) -> std::result::Result<Option<u32>, ()> {
    let Some(text) = e.child(name).map(Element::text).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let t = text.trim();
    let t = if radix == 16 {
        t.trim_start_matches("0x").trim_start_matches("0X")
    } else {
        t
    };
    u32::from_str_radix(t, radix).map(Some).map_err(|_| ())
}

fn parse_sev(e: &Element) -> Result<Sev> {
    let kernel_hashes = props::tribool(e, "kernelHashes")?;
    let policy = child_uint(e, "policy", 16)
        .ok()
        .flatten()
        .ok_or_else(|| internal_xml("failed to get launch security policy"))?;
    let cbitpos = child_uint(e, "cbitpos", 10)
        .map_err(|_| internal_xml("Invalid format for launch security cbitpos"))?;
    let reduced_phys_bits = child_uint(e, "reducedPhysBits", 10)
        .map_err(|_| internal_xml("Invalid format for launch security reduced-phys-bits"))?;
    let text = |name: &str| e.child(name).map(Element::text).filter(|t| !t.is_empty());
    Ok(Sev {
        kernel_hashes,
        policy,
        cbitpos,
        reduced_phys_bits,
        dh_cert: text("dhCert"),
        session: text("session"),
    })
}

impl LaunchSecurity {
    /// The domain's first `<launchSecurity>`, if any.
    pub(crate) fn parse(root: &Element) -> Result<Option<LaunchSecurity>> {
        let Some(e) = root.child("launchSecurity") else {
            return Ok(None);
        };
        let Some(t) = e.attr("type") else {
            return Err(internal_xml(
                "Missing required attribute 'type' in element 'launchSecurity'",
            ));
        };
        match t {
            "sev" => Ok(Some(LaunchSecurity::Sev(parse_sev(e)?))),
            "s390-pv" => Ok(Some(LaunchSecurity::S390Pv)),
            _ => Err(props::invalid(e, "type", t)),
        }
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let LaunchSecurity::Sev(sev) = self else {
            w.line("<launchSecurity type='s390-pv'/>");
            return;
        };
        let hashes = sev
            .kernel_hashes
            .map(|h| format!(" kernelHashes='{}'", h.as_str()));
        w.line(&format!(
            "<launchSecurity type='sev'{}>",
            hashes.unwrap_or_default()
        ));
        w.indent();
        if let Some(c) = sev.cbitpos {
            w.line(&format!("<cbitpos>{c}</cbitpos>"));
        }
        if let Some(r) = sev.reduced_phys_bits {
            w.line(&format!("<reducedPhysBits>{r}</reducedPhysBits>"));
        }
        w.line(&format!("<policy>0x{:04x}</policy>", sev.policy));
        for (name, v) in [("dhCert", &sev.dh_cert), ("session", &sev.session)] {
            if let Some(v) = v {
                w.line(&format!("<{name}>{}</{name}>", escape(v)));
            }
        }
        w.dedent();
        w.line("</launchSecurity>");
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_after_os as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn launch_security_as_virsh() {
        assert_dump_holds(
            dump,
            "<launchSecurity type='sev' kernelHashes='yes'><policy>0x33</policy><cbitpos>47</cbitpos>\
             <reducedPhysBits>1</reducedPhysBits><dhCert>AB&amp;</dhCert></launchSecurity>",
            "  <launchSecurity type='sev' kernelHashes='yes'>\n    <cbitpos>47</cbitpos>\n    <reducedPhysBits>1</reducedPhysBits>\n    <policy>0x0033</policy>\n    <dhCert>AB&amp;</dhCert>\n  </launchSecurity>\n",
        );
        assert_errors(
            dump,
            &[
                ("<launchSecurity/>", "XML error: Missing required attribute 'type' in element 'launchSecurity'"),
                ("<launchSecurity type=''/>", "XML error: Invalid value for attribute 'type' in element 'launchSecurity': ''."),
                ("<launchSecurity type='sev'/>", "XML error: failed to get launch security policy"),
                ("<launchSecurity type='sev'><policy>1</policy><cbitpos>x</cbitpos></launchSecurity>", "XML error: Invalid format for launch security cbitpos"),
            ],
        );
    }
}
