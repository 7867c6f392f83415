//! Which definition a call with `VIR_DOMAIN_AFFECT_*` flags reads or
//! changes (libvirt's `virDomainObjGetOneDefState` and
//! `virDomainObjUpdateModificationImpact`), with their errors.

use crate::objects::DomainObj;
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_DOMAIN_AFFECT_LIVE`.
pub const LIVE: u32 = 1;
/// `VIR_DOMAIN_AFFECT_CONFIG`.
pub const CONFIG: u32 = 2;
/// `VIR_TYPED_PARAM_STRING_OKAY`.
pub const STRING_OKAY: u32 = 4;

/// Whether `flags` (`VIR_DOMAIN_AFFECT_*`) resolve to the live
/// definition of `obj` (else its persistent one).
pub fn resolve(obj: &DomainObj, flags: u32) -> Result<bool> {
    if flags & LIVE != 0 && flags & CONFIG != 0 {
        // virReportInvalidArg: the text alone, without the code's prefix.
        return Err(Error::raw(
            ErrorDomain::DOMAIN,
            ErrorCode::INVALID_ARG,
            "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive",
        ));
    }
    let active = obj.is_active();
    let live = match flags & (LIVE | CONFIG) {
        0 => active,
        f => f & LIVE != 0,
    };
    if live && !active {
        return Err(Error::operation_invalid(
            ErrorDomain::DOMAIN,
            "domain is not running",
        ));
    }
    if !live && !obj.persistent {
        return Err(Error::operation_invalid(
            ErrorDomain::DOMAIN,
            "transient domains do not have any persistent config",
        ));
    }
    Ok(live)
}

/// The definition `flags` name, to read.
pub fn one_def(obj: &DomainObj, flags: u32) -> Result<&DomainDef> {
    Ok(match resolve(obj, flags)? {
        true => &obj.def,
        false => obj.persistent_def(),
    })
}

/// The definition `flags` name, to change, and whether it is the live
/// one. A running persistent domain's configuration is kept apart first
/// (libvirt's `newDef` always is), so a live change stays live.
pub fn one_def_mut(obj: &mut DomainObj, flags: u32) -> Result<(&mut DomainDef, bool)> {
    let live = resolve(obj, flags)?;
    let active = obj.is_active();
    if active && obj.persistent && obj.new_def.is_none() {
        obj.new_def = Some(obj.def.clone());
    }
    match obj.new_def {
        Some(ref mut config) if active && !live => Ok((config, false)),
        _ => Ok((&mut obj.def, live)),
    }
}

/// libvirt's cpumap: bit N of byte N/8 for host CPU N.
pub fn cpumap_to_list(map: &[u8]) -> Vec<u32> {
    (0..map.len() * 8)
        .filter(|i| map[i / 8] & (1 << (i % 8)) != 0)
        .map(|i| i as u32)
        .collect()
}

/// `virBitmapToDataBuf`: the CPUs that fit in `maplen` bytes.
pub fn list_to_cpumap(cpus: &[u32], maplen: usize) -> Vec<u8> {
    let mut map = vec![0u8; maplen];
    for cpu in cpus.iter().map(|c| *c as usize).filter(|c| c / 8 < maplen) {
        map[cpu / 8] |= 1 << (cpu % 8);
    }
    map
}

/// `VIR_DOMAIN_CPUMASK_LEN`: the bits a cpuset or nodeset may name.
const CPUMASK_LEN: u32 = 4096;

/// `virBitmapParse` with `VIR_DOMAIN_CPUMASK_LEN`, and its error.
pub fn parse_bitmap(text: &str) -> Result<Vec<u32>> {
    rvirt_conf::domain::parse_bitmap(text)
        .filter(|bits| bits.iter().all(|b| *b < CPUMASK_LEN))
        .ok_or_else(|| {
            Error::invalid_arg(
                ErrorDomain::NONE,
                format!("Failed to parse bitmap '{text}'"),
            )
        })
}

/// `virDomainObjGetDefs`: whether the live and the persistent
/// definitions are concerned (both may be, unlike [`resolve`]).
pub fn defs(obj: &DomainObj, flags: u32) -> Result<(bool, bool)> {
    let active = obj.is_active();
    let flags = match flags & (LIVE | CONFIG) {
        0 if active => LIVE,
        0 => CONFIG,
        f => f,
    };
    if flags & LIVE != 0 && !active {
        return Err(Error::operation_invalid(
            ErrorDomain::DOMAIN,
            "domain is not running",
        ));
    }
    if flags & CONFIG != 0 && !obj.persistent {
        return Err(Error::operation_invalid(
            ErrorDomain::DOMAIN,
            "transient domains do not have any persistent config",
        ));
    }
    Ok((active && flags & LIVE != 0, !active || flags & CONFIG != 0))
}
