//! The kernel modules the test guest loads: Debian's cloud kernel builds
//! virtio, the ACPI power button and evdev as modules, and the guest's
//! disk, NIC, balloon, RNG and power button are what the QEMU driver's
//! tests exercise. They come from the same kernel package as vmlinuz.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What the guest loads, dependencies first (added by [`collect`]).
const WANTED: &[&str] = &[
    "virtio_pci",
    "virtio_blk",
    "virtio_net",
    "virtio_console",
    "virtio_balloon",
    "virtio_rng",
    "button",
    "evdev",
];

/// The file in the module directory that lists the load order.
pub(super) const ORDER_FILE: &str = "order";

/// Copy [`WANTED`] and what they depend on from the unpacked kernel
/// package at `package_root` into `dest`, with an [`ORDER_FILE`] that
/// lists them dependencies first.
pub(super) fn collect(package_root: &Path, dest: &Path) -> Result<(), String> {
    let available = index(&package_root.join("lib/modules"))?;
    let mut order = Vec::new();
    for name in WANTED {
        visit(name, &available, &mut order)?;
    }
    std::fs::create_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    for name in &order {
        let to = dest.join(format!("{name}.ko"));
        std::fs::copy(&available[name], &to).map_err(|e| format!("{}: {e}", to.display()))?;
    }
    std::fs::write(dest.join(ORDER_FILE), order.join("\n") + "\n").map_err(|e| e.to_string())
}

/// Depth-first: a module's dependencies land in `order` before it.
fn visit(
    name: &str,
    available: &HashMap<String, PathBuf>,
    order: &mut Vec<String>,
) -> Result<(), String> {
    if order.iter().any(|n| n == name) {
        return Ok(());
    }
    let path = available
        .get(name)
        .ok_or_else(|| format!("kernel package has no module {name}"))?;
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    for dep in depends(&bytes) {
        visit(&dep, available, order)?;
    }
    order.push(name.to_string());
    Ok(())
}

/// Module name (with `_`, as the kernel spells it) → its .ko file.
fn index(modules: &Path) -> Result<HashMap<String, PathBuf>, String> {
    let mut found = HashMap::new();
    let mut dirs = vec![modules.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if path.is_dir() {
                dirs.push(path);
            } else if let Some(stem) = path.file_name().and_then(|n| n.to_str()) {
                if let Some(name) = stem.strip_suffix(".ko") {
                    found.insert(name.replace('-', "_"), path.clone());
                }
            }
        }
    }
    Ok(found)
}

/// The `depends=` entry of a module's .modinfo section: NUL-separated
/// `key=value` strings, so a byte search finds it without an ELF reader.
fn depends(ko: &[u8]) -> Vec<String> {
    const KEY: &[u8] = b"\0depends=";
    let Some(at) = ko.windows(KEY.len()).position(|w| w == KEY) else {
        return Vec::new();
    };
    let value = &ko[at + KEY.len()..];
    let end = value.iter().position(|b| *b == 0).unwrap_or(value.len());
    String::from_utf8_lossy(&value[..end])
        .split(',')
        .filter(|d| !d.is_empty())
        .map(|d| d.replace('-', "_"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_reads_the_modinfo_entry() {
        let ko = b"\x7fELF...\0license=GPL\0depends=virtio,virtio_ring\0vermagic=6.1\0";
        assert_eq!(depends(ko), ["virtio", "virtio_ring"]);
        assert!(depends(b"\0depends=\0").is_empty());
        assert!(depends(b"no modinfo").is_empty());
    }
}
