//! `<network>` as libvirt 9.0 formats and refuses it (texts checked
//! against stock virsh on test:///default).

use super::*;

/// libvirt's test driver's `default` network, as written in
/// src/test/test_driver.c, and as `net-dumpxml default` prints it.
const TEST_DEFAULT: &str = include_str!("../../../driver-test/src/defaults/network.xml");

const DUMPED: &str = "<network>
  <name>default</name>
  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
";

#[test]
fn default_network_formats_as_virsh() {
    let def = NetworkDef::parse(TEST_DEFAULT).unwrap();
    assert_eq!(def.format(0), DUMPED);
    assert_eq!(def.forward.mode, ForwardMode::Nat);
    assert_eq!(def.dhcp_ipv4().unwrap().prefix(), 24);
    // What it prints reads back to the same document.
    assert_eq!(NetworkDef::parse(DUMPED).unwrap().format(0), DUMPED);
}

#[test]
fn generated_uuid_and_classful_prefix() {
    let def =
        NetworkDef::parse("<network><name>n</name><ip address='10.1.2.3'/></network>").unwrap();
    assert!(!def.uuid_specified);
    assert_eq!(def.ips[0].prefix(), 8);
    let text = def.format(0);
    assert!(
        text.contains(&format!("<uuid>{}</uuid>", def.uuid)),
        "{text}"
    );
    assert!(text.contains("<bridge stp='on' delay='0'/>"), "{text}");
}

#[test]
fn refused_as_virsh() {
    let n = |body: &str| format!("<network><name>n</name>{body}</network>");
    let range = |r: &str| {
        n(&format!(
            "<ip address='10.0.0.1' prefix='24'><dhcp>{r}</dhcp></ip>"
        ))
    };
    let cases = [
        ("<network/>".to_string(), "missing name information"),
        (
            "<network><name>a/b</name></network>".to_string(),
            "invalid char in name: /",
        ),
        (
            n("<forward mode='bogus'/>"),
            "unsupported configuration: unknown forwarding type 'bogus'",
        ),
        (
            n("<forward/>"),
            "XML error: nat forwarding requested, but no IP address provided for network 'n'",
        ),
        (
            range("<range start='10.0.1.2' end='10.0.1.9'/>"),
            "internal error: range 10.0.1.2 - 10.0.1.9 is not entirely within network 10.0.0.1/24",
        ),
        (
            range("<range start='10.0.0.9' end='10.0.0.2'/>"),
            "internal error: range 10.0.0.9 - 10.0.0.2 is reversed ",
        ),
        (
            range("<range start='bad' end='10.0.0.2'/>"),
            "Cannot parse socket address 'bad': Name or service not known",
        ),
        (n("<uuid>zz</uuid>"), "internal error: malformed uuid element"),
        (
            n("<mac address='01:00:00:00:00:01'/>"),
            "XML error: Invalid multicast bridge mac address '01:00:00:00:00:01' in network 'n'",
        ),
        (n("<ip address='x'/>"), "XML error: Invalid address 'x' in network 'n'"),
        (
            "<netwrk/>".to_string(),
            "XML error: expecting root element of 'network', not 'netwrk'",
        ),
        (
            n("<bridge name='b' delay='x'/>"),
            "XML error: Invalid delay value in network 'n'",
        ),
        (
            n("<forward mode='bridge' dev='eth0'><address type='pci' domain='0' bus='0' slot='1' function='0'/></forward>"),
            "XML error: the <forward> 'dev' attribute cannot be used when <address> or <pf> sub-elements are present in network %s",
        ),
    ];
    for (xml, want) in cases {
        let err = NetworkDef::parse(&xml).unwrap_err();
        assert_eq!(err.message, want, "{xml}");
    }
}

#[test]
fn inactive_hides_live_counts() {
    let mut def = NetworkDef::parse(
        "<network><name>h</name><forward mode='bridge'><interface dev='eth0'/></forward></network>",
    )
    .unwrap();
    def.connections = 2;
    if let ForwardIf::Netdev { connections, .. } = &mut def.forward.ifs[0] {
        *connections = 1;
    }
    let live = def.format(0);
    assert!(live.starts_with("<network connections='2'>"), "{live}");
    assert!(
        live.contains("<interface dev='eth0' connections='1'/>"),
        "{live}"
    );
    let inactive = def.format(XML_INACTIVE);
    assert!(inactive.starts_with("<network>\n"), "{inactive}");
    assert!(
        inactive.contains("<forward dev='eth0' mode='bridge'>"),
        "{inactive}"
    );
    assert!(inactive.contains("<interface dev='eth0'/>"), "{inactive}");
}
