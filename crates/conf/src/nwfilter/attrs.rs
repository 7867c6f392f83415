//! The attributes each protocol element of a `<rule>` takes, in the order
//! libvirt 9.0 parses and writes them (src/conf/nwfilter_conf.c's
//! `virXMLAttr2Struct` tables and `virAttr`).

/// `attrDatatype`: the kinds of value an attribute may take, tried in
/// this bit order.
pub(super) mod dt {
    pub const UINT16: u32 = 1 << 0;
    pub const UINT8: u32 = 1 << 1;
    pub const UINT16_HEX: u32 = 1 << 2;
    pub const UINT8_HEX: u32 = 1 << 3;
    pub const MACADDR: u32 = 1 << 4;
    pub const MACMASK: u32 = 1 << 5;
    pub const IPADDR: u32 = 1 << 6;
    pub const IPMASK: u32 = 1 << 7;
    pub const STRING: u32 = 1 << 8;
    pub const IPV6ADDR: u32 = 1 << 9;
    pub const IPV6MASK: u32 = 1 << 10;
    pub const STRINGCOPY: u32 = 1 << 11;
    pub const BOOLEAN: u32 = 1 << 12;
    pub const UINT32: u32 = 1 << 13;
    pub const UINT32_HEX: u32 = 1 << 14;
    pub const IPSETNAME: u32 = 1 << 15;
    pub const IPSETFLAGS: u32 = 1 << 16;
    pub const LAST: u32 = 1 << 17;

    pub const U8: u32 = UINT8 | UINT8_HEX;
    pub const U16: u32 = UINT16 | UINT16_HEX;
    pub const U32: u32 = UINT32 | UINT32_HEX;
}

/// An attribute's validator and formatter beyond its datatype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Special {
    None,
    /// `checkMacProtocolID` / `macProtocolIDFormatter`.
    MacProtocol,
    /// `checkVlanVlanID`.
    VlanId,
    /// `checkVlanProtocolID` / `vlanProtocolIDFormatter`.
    VlanProtocol,
    /// `arpOpcodeValidator` / `arpOpcodeFormatter`.
    ArpOpcode,
    /// `checkIPProtocolID` / `formatIPProtocolID`.
    IpProtocol,
    /// `dscpValidator`.
    Dscp,
    /// `stateValidator` / `stateFormatter`.
    State,
    /// `tcpFlagsValidator` / `tcpFlagsFormatter`.
    TcpFlags,
    /// `ipsetValidator` / `ipsetFormatter`.
    IpSet,
    /// `ipsetFlagsValidator` / `ipsetFlagsFormatter`.
    IpSetFlags,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Attr {
    pub name: &'static str,
    pub types: u32,
    pub special: Special,
}

const fn a(name: &'static str, types: u32) -> Attr {
    Attr {
        name,
        types,
        special: Special::None,
    }
}

const fn s(name: &'static str, types: u32, special: Special) -> Attr {
    Attr {
        name,
        types,
        special,
    }
}

const COMMENT: Attr = a("comment", dt::STRINGCOPY);
/// The longest comment kept (`MAX_COMMENT_LENGTH`).
pub(super) const MAX_COMMENT_LENGTH: usize = 256;

macro_rules! mac_props {
    () => {
        [
            a("srcmacaddr", dt::MACADDR),
            a("srcmacmask", dt::MACMASK),
            a("dstmacaddr", dt::MACADDR),
            a("dstmacmask", dt::MACMASK),
        ]
    };
}

const MAC_PROPS: [Attr; 4] = mac_props!();

const MAC: &[Attr] = &[
    MAC_PROPS[0],
    MAC_PROPS[1],
    MAC_PROPS[2],
    MAC_PROPS[3],
    s("protocolid", dt::U16 | dt::STRING, Special::MacProtocol),
    COMMENT,
];

const VLAN: &[Attr] = &[
    MAC_PROPS[0],
    MAC_PROPS[1],
    MAC_PROPS[2],
    MAC_PROPS[3],
    s("vlanid", dt::U16, Special::VlanId),
    s(
        "encap-protocol",
        dt::U16 | dt::STRING,
        Special::VlanProtocol,
    ),
    COMMENT,
];

const STP: &[Attr] = &[
    MAC_PROPS[0],
    MAC_PROPS[1],
    a("type", dt::U8),
    a("flags", dt::U8),
    a("root-priority", dt::U16),
    a("root-priority-hi", dt::U16),
    a("root-address", dt::MACADDR),
    a("root-address-mask", dt::MACMASK),
    a("root-cost", dt::U32),
    a("root-cost-hi", dt::U32),
    a("sender-priority", dt::U16),
    a("sender-priority-hi", dt::U16),
    a("sender-address", dt::MACADDR),
    a("sender-address-mask", dt::MACMASK),
    a("port", dt::U16),
    a("port-hi", dt::U16),
    a("age", dt::U16),
    a("age-hi", dt::U16),
    a("max-age", dt::U16),
    a("max-age-hi", dt::U16),
    a("hello-time", dt::U16),
    a("hello-time-hi", dt::U16),
    a("forward-delay", dt::U16),
    a("forward-delay-hi", dt::U16),
    COMMENT,
];

const ARP: &[Attr] = &[
    MAC_PROPS[0],
    MAC_PROPS[1],
    MAC_PROPS[2],
    MAC_PROPS[3],
    a("hwtype", dt::U16),
    a("protocoltype", dt::U16),
    s("opcode", dt::U16 | dt::STRING, Special::ArpOpcode),
    a("arpsrcmacaddr", dt::MACADDR),
    a("arpdstmacaddr", dt::MACADDR),
    a("arpsrcipaddr", dt::IPADDR),
    a("arpsrcipmask", dt::IPMASK),
    a("arpdstipaddr", dt::IPADDR),
    a("arpdstipmask", dt::IPMASK),
    a("gratuitous", dt::BOOLEAN),
    COMMENT,
];

const PORTS: [Attr; 4] = [
    a("srcportstart", dt::U16),
    a("srcportend", dt::U16),
    a("dstportstart", dt::U16),
    a("dstportend", dt::U16),
];

const IP: &[Attr] = &[
    MAC_PROPS[0],
    MAC_PROPS[1],
    MAC_PROPS[2],
    MAC_PROPS[3],
    a("srcipaddr", dt::IPADDR),
    a("srcipmask", dt::IPMASK),
    a("dstipaddr", dt::IPADDR),
    a("dstipmask", dt::IPMASK),
    s("protocol", dt::STRING | dt::U8, Special::IpProtocol),
    PORTS[0],
    PORTS[1],
    PORTS[2],
    PORTS[3],
    s("dscp", dt::U8, Special::Dscp),
    COMMENT,
];

const IPV6: &[Attr] = &[
    MAC_PROPS[0],
    MAC_PROPS[1],
    MAC_PROPS[2],
    MAC_PROPS[3],
    a("srcipaddr", dt::IPV6ADDR),
    a("srcipmask", dt::IPV6MASK),
    a("dstipaddr", dt::IPV6ADDR),
    a("dstipmask", dt::IPV6MASK),
    s("protocol", dt::STRING | dt::U8, Special::IpProtocol),
    PORTS[0],
    PORTS[1],
    PORTS[2],
    PORTS[3],
    a("type", dt::U8),
    a("typeend", dt::U8),
    a("code", dt::U8),
    a("codeend", dt::U8),
    COMMENT,
];

/// `COMMON_IP_PROPS`: the layer-3 attributes of tcp, udp & co. (`dstipto`
/// is an IPv4 address in the IPv6 tables too, as libvirt declares it.)
const fn ip_props(addr: u32, mask: u32) -> [Attr; 14] {
    [
        a("srcmacaddr", dt::MACADDR),
        a("srcipaddr", addr),
        a("srcipmask", mask),
        a("dstipaddr", addr),
        a("dstipmask", mask),
        a("srcipfrom", addr),
        a("srcipto", addr),
        a("dstipfrom", addr),
        a("dstipto", dt::IPADDR),
        s("dscp", dt::U8, Special::Dscp),
        a("connlimit-above", dt::UINT16),
        s("state", dt::STRING, Special::State),
        s("ipset", dt::IPSETNAME, Special::IpSet),
        s("ipsetflags", dt::IPSETFLAGS, Special::IpSetFlags),
    ]
}

const V4: [Attr; 14] = ip_props(dt::IPADDR, dt::IPMASK);
const V6: [Attr; 14] = ip_props(dt::IPV6ADDR, dt::IPV6MASK);

macro_rules! l3 {
    ($ip:ident $(, $extra:expr)*) => {
        &[
            $ip[0], $ip[1], $ip[2], $ip[3], $ip[4], $ip[5], $ip[6], $ip[7], $ip[8], $ip[9],
            $ip[10], $ip[11], $ip[12], $ip[13], $($extra,)* COMMENT,
        ]
    };
}

const OPTION: Attr = a("option", dt::U8);
const TCP_FLAGS: Attr = s("flags", dt::STRING, Special::TcpFlags);
const ICMP_TYPE: Attr = a("type", dt::U8);
const ICMP_CODE: Attr = a("code", dt::U8);

const TCP: &[Attr] = l3!(V4, PORTS[0], PORTS[1], PORTS[2], PORTS[3], OPTION, TCP_FLAGS);
const UDP: &[Attr] = l3!(V4, PORTS[0], PORTS[1], PORTS[2], PORTS[3]);
const SCTP: &[Attr] = l3!(V4, PORTS[0], PORTS[1], PORTS[2], PORTS[3]);
const L3_V4: &[Attr] = l3!(V4);
const ICMP: &[Attr] = l3!(V4, ICMP_TYPE, ICMP_CODE);
const TCP6: &[Attr] = l3!(V6, PORTS[0], PORTS[1], PORTS[2], PORTS[3], OPTION);
const UDP6: &[Attr] = l3!(V6, PORTS[0], PORTS[1], PORTS[2], PORTS[3]);
const L3_V6: &[Attr] = l3!(V6);
const ICMP6: &[Attr] = l3!(V6, ICMP_TYPE, ICMP_CODE);

/// `virNWFilterRuleProtocolType` of the protocols a rule can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Mac,
    Vlan,
    Stp,
    Arp,
    Rarp,
    Ip,
    Ipv6,
    Tcp,
    Icmp,
    Igmp,
    Udp,
    Udplite,
    Esp,
    Ah,
    Sctp,
    All,
    TcpIpv6,
    Icmpv6,
    UdpIpv6,
    UdpliteIpv6,
    EspIpv6,
    AhIpv6,
    SctpIpv6,
    AllIpv6,
}

/// `virAttr`: element names in libvirt's lookup order, with their tables.
pub(super) const PROTOCOLS: &[(&str, Protocol, &[Attr])] = &[
    ("arp", Protocol::Arp, ARP),
    ("rarp", Protocol::Rarp, ARP),
    ("mac", Protocol::Mac, MAC),
    ("vlan", Protocol::Vlan, VLAN),
    ("stp", Protocol::Stp, STP),
    ("ip", Protocol::Ip, IP),
    ("ipv6", Protocol::Ipv6, IPV6),
    ("tcp", Protocol::Tcp, TCP),
    ("udp", Protocol::Udp, UDP),
    ("udplite", Protocol::Udplite, L3_V4),
    ("esp", Protocol::Esp, L3_V4),
    ("ah", Protocol::Ah, L3_V4),
    ("sctp", Protocol::Sctp, SCTP),
    ("icmp", Protocol::Icmp, ICMP),
    ("all", Protocol::All, L3_V4),
    ("igmp", Protocol::Igmp, L3_V4),
    ("tcp-ipv6", Protocol::TcpIpv6, TCP6),
    ("udp-ipv6", Protocol::UdpIpv6, UDP6),
    ("udplite-ipv6", Protocol::UdpliteIpv6, L3_V6),
    ("esp-ipv6", Protocol::EspIpv6, L3_V6),
    ("ah-ipv6", Protocol::AhIpv6, L3_V6),
    ("sctp-ipv6", Protocol::SctpIpv6, UDP6),
    ("icmpv6", Protocol::Icmpv6, ICMP6),
    ("all-ipv6", Protocol::AllIpv6, L3_V6),
];

impl Protocol {
    /// The element name and attribute table.
    pub(super) fn entry(self) -> (&'static str, &'static [Attr]) {
        let (name, _, table) = PROTOCOLS
            .iter()
            .find(|(_, p, _)| *p == self)
            .expect("every protocol has a table");
        (name, table)
    }

    /// `virNWFilterRuleDefFixup`: the attributes whose negation is taken
    /// from another's (target, source), and whether the ipset fixup runs.
    pub(super) fn neg_copies(self) -> (&'static [(&'static str, &'static str)], bool) {
        use Protocol::*;
        const MASKS: &[(&str, &str)] =
            &[("srcmacmask", "srcmacaddr"), ("dstmacmask", "dstmacaddr")];
        const IPMASKS: &[(&str, &str)] = &[("srcipmask", "srcipaddr"), ("dstipmask", "dstipaddr")];
        const RANGES: &[(&str, &str)] = &[
            ("srcipmask", "srcipaddr"),
            ("dstipmask", "dstipaddr"),
            ("srcipto", "srcipfrom"),
            ("dstipto", "dstipfrom"),
        ];
        const RANGES_PORTS: &[(&str, &str)] = &[
            ("srcipmask", "srcipaddr"),
            ("dstipmask", "dstipaddr"),
            ("srcipto", "srcipfrom"),
            ("dstipto", "dstipfrom"),
            ("srcportend", "srcportstart"),
            ("dstportstart", "srcportstart"),
            ("dstportend", "srcportstart"),
        ];
        const RANGES_ICMP: &[(&str, &str)] = &[
            ("srcipmask", "srcipaddr"),
            ("dstipmask", "dstipaddr"),
            ("srcipto", "srcipfrom"),
            ("dstipto", "dstipfrom"),
            ("code", "type"),
        ];
        const STP_COPIES: &[(&str, &str)] = &[
            ("srcmacmask", "srcmacaddr"),
            ("root-priority-hi", "root-priority"),
            ("root-address-mask", "root-address"),
            ("root-cost-hi", "root-cost"),
            ("sender-priority-hi", "sender-priority"),
            ("sender-address-mask", "sender-address"),
            ("port-hi", "port"),
            ("age-hi", "age"),
            ("max-age-hi", "max-age"),
            ("hello-time-hi", "hello-time"),
            ("forward-delay-hi", "forward-delay"),
        ];
        const IPV6_COPIES: &[(&str, &str)] = &[
            ("srcipmask", "srcipaddr"),
            ("dstipmask", "dstipaddr"),
            ("typeend", "type"),
            ("code", "type"),
            ("codeend", "type"),
        ];
        match self {
            Mac | Vlan => (MASKS, false),
            Stp => (STP_COPIES, false),
            Ip => (IPMASKS, true),
            Ipv6 => (IPV6_COPIES, true),
            Arp | Rarp => (&[], false),
            Tcp | TcpIpv6 | Udp | UdpIpv6 | Sctp | SctpIpv6 => (RANGES_PORTS, true),
            Udplite | UdpliteIpv6 | Esp | EspIpv6 | Ah | AhIpv6 | Igmp => (RANGES, true),
            Icmp | Icmpv6 => (RANGES_ICMP, true),
            All | AllIpv6 => (RANGES, false),
        }
    }
}
