//! What a start adds to the definition it ran (libvirt's live XML): the
//! device aliases, and each disk's image index with the end of its
//! backing chain (`qemuDomainDetermineDiskChain` for an image without one).

use super::{assign_aliases, disk_node_index};
use rvirt_conf::domain::disk::StorageFormat;
use rvirt_conf::domain::DomainDef;
use rvirt_util::Result;
use std::io::Read;

/// Fill `def`'s runtime details as the command line built from it names them.
pub fn add_runtime_details(def: &mut DomainDef) -> Result<()> {
    def.devices.aliases = assign_aliases(def)?;
    let count = def.devices.disks.len();
    for (i, disk) in def.devices.disks.iter_mut().enumerate() {
        let Some(path) = disk.source.path().map(str::to_string) else {
            continue;
        };
        disk.source.index = disk_node_index(count, i) as u32;
        let format = disk.driver.format.unwrap_or(StorageFormat::Raw);
        disk.source.detected_chain_end =
            disk.backing_store.is_none() && !has_backing_file(format, &path);
    }
    Ok(())
}

/// Whether the image names a backing file (true when it cannot be told,
/// so no chain end is claimed): raw never does; qcow2 says so in its
/// header's backing_file_offset (bytes 8..16, big-endian).
fn has_backing_file(format: StorageFormat, path: &str) -> bool {
    match format {
        StorageFormat::Raw => false,
        StorageFormat::Qcow2 => {
            let mut header = [0u8; 16];
            let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut header));
            read.is_err() || header[..4] != *b"QFI\xfb" || header[8..16] != [0; 8]
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_xml_shows_index_and_chain_end_only_while_running() {
        let xml = "<domain type='qemu'><name>l</name><memory>131072</memory>\
            <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os><devices>\
            <disk type='file' device='disk'><driver name='qemu' type='raw'/>\
            <source file='/a.img'/><target dev='vda' bus='virtio'/></disk>\
            </devices></domain>";
        let mut def = DomainDef::parse(xml).unwrap();
        add_runtime_details(&mut def).unwrap();
        let opts = |inactive| rvirt_conf::FormatOptions {
            id: None,
            inactive,
            secure: false,
        };
        let live = def.format(&opts(false));
        let want = "<source file='/a.img' index='1'/>\n      <backingStore/>\n      \
                    <target dev='vda' bus='virtio'/>\n      <alias name='virtio-disk0'/>\n";
        assert!(live.contains(want), "{live}");
        let config = def.format(&opts(true));
        assert!(
            !config.contains("index=") && !config.contains("<backingStore"),
            "{config}"
        );
    }

    #[test]
    fn a_qcow2_header_tells_its_backing_file() {
        let dir = std::env::temp_dir().join(format!("rvirt-live-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let image = |name: &str, offset: u8| {
            let path = dir.join(name);
            let mut h = b"QFI\xfb\0\0\0\x03".to_vec();
            h.extend([0, 0, 0, 0, 0, 0, 0, offset]);
            std::fs::write(&path, h).unwrap();
            path.display().to_string()
        };
        let (plain, backed) = (image("plain.qcow2", 0), image("backed.qcow2", 0x68));
        assert!(!has_backing_file(StorageFormat::Qcow2, &plain));
        assert!(has_backing_file(StorageFormat::Qcow2, &backed));
        assert!(has_backing_file(StorageFormat::Qcow2, "/nonexistent"));
        assert!(!has_backing_file(StorageFormat::Raw, &backed));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
