//! The QEMU driver's blkio and NUMA tuning calls
//! (`qemuDomain{Get,Set}BlkioParameters`,
//! `qemuDomain{Get,Set}NumaParameters`); see [`crate::tuning`].

use crate::cgroup::files::{format_cpus, BlkioKey};
use crate::cgroup::Controller;
use crate::connection::check_flags;
use crate::driver::Driver;
use crate::ops;
use crate::tuning::{
    commit_live, def_for, error, first, get_scope, privileged, Live, CONFIG, LIVE, STRING_OKAY,
};
use rvirt::driver::DomainRef;
use rvirt_conf::domain::blkiotune::{BlkioDevice, Blkiotune};
use rvirt_conf::domain::numatune::{MemMode, MemoryTune, Placement};
use rvirt_conf::DomainDef;
use rvirt_util::{ErrorCode, Result, TypedParamType, TypedParamValue, TypedParams};

/// The device parameters, in libvirt's order, with their key.
const DEVICE_PARAMS: [(&str, BlkioKey); 5] = [
    ("device_weight", BlkioKey::Weight),
    ("device_read_iops_sec", BlkioKey::ReadIops),
    ("device_write_iops_sec", BlkioKey::WriteIops),
    ("device_read_bytes_sec", BlkioKey::ReadBps),
    ("device_write_bytes_sec", BlkioKey::WriteBps),
];

fn device_value(d: &BlkioDevice, key: BlkioKey) -> u64 {
    match key {
        BlkioKey::Weight => u64::from(d.weight),
        BlkioKey::ReadIops => u64::from(d.read_iops_sec),
        BlkioKey::WriteIops => u64::from(d.write_iops_sec),
        BlkioKey::ReadBps => d.read_bytes_sec,
        BlkioKey::WriteBps => d.write_bytes_sec,
    }
}

fn set_device_value(d: &mut BlkioDevice, key: BlkioKey, v: u64) {
    let narrow = u32::try_from(v).unwrap_or(u32::MAX);
    match key {
        BlkioKey::Weight => d.weight = narrow,
        BlkioKey::ReadIops => d.read_iops_sec = narrow,
        BlkioKey::WriteIops => d.write_iops_sec = narrow,
        BlkioKey::ReadBps => d.read_bytes_sec = v,
        BlkioKey::WriteBps => d.write_bytes_sec = v,
    }
}

/// `virDomainGetBlkioParametersAssignFromDef`: "path,value,..." of the
/// devices with a value for `key`.
fn device_string(tune: &Blkiotune, key: BlkioKey) -> String {
    let parts: Vec<String> = tune
        .devices
        .iter()
        .filter(|d| device_value(d, key) != 0)
        .map(|d| format!("{},{}", d.path, device_value(d, key)))
        .collect();
    parts.join(",")
}

pub fn get_blkio(
    driver: &Driver,
    dom: &DomainRef,
    nparams: i32,
    flags: u32,
) -> Result<(TypedParams, i32)> {
    check_flags(
        "qemuDomainGetBlkioParameters",
        flags,
        LIVE | CONFIG | STRING_OKAY,
    )?;
    privileged(driver, ErrorCode::CONFIG_UNSUPPORTED, "Block I/O tuning")?;
    if nparams == 0 {
        return Ok((TypedParams::new(), 6)); // QEMU_NB_BLKIO_PARAM
    }
    let live = get_scope(driver, dom, flags & (LIVE | CONFIG))?;
    let (weight, tune) = if live {
        let state = Live::get(driver, dom)?;
        let dir = state.dir(Controller::Blkio, None, "blkio cgroup isn't mounted")?;
        (dir.blkio_weight()?, state.def.blkiotune)
    } else {
        let tune = def_for(driver, dom, false)?.blkiotune;
        (tune.weight, tune)
    };
    let mut p = TypedParams::new().with("weight", TypedParamValue::UInt(weight));
    for (name, key) in DEVICE_PARAMS {
        p.push(name, TypedParamValue::String(device_string(&tune, key)));
    }
    Ok(first(p, nparams))
}

/// `virDomainDriverParseBlkioDeviceStr`: "path,value[,path,value...]".
fn parse_devices(text: &str, field: &str) -> Result<Vec<(String, u64)>> {
    let bad = || {
        error(
            ErrorCode::INVALID_ARG,
            format!("unable to parse blkio device '{text}' '{field}'"),
        )
    };
    let parts: Vec<&str> = text.split(',').collect();
    if text.is_empty() || !parts.len().is_multiple_of(2) {
        return Err(bad());
    }
    parts
        .chunks(2)
        .map(|pair| Ok((pair[0].to_string(), pair[1].parse().map_err(|_| bad())?)))
        .collect()
}

fn merge_devices(tune: &mut Blkiotune, key: BlkioKey, devices: &[(String, u64)]) {
    for (path, value) in devices {
        match tune.devices.iter_mut().find(|d| &d.path == path) {
            Some(d) => set_device_value(d, key, *value),
            None => {
                let mut d = BlkioDevice {
                    path: path.clone(),
                    ..Default::default()
                };
                set_device_value(&mut d, key, *value);
                tune.devices.push(d);
            }
        }
    }
}

/// One parameter of a set: the weight (no key) or a device list.
type BlkioChange = (Option<BlkioKey>, u64, Vec<(String, u64)>);

pub fn set_blkio(driver: &Driver, dom: &DomainRef, params: &TypedParams, flags: u32) -> Result<()> {
    check_flags("qemuDomainSetBlkioParameters", flags, LIVE | CONFIG)?;
    let mut allowed = vec![("weight", TypedParamType::UInt, false)];
    allowed.extend(DEVICE_PARAMS.map(|(n, _)| (n, TypedParamType::String, false)));
    params.validate(&allowed)?;
    privileged(driver, ErrorCode::CONFIG_UNSUPPORTED, "Block I/O tuning")?;
    ops::with_job(driver, dom, || {
        let (live, config) = crate::vcpus::resolve_scope(driver, dom, flags)?;
        let mut changes: Vec<BlkioChange> = Vec::new();
        for p in params.iter() {
            match (&p.value, DEVICE_PARAMS.iter().find(|(n, _)| *n == p.field)) {
                (TypedParamValue::UInt(w), None) => {
                    if config && !(100..=1000).contains(w) {
                        return Err(error(ErrorCode::INVALID_ARG, "out of blkio weight range."));
                    }
                    changes.push((None, u64::from(*w), Vec::new()));
                }
                (TypedParamValue::String(s), Some((name, key))) => {
                    changes.push((Some(*key), 0, parse_devices(s, name)?));
                }
                _ => {}
            }
        }
        if live {
            let state = Live::get(driver, dom)?;
            let dir = state.dir(Controller::Blkio, None, "blkio cgroup isn't mounted")?;
            for (key, weight, devices) in &changes {
                match key {
                    None => {
                        dir.set_blkio_weight(*weight as u32)?;
                        let now = dir.blkio_weight()?;
                        commit_live(driver, dom, |def| def.blkiotune.weight = now);
                    }
                    Some(key) => {
                        let mut read_back = Vec::new();
                        for (path, value) in devices {
                            dir.set_blkio_device(*key, path, *value)?;
                            read_back.push((path.clone(), dir.blkio_device(*key, path)?));
                        }
                        commit_live(driver, dom, |def| {
                            merge_devices(&mut def.blkiotune, *key, &read_back)
                        });
                    }
                }
            }
        }
        if config {
            ops::update_config(driver, dom, |def| {
                for (key, weight, devices) in &changes {
                    match key {
                        None => def.blkiotune.weight = *weight as u32,
                        Some(key) => merge_devices(&mut def.blkiotune, *key, devices),
                    }
                }
            })?;
        }
        Ok(())
    })
}

/// `virDomainNumatuneMemMode` numbers.
const MODES: [MemMode; 4] = [
    MemMode::Strict,
    MemMode::Preferred,
    MemMode::Interleave,
    MemMode::Restrictive,
];

fn mode_of(def: &DomainDef) -> MemMode {
    def.numatune
        .memory
        .as_ref()
        .map_or(MemMode::Strict, |m| m.mode)
}

fn nodeset_of(def: &DomainDef) -> Option<Vec<u32>> {
    match &def.numatune.memory.as_ref()?.placement {
        Placement::Static(nodes) => Some(nodes.clone()),
        Placement::Auto => None,
    }
}

pub fn get_numa(
    driver: &Driver,
    dom: &DomainRef,
    nparams: i32,
    flags: u32,
) -> Result<(TypedParams, i32)> {
    check_flags(
        "qemuDomainGetNumaParameters",
        flags,
        LIVE | CONFIG | STRING_OKAY,
    )?;
    let live = get_scope(driver, dom, flags & (LIVE | CONFIG))?;
    if nparams == 0 {
        return Ok((TypedParams::new(), 2)); // QEMU_NB_NUMA_PARAM
    }
    let def = def_for(driver, dom, live)?;
    let mode = MODES.iter().position(|m| *m == mode_of(&def)).unwrap_or(0);
    let nodeset = nodeset_of(&def)
        .map(|n| format_cpus(&n))
        .unwrap_or_default();
    let p = TypedParams::new()
        .with("numa_mode", TypedParamValue::Int(mode as i32))
        .with("numa_nodeset", TypedParamValue::String(nodeset));
    Ok(first(p, nparams))
}

/// `virDomainNumatuneSet` for the global `<memory>`: a mode or a nodeset
/// (or both) replaces what was there.
fn numatune_set(def: &mut DomainDef, mode: Option<MemMode>, nodes: Option<&[u32]>) {
    let old = def.numatune.memory.take();
    let mode = mode
        .or(old.as_ref().map(|m| m.mode))
        .unwrap_or(MemMode::Strict);
    let placement = match (nodes, old) {
        (Some(n), _) => Placement::Static(n.to_vec()),
        (None, Some(m)) => m.placement,
        (None, None) => return,
    };
    def.numatune.memory = Some(MemoryTune { mode, placement });
}

pub fn set_numa(driver: &Driver, dom: &DomainRef, params: &TypedParams, flags: u32) -> Result<()> {
    check_flags("qemuDomainSetNumaParameters", flags, LIVE | CONFIG)?;
    params.validate(&[
        ("numa_mode", TypedParamType::Int, false),
        ("numa_nodeset", TypedParamType::String, false),
    ])?;
    let mode = match params.get("numa_mode") {
        Some(TypedParamValue::Int(m)) => Some(
            usize::try_from(*m)
                .ok()
                .and_then(|i| MODES.get(i).copied())
                .ok_or_else(|| {
                    error(
                        ErrorCode::INVALID_ARG,
                        format!("unsupported numatune mode: '{m}'"),
                    )
                })?,
        ),
        _ => None,
    };
    let nodes = match params.get_string("numa_nodeset") {
        Some(text) => {
            let nodes = crate::cgroup::files::parse_cpus(text);
            if nodes.is_empty() {
                return Err(error(
                    ErrorCode::OPERATION_INVALID,
                    format!("Invalid nodeset of 'numatune': {text}"),
                ));
            }
            Some(nodes)
        }
        None => None,
    };
    ops::with_job(driver, dom, || {
        let (live, config) = crate::vcpus::resolve_scope(driver, dom, flags)?;
        if live {
            privileged(driver, ErrorCode::OPERATION_UNSUPPORTED, "NUMA tuning")?;
            let state = Live::get(driver, dom)?;
            let missing = "cgroup cpuset controller is not mounted";
            state.dir(Controller::Cpuset, None, missing)?;
            let current = mode_of(&state.def);
            if mode.is_some_and(|m| m != current) && state.def.numatune.memory.is_some() {
                return Err(error(
                    ErrorCode::OPERATION_INVALID,
                    "can't change numatune mode for running domain",
                ));
            }
            if mode == Some(MemMode::Strict) {
                if nodes != nodeset_of(&state.def) {
                    return Err(error(
                        ErrorCode::OPERATION_INVALID,
                        "can't change nodeset for strict mode for running domain",
                    ));
                }
            } else {
                if let Some(nodes) = &nodes {
                    set_mems_live(&state, current, nodes)?;
                }
                commit_live(driver, dom, |def| numatune_set(def, mode, nodes.as_deref()));
            }
        }
        if config {
            ops::update_config(driver, dom, |def| numatune_set(def, mode, nodes.as_deref()))?;
        }
        Ok(())
    })
}

/// `qemuDomainSetNumaParamsLive`: restrictive mode only; the memory
/// nodes of the emulator and every vCPU group.
fn set_mems_live(state: &Live, mode: MemMode, nodes: &[u32]) -> Result<()> {
    if state.def.numatune.memory.is_some() && mode != MemMode::Restrictive {
        return Err(error(
            ErrorCode::OPERATION_INVALID,
            "change of nodeset for running domain requires restrictive numa mode",
        ));
    }
    let missing = "cgroup cpuset controller is not mounted";
    let groups = std::iter::once("emulator".to_string())
        .chain((0..state.def.vcpus).map(|i| format!("vcpu{i}")));
    for group in groups {
        state
            .dir(Controller::Cpuset, Some(&group), missing)?
            .set_cpuset("mems", nodes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blkio_device_strings() {
        let devices = parse_devices("/dev/sda,1000,/dev/sdb,0", "device_read_iops_sec").unwrap();
        assert_eq!(
            devices,
            vec![("/dev/sda".into(), 1000), ("/dev/sdb".into(), 0)]
        );
        let err = parse_devices("/dev/sda", "device_weight").unwrap_err();
        assert_eq!(
            err.message,
            "invalid argument: unable to parse blkio device '/dev/sda' 'device_weight'"
        );
        let mut tune = Blkiotune::default();
        merge_devices(&mut tune, BlkioKey::ReadIops, &devices);
        merge_devices(&mut tune, BlkioKey::WriteBps, &[("/dev/sda".into(), 4096)]);
        assert_eq!(device_string(&tune, BlkioKey::ReadIops), "/dev/sda,1000");
        assert_eq!(device_string(&tune, BlkioKey::WriteBps), "/dev/sda,4096");
        assert_eq!(device_string(&tune, BlkioKey::Weight), "");
    }

    #[test]
    fn numatune_updates() {
        let mut def = DomainDef::parse(
            "<domain type='qemu'><name>t</name><memory>1024</memory>\
             <os><type arch='x86_64'>hvm</type></os></domain>",
        )
        .unwrap();
        numatune_set(&mut def, Some(MemMode::Interleave), None);
        assert_eq!(def.numatune.memory, None);
        numatune_set(&mut def, None, Some(&[0]));
        assert_eq!(mode_of(&def), MemMode::Strict);
        numatune_set(&mut def, Some(MemMode::Restrictive), None);
        assert_eq!(
            (mode_of(&def), nodeset_of(&def)),
            (MemMode::Restrictive, Some(vec![0]))
        );
    }
}
