//! Domain procedures: lookup, define/undefine, lifecycle, queries
//! (libvirt's remote_daemon_dispatch.c, domain part).

use super::{dispatch_table, nonnull, Client};
use rvirt::flags;
use rvirt_rpc::remote::*;
use rvirt_rpc::remote::{string_to_chars, STRING_MAX};
use rvirt_rpc::NonnullDomain;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

rvirt_rpc::xdr_struct! {
    /// DOMAIN_GET_MAX_VCPUS (18): args [`DomainArgs`].
    pub struct DomainGetMaxVcpusRet {
        pub num: i32,
    }

    /// DOMAIN_GET_METADATA (265).
    pub struct DomainGetMetadataArgs {
        pub dom: NonnullDomain,
        pub type_: i32,
        pub uri: Option<String> [STRING_MAX],
        pub flags: u32,
    }
    pub struct DomainGetMetadataRet {
        pub metadata: String [STRING_MAX],
    }
}

/// `VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_VCPU_MAXIMUM`: what the drivers
/// implement virDomainGetMaxVcpus with.
const MAX_VCPUS_FLAGS: u32 = 1 | 4;

dispatch_table! {
    DomainLookupByName "virDomainLookupByName": DomainLookupByNameArgs => DomainRet = |cx, a| {
        ret(&cx.conn()?.lookup_by_name(&a.name)?)
    };
    DomainLookupById "virDomainLookupByID": DomainLookupByIdArgs => DomainRet = |cx, a| {
        ret(&cx.conn()?.lookup_by_id(a.id)?)
    };
    DomainLookupByUuid "virDomainLookupByUUID": DomainLookupByUuidArgs => DomainRet = |cx, a| {
        ret(&cx.conn()?.lookup_by_uuid(&a.uuid)?)
    };
    DomainDefineXml "virDomainDefineXML": DomainDefineXmlArgs => DomainRet = |cx, a| {
        ret(&cx.conn()?.define_xml(&a.xml, 0)?)
    };
    DomainDefineXmlFlags "virDomainDefineXMLFlags": DomainDefineXmlFlagsArgs => DomainRet
        = |cx, a| ret(&cx.conn()?.define_xml(&a.xml, a.flags)?);
    DomainCreateXml "virDomainCreateXML": DomainCreateXmlArgs => DomainRet = |cx, a| {
        ret(&cx.conn()?.create_xml(&a.xml_desc, a.flags)?)
    };
    DomainUndefine "virDomainUndefine": DomainArgs => () = |cx, a| cx.domain(&a.dom)?.undefine(0);
    DomainUndefineFlags "virDomainUndefineFlags": DomainFlagsArgs => ()
        = |cx, a| cx.domain(&a.dom)?.undefine(a.flags);
    DomainCreate "virDomainCreate": DomainArgs => () = |cx, a| cx.domain(&a.dom)?.create(0);
    DomainCreateWithFlags "virDomainCreateWithFlags": DomainFlagsArgs => DomainRet = |cx, a| {
        let mut dom = cx.domain(&a.dom)?;
        dom.create(a.flags)?;
        ret(&dom)
    };
    DomainShutdown "virDomainShutdown": DomainArgs => () = |cx, a| cx.domain(&a.dom)?.shutdown(0);
    DomainShutdownFlags "virDomainShutdownFlags": DomainFlagsArgs => ()
        = |cx, a| cx.domain(&a.dom)?.shutdown(a.flags);
    DomainDestroy "virDomainDestroy": DomainArgs => () = |cx, a| cx.domain(&a.dom)?.destroy(0);
    DomainDestroyFlags "virDomainDestroyFlags": DomainFlagsArgs => ()
        = |cx, a| cx.domain(&a.dom)?.destroy(a.flags);
    DomainSuspend "virDomainSuspend": DomainArgs => () = |cx, a| cx.domain(&a.dom)?.suspend();
    DomainResume "virDomainResume": DomainArgs => () = |cx, a| cx.domain(&a.dom)?.resume();
    DomainReboot "virDomainReboot": DomainFlagsArgs => ()
        = |cx, a| cx.domain(&a.dom)?.reboot(a.flags);
    DomainGetAutostart "virDomainGetAutostart": DomainArgs => DomainGetAutostartRet = |cx, a| {
        Ok(DomainGetAutostartRet { autostart: cx.domain(&a.dom)?.get_autostart()? as i32 })
    };
    DomainSetAutostart "virDomainSetAutostart": DomainSetAutostartArgs => () = |cx, a| {
        cx.domain(&a.dom)?.set_autostart(a.autostart != 0)
    };
    DomainGetInfo "virDomainGetInfo": DomainArgs => DomainGetInfoRet = |cx, a| {
        let info = cx.domain(&a.dom)?.get_info()?;
        Ok(DomainGetInfoRet {
            state: info.state as u32,
            max_mem: info.max_mem,
            memory: info.memory,
            nr_virt_cpu: info.nr_virt_cpu as u32,
            cpu_time: info.cpu_time,
        })
    };
    DomainGetState "virDomainGetState": DomainFlagsArgs => DomainGetStateRet = |cx, a| {
        let dom = cx.domain(&a.dom)?;
        let (state, reason) = if a.flags == 0 {
            dom.get_state()?
        } else {
            // Let the driver judge the flags, as libvirt passes them down.
            dom.connect().driver().domain_get_state(dom.domain_ref(), a.flags)?
        };
        Ok(DomainGetStateRet { state: state as i32, reason })
    };
    DomainGetXmlDesc "virDomainGetXMLDesc": DomainFlagsArgs => DomainGetXmlDescRet = get_xml_desc;
    DomainIsActive "virDomainIsActive": DomainArgs => DomainIsActiveRet = |cx, a| {
        Ok(DomainIsActiveRet { active: cx.domain(&a.dom)?.is_active()? as i32 })
    };
    DomainIsPersistent "virDomainIsPersistent": DomainArgs => DomainIsPersistentRet = |cx, a| {
        Ok(DomainIsPersistentRet { persistent: cx.domain(&a.dom)?.is_persistent()? as i32 })
    };
    DomainIsUpdated "virDomainIsUpdated": DomainArgs => DomainIsUpdatedRet = |cx, a| {
        Ok(DomainIsUpdatedRet { updated: cx.domain(&a.dom)?.is_updated()? as i32 })
    };
    DomainGetOsType "virDomainGetOSType": DomainArgs => DomainGetOsTypeRet = |cx, a| {
        Ok(DomainGetOsTypeRet { type_: cx.domain(&a.dom)?.get_os_type()? })
    };
    DomainGetMaxMemory "virDomainGetMaxMemory": DomainArgs => DomainGetMaxMemoryRet = |cx, a| {
        Ok(DomainGetMaxMemoryRet { memory: cx.domain(&a.dom)?.get_max_memory()? })
    };
    DomainGetMaxVcpus "virDomainGetMaxVcpus": DomainArgs => DomainGetMaxVcpusRet = |cx, a| {
        Ok(DomainGetMaxVcpusRet { num: cx.domain(&a.dom)?.get_vcpus_flags(MAX_VCPUS_FLAGS)? })
    };
    DomainGetVcpusFlags "virDomainGetVcpusFlags": DomainFlagsArgs => DomainGetVcpusFlagsRet
        = |cx, a| Ok(DomainGetVcpusFlagsRet { num: cx.domain(&a.dom)?.get_vcpus_flags(a.flags)? });
    DomainGetSecurityLabel "virDomainGetSecurityLabel": DomainArgs => DomainGetSecurityLabelRet
        = |cx, a| {
            let l = cx.domain(&a.dom)?.get_security_label()?;
            Ok(DomainGetSecurityLabelRet { label: string_to_chars(&l.label), enforcing: l.enforcing as i32 })
        };
    DomainHasManagedSaveImage "virDomainHasManagedSaveImage":
        DomainFlagsArgs => DomainHasManagedSaveImageRet = |cx, a| {
            let result = cx.domain(&a.dom)?.has_managed_save_image(a.flags)? as i32;
            Ok(DomainHasManagedSaveImageRet { result })
        };
    DomainGetMetadata "virDomainGetMetadata": DomainGetMetadataArgs => DomainGetMetadataRet
        = |cx, a| {
            let metadata = cx.domain(&a.dom)?.get_metadata(a.type_, a.uri.as_deref(), a.flags)?;
            Ok(DomainGetMetadataRet { metadata })
        };
}

fn ret(dom: &rvirt::Domain) -> Result<DomainRet> {
    Ok(DomainRet { dom: nonnull(dom) })
}

/// virDomainGetXMLDesc refuses the secure flag on read-only connections
/// with its own wording.
fn get_xml_desc(cx: &Client, a: DomainFlagsArgs) -> Result<DomainGetXmlDescRet> {
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
