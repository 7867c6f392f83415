//! `<sysinfo>`: the SMBIOS tables or firmware config entries a guest is
//! given (`virSysinfoParseXML`, `virSysinfoFormat`).

use super::props::{self, vir_enum, VirEnum};
use super::{internal_xml, sanitize_path};
use crate::xml::{escape, Element, Writer};
use rvirt_util::{uuid, Error, ErrorCode, ErrorDomain, Result};

vir_enum! {
    /// `virSysinfoType`.
    pub enum SysinfoType { Smbios = "smbios", Fwcfg = "fwcfg" }
}

/// Named `<entry>`s of one SMBIOS table, in libvirt's order; `None`
/// for an absent or empty entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub entries: Vec<(&'static str, Option<String>)>,
}

const BIOS: &[&str] = &["vendor", "version", "date", "release"];
const SYSTEM: &[&str] = &[
    "manufacturer",
    "product",
    "version",
    "serial",
    "uuid",
    "sku",
    "family",
];
const BASE_BOARD: &[&str] = &[
    "manufacturer",
    "product",
    "version",
    "serial",
    "asset",
    "location",
];
const CHASSIS: &[&str] = &["manufacturer", "version", "serial", "asset", "sku"];

/// One firmware config entry: a value or a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FwCfgEntry {
    pub name: String,
    pub value: Option<String>,
    pub file: Option<String>,
}

/// `<sysinfo>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sysinfo {
    pub sysinfo_type: SysinfoType,
    /// SMBIOS: bios, system, the base boards and chassis (only those
    /// with an entry set).
    pub tables: Vec<Table>,
    pub oem_strings: Option<Vec<String>>,
    pub fw_cfg: Vec<FwCfgEntry>,
}

fn detail(msg: &str) -> Error {
    Error::new(ErrorDomain::DOMAIN, ErrorCode::XML_DETAIL, msg)
}

/// `string(entry[@name='NAME'])` of each name; `None` when all are unset.
fn table(e: &Element, name: &'static str, names: &[&'static str]) -> Option<Table> {
    let entries: Vec<(&'static str, Option<String>)> = names
        .iter()
        .map(|n| {
            let entry = e
                .children_named("entry")
                .find(|x| x.attr("name") == Some(n));
            (*n, entry.map(Element::text).filter(|t| !t.is_empty()))
        })
        .collect();
    let any = entries.iter().any(|(_, v)| v.is_some());
    any.then_some(Table { name, entries })
}

/// `mm/dd/yy` or `mm/dd/yyyy` (1900 on).
fn check_bios_date(date: &str) -> Result<()> {
    let parts: Vec<Option<i32>> = date
        .split('/')
        .map(|p| p.trim_start().parse().ok())
        .collect();
    let ok = match parts[..] {
        [Some(m), Some(d), Some(y)] => {
            let year_ok = (0..100).contains(&y) || y >= 1900;
            (1..=12).contains(&m) && (1..=31).contains(&d) && year_ok
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(detail("Invalid BIOS 'date' format"))
    }
}

impl Sysinfo {
    /// Every `<sysinfo>`; `uuid` is the domain's, `None` when it was not
    /// given (then the system table's UUID becomes it).
    pub(crate) fn parse_all(root: &Element, uuid: &mut Option<uuid::Uuid>) -> Result<Vec<Sysinfo>> {
        root.children_named("sysinfo")
            .map(|e| Sysinfo::parse(e, uuid))
            .collect()
    }

    fn parse(e: &Element, dom_uuid: &mut Option<uuid::Uuid>) -> Result<Sysinfo> {
        let sysinfo_type = props::enumeration(e, "type", true)?.unwrap_or(SysinfoType::Smbios);
        let mut s = Sysinfo {
            sysinfo_type,
            tables: Vec::new(),
            oem_strings: None,
            fw_cfg: Vec::new(),
        };
        match sysinfo_type {
            SysinfoType::Smbios => s.parse_smbios(e, dom_uuid)?,
            SysinfoType::Fwcfg => s.fw_cfg = parse_fw_cfg(e)?,
        }
        Ok(s)
    }

    fn parse_smbios(&mut self, e: &Element, dom_uuid: &mut Option<uuid::Uuid>) -> Result<()> {
        if let Some(b) = e.child("bios") {
            let t = table(b, "bios", BIOS);
            let date = t.as_ref().and_then(|t| t.entries[2].1.as_deref());
            if let Some(d) = date {
                check_bios_date(d)?;
            }
            self.tables.extend(t);
        }
        if let Some(sys) = e.child("system") {
            let mut t = table(sys, "system", SYSTEM);
            if let Some(u) = t.as_mut().and_then(|t| t.entries[4].1.as_mut()) {
                let parsed = uuid::parse(&u.replace(' ', ""))
                    .ok_or_else(|| detail("malformed <sysinfo> uuid element"))?;
                match dom_uuid {
                    None => *dom_uuid = Some(parsed),
                    Some(d) if *d != parsed => {
                        return Err(detail("UUID mismatch between <uuid> and <sysinfo>"))
                    }
                    Some(_) => {}
                }
                *u = parsed.hyphenated().to_string();
            }
            self.tables.extend(t);
        }
        for b in e.children_named("baseBoard") {
            self.tables.extend(table(b, "baseBoard", BASE_BOARD));
        }
        if let Some(c) = e.child("chassis") {
            self.tables.extend(table(c, "chassis", CHASSIS));
        }
        if let Some(o) = e.child("oemStrings") {
            let values: Vec<String> = o.children_named("entry").map(Element::text).collect();
            self.oem_strings = (!values.is_empty()).then_some(values);
        }
        Ok(())
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let a = format!(" type='{}'", self.sysinfo_type.as_str());
        w.elem_with("sysinfo", &a, |w| {
            for t in &self.tables {
                w.elem_with(t.name, "", |w| {
                    for (name, v) in &t.entries {
                        if let Some(v) = v {
                            w.line(&format!("<entry name='{name}'>{}</entry>", escape(v)));
                        }
                    }
                });
            }
            if let Some(oem) = &self.oem_strings {
                w.elem_with("oemStrings", "", |w| {
                    oem.iter()
                        .for_each(|v| w.line(&format!("<entry>{}</entry>", escape(v))))
                });
            }
            for f in &self.fw_cfg {
                match (&f.file, &f.value) {
                    (Some(file), _) => w.line(&format!(
                        "<entry name='{}' file='{}'/>",
                        f.name,
                        escape(file)
                    )),
                    (None, v) => w.line(&format!(
                        "<entry name='{}'>{}</entry>",
                        f.name,
                        escape(v.as_deref().unwrap_or(""))
                    )),
                }
            }
        });
    }
}

/// `virSysinfoParseFWCfgDef`.
fn parse_fw_cfg(e: &Element) -> Result<Vec<FwCfgEntry>> {
    e.children_named("entry")
        .map(|x| {
            let Some(name) = x.attr_string("name") else {
                return Err(internal_xml("Firmware entry is missing 'name' attribute"));
            };
            let value = Some(x.text()).filter(|v| !v.trim().is_empty());
            let file = x.attr("file").map(sanitize_path);
            if value.is_none() && file.is_none() {
                return Err(internal_xml(
                    "Firmware entry must have either value or 'file' attribute",
                ));
            }
            Ok(FwCfgEntry { name, value, file })
        })
        .collect()
}
