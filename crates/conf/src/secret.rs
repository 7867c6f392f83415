//! Secret XML (`<secret>`, libvirt 9.0's src/conf/secret_conf.c): the
//! ephemeral/private flags, UUID (generated when absent), description and
//! usage (volume, ceph, iscsi, tls, vtpm).

use crate::xml::{self, escape, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_FROM_SECRET`.
pub const ERROR_DOMAIN: ErrorDomain = ErrorDomain(30);

/// `virSecretUsageType` names.
pub const USAGE_TYPES: [&str; 6] = ["none", "volume", "ceph", "iscsi", "tls", "vtpm"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretDef {
    pub ephemeral: bool,
    pub private: bool,
    pub uuid: [u8; 16],
    pub description: Option<String>,
    /// Index in [`USAGE_TYPES`].
    pub usage_type: i32,
    pub usage_id: Option<String>,
}

fn xml_error(msg: &str) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::XML_ERROR, msg)
}

/// `virStringParseYesNo`.
fn yes_no(e: &Element, name: &str) -> Result<bool> {
    match e.attr(name).filter(|s| !s.is_empty()) {
        None | Some("no") => Ok(false),
        Some("yes") => Ok(true),
        Some(_) => Err(xml_error(&format!("invalid value of '{name}'"))),
    }
}

/// The element holding a usage type's id, and the words of its absence.
fn usage_element(kind: i32) -> (&'static str, &'static str) {
    match kind {
        1 => (
            "volume",
            "volume usage specified, but volume path is missing",
        ),
        2 => ("name", "Ceph usage specified, but name is missing"),
        3 => ("target", "iSCSI usage specified, but target is missing"),
        4 => ("name", "TLS usage specified, but name is missing"),
        _ => ("name", "vTPM usage specified, but name is missing"),
    }
}

impl SecretDef {
    /// `virSecretDefParse`.
    pub fn parse(text: &str) -> Result<SecretDef> {
        let root = xml::parse(text, "(definition_of_secret)", ERROR_DOMAIN)?;
        if root.name != "secret" {
            return Err(Error::new(
                ErrorDomain::XML,
                ErrorCode::XML_ERROR,
                format!("expecting root element of 'secret', not '{}'", root.name),
            ));
        }
        let uuid = match root
            .child("uuid")
            .map(Element::text)
            .filter(|t| !t.is_empty())
        {
            None => rvirt_util::uuid::generate(),
            Some(t) => rvirt_util::uuid::parse(&t)
                .ok_or_else(|| Error::internal(ERROR_DOMAIN, "malformed uuid element"))?,
        };
        let mut def = SecretDef {
            ephemeral: yes_no(&root, "ephemeral")?,
            private: yes_no(&root, "private")?,
            uuid: *uuid.as_bytes(),
            description: root
                .child("description")
                .map(Element::text)
                .filter(|t| !t.is_empty()),
            usage_type: 0,
            usage_id: None,
        };
        if let Some(usage) = root.child("usage") {
            def.parse_usage(usage)?;
        }
        Ok(def)
    }

    fn parse_usage(&mut self, usage: &Element) -> Result<()> {
        let Some(kind) = usage.attr("type").filter(|s| !s.is_empty()) else {
            return Err(xml_error("unknown secret usage type"));
        };
        let Some(index) = USAGE_TYPES.iter().position(|t| *t == kind) else {
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::CONFIG_UNSUPPORTED,
                format!("unknown secret usage type {kind}"),
            ));
        };
        self.usage_type = index as i32;
        if index == 0 {
            return Ok(());
        }
        let (child, missing) = usage_element(self.usage_type);
        let id = usage
            .child(child)
            .map(Element::text)
            .filter(|t| !t.is_empty());
        self.usage_id = Some(id.ok_or_else(|| Error::internal(ERROR_DOMAIN, missing))?);
        Ok(())
    }

    pub fn uuid_string(&self) -> String {
        rvirt_util::uuid::Uuid::from_bytes(self.uuid).to_string()
    }

    /// `virSecretDefFormat`.
    pub fn format(&self) -> String {
        let yn = |b: bool| if b { "yes" } else { "no" };
        let mut w = Writer::new();
        w.line(&format!(
            "<secret ephemeral='{}' private='{}'>",
            yn(self.ephemeral),
            yn(self.private)
        ));
        w.indent();
        w.line(&format!("<uuid>{}</uuid>", self.uuid_string()));
        w.text_elem("description", self.description.as_deref());
        if self.usage_type != 0 {
            let kind = USAGE_TYPES[self.usage_type as usize];
            w.block("usage", &format!(" type='{kind}'"), |w| {
                let (child, _) = usage_element(self.usage_type);
                if let Some(id) = &self.usage_id {
                    w.line(&format!("<{child}>{}</{child}>", escape(id)));
                }
            });
        }
        w.dedent();
        w.line("</secret>");
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(xml: &str) -> String {
        SecretDef::parse(xml).unwrap_err().message
    }

    #[test]
    fn formats_as_libvirt() {
        let def = SecretDef::parse(
            "<secret private='yes'><uuid>f52a81b2424e490c823d6bd4235bc573</uuid>\
             <usage type='iscsi'><target>iqn &amp; co</target></usage></secret>",
        )
        .unwrap();
        assert_eq!(
            def.format(),
            "<secret ephemeral='no' private='yes'>
  <uuid>f52a81b2-424e-490c-823d-6bd4235bc573</uuid>
  <usage type='iscsi'>
    <target>iqn &amp; co</target>
  </usage>
</secret>
"
        );
        let fresh = SecretDef::parse("<secret/>").unwrap();
        assert_ne!(fresh.uuid, [0; 16]);
    }

    #[test]
    fn libvirts_messages() {
        assert_eq!(
            err("<secret ephemeral='maybe'/>"),
            "XML error: invalid value of 'ephemeral'"
        );
        assert_eq!(
            err("<secret><uuid>nope</uuid></secret>"),
            "internal error: malformed uuid element"
        );
        assert_eq!(
            err("<secret><usage/></secret>"),
            "XML error: unknown secret usage type"
        );
        assert_eq!(
            err("<secret><usage type='disk'/></secret>"),
            "unsupported configuration: unknown secret usage type disk"
        );
        assert_eq!(
            err("<secret><usage type='volume'/></secret>"),
            "internal error: volume usage specified, but volume path is missing"
        );
    }
}
