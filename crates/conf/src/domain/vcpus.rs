//! `<vcpus>`: the state of each vCPU (`virDomainVcpuDef`'s `online`,
//! `hotpluggable` and `order`), parsed as `virDomainVcpuParse`, completed
//! as `virDomainVcpuDefPostParse` and formatted as
//! `virDomainCpuDefFormat` does when the document gave them.

use super::internal_xml;
use super::props::{self, TriBool, VirEnum};
use super::{unsupported, CpuPlacement, DomainDef};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

/// One `<vcpus><vcpu>`, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VcpuState {
    pub online: bool,
    /// `None` until the post-parse fills it in.
    pub hotpluggable: Option<TriBool>,
    /// 0 when unset.
    pub order: u32,
}

const OFFLINE: VcpuState = VcpuState {
    online: false,
    hotpluggable: None,
    order: 0,
};

/// The states of `./vcpus/vcpu`, one per vCPU up to `max_vcpus` (those not
/// named are offline), or `None` without any; a later entry for an ID
/// replaces an earlier one, as in libvirt.
pub(crate) fn parse(root: &Element, max_vcpus: u32) -> Result<Option<Vec<VcpuState>>> {
    let mut nodes = root
        .children_named("vcpus")
        .flat_map(|v| v.children_named("vcpu"))
        .peekable();
    if nodes.peek().is_none() {
        return Ok(None);
    }
    let mut states = vec![OFFLINE; max_vcpus as usize];
    for e in nodes {
        let id = props::uint(e, "id", true, false)?.unwrap_or(0);
        if id >= max_vcpus {
            return Err(internal_xml(format!(
                "vcpu id '{id}' is out of range of maximum vcpu count"
            )));
        }
        let enabled: Option<TriBool> = props::enumeration(e, "enabled", true)?;
        states[id as usize] = VcpuState {
            online: enabled == Some(TriBool::Yes),
            hotpluggable: props::enumeration(e, "hotpluggable", false)?,
            order: props::uint(e, "order", false, false)?.unwrap_or(0),
        };
    }
    Ok(Some(states))
}

/// `virDomainVcpuDefPostParse`: an online vCPU defaults to not
/// hotpluggable, an offline one to hotpluggable, and an offline one must be.
pub(crate) fn post_parse(states: &mut [VcpuState]) -> Result<()> {
    for (i, s) in states.iter_mut().enumerate() {
        match (s.hotpluggable, s.online) {
            (None, online) => {
                s.hotpluggable = Some(if online { TriBool::No } else { TriBool::Yes })
            }
            (Some(TriBool::No), false) => {
                return Err(unsupported(format!(
                    "vcpu '{i}' is both offline and not hotpluggable"
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// `<vcpu>` and `<vcpus>`, as `virDomainVcpuParse` reads them.
pub(crate) struct VcpuConfig {
    pub max: u32,
    /// The online count: `current=`, or the online `<vcpus>` when given
    /// (then `current=` is not checked).
    pub current: Option<u32>,
    pub placement: CpuPlacement,
    /// `<vcpu cpuset>` with static placement: host CPUs, at least one.
    pub cpuset: Option<Vec<u32>>,
    pub states: Option<Vec<VcpuState>>,
}

pub(crate) fn parse_config(root: &Element) -> Result<VcpuConfig> {
    let vcpu = root.child("vcpu");
    let max: u32 = match vcpu {
        None => 1,
        Some(v) => v
            .text()
            .trim()
            .parse()
            .map_err(|_| internal_xml("maximum vcpus count must be an integer"))?,
    };
    let current = match vcpu.and_then(|v| v.attr("current")) {
        None => None,
        Some(c) => Some(
            c.trim()
                .parse::<u32>()
                .map_err(|_| internal_xml("current vcpus count must be an integer"))?,
        ),
    };
    let states = parse(root, max)?;
    let current = match &states {
        Some(s) => Some(online(s)),
        None if current.is_some_and(|c| c > max) => {
            return Err(unsupported(
                "maximum vCPU count must not be less than current vCPU count",
            ))
        }
        None => current,
    };
    let placement = match vcpu {
        Some(v) => props::enumeration(v, "placement", false)?,
        None => None,
    };
    let placement = placement.unwrap_or(CpuPlacement::Static);
    let cpuset = match vcpu.and_then(|v| v.attr("cpuset")) {
        Some(cs) if placement == CpuPlacement::Static => {
            let bits = props::bitmap(cs)?;
            if bits.is_empty() {
                return Err(unsupported(format!("Invalid value of 'cpuset': {cs}")));
            }
            Some(bits)
        }
        _ => None,
    };
    Ok(VcpuConfig {
        max,
        current,
        placement,
        cpuset,
        states,
    })
}

/// How many are online.
pub(crate) fn online(states: &[VcpuState]) -> u32 {
    states.iter().filter(|s| s.online).count() as u32
}

/// `<vcpus>` after `<vcpu>`. `current` is the domain's online count: when
/// a driver changed it since, the first `current` vCPUs are the online
/// ones, as `virDomainDefSetVcpus` sets them.
pub(crate) fn format(states: &[VcpuState], current: u32, w: &mut Writer) {
    let kept = online(states) == current;
    w.line("<vcpus>");
    w.indent();
    for (i, s) in states.iter().enumerate() {
        let on = if kept { s.online } else { (i as u32) < current };
        let mut line = format!("<vcpu id='{i}' enabled='{}'", if on { "yes" } else { "no" });
        if let Some(h) = s.hotpluggable {
            line.push_str(&format!(" hotpluggable='{}'", h.as_str()));
        }
        // libvirt prints the unsigned order with %d: above i32::MAX it
        // comes out negative (and libvirt then refuses its own output).
        if s.order != 0 {
            line.push_str(&format!(" order='{}'", s.order as i32));
        }
        line.push_str("/>");
        w.line(&line);
    }
    w.dedent();
    w.line("</vcpus>");
}

/// (online, order) of each vCPU: without `<vcpus>`, the first
/// `current` are online, as `virDomainDefSetVcpus` leaves them.
fn states_of(def: &DomainDef) -> Vec<(bool, u32)> {
    let current = def.current_vcpus.unwrap_or(def.vcpus);
    match &def.vcpu_states {
        Some(states) if online(states) == current => {
            states.iter().map(|s| (s.online, s.order)).collect()
        }
        Some(states) => states
            .iter()
            .enumerate()
            .map(|(i, s)| ((i as u32) < current, s.order))
            .collect(),
        None => (0..def.vcpus).map(|i| (i < current, 0)).collect(),
    }
}

/// The per-vCPU half of `virDomainDefVcpuCheckAbiStability` (the caller
/// compares the maximum first).
pub(crate) fn check_abi(src: &DomainDef, dst: &DomainDef) -> Result<()> {
    for (i, (s, d)) in states_of(src).into_iter().zip(states_of(dst)).enumerate() {
        if s.0 != d.0 {
            return Err(unsupported(format!(
                "State of vCPU '{i}' differs between source and destination definitions"
            )));
        }
        if s.1 != d.1 {
            return Err(unsupported(format!(
                "vcpu enable order of vCPU '{i}' differs between source and destination definitions"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_before_os};

    fn dump(vcpus: &str) -> Result<String, String> {
        dump_before_os(&format!("<vcpu current='1'>4</vcpu><vcpus>{vcpus}</vcpus>"))
    }

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn vcpu_states_as_virsh() {
        let out = dump(
            "<vcpu id='0' enabled='yes' order='3'/><vcpu id='2' enabled='no' hotpluggable='yes'/>\
             <vcpu id='3' enabled='yes' hotpluggable='no' order='1'/>",
        )
        .unwrap();
        let want = "  <vcpu placement='static' current='2'>4</vcpu>
  <vcpus>
    <vcpu id='0' enabled='yes' hotpluggable='no' order='3'/>
    <vcpu id='1' enabled='no' hotpluggable='yes'/>
    <vcpu id='2' enabled='no' hotpluggable='yes'/>
    <vcpu id='3' enabled='yes' hotpluggable='no' order='1'/>
  </vcpus>
";
        assert!(out.contains(want), "{out}");
        let big = dump("<vcpu id='1' enabled='yes' order='4294967295'/>").unwrap();
        assert!(big.contains("<vcpu id='1' enabled='yes' hotpluggable='no' order='-1'/>"));
        let later_wins = dump("<vcpu id='0' enabled='yes' order='2'/><vcpu id='0' enabled='no'/>");
        assert!(later_wins.unwrap().contains(
            "current='0'>4</vcpu>\n  <vcpus>\n    <vcpu id='0' enabled='no' hotpluggable='yes'/>\n"
        ));
        // With <vcpus>, current= is not checked against the maximum.
        let over =
            dump_before_os("<vcpu current='9'>2</vcpu><vcpus><vcpu id='1' enabled='yes'/></vcpus>");
        assert!(over
            .unwrap()
            .contains("<vcpu placement='static' current='1'>2</vcpu>"));
        assert_errors(
            dump,
            &[
                ("<vcpu id='0' enabled='no' hotpluggable='no'/>", "unsupported configuration: vcpu '0' is both offline and not hotpluggable"),
                ("<vcpu id='4' enabled='yes'/>", "XML error: vcpu id '4' is out of range of maximum vcpu count"),
                ("<vcpu enabled='yes'/>", "XML error: Missing required attribute 'id' in element 'vcpu'"),
                ("<vcpu id='0'/>", "XML error: Missing required attribute 'enabled' in element 'vcpu'"),
                ("<vcpu id='0' enabled='x'/>", "XML error: Invalid value for attribute 'enabled' in element 'vcpu': 'x'."),
                ("<vcpu id='0' enabled='yes' order='-1'/>", "XML error: Invalid value for attribute 'order' in element 'vcpu': '-1'. Expected non-negative integer value"),
                ("<vcpu id='0' enabled='yes' hotpluggable='maybe'/>", "XML error: Invalid value for attribute 'hotpluggable' in element 'vcpu': 'maybe'."),
            ],
        );
    }
}
