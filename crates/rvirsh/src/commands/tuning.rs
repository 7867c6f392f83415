//! Resource tuning commands with virsh 9.0's options and output:
//! schedinfo (cmdSchedinfo), memtune (cmdMemtune), blkiotune
//! (cmdBlkiotune), numatune (cmdNumatune), vcpupin (cmdVcpuPin),
//! emulatorpin (cmdEmulatorPin).

use super::jobs::typed_value_text;
use super::opts::{exclusive, opt_scaled, opt_string, opt_uint};
use super::{about, argv, cmd, data, flag, named_int, string, CommandDef, OptDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_ANY};
use rvirt::Domain;
use rvirt_util::{Error, ErrorDomain, TypedParamType, TypedParamValue as V, TypedParams};

const AFFECT_LIVE: u32 = 1;
const AFFECT_CONFIG: u32 = 2;
/// `VIR_DOMAIN_MEMORY_PARAM_UNLIMITED`.
const UNLIMITED: u64 = 9007199254740991;

// Consts, so each use is its own value.
const CONFIG: OptDef = flag("config", "affect next boot");
const LIVE: OptDef = flag("live", "affect running domain");
const CURRENT: OptDef = flag("current", "affect current domain");

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "schedinfo",
        about("show/set scheduler parameters", "Show/Set scheduler parameters."),
        &[
            data("domain", "domain name, id or uuid"),
            named_int("weight", "weight for XEN_CREDIT"),
            named_int("cap", "cap for XEN_CREDIT"),
            flag("current", "get/set current scheduler info"),
            flag("config", "get/set value to be used on next boot"),
            flag("live", "get/set value from running domain"),
            argv("set", "parameter=value"),
        ],
        schedinfo,
    ),
    cmd(
        "memtune",
        about(
            "Get or set memory parameters",
            "Get or set the current memory parameters for a guest domain.\n    \
             To get the memory parameters use following command: \n\n    \
             virsh # memtune <domain>",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            super::int("hard-limit", "Max memory, as scaled integer (default KiB)"),
            super::int("soft-limit", "Memory during contention, as scaled integer (default KiB)"),
            super::int("swap-hard-limit", "Max memory plus swap, as scaled integer (default KiB)"),
            super::int("min-guarantee", "Min guaranteed memory, as scaled integer (default KiB)"),
            CONFIG,
            LIVE,
            CURRENT,
        ],
        memtune,
    ),
    cmd(
        "blkiotune",
        about(
            "Get or set blkio parameters",
            "Get or set the current blkio parameters for a guest domain.\n    \
             To get the blkio parameters use following command: \n\n    \
             virsh # blkiotune <domain>",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            super::int("weight", "IO Weight"),
            string("device-weights", "per-device IO Weights, in the form of /path/to/device,weight,..."),
            string("device-read-iops-sec", "per-device read I/O limit per second, in the form of /path/to/device,read_iops_sec,..."),
            string("device-write-iops-sec", "per-device write I/O limit per second, in the form of /path/to/device,write_iops_sec,..."),
            string("device-read-bytes-sec", "per-device bytes read per second, in the form of /path/to/device,read_bytes_sec,..."),
            string("device-write-bytes-sec", "per-device bytes wrote per second, in the form of /path/to/device,write_bytes_sec,..."),
            CONFIG,
            LIVE,
            CURRENT,
        ],
        blkiotune,
    ),
    cmd(
        "numatune",
        about(
            "Get or set numa parameters",
            "Get or set the current numa parameters for a guest domain.\n    \
             To get the numa parameters use following command: \n\n    \
             virsh # numatune <domain>",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            string("mode", "NUMA mode, one of strict, preferred and interleave \n\
                 or a number from the virDomainNumatuneMemMode enum"),
            string("nodeset", "NUMA node selections to set"),
            CONFIG,
            LIVE,
            CURRENT,
        ],
        numatune,
    ),
    cmd(
        "vcpupin",
        about("control or query domain vcpu affinity", "Pin domain VCPUs to host physical CPUs."),
        &[
            data("domain", "domain name, id or uuid"),
            super::int("vcpu", "vcpu number"),
            string("cpulist", "host cpu number(s) to set, or omit option to query"),
            CONFIG,
            LIVE,
            CURRENT,
        ],
        vcpupin,
    ),
    cmd(
        "emulatorpin",
        about(
            "control or query domain emulator affinity",
            "Pin domain emulator threads to host physical CPUs.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            string("cpulist", "host cpu number(s) to set, or omit option to query"),
            CONFIG,
            LIVE,
            CURRENT,
        ],
        emulatorpin,
    ),
];

pub(super) fn domain(ctl: &Ctl, c: &ParsedCommand) -> Result<Domain, CmdError> {
    ctl.lookup_domain(c.get("domain").unwrap_or_default(), BY_ANY)
}

/// --current/--live/--config as flags, the exclusions checked.
pub(super) fn scope(c: &ParsedCommand) -> Result<u32, CmdError> {
    exclusive(c, "current", "live")?;
    exclusive(c, "current", "config")?;
    let mut flags = 0;
    if c.has("config") {
        flags |= AFFECT_CONFIG;
    }
    if c.has("live") {
        flags |= AFFECT_LIVE;
    }
    Ok(flags)
}

/// The two calls of virsh's getters: the count (`nparams` 0), then that
/// many, each failure with its own words.
pub(super) fn get_twice(
    get: impl Fn(i32) -> rvirt::Result<(TypedParams, i32)>,
    count_error: &str,
    get_error: &str,
) -> Result<TypedParams, CmdError> {
    let (_, count) = get(0).map_err(|e| CmdError::with(count_error, e))?;
    if count == 0 {
        return Ok(TypedParams::new());
    }
    Ok(get(count).map_err(|e| CmdError::with(get_error, e))?.0)
}

pub(super) fn print_params(ctl: &Ctl, params: &TypedParams, text: impl Fn(&str, &V) -> String) {
    for p in params.iter() {
        ctl.print(&format!("{:<15}: {}\n", p.field, text(&p.field, &p.value)));
    }
}

/// virTypedParamsAddFromString for the type the getter reported.
fn from_string(field: &str, kind: TypedParamType, value: &str) -> Result<V, CmdError> {
    let bad = |what: &str| {
        CmdError::from(rvirt::Error::invalid_arg(
            rvirt::ErrorDomain::NONE,
            format!("Invalid value for field '{field}': expected {what}"),
        ))
    };
    Ok(match kind {
        TypedParamType::Int => V::Int(value.parse().map_err(|_| bad("int"))?),
        TypedParamType::UInt => V::UInt(value.parse().map_err(|_| bad("unsigned int"))?),
        TypedParamType::LLong => V::LLong(value.parse().map_err(|_| bad("long long"))?),
        TypedParamType::ULLong => V::ULLong(value.parse().map_err(|_| bad("unsigned long long"))?),
        TypedParamType::Double => V::Double(value.parse().map_err(|_| bad("double"))?),
        TypedParamType::Boolean => V::Boolean(matches!(value, "1" | "yes" | "true")),
        TypedParamType::String => V::String(value.to_string()),
    })
}

/// cmdSchedInfoUpdate: `name=value` arguments, typed as the getter's.
fn sched_updates(c: &ParsedCommand, current: &TypedParams) -> Result<TypedParams, CmdError> {
    let mut updates = TypedParams::new();
    let legacy = ["cap", "weight"]
        .iter()
        .filter_map(|n| c.get(n).map(|v| format!("{n}={v}")));
    for set in c.argv.iter().cloned().chain(legacy) {
        let Some((field, value)) = set.split_once('=') else {
            return Err(CmdError::msg(
                "Invalid syntax for --set, expecting name=value",
            ));
        };
        let Some(p) = current.iter().find(|p| p.field == field) else {
            return Err(CmdError::msg(format!("invalid scheduler option: {field}")));
        };
        updates.push(field, from_string(field, p.value.kind(), value)?);
    }
    Ok(updates)
}

fn schedinfo(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = scope(c)?;
    // Both live and config: query the current state.
    let query = if flags == AFFECT_LIVE | AFFECT_CONFIG {
        0
    } else {
        flags
    };
    let dom = domain(ctl, c)?;
    let (kind, nparams) = match dom.get_scheduler_type() {
        Ok(t) => t,
        Err(e) => {
            ctl.print(&format!("{:<15}: {}\n", "Scheduler", "Unknown"));
            return Err(e.into());
        }
    };
    ctl.print(&format!("{:<15}: {kind}\n", "Scheduler"));
    if nparams == 0 {
        return Ok(());
    }
    let cut = |mut p: TypedParams| {
        p.0.truncate(nparams as usize);
        p
    };
    let mut params = cut(dom.get_scheduler_parameters(query)?);
    let updates = sched_updates(c, &params)?;
    if !updates.is_empty() {
        dom.set_scheduler_parameters(&updates, flags)?;
        params = cut(dom.get_scheduler_parameters(query)?);
    } else if flags == AFFECT_LIVE | AFFECT_CONFIG {
        return Err(CmdError::msg("cannot query both live and config at once"));
    }
    print_params(ctl, &params, |_, v| typed_value_text(v));
    Ok(())
}

/// virshMemtuneGetSize: KiB, a negative value meaning unlimited.
fn memtune_size(c: &ParsedCommand, name: &str) -> Result<Option<u64>, CmdError> {
    let Some(text) = c.get(name) else {
        return Ok(None);
    };
    if text.trim_start().starts_with('-') {
        return match text.trim().parse::<i64>() {
            Ok(v) if v < 0 => Ok(Some(UNLIMITED)),
            _ => Err(CmdError::msg(format!(
                "Unable to parse integer parameter {name}"
            ))),
        };
    }
    let bytes = opt_scaled(c, name, 1024, i64::MAX as u64)
        .map_err(|_| CmdError::msg(format!("Unable to parse integer parameter {name}")))?;
    Ok(bytes.map(|b| b.div_ceil(1024)))
}

fn memtune(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = scope(c)?;
    let dom = domain(ctl, c)?;
    let mut params = TypedParams::new();
    for (opt, field) in [
        ("hard-limit", "hard_limit"),
        ("soft-limit", "soft_limit"),
        ("swap-hard-limit", "swap_hard_limit"),
        ("min-guarantee", "min_guarantee"),
    ] {
        if let Some(kib) = memtune_size(c, opt)? {
            params.push(field, V::ULLong(kib));
        }
    }
    if !params.is_empty() {
        return dom
            .set_memory_parameters(&params, flags)
            .map_err(|e| CmdError::with("Unable to change memory parameters", e));
    }
    let got = get_twice(
        |n| dom.get_memory_parameters(n, flags),
        "Unable to get number of memory parameters",
        "Unable to get memory parameters",
    )?;
    print_params(ctl, &got, |_, v| match v {
        V::ULLong(UNLIMITED) => "unlimited".to_string(),
        v => typed_value_text(v),
    });
    Ok(())
}

fn blkiotune(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = scope(c)?;
    let dom = domain(ctl, c)?;
    let mut params = TypedParams::new();
    if c.has("weight") {
        let weight = opt_uint(c, "weight")
            .map_err(|_| CmdError::msg("Invalid value of weight"))?
            .unwrap_or(0);
        params.push("weight", V::UInt(weight));
    }
    for (opt, field) in [
        ("device-weights", "device_weight"),
        ("device-read-iops-sec", "device_read_iops_sec"),
        ("device-write-iops-sec", "device_write_iops_sec"),
        ("device-read-bytes-sec", "device_read_bytes_sec"),
        ("device-write-bytes-sec", "device_write_bytes_sec"),
    ] {
        if let Some(v) = opt_string(c, opt)? {
            params.push(field, V::String(v.to_string()));
        }
    }
    if !params.is_empty() {
        return dom
            .set_blkio_parameters(&params, flags)
            .map_err(|e| CmdError::with("Unable to change blkio parameters", e));
    }
    let got = get_twice(
        |n| dom.get_blkio_parameters(n, flags),
        "Unable to get number of blkio parameters",
        "Unable to get blkio parameters",
    )?;
    print_params(ctl, &got, |_, v| typed_value_text(v));
    Ok(())
}

const NUMA_MODES: [&str; 4] = ["strict", "preferred", "interleave", "restrictive"];

fn numatune(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = scope(c)?;
    let dom = domain(ctl, c)?;
    let mut params = TypedParams::new();
    if let Some(nodeset) = opt_string(c, "nodeset")? {
        params.push("numa_nodeset", V::String(nodeset.to_string()));
    }
    if let Some(mode) = opt_string(c, "mode")? {
        let m = match NUMA_MODES.iter().position(|m| *m == mode) {
            Some(i) => i as i32,
            None => mode
                .parse()
                .map_err(|_| CmdError::msg(format!("Invalid mode: {mode}")))?,
        };
        params.push("numa_mode", V::Int(m));
    }
    if !params.is_empty() {
        return dom
            .set_numa_parameters(&params, flags)
            .map_err(|e| CmdError::with("Unable to change numa parameters", e));
    }
    let got = get_twice(
        |n| dom.get_numa_parameters(n, flags),
        "Unable to get number of memory parameters",
        "Unable to get numa parameters",
    )?;
    print_params(ctl, &got, |field, v| match (field, v) {
        ("numa_mode", V::Int(m)) => NUMA_MODES.get(*m as usize).unwrap_or(&"").to_string(),
        (_, v) => typed_value_text(v),
    });
    Ok(())
}

/// virshNodeGetCPUCount: virNodeGetCPUMap's count, else nodeinfo's.
pub(super) fn host_cpu_count(ctl: &Ctl) -> Result<u32, CmdError> {
    let conn = ctl.conn()?;
    if let Ok((count, _, _)) = conn.node_get_cpu_map(0) {
        if let Ok(count) = u32::try_from(count) {
            return Ok(count);
        }
    }
    let info = conn.node_get_info()?;
    Ok(info.nodes * info.sockets * info.cores * info.threads)
}

/// virshParseCPUList: "r" for every CPU, else a list within `max`.
pub(super) fn parse_cpulist(list: &str, max: u32) -> Result<Vec<u8>, CmdError> {
    let cpus: Vec<u32> = if list.starts_with('r') {
        (0..max).collect()
    } else {
        let invalid = format!("Invalid cpulist '{list}'");
        // virBitmapParse's own error follows virsh's when the list does
        // not parse; an empty set gets virsh's alone.
        let parsed = rvirt_conf::domain::props::bitmap(list).map_err(|_| {
            let why = format!("Failed to parse bitmap '{list}'");
            CmdError::with(invalid.clone(), Error::invalid_arg(ErrorDomain::NONE, why))
        })?;
        if parsed.is_empty() {
            return Err(CmdError::msg(invalid));
        }
        let last = *parsed.iter().max().unwrap_or(&0);
        if last >= max {
            return Err(CmdError::msg(format!(
                "CPU {last} in cpulist '{list}' exceed the maxcpu {max}"
            )));
        }
        parsed
    };
    let last = cpus.iter().max().copied().unwrap_or(0) as usize;
    let mut map = vec![0u8; last / 8 + 1];
    for cpu in cpus {
        map[cpu as usize / 8] |= 1 << (cpu % 8);
    }
    Ok(map)
}

/// virBitmapDataFormat: "0-2,5".
pub(super) fn format_map(map: &[u8]) -> String {
    let cpus: Vec<u32> = (0..map.len() * 8)
        .filter(|i| map[i / 8] & (1 << (i % 8)) != 0)
        .map(|i| i as u32)
        .collect();
    rvirt_conf::domain::format_bitmap(&cpus)
}

fn vcpupin(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = scope(c)?;
    let cpulist = opt_string(c, "cpulist")?;
    if cpulist.is_none() {
        exclusive(c, "live", "config")?;
    }
    let vcpu = opt_uint(c, "vcpu")?;
    if cpulist.is_some() && vcpu.is_none() {
        return Err(CmdError::msg("vcpupin: Missing vCPU number in pin mode."));
    }
    let max = host_cpu_count(ctl)?;
    let dom = domain(ctl, c)?;
    let Some(list) = cpulist else {
        return vcpupin_query(ctl, &dom, vcpu, max, flags);
    };
    let map = parse_cpulist(list, max)?;
    // No scope option: virDomainPinVcpu, as virsh calls it.
    if flags == 0 && !c.has("current") {
        dom.pin_vcpu_without_flags(vcpu.unwrap_or(0), &map)?;
    } else {
        dom.pin_vcpu(vcpu.unwrap_or(0), &map, flags)?;
    }
    Ok(())
}

/// virshVcpuPinQuery.
fn vcpupin_query(ctl: &Ctl, dom: &Domain, vcpu: Option<u32>, max: u32, flags: u32) -> CmdResult {
    const VCPU_MAXIMUM: u32 = 4;
    let offline = (flags & AFFECT_LIVE != 0 && dom.is_active() != Ok(true))
        || (flags & AFFECT_CONFIG != 0 && dom.is_persistent() != Ok(true));
    if offline {
        return Err(CmdError::msg(match flags & AFFECT_LIVE {
            0 => "cannot get vcpupin for transient domain",
            _ => "cannot get vcpupin for offline domain",
        }));
    }
    let ncpus = dom.get_vcpus_flags(flags | VCPU_MAXIMUM)? as u32;
    if let Some(v) = vcpu.filter(|v| *v >= ncpus) {
        let live =
            flags & AFFECT_LIVE != 0 || (flags & AFFECT_CONFIG == 0 && dom.is_active() == Ok(true));
        let which = if live { "live" } else { "persistent" };
        return Err(CmdError::msg(format!(
            "vcpu {v} is out of range of {which} cpu count {ncpus}"
        )));
    }
    let maplen = (max as usize).div_ceil(8);
    let (maps, filled) = dom.get_vcpu_pin_info(ncpus as usize, maplen, flags)?;
    let rows: Vec<Vec<String>> = (0..filled.max(0) as usize)
        .filter(|i| vcpu.is_none_or(|v| v as usize == *i))
        .map(|i| {
            vec![
                i.to_string(),
                format_map(&maps[i * maplen..(i + 1) * maplen]),
            ]
        })
        .collect();
    ctl.print(&crate::table::render(&["VCPU", "CPU Affinity"], &rows));
    Ok(())
}

fn emulatorpin(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = scope(c)?;
    let given = ["current", "live", "config"].iter().any(|o| c.has(o));
    let dom = domain(ctl, c)?;
    let cpulist = opt_string(c, "cpulist")?;
    let max = host_cpu_count(ctl)?;
    let Some(list) = cpulist else {
        let maplen = (max as usize).div_ceil(8);
        let (map, _) = dom.get_emulator_pin_info(maplen, flags)?;
        ctl.print_extra("emulator: CPU Affinity\n");
        ctl.print_extra("----------------------------------\n");
        ctl.print_extra("       *: ");
        ctl.print(&format!("{}\n", format_map(&map)));
        return Ok(());
    };
    let map = parse_cpulist(list, max)?;
    dom.pin_emulator(&map, if given { flags } else { AFFECT_LIVE })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpulists() {
        assert_eq!(parse_cpulist("0,2", 4).unwrap(), vec![0b101]);
        assert_eq!(parse_cpulist("r", 2).unwrap(), vec![0b11]);
        let err = parse_cpulist("5", 2).unwrap_err();
        assert_eq!(
            err.own.as_deref(),
            Some("CPU 5 in cpulist '5' exceed the maxcpu 2")
        );
        assert_eq!(format_map(&[0b1011]), "0-1,3");
    }
}
