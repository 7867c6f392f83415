//! vcpuinfo (cmdVcpuinfo) and domiftune (cmdDomIftune) with virsh 9.0's
//! options, output and errors.

use super::opts::opt_string;
use super::tuning::{domain, format_map, get_twice, host_cpu_count, scope};
use super::{about, cmd, data, flag, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::{Domain, DomainState};
use rvirt_util::{TypedParamValue as V, TypedParams};

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "vcpuinfo",
        about(
            "detailed domain vcpu information",
            "Returns basic information about the domain virtual CPUs.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            flag("pretty", "return human readable output"),
        ],
        vcpuinfo,
    ),
    cmd(
        "domiftune",
        about(
            "get/set parameters of a virtual interface",
            "Get/set parameters of a domain's virtual interface.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            data("interface", "interface device (MAC Address)"),
            string("inbound", "control domain's incoming traffics"),
            string("outbound", "control domain's outgoing traffics"),
            flag("config", "affect next boot"),
            flag("live", "affect running domain"),
            flag("current", "affect current domain"),
        ],
        domiftune,
    ),
];

/// virshDomainVcpuState.
const VCPU_STATES: [&str; 3] = ["offline", "running", "blocked"];
/// VIR_DOMAIN_AFFECT_CONFIG.
const AFFECT_CONFIG: u32 = 2;

/// virshVcpuinfoPrintAffinity: `y`/`-` per host CPU, or with `--pretty`
/// the list and the count.
fn affinity(map: &[u8], maxcpu: u32, pretty: bool) -> String {
    let shown = if pretty {
        format!("{} (out of {maxcpu})", format_map(map))
    } else {
        (0..maxcpu as usize)
            .map(|i| {
                let used = map.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0);
                if used {
                    'y'
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!("{:<15} {shown}\n", "CPU Affinity:")
}

fn vcpuinfo(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let pretty = c.has("pretty");
    let dom = domain(ctl, c)?;
    let maxcpu = host_cpu_count(ctl)?;
    let info = dom.get_info()?;
    let maplen = (maxcpu as usize).div_ceil(8);
    let (vcpus, maps) = match dom.get_vcpus(i32::from(info.nr_virt_cpu), maplen as i32) {
        Ok(got) => got,
        Err(e) if info.state != DomainState::Shutoff => return Err(e.into()),
        // For an offline domain, its pinning.
        Err(_) => return vcpuinfo_inactive(ctl, &dom, maxcpu, pretty),
    };
    let mut out = String::new();
    for (n, v) in vcpus.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let state = usize::try_from(v.state)
            .ok()
            .and_then(|s| VCPU_STATES.get(s))
            .unwrap_or(&"no state");
        out.push_str(&format!("{:<15} {}\n", "VCPU:", v.number));
        out.push_str(&format!("{:<15} {}\n", "CPU:", v.cpu));
        out.push_str(&format!("{:<15} {state}\n", "State:"));
        if v.cpu_time != 0 {
            let secs = v.cpu_time as f64 / 1e9;
            out.push_str(&format!("{:<15} {secs:.1}s\n", "CPU time:"));
        }
        let map = maps.get(n * maplen..(n + 1) * maplen).unwrap_or(&[]);
        out.push_str(&affinity(map, maxcpu, pretty));
    }
    ctl.print(&out);
    Ok(())
}

/// `string(XPATH)` read as virXPathUInt does: None when empty or not an
/// unsigned number.
fn xpath_uint(text: Option<&str>) -> Option<u32> {
    text.and_then(super::opts::str_to_u32_positive)
}

/// virshDomainGetVcpuBitmap of the inactive definition: which vCPUs are
/// enabled, out of `<vcpu>` (the bitmap's size).
fn vcpu_bitmap(dom: &Domain) -> Result<(Vec<bool>, usize), CmdError> {
    let doc = super::display::document(dom, rvirt::flags::xml::INACTIVE)?;
    let vcpu = doc.child("vcpu");
    let max = xpath_uint(vcpu.map(|v| v.text()).as_deref())
        .ok_or_else(|| CmdError::msg("Failed to retrieve maximum vcpu count"))?
        as usize;
    let current = match xpath_uint(vcpu.and_then(|v| v.attr("current"))) {
        Some(n) if n > 0 => n as usize,
        _ => max,
    };
    let mut enabled = vec![false; max];
    let nodes: Vec<_> = doc.grandchildren("vcpus", "vcpu").collect();
    if nodes.is_empty() {
        enabled.iter_mut().take(current).for_each(|b| *b = true);
        return Ok((enabled, max));
    }
    for node in nodes {
        let Some(id) = xpath_uint(node.attr("id")) else {
            continue;
        };
        if node.attr("enabled") == Some("yes") {
            if let Some(b) = enabled.get_mut(id as usize) {
                *b = true;
            }
        }
    }
    if enabled.iter().filter(|b| **b).count() != current {
        return Err(CmdError::msg("Failed to retrieve vcpu state bitmap"));
    }
    Ok((enabled, max))
}

/// virshVcpuinfoInactive.
fn vcpuinfo_inactive(ctl: &Ctl, dom: &Domain, maxcpu: u32, pretty: bool) -> CmdResult {
    let (enabled, size) = vcpu_bitmap(dom)?;
    let maplen = (maxcpu as usize).div_ceil(8);
    let (maps, _) = dom.get_vcpu_pin_info(size, maplen, AFFECT_CONFIG)?;
    let mut out = String::new();
    for (n, _) in enabled.iter().enumerate().filter(|(_, on)| **on) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("{:<15} {n}\n", "VCPU:"));
        out.push_str(&format!("{:<15} N/A\n", "CPU:"));
        out.push_str(&format!("{:<15} N/A\n", "State:"));
        out.push_str(&format!("{:<15} N/A\n", "CPU time"));
        let map = maps.get(n * maplen..(n + 1) * maplen).unwrap_or(&[]);
        out.push_str(&affinity(map, maxcpu, pretty));
    }
    ctl.print(&out);
    Ok(())
}

/// virNetDevBandwidthRate as virshParseRateStr reads it:
/// `average,peak,burst,floor`, any of them empty.
#[derive(Default)]
struct Rate {
    average: u64,
    peak: u64,
    burst: u64,
    floor: u64,
}

fn parse_rate(text: &str) -> Result<Rate, CmdError> {
    let tok: Vec<&str> = text.split(',').collect();
    if tok.len() > 4 {
        return Err(CmdError::msg(format!(
            "Rate string '{text}' has too many fields"
        )));
    }
    let field = |i: usize, name: &str| -> Result<u64, CmdError> {
        match tok.get(i) {
            None | Some(&"") => Ok(0),
            Some(t) => super::opts::str_to_u64_positive(t)
                .ok_or_else(|| CmdError::msg(format!("field '{name}' is malformed"))),
        }
    };
    Ok(Rate {
        average: field(0, "average")?,
        peak: field(1, "peak")?,
        burst: field(2, "burst")?,
        floor: field(3, "floor")?,
    })
}

/// cmdDomIftune's checks of one direction and its typed parameters.
fn rate_params(params: &mut TypedParams, dir: &str, r: &Rate) -> CmdResult {
    let max = u64::from(u32::MAX);
    if r.average > max || r.peak > max || r.burst > max {
        return Err(CmdError::msg(format!(
            "{dir} rate larger than maximum {max}"
        )));
    }
    let inbound = dir == "inbound";
    if r.average == 0 && (r.burst != 0 || r.peak != 0) && (!inbound || r.floor == 0) {
        return Err(CmdError::msg(if inbound {
            "either inbound average or floor is mandatory"
        } else {
            "outbound average is mandatory"
        }));
    }
    if !inbound && r.floor != 0 {
        return Err(CmdError::msg("outbound floor is unsupported yet"));
    }
    params.push(format!("{dir}.average"), V::UInt(r.average as u32));
    for (name, value) in [("peak", r.peak), ("burst", r.burst), ("floor", r.floor)] {
        if value != 0 {
            params.push(format!("{dir}.{name}"), V::UInt(value as u32));
        }
    }
    Ok(())
}

fn domiftune(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = scope(c)?;
    let dom = domain(ctl, c)?;
    let device = opt_string(c, "interface")?.unwrap_or_default();
    let inbound = opt_string(c, "inbound")?;
    let outbound = opt_string(c, "outbound")?;
    let mut params = TypedParams::new();
    if let Some(text) = inbound {
        rate_params(&mut params, "inbound", &parse_rate(text)?)?;
    }
    if let Some(text) = outbound {
        rate_params(&mut params, "outbound", &parse_rate(text)?)?;
    }
    if !params.is_empty() {
        return dom
            .set_interface_parameters(device, &params, flags)
            .map_err(|e| CmdError::with("Unable to set interface parameters", e));
    }
    let got = get_twice(
        |n| dom.get_interface_parameters(device, n, flags),
        "Unable to get number of interface parameters",
        "Unable to get interface parameters",
    )?;
    let out: String = got
        .iter()
        .map(|p| format!("{:<15}: {}\n", p.field, super::stats::param_text(&p.value)))
        .collect();
    ctl.print(&out);
    Ok(())
}
