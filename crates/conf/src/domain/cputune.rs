//! `<cputune>`: CPU bandwidth and pinning (`virDomainCputune`), parsed as
//! in `virDomainDefTunablesParse`, checked as `virDomainDefCputuneValidate`
//! and formatted as `virDomainCputuneDefFormat`. Resctrl tunes (cache,
//! memory bandwidth) are in [`super::resctrl`].

use super::iothreads::IoThreads;
use super::resctrl::{self, Resctrl};
use super::sched::Schedulers;
use super::{format_bitmap, internal, internal_xml, props, unsupported};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

/// `VIR_CGROUP_CPU_SHARES_MIN/MAX`, `..._PERIOD_...`, `..._QUOTA_...`.
const SHARES: (u64, u64) = (2, 262144);
const PERIOD: (u64, u64) = (1000, 1000000);
const QUOTA: (u64, u64) = (1000, 17592186044415);

/// A cgroup bandwidth pair; 0 is unset for both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bandwidth {
    pub period: u64,
    pub quota: i64,
}

/// `<cputune>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cputune {
    /// `Some` when given, even 0.
    pub shares: Option<u64>,
    pub vcpus: Bandwidth,
    pub global: Bandwidth,
    pub emulator: Bandwidth,
    pub iothread: Bandwidth,
    /// (vCPU, host CPUs), by vCPU.
    pub vcpupins: Vec<(u32, Vec<u32>)>,
    pub emulatorpin: Option<Vec<u32>>,
    /// (IOThread ID, host CPUs), in the order of the IOThread IDs.
    pub iothreadpins: Vec<(u32, Vec<u32>)>,
    pub schedulers: Schedulers,
    /// `<cachetune>`/`<memorytune>` groups.
    pub resctrls: Vec<Resctrl>,
}

/// `virXPathULongLong`/`virXPathLongLong` of `<cputune><NAME>`: 0 when
/// absent, libvirt's message when not a number.
fn number<T: std::str::FromStr + Default>(
    c: &Element,
    name: &str,
    what: &str,
) -> Result<Option<T>> {
    let Some(text) = c.child(name).map(Element::text).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    text.trim()
        .parse()
        .map(Some)
        .map_err(|_| internal_xml(format!("can't parse cputune {what} value")))
}

fn bandwidth(c: &Element, prefix: &str, what: &str) -> Result<Bandwidth> {
    let name = |n: &str| format!("{prefix}{n}");
    let label = |n: &str| format!("{what}{n}");
    Ok(Bandwidth {
        period: number(c, &name("period"), &label("period"))?.unwrap_or(0),
        quota: number(c, &name("quota"), &label("quota"))?.unwrap_or(0),
    })
}

/// A `cpuset` attribute naming at least one host CPU; `missing` names the
/// element in libvirt's message.
fn cpuset(e: &Element, missing: &str) -> Result<Vec<u32>> {
    let Some(set) = e.attr("cpuset") else {
        return Err(internal(format!("missing cpuset for {missing}")));
    };
    let bits = props::bitmap(set)?;
    if bits.is_empty() {
        return Err(unsupported(format!("Invalid value of 'cpuset': {set}")));
    }
    Ok(bits)
}

impl Cputune {
    /// `max_vcpus` bounds the pinned vCPUs (others are ignored, as in
    /// libvirt); IOThread pins must name an existing IOThread.
    pub(crate) fn parse(root: &Element, max_vcpus: u32, iothreads: &IoThreads) -> Result<Cputune> {
        let Some(c) = root.child("cputune") else {
            return Ok(Cputune::default());
        };
        let mut tune = Cputune {
            shares: number(c, "shares", "shares")?,
            vcpus: bandwidth(c, "", "")?,
            global: bandwidth(c, "global_", "global ")?,
            emulator: bandwidth(c, "emulator_", "emulator ")?,
            iothread: bandwidth(c, "iothread_", "iothread ")?,
            ..Cputune::default()
        };
        for pin in c.children_named("vcpupin") {
            tune.add_vcpupin(pin, max_vcpus)?;
        }
        let mut emulatorpins = c.children_named("emulatorpin");
        if let Some(pin) = emulatorpins.next() {
            if emulatorpins.next().is_some() {
                return Err(internal_xml("only one emulatorpin is supported"));
            }
            tune.emulatorpin = Some(cpuset(pin, "emulatorpin")?);
        }
        for pin in c.children_named("iothreadpin") {
            tune.add_iothreadpin(pin, iothreads)?;
        }
        let position = |id: u32| iothreads.ids.iter().position(|t| t.id == id);
        tune.iothreadpins.sort_by_key(|(id, _)| position(*id));
        tune.schedulers = Schedulers::parse(c, max_vcpus, iothreads)?;
        tune.resctrls = resctrl::parse(c, max_vcpus)?;
        Ok(tune)
    }

    fn add_vcpupin(&mut self, pin: &Element, max_vcpus: u32) -> Result<()> {
        let vcpu = props::uint(pin, "vcpu", true, false)?.unwrap_or(0);
        if vcpu >= max_vcpus {
            return Ok(());
        }
        if pin.attr("cpuset").is_none() {
            return Err(internal("missing cpuset for vcpupin"));
        }
        if self.vcpupins.iter().any(|(v, _)| *v == vcpu) {
            return Err(internal(format!("duplicate vcpupin for vcpu '{vcpu}'")));
        }
        let at = self.vcpupins.partition_point(|(v, _)| *v < vcpu);
        self.vcpupins.insert(at, (vcpu, cpuset(pin, "vcpupin")?));
        Ok(())
    }

    fn add_iothreadpin(&mut self, pin: &Element, iothreads: &IoThreads) -> Result<()> {
        let id = props::uint(pin, "iothread", true, true)?.unwrap_or(0);
        if !iothreads.ids.iter().any(|t| t.id == id) {
            return Err(unsupported(format!("Cannot find 'iothread' : {id}")));
        }
        let set = cpuset(pin, "iothreadpin")?;
        if self.iothreadpins.iter().any(|(t, _)| *t == id) {
            return Err(internal(format!(
                "duplicate iothreadpin for same iothread '{id}'"
            )));
        }
        self.iothreadpins.push((id, set));
        Ok(())
    }

    /// The bandwidth groups with their element-name prefixes, in libvirt's
    /// order.
    fn bandwidths(&self) -> [(&'static str, Bandwidth); 4] {
        [
            ("", self.vcpus),
            ("global_", self.global),
            ("emulator_", self.emulator),
            ("iothread_", self.iothread),
        ]
    }

    /// `virDomainDefCputuneValidate`: the cgroup ranges.
    pub(crate) fn validate(&self) -> Result<()> {
        let out_of = |name: &str, (min, max): (u64, u64)| {
            Err(unsupported(format!(
                "Value of cputune '{name}' must be in range [{min}, {max}]"
            )))
        };
        let outside = |v: u64, (min, max): (u64, u64)| v > 0 && (v < min || v > max);
        if self.shares.is_some_and(|s| outside(s, SHARES)) {
            return out_of("shares", SHARES);
        }
        let groups = self.bandwidths();
        for (prefix, b) in groups {
            if outside(b.period, PERIOD) {
                return out_of(&format!("{prefix}period"), PERIOD);
            }
        }
        for (prefix, b) in groups {
            if b.quota > 0 && outside(b.quota as u64, QUOTA) {
                return out_of(&format!("{prefix}quota"), QUOTA);
            }
        }
        Ok(())
    }

    /// `live`: the live definition of a running domain (resctrl groups
    /// show their allocation IDs).
    pub(crate) fn format(&self, w: &mut Writer, live: bool) {
        if *self == Cputune::default() {
            return;
        }
        w.elem_with("cputune", "", |w| {
            if let Some(s) = self.shares {
                w.line(&format!("<shares>{s}</shares>"));
            }
            for (prefix, b) in self.bandwidths() {
                if b.period != 0 {
                    w.line(&format!("<{prefix}period>{}</{prefix}period>", b.period));
                }
                if b.quota != 0 {
                    w.line(&format!("<{prefix}quota>{}</{prefix}quota>", b.quota));
                }
            }
            for (vcpu, set) in &self.vcpupins {
                let set = format_bitmap(set);
                w.line(&format!("<vcpupin vcpu='{vcpu}' cpuset='{set}'/>"));
            }
            if let Some(set) = &self.emulatorpin {
                w.line(&format!("<emulatorpin cpuset='{}'/>", format_bitmap(set)));
            }
            for (id, set) in &self.iothreadpins {
                let set = format_bitmap(set);
                w.line(&format!("<iothreadpin iothread='{id}' cpuset='{set}'/>"));
            }
            self.schedulers.format(w);
            resctrl::format(&self.resctrls, w, live);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_before_os};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn cputune_as_virsh() {
        assert_dump_holds(
            dump_before_os,
            "<vcpu>4</vcpu><iothreads>2</iothreads><cputune><iothread_quota>-1</iothread_quota>\
             <shares>0</shares><quota>-1</quota><period>100000</period><vcpupin vcpu='1' cpuset='0,1'/>\
             <vcpupin vcpu='0' cpuset='2-3,^3'/><vcpupin vcpu='9' cpuset='1'/><iothreadpin iothread='2' cpuset='1'/>\
             <iothreadpin iothread='1' cpuset='0'/><emulatorpin cpuset='1-3'/></cputune>",
            "  <iothreads>2</iothreads>
  <cputune>
    <shares>0</shares>
    <period>100000</period>
    <quota>-1</quota>
    <iothread_quota>-1</iothread_quota>
    <vcpupin vcpu='0' cpuset='2'/>
    <vcpupin vcpu='1' cpuset='0-1'/>
    <emulatorpin cpuset='1-3'/>
    <iothreadpin iothread='1' cpuset='0'/>
    <iothreadpin iothread='2' cpuset='1'/>
  </cputune>
",
        );
        assert_errors(
            dump_before_os,
            &[
                ("<cputune><shares>x</shares></cputune>", "XML error: can't parse cputune shares value"),
                ("<cputune><emulator_period>-</emulator_period></cputune>", "XML error: can't parse cputune emulator period value"),
                ("<cputune><shares>1</shares></cputune>", "unsupported configuration: Value of cputune 'shares' must be in range [2, 262144]"),
                ("<cputune><global_period>10</global_period></cputune>", "unsupported configuration: Value of cputune 'global_period' must be in range [1000, 1000000]"),
                ("<cputune><vcpupin vcpu='0'/></cputune>", "internal error: missing cpuset for vcpupin"),
                ("<cputune><vcpupin vcpu='0' cpuset='1'/><vcpupin vcpu='0' cpuset='2'/></cputune>", "internal error: duplicate vcpupin for vcpu '0'"),
                ("<cputune><emulatorpin cpuset='0'/><emulatorpin cpuset='1'/></cputune>", "XML error: only one emulatorpin is supported"),
                ("<cputune><iothreadpin iothread='1' cpuset='0'/></cputune>", "unsupported configuration: Cannot find 'iothread' : 1"),
                ("<cputune><emulatorpin cpuset='0,^0'/></cputune>", "unsupported configuration: Invalid value of 'cpuset': 0,^0"),
            ],
        );
    }
}
