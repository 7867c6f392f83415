//! `<seclabel>`: the domain's security labels (`virSecurityLabelDef`),
//! parsed as `virSecurityLabelDefsParseXML` does for an inactive
//! definition and formatted as `virSecurityLabelDefFormat`.

use super::props::{self, vir_enum, TriBool, VirEnum};
use super::{esc, internal_xml, unsupported};
use crate::xml::{Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_SECURITY_MODEL_BUFLEN` and `VIR_SECURITY_LABEL_BUFLEN`, less the
/// terminator: longer models are dropped, longer labels refused.
const MODEL_MAX: usize = 256;
const LABEL_MAX: usize = 4096;

vir_enum! {
    /// `virDomainSeclabelType`; `Default` is an absent type.
    pub enum SeclabelType { Default = "default", None = "none", Dynamic = "dynamic", Static = "static" }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seclabel {
    pub model: Option<String>,
    pub label_type: SeclabelType,
    pub relabel: bool,
    /// Static labels only (dynamic ones are runtime state).
    pub label: Option<String>,
    /// Dynamic labels only.
    pub baselabel: Option<String>,
}

/// `string(./NAME[1])`, `None` when empty.
fn child_text(e: &Element, name: &str) -> Option<String> {
    e.child(name).map(|c| c.text()).filter(|t| !t.is_empty())
}

impl Seclabel {
    fn parse(e: &Element) -> Result<Seclabel> {
        let model = e
            .attr("model")
            .filter(|m| m.len() <= MODEL_MAX)
            .map(str::to_string);
        // virXMLPropEnum leaves an absent type at 0, "default", which is
        // kept but never formatted; the string "default" itself is refused.
        let label_type = props::enumeration(e, "type", false)?.unwrap_or(SeclabelType::Default);
        if e.attr("type") == Some("default") {
            return Err(props::invalid(e, "type", "default"));
        }
        let mut relabel = !matches!(label_type, SeclabelType::Static | SeclabelType::None);
        if let Some(r) = props::tribool(e, "relabel")? {
            relabel = r == TriBool::Yes;
        }
        if label_type == SeclabelType::Dynamic && !relabel {
            return Err(unsupported(
                "dynamic label type must use resource relabeling",
            ));
        }
        if label_type == SeclabelType::None && relabel {
            return Err(unsupported(
                "resource relabeling is not compatible with 'none' label type",
            ));
        }
        let mut s = Seclabel {
            model,
            label_type,
            relabel,
            label: None,
            baselabel: None,
        };
        // Older configurations' model 'none' means type 'none'.
        if s.model.as_deref() == Some("none") {
            s.label_type = SeclabelType::None;
            s.relabel = false;
            return Ok(s);
        }
        if s.label_type == SeclabelType::Static {
            s.label = child_text(e, "label").filter(|l| l.len() <= LABEL_MAX);
            if s.label.is_none() {
                return Err(internal_xml("security label is missing"));
            }
        }
        if s.label_type == SeclabelType::Dynamic {
            s.baselabel = child_text(e, "baselabel").filter(|l| l.len() <= LABEL_MAX);
        }
        Ok(s)
    }

    /// All `<seclabel>` children of `<domain>`: one per model, and a model
    /// on each when there are several.
    pub(crate) fn parse_all(root: &Element) -> Result<Vec<Seclabel>> {
        let mut out: Vec<Seclabel> = Vec::new();
        for e in root.children_named("seclabel") {
            let s = Seclabel::parse(e)?;
            if out.iter().any(|o| o.model == s.model) {
                return Err(Error::new(
                    ErrorDomain::DOMAIN,
                    ErrorCode::XML_DETAIL,
                    format!(
                        "seclabel for model {} is already provided",
                        s.model.as_deref().unwrap_or("(null)")
                    ),
                ));
            }
            out.push(s);
        }
        if out.len() > 1 && out.iter().any(|s| s.model.is_none()) {
            return Err(internal_xml(
                "missing security model when using multiple labels",
            ));
        }
        Ok(out)
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        if self.label_type == SeclabelType::Default {
            return;
        }
        let mut head = format!("<seclabel type='{}'", self.label_type.as_str());
        if let Some(m) = &self.model {
            head.push_str(&format!(" model='{}'", esc(m)));
        }
        if self.label_type == SeclabelType::None {
            w.line(&format!("{head}/>"));
            return;
        }
        head.push_str(if self.relabel {
            " relabel='yes'"
        } else {
            " relabel='no'"
        });
        if self.label.is_none() && self.baselabel.is_none() {
            w.line(&format!("{head}/>"));
            return;
        }
        w.line(&format!("{head}>"));
        w.indent();
        if let Some(l) = &self.label {
            w.line(&format!("<label>{}</label>", esc(l)));
        }
        if let Some(b) = &self.baselabel {
            w.line(&format!("<baselabel>{}</baselabel>", esc(b)));
        }
        w.dedent();
        w.line("</seclabel>");
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_after_os as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn seclabels_as_virsh() {
        let out = dump(
            "<seclabel type='static' model='selinux' relabel='yes'><label>system_u:x</label><imagelabel>i</imagelabel></seclabel>\
             <seclabel type='dynamic' model='dac'><baselabel>+0:+0</baselabel><label>z</label></seclabel>\
             <seclabel type='none' model='x'/><seclabel model='y'/>",
        )
        .unwrap();
        let want = "  </devices>
  <seclabel type='static' model='selinux' relabel='yes'>
    <label>system_u:x</label>
  </seclabel>
  <seclabel type='dynamic' model='dac' relabel='yes'>
    <baselabel>+0:+0</baselabel>
  </seclabel>
  <seclabel type='none' model='x'/>
</domain>";
        assert!(out.ends_with(&format!("{want}\n")), "{out}");
        assert_errors(
            dump,
            &[
                ("<seclabel type='dynamic' relabel='no'/>", "unsupported configuration: dynamic label type must use resource relabeling"),
                ("<seclabel type='static'/>", "XML error: security label is missing"),
                ("<seclabel type='default'/>", "XML error: Invalid value for attribute 'type' in element 'seclabel': 'default'."),
                ("<seclabel model='a'/><seclabel model='a'/>", "seclabel for model a is already provided"),
                ("<seclabel/><seclabel model='a'/>", "XML error: missing security model when using multiple labels"),
            ],
        );
    }
}
