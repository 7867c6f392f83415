//! `<storagepoolCapabilities>` (libvirt's src/conf/storage_capabilities.c
//! `virStoragePoolCapsFormat`): every pool type, whether the driver has a
//! backend for it, and its source and volume format tables.

use super::{Formats, PoolType};
use crate::domain::props::VirEnum;
use crate::xml::Writer;

/// A format table: its default and its values (`lastFormat` of them).
fn format_table(w: &mut Writer, el: &str, enum_name: &str, f: Formats, values: &[&str]) {
    w.block(el, "", |w| {
        w.line(&format!("<defaultFormat type='{}'/>", f.names[f.default]));
        w.block("enum", &format!(" name='{enum_name}'"), |w| {
            for n in values {
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
                    format_table(w, "poolOptions", "sourceFormatType", f, f.names);
                }
                if let Some(f) = t.volume_formats() {
                    // libvirt's rbd table leaves `lastFormat` 0: no values.
                    let values = if t == PoolType::Rbd { &[][..] } else { f.names };
                    format_table(w, "volOptions", "targetFormatType", f, values);
                }
            });
        }
    });
    w.finish()
}
