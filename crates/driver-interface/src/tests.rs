use super::*;
use std::path::Path;

/// A fake /sys/class/net (every link a directory of attribute files) and
/// /proc/net/vlan under a scratch directory, removed when dropped.
struct FakeSys(PathBuf);

impl FakeSys {
    fn new(tag: &str) -> FakeSys {
        let dir = std::env::temp_dir().join(format!("rvirt-iface-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("net")).unwrap();
        std::fs::create_dir_all(dir.join("vlan")).unwrap();
        FakeSys(dir)
    }
    fn link(&self, name: &str, attrs: &[(&str, &str)]) {
        let dir = self.0.join("net").join(name);
        for (attr, value) in attrs {
            let path = dir.join(attr);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            if !value.is_empty() || !attr.ends_with('/') {
                std::fs::write(&path, format!("{value}\n")).unwrap();
            }
        }
    }
    fn mkdir(&self, path: &str) {
        std::fs::create_dir_all(self.0.join(path)).unwrap();
    }
    fn backend(&self) -> HostInterfaces {
        HostInterfaces::new(self.0.join("net"), self.0.join("vlan"))
    }
}

impl Drop for FakeSys {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn host(tag: &str) -> FakeSys {
    let sys = FakeSys::new(tag);
    let common = |mac: &'static str, state: &'static str| {
        vec![("address", mac), ("operstate", state), ("mtu", "1500")]
    };
    sys.link(
        "lo",
        &[
            ("address", "00:00:00:00:00:00"),
            ("operstate", "unknown"),
            ("mtu", "65536"),
        ],
    );
    let mut eth = common("52:54:00:00:00:01", "up");
    eth.push(("speed", "10000"));
    sys.link("eth0", &eth);
    let mut br = common("52:54:00:00:00:02", "up");
    br.extend([
        ("uevent", "DEVTYPE=bridge\nINTERFACE=br0"),
        ("bridge/forward_delay", "1500"),
        ("bridge/stp_state", "1"),
        ("speed", "10000"),
    ]);
    sys.link("br0", &br);
    let mut port = common("52:54:00:00:00:03", "down");
    port.push(("brport/state", "0"));
    sys.link("port0", &port);
    let mut tap = common("fe:54:00:00:00:04", "up");
    tap.extend([("tun_flags", "0x1002"), ("brport/state", "3")]);
    sys.link("vnet0", &tap);
    sys.mkdir("net/br0/brif/port0");
    sys.mkdir("net/br0/brif/vnet0");
    sys.link("eth0.7", &common("52:54:00:00:00:01", "down"));
    std::fs::write(
        sys.0.join("vlan/eth0.7"),
        "eth0.7  VID: 7\t REORDER_HDR: 1  dev->priv_flags: 1001\n\
         Device: eth0\nINGRESS priority mappings: 0:0\n",
    )
    .unwrap();
    sys
}

fn names(refs: Vec<InterfaceRef>) -> Vec<String> {
    let mut names: Vec<String> = refs.into_iter().map(|r| r.name).collect();
    names.sort();
    names
}

#[test]
fn links_are_listed_as_the_udev_backend_lists_them() {
    let sys = host("list");
    let b = sys.backend();
    // Bridge ports and taps are not listed; lo's "unknown" is neither up
    // nor down.
    assert_eq!(
        names(b.list_all(0).unwrap()),
        ["br0", "eth0", "eth0.7", "lo"]
    );
    assert_eq!(
        names(b.list_all(list_flags::ACTIVE).unwrap()),
        ["br0", "eth0"]
    );
    assert_eq!(
        names(b.list_all(list_flags::INACTIVE).unwrap()),
        ["eth0.7", "lo"]
    );
    assert_eq!(b.num_of_interfaces().unwrap(), 2);
    assert_eq!(b.list_defined_interfaces(10).unwrap(), ["eth0.7"]);
    let err = b.lookup_by_mac("52:54:00:00:00:01").unwrap_err();
    assert_eq!(err.code, ErrorCode::MULTIPLE_INTERFACES);
    assert_eq!(b.lookup_by_mac("52:54:00:00:00:02").unwrap().name, "br0");
    let err = b.lookup_by_name("nope").unwrap_err();
    assert_eq!(
        err.message,
        "Interface not found: couldn't find interface named 'nope'"
    );
    assert!(b.list_all(4).is_err());
}

fn xml(b: &HostInterfaces, name: &str) -> String {
    let r = b.lookup_by_name(name).unwrap();
    b.get_xml_desc(&r, 0).unwrap()
}

#[test]
fn links_are_described_as_udev_get_iface_def_describes_them() {
    let sys = host("describe");
    let b = sys.backend();
    assert_eq!(
        xml(&b, "eth0"),
        "<interface type='ethernet' name='eth0'>\n  <mtu size='1500'/>\n  \
         <link speed='10000' state='up'/>\n  <mac address='52:54:00:00:00:01'/>\n</interface>\n"
    );
    assert_eq!(
        xml(&b, "lo"),
        "<interface type='ethernet' name='lo'>\n  <mtu size='65536'/>\n  \
         <link state='unknown'/>\n  <mac address='00:00:00:00:00:00'/>\n</interface>\n"
    );
    assert_eq!(
        xml(&b, "br0"),
        "<interface type='bridge' name='br0'>\n  <mtu size='1500'/>\n  \
         <bridge stp='on' delay='1500'>\n    <interface type='ethernet' name='port0'>\n      \
         <link state='down'/>\n      <mac address='52:54:00:00:00:03'/>\n    </interface>\n  \
         </bridge>\n</interface>\n"
    );
    assert_eq!(
        xml(&b, "eth0.7"),
        "<interface type='vlan' name='eth0.7'>\n  <mtu size='1500'/>\n  \
         <link state='down'/>\n  <vlan tag='7'>\n    <interface name='eth0'/>\n  </vlan>\n</interface>\n"
    );
    assert!(Path::new(&sys.0).exists());
}
