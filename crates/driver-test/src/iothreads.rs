//! The test driver's IOThreads (test_driver.c's
//! `testDomainGetIOThreadInfo`, `testDomainAddIOThread`,
//! `testDomainDelIOThread`, `testDomainPinIOThread`,
//! `testDomainSetIOThreadParams`): the `<iothreadids>` of the
//! definition the `VIR_DOMAIN_AFFECT_*` flags pick, their pins in
//! `<cputune>`. The polling parameters libvirt keeps beside them show only
//! in its domain stats, which this driver does not give, so a set is
//! checked and not kept.

use crate::check_flags;
use crate::connection::TestConnection;
use crate::scope::{cpumap_to_list, list_to_cpumap, one_def, one_def_mut, CONFIG, LIVE};
use rvirt::driver::DomainRef;
use rvirt_conf::domain::iothreads::IoThread;
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorDomain, Result, TypedParamType, TypedParams};

fn invalid(domain: ErrorDomain, text: String) -> Error {
    Error::invalid_arg(domain, text)
}

fn zero_id() -> Error {
    invalid(
        ErrorDomain::TEST,
        "invalid value of 0 for iothread_id".into(),
    )
}

fn has_id(def: &DomainDef, id: u32) -> bool {
    def.iothreads.ids.iter().any(|t| t.id == id)
}

/// `virBitmapToData`: the bytes up to the last CPU set (one at least).
fn to_data(cpus: &[u32]) -> Vec<u8> {
    let len = cpus.last().map_or(1, |last| *last as usize / 8 + 1);
    list_to_cpumap(cpus, len)
}

/// `virDomainDriverGetIOThreadsConfig` with the test driver's default
/// map: one bit per online vCPU.
pub fn info(conn: &TestConnection, dom: &DomainRef, flags: u32) -> Result<Vec<(u32, Vec<u8>)>> {
    check_flags("testDomainGetIOThreadInfo", flags, LIVE | CONFIG)?;
    conn.read(dom, |obj| {
        let def = one_def(obj, flags)?;
        let vcpus = def.current_vcpus.unwrap_or(def.vcpus);
        let all: Vec<u32> = (0..vcpus).collect();
        let pins = &def.cputune.iothreadpins;
        Ok(def
            .iothreads
            .ids
            .iter()
            .map(|t| {
                let pin = pins.iter().find(|(id, _)| *id == t.id).map(|(_, c)| c);
                let cpus = pin.or(def.cpuset.as_ref()).unwrap_or(&all);
                (t.id, to_data(cpus))
            })
            .collect())
    })
}

pub fn add(conn: &TestConnection, dom: &DomainRef, id: u32, flags: u32) -> Result<()> {
    check_flags("testDomainAddIOThread", flags, LIVE | CONFIG)?;
    if id == 0 {
        return Err(zero_id());
    }
    conn.state().with(|inner| {
        let (def, _) = one_def_mut(inner.domains.get_mut(dom)?, flags)?;
        if has_id(def, id) {
            return Err(invalid(
                ErrorDomain::DOMAIN,
                format!("an IOThread is already using iothread_id '{id}'"),
            ));
        }
        def.iothreads.ids.push(IoThread {
            id,
            pool_min: None,
            pool_max: None,
            autofill: false,
        });
        Ok(())
    })
}

pub fn del(conn: &TestConnection, dom: &DomainRef, id: u32, flags: u32) -> Result<()> {
    check_flags("testDomainDelIOThread", flags, LIVE | CONFIG)?;
    if id == 0 {
        return Err(zero_id());
    }
    conn.state().with(|inner| {
        let (def, _) = one_def_mut(inner.domains.get_mut(dom)?, flags)?;
        if !has_id(def, id) {
            return Err(invalid(
                ErrorDomain::DOMAIN,
                format!("cannot find IOThread '{id}' in iothreadids list"),
            ));
        }
        let devices = &def.devices;
        if let Some(d) = devices.disks.iter().find(|d| d.driver.iothread == Some(id)) {
            return Err(invalid(
                ErrorDomain::DOMAIN,
                format!(
                    "cannot remove IOThread {id} since it is being used by disk '{}'",
                    d.target.dev
                ),
            ));
        }
        if devices.controllers.iter().any(|c| c.driver.iothread == id) {
            return Err(invalid(
                ErrorDomain::DOMAIN,
                format!("cannot remove IOThread '{id}' since it is being used by controller"),
            ));
        }
        // virDomainIOThreadIDDel: the IDs after it are no longer made up.
        let ids = &mut def.iothreads.ids;
        if let Some(at) = ids.iter().position(|t| t.id == id) {
            ids.remove(at);
            ids[at..].iter_mut().for_each(|t| t.autofill = false);
        }
        def.cputune.iothreadpins.retain(|(t, _)| *t != id);
        Ok(())
    })
}

pub fn pin(conn: &TestConnection, dom: &DomainRef, id: u32, map: &[u8], flags: u32) -> Result<()> {
    check_flags("testDomainPinIOThread", flags, LIVE | CONFIG)?;
    conn.state().with(|inner| {
        let (def, _) = one_def_mut(inner.domains.get_mut(dom)?, flags)?;
        let cpus = cpumap_to_list(map);
        if cpus.is_empty() {
            return Err(invalid(
                ErrorDomain::TEST,
                "Empty iothread cpumap list for pinning".into(),
            ));
        }
        let Some(thread) = def.iothreads.ids.iter_mut().find(|t| t.id == id) else {
            return Err(invalid(
                ErrorDomain::TEST,
                format!("iothreadid {id} not found"),
            ));
        };
        thread.autofill = false;
        let pins = &mut def.cputune.iothreadpins;
        pins.retain(|(t, _)| *t != id);
        pins.push((id, cpus));
        pins.sort_by_key(|(t, _)| *t);
        Ok(())
    })
}

pub fn set_params(
    conn: &TestConnection,
    dom: &DomainRef,
    id: u32,
    params: &TypedParams,
    flags: u32,
) -> Result<()> {
    check_flags("testDomainSetIOThreadParams", flags, LIVE)?;
    if id == 0 {
        return Err(zero_id());
    }
    conn.read(dom, |obj| {
        if !has_id(one_def(obj, flags)?, id) {
            return Err(invalid(
                ErrorDomain::TEST,
                format!("cannot find IOThread '{id}' in iothreadids"),
            ));
        }
        params.validate(&[
            ("poll_max_ns", TypedParamType::ULLong, false),
            ("poll_grow", TypedParamType::UInt, false),
            ("poll_shrink", TypedParamType::UInt, false),
        ])
    })
}
