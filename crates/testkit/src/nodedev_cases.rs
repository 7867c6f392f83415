//! The node device, host interface and secret cases (issue 18): virsh
//! command strings and the XML files they read, run through stock virsh
//! and rvirsh on `test:///default`, and through stock virsh against
//! rvirtd and against libvirtd.

use crate::dirs::TempDir;

/// The documents the cases read, in a directory of its own (tests of one
/// binary run side by side) removed on drop.
pub struct Files {
    pub dir: TempDir,
}

const FILES: &[(&str, &str)] = &[
    (
        "vhba.xml",
        "<device>\n  <parent>scsi_host1</parent>\n  <capability type='scsi_host'>\n    \
         <capability type='fc_host'>\n      <wwnn>2001001b32a9da4e</wwnn>\n      \
         <wwpn>2101001b32a9da4e</wwpn>\n    </capability>\n  </capability>\n</device>\n",
    ),
    (
        "vhba-wwns.xml",
        "<device><parent wwnn='2000000012341234' wwpn='1000000012341234'/>\
         <capability type='scsi_host'><capability type='fc_host'/></capability></device>",
    ),
    (
        "vhba-computer.xml",
        "<device><parent>computer</parent><capability type='scsi_host'>\
         <capability type='fc_host'><wwnn>2001001b32a9da4e</wwnn><wwpn>2101001b32a9da4e</wwpn>\
         </capability></capability></device>",
    ),
    (
        "vhba-noparent.xml",
        "<device><parent>nope</parent><capability type='scsi_host'>\
         <capability type='fc_host'><wwnn>2001001b32a9da4e</wwnn><wwpn>2101001b32a9da4e</wwpn>\
         </capability></capability></device>",
    ),
    (
        "notfc.xml",
        "<device><capability type='scsi_host'><capability type='vport_ops'/></capability></device>",
    ),
    ("nocaps.xml", "<device><parent>scsi_host1</parent></device>"),
    ("badcap.xml", "<device><capability type='bogus'/></device>"),
    ("broken.xml", "<device><name>x</name>"),
    (
        "br.xml",
        "<interface type='bridge' name='br0'>\n  <start mode='onboot'/>\n  \
         <protocol family='ipv4'>\n    <dhcp peerdns='yes'/>\n  </protocol>\n  \
         <bridge stp='off' delay='0.01'>\n    <interface type='ethernet' name='eth0'>\n      \
         <mac address='ab:bb:cc:dd:ee:ff'/>\n    </interface>\n  </bridge>\n</interface>\n",
    ),
    (
        "bond.xml",
        "<interface type='bond' name='bond0'><link speed='1000' state='up'/>\
         <bond mode='active-backup'><arpmon interval='100' target='192.168.50.1' validate='active'/>\
         <interface type='ethernet' name='eth2'><mac address='ab:bb:cc:dd:ee:fe'/></interface>\
         </bond></interface>",
    ),
    (
        "vlan.xml",
        "<interface type='vlan' name='eth0.42'><start mode='hotplug'/><mtu size='1400'/>\
         <protocol family='ipv6'><autoconf/><dhcp/><ip address='3ffe:ffff:0:5::1' prefix='128'/>\
         <route gateway='3ffe:ffff:0:5::ff'/></protocol><vlan tag='42'><interface name='eth0'/>\
         </vlan></interface>",
    ),
    (
        "eth1-changed.xml",
        "<interface type='ethernet' name='eth1'><mac address='aa:bb:cc:dd:ee:ff'/>\
         <mtu size='9000'/></interface>",
    ),
    ("iface-noname.xml", "<interface type='ethernet'/>"),
    ("iface-badtype.xml", "<interface type='tap' name='t0'/>"),
    (
        "iface-badbond.xml",
        "<interface type='bond' name='b'><bond mode='fast'/></interface>",
    ),
    (
        "iface-badmtu.xml",
        "<interface type='ethernet' name='e'><mtu size='100001'/></interface>",
    ),
    ("iface-broken.xml", "<interface type='ethernet' name='e'>"),
    (
        "secret.xml",
        "<secret ephemeral='no' private='yes'><uuid>f52a81b2-424e-490c-823d-6bd4235bc573</uuid>\
         <usage type='ceph'><name>client.admin secret</name></usage></secret>",
    ),
    // Ephemeral secrets only: a stock libvirtd running as root writes
    // persistent ones to the host's /etc/libvirt/secrets.
    (
        "eph-private.xml",
        "<secret ephemeral='yes' private='yes'><uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>\
         <usage type='ceph'><name>client.eph</name></usage></secret>",
    ),
    (
        "eph-public.xml",
        "<secret ephemeral='yes' private='no'><uuid>11a81f5b-8403-7b23-c8d6-21ccc2f80d6f</uuid>\
         <description>a volume &amp; its key</description>\
         <usage type='volume'><volume>/var/lib/libvirt/images/eph.img</volume></usage></secret>",
    ),
    (
        "eph-conflict.xml",
        "<secret ephemeral='yes' private='yes'><uuid>22a81f5b-8403-7b23-c8d6-21ccc2f80d6f</uuid>\
         <usage type='ceph'><name>client.eph</name></usage></secret>",
    ),
    (
        "eph-unprivate.xml",
        "<secret ephemeral='yes' private='no'><uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>\
         <usage type='ceph'><name>client.eph</name></usage></secret>",
    ),
    (
        "eph-moved.xml",
        "<secret ephemeral='yes' private='yes'><uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>\
         <usage type='ceph'><name>client.other</name></usage></secret>",
    ),
    ("secret-badflag.xml", "<secret ephemeral='maybe'/>"),
    (
        "secret-badusage.xml",
        "<secret ephemeral='yes'><usage type='disk'/></secret>",
    ),
    (
        "secret-nousage.xml",
        "<secret ephemeral='yes'><usage type='iscsi'/></secret>",
    ),
    ("secret-baduuid.xml", "<secret ephemeral='yes'><uuid>1234</uuid></secret>"),
    ("secret-broken.xml", "<secret ephemeral='yes'>"),
    ("value.b64", "Zm9vYmFy\n"),
    ("value.raw", "raw value"),
];

impl Files {
    pub fn write() -> Files {
        let dir = TempDir::new("nodedev");
        for (name, text) in FILES {
            std::fs::write(dir.join(name), text).expect("write a case file");
        }
        Files { dir }
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

/// The cases: each string is one virsh invocation (the test host lives
/// for one connection).
pub fn cases(f: &Files) -> Vec<String> {
    let p = |n: &str| f.path(n);
    vec![
        // Node devices: libvirt 9.0's test driver refuses virsh's
        // ACTIVE/INACTIVE list flags, so every nodedev-list fails there.
        "nodedev-list".into(),
        "nodedev-list --all".into(),
        "nodedev-list --tree".into(),
        "nodedev-list --cap scsi_host,system".into(),
        "nodedev-list --cap bogus".into(),
        "nodedev-list --all --inactive".into(),
        "nodedev-list --tree --cap system".into(),
        "nodedev-dumpxml computer; nodedev-dumpxml scsi_host1; nodedev-dumpxml scsi_host2; \
         nodedev-dumpxml --device scsi_host11"
            .into(),
        "nodedev-dumpxml nope".into(),
        "nodedev-dumpxml 2000000012341234,1000000012341234".into(),
        "nodedev-dumpxml a,b,c".into(),
        "nodedev-dumpxml zz,1000000012341234".into(),
        "nodedev-dumpxml computer --xpath //vendor".into(),
        "nodedev-dumpxml scsi_host1 --xpath //wwnn --wrap".into(),
        "nodedev-info computer; nodedev-info scsi_host11; nodedev-info scsi_host2".into(),
        "nodedev-info nope".into(),
        format!(
            "nodedev-create {}; nodedev-dumpxml scsi_host12; nodedev-info scsi_host12; \
             nodedev-destroy scsi_host12; nodedev-dumpxml scsi_host12",
            p("vhba.xml")
        ),
        format!(
            "nodedev-create {}; nodedev-dumpxml scsi_host12 --xpath //wwnn",
            p("vhba-wwns.xml")
        ),
        format!("nodedev-create {}", p("vhba-computer.xml")),
        format!("nodedev-create {}", p("vhba-noparent.xml")),
        format!("nodedev-create {}", p("notfc.xml")),
        format!("nodedev-create {}", p("nocaps.xml")),
        format!("nodedev-create {}", p("badcap.xml")),
        format!("nodedev-create {}", p("broken.xml")),
        format!("nodedev-create {}", p("missing.xml")),
        "nodedev-destroy computer".into(),
        "nodedev-destroy scsi_host11; nodedev-dumpxml scsi_host11".into(),
        "nodedev-destroy --name nope".into(),
        // Host interfaces.
        "iface-list; iface-list --all; iface-list --inactive".into(),
        "iface-list --all --inactive".into(),
        "iface-dumpxml eth1; iface-dumpxml aa:bb:cc:dd:ee:ff; iface-dumpxml lo".into(),
        "iface-dumpxml eth1 --inactive".into(),
        "iface-dumpxml eth1 --xpath //ip".into(),
        "iface-name aa:bb:cc:dd:ee:ff; iface-name AA:BB:CC:DD:EE:FF; iface-name eth1; \
         iface-mac eth1; iface-mac aa:bb:cc:dd:ee:ff; iface-name 00:11:22:33:44:55"
            .into(),
        format!(
            "iface-define {}; iface-list --all; iface-dumpxml br0; iface-start br0; \
             iface-start br0; iface-list; iface-destroy br0; iface-destroy br0; \
             iface-undefine br0; iface-list --all; iface-undefine br0",
            p("br.xml")
        ),
        format!(
            "iface-define {}; iface-define {}; iface-dumpxml bond0; iface-dumpxml eth0.42; \
             iface-list --all",
            p("bond.xml"),
            p("vlan.xml")
        ),
        format!(
            "iface-define {}; iface-dumpxml eth1; iface-list --all",
            p("eth1-changed.xml")
        ),
        format!("iface-define {}", p("iface-noname.xml")),
        format!("iface-define {}", p("iface-badtype.xml")),
        format!("iface-define {}", p("iface-badbond.xml")),
        format!("iface-define {}", p("iface-badmtu.xml")),
        format!("iface-define {}", p("iface-broken.xml")),
        format!("iface-define {}", p("missing.xml")),
        "iface-start eth1; iface-destroy eth1; iface-start eth1; iface-list --all".into(),
        "iface-undefine nope; iface-start nope; iface-destroy 00:11:22:33:44:55".into(),
        format!(
            "iface-begin; iface-begin; iface-define {}; iface-list --all; iface-rollback; \
             iface-list --all; iface-rollback; iface-commit",
            p("br.xml")
        ),
        "iface-begin; iface-undefine eth1; iface-commit; iface-list --all; iface-rollback".into(),
        // Secrets: libvirt's test driver has no secret driver.
        "secret-list".into(),
        "secret-list --private --no-ephemeral".into(),
        format!("secret-define {}", p("secret.xml")),
        format!("secret-define {}", p("missing.xml")),
        "secret-dumpxml 1234".into(),
        "secret-dumpxml f52a81b2-424e-490c-823d-6bd4235bc573".into(),
        "secret-get-value f52a81b2-424e-490c-823d-6bd4235bc573".into(),
        "secret-set-value f52a81b2-424e-490c-823d-6bd4235bc573 --base64 Zm9v".into(),
        "secret-set-value f52a81b2-424e-490c-823d-6bd4235bc573 --base64 Zm9v --plain".into(),
        "secret-undefine f52a81b2-424e-490c-823d-6bd4235bc573".into(),
        // Events: types, argument errors, a wait that times out.
        "nodedev-event --list; secret-event --list".into(),
        "nodedev-event".into(),
        "nodedev-event --event x".into(),
        "nodedev-event --event lifecycle --timeout 0".into(),
        "nodedev-event --event lifecycle --timeout abc".into(),
        "nodedev-event --event lifecycle --device nope".into(),
        "nodedev-event --event update --device scsi_host1 --timeout 1; echo done".into(),
        "secret-event --event lifecycle --timeout 1".into(),
        "help nodedev-event; help secret-event".into(),
        // Their help pages.
        "help nodedev-list; help nodedev-dumpxml; help nodedev-create; help nodedev-destroy; \
         help nodedev-info"
            .into(),
        "help iface-list; help iface-dumpxml; help iface-define; help iface-begin; \
         help iface-name; help iface-mac"
            .into(),
        "help secret-define; help secret-list; help secret-get-value; help secret-set-value".into(),
    ]
}

/// Cases only compared between daemons: a MAC lookup while an
/// interface without MAC is defined makes libvirt's in-process test
/// driver print GLib criticals (g_ascii_strcasecmp on NULL, with the
/// process id and time) on virsh's stderr; behind a daemon they go to the
/// daemon's log and virsh prints only the result ("multiple matching
/// interfaces found": the MAC-less interface matches any MAC).
pub fn daemon_cases(f: &Files) -> Vec<String> {
    vec![format!(
        "iface-define {}; iface-name ab:bb:cc:dd:ee:fe; iface-name aa:bb:cc:dd:ee:ff; \
         iface-undefine bond0; iface-name aa:bb:cc:dd:ee:ff",
        f.path("bond.xml")
    )]
}

/// Secret cases for a daemon's `secret:///system` (run in this order:
/// the secrets live in the daemon between invocations). `{URI}` stands
/// for the daemon's URI (a read-only reconnection).
pub fn secret_cases(f: &Files) -> Vec<String> {
    let p = |n: &str| f.path(n);
    let a = "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f";
    let b = "11a81f5b-8403-7b23-c8d6-21ccc2f80d6f";
    vec![
        "secret-list".into(),
        format!(
            "secret-define {}; secret-list; secret-dumpxml {a}; secret-get-value {a}; \
             secret-set-value {a} --base64 Zm9vYmFy; secret-get-value {a}; \
             secret-list --private; secret-list --no-private; secret-list --ephemeral; \
             secret-list --no-ephemeral",
            p("eph-private.xml")
        ),
        format!(
            "secret-define {}; secret-list; secret-dumpxml {b}; secret-get-value {b}; \
             secret-set-value {b} --file {}; secret-get-value {b}; \
             secret-get-value {b} --plain; secret-set-value {b} --file {} --plain; \
             secret-get-value {b}; secret-dumpxml {b} --xpath //volume",
            p("eph-public.xml"),
            p("value.b64"),
            p("value.raw")
        ),
        format!("secret-define {}", p("eph-conflict.xml")),
        format!("secret-define {}", p("eph-unprivate.xml")),
        format!("secret-define {}", p("eph-moved.xml")),
        format!(
            "secret-define {}; secret-define {}; secret-define {}; secret-define {}; \
             secret-define {}; secret-define {}",
            p("secret-badflag.xml"),
            p("secret-badusage.xml"),
            p("secret-nousage.xml"),
            p("secret-baduuid.xml"),
            p("secret-broken.xml"),
            p("missing.xml")
        ),
        format!("secret-set-value {a}; secret-set-value {a} --base64 Zm9v --file x"),
        format!(
            "secret-set-value 33a81f5b-8403-7b23-c8d6-21ccc2f80d6f --base64 Zm9v; \
             secret-dumpxml 33a81f5b-8403-7b23-c8d6-21ccc2f80d6f; secret-undefine nope"
        ),
        format!(
            "connect {{URI}} --readonly; secret-list; secret-dumpxml {b}; \
             secret-get-value {b}; secret-set-value {b} --base64 Zm9v; secret-undefine {b}"
        ),
        format!(
            "secret-undefine {a}; secret-undefine {a}; secret-get-value {a}; \
             secret-undefine {b}; secret-list"
        ),
    ]
}
