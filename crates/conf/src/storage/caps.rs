//! `<storagepoolCapabilities>` (libvirt's src/conf/storage_capabilities.c
//! `virStoragePoolCapsFormat`): every pool type, whether the driver has a
//! backend for it, and its source and volume format tables.

use super::{Formats, PoolType};
use crate::domain::props::VirEnum;
use crate::xml::Writer;

fn format_table(w: &mut Writer, el: &str, enum_name: &str, f: Formats) {
    w.block(el, "", |w| {
        w.line(&format!("<defaultFormat type='{}'/>", f.names[f.default]));
        w.block("enum", &format!(" name='{enum_name}'"), |w| {
            for n in f.names {
                w.line(&format!("<value>{n}</value>"));
            }
        });
    });
}

/// The capabilities of a storage driver with backends for `supported`.
pub fn pool_capabilities(supported: &[PoolType]) -> String {
    let mut w = Writer::new();
    w.block("storagepoolCapabilities", "", |w| {
        for i in 0..PoolType::NAMES.len() {
            let t = PoolType::from_index(i);
            let yes = if supported.contains(&t) { "yes" } else { "no" };
            w.block("pool", &format!(" type='{t}' supported='{yes}'"), |w| {
                if let Some(f) = t.source_formats() {
                    format_table(w, "poolOptions", "sourceFormatType", f);
                }
                if let Some(f) = t.volume_formats() {
                    format_table(w, "volOptions", "targetFormatType", f);
                }
            });
        }
    });
    w.finish()
}
