//! `<resource>`: the cgroup partition and the Fibre Channel application ID
//! (`virDomainResourceDef`), parsed as `virDomainResourceDefParse`, checked
//! as `virDomainDefResourceValidate` and formatted as
//! `virDomainResourceDefFormat`.

use super::{internal, internal_xml};
use crate::xml::{escape, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `APPID_LEN_MIN`, `APPID_LEN_MAX`.
const APPID_LEN: (usize, usize) = (1, 128);

/// `<resource>`: at least one of the two is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    pub partition: Option<String>,
    pub appid: Option<String>,
}

impl Resource {
    /// The domain's `<resource>`, if any (at most one).
    pub(crate) fn parse(root: &Element) -> Result<Option<Resource>> {
        let mut nodes = root.children_named("resource");
        let Some(r) = nodes.next() else {
            return Ok(None);
        };
        if nodes.next().is_some() {
            return Err(internal_xml("only one resource element is supported"));
        }
        let partition = r
            .child("partition")
            .map(Element::text)
            .filter(|p| !p.is_empty());
        let appid = r
            .child("fibrechannel")
            .and_then(|f| f.attr_string("appid"))
            .filter(|a| !a.is_empty());
        if partition.is_none() && appid.is_none() {
            // libvirt fails here without saying why.
            return Err(internal(
                "resource element without partition or fibrechannel appid",
            ));
        }
        Ok(Some(Resource { partition, appid }))
    }

    /// `virDomainDefResourceValidate`: a printable appid of bounded length.
    pub(crate) fn validate(&self) -> Result<()> {
        let Some(appid) = &self.appid else {
            return Ok(());
        };
        if !appid.chars().all(|c| (' '..='~').contains(&c)) {
            return Err(internal_xml(
                "Fibre Channel 'appid' is not a printable string",
            ));
        }
        let (min, max) = APPID_LEN;
        if !(min..=max).contains(&appid.len()) {
            return Err(Error::new(
                ErrorDomain::DOMAIN,
                ErrorCode::INVALID_ARG,
                format!("Fibre Channel 'appid' string length must be between [{min}, {max}]"),
            ));
        }
        Ok(())
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        w.elem_with("resource", "", |w| {
            if let Some(p) = &self.partition {
                w.line(&format!("<partition>{}</partition>", escape(p)));
            }
            if let Some(a) = &self.appid {
                w.line(&format!("<fibrechannel appid='{}'/>", escape(a)));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_before_os};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn resource_as_virsh() {
        assert_dump_holds(
            dump_before_os,
            "<resource><fibrechannel appid='a&amp;b'/><partition>/m</partition></resource>",
            "  <resource>\n    <partition>/m</partition>\n    <fibrechannel appid='a&amp;b'/>\n  </resource>\n",
        );
        let long = format!(
            "<resource><fibrechannel appid='{}'/></resource>",
            "x".repeat(129)
        );
        assert_errors(
            dump_before_os,
            &[
                ("<resource><partition>/a</partition></resource><resource/>", "XML error: only one resource element is supported"),
                ("<resource><fibrechannel appid='&#9;'/></resource>", "XML error: Fibre Channel 'appid' is not a printable string"),
                (&long, "invalid argument: Fibre Channel 'appid' string length must be between [1, 128]"),
            ],
        );
    }
}
