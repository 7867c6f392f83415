//! Network filter XML (`<filter>`, libvirt 9.0's src/conf/nwfilter_conf.c
//! and nwfilter_params.c): name, chain and its priority, UUID (generated
//! when absent), and the entries in document order, each a `<rule>` with
//! one protocol element or a `<filterref>` with its parameters. Parsed
//! and written back as `virNWFilterDefParse` / `virNWFilterDefFormat` do,
//! quirks included (the fixups that move `match='no'` between related
//! attributes, the chain priority kept only with a chain). A binding
//! (`<filterbinding>`) is in [`binding`].

mod attrs;
pub mod binding;
mod rule;
mod value;
mod vars;

pub use attrs::Protocol;
pub use rule::{ProtocolMatch, RuleDef};
pub use value::{Data, Item, Value};
pub use vars::{Access, VarAccess};

use crate::domain::interface::FilterRef;
use crate::xml::{self, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_FROM_NWFILTER`.
pub const ERROR_DOMAIN: ErrorDomain = ErrorDomain(33);

/// `virNWFilterDefineXMLFlags`' `VIR_NWFILTER_DEFINE_VALIDATE`.
pub const DEFINE_VALIDATE: u32 = 1;

pub(crate) fn err(code: ErrorCode, msg: impl Into<String>) -> Error {
    Error::new(ERROR_DOMAIN, code, msg.into())
}

pub(crate) fn internal(msg: String) -> Error {
    Error::internal(ERROR_DOMAIN, msg)
}

/// One entry of a filter, in document order (`virNWFilterEntry`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Rule(RuleDef),
    Include(FilterRef),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NWFilterDef {
    pub name: String,
    pub uuid: [u8; 16],
    /// Whether the document had a `<uuid>` (`uuid_specified`).
    pub uuid_specified: bool,
    /// `chain=`, `root` when absent.
    pub chain: String,
    /// The chain's priority; written unless 0.
    pub chain_priority: i32,
    pub entries: Vec<Entry>,
}

/// `virNWFilterChainSuffix` names: `root` alone, the others as prefixes.
const CHAIN_SUFFIXES: [&str; 8] = ["root", "mac", "vlan", "stp", "arp", "rarp", "ipv4", "ipv6"];
/// `MAX_CHAIN_SUFFIX_SIZE`.
const MAX_CHAIN_SUFFIX_SIZE: usize = 12;
const MIN_FILTER_PRIORITY: i32 = -1000;
const MAX_FILTER_PRIORITY: i32 = 1000;

/// `chain_priorities`: a chain's default priority by its prefix.
fn default_chain_priority(prefix: &str) -> i32 {
    match prefix {
        "root" => 0,
        "mac" => -800,
        "vlan" => -750,
        "ipv4" => -700,
        "ipv6" => -600,
        "arp" => -500,
        "rarp" => -400,
        _ => (MAX_FILTER_PRIORITY + MIN_FILTER_PRIORITY) / 2,
    }
}

/// `virNWFilterIsAllowedChain`: the suffix the chain name begins with.
fn allowed_chain(chain: &str) -> Result<&'static str> {
    let invalid = |m: String| err(ErrorCode::INVALID_ARG, m);
    if chain.len() > MAX_CHAIN_SUFFIX_SIZE {
        return Err(invalid(format!(
            "Name of chain is longer than {MAX_CHAIN_SUFFIX_SIZE} characters"
        )));
    }
    if !chain
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'))
    {
        return Err(invalid("Chain name contains invalid characters".into()));
    }
    if chain == "root" {
        return Ok("root");
    }
    if chain.starts_with("root") {
        // libvirt refuses it without saying why.
        return Err(Error::raw(
            ERROR_DOMAIN,
            ErrorCode::INTERNAL_ERROR,
            "An error occurred, but the cause is unknown",
        ));
    }
    if let Some(s) = CHAIN_SUFFIXES[1..].iter().find(|s| chain.starts_with(*s)) {
        return Ok(s);
    }
    Err(invalid(format!(
        "Invalid chain name '{chain}'. Please use a chain name called 'root' or any of \
         the following prefixes: {}",
        CHAIN_SUFFIXES[1..].join(", ")
    )))
}

/// `virXPathString`: an attribute, `None` when absent or empty.
fn attr(e: &Element, name: &str) -> Option<String> {
    e.attr(name).filter(|s| !s.is_empty()).map(str::to_string)
}

impl NWFilterDef {
    /// `virNWFilterDefParse` of a document whose root is `<filter>`.
    pub fn parse(text: &str) -> Result<NWFilterDef> {
        let root = xml::parse(text, "(nwfilter_definition)", ERROR_DOMAIN)?;
        if root.name != "filter" {
            return Err(Error::new(
                ErrorDomain::XML,
                ErrorCode::XML_ERROR,
                format!("expecting root element of 'filter', not '{}'", root.name),
            ));
        }
        Self::parse_element(&root)
    }

    /// `virNWFilterDefParseXML`.
    pub fn parse_element(root: &Element) -> Result<NWFilterDef> {
        let name = attr(root, "name").ok_or_else(|| internal("filter has no name".into()))?;
        let priority = match attr(root, "priority") {
            None => None,
            Some(p) => {
                let v = rule::parse_i32(&p).ok_or_else(|| {
                    err(
                        ErrorCode::INVALID_ARG,
                        format!("Could not parse chain priority '{p}'"),
                    )
                })?;
                if !(MIN_FILTER_PRIORITY..=MAX_FILTER_PRIORITY).contains(&v) {
                    return Err(err(
                        ErrorCode::INVALID_ARG,
                        format!(
                            "Priority '{v}' is outside valid range of \
                             [{MIN_FILTER_PRIORITY},{MAX_FILTER_PRIORITY}]"
                        ),
                    ));
                }
                Some(v)
            }
        };
        let (chain, chain_priority) = match attr(root, "chain") {
            Some(chain) => {
                let prefix = allowed_chain(&chain)?;
                let p = priority.unwrap_or_else(|| default_chain_priority(prefix));
                (chain, p)
            }
            None => ("root".to_string(), 0),
        };
        let uuid_text = root.child("uuid").map(Element::text);
        let uuid_text = uuid_text.filter(|t| !t.is_empty());
        let uuid = match &uuid_text {
            None => rvirt_util::uuid::generate(),
            Some(t) => rvirt_util::uuid::parse(t)
                .ok_or_else(|| err(ErrorCode::XML_ERROR, "malformed uuid element"))?,
        };
        let mut entries = Vec::new();
        for e in root.elements() {
            match e.name.as_str() {
                "rule" => entries.push(Entry::Rule(RuleDef::parse(e)?)),
                "filterref" => {
                    let include = FilterRef::parse(e).ok_or_else(|| {
                        // libvirt's words for a missing filter name.
                        internal("rule node requires action attribute".into())
                    })?;
                    entries.push(Entry::Include(include));
                }
                _ => {}
            }
        }
        Ok(NWFilterDef {
            name,
            uuid: *uuid.as_bytes(),
            uuid_specified: uuid_text.is_some(),
            chain,
            chain_priority,
            entries,
        })
    }

    pub fn uuid_string(&self) -> String {
        rvirt_util::uuid::Uuid::from_bytes(self.uuid).to_string()
    }

    /// `virNWFilterDefFormat`.
    pub fn format(&self) -> String {
        // libvirt writes the name and chain with %s, unescaped.
        let mut head = format!("<filter name='{}' chain='{}'", self.name, self.chain);
        if self.chain_priority != 0 {
            head.push_str(&format!(" priority='{}'", self.chain_priority));
        }
        let mut w = Writer::new();
        w.line(&format!("{head}>"));
        w.indent();
        w.line(&format!("<uuid>{}</uuid>", self.uuid_string()));
        for entry in &self.entries {
            match entry {
                Entry::Rule(r) => r.format(&mut w),
                Entry::Include(f) => f.format(&mut w),
            }
        }
        w.dedent();
        w.line("</filter>");
        w.finish()
    }
}

#[cfg(test)]
mod tests;
