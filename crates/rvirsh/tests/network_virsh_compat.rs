//! virsh 9.0's network and network filter commands: rvirsh beside stock
//! virsh on `test:///default`, and stock virsh against rvirtd beside stock
//! virsh against libvirtd (`test+tcp://`), the same command strings each,
//! compared on stdout, stderr and exit status (generated UUIDs and the
//! daemons' URIs aside). Bad names, bad XML and bad options included.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::dirs::TempDir;
use rvirt_testkit::tools::{self, assert_shells_agree, compare_shells, diff, virsh, Normalise};
use std::path::PathBuf;

/// Network documents the cases define, by file name.
const DOCS: &[(&str, &str)] = &[
    (
        "nat.xml",
        "<network><name>nat1</name><uuid>11111111-2222-3333-4444-555555555555</uuid>\
         <forward mode='nat'><nat><address start='1.2.3.4' end='1.2.3.10'/><port start='1024' end='65000'/></nat></forward>\
         <bridge name='vbr1' stp='off' delay='2'/><mtu size='9000'/><mac address='52:54:00:AB:CD:EF'/>\
         <domain name='example.org' localOnly='yes'/>\
         <dns forwardPlainNames='no'><forwarder addr='8.8.8.8'/><forwarder domain='ex.com' addr='1.1.1.1'/>\
         <txt name='t' value='v &amp; w'/><srv service='ldap' protocol='tcp' domain='d' target='h' port='389' priority='1' weight='2'/>\
         <host ip='192.168.1.9'><hostname>a</hostname><hostname>b</hostname></host></dns>\
         <ip address='192.168.1.1' netmask='255.255.255.0' localPtr='yes'><tftp root='/srv/tftp'/><dhcp>\
         <range start='192.168.1.2' end='192.168.1.100'><lease expiry='1' unit='hours'/></range>\
         <host mac='52:54:00:00:00:01' name='h1' ip='192.168.1.50'/><bootp file='pxe.0' server='192.168.1.1'/></dhcp></ip>\
         <ip family='ipv6' address='2001:db8::1' prefix='64'><dhcp><range start='2001:db8::10' end='2001:db8::ff'/>\
         <host id='0:1:2' name='h6' ip='2001:db8::50'/></dhcp></ip>\
         <route address='10.0.0.0' prefix='8' gateway='192.168.1.254'/>\
         <portgroup name='pg' default='yes'><vlan><tag id='42'/></vlan><bandwidth><inbound average='1000'/></bandwidth></portgroup>\
         </network>",
    ),
    (
        "isolated.xml",
        "<network ipv6='yes' trustGuestRxFilters='no'><name>iso</name><ip address='10.9.0.1' prefix='16'/><port isolated='yes'/></network>",
    ),
    (
        "bridge.xml",
        "<network><name>hostbr</name><uuid>21111111-2222-3333-4444-555555555555</uuid><forward mode='bridge'/><bridge name='br0'/>\
         <virtualport type='openvswitch'/><vlan trunk='yes'><tag id='1'/><tag id='2' nativeMode='untagged'/></vlan></network>",
    ),
    (
        "hostdev.xml",
        "<network><name>hd</name><uuid>31111111-2222-3333-4444-555555555555</uuid><forward mode='hostdev' managed='yes'><driver name='vfio'/>\
         <address type='pci' domain='0' bus='4' slot='0' function='1'/><address type='pci' domain='0' bus='4' slot='0' function='2'/></forward></network>",
    ),
    (
        "direct.xml",
        "<network><name>dir</name><uuid>41111111-2222-3333-4444-555555555555</uuid><forward dev='eth0' mode='vepa'><interface dev='eth0'/><interface dev='eth1'/></forward></network>",
    ),
    ("plain.xml", "<network><name>plain</name><uuid>51111111-2222-3333-4444-555555555555</uuid></network>"),
    ("dup-name.xml", "<network><name>default</name></network>"),
    (
        "dup-uuid.xml",
        "<network><name>other</name><uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid></network>",
    ),
    ("noname.xml", "<network><uuid>61111111-2222-3333-4444-555555555555</uuid></network>"),
    ("notwell.xml", "<network><name>x</name>"),
    ("wrongroot.xml", "<pool><name>x</name></pool>"),
    ("badfwd.xml", "<network><name>x</name><forward mode='tunnel'/></network>"),
    ("nat-noip.xml", "<network><name>x</name><forward/></network>"),
    (
        "badrange.xml",
        "<network><name>x</name><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.1.2' end='10.0.0.9'/></dhcp></ip></network>",
    ),
    ("badmac.xml", "<network><name>x</name><mac address='01:02:03:04:05:06'/></network>"),
    ("badmtu.xml", "<network><name>x</name><forward mode='bridge'/><bridge name='b'/><mtu size='1500'/></network>"),
    (
        "badroute.xml",
        "<network><name>x</name><ip address='10.0.0.1' prefix='24'/><route address='10.1.0.0' prefix='16' gateway='10.2.0.1'/></network>",
    ),
    (
        "badsrv.xml",
        "<network><name>x</name><dns><srv service='a.b' protocol='tcp'/></dns></network>",
    ),
    ("badtxt.xml", "<network><name>x</name><dns><txt name='a b' value='c'/></dns></network>"),
    ("baddelay.xml", "<network><name>x</name><bridge delay='soon'/></network>"),
    ("badslash.xml", "<network><name>a/b</name></network>"),
    (
        "badforwarddev.xml",
        "<network><name>x</name><ip address='10.0.0.1' prefix='24'/><forward mode='open' dev='eth0'/></network>",
    ),
    ("dhcphost.xml", "<host mac='52:54:00:00:00:07' name='seven' ip='192.168.122.7'/>"),
];

fn write_docs() -> TempDir {
    let dir = TempDir::new("netcompat");
    for (name, text) in DOCS {
        dir.write(name, text);
    }
    dir
}

/// The command strings, each one shell (the test host lives only as long
/// as its connection).
fn cases(dir: &TempDir) -> Vec<String> {
    let f = |name: &str| dir.join(name).display().to_string();
    let mut cases: Vec<String> = vec![
        "net-list".into(),
        "net-list --all; net-list --inactive; net-list --persistent --name; net-list --transient; \
         net-list --autostart; net-list --no-autostart --uuid; net-list --all --table"
            .into(),
        "net-list --name --uuid".into(),
        "net-info default; net-dumpxml default; net-uuid default; \
         net-name dd8fe884-6c02-601e-7551-cca97df1c5df"
            .into(),
        "net-dumpxml --inactive default".into(),
        "net-dumpxml default --xpath //ip/@address; net-dumpxml default --xpath //range --wrap".into(),
        "net-info nope".into(),
        "net-dumpxml nope".into(),
        "net-uuid nope".into(),
        "net-name default".into(),
        "net-name 123456789012345678901234567890123456".into(),
        "net-name dd8fe884-6c02-601e-7551-cca97df1c5de".into(),
        "net-info 123456789012345678901234567890123456".into(),
        "net-start default".into(),
        "net-undefine default".into(),
        "net-destroy default; net-list --all; net-info default; net-destroy default; \
         net-start default; net-start default; net-destroy default; net-undefine default; \
         net-list --all; net-info default"
            .into(),
        "net-autostart default; net-list --autostart; net-info default; \
         net-autostart default --disable; net-list --autostart --all"
            .into(),
        "net-dhcp-leases default".into(),
        "net-dhcp-leases default --mac 52:54:00:00:00:01".into(),
        "net-dhcp-leases nope".into(),
        "nwfilter-list".into(),
        "net-event --list; net-event; net-event --event bogus".into(),
        "net-event --event lifecycle --timeout 1".into(),
        "net-event --event lifecycle --timeout 0".into(),
        "net-event --network nope --event lifecycle --timeout 1".into(),
        "nwfilter-dumpxml allow-arp".into(),
        "nwfilter-undefine allow-arp".into(),
        format!("nwfilter-define {}", f("plain.xml")),
        "nwfilter-binding-list".into(),
        "nwfilter-binding-dumpxml vnet0".into(),
        "nwfilter-binding-delete vnet0".into(),
        format!("nwfilter-binding-create {}", f("plain.xml")),
        "net-update default bogus ip-dhcp-host '<host/>'".into(),
        "net-update default add bogus '<host/>'".into(),
        "net-update default add ip-dhcp-host /nonexistent.xml".into(),
        "net-update default add ip-dhcp-host '<x/>' --current --live".into(),
        "net-update default add ip-dhcp-host '<host/>'".into(),
        "net-update default delete ip-dhcp-host '<host/>' --config".into(),
        "net-update default add dns-txt '<txt name=\"a\" value=\"b\"/>' --parent-index x".into(),
        "net-update default add bridge \"<bridge name='x'/>\"".into(),
        "net-update default add ip-dhcp-host \"<host mac='52:54:00:00:00:01' ip='192.168.122.5'/>\" --live --config; \
         net-dumpxml default; net-update default add ip-dhcp-host \"<host mac='52:54:00:00:00:01' ip='192.168.122.6'/>\"; \
         net-update default modify ip-dhcp-host \"<host mac='52:54:00:00:00:01' name='m' ip='192.168.122.6'/>\"; \
         net-dumpxml default; net-update default delete ip-dhcp-host \"<host name='m'/>\"; net-dumpxml default"
            .into(),
        format!(
            "net-update default add-first ip-dhcp-host {}; net-update default add ip-dhcp-range \"<range start='192.168.122.2' end='192.168.122.254'/>\"; \
             net-update default add ip-dhcp-range \"<range start='10.0.0.2' end='10.0.0.9'/>\"; net-update default modify ip-dhcp-range \"<range start='1.1.1.1' end='1.1.1.2'/>\"; \
             net-update default delete ip-dhcp-range \"<range start='192.168.122.2' end='192.168.122.254'/>\"; net-dumpxml default",
            f("dhcphost.xml")
        ),
        "net-update default add dns-host \"<host ip='1.2.3.4'><hostname>a</hostname></host>\"; \
         net-update default add dns-host \"<host ip='1.2.3.4'><hostname>b</hostname></host>\"; \
         net-update default add dns-txt \"<txt name='k' value='v'/>\"; net-update default add dns-txt \"<txt name='k' value='w'/>\"; \
         net-update default add dns-srv \"<srv service='sip' protocol='udp' target='t' port='5060'/>\"; \
         net-update default modify dns-srv \"<srv service='sip' protocol='udp'/>\"; net-dumpxml default; \
         net-update default delete dns-host \"<host><hostname>a</hostname></host>\"; net-update default delete dns-txt \"<txt name='k'/>\"; \
         net-update default delete dns-srv \"<srv service='sip'/>\"; net-update default delete dns-txt \"<txt name='k'/>\"; net-dumpxml default"
            .into(),
        "net-update default add portgroup \"<portgroup name='p1' default='yes'/>\"; \
         net-update default add portgroup \"<portgroup name='p2' default='yes'/>\"; \
         net-update default add portgroup \"<portgroup name='p1'/>\"; net-update default modify portgroup \"<portgroup name='p3'/>\"; \
         net-update default add forward-interface \"<interface dev='eth9'/>\"; net-update default add ip-dhcp-host \"<range/>\"; \
         net-dumpxml default; net-update default delete portgroup \"<portgroup name='p1'/>\"; net-dumpxml default"
            .into(),
        "net-update default add ip-dhcp-host \"<host mac='52:54:00:00:00:02' ip='192.168.122.8'/>\" --config; net-dumpxml default; \
         net-destroy default; net-update default add ip-dhcp-host \"<host mac='52:54:00:00:00:03' ip='192.168.122.9'/>\" --live; \
         net-update default add ip-dhcp-host \"<host mac='52:54:00:00:00:03' ip='192.168.122.9'/>\"; net-dumpxml default; \
         net-start default; net-dumpxml default"
            .into(),
    ];
    for doc in DOCS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| *n != "dhcphost.xml")
    {
        cases.push(format!(
            "net-define {}; net-list --all; net-dumpxml {}; net-info {}",
            f(doc),
            doc_name(doc),
            doc_name(doc)
        ));
    }
    cases.extend([
        format!(
            "net-create {}; net-list --all; net-info nat1; net-dumpxml nat1; net-undefine nat1; \
             net-destroy nat1; net-list --all; net-info nat1",
            f("nat.xml")
        ),
        format!(
            "net-define {0}; net-start plain; net-create {0}; net-define {1}; net-info plain; \
             net-destroy plain; net-undefine plain; net-list --all --name",
            f("plain.xml"),
            f("isolated.xml")
        ),
        format!(
            "net-define {}; net-list --all --uuid; net-create {}; net-list --transient",
            f("isolated.xml"),
            f("hostdev.xml")
        ),
        format!("net-create {}", f("badfwd.xml")),
        "net-define /nonexistent.xml".into(),
        "net-define".into(),
        "net-create --validate".into(),
        format!("net-define --validate {}", f("plain.xml")),
    ]);
    cases
}

/// The name of the network a document defines, for the commands after it.
fn doc_name(file: &str) -> &'static str {
    match file {
        "nat.xml" => "nat1",
        "isolated.xml" => "iso",
        "bridge.xml" => "hostbr",
        "hostdev.xml" => "hd",
        "direct.xml" => "dir",
        "plain.xml" => "plain",
        "dup-name.xml" => "default",
        "dup-uuid.xml" => "other",
        _ => "x",
    }
}

const RULES: &[Normalise] = &[Normalise::Uuid];

#[test]
fn network_commands_match_virsh() {
    if !tools::have_virsh() {
        eprintln!("stock virsh not installed: skipping");
        return;
    }
    let dir = write_docs();
    let cases = cases(&dir);
    assert_shells_agree("test:///default", &cases, RULES);
}

/// Networks a node description carries (`test:///PATH.xml`): active and
/// persistent, as libvirt's testParseNetworks makes them, inline or in a
/// file of their own.
#[test]
fn node_file_networks_match_virsh() {
    if !tools::have_virsh() {
        return;
    }
    let dir = write_docs();
    let node = dir.write(
        "node.xml",
        format!(
            "<node><memory>1048576</memory>{}<network file='plain.xml'/></node>",
            DOCS[0].1
        ),
    );
    let uri = format!("test://{}", node.display());
    let c =
        "net-list --all; net-info nat1; net-dumpxml nat1; net-dumpxml plain; net-destroy plain; \
             net-undefine plain; net-list --all --name";
    if let Some(d) = compare_shells(&uri, c, RULES) {
        panic!("{d}");
    }
}

/// `help network` and `help filter` list virsh's groups (the commands
/// rvirsh carries).
#[test]
fn network_help_groups_match_virsh() {
    if !tools::have_virsh() {
        return;
    }
    for group in ["network", "filter"] {
        for cmd in ["net-list", "net-update", "net-dumpxml", "nwfilter-list"] {
            let c = format!("help {cmd}");
            if let Some(d) = compare_shells("test:///default", &c, &[]) {
                panic!("{d}");
            }
        }
        let want = virsh("test:///default", &format!("help {group}"));
        let got = tools::rvirsh("test:///default", &format!("help {group}"));
        // rvirsh lists the commands it does not carry too, marked.
        let got: Vec<&str> = got
            .stdout
            .lines()
            .filter(|l| !l.ends_with(" [not carried by rvirsh]"))
            .collect();
        let carried: Vec<&str> = want.stdout.lines().filter(|l| got.contains(l)).collect();
        // Every carried line rvirsh prints is virsh's, in virsh's order.
        assert_eq!(got, carried, "help {group}");
    }
}

/// net-edit with `$EDITOR` scripts: a change, no change, a broken document.
#[test]
fn net_edit_matches_virsh() {
    if !tools::have_virsh() {
        return;
    }
    let dir = write_docs();
    let editors = [
        ("bridge", "sed -i \"s/virbr0/virbr9/\" \"$1\""),
        ("none", "true"),
        (
            "broken",
            "sed -i \"s/<forward mode='nat'\\/>/<forward mode='bogus'\\/>/\" \"$1\"",
        ),
    ];
    let commands = "net-edit default; net-dumpxml default; net-destroy default; net-edit default; \
                    net-dumpxml default; net-edit nope";
    tools::assert_editors_agree(dir.path(), &editors, commands, &[]);
}

/// Stock virsh against rvirtd and against libvirtd (`test+tcp://`): the
/// same strings print the same, the two daemons' URIs aside.
#[test]
fn network_commands_over_rpc_match_libvirtd() {
    if !tools::have_virsh() {
        return;
    }
    let Some(stock) = Daemon::libvirtd() else {
        eprintln!("no libvirtd: skipping");
        return;
    };
    let ours = Daemon::rvirtd("");
    let dir = write_docs();
    let cases = cases(&dir);
    let (stock_uri, our_uri) = (stock.tcp_uri(), ours.tcp_uri());
    tools::assert_sides_agree(
        &cases,
        ("libvirtd", &tools::virsh_on_with(&stock_uri, RULES)),
        ("rvirtd", &tools::virsh_on_with(&our_uri, RULES)),
        &format!("\n--- rvirtd log:\n{}", ours.log()),
    );
}

/// `net-event --loop` through a daemon while another client stops and
/// starts `default`: rvirsh against rvirtd prints what stock virsh prints
/// against libvirtd.
#[test]
fn net_event_over_rpc_matches_libvirtd() {
    if !tools::have_virsh() {
        return;
    }
    let Some((stock, ours)) = Daemon::libvirtd_and_rvirtd() else {
        return;
    };
    let watch = "net-event --event lifecycle --loop --timeout 4";
    let run = |program: PathBuf, uri: &str| {
        let child = tools::spawn_shell(program, uri, watch);
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let acts = virsh(uri, "net-destroy default; net-start default; net-event --event lifecycle --network default --timeout 1");
        assert!(
            acts.ok || acts.stdout.contains("events received"),
            "{}",
            acts.stderr
        );
        tools::wait(child)
    };
    let want = run(PathBuf::from("virsh"), &stock.tcp_uri());
    assert!(
        want.stdout.contains("for network default: Started"),
        "{}",
        want.stdout
    );
    let got = run(rvirt_testkit::bins::rvirsh(), &ours.tcp_uri());
    if let Some(d) = diff(watch, ("virsh+libvirtd", &want), ("rvirsh+rvirtd", &got)) {
        panic!("{d}\n--- rvirtd log:\n{}", ours.log());
    }
}
