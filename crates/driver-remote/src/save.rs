//! Save, restore, managed save and core dumps over the wire, one
//! procedure each (the flags variants; libvirt's client library calls
//! those whenever the server has them, as every libvirt 9.0 daemon does).

use crate::conn::RemoteConnection;
use crate::forward::forward;
use rvirt::driver::{DomainRef, SaveDriver};
use rvirt_rpc::remote::*;

impl SaveDriver for RemoteConnection {
    forward! {
        fn save(dom: &DomainRef, to: &str, dxml: Option<&str>, flags: u32) -> ()
            = DomainSaveFlagsArgs;
        fn restore(from: &str, dxml: Option<&str>, flags: u32) -> () = DomainRestoreFlagsArgs;
        fn save_image_get_xml_desc(file: &str, flags: u32) -> String
            = DomainSaveImageGetXmlDescArgs.xml;
        fn save_image_define_xml(file: &str, dxml: &str, flags: u32) -> ()
            = DomainSaveImageDefineXmlArgs;
        fn managed_save(dom: &DomainRef, flags: u32) -> () = DomainManagedSaveArgs;
        fn managed_save_remove(dom: &DomainRef, flags: u32) -> () = DomainManagedSaveRemoveArgs;
        fn core_dump(dom: &DomainRef, to: &str, dumpformat: u32, flags: u32) -> ()
            = DomainCoreDumpWithFormatArgs;
    }
}
