//! The test driver's per-device calls (test_driver.c's
//! `testDomainBlockStats`, `testDomainInterfaceStats`,
//! `testDomain{Get,Set}InterfaceParameters`): made-up statistics from the
//! wall clock, and the `<bandwidth>` of an interface's definition.

use crate::check_flags;
use crate::connection::TestConnection;
use crate::objects::DomainObj;
use crate::scope::{one_def, one_def_mut, CONFIG, LIVE, STRING_OKAY};
use rvirt::driver::DomainRef;
use rvirt::types::{BlockStats, InterfaceStats};
use rvirt_conf::domain::interface::{Bandwidth, Interface, MacAddr, Rate};
use rvirt_conf::DomainDef;
use rvirt_util::TypedParams;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParamType, TypedParamValue};

/// `g_get_real_time`: microseconds since the epoch.
fn real_time() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// `virDomainObjCheckActive`.
fn check_active(obj: &DomainObj) -> Result<()> {
    match obj.is_active() {
        true => Ok(()),
        false => Err(Error::operation_invalid(
            ErrorDomain::DOMAIN,
            "domain is not running",
        )),
    }
}

/// `virDomainDiskIndexByName` (not ambiguous): the target name, or
/// with a leading '/' the one disk with that source.
fn has_disk(def: &DomainDef, name: &str) -> bool {
    let disks = &def.devices.disks;
    if !name.starts_with('/') {
        return disks.iter().any(|d| d.target.dev == name);
    }
    disks
        .iter()
        .filter(|d| d.source.path() == Some(name))
        .count()
        == 1
}

pub fn block_stats(conn: &TestConnection, dom: &DomainRef, path: &str) -> Result<BlockStats> {
    if path.is_empty() {
        return Err(Error::new(
            ErrorDomain::TEST,
            ErrorCode::OPERATION_UNSUPPORTED,
            "summary statistics are not supported yet",
        ));
    }
    conn.read(dom, |obj| {
        check_active(obj)?;
        if !has_disk(&obj.def, path) {
            return Err(Error::invalid_arg(
                ErrorDomain::TEST,
                format!("invalid path: {path}"),
            ));
        }
        let base = real_time();
        Ok(BlockStats {
            rd_req: base / 10,
            rd_bytes: base / 20,
            wr_req: base / 30,
            wr_bytes: base / 40,
            errs: base / (1000 * 1000 * 2),
        })
    })
}

/// `virDomainNetFind`: by MAC address, or by host-side name.
fn find_net<'a>(def: &'a DomainDef, device: &str) -> Result<&'a Interface> {
    let nets = &def.devices.interfaces;
    let found = match MacAddr::parse(device) {
        Some(mac) => nets.iter().find(|n| n.mac == mac),
        None => nets
            .iter()
            .find(|n| n.target_dev.as_deref() == Some(device)),
    };
    found.ok_or_else(|| {
        Error::invalid_arg(
            ErrorDomain::DOMAIN,
            format!("'{device}' is not a known interface"),
        )
    })
}

pub fn interface_stats(
    conn: &TestConnection,
    dom: &DomainRef,
    device: &str,
) -> Result<InterfaceStats> {
    conn.read(dom, |obj| {
        check_active(obj)?;
        find_net(&obj.def, device)?;
        let base = real_time();
        const S: i64 = 1000 * 1000;
        Ok(InterfaceStats {
            rx_bytes: base / 10,
            rx_packets: base / 100,
            rx_errs: base / S,
            rx_drop: base / (S * 2),
            tx_bytes: base / 20,
            tx_packets: base / 110,
            tx_errs: base / (S * 3),
            tx_drop: base / (S * 4),
        })
    })
}

/// The bandwidth parameters in the order libvirt gives them.
const BANDWIDTH: [&str; 7] = [
    "inbound.average",
    "inbound.peak",
    "inbound.burst",
    "inbound.floor",
    "outbound.average",
    "outbound.peak",
    "outbound.burst",
];

/// libvirt keeps the rates as unsigned long long and hands them out as
/// unsigned int.
fn uint(v: u64) -> TypedParamValue {
    TypedParamValue::UInt(v as u32)
}

pub fn get_interface_parameters(
    conn: &TestConnection,
    dom: &DomainRef,
    device: &str,
    nparams: i32,
    flags: u32,
) -> Result<(TypedParams, i32)> {
    check_flags(
        "testDomainGetInterfaceParameters",
        flags,
        LIVE | CONFIG | STRING_OKAY,
    )?;
    if nparams == 0 {
        return Ok((TypedParams::new(), 7));
    }
    conn.read(dom, |obj| {
        let net = find_net(one_def(obj, flags & (LIVE | CONFIG))?, device)?;
        let bw = net.bandwidth.unwrap_or_default();
        let (i, o) = (
            bw.inbound.unwrap_or_default(),
            bw.outbound.unwrap_or_default(),
        );
        let values = [
            i.average, i.peak, i.burst, i.floor, o.average, o.peak, o.burst,
        ];
        let mut p = TypedParams::new();
        for (name, v) in BANDWIDTH.iter().zip(values).take(nparams.max(0) as usize) {
            p.push(*name, uint(v));
        }
        let n = p.len() as i32;
        Ok((p, n))
    })
}

pub fn set_interface_parameters(
    conn: &TestConnection,
    dom: &DomainRef,
    device: &str,
    params: &TypedParams,
    flags: u32,
) -> Result<()> {
    check_flags("testDomainSetInterfaceParameters", flags, LIVE | CONFIG)?;
    let allowed = BANDWIDTH.map(|n| (n, TypedParamType::UInt, false));
    params.validate(&allowed)?;
    conn.state().with(|inner| {
        let (def, _) = one_def_mut(inner.domains.get_mut(dom)?, flags)?;
        let index = {
            let net = find_net(def, device)?;
            let nets = &def.devices.interfaces;
            nets.iter().position(|n| std::ptr::eq(n, net)).unwrap_or(0)
        };
        let (mut inbound, mut outbound) = (Rate::default(), Rate::default());
        let (mut in_given, mut out_given) = (false, false);
        for p in params.iter() {
            let TypedParamValue::UInt(v) = p.value else {
                continue;
            };
            let v = u64::from(v);
            match p.field.as_str() {
                "inbound.average" => (inbound.average, in_given) = (v, true),
                "inbound.peak" => inbound.peak = v,
                "inbound.burst" => inbound.burst = v,
                "inbound.floor" => (inbound.floor, in_given) = (v, true),
                "outbound.average" => (outbound.average, out_given) = (v, true),
                "outbound.peak" => outbound.peak = v,
                "outbound.burst" => outbound.burst = v,
                _ => {}
            }
        }
        // An average (or inbound floor) is what makes a rate; a given 0
        // clears the direction.
        let inbound = (inbound.average != 0 || inbound.floor != 0).then_some(inbound);
        let outbound = (outbound.average != 0).then_some(outbound);
        let net = &mut def.devices.interfaces[index];
        match net.bandwidth.as_mut() {
            None => {
                net.bandwidth = Some(Bandwidth { inbound, outbound });
            }
            Some(bw) => {
                if inbound.is_some() || in_given {
                    bw.inbound = inbound;
                }
                if outbound.is_some() || out_given {
                    bw.outbound = outbound;
                }
            }
        }
        Ok(())
    })
}
