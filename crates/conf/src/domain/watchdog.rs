//! `<watchdog>`: the guest's watchdog timer (`virDomainWatchdogDef`),
//! parsed as `virDomainWatchdogDefParseXML` and formatted as
//! `virDomainWatchdogDefFormat`. libvirt 9.0 keeps one.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::internal;
use super::props::{self, vir_enum, VirEnum};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainWatchdogModel`.
    pub enum WatchdogModel { I6300esb = "i6300esb", Ib700 = "ib700", Diag288 = "diag288" }

    /// `virDomainWatchdogAction` (reset when absent).
    pub enum WatchdogAction {
        Reset = "reset", Shutdown = "shutdown", Poweroff = "poweroff", Pause = "pause",
        Dump = "dump", None = "none", InjectNmi = "inject-nmi",
    }
}

/// `<watchdog>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watchdog {
    pub model: WatchdogModel,
    pub action: WatchdogAction,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

impl Watchdog {
    pub(crate) fn parse(e: &Element) -> Result<Watchdog> {
        let missing = internal("watchdog must contain model name");
        let model = props::named_value(e, "model", missing, "unknown watchdog model")?;
        let action = match e.attr("action") {
            None => WatchdogAction::Reset,
            Some(a) => WatchdogAction::parse_named(a, "watchdog action")?,
        };
        Ok(Watchdog {
            model,
            action,
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
        })
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let attrs = format!(
            " model='{}' action='{}'",
            self.model.as_str(),
            self.action.as_str()
        );
        w.elem_with("watchdog", &attrs, |w| {
            format_info_addr(&self.info, &self.address, w)
        });
    }
}
