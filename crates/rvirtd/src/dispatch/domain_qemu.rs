//! Procedures the QEMU driver brought, handed straight to the connection's
//! driver: `virConnectDomainXMLToNative`, `virDomainSetMemory*`,
//! `virDomainReset`, `virDomainMemoryStats`, `virConnectGetDomainCapabilities`,
//! `virConnectGetAllDomainStats`, `virDomainSetVcpus*`.

use super::{dispatch_table, Client};
use rvirt_rpc::remote::*;
use rvirt_rpc::NonnullDomain;
use rvirt_util::Result;

/// `virDomainSetMemory` is `virDomainSetMemoryFlags` with
/// `VIR_DOMAIN_AFFECT_LIVE` (1), `virDomainSetMaxMemory` with
/// `VIR_DOMAIN_MEM_MAXIMUM` (4), in the QEMU and test drivers alike.
const AFFECT_LIVE: u32 = 1;
const MEM_MAXIMUM: u32 = 4;

fn set_memory(cx: &Client, dom: &NonnullDomain, kib: u64, flags: u32) -> Result<()> {
    let dom = cx.domain(dom)?;
    let driver = dom.connect().driver();
    driver.domain_set_memory_flags(dom.domain_ref(), kib, flags)
}

dispatch_table! {
    ConnectDomainXmlToNative => |cx, a| {
        let native = cx.conn()?.driver().connect_domain_xml_to_native(
            &a.native_format,
            &a.domain_xml,
            a.flags,
        )?;
        Ok(ConnectDomainXmlToNativeRet { native_config: native })
    };
    DomainSetMemory => |cx, a| set_memory(cx, &a.dom, a.memory, AFFECT_LIVE);
    DomainSetMaxMemory => |cx, a| set_memory(cx, &a.dom, a.memory, MEM_MAXIMUM);
    DomainReset => |cx, a| {
        let dom = cx.domain(&a.dom)?;
        dom.connect().driver().domain_reset(dom.domain_ref(), a.flags)
    };
    DomainMemoryStats => |cx, a| {
        let dom = cx.domain(&a.dom)?;
        let found = dom.connect().driver().domain_memory_stats(dom.domain_ref(), a.max_stats, a.flags)?;
        let stats = found.into_iter().map(|(tag, val)| DomainMemoryStat { tag, val }).collect();
        Ok(DomainMemoryStatsRet { stats })
    };
    ConnectGetDomainCapabilities => |cx, a| {
        let capabilities = cx.conn()?.driver().get_domain_capabilities(
            a.emulatorbin.as_deref(),
            a.arch.as_deref(),
            a.machine.as_deref(),
            a.virttype.as_deref(),
            a.flags,
        )?;
        Ok(ConnectGetDomainCapabilitiesRet { capabilities })
    };
    ConnectGetAllDomainStats => |cx, a| {
        let conn = cx.conn()?;
        let doms: Vec<_> = a.doms.iter().map(|d| cx.domain(d).map(|d| d.domain_ref().clone())).collect::<Result<_>>()?;
        let records = conn.driver().connect_get_all_domain_stats(&doms, a.stats, a.flags)?;
        let ret_stats = records
            .into_iter()
            .map(|(r, params)| DomainStatsRecord { dom: NonnullDomain { name: r.name, uuid: r.uuid, id: r.id }, params })
            .collect();
        Ok(ConnectGetAllDomainStatsRet { ret_stats })
    };
    DomainSetMemoryFlags => |cx, a| set_memory(cx, &a.dom, a.memory, a.flags);
    DomainSetVcpus => |cx, a| cx.domain(&a.dom)?.set_vcpus_flags(a.nvcpus, AFFECT_LIVE);
    DomainSetVcpusFlags => |cx, a| cx.domain(&a.dom)?.set_vcpus_flags(a.nvcpus, a.flags);
}
