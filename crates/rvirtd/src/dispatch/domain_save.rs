//! Save, restore, managed save and core dump procedures (libvirtd's
//! generated dispatchers): each the public API call of the same name.

use super::dispatch_table;
use rvirt_rpc::remote::*;

dispatch_table! {
    DomainSave => |cx, a| cx.domain(&a.dom)?.save(Some(&a.to));
    DomainSaveFlags => |cx, a| {
        cx.domain(&a.dom)?.save_flags(Some(&a.to), a.dxml.as_deref(), a.flags)
    };
    DomainRestore => |cx, a| cx.conn()?.restore(Some(&a.from));
    DomainRestoreFlags => |cx, a| {
        cx.conn()?.restore_flags(Some(&a.from), a.dxml.as_deref(), a.flags)
    };
    DomainSaveImageGetXmlDesc => |cx, a| {
        let xml = cx.conn()?.save_image_get_xml_desc(Some(&a.file), a.flags)?;
        Ok(DomainSaveImageGetXmlDescRet { xml })
    };
    DomainSaveImageDefineXml => |cx, a| {
        cx.conn()?.save_image_define_xml(Some(&a.file), Some(&a.dxml), a.flags)
    };
    DomainManagedSave => |cx, a| cx.domain(&a.dom)?.managed_save(a.flags);
    DomainManagedSaveRemove => |cx, a| cx.domain(&a.dom)?.managed_save_remove(a.flags);
    DomainCoreDump => |cx, a| cx.domain(&a.dom)?.core_dump(Some(&a.to), a.flags);
    DomainCoreDumpWithFormat => |cx, a| {
        cx.domain(&a.dom)?.core_dump_with_format(Some(&a.to), a.dumpformat, a.flags)
    };
}
