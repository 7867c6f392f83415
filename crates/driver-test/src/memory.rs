//! The test driver's memory calls (test_driver.c's
//! `testDomainSetMemoryFlags`, `testDomainMemoryStats`) and
//! `testDomainReset`, `testDomainInjectNMI` (which only check the domain
//! runs), `testDomainGetControlInfo` and `testDomainGetDiskErrors`.

use crate::check_flags;
use crate::connection::TestConnection;
use crate::objects::DomainObj;
use crate::scope::{one_def_mut, CONFIG, LIVE};
use rvirt::driver::DomainRef;
use rvirt_conf::domain::devices::MemballoonModel;
use rvirt_util::{Error, ErrorDomain, Result};

/// `VIR_DOMAIN_MEM_MAXIMUM`.
const MEM_MAXIMUM: u32 = 4;

/// `virDomainObjCheckActive`.
pub fn check_active(obj: &DomainObj) -> Result<()> {
    match obj.is_active() {
        true => Ok(()),
        false => Err(Error::operation_invalid(
            ErrorDomain::DOMAIN,
            "domain is not running",
        )),
    }
}

fn invalid_op(text: &str) -> Error {
    Error::operation_invalid(ErrorDomain::TEST, text)
}

pub fn set_memory_flags(
    conn: &TestConnection,
    dom: &DomainRef,
    kib: u64,
    flags: u32,
) -> Result<()> {
    check_flags(
        "testDomainSetMemoryFlags",
        flags,
        LIVE | CONFIG | MEM_MAXIMUM,
    )?;
    conn.state().with(|inner| {
        let (def, live) = one_def_mut(inner.domains.get_mut(dom)?, flags)?;
        if flags & MEM_MAXIMUM == 0 {
            if kib > def.memory_kib {
                return Err(Error::invalid_arg(
                    ErrorDomain::TEST,
                    "cannot set memory higher than max memory",
                ));
            }
            def.current_memory_kib = kib;
            return Ok(());
        }
        if live {
            return Err(invalid_op(
                "cannot resize the maximum memory on an active domain",
            ));
        }
        if def.cpu.as_ref().is_some_and(|c| !c.numa.is_empty()) {
            return Err(invalid_op(
                "initial memory size of a domain with NUMA nodes cannot be modified with this API",
            ));
        }
        if def.max_memory.is_some_and(|(max, _)| max != 0 && max < kib) {
            return Err(invalid_op(
                "cannot set initial memory size greater than the maximum memory size",
            ));
        }
        def.memory_kib = kib;
        def.current_memory_kib = def.current_memory_kib.min(kib);
        Ok(())
    })
}

pub fn reset(conn: &TestConnection, dom: &DomainRef, flags: u32) -> Result<()> {
    check_flags("testDomainReset", flags, 0)?;
    conn.read(dom, check_active)
}

/// `VIR_DOMAIN_MEMORY_STAT_*` tags.
const SWAP_IN: i32 = 0;
const SWAP_OUT: i32 = 1;
const MAJOR_FAULT: i32 = 2;
const MINOR_FAULT: i32 = 3;
const UNUSED: i32 = 4;
const AVAILABLE: i32 = 5;
const ACTUAL_BALLOON: i32 = 6;
const RSS: i32 = 7;
const USABLE: i32 = 8;
const LAST_UPDATE: i32 = 9;
const DISK_CACHES: i32 = 10;
const HUGETLB_PGALLOC: i32 = 11;
const HUGETLB_PGFAIL: i32 = 12;

/// Made-up statistics from the current memory, with a balloon only.
pub fn memory_stats(
    conn: &TestConnection,
    dom: &DomainRef,
    max: u32,
    flags: u32,
) -> Result<Vec<(i32, u64)>> {
    check_flags("testDomainMemoryStats", flags, 0)?;
    conn.read(dom, |obj| {
        check_active(obj)?;
        let def = &obj.def;
        let balloon = def.devices.memballoon.as_ref();
        if balloon.is_none_or(|b| b.model == MemballoonModel::None) {
            return Ok(Vec::new());
        }
        let cur = def.current_memory_kib;
        let stats = [
            (ACTUAL_BALLOON, cur),
            (SWAP_IN, 0),
            (SWAP_OUT, 0),
            (MAJOR_FAULT, 0),
            (MINOR_FAULT, 0),
            (UNUSED, cur / 2),
            (AVAILABLE, cur),
            (USABLE, cur / 2),
            (LAST_UPDATE, 627319920),
            (DISK_CACHES, cur / 8),
            (HUGETLB_PGALLOC, 0),
            (HUGETLB_PGFAIL, 0),
            (RSS, cur / 2),
        ];
        Ok(stats.into_iter().take(max as usize).collect())
    })
}

/// `testDomainGetControlInfo`: a state made up from the guest clock
/// `virDomainSetTime` sets: under 10000 s a job for that long, under
/// 30000 occupied, under 60000 an error (its reason the seconds modulo
/// 4), else `VIR_DOMAIN_CONTROL_OK`.
pub fn control_info(conn: &TestConnection, dom: &DomainRef, flags: u32) -> Result<(u32, u32, u64)> {
    check_flags("testDomainGetControlInfo", flags, 0)?;
    conn.read(dom, |obj| {
        check_active(obj)?;
        let s = obj.guest.seconds;
        Ok(match s {
            1..=9999 => (1, 0, s as u64),
            10000..=29999 => (2, 0, (s - 10000) as u64),
            30000..=59999 => (3, (s % 4) as u32, (s - 30000) as u64),
            _ => (0, 0, 0),
        })
    })
}

/// `VIR_DOMAIN_DISK_ERROR_LAST`.
const DISK_ERROR_LAST: usize = 3;

/// `testDomainGetDiskErrors`: a made-up error for each of the first disks
/// (unspecified, then no space, in turn); with `max` 0 the disk count.
pub fn disk_errors(
    conn: &TestConnection,
    dom: &DomainRef,
    max: u32,
    flags: u32,
) -> Result<(Vec<(String, i32)>, i32)> {
    check_flags("testDomainGetDiskErrors", flags, 0)?;
    conn.read(dom, |obj| {
        check_active(obj)?;
        let disks = &obj.def.devices.disks;
        if max == 0 {
            return Ok((Vec::new(), disks.len() as i32));
        }
        let errors: Vec<(String, i32)> = disks
            .iter()
            .take(max as usize)
            .enumerate()
            .map(|(i, d)| (d.target.dev.clone(), (i % (DISK_ERROR_LAST - 1)) as i32 + 1))
            .collect();
        let n = errors.len() as i32;
        Ok((errors, n))
    })
}
