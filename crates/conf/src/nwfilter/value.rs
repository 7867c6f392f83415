//! One attribute's value in a rule (`nwItemDesc`): parsed by trying the
//! attribute's datatypes in libvirt's order
//! (`virNWFilterRuleDetailsParse`), checked by its validator, and written
//! back by its formatter or its datatype (`virNWFilterRuleDefDetailsFormat`).

use super::attrs::{dt, Attr, Special, MAX_COMMENT_LENGTH};
use super::vars::VarAccess;
use crate::domain::interface::sockaddr::{self, Family, SockAddr};
use crate::domain::interface::MacAddr;
use crate::nodedev::parse_u32;
use crate::xml::escape;
use std::net::IpAddr;

/// A value of one of the attribute's datatypes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `DATATYPE_UINT8/16/32` and their `_HEX` forms; `dt` the one that
    /// matched (it decides decimal or hex output).
    Num {
        v: u32,
        dt: u32,
    },
    /// An IPv4 or IPv6 mask as its prefix length.
    Mask(u8),
    Mac([u8; 6]),
    Ip(SockAddr),
    Comment(String),
    Bool(bool),
    /// `RULE_FLAG_STATE_*` bits.
    State(u32),
    TcpFlags {
        mask: u8,
        flags: u8,
    },
    IpSet(String),
    /// `numFlags` directions, bit N set: the Nth is `src`.
    IpSetFlags {
        num: u8,
        flags: u8,
    },
}

/// An attribute's value or the variable that stands for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Data {
    Value(Value),
    Var(VarAccess),
}

/// One attribute set on a rule (`NWFILTER_ENTRY_ITEM_FLAG_EXISTS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// `match='no'` applies to it (`NWFILTER_ENTRY_ITEM_FLAG_IS_NEG`).
    pub neg: bool,
    pub data: Data,
}

type IntMap = &'static [(u32, &'static str)];

/// `macProtoMap`.
const MAC_PROTOS: IntMap = &[
    (0x0806, "arp"),
    (0x8035, "rarp"),
    (0x0800, "ipv4"),
    (0x86dd, "ipv6"),
    (0x8100, "vlan"),
];
/// `arpOpcodeMap`.
const ARP_OPCODES: IntMap = &[
    (1, "Request"),
    (2, "Reply"),
    (3, "Request_Reverse"),
    (4, "Reply_Reverse"),
    (5, "DRARP_Request"),
    (6, "DRARP_Reply"),
    (7, "DRARP_Error"),
    (8, "InARP_Request"),
    (9, "ARP_NAK"),
];
/// `ipProtoMap`.
const IP_PROTOS: IntMap = &[
    (6, "tcp"),
    (17, "udp"),
    (136, "udplite"),
    (50, "esp"),
    (51, "ah"),
    (1, "icmp"),
    (2, "igmp"),
    (132, "sctp"),
    (58, "icmpv6"),
];
/// `stateMatchMap`.
const STATES: IntMap = &[
    (1 << 1, "NEW"),
    (1 << 2, "ESTABLISHED"),
    (1 << 3, "RELATED"),
    (1 << 4, "INVALID"),
    (1 << 5, "NONE"),
];
const STATE_NONE: u32 = 1 << 5;
/// `tcpFlags`.
const TCP_FLAGS: IntMap = &[
    (0x1, "FIN"),
    (0x2, "SYN"),
    (0x4, "RST"),
    (0x8, "PSH"),
    (0x10, "ACK"),
    (0x20, "URG"),
    (0x3f, "ALL"),
    (0x0, "NONE"),
];

/// `intMapGetByString` without case.
fn by_name(map: IntMap, s: &str) -> Option<u32> {
    map.iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(s))
        .map(|(v, _)| *v)
}

fn by_value(map: IntMap, v: u32) -> Option<&'static str> {
    map.iter().find(|(k, _)| *k == v).map(|(_, n)| *n)
}

/// `parseStringItems`: names from `map` separated by `sep` or blanks,
/// each matched as a case-less prefix of what is left.
fn string_items(map: IntMap, s: &str, sep: u8) -> Option<u32> {
    let b = s.as_bytes();
    let (mut i, mut flags) = (0, 0);
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == sep) {
            i += 1;
        }
        if i == b.len() {
            return Some(flags);
        }
        let (v, n) = map.iter().find(|(_, n)| {
            b.len() - i >= n.len() && b[i..i + n.len()].eq_ignore_ascii_case(n.as_bytes())
        })?;
        flags |= v;
        i += n.len();
    }
}

/// `printStringItems`: the names of the single bits set, lowest first.
fn print_items(map: IntMap, flags: u32, sep: &str) -> String {
    (0..32)
        .map(|bit| 1u32 << bit)
        .filter(|m| flags & m != 0)
        .filter_map(|m| by_value(map, m))
        .collect::<Vec<_>>()
        .join(sep)
}

fn print_tcp_flags(f: u8) -> String {
    match f {
        0 => "NONE".into(),
        0x3f => "ALL".into(),
        f => print_items(TCP_FLAGS, f.into(), ","),
    }
}

/// `checkValidMask`: ones, then zeros.
fn contiguous(bytes: &[u8]) -> bool {
    let mut zero_seen = false;
    for b in bytes {
        for bit in (0..8).rev() {
            let one = b & (1 << bit) != 0;
            if one && zero_seen {
                return false;
            }
            zero_seen |= !one;
        }
    }
    true
}

/// `virSocketAddrGetNumNetmaskBits`.
fn netmask_bits(a: &SockAddr) -> Option<u8> {
    let bytes: Vec<u8> = match a.ip {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    };
    contiguous(&bytes).then(|| bytes.iter().map(|b| b.count_ones()).sum::<u32>() as u8)
}

/// One datatype's attempt: the value, or `None` when the text is not of
/// that type (the next type is then tried).
fn parse_as(t: u32, text: &str) -> Option<Value> {
    let num = |base: u32, max: u32| {
        parse_u32(text, base)
            .filter(|v| *v <= max)
            .map(|v| Value::Num { v, dt: t })
    };
    let mask = |family: Family, max: u32| match parse_u32(text, 10) {
        Some(v) => (v <= max).then_some(Value::Mask(v as u8)),
        None => sockaddr::parse(text, Some(family))
            .as_ref()
            .and_then(netmask_bits)
            .map(Value::Mask),
    };
    match t {
        dt::UINT8 => num(10, 0xff),
        dt::UINT8_HEX => num(16, 0xff),
        dt::UINT16 => num(10, 0xffff),
        dt::UINT16_HEX => num(16, 0xffff),
        dt::UINT32 => num(10, u32::MAX),
        dt::UINT32_HEX => num(16, u32::MAX),
        dt::IPADDR => sockaddr::parse(text, Some(Family::V4)).map(Value::Ip),
        dt::IPV6ADDR => sockaddr::parse(text, Some(Family::V6)).map(Value::Ip),
        dt::IPMASK => mask(Family::V4, 32),
        dt::IPV6MASK => mask(Family::V6, 128),
        dt::MACADDR | dt::MACMASK => MacAddr::parse(text).map(|m| Value::Mac(m.0)),
        dt::STRINGCOPY => Some(Value::Comment(truncate(text, MAX_COMMENT_LENGTH))),
        dt::BOOLEAN => Some(Value::Bool(matches!(text, "true" | "1" | "yes"))),
        // Strings only through a validator, below.
        dt::STRING | dt::IPSETNAME | dt::IPSETFLAGS => Some(Value::Comment(text.to_string())),
        _ => None,
    }
}

/// `g_strndup(s, n)`, at a character boundary.
fn truncate(s: &str, n: usize) -> String {
    let mut end = s.len().min(n);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

const VALID_IPSETNAME: &str =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-+ ";

/// The attribute's validator over a parsed value of datatype `t`; `None`
/// refuses it.
fn validate(special: Special, value: Value, text: &str) -> Option<Value> {
    let proto = |map: IntMap, min: u32| match &value {
        Value::Comment(_) => by_name(map, text).map(|v| Value::Num { v, dt: dt::UINT16 }),
        Value::Num { v, .. } => (*v >= min).then(|| value.clone()),
        _ => None,
    };
    match special {
        Special::None => Some(value),
        Special::MacProtocol => proto(MAC_PROTOS, 0x600),
        Special::VlanProtocol => proto(VLAN_PROTOS_ALIAS, 0x3c),
        Special::ArpOpcode => proto(ARP_OPCODES, 0),
        Special::VlanId => matches!(value, Value::Num { v, .. } if v <= 4095).then_some(value),
        Special::Dscp => matches!(value, Value::Num { v, .. } if v <= 63).then_some(value),
        Special::IpProtocol => match value {
            Value::Comment(_) => by_name(IP_PROTOS, text).map(|v| Value::Num {
                v,
                dt: dt::UINT8_HEX,
            }),
            v => Some(v),
        },
        Special::State => {
            let mut flags = string_items(STATES, text, b',')?;
            if flags & STATE_NONE != 0 {
                flags = STATE_NONE;
            }
            Some(Value::State(flags))
        }
        Special::TcpFlags => {
            let (mask, flags) = text.split_once('/')?;
            let mask = string_items(TCP_FLAGS, mask, b',')? & 0x3f;
            let flags = string_items(TCP_FLAGS, flags, b',')? & 0x3f;
            Some(Value::TcpFlags {
                mask: mask as u8,
                flags: flags as u8,
            })
        }
        Special::IpSet => (text.len() < 32 && text.chars().all(|c| VALID_IPSETNAME.contains(c)))
            .then(|| Value::IpSet(text.to_string())),
        Special::IpSetFlags => ipset_flags(text),
    }
}

/// The VLAN encapsulation names are `macProtoMap`'s.
const VLAN_PROTOS_ALIAS: IntMap = MAC_PROTOS;

/// `ipsetFlagsValidator`: up to six `src`/`dst` separated by commas.
fn ipset_flags(text: &str) -> Option<Value> {
    let b = text.as_bytes();
    let (mut idx, mut num, mut flags) = (0usize, 0u8, 0u8);
    while num < 6 {
        let word = b.get(idx..idx + 3)?;
        if word.eq_ignore_ascii_case(b"src") {
            flags |= 1 << num;
        } else if !word.eq_ignore_ascii_case(b"dst") {
            return None;
        }
        num += 1;
        idx += 3;
        if b.get(idx) != Some(&b',') {
            break;
        }
        idx += 1;
    }
    (idx == b.len()).then_some(Value::IpSetFlags { num, flags })
}

impl Value {
    /// The attribute's text: its formatter's, else its datatype's.
    pub(super) fn format(&self, special: Special) -> String {
        let named = |map: IntMap, v: u32, t: u32, dec_only: bool| match by_value(map, v) {
            Some(n) => n.to_string(),
            None if dec_only || t == dt::UINT16 || t == dt::UINT8 => v.to_string(),
            None => format!("{v:#x}"),
        };
        match (self, special) {
            (Value::Num { v, dt: t }, Special::MacProtocol | Special::VlanProtocol) => {
                named(MAC_PROTOS, *v, *t, false)
            }
            (Value::Num { v, dt: t }, Special::ArpOpcode) => named(ARP_OPCODES, *v, *t, true),
            (Value::Num { v, dt: t }, Special::IpProtocol) => named(IP_PROTOS, *v, *t, false),
            (Value::Num { v, dt: t }, _) => match *t {
                dt::UINT8_HEX | dt::UINT16_HEX | dt::UINT32_HEX => format!("{v:#x}"),
                _ => v.to_string(),
            },
            (Value::Mask(m), _) => m.to_string(),
            (Value::Mac(m), _) => MacAddr(*m).to_string(),
            (Value::Ip(a), _) => a.to_string(),
            (Value::Comment(c), _) => escape(c),
            (Value::Bool(b), _) => b.to_string(),
            (Value::State(f), _) => print_items(STATES, *f, ","),
            (Value::TcpFlags { mask, flags }, _) => {
                format!("{}/{}", print_tcp_flags(*mask), print_tcp_flags(*flags))
            }
            (Value::IpSet(n), _) => n.clone(),
            (Value::IpSetFlags { num, flags }, _) => (0..*num)
                .map(|i| if flags & (1 << i) != 0 { "src" } else { "dst" })
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

/// `virNWFilterRuleDetailsParse` for one attribute's text: a variable, or
/// the first of its datatypes that takes the text, through its validator.
/// `None`: "%s has illegal value %s".
pub(super) fn parse_item(attr: &Attr, text: &str) -> Option<Data> {
    if let Some(var) = text.strip_prefix('$') {
        return VarAccess::parse(var).map(Data::Var);
    }
    let mut t = 1;
    while t < dt::LAST {
        if attr.types & t != 0 {
            if let Some(v) = parse_as(t, text) {
                if t == dt::MACMASK {
                    let Value::Mac(m) = v else { return None };
                    return contiguous(&m).then_some(Data::Value(v));
                }
                return validate(attr.special, v, text).map(Data::Value);
            }
        }
        t <<= 1;
    }
    None
}
