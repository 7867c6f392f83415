//! `<bandwidth>`: inbound/outbound rate limits of an interface
//! (`virNetDevBandwidthParse` / `virNetDevBandwidthFormat`).

use crate::xml::{Attrs, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// One direction's rates; 0 is libvirt's "unset".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rate {
    pub average: u64,
    pub peak: u64,
    pub floor: u64,
    pub burst: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bandwidth {
    pub inbound: Option<Rate>,
    pub outbound: Option<Rate>,
}

/// The bandwidth code reports from no particular domain.
fn error(code: ErrorCode, msg: String) -> Error {
    Error::new(ErrorDomain::NONE, code, msg)
}

/// `virStrToLong_ullp`: decimal, no sign.
fn rate_value(e: &Element, name: &str) -> Result<u64> {
    let Some(v) = e.attr(name) else {
        return Ok(0);
    };
    v.trim_start().parse::<u64>().ok().ok_or_else(|| {
        error(
            ErrorCode::CONFIG_UNSUPPORTED,
            format!("could not convert bandwidth {name} value '{v}'"),
        )
    })
}

impl Rate {
    /// `virNetDevBandwidthParseRate`.
    fn parse(e: &Element) -> Result<Rate> {
        let has = |n| e.attr(n).is_some();
        if !has("average") && !has("floor") {
            let msg = "Missing mandatory average or floor attributes".to_string();
            return Err(error(ErrorCode::XML_DETAIL, msg));
        }
        if (has("peak") || has("burst")) && !has("average") {
            let msg = "'peak' and 'burst' require 'average' attribute".to_string();
            return Err(error(ErrorCode::CONFIG_UNSUPPORTED, msg));
        }
        Ok(Rate {
            average: rate_value(e, "average")?,
            peak: rate_value(e, "peak")?,
            burst: rate_value(e, "burst")?,
            floor: rate_value(e, "floor")?,
        })
    }

    /// `virNetDevBandwidthRateFormat`: nothing without average or floor.
    fn format(&self, w: &mut Writer, elem: &str) {
        if self.average == 0 && self.floor == 0 {
            return;
        }
        let mut a = Attrs::new();
        let nonzero = |v: u64| (v != 0).then_some(v);
        a.opt("average", nonzero(self.average));
        a.opt("peak", nonzero(self.peak));
        a.opt("floor", nonzero(self.floor));
        a.opt("burst", nonzero(self.burst));
        w.line(&format!("<{elem}{}/>", a.as_str()));
    }
}

impl Bandwidth {
    /// `allow_floor`: inbound `floor` is for interfaces on a network only.
    pub(crate) fn parse(e: &Element, allow_floor: bool) -> Result<Option<Bandwidth>> {
        if e.attr("classID").is_some() {
            let msg = "classID attribute not supported on <bandwidth> in this usage context";
            return Err(error(ErrorCode::XML_DETAIL, msg.to_string()));
        }
        let one = |name: &str| -> Result<Option<Rate>> {
            let mut all = e.children_named(name);
            let first = all.next();
            if all.next().is_some() {
                let msg = format!("Only one child <{name}> element allowed");
                return Err(error(ErrorCode::XML_DETAIL, msg));
            }
            first.map(Rate::parse).transpose()
        };
        let (inbound, outbound) = (one("inbound")?, one("outbound")?);
        if inbound.is_some_and(|r| r.floor != 0) && !allow_floor {
            let msg = "floor attribute is not supported for this config".to_string();
            return Err(error(ErrorCode::CONFIG_UNSUPPORTED, msg));
        }
        if outbound.is_some_and(|r| r.floor != 0) {
            let msg = "'floor' attribute allowed only in <inbound> element".to_string();
            return Err(error(ErrorCode::CONFIG_UNSUPPORTED, msg));
        }
        if inbound.is_none() && outbound.is_none() {
            return Ok(None);
        }
        Ok(Some(Bandwidth { inbound, outbound }))
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        w.block("bandwidth", "", |w| {
            if let Some(r) = &self.inbound {
                r.format(w, "inbound");
            }
            if let Some(r) = &self.outbound {
                r.format(w, "outbound");
            }
        });
    }
}
