//! Network filter binding procedures (`REMOTE_PROC_NWFILTER_BINDING_*`,
//! `CONNECT_LIST_ALL_NWFILTER_BINDINGS`). A binding travels as its port
//! and filter name (`remote_nonnull_nwfilter_binding`); the driver finds
//! it by port, as libvirtd's `get_nonnull_nwfilter_binding` leaves it to.

use super::{dispatch_table, Client};
use rvirt::driver::NWFilterBindingRef;
use rvirt::NWFilterBinding;
use rvirt_rpc::remote::*;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

dispatch_table! {
    ConnectListAllNwfilterBindings => |cx, a| {
        let list = cx.conn()?.list_all_nwfilter_bindings(a.flags)?;
        if list.len() > NWFILTER_BINDING_LIST_MAX {
            return Err(Error::new(
                ErrorDomain::RPC,
                ErrorCode::RPC,
                format!(
                    "Too many nwfilter bindings '{}' for limit '{NWFILTER_BINDING_LIST_MAX}'",
                    list.len()
                ),
            ));
        }
        let ret = list.len() as u32;
        let bindings = if a.need_results != 0 { list.iter().map(wire).collect() } else { Vec::new() };
        Ok(ConnectListAllNwfilterBindingsRet { bindings, ret })
    };
    NwfilterBindingLookupByPortDev => |cx, a| {
        let b = cx.conn()?.nwfilter_binding_lookup_by_port_dev(&a.name)?;
        Ok(NwfilterBindingLookupByPortDevRet { nwfilter: wire(&b) })
    };
    NwfilterBindingCreateXml => |cx, a| {
        let b = cx.conn()?.nwfilter_binding_create_xml(&a.xml, a.flags)?;
        Ok(NwfilterBindingCreateXmlRet { nwfilter: wire(&b) })
    };
    NwfilterBindingGetXmlDesc => |cx, a| {
        Ok(NwfilterBindingGetXmlDescRet { xml: binding(cx, &a.nwfilter)?.get_xml_desc(a.flags)? })
    };
    NwfilterBindingDelete => |cx, a| binding(cx, &a.nwfilter)?.delete();
}

fn binding(cx: &Client, b: &NonnullNwfilterBinding) -> Result<NWFilterBinding> {
    let r = NWFilterBindingRef {
        portdev: b.portdev.clone(),
        filter: b.filtername.clone(),
    };
    Ok(NWFilterBinding::from_ref(&cx.conn()?, r))
}

fn wire(b: &NWFilterBinding) -> NonnullNwfilterBinding {
    NonnullNwfilterBinding {
        portdev: b.port_dev().to_string(),
        filtername: b.filter_name().to_string(),
    }
}
