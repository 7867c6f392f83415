//! The test driver's memory, blkio and NUMA parameters (test_driver.c's
//! `testDomain{Get,Set}{Memory,Blkio,Numa}Parameters`): they read and
//! change the definition the `VIR_DOMAIN_AFFECT_*` flags pick, and
//! nothing else (no host to apply them to).

use crate::check_flags;
use crate::connection::TestConnection;
use crate::scope::{one_def, one_def_mut, parse_bitmap, CONFIG, LIVE, STRING_OKAY};
use rvirt::driver::DomainRef;
use rvirt_conf::domain::blkiotune::{BlkioDevice, Blkiotune};
use rvirt_conf::domain::memtune::UNLIMITED_KIB;
use rvirt_conf::domain::numatune::{MemMode, MemoryTune, Placement};
use rvirt_conf::domain::CpuPlacement;
use rvirt_conf::DomainDef;
use rvirt_util::TypedParams;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParamType, TypedParamValue};

/// The memory limits in the order `testDomainGetMemoryParameters` gives.
const MEMORY: [&str; 3] = ["hard_limit", "soft_limit", "swap_hard_limit"];

/// A limit as libvirt keeps it: unset is `VIR_DOMAIN_MEMORY_PARAM_UNLIMITED`.
fn limit(v: Option<u64>) -> u64 {
    v.unwrap_or(UNLIMITED_KIB)
}

fn stored(kib: u64) -> Option<u64> {
    (kib < UNLIMITED_KIB).then_some(kib)
}

pub fn get_memory(
    conn: &TestConnection,
    dom: &DomainRef,
    nparams: i32,
    flags: u32,
) -> Result<(TypedParams, i32)> {
    check_flags(
        "testDomainGetMemoryParameters",
        flags,
        LIVE | CONFIG | STRING_OKAY,
    )?;
    if nparams == 0 {
        return Ok((TypedParams::new(), 3));
    }
    conn.read(dom, |obj| {
        let m = one_def(obj, flags & (LIVE | CONFIG))?.memtune;
        let values = [m.hard_limit, m.soft_limit, m.swap_hard_limit];
        let mut p = TypedParams::new();
        for (name, v) in MEMORY.iter().zip(values).take(nparams.max(0) as usize) {
            p.push(*name, TypedParamValue::ULLong(limit(v)));
        }
        let n = p.len() as i32;
        Ok((p, n))
    })
}

pub fn set_memory(
    conn: &TestConnection,
    dom: &DomainRef,
    params: &TypedParams,
    flags: u32,
) -> Result<()> {
    check_flags("testDomainSetMemoryParameters", flags, LIVE | CONFIG)?;
    let allowed = MEMORY.map(|n| (n, TypedParamType::ULLong, false));
    params.validate(&allowed)?;
    let [hard, soft, swap] = MEMORY.map(|n| params.get_u64(n));
    conn.state().with(|inner| {
        let obj = inner.domains.get_mut(dom)?;
        // libvirt compares with the running definition's limits.
        let running = obj.def.memtune;
        let (def, _) = one_def_mut(obj, flags)?;
        if hard.is_some() || swap.is_some() {
            let mem = hard.unwrap_or(limit(running.hard_limit));
            let swap_limit = swap.unwrap_or(limit(running.swap_hard_limit));
            if mem > swap_limit {
                return Err(Error::invalid_arg(
                    ErrorDomain::TEST,
                    "memory hard_limit tunable value must be lower than or equal to swap_hard_limit",
                ));
            }
        }
        let m = &mut def.memtune;
        if let Some(v) = soft {
            m.soft_limit = stored(v);
        }
        if let Some(v) = hard {
            m.hard_limit = stored(v);
        }
        if let Some(v) = swap {
            m.swap_hard_limit = stored(v);
        }
        Ok(())
    })
}

/// The per-device blkio parameters, in libvirt's order.
const DEVICE_PARAMS: [&str; 5] = [
    "device_weight",
    "device_read_iops_sec",
    "device_write_iops_sec",
    "device_read_bytes_sec",
    "device_write_bytes_sec",
];

fn device_value(d: &BlkioDevice, field: &str) -> u64 {
    match field {
        "device_weight" => u64::from(d.weight),
        "device_read_iops_sec" => u64::from(d.read_iops_sec),
        "device_write_iops_sec" => u64::from(d.write_iops_sec),
        "device_read_bytes_sec" => d.read_bytes_sec,
        _ => d.write_bytes_sec,
    }
}

fn set_device_value(d: &mut BlkioDevice, field: &str, v: u64) {
    let narrow = v as u32; // parsed as unsigned int for these
    match field {
        "device_weight" => d.weight = narrow,
        "device_read_iops_sec" => d.read_iops_sec = narrow,
        "device_write_iops_sec" => d.write_iops_sec = narrow,
        "device_read_bytes_sec" => d.read_bytes_sec = v,
        _ => d.write_bytes_sec = v,
    }
}

/// `virDomainGetBlkioParametersAssignFromDef`'s "path,value,..." of the
/// devices with a value for `field`.
fn device_string(tune: &Blkiotune, field: &str) -> String {
    let parts: Vec<String> = tune
        .devices
        .iter()
        .filter(|d| device_value(d, field) != 0)
        .map(|d| format!("{},{}", d.path, device_value(d, field)))
        .collect();
    parts.join(",")
}

pub fn get_blkio(
    conn: &TestConnection,
    dom: &DomainRef,
    nparams: i32,
    flags: u32,
) -> Result<(TypedParams, i32)> {
    check_flags(
        "testDomainGetBlkioParameters",
        flags,
        LIVE | CONFIG | STRING_OKAY,
    )?;
    if nparams == 0 {
        return Ok((TypedParams::new(), 6));
    }
    let max = nparams.clamp(1, 6) as usize;
    conn.read(dom, |obj| {
        let tune = &one_def(obj, flags & (LIVE | CONFIG))?.blkiotune;
        let mut p = TypedParams::new().with("weight", TypedParamValue::UInt(tune.weight));
        for field in DEVICE_PARAMS.iter().take(max - 1) {
            p.push(*field, TypedParamValue::String(device_string(tune, field)));
        }
        let n = p.len() as i32;
        Ok((p, n))
    })
}

/// `virDomainDriverParseBlkioDeviceStr`: "path,value[,path,value...]".
fn parse_devices(text: &str, field: &str) -> Result<Vec<(String, u64)>> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let parse_error = || {
        Error::invalid_arg(
            ErrorDomain::DOMAIN,
            format!("unable to parse blkio device '{field}' '{text}'"),
        )
    };
    if text.matches(',').count().is_multiple_of(2) {
        return Err(parse_error());
    }
    let wide = matches!(field, "device_read_bytes_sec" | "device_write_bytes_sec");
    let mut devices = Vec::new();
    let mut rest = text;
    loop {
        let (path, after) = rest.split_once(',').ok_or_else(parse_error)?;
        let digits = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        let value = after[..digits]
            .parse::<u64>()
            .ok()
            .filter(|v| wide || u32::try_from(*v).is_ok())
            .ok_or_else(|| {
                Error::invalid_arg(
                    ErrorDomain::DOMAIN,
                    format!("invalid value '{after}' for parameter '{field}' of device '{path}'"),
                )
            })?;
        devices.push((path.to_string(), value));
        match after[digits..].strip_prefix(',') {
            Some(next) => rest = next,
            None if digits == after.len() => return Ok(devices),
            None => return Err(parse_error()),
        }
    }
}

/// `virDomainDriverMergeBlkioDevice`: a device already listed takes the
/// value; a new one is added unless the value is 0.
fn merge_devices(tune: &mut Blkiotune, field: &str, devices: Vec<(String, u64)>) {
    for (path, value) in devices {
        match tune.devices.iter_mut().find(|d| d.path == path) {
            Some(d) => set_device_value(d, field, value),
            None if value == 0 => {}
            None => {
                let mut d = BlkioDevice {
                    path,
                    ..Default::default()
                };
                set_device_value(&mut d, field, value);
                tune.devices.push(d);
            }
        }
    }
}

pub fn set_blkio(
    conn: &TestConnection,
    dom: &DomainRef,
    params: &TypedParams,
    flags: u32,
) -> Result<()> {
    check_flags("testDomainSetBlkioParameters", flags, LIVE | CONFIG)?;
    let mut allowed = vec![("weight", TypedParamType::UInt, false)];
    allowed.extend(DEVICE_PARAMS.map(|n| (n, TypedParamType::String, false)));
    params.validate(&allowed)?;
    conn.state().with(|inner| {
        let (def, _) = one_def_mut(inner.domains.get_mut(dom)?, flags)?;
        // libvirt applies every parameter it can and fails with the last
        // error, if any.
        let mut failed = None;
        for p in params.iter() {
            match &p.value {
                TypedParamValue::UInt(w) => def.blkiotune.weight = *w,
                TypedParamValue::String(s) => match parse_devices(s, &p.field) {
                    Ok(devices) => merge_devices(&mut def.blkiotune, &p.field, devices),
                    Err(e) => failed = Some(e),
                },
                _ => {}
            }
        }
        failed.map_or(Ok(()), Err)
    })
}

/// `virDomainNumatuneMemMode` numbers.
const MODES: [MemMode; 4] = [
    MemMode::Strict,
    MemMode::Preferred,
    MemMode::Interleave,
    MemMode::Restrictive,
];

pub fn get_numa(
    conn: &TestConnection,
    dom: &DomainRef,
    nparams: i32,
    flags: u32,
) -> Result<(TypedParams, i32)> {
    check_flags(
        "testDomainGetNumaParameters",
        flags,
        LIVE | CONFIG | STRING_OKAY,
    )?;
    if nparams == 0 {
        return Ok((TypedParams::new(), 2));
    }
    conn.read(dom, |obj| {
        let memory = one_def(obj, flags & (LIVE | CONFIG))?
            .numatune
            .memory
            .as_ref();
        let mode = memory.map_or(MemMode::Strict, |m| m.mode);
        let mode = MODES.iter().position(|m| *m == mode).unwrap_or(0) as i32;
        let nodeset = match memory.map(|m| &m.placement) {
            Some(Placement::Static(nodes)) => rvirt_conf::domain::format_bitmap(nodes),
            _ => String::new(),
        };
        let mut p = TypedParams::new().with("numa_mode", TypedParamValue::Int(mode));
        if nparams > 1 {
            p.push("numa_nodeset", TypedParamValue::String(nodeset));
        }
        let n = p.len() as i32;
        Ok((p, n))
    })
}

/// `virDomainNumatuneSet` for the domain-wide `<memory>` (placement
/// left to libvirt's default: static with a nodeset or a static vCPU
/// placement, else auto).
fn numatune_set(def: &mut DomainDef, mode: Option<MemMode>, nodes: Option<Vec<u32>>) -> Result<()> {
    if mode.is_none() && nodes.is_none() {
        return Ok(());
    }
    let placement = match (nodes, def.numatune.memory.take()) {
        (Some(nodes), old) => (old.map(|m| m.mode), Placement::Static(nodes)),
        (None, Some(old)) => (Some(old.mode), old.placement),
        (None, None) if def.vcpu_placement == CpuPlacement::Auto => (None, Placement::Auto),
        (None, None) => {
            return Err(Error::new(
                ErrorDomain::DOMAIN,
                ErrorCode::CONFIG_UNSUPPORTED,
                "nodeset for NUMA memory tuning must be set if 'placement' is 'static'",
            ))
        }
    };
    let (old_mode, placement) = placement;
    def.numatune.memory = Some(MemoryTune {
        mode: mode.or(old_mode).unwrap_or(MemMode::Strict),
        placement,
    });
    Ok(())
}

pub fn set_numa(
    conn: &TestConnection,
    dom: &DomainRef,
    params: &TypedParams,
    flags: u32,
) -> Result<()> {
    check_flags("testDomainSetNumaParameters", flags, LIVE | CONFIG)?;
    params.validate(&[
        ("numa_mode", TypedParamType::Int, false),
        ("numa_nodeset", TypedParamType::String, false),
    ])?;
    conn.state().with(|inner| {
        let (def, live) = one_def_mut(inner.domains.get_mut(dom)?, flags)?;
        let (mut mode, mut nodes) = (None, None);
        for p in params.iter() {
            match &p.value {
                TypedParamValue::Int(m) => {
                    let found = usize::try_from(*m).ok().and_then(|i| MODES.get(i));
                    mode = Some(*found.ok_or_else(|| {
                        Error::invalid_arg(
                            ErrorDomain::TEST,
                            format!("unsupported numatune mode: '{m}'"),
                        )
                    })?);
                }
                TypedParamValue::String(s) => {
                    let set = parse_bitmap(s)?;
                    if set.is_empty() {
                        return Err(Error::operation_invalid(
                            ErrorDomain::TEST,
                            format!("Invalid nodeset of 'numatune': {s}"),
                        ));
                    }
                    nodes = Some(set);
                }
                _ => {}
            }
        }
        let current = def.numatune.memory.as_ref().map(|m| m.mode);
        if live && mode.is_some() && current.is_some() && current != mode {
            return Err(Error::operation_invalid(
                ErrorDomain::TEST,
                "can't change numatune mode for running domain",
            ));
        }
        numatune_set(def, mode, nodes)
    })
}

#[cfg(test)]
mod tests {
    use super::parse_devices;

    #[test]
    fn blkio_device_strings_parse_as_libvirt() {
        let got = parse_devices("/dev/sda,100,/dev/sdb,7", "device_weight").unwrap();
        assert_eq!(got, [("/dev/sda".into(), 100), ("/dev/sdb".into(), 7)]);
        assert!(parse_devices("", "device_weight").unwrap().is_empty());
        let e = parse_devices("/dev/sda", "device_weight").unwrap_err();
        assert_eq!(
            e.message,
            "invalid argument: unable to parse blkio device 'device_weight' '/dev/sda'"
        );
        let e = parse_devices("/dev/sda,x1", "device_read_iops_sec").unwrap_err();
        assert_eq!(
            e.message,
            "invalid argument: invalid value 'x1' for parameter 'device_read_iops_sec' of device '/dev/sda'"
        );
        let e = parse_devices("/dev/sda,1x", "device_weight").unwrap_err();
        assert!(e.message.contains("unable to parse"), "{}", e.message);
    }
}
