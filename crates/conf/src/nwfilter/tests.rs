use super::*;

fn roundtrip(doc: &str) -> String {
    NWFilterDef::parse(doc)
        .map(|d| d.format())
        .unwrap_or_else(|e| e.message)
}

#[test]
fn match_no_moves_between_related_attributes_as_libvirt() {
    // libvirt's fixup gives dstportstart the negation of srcportstart.
    let doc = "<filter name='f' chain='ipv4'><uuid>5c6d49af-b071-6127-b4ec-6f8ed4b55335</uuid>\
        <rule action='drop' direction='in' priority='-2000'>\
        <tcp match='no' dstportstart='22' srcipaddr='10.0.0.1' srcipmask='255.255.0.0'/></rule></filter>";
    assert_eq!(
        roundtrip(doc),
        "<filter name='f' chain='ipv4' priority='-700'>\n  <uuid>5c6d49af-b071-6127-b4ec-6f8ed4b55335</uuid>\n  \
         <rule action='drop' direction='in' priority='500'>\n    \
         <tcp match='no' srcipaddr='10.0.0.1' srcipmask='16'/>\n    <tcp dstportstart='22'/>\n  </rule>\n</filter>\n"
    );
}

#[test]
fn errors_carry_libvirts_words() {
    let cases = [
        ("<filter/>", "filter has no name"),
        ("<filter name='x' chain='bad'/>", "Invalid chain name 'bad'. Please use a chain name called 'root' or any of the following prefixes: mac, vlan, stp, arp, rarp, ipv4, ipv6"),
        ("<filter name='x' chain='mac' priority='2000'/>", "Priority '2000' is outside valid range of [-1000,1000]"),
        ("<filter name='x'><rule direction='in'/></filter>", "rule node requires action attribute"),
        ("<filter name='x'><rule action='x' direction='in'/></filter>", "unknown rule action attribute value"),
        ("<filter name='x'><rule action='drop' direction='in'><ip dscp='64'/></rule></filter>", "dscp has illegal value 64"),
        ("<filter name='x'><rule action='drop' direction='in'><ip srcportstart='1'/></rule></filter>",
         "IP rule with port specification requires protocol specification with protocol to be either one of tcp(6), udp(17), dccp(33), or sctp(132)"),
        ("<filter name='x'><uuid>nope</uuid></filter>", "malformed uuid element"),
        ("<network/>", "expecting root element of 'filter', not 'network'"),
    ];
    for (doc, want) in cases {
        let e = NWFilterDef::parse(doc).expect_err(doc);
        assert!(e.message.ends_with(want), "{doc}: {}", e.message);
    }
}

#[test]
fn variables_and_values_as_libvirt_writes_them() {
    let doc = "<filter name='f'><uuid>5c6d49af-b071-6127-b4ec-6f8ed4b55335</uuid>\
        <rule action='accept' direction='out'><mac protocolid='2048' srcmacaddr='$MAC[@2]'/></rule>\
        <rule action='accept' direction='out'><tcp state='established,NEW' flags='SYN,ACK/ALL' ipset='s'/></rule>\
        <filterref filter='g'><parameter name='B' value='2'/><parameter name='A' value='1'/></filterref></filter>";
    assert_eq!(
        roundtrip(doc),
        "<filter name='f' chain='root'>\n  <uuid>5c6d49af-b071-6127-b4ec-6f8ed4b55335</uuid>\n  \
         <rule action='accept' direction='out' priority='500'>\n    <mac srcmacaddr='$MAC[@2]' protocolid='ipv4'/>\n  </rule>\n  \
         <rule action='accept' direction='out' priority='500'>\n    <tcp state='NEW,ESTABLISHED' ipset='s' ipsetflags='src' flags='SYN,ACK/ALL'/>\n  </rule>\n  \
         <filterref filter='g'>\n    <parameter name='A' value='1'/>\n    <parameter name='B' value='2'/>\n  </filterref>\n</filter>\n"
    );
}
