//! `<lease>`: a lock manager lease (`virDomainLeaseDef`), parsed as
//! `virDomainLeaseDefParseXML` and formatted as `virDomainLeaseDefFormat`.

use super::{internal, internal_xml, props};
use crate::xml::{escape, Element, Writer};
use rvirt_util::Result;

/// `<lease>`; an offset of 0 is unset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub lockspace: String,
    pub key: String,
    pub path: String,
    pub offset: u64,
}

impl Lease {
    pub(crate) fn parse(e: &Element) -> Result<Lease> {
        let text = |name: &str| e.child(name).map(Element::text).filter(|t| !t.is_empty());
        let Some(key) = text("key") else {
            return Err(internal_xml("Missing 'key' element for lease"));
        };
        let Some(lockspace) = text("lockspace") else {
            // libvirt fails here without saying why.
            return Err(internal("Missing 'lockspace' element for lease"));
        };
        let Some(t) = e.child("target") else {
            return Err(internal_xml("Missing 'target' element for lease"));
        };
        let Some(path) = t.attr_string("path") else {
            return Err(internal_xml(
                "Missing 'path' attribute to 'target' element for lease",
            ));
        };
        let offset = match t.attr("offset") {
            None => 0,
            Some(o) => o
                .trim_start()
                .parse()
                .map_err(|_| props::invalid_uint(t, "offset", o))?,
        };
        Ok(Lease {
            lockspace,
            key,
            path,
            offset,
        })
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        w.block("lease", "", |w| {
            w.line(&format!(
                "<lockspace>{}</lockspace>",
                escape(&self.lockspace)
            ));
            w.line(&format!("<key>{}</key>", escape(&self.key)));
            let offset = match self.offset {
                0 => String::new(),
                o => format!(" offset='{o}'"),
            };
            w.line(&format!("<target path='{}'{offset}/>", escape(&self.path)));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn leases_as_virsh() {
        assert_dump_holds(
            dump,
            "<lease><target offset='1024' path='/l'/><key>k&amp;</key><lockspace>s</lockspace></lease>",
            "    <lease>\n      <lockspace>s</lockspace>\n      <key>k&amp;</key>\n      <target path='/l' offset='1024'/>\n    </lease>\n",
        );
        assert_errors(
            dump,
            &[
                ("<lease/>", "XML error: Missing 'key' element for lease"),
                ("<lease><key>k</key><lockspace>s</lockspace></lease>", "XML error: Missing 'target' element for lease"),
                ("<lease><key>k</key><lockspace>s</lockspace><target/></lease>", "XML error: Missing 'path' attribute to 'target' element for lease"),
                ("<lease><key>k</key><lockspace>s</lockspace><target path='/l' offset='x'/></lease>", "XML error: Invalid value for attribute 'offset' in element 'target': 'x'. Expected non-negative integer value"),
            ],
        );
    }
}
