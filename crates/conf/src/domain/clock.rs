//! `<clock>` and its `<timer>`s: `virDomainDefClockParse`,
//! `virDomainTimerDefParseXML` and their formatters.

use super::props::{self, vir_enum, TriBool, VirEnum};
use super::{internal, internal_xml};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainClockOffset`.
    pub enum ClockOffset {
        Utc = "utc", Localtime = "localtime", Variable = "variable",
        Timezone = "timezone", Absolute = "absolute",
    }

    /// `virDomainClockBasis`.
    pub enum ClockBasis { Utc = "utc", Localtime = "localtime" }

    /// `virDomainTimerName`.
    pub enum TimerName {
        Platform = "platform", Pit = "pit", Rtc = "rtc", Hpet = "hpet", Tsc = "tsc",
        Kvmclock = "kvmclock", Hypervclock = "hypervclock", Armvtimer = "armvtimer",
    }

    /// `virDomainTimerTrack` without its `none`.
    pub enum TimerTrack { Boot = "boot", Guest = "guest", Wall = "wall", Realtime = "realtime" }

    /// `virDomainTimerTickpolicy` without its `none`.
    pub enum TickPolicy { Delay = "delay", Catchup = "catchup", Merge = "merge", Discard = "discard" }

    /// `virDomainTimerMode` without its `none`.
    pub enum TimerMode {
        Auto = "auto", Native = "native", Emulate = "emulate", Paravirt = "paravirt",
        Smpsafe = "smpsafe",
    }
}

/// `<timer>` inside `<clock>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timer {
    pub name: TimerName,
    pub present: Option<TriBool>,
    pub tickpolicy: Option<TickPolicy>,
    pub track: Option<TimerTrack>,
    /// TSC only, as written.
    pub frequency: u64,
    pub mode: Option<TimerMode>,
    /// `<catchup threshold slew limit>`; 0 is unset.
    pub catchup: [u64; 3],
}

/// `<clock>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockDef {
    pub offset: ClockOffset,
    /// `adjustment='reset'` of a UTC or local time clock.
    pub utc_reset: bool,
    /// Variable offset: seconds from `basis`.
    pub adjustment: i64,
    pub basis: ClockBasis,
    pub timezone: Option<String>,
    /// Absolute offset: the guest's start time (epoch seconds).
    pub start: u64,
    pub timers: Vec<Timer>,
}

impl Default for ClockDef {
    fn default() -> ClockDef {
        ClockDef {
            offset: ClockOffset::Utc,
            utc_reset: false,
            adjustment: 0,
            basis: ClockBasis::Utc,
            timezone: None,
            start: 0,
            timers: Vec::new(),
        }
    }
}

/// `virXMLPropULongLong` (base 10); absent is 0.
fn ull(e: &Element, name: &str) -> Result<u64> {
    let Some(v) = e.attr(name) else { return Ok(0) };
    v.trim_start()
        .parse()
        .map_err(|_| props::invalid_uint(e, name, v))
}

impl Timer {
    fn parse(t: &Element) -> Result<Timer> {
        let name = props::enumeration(t, "name", true)?.unwrap_or(TimerName::Platform);
        let mut timer = Timer {
            name,
            present: props::tribool(t, "present")?,
            tickpolicy: props::enumeration(t, "tickpolicy", false)?,
            track: props::enumeration(t, "track", false)?,
            frequency: ull(t, "frequency")?,
            mode: props::enumeration(t, "mode", false)?,
            catchup: [0; 3],
        };
        if let Some(c) = t.child("catchup") {
            timer.catchup = [ull(c, "threshold")?, ull(c, "slew")?, ull(c, "limit")?];
        }
        Ok(timer)
    }

    fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("name", self.name.as_str());
        a.opt("present", self.present.map(TriBool::as_str));
        a.opt("tickpolicy", self.tickpolicy.map(TickPolicy::as_str));
        a.opt("track", self.track.map(TimerTrack::as_str));
        if self.name == TimerName::Tsc {
            a.opt("frequency", Some(self.frequency).filter(|f| *f > 0));
            a.opt("mode", self.mode.map(TimerMode::as_str));
        }
        w.elem_with("timer", a.as_str(), |w| {
            let mut c = Attrs::new();
            for (name, v) in ["threshold", "slew", "limit"].iter().zip(self.catchup) {
                a_opt_nonzero(&mut c, name, v);
            }
            w.attrs_elem("catchup", c.as_str());
        });
    }
}

fn a_opt_nonzero(a: &mut Attrs, name: &str, v: u64) {
    if v > 0 {
        a.add(name, v);
    }
}

impl ClockDef {
    /// `virDomainDefClockParse`.
    pub(crate) fn parse(root: &Element) -> Result<ClockDef> {
        let mut def = ClockDef::default();
        let Some(c) = root.child("clock") else {
            return Ok(def);
        };
        if let Some(o) = c.attr("offset").filter(|o| !o.is_empty()) {
            def.offset = ClockOffset::parse_named(o, "clock offset")?;
        }
        let adjustment = c.attr("adjustment").filter(|a| !a.is_empty());
        match def.offset {
            ClockOffset::Utc | ClockOffset::Localtime => match adjustment {
                Some("reset") => def.utc_reset = true,
                Some(a) => {
                    def.adjustment = a
                        .trim_start()
                        .parse()
                        .map_err(|_| internal_xml(format!("unknown clock adjustment '{a}'")))?;
                    def.basis = match def.offset {
                        ClockOffset::Localtime => ClockBasis::Localtime,
                        _ => ClockBasis::Utc,
                    };
                    def.offset = ClockOffset::Variable;
                }
                None => {}
            },
            ClockOffset::Variable => {
                def.adjustment = adjustment.and_then(|a| a.parse().ok()).unwrap_or(0);
                if let Some(b) = c.attr("basis").filter(|b| !b.is_empty()) {
                    def.basis = ClockBasis::parse_named(b, "clock basis")?;
                }
            }
            ClockOffset::Timezone => {
                def.timezone = c.attr_string("timezone").filter(|t| !t.is_empty());
                if def.timezone.is_none() {
                    return Err(internal(
                        "missing 'timezone' attribute for clock with offset='timezone'",
                    ));
                }
            }
            ClockOffset::Absolute => {
                def.start = c
                    .attr("start")
                    .and_then(|s| s.trim_start().parse().ok())
                    .ok_or_else(|| {
                        internal("missing 'start' attribute for clock with offset='absolute'")
                    })?;
            }
        }
        def.timers = c
            .children_named("timer")
            .map(Timer::parse)
            .collect::<Result<_>>()?;
        Ok(def)
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("offset", self.offset.as_str());
        match self.offset {
            ClockOffset::Utc | ClockOffset::Localtime if self.utc_reset => {
                a.add("adjustment", "reset");
            }
            ClockOffset::Variable => {
                a.add("adjustment", self.adjustment);
                a.add("basis", self.basis.as_str());
            }
            ClockOffset::Timezone => {
                a.opt("timezone", self.timezone.as_deref());
            }
            ClockOffset::Absolute => {
                a.add("start", self.start);
            }
            _ => {}
        }
        w.elem_with("clock", a.as_str(), |w| {
            self.timers.iter().for_each(|t| t.format(w))
        });
    }
}
