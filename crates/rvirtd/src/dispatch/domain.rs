//! Domain procedures: lookup, define/undefine, lifecycle, queries
//! (libvirt's remote_daemon_dispatch.c, domain part).

use super::{dispatch_table, nonnull, Client};
use rvirt::flags;
use rvirt_rpc::remote::string_to_chars;
use rvirt_rpc::remote::*;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_VCPU_MAXIMUM`: what the drivers
/// implement virDomainGetMaxVcpus with.
const MAX_VCPUS_FLAGS: u32 = 1 | 4;

dispatch_table! {
    DomainLookupByName => |cx, a| {
        Ok(DomainLookupByNameRet { dom: nonnull(&cx.conn()?.lookup_by_name(&a.name)?) })
    };
    DomainLookupById => |cx, a| {
        Ok(DomainLookupByIdRet { dom: nonnull(&cx.conn()?.lookup_by_id(a.id)?) })
    };
    DomainLookupByUuid => |cx, a| {
        Ok(DomainLookupByUuidRet { dom: nonnull(&cx.conn()?.lookup_by_uuid(&a.uuid)?) })
    };
    DomainDefineXml => |cx, a| {
        Ok(DomainDefineXmlRet { dom: nonnull(&cx.conn()?.define_xml(&a.xml, 0)?) })
    };
    DomainDefineXmlFlags => |cx, a| {
        Ok(DomainDefineXmlFlagsRet { dom: nonnull(&cx.conn()?.define_xml(&a.xml, a.flags)?) })
    };
    DomainCreateXml => |cx, a| {
        Ok(DomainCreateXmlRet { dom: nonnull(&cx.conn()?.create_xml(&a.xml_desc, a.flags)?) })
    };
    // Without descriptor passing (VIR_DRV_FEATURE_FD_PASSING is off) a
    // client sends no files, and these are the calls without them.
    DomainCreateXmlWithFiles => |cx, a| {
        Ok(DomainCreateXmlWithFilesRet { dom: nonnull(&cx.conn()?.create_xml(&a.xml_desc, a.flags)?) })
    };
    DomainCreateWithFiles => |cx, a| {
        let mut dom = cx.domain(&a.dom)?;
        dom.create(a.flags)?;
        Ok(DomainCreateWithFilesRet { dom: nonnull(&dom) })
    };
    DomainUndefine => |cx, a| cx.domain(&a.dom)?.undefine(0);
    DomainUndefineFlags => |cx, a| cx.domain(&a.dom)?.undefine(a.flags);
    DomainCreate => |cx, a| cx.domain(&a.dom)?.create(0);
    DomainCreateWithFlags => |cx, a| {
        let mut dom = cx.domain(&a.dom)?;
        dom.create(a.flags)?;
        Ok(DomainCreateWithFlagsRet { dom: nonnull(&dom) })
    };
    DomainShutdown => |cx, a| cx.domain(&a.dom)?.shutdown(0);
    DomainShutdownFlags => |cx, a| cx.domain(&a.dom)?.shutdown(a.flags);
    DomainDestroy => |cx, a| cx.domain(&a.dom)?.destroy(0);
    DomainDestroyFlags => |cx, a| cx.domain(&a.dom)?.destroy(a.flags);
    DomainSuspend => |cx, a| cx.domain(&a.dom)?.suspend();
    DomainResume => |cx, a| cx.domain(&a.dom)?.resume();
    DomainReboot => |cx, a| cx.domain(&a.dom)?.reboot(a.flags);
    DomainGetAutostart => |cx, a| {
        Ok(DomainGetAutostartRet { autostart: cx.domain(&a.dom)?.get_autostart()? as i32 })
    };
    DomainSetAutostart => |cx, a| {
        cx.domain(&a.dom)?.set_autostart(a.autostart != 0)
    };
    DomainGetInfo => |cx, a| {
        let info = cx.domain(&a.dom)?.get_info()?;
        Ok(DomainGetInfoRet {
            state: info.state as u8,
            max_mem: info.max_mem,
            memory: info.memory,
            nr_virt_cpu: info.nr_virt_cpu,
            cpu_time: info.cpu_time,
        })
    };
    DomainGetState => |cx, a| {
        let dom = cx.domain(&a.dom)?;
        let (state, reason) = if a.flags == 0 {
            dom.get_state()?
        } else {
            // Let the driver judge the flags, as libvirt passes them down.
            dom.connect().driver().domain_get_state(dom.domain_ref(), a.flags)?
        };
        Ok(DomainGetStateRet { state: state as i32, reason })
    };
    DomainGetXmlDesc => get_xml_desc;
    DomainIsActive => |cx, a| {
        Ok(DomainIsActiveRet { active: cx.domain(&a.dom)?.is_active()? as i32 })
    };
    DomainIsPersistent => |cx, a| {
        Ok(DomainIsPersistentRet { persistent: cx.domain(&a.dom)?.is_persistent()? as i32 })
    };
    DomainIsUpdated => |cx, a| {
        Ok(DomainIsUpdatedRet { updated: cx.domain(&a.dom)?.is_updated()? as i32 })
    };
    DomainGetOsType => |cx, a| {
        Ok(DomainGetOsTypeRet { type_: cx.domain(&a.dom)?.get_os_type()? })
    };
    DomainGetHostname => |cx, a| Ok(DomainGetHostnameRet {
        hostname: cx.domain(&a.dom)?.get_hostname(a.flags)?,
    });
    DomainGetMaxMemory => |cx, a| {
        Ok(DomainGetMaxMemoryRet { memory: cx.domain(&a.dom)?.get_max_memory()? })
    };
    DomainGetMaxVcpus => |cx, a| {
        Ok(DomainGetMaxVcpusRet { num: cx.domain(&a.dom)?.get_vcpus_flags(MAX_VCPUS_FLAGS)? })
    };
    DomainGetVcpusFlags => |cx, a| Ok(DomainGetVcpusFlagsRet { num: cx.domain(&a.dom)?.get_vcpus_flags(a.flags)? });
    DomainGetSecurityLabel => |cx, a| {
            let l = cx.domain(&a.dom)?.get_security_label()?;
            Ok(DomainGetSecurityLabelRet { label: string_to_chars(&l.label), enforcing: l.enforcing as i32 })
        };
    DomainGetSecurityLabelList => |cx, a| {
            // libvirtd answers a failing call with ret -1 and no labels,
            // not an error (remoteDispatchDomainGetSecurityLabelList).
            let Ok(labels) = cx.domain(&a.dom)?.get_security_label_list() else {
                return Ok(DomainGetSecurityLabelListRet { labels: Vec::new(), ret: -1 });
            };
            let ret = labels.len() as i32;
            let labels = labels
                .iter()
                .map(|l| DomainGetSecurityLabelRet { label: string_to_chars(&l.label), enforcing: l.enforcing as i32 })
                .collect();
            Ok(DomainGetSecurityLabelListRet { labels, ret })
        };
    DomainHasManagedSaveImage => |cx, a| {
            let result = cx.domain(&a.dom)?.has_managed_save_image(a.flags)? as i32;
            Ok(DomainHasManagedSaveImageRet { result })
        };
    DomainGetMetadata => |cx, a| {
            let metadata = cx.domain(&a.dom)?.get_metadata(a.type_, a.uri.as_deref(), a.flags)?;
            Ok(DomainGetMetadataRet { metadata })
        };
}

/// virDomainGetXMLDesc refuses the secure flag on read-only connections
/// with its own wording.
fn get_xml_desc(cx: &Client, a: DomainGetXmlDescArgs) -> Result<DomainGetXmlDescRet> {
    let dom = cx.domain(&a.dom)?;
    if a.flags & flags::xml::SECURE != 0 && dom.connect().is_read_only() {
        return Err(Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::OPERATION_DENIED,
            "virDomainGetXMLDesc with secure flag",
        ));
    }
    Ok(DomainGetXmlDescRet {
        xml: dom.get_xml_desc(a.flags)?,
    })
}
