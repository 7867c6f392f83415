//! Network filter bindings over the wire (`REMOTE_PROC_NWFILTER_BINDING_*`,
//! `CONNECT_LIST_ALL_NWFILTER_BINDINGS`, libvirt's remote_driver.c): a
//! binding travels as its port and filter name.

use crate::conn::RemoteConnection;
use rvirt::driver::NWFilterBindingRef;
use rvirt_rpc::remote::*;
use rvirt_rpc::Call;
use rvirt_util::Result;

fn ours(b: NonnullNwfilterBinding) -> NWFilterBindingRef {
    NWFilterBindingRef {
        portdev: b.portdev,
        filter: b.filtername,
    }
}

fn wire(b: &NWFilterBindingRef) -> NonnullNwfilterBinding {
    NonnullNwfilterBinding {
        portdev: b.portdev.clone(),
        filtername: b.filter.clone(),
    }
}

impl RemoteConnection {
    pub(crate) fn nwfilter_bindings(&self, flags: u32) -> Result<Vec<NWFilterBindingRef>> {
        let args = ConnectListAllNwfilterBindingsArgs {
            need_results: 1,
            flags,
        };
        Ok(self
            .request(&args)?
            .bindings
            .into_iter()
            .map(ours)
            .collect())
    }
    pub(crate) fn nwfilter_binding_by_port(&self, name: &str) -> Result<NWFilterBindingRef> {
        let args = NwfilterBindingLookupByPortDevArgs {
            name: name.to_string(),
        };
        Ok(ours(self.request(&args)?.nwfilter))
    }
    pub(crate) fn nwfilter_binding_xml(
        &self,
        b: &NWFilterBindingRef,
        flags: u32,
    ) -> Result<String> {
        let args = NwfilterBindingGetXmlDescArgs {
            nwfilter: wire(b),
            flags,
        };
        Ok(self.request(&args)?.xml)
    }
    pub(crate) fn nwfilter_binding_create(
        &self,
        xml: &str,
        flags: u32,
    ) -> Result<NWFilterBindingRef> {
        let args = NwfilterBindingCreateXmlArgs {
            xml: xml.to_string(),
            flags,
        };
        Ok(ours(self.request(&args)?.nwfilter))
    }
    pub(crate) fn nwfilter_binding_delete(&self, b: &NWFilterBindingRef) -> Result<()> {
        self.request(&NwfilterBindingDeleteArgs { nwfilter: wire(b) })
    }
}
