//! The test driver's vCPU and emulator pinning (test_driver.c's
//! `testDomainPinVcpuFlags`, `testDomainGetVcpuPinInfo`,
//! `testDomainPinEmulator`, `testDomainGetEmulatorPinInfo`,
//! `testDomainGetVcpus`): pins live in the definition's `<cputune>`; a
//! thread without one may use `<vcpu cpuset>` or every host CPU.

use crate::check_flags;
use crate::connection::TestConnection;
use crate::scope::{cpumap_to_list, list_to_cpumap, one_def, one_def_mut, CONFIG, LIVE};
use rvirt::driver::DomainRef;
use rvirt::types::VcpuInfo;
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorDomain, Result};

/// `VIR_VCPU_RUNNING`.
const VCPU_RUNNING: i32 = 1;

/// `VIR_NODEINFO_MAXCPUS`: every CPU of the host's topology.
fn host_cpus(conn: &TestConnection) -> Vec<u32> {
    let n = &conn.state().node;
    (0..n.nodes * n.sockets * n.cores * n.threads).collect()
}

/// `virDomainVcpuDef.online`: from `<vcpus>`, else the first
/// `current` of them.
fn vcpu_online(def: &DomainDef, vcpu: u32) -> bool {
    match &def.vcpu_states {
        Some(states) => states.get(vcpu as usize).is_some_and(|s| s.online),
        None => vcpu < def.current_vcpus.unwrap_or(def.vcpus),
    }
}

fn vcpu_pin(def: &DomainDef, vcpu: u32) -> Option<&Vec<u32>> {
    let pins = &def.cputune.vcpupins;
    pins.iter().find(|(v, _)| *v == vcpu).map(|(_, cpus)| cpus)
}

/// The CPUs vCPU `vcpu` may use: its pin, `<vcpu cpuset>`, or `host`.
fn vcpu_cpus(def: &DomainDef, vcpu: u32, host: &[u32]) -> Vec<u32> {
    vcpu_pin(def, vcpu)
        .or(def.cpuset.as_ref())
        .cloned()
        .unwrap_or_else(|| host.to_vec())
}

pub fn pin_vcpu(
    conn: &TestConnection,
    dom: &DomainRef,
    vcpu: u32,
    map: &[u8],
    flags: u32,
) -> Result<()> {
    check_flags("testDomainPinVcpuFlags", flags, 0)?;
    conn.state().with(|inner| {
        let obj = inner.domains.get_mut(dom)?;
        if !obj.is_active() {
            return Err(Error::operation_invalid(
                ErrorDomain::TEST,
                "cannot pin vcpus on an inactive domain",
            ));
        }
        if vcpu >= obj.def.vcpus || !vcpu_online(&obj.def, vcpu) {
            return Err(Error::invalid_arg(
                ErrorDomain::TEST,
                format!("requested vcpu '{vcpu}' is not present in the domain"),
            ));
        }
        // The live definition, as libvirt changes `privdom->def`.
        let (def, _) = one_def_mut(obj, LIVE)?;
        let pins = &mut def.cputune.vcpupins;
        pins.retain(|(v, _)| *v != vcpu);
        pins.push((vcpu, cpumap_to_list(map)));
        pins.sort_by_key(|(v, _)| *v);
        Ok(())
    })
}

/// `virDomainDefGetVcpuPinInfoHelper`: a map per vCPU up to `ncpumaps`.
pub fn vcpu_pin_info(
    conn: &TestConnection,
    dom: &DomainRef,
    ncpumaps: usize,
    maplen: usize,
    flags: u32,
) -> Result<(Vec<u8>, i32)> {
    let host = host_cpus(conn);
    conn.read(dom, |obj| {
        let def = one_def(obj, flags)?;
        let count = (def.vcpus as usize).min(ncpumaps);
        let mut maps = vec![0u8; ncpumaps * maplen];
        for vcpu in 0..count {
            let cpus = vcpu_cpus(def, vcpu as u32, &host);
            maps[vcpu * maplen..(vcpu + 1) * maplen]
                .copy_from_slice(&list_to_cpumap(&cpus, maplen));
        }
        Ok((maps, count as i32))
    })
}

pub fn pin_emulator(conn: &TestConnection, dom: &DomainRef, map: &[u8], flags: u32) -> Result<()> {
    check_flags("testDomainPinEmulator", flags, LIVE | CONFIG)?;
    conn.state().with(|inner| {
        let (def, _) = one_def_mut(inner.domains.get_mut(dom)?, flags)?;
        let cpus = cpumap_to_list(map);
        if cpus.is_empty() {
            return Err(Error::invalid_arg(
                ErrorDomain::TEST,
                "Empty cpu list for pinning",
            ));
        }
        def.cputune.emulatorpin = Some(cpus);
        Ok(())
    })
}

pub fn emulator_pin_info(
    conn: &TestConnection,
    dom: &DomainRef,
    maplen: usize,
    flags: u32,
) -> Result<(Vec<u8>, i32)> {
    check_flags("testDomainGetEmulatorPinInfo", flags, LIVE | CONFIG)?;
    let host = host_cpus(conn);
    conn.read(dom, |obj| {
        let def = one_def(obj, flags)?;
        let cpus = def.cputune.emulatorpin.as_ref().or(def.cpuset.as_ref());
        let cpus = cpus.map_or(host.as_slice(), Vec::as_slice);
        Ok((list_to_cpumap(cpus, maplen), 1))
    })
}

/// `testDomainGetVcpus`: each online vCPU up to `maxinfo` runs on the
/// last CPU it may use, with a made-up time (the wall clock / 10, in
/// microseconds as libvirt's `g_get_real_time`).
pub fn get_vcpus(
    conn: &TestConnection,
    dom: &DomainRef,
    maxinfo: usize,
    maplen: usize,
) -> Result<(Vec<VcpuInfo>, Vec<u8>)> {
    let host = host_cpus(conn);
    let statbase = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    conn.read(dom, |obj| {
        if !obj.is_active() {
            return Err(Error::operation_invalid(
                ErrorDomain::TEST,
                "cannot list vcpus for an inactive domain",
            ));
        }
        let def = &obj.def;
        let count = maxinfo.min(def.current_vcpus.unwrap_or(def.vcpus) as usize);
        let mut infos = vec![VcpuInfo::default(); count];
        let mut maps = vec![0u8; maxinfo * maplen];
        for (i, info) in infos.iter_mut().enumerate() {
            if !vcpu_online(def, i as u32) {
                continue;
            }
            let cpus = vcpu_cpus(def, i as u32, &host);
            maps[i * maplen..(i + 1) * maplen].copy_from_slice(&list_to_cpumap(&cpus, maplen));
            *info = VcpuInfo {
                number: i as u32,
                state: VCPU_RUNNING,
                cpu_time: statbase / 10,
                cpu: cpus.last().map_or(-1, |c| *c as i32),
            };
        }
        Ok((infos, maps))
    })
}

/// `VIR_DOMAIN_VCPU_MAXIMUM`.
const VCPU_MAXIMUM: u32 = 4;
/// What `testConnectGetMaxVcpus` answers.
const MAX_VCPUS: u32 = 32;

fn exceeds(n: u32, max: u32) -> Error {
    Error::invalid_arg(
        ErrorDomain::TEST,
        format!("requested cpu amount exceeds maximum ({n} > {max})"),
    )
}

/// `virDomainDefSetVcpus`: the first `n` vCPUs online.
fn set_current(def: &mut DomainDef, n: u32) {
    def.current_vcpus = Some(n);
    if let Some(states) = def.vcpu_states.as_mut() {
        for (i, s) in states.iter_mut().enumerate() {
            s.online = (i as u32) < n;
        }
    }
}

/// `virDomainDefSetVcpusMax`: vCPUs past `n` go, new ones are offline.
fn set_max(def: &mut DomainDef, n: u32) {
    if def.vcpus == n {
        return;
    }
    let current = def.current_vcpus.unwrap_or(def.vcpus);
    if let Some(states) = def.vcpu_states.as_mut() {
        let offline = rvirt_conf::domain::vcpus::VcpuState {
            online: false,
            hotpluggable: Some(rvirt_conf::domain::props::TriBool::Yes),
            order: 0,
        };
        states.resize(n as usize, offline);
    }
    def.vcpus = n;
    def.current_vcpus = Some(current.min(n));
    def.cputune.vcpupins.retain(|(v, _)| *v < n);
}

/// `testDomainSetVcpusFlags`: the live count, the persistent count, or
/// with `VIR_DOMAIN_VCPU_MAXIMUM` the persistent maximum (and, as
/// libvirt does, the live count when asked for the live definition).
pub fn set_vcpus(conn: &TestConnection, dom: &DomainRef, n: u32, flags: u32) -> Result<()> {
    check_flags(
        "testDomainSetVcpusFlags",
        flags,
        LIVE | CONFIG | VCPU_MAXIMUM,
    )?;
    if n > MAX_VCPUS {
        return Err(Error::invalid_arg(
            ErrorDomain::TEST,
            format!("requested cpu amount exceeds maximum supported amount ({n} > {MAX_VCPUS})"),
        ));
    }
    conn.state().with(|inner| {
        let obj = inner.domains.get_mut(dom)?;
        let (live, config) = crate::scope::defs(obj, flags)?;
        if live && obj.def.vcpus < n {
            return Err(exceeds(n, obj.def.vcpus));
        }
        let persistent_max = obj.persistent_def().vcpus;
        if config && flags & VCPU_MAXIMUM == 0 && persistent_max < n {
            return Err(exceeds(n, persistent_max));
        }
        if live {
            let (def, _) = one_def_mut(obj, LIVE)?;
            set_current(def, n);
        }
        if config {
            let (def, _) = one_def_mut(obj, CONFIG)?;
            match flags & VCPU_MAXIMUM {
                0 => set_current(def, n),
                _ => set_max(def, n),
            }
        }
        Ok(())
    })
}
