//! `<keywrap>`: the s390 AES/DEA key wrapping switches
//! (`virDomainKeyWrapDef`), parsed as `virDomainKeyWrapDefParseXML` and
//! formatted as `virDomainKeyWrapDefFormat`.

use super::internal;
use super::props::{self, vir_enum, TriSwitch, VirEnum};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainKeyWrapCipherName`.
    pub enum CipherName { Aes = "aes", Dea = "dea" }
}

/// The state of each cipher; the element is kept only when one is set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyWrap {
    pub aes: Option<TriSwitch>,
    pub dea: Option<TriSwitch>,
}

impl KeyWrap {
    /// Every `<keywrap><cipher>` of the domain.
    pub(crate) fn parse(root: &Element) -> Result<Option<KeyWrap>> {
        let mut kw = KeyWrap::default();
        let ciphers = root.grandchildren("keywrap", "cipher");
        for c in ciphers {
            let name: CipherName = props::enumeration(c, "name", true)?.unwrap_or(CipherName::Aes);
            let state = props::enumeration(c, "state", true)?;
            let slot = match name {
                CipherName::Aes => &mut kw.aes,
                CipherName::Dea => &mut kw.dea,
            };
            if slot.is_some() {
                return Err(internal(format!(
                    "A domain definition can have no more than one cipher node with name {}",
                    name.as_str()
                )));
            }
            *slot = state;
        }
        Ok(Some(kw).filter(|k| *k != KeyWrap::default()))
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        w.elem_with("keywrap", "", |w| {
            for (name, state) in [("aes", self.aes), ("dea", self.dea)] {
                if let Some(s) = state {
                    w.line(&format!("<cipher name='{name}' state='{}'/>", s.as_str()));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_after_os as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn keywrap_as_virsh() {
        let doc =
            "<keywrap><cipher name='dea' state='off'/><cipher name='aes' state='on'/></keywrap>";
        let want = "  </devices>\n  <keywrap>\n    <cipher name='aes' state='on'/>\n    <cipher name='dea' state='off'/>\n  </keywrap>\n</domain>";
        assert_dump_holds(dump, doc, want);
        assert_errors(
            dump,
            &[
                ("<keywrap><cipher name='aes'/></keywrap>", "XML error: Missing required attribute 'state' in element 'cipher'"),
                ("<keywrap><cipher name='x' state='on'/></keywrap>", "XML error: Invalid value for attribute 'name' in element 'cipher': 'x'."),
                ("<keywrap><cipher name='aes' state='on'/><cipher name='aes' state='off'/></keywrap>", "internal error: A domain definition can have no more than one cipher node with name aes"),
            ],
        );
    }
}
