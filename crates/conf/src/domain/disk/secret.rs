//! What a disk source authenticates or decrypts with: `<auth>`
//! (`virStorageAuthDef`), `<encryption>` (`virStorageEncryption`), both
//! naming a `<secret>` (`virSecretLookupTypeDef`), and `<reservations>`
//! (`virStoragePRDef`), parsed and formatted as libvirt's storage
//! configuration code does.

use super::super::props::{self, vir_enum, TriBool, VirEnum};
use super::super::{internal_xml, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::{uuid, Result};

/// How a `<secret>` is found: by UUID or by usage name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretLookup {
    Uuid(uuid::Uuid),
    Usage(String),
}

impl SecretLookup {
    /// `virSecretLookupParseSecret`.
    fn parse(e: &Element) -> Result<SecretLookup> {
        match (e.attr("uuid"), e.attr("usage")) {
            (None, None) => Err(internal_xml("missing secret uuid or usage attribute")),
            (Some(_), Some(_)) => Err(internal_xml("either secret uuid or usage expected")),
            (Some(u), None) => uuid::parse(u)
                .map(SecretLookup::Uuid)
                .ok_or_else(|| internal_xml(format!("invalid secret uuid '{u}'"))),
            (None, Some(usage)) => Ok(SecretLookup::Usage(usage.to_string())),
        }
    }

    /// `virSecretLookupFormatSecret`.
    fn format(&self, w: &mut Writer, secret_type: Option<&str>) {
        let mut a = Attrs::new();
        a.opt("type", secret_type);
        match self {
            SecretLookup::Uuid(u) => a.add("uuid", u.hyphenated()),
            SecretLookup::Usage(s) => a.add("usage", s),
        };
        w.line(&format!("<secret{}/>", a.as_str()));
    }
}

vir_enum! {
    /// `virStorageAuthType` without "none" (`None`).
    pub enum AuthType { Chap = "chap", Ceph = "ceph" }
}

/// `<auth username=>` with its `<secret>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth {
    pub auth_type: Option<AuthType>,
    pub username: String,
    /// `<secret type=>`, kept as written (checked against the protocol).
    pub secret_type: Option<String>,
    pub secret: SecretLookup,
}

impl Auth {
    /// `virStorageAuthDefParse`.
    pub(crate) fn parse(e: &Element) -> Result<Auth> {
        let Some(username) = e.attr("username").filter(|u| !u.is_empty()) else {
            return Err(internal_xml("missing username for auth"));
        };
        let auth_type = match e.attr("type").filter(|t| !t.is_empty()) {
            None | Some("none") => None,
            Some(t) => Some(AuthType::parse_named(t, "auth type")?),
        };
        let Some(s) = e.child("secret") else {
            return Err(internal_xml("Missing <secret> element in auth"));
        };
        Ok(Auth {
            auth_type,
            username: username.to_string(),
            secret_type: s.attr_string("type"),
            secret: SecretLookup::parse(s)?,
        })
    }

    /// `virStorageAuthDefFormat`.
    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.opt("type", self.auth_type.map(VirEnum::as_str));
        a.add("username", &self.username);
        w.block("auth", a.as_str(), |w| {
            self.secret.format(w, self.secret_type.as_deref());
        });
    }
}

vir_enum! {
    /// `virStorageEncryptionFormatType`.
    pub enum EncryptionFormat { Default = "default", Qcow = "qcow", Luks = "luks", Luks2 = "luks2" }

    /// `virStorageEncryptionEngine` without "default" (`None`).
    pub enum EncryptionEngine { Qemu = "qemu", Librbd = "librbd" }
}

/// `<cipher>` and `<ivgen>` of a LUKS encryption.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CipherInfo {
    pub name: String,
    pub size: u32,
    pub mode: Option<String>,
    pub hash: Option<String>,
    /// `<ivgen name= hash=>`.
    pub ivgen: Option<(String, Option<String>)>,
}

/// `<encryption format= engine=>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encryption {
    pub format: EncryptionFormat,
    pub engine: Option<EncryptionEngine>,
    /// `<secret type='passphrase'>`s.
    pub secrets: Vec<SecretLookup>,
    pub cipher: Option<CipherInfo>,
}

impl Encryption {
    /// `virStorageEncryptionParseNode`.
    pub(crate) fn parse(e: &Element) -> Result<Encryption> {
        let Some(f) = e.attr("format").filter(|f| !f.is_empty()) else {
            return Err(internal_xml("unknown volume encryption format"));
        };
        let format = EncryptionFormat::from_str_opt(f)
            .ok_or_else(|| unsupported(format!("unknown volume encryption format type {f}")))?;
        let engine = props::enumeration(e, "engine", false)?;
        let mut secrets = Vec::new();
        for s in e.children_named("secret") {
            match s.attr("type").filter(|t| !t.is_empty()) {
                None => return Err(internal_xml("unknown volume encryption secret type")),
                Some("passphrase") => {}
                Some(t) => {
                    return Err(unsupported(format!(
                        "unknown volume encryption secret type {t}"
                    )))
                }
            }
            secrets.push(SecretLookup::parse(s)?);
        }
        let cipher = match format {
            EncryptionFormat::Luks => parse_cipher(e)?,
            _ => None,
        };
        Ok(Encryption {
            format,
            engine,
            secrets,
            cipher,
        })
    }

    /// `virStorageEncryptionFormat`.
    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("format", self.format.as_str());
        a.opt("engine", self.engine.map(VirEnum::as_str));
        w.block("encryption", a.as_str(), |w| {
            for s in &self.secrets {
                s.format(w, Some("passphrase"));
            }
            if let Some(c) = self
                .cipher
                .as_ref()
                .filter(|_| self.format == EncryptionFormat::Luks)
            {
                let mut a = Attrs::new();
                a.add("name", &c.name).add("size", c.size);
                a.opt("mode", c.mode.as_deref())
                    .opt("hash", c.hash.as_deref());
                w.line(&format!("<cipher{}/>", a.as_str()));
                if let Some((name, hash)) = &c.ivgen {
                    let mut a = Attrs::new();
                    a.add("name", name).opt("hash", hash.as_deref());
                    w.line(&format!("<ivgen{}/>", a.as_str()));
                }
            }
        });
    }
}

/// `virStorageEncryptionInfoParseCipher` / `...Ivgen` of a LUKS encryption.
fn parse_cipher(e: &Element) -> Result<Option<CipherInfo>> {
    let mut info = match e.child("cipher") {
        None => None,
        Some(c) => {
            let Some(name) = c.attr_string("name") else {
                return Err(internal_xml("cipher info missing 'name' attribute"));
            };
            Some(CipherInfo {
                name,
                size: props::uint(c, "size", true, false)?.unwrap_or_default(),
                mode: c.attr_string("mode"),
                hash: c.attr_string("hash"),
                ivgen: None,
            })
        }
    };
    if let Some(iv) = e.child("ivgen") {
        let Some(c) = info.as_mut() else {
            return Err(internal_xml("ivgen element found, but cipher is missing"));
        };
        let Some(name) = iv.attr_string("name") else {
            return Err(internal_xml("missing ivgen info name string"));
        };
        c.ivgen = Some((name, iv.attr_string("hash")));
    }
    Ok(info)
}

/// `<reservations managed=>`: persistent reservations of a LUN, through
/// the helper at `path` when not managed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservations {
    pub managed: TriBool,
    pub path: Option<String>,
}

impl Reservations {
    /// `virStoragePRDefParseXML`.
    pub(crate) fn parse(e: &Element) -> Result<Reservations> {
        let managed = props::enumeration(e, "managed", true)?.unwrap_or(TriBool::No);
        let src = e.child("source");
        let get = |n| src.and_then(|s| s.attr(n)).filter(|v| !v.is_empty());
        let (t, path, mode) = (get("type"), get("path"), get("mode"));
        if managed == TriBool::No || t.is_some() || path.is_some() || mode.is_some() {
            if t.is_none() {
                return Err(internal_xml("missing connection type for <reservations/>"));
            }
            if path.is_none() {
                return Err(internal_xml("missing path for <reservations/>"));
            }
            if mode.is_none() {
                return Err(internal_xml("missing connection mode for <reservations/>"));
            }
        }
        if let Some(t) = t.filter(|t| *t != "unix") {
            return Err(internal_xml(format!(
                "unsupported connection type for <reservations/>: {t}"
            )));
        }
        if let Some(m) = mode.filter(|m| *m != "client") {
            return Err(internal_xml(format!(
                "unsupported connection mode for <reservations/>: {m}"
            )));
        }
        Ok(Reservations {
            managed,
            path: path.map(str::to_string),
        })
    }

    /// `virStoragePRDefFormat` (not migratable).
    pub(crate) fn format(&self, w: &mut Writer) {
        let head = format!("<reservations managed='{}'", self.managed.as_str());
        match &self.path {
            Some(p) => {
                w.line(&format!("{head}>"));
                w.indent();
                let mut a = Attrs::new();
                a.add("type", "unix").add("path", p).add("mode", "client");
                w.line(&format!("<source{}/>", a.as_str()));
                w.dedent();
                w.line("</reservations>");
            }
            None => w.line(&format!("{head}/>")),
        }
    }
}
