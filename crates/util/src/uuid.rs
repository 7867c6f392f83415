//! UUIDs as libvirt handles them: 16 raw bytes on the wire, the canonical
//! hyphenated lower-case text in XML and output, and a lenient parser that,
//! like `virUUIDParse`, accepts the hex digits with or without hyphens.

pub use ::uuid::Uuid;

/// Parse a UUID the way `virUUIDParse` does: 32 hex digits, hyphens allowed
/// anywhere between pairs, surrounding blanks ignored.
pub fn parse(text: &str) -> Option<Uuid> {
    let text = text.trim();
    let mut bytes = [0u8; 16];
    let mut digits = text.chars().filter(|c| *c != '-');
    for byte in bytes.iter_mut() {
        let hi = digits.next()?.to_digit(16)?;
        let lo = digits.next()?.to_digit(16)?;
        *byte = (hi * 16 + lo) as u8;
    }
    if digits.next().is_some() {
        return None;
    }
    Some(Uuid::from_bytes(bytes))
}

/// A fresh random UUID, as `virUUIDGenerate`.
pub fn generate() -> Uuid {
    Uuid::new_v4()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_parse() {
        let want = "6695eb01-f6a4-8304-79aa-97f2502e193f";
        assert_eq!(parse(want).unwrap().to_string(), want);
        assert_eq!(
            parse("6695eb01f6a4830479aa97f2502e193f")
                .unwrap()
                .to_string(),
            want
        );
        assert!(parse("6695eb01").is_none());
        assert!(parse("zz95eb01f6a4830479aa97f2502e193f").is_none());
        assert!(parse("6695eb01f6a4830479aa97f2502e193f00").is_none());
    }
}
