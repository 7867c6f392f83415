//! `<mac address=>`: a NIC's Ethernet address (`virMacAddr`), parsed as
//! `virMacAddrParse` reads it and generated as `virDomainNetGenerateMAC`
//! does when the document has none.

use super::super::internal_xml;
use rvirt_util::Result;
use std::fmt;

/// Six bytes, written lower-case with two digits each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MacAddr(pub [u8; 6]);

/// QEMU's (and libvirt's default) prefix for generated addresses.
const QEMU_PREFIX: [u8; 3] = [0x52, 0x54, 0x00];

impl MacAddr {
    /// `virMacAddrParse`: six groups of one or two hex digits separated by
    /// `:`, the last one followed by the end or any byte up to a blank.
    pub fn parse(s: &str) -> Option<MacAddr> {
        let mut out = [0u8; 6];
        let mut rest = s.as_bytes();
        for (i, byte) in out.iter_mut().enumerate() {
            let digits = rest.iter().take_while(|c| c.is_ascii_hexdigit()).count();
            if !(1..=2).contains(&digits) {
                return None;
            }
            let text = std::str::from_utf8(&rest[..digits]).ok()?;
            *byte = u8::from_str_radix(text, 16).ok()?;
            rest = &rest[digits..];
            match rest.first() {
                None if i == 5 => return Some(MacAddr(out)),
                Some(c) if i == 5 && *c <= b' ' => return Some(MacAddr(out)),
                Some(b':') if i < 5 => rest = &rest[1..],
                _ => return None,
            }
        }
        None
    }

    /// A random address with QEMU's `52:54:00` prefix.
    pub fn generate() -> MacAddr {
        let b = rvirt_util::uuid::generate().into_bytes();
        let [p0, p1, p2] = QEMU_PREFIX;
        MacAddr([p0, p1, p2, b[0], b[1], b[2]])
    }

    /// `virMacAddrIsMulticast`: the group bit of the first byte.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// Normalize a MAC as `virMacAddrParse` + format: lower-case, two digits.
pub fn parse_mac(s: &str) -> Option<String> {
    MacAddr::parse(s).map(|m| m.to_string())
}

/// A random MAC with QEMU's `52:54:00` prefix, as text.
pub fn generate_mac() -> String {
    MacAddr::generate().to_string()
}

/// `<mac address=>` of `virDomainNetDefParseXML`: a unicast address, or
/// `None` when the attribute is absent (the caller generates one).
pub(super) fn parse_attr(mac: &str) -> Result<MacAddr> {
    let addr = MacAddr::parse(mac)
        .ok_or_else(|| internal_xml(format!("unable to parse mac address '{mac}'")))?;
    if addr.is_multicast() {
        return Err(internal_xml(format!(
            "expected unicast mac address, found multicast '{mac}'"
        )));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::MacAddr;

    /// `virMacAddrParse`'s edges, as virsh shows them (a trailing blank or
    /// control byte ends the address; anything else after it is refused).
    #[test]
    fn parse_as_libvirt() {
        let ok = |s: &str| MacAddr::parse(s).map(|m| m.to_string());
        assert_eq!(ok("AA:b:cc:dd:ee:ff").unwrap(), "aa:0b:cc:dd:ee:ff");
        assert_eq!(ok("52:54:0:1:2:3 ").unwrap(), "52:54:00:01:02:03");
        for bad in [
            "zz",
            "52:54:00:01:02",
            "52:54:00:01:02:03:04",
            "52:54:00:01:02:03x",
            "+52:54:00:01:02:03",
            "052:54:00:01:02:03",
            "52::00:01:02:03",
            "52-54-00-01-02-03",
        ] {
            assert!(MacAddr::parse(bad).is_none(), "{bad}");
        }
        assert!(MacAddr::parse("01:00:00:00:00:00").unwrap().is_multicast());
        assert!(MacAddr::generate().to_string().starts_with("52:54:00:"));
    }
}
