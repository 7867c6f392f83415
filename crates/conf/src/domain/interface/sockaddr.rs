//! Numeric IP addresses as `virSocketAddrParse` / `virSocketAddrFormat`
//! take and write them, through glibc's getaddrinfo(AI_NUMERICHOST) and
//! getnameinfo(NI_NUMERICHOST): IPv4 in inet_aton's forms, IPv6 with an
//! optional `%scope` (an interface name or index), written back with the
//! interface's name for link-local addresses.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A numeric address; `scope_id` is an IPv6 interface index (0: none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockAddr {
    pub ip: IpAddr,
    pub scope_id: u32,
}

impl From<IpAddr> for SockAddr {
    fn from(ip: IpAddr) -> SockAddr {
        SockAddr { ip, scope_id: 0 }
    }
}

/// The address family a parse is restricted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// `inet_aton` as glibc's getaddrinfo(AI_NUMERICHOST) takes it: one to
/// four parts, each decimal, `0x` hex or leading-0 octal, the last one
/// filling the remaining bytes.
pub(super) fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::new();
    for p in &parts {
        if !p.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        nums.push(super::super::props::base0_u32(p)?);
    }
    let (last, head) = nums.split_last()?;
    if head.iter().any(|n| *n > 0xff) || u64::from(*last) >= 1u64 << (8 * (4 - head.len())) {
        return None;
    }
    let value = head
        .iter()
        .enumerate()
        .fold(*last, |acc, (i, n)| acc | (n << (24 - 8 * i)));
    Some(Ipv4Addr::from(value))
}

/// Link-local unicast or link/node-local multicast: the scopes glibc
/// resolves as interface names.
fn named_scope(a: &Ipv6Addr, node_local: bool) -> bool {
    let s = a.segments();
    (s[0] & 0xffc0) == 0xfe80 || s[0] == 0xff02 || (node_local && s[0] == 0xff01)
}

/// The index of a host interface, as `if_nametoindex`.
fn if_index(name: &str) -> Option<u32> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return None;
    }
    let text = std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex")).ok()?;
    text.trim().parse().ok().filter(|n| *n != 0)
}

/// The name of a host interface, as `if_indextoname`.
fn if_name(index: u32) -> Option<String> {
    std::fs::read_dir("/sys/class/net")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|name| if_index(name) == Some(index))
}

/// glibc's `__inet6_scopeid_pton`.
fn scope_id(a: &Ipv6Addr, scope: &str) -> Option<u32> {
    if named_scope(a, true) {
        if let Some(n) = if_index(scope) {
            return Some(n);
        }
    }
    if !scope.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    scope
        .parse::<u64>()
        .ok()
        .and_then(|n| u32::try_from(n).ok())
}

fn parse_v6(s: &str) -> Option<SockAddr> {
    let (addr, scope) = match s.split_once('%') {
        Some((a, sc)) => (a, Some(sc)),
        None => (s, None),
    };
    let ip: Ipv6Addr = addr.parse().ok()?;
    let scope_id = match scope {
        Some(sc) => scope_id(&ip, sc)?,
        None => 0,
    };
    Some(SockAddr {
        ip: IpAddr::V6(ip),
        scope_id,
    })
}

/// `virSocketAddrParse`: a numeric address, of `family` when given.
pub(crate) fn parse(s: &str, family: Option<Family>) -> Option<SockAddr> {
    let v4 = || inet_aton(s).map(|a| SockAddr::from(IpAddr::V4(a)));
    match family {
        Some(Family::V4) => v4(),
        Some(Family::V6) => parse_v6(s),
        None => v4().or_else(|| parse_v6(s)),
    }
}

/// glibc's `inet_ntop` for IPv6, which also writes an IPv4-compatible
/// address (`::a.b.c.d`) with its dotted tail.
fn fmt_v6(a: &Ipv6Addr) -> String {
    let s = a.segments();
    if s[..6].iter().all(|w| *w == 0) && s[6] != 0 {
        let [_, _, _, _, _, _, _, _, _, _, _, _, b0, b1, b2, b3] = a.octets();
        return format!("::{b0}.{b1}.{b2}.{b3}");
    }
    a.to_string()
}

impl fmt::Display for SockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            IpAddr::V4(a) => write!(f, "{a}"),
            IpAddr::V6(a) => {
                write!(f, "{}", fmt_v6(&a))?;
                if self.scope_id == 0 {
                    return Ok(());
                }
                match if_name(self.scope_id).filter(|_| named_scope(&a, false)) {
                    Some(name) => write!(f, "%{name}"),
                    None => write!(f, "%{}", self.scope_id),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{inet_aton, parse};

    #[test]
    fn numeric_ipv4_as_glibc() {
        assert_eq!(inet_aton("10.1").unwrap().to_string(), "10.0.0.1");
        assert_eq!(inet_aton("0x0a.010.0.1").unwrap().to_string(), "10.8.0.1");
        assert_eq!(inet_aton("16909060").unwrap().to_string(), "1.2.3.4");
        for bad in [
            "",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.256",
            "a.b",
            "1..2",
            " 1.2.3.4",
        ] {
            assert!(inet_aton(bad).is_none(), "{bad}");
        }
    }

    /// As stock virsh writes them back (scopes as the loopback device of
    /// any Linux host: index 1 is `lo`).
    #[test]
    fn ipv6_as_glibc() {
        let text = |s: &str| parse(s, None).map(|a| a.to_string());
        for (given, written) in [
            ("::1.2.3.4", "::1.2.3.4"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("::0.0.0.1", "::1"),
            ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
            ("::ffff:0:1.2.3.4", "::ffff:0:102:304"),
            ("fe80::1%1", "fe80::1%lo"),
            ("fe80::1%lo", "fe80::1%lo"),
            ("2001:db8::1%1", "2001:db8::1%1"),
            ("fe80::1%0", "fe80::1"),
        ] {
            assert_eq!(text(given).as_deref(), Some(written), "{given}");
        }
        for bad in [
            "fe80::1%nosuchif",
            "2001:db8::1%lo",
            "fe80::1%",
            "::1%4294967296",
        ] {
            assert!(text(bad).is_none(), "{bad}");
        }
    }
}
