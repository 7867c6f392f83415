//! Scaled integers as libvirt's `virScaleInteger` reads them: the unit
//! suffixes of domain XML (`b`, `KiB`, `MB`, `G`, ...), 1024-based unless the
//! unit says `B` after a prefix (`KB`, `MB` are 1000-based).

/// Multiplier for a libvirt unit name, or `None` if the unit is unknown.
/// An empty unit means `default_scale`.
pub fn scale_for(unit: &str, default_scale: u64) -> Option<u64> {
    if unit.is_empty() {
        return Some(default_scale);
    }
    let lower = unit.to_ascii_lowercase();
    if lower == "b" || lower == "byte" || lower == "bytes" {
        return Some(1);
    }
    let mut chars = lower.chars();
    let prefix = chars.next()?;
    let base: u64 = match chars.as_str() {
        "" | "ib" => 1024,
        "b" => 1000,
        _ => return None,
    };
    let power = "kmgtpe".find(prefix)? as u32 + 1;
    base.checked_pow(power)
}

/// `value` in `unit`, converted to units of `target` bytes, rounded up
/// (libvirt rounds memory up to whole KiB). `None` on unknown unit or overflow.
pub fn scale_to(value: u64, unit: &str, default_scale: u64, target: u64) -> Option<u64> {
    let bytes = value.checked_mul(scale_for(unit, default_scale)?)?;
    Some(bytes.div_ceil(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libvirt_units() {
        assert_eq!(scale_to(1, "GiB", 1024, 1024), Some(1048576));
        assert_eq!(scale_to(1, "G", 1024, 1024), Some(1048576));
        assert_eq!(scale_to(1, "GB", 1024, 1024), Some(976563));
        assert_eq!(scale_to(1000, "bytes", 1024, 1024), Some(1));
        assert_eq!(scale_to(524288, "", 1024, 1024), Some(524288));
        assert_eq!(scale_to(3, "MiB", 1024, 1024), Some(3072));
        assert_eq!(scale_to(1, "KB", 1024, 1024), Some(1));
        assert_eq!(scale_to(1, "parsec", 1024, 1024), None);
        assert_eq!(scale_to(u64::MAX, "EiB", 1024, 1024), None);
    }
}
