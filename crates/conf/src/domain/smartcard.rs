//! `<smartcard>` (`virDomainSmartcardDef`): parsed as
//! `virDomainSmartcardDefParseXML`, addressed and given its CCID
//! controller as `virDomainDefMaybeAddSmartcardController`, checked as
//! `virDomainSmartcardDefValidate`, formatted as
//! `virDomainSmartcardDefFormat`.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::chardev::{ChrSource, ChrType};
use super::controller::ControllerType;
use super::devices::Controller;
use super::{esc, internal_xml, unsupported};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

/// The card's mode and its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmartcardMode {
    Host,
    /// Three certificate files and an optional database directory.
    HostCertificates {
        certificates: [String; 3],
        database: Option<String>,
    },
    /// A character device carrying the card.
    Passthrough(Box<ChrSource>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smartcard {
    pub mode: SmartcardMode,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

fn parse_certificates(e: &Element) -> Result<SmartcardMode> {
    let certs: Vec<String> = e.children_named("certificate").map(|c| c.text()).collect();
    let Ok(certificates) = <[String; 3]>::try_from(certs) else {
        return Err(internal_xml(
            "host-certificates mode needs exactly three certificates",
        ));
    };
    let database = e.child("database").map(|d| d.text());
    if let Some(d) = database.as_deref().filter(|d| !d.starts_with('/')) {
        return Err(internal_xml(format!("expecting absolute path: {d}")));
    }
    Ok(SmartcardMode::HostCertificates {
        certificates,
        database,
    })
}

fn parse_passthrough(e: &Element) -> Result<SmartcardMode> {
    let Some(t) = e.attr("type") else {
        return Err(internal_xml(
            "passthrough mode requires a character device type attribute",
        ));
    };
    let chr_type = ChrType::parse_host(t)?;
    Ok(SmartcardMode::Passthrough(Box::new(ChrSource::parse(
        e, chr_type,
    )?)))
}

impl Smartcard {
    pub(crate) fn parse(e: &Element) -> Result<Smartcard> {
        let mode = match e.attr("mode") {
            None => {
                return Err(internal_xml(
                    "Missing required attribute 'mode' in element 'smartcard'",
                ))
            }
            Some("host") => SmartcardMode::Host,
            Some("host-certificates") => parse_certificates(e)?,
            Some("passthrough") => parse_passthrough(e)?,
            Some(m) => {
                return Err(internal_xml(format!(
                    "Invalid value for attribute 'mode' in element 'smartcard': '{m}'."
                )))
            }
        };
        let card = Smartcard {
            mode,
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
        };
        let ccid = matches!(card.address, None | Some(Address::Ccid { .. }));
        if !ccid {
            return Err(unsupported("Controllers must use the 'ccid' address type"));
        }
        if let SmartcardMode::Passthrough(src) = &card.mode {
            src.validate(false)?;
        }
        Ok(card)
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let attrs = match &self.mode {
            SmartcardMode::Host => " mode='host'".to_string(),
            SmartcardMode::HostCertificates { .. } => " mode='host-certificates'".to_string(),
            SmartcardMode::Passthrough(src) => format!(" mode='passthrough'{}", src.type_attr()),
        };
        w.elem_with("smartcard", &attrs, |w| {
            match &self.mode {
                SmartcardMode::Host => {}
                SmartcardMode::HostCertificates {
                    certificates,
                    database,
                } => {
                    for c in certificates {
                        w.line(&format!("<certificate>{}</certificate>", esc(c)));
                    }
                    if let Some(d) = database {
                        w.line(&format!("<database>{}</database>", esc(d)));
                    }
                }
                SmartcardMode::Passthrough(src) => src.format(w),
            }
            format_info_addr(&self.info, &self.address, w);
        });
    }
}

/// `virDomainDefMaybeAddSmartcardController`: unaddressed cards take the
/// next slot of CCID controller 0, and each controller used must exist.
pub(crate) fn add_ccid_controllers(cards: &mut [Smartcard], controllers: &mut Vec<Controller>) {
    for i in 0..cards.len() {
        let controller = match cards[i].address {
            Some(Address::Ccid { controller, .. }) => controller,
            _ => {
                let slot = cards
                    .iter()
                    .filter_map(|c| match c.address {
                        Some(Address::Ccid {
                            controller: 0,
                            slot,
                        }) => Some(slot as i64),
                        _ => None,
                    })
                    .max()
                    .unwrap_or(-1);
                cards[i].address = Some(Address::Ccid {
                    controller: 0,
                    slot: (slot + 1) as u32,
                });
                0
            }
        };
        let index = controller as i32;
        if !controllers
            .iter()
            .any(|c| c.controller_type == ControllerType::Ccid && c.index == index)
        {
            // virDomainDefMaybeAddController appends.
            controllers.push(Controller::new(ControllerType::Ccid, index));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn smartcards_as_virsh() {
        let out = dump(
            "<smartcard mode='host'/><smartcard mode='passthrough' type='tcp'>\
             <source mode='connect' host='h' service='2'/></smartcard>",
        )
        .unwrap();
        let want = "    <controller type='ccid' index='0'/>
    <smartcard mode='host'>
      <address type='ccid' controller='0' slot='0'/>
    </smartcard>
    <smartcard mode='passthrough' type='tcp'>
      <source mode='connect' host='h' service='2'/>
      <protocol type='raw'/>
      <address type='ccid' controller='0' slot='1'/>
    </smartcard>
";
        assert!(out.contains(want), "{out}");
        assert_errors(
            dump,
            &[
                (
                    "<smartcard mode='host-certificates'><certificate>a</certificate></smartcard>",
                    "XML error: host-certificates mode needs exactly three certificates",
                ),
                (
                    "<smartcard mode='host'><address type='pci'/></smartcard>",
                    "unsupported configuration: Controllers must use the 'ccid' address type",
                ),
                (
                    "<smartcard mode='passthrough'/>",
                    "XML error: passthrough mode requires a character device type attribute",
                ),
            ],
        );
    }
}
