//! The host network driver behind rvirtd's `qemu:///system`, in network
//! namespaces the test makes (nothing touches this machine's own network):
//! the same NAT network defined and started on rvirtd (namespace A) and
//! on a private stock libvirtd 9.0 (namespace B) gives the same virsh
//! answers, the same bridge address, the same iptables/ip6tables rules and
//! the same dnsmasq config; net-destroy takes bridge, dnsmasq and rules
//! away again. Then the kit's test guest on that network, through rvirtd,
//! gets a DHCP lease that `net-dhcp-leases` reports.

use rvirt_testkit::guest::{GuestArgs, DHCP_MARKER};
use rvirt_testkit::hosts::{Lan, NetNs};
use rvirt_testkit::libvirtd_host::LibvirtdHost;
use rvirt_testkit::network_dirs::NetworkDirs;
use rvirt_testkit::qemu_hosts::{MigrationHost, QemuHost, TestGuest};
use rvirt_testkit::tools::{spawn_shell, wait};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const NET: &str = "rvnat";
const BRIDGE: &str = "rvbr0";
/// Fixed identity (uuid, MAC, bridge): nothing needs normalising.
const NET_XML: &str = "<network>
  <name>rvnat</name>
  <uuid>6f1c2a1e-0b7d-4c55-9a3e-2f6d8e1c4b70</uuid>
  <forward mode='nat'/>
  <bridge name='rvbr0' stp='on' delay='0'/>
  <mac address='52:54:00:12:34:56'/>
  <domain name='rvnat'/>
  <ip address='10.99.0.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.99.0.10' end='10.99.0.50'/>
    </dhcp>
  </ip>
</network>
";

/// The virsh answers compared after start and after destroy.
const QUERIES: &[&str] = &[
    "net-list --all",
    "net-info rvnat",
    "net-dumpxml rvnat",
    "net-dumpxml rvnat --inactive",
    "net-list --autostart",
    "net-dhcp-leases rvnat",
];

/// `PROGRAM ARGS` inside namespace `ns`; stdout (empty on failure).
fn in_ns(ns: &NetNs, program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name, program])
        .args(args)
        .output()
        .expect("ip netns exec");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `iptables-save` without its comments and counters: the rules only.
fn rules(ns: &NetNs, program: &str) -> String {
    let (_, text) = in_ns(ns, program, &[]);
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| match l.split_once(" [") {
            Some((chain, _)) if l.starts_with(':') => chain.to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The bridge's addresses as `ip -o addr` shows them, without the index.
fn bridge_addrs(ns: &NetNs) -> Option<String> {
    let (ok, text) = in_ns(ns, "ip", &["-o", "-4", "addr", "show", "dev", BRIDGE]);
    ok.then(|| {
        text.lines()
            .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn alive(pid: i32) -> bool {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&cmdline).contains("dnsmasq")
}

/// dnsmasq processes the test saw started: killed (by PID, if still
/// dnsmasq) when the test ends, whatever happened, since neither daemon
/// stops them on exit and a namespace's deletion does not either.
#[derive(Default)]
struct Reaper(Vec<i32>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for pid in self.0.iter().copied().filter(|p| alive(*p)) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn tools_present() -> bool {
    ["dnsmasq", "iptables", "ip6tables"].iter().all(|t| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

struct Sides {
    rv: QemuHost,
    lv: LibvirtdHost,
    rv_dir: NetworkDirs,
    lan: Lan,
}

impl Sides {
    fn both(&self) -> [(&str, &dyn MigrationHost); 2] {
        [("rvirtd", &self.rv), ("libvirtd", &self.lv)]
    }

    fn rv_pidfile(&self, net: &str) -> PathBuf {
        self.rv_dir.join(format!("state/{net}.pid"))
    }

    fn lv_pidfile(&self, net: &str) -> PathBuf {
        self.lv
            .private_path(&format!("/run/libvirt/network/{net}.pid"))
    }

    /// Both daemons' dnsmasq `EXT` file of `net` (conf, hostsfile), with
    /// rvirtd's directories put where libvirt's are.
    fn assert_dnsmasq_files_agree(&self, net: &str, ext: &str) {
        let rv = std::fs::read_to_string(self.rv_dir.join(format!("dnsmasq/{net}.{ext}")))
            .unwrap_or_else(|e| panic!("rvirtd's {net}.{ext}: {e}"));
        let lv = std::fs::read_to_string(
            self.lv
                .private_path(&format!("/var/lib/libvirt/dnsmasq/{net}.{ext}")),
        )
        .unwrap_or_else(|e| panic!("libvirtd's {net}.{ext}: {e}"));
        let rv = rv
            .replace(
                &self.rv_dir.join("dnsmasq").display().to_string(),
                "/var/lib/libvirt/dnsmasq",
            )
            .replace(
                &self.rv_dir.join("state").display().to_string(),
                "/run/libvirt/network",
            );
        assert_eq!(rv, lv, "{net}.{ext}: rvirtd, then libvirtd");
    }

    /// The namespaces' iptables and ip6tables rules are the same.
    fn assert_rules_agree(&self, step: &str) {
        for program in ["iptables-save", "ip6tables-save"] {
            let rv = rules(&self.lan.a, program);
            assert_eq!(rv, rules(&self.lan.b, program), "{step}: {program}");
        }
    }

    /// `virsh CMD` says the same on both daemons.
    fn assert_same(&self, cmd: &str) {
        let rv = self.rv.virsh(cmd);
        let lv = self.lv.virsh(cmd);
        assert_eq!(
            (rv.ok, &rv.stdout, &rv.stderr),
            (lv.ok, &lv.stdout, &lv.stderr),
            "`{cmd}` differs (left rvirtd, right libvirtd)"
        );
    }

    /// Stock virsh on rvirtd and on libvirtd, and rvirsh on rvirtd (over
    /// its unix socket, reachable from outside the namespace), agree.
    fn compare(&self, step: &str) {
        let socket = self.rv.host.path("libvirt-sock");
        let rvirsh_uri = format!("qemu:///system?socket={}", socket.display());
        for q in QUERIES {
            let rv = self.rv.virsh(q);
            let lv = self.lv.virsh(q);
            assert_eq!(
                (rv.ok, &rv.stdout, &rv.stderr),
                (lv.ok, &lv.stdout, &lv.stderr),
                "{step}: `{q}` differs (left rvirtd, right libvirtd)"
            );
            let own = rvirt_testkit::tools::rvirsh(&rvirsh_uri, q);
            assert_eq!(
                (own.ok, &own.stdout),
                (rv.ok, &rv.stdout),
                "{step}: rvirsh `{q}` (left) against stock virsh"
            );
        }
    }
}

fn start_sides() -> Option<Sides> {
    if !tools_present() || !LibvirtdHost::available() {
        eprintln!("dnsmasq, iptables or stock libvirtd missing: skipped");
        return None;
    }
    let lan = Lan::create()?;
    let rv_dir = NetworkDirs::new("net");
    let rv = QemuHost::start_with(&lan.a, "netrv", &rv_dir.conf());
    let lv = LibvirtdHost::start(&lan.b, "netlv");
    Some(Sides {
        rv,
        lv,
        rv_dir,
        lan,
    })
}

#[test]
fn nat_network_as_libvirtd_starts_and_removes_it() {
    let Some(s) = start_sides() else { return };
    let mut reaper = Reaper::default();
    let file = s.rv_dir.write("net.xml", NET_XML);
    for (who, host) in s.both() {
        let out = host.ok(&format!("net-define {}", file.display()));
        assert!(out.contains("Network rvnat defined"), "{who}: {out}");
        host.ok("net-autostart rvnat");
        host.ok("net-start rvnat");
    }
    reaper.0.extend(read_pid(&s.rv_pidfile(NET)));
    reaper.0.extend(read_pid(&s.lv_pidfile(NET)));
    assert_eq!(reaper.0.len(), 2, "both dnsmasq pid files: {:?}", reaper.0);
    assert!(reaper.0.iter().all(|p| alive(*p)), "dnsmasq runs");
    s.compare("started");

    // The host side, namespace against namespace.
    let (a, b) = (&s.lan.a, &s.lan.b);
    let addrs = bridge_addrs(a).expect("rvirtd's bridge");
    assert!(
        addrs.contains("inet 10.99.0.1/24 brd 10.99.0.255"),
        "{addrs}"
    );
    assert_eq!(Some(addrs), bridge_addrs(b));
    let v4 = rules(a, "iptables-save");
    let masquerade = "-A LIBVIRT_PRT -s 10.99.0.0/24 ! -d 10.99.0.0/24 -j MASQUERADE";
    assert!(v4.contains(masquerade), "{v4}");
    s.assert_rules_agree("started");
    for ns in [a, b] {
        let (_, fwd) = in_ns(ns, "cat", &["/proc/sys/net/ipv4/ip_forward"]);
        assert_eq!(fwd.trim(), "1", "{}", ns.name);
    }
    s.assert_dnsmasq_files_agree(NET, "conf");

    // A live and persistent DHCP host: dnsmasq's hosts file on both.
    let update = "net-update rvnat add ip-dhcp-host \
                  \"<host mac='52:54:00:00:00:42' name='fixed' ip='10.99.0.42'/>\" --live --config";
    for (_, host) in s.both() {
        host.ok(update);
    }
    s.compare("updated");
    s.assert_dnsmasq_files_agree(NET, "hostsfile");

    // Autostart is persisted as libvirt's symlink.
    let link = s.rv_dir.join(format!("config/autostart/{NET}.xml"));
    assert!(link.is_symlink(), "{}", link.display());

    for (_, host) in s.both() {
        host.ok("net-destroy rvnat");
    }
    s.compare("destroyed");
    for ns in [a, b] {
        assert!(bridge_addrs(ns).is_none(), "{}: bridge left", ns.name);
        let left = rules(ns, "iptables-save");
        assert!(
            !left.contains(BRIDGE) && !left.contains("10.99.0."),
            "{left}"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while reaper.0.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!reaper.0.iter().any(|p| alive(*p)), "dnsmasq left running");
    for (_, host) in s.both() {
        host.ok("net-undefine rvnat");
    }
    s.compare("undefined");
    assert!(!s.rv_dir.join(format!("config/{NET}.xml")).exists());
    assert!(!link.exists());
}

/// An isolated network with a static DHCP host, a routed one with an
/// IPv6 address (ip6tables rules, router advertisements) and an open one
/// (no rules; dnsmasq for DNS only), side by side on both daemons.
const MORE: &[(&str, &str)] = &[
    (
        "rviso",
        "<network><name>rviso</name><uuid>6f1c2a1e-0b7d-4c55-9a3e-2f6d8e1c4b71</uuid>\
         <bridge name='rvbr1' stp='on' delay='0'/><mac address='52:54:00:12:34:57'/>\
         <ip address='10.98.1.1' netmask='255.255.255.0'><dhcp>\
         <range start='10.98.1.10' end='10.98.1.20'/>\
         <host mac='52:54:00:00:11:22' name='h1' ip='10.98.1.5'/></dhcp></ip></network>",
    ),
    (
        "rvroute",
        "<network><name>rvroute</name><uuid>6f1c2a1e-0b7d-4c55-9a3e-2f6d8e1c4b72</uuid>\
         <forward mode='route'/><bridge name='rvbr2' stp='on' delay='0'/>\
         <mac address='52:54:00:12:34:58'/><ip address='10.98.2.1' prefix='24'/>\
         <ip family='ipv6' address='2001:db8:98:2::1' prefix='64'/></network>",
    ),
    (
        "rvopen",
        "<network><name>rvopen</name><uuid>6f1c2a1e-0b7d-4c55-9a3e-2f6d8e1c4b73</uuid>\
         <forward mode='open'/><bridge name='rvbr3' stp='on' delay='0'/>\
         <mac address='52:54:00:12:34:59'/><ip address='10.98.3.1' prefix='24'/></network>",
    ),
];

#[test]
fn isolated_routed_and_open_networks_as_libvirtd() {
    let Some(s) = start_sides() else { return };
    let mut reaper = Reaper::default();
    for (name, xml) in MORE {
        let file = s.rv_dir.write(&format!("{name}.xml"), xml);
        for (_, host) in s.both() {
            host.ok(&format!("net-define {}", file.display()));
            host.ok(&format!("net-start {name}"));
        }
        reaper.0.extend(read_pid(&s.rv_pidfile(name)));
        reaper.0.extend(read_pid(&s.lv_pidfile(name)));
        for q in ["net-info", "net-dumpxml", "net-dumpxml --inactive"] {
            s.assert_same(&format!("{q} {name}"));
        }
        s.assert_dnsmasq_files_agree(name, "conf");
    }
    s.assert_dnsmasq_files_agree("rviso", "hostsfile");
    assert_eq!(reaper.0.len(), 6, "a dnsmasq per network and daemon");
    s.assert_same("net-list --all");
    s.assert_rules_agree("started");
    let v6 = rules(&s.lan.a, "ip6tables-save");
    assert!(
        v6.contains("-A LIBVIRT_FWO -s 2001:db8:98:2::/64 -i rvbr2 -j ACCEPT"),
        "{v6}"
    );
    for (name, _) in MORE {
        for (_, host) in s.both() {
            host.ok(&format!("net-destroy {name}"));
            host.ok(&format!("net-undefine {name}"));
        }
    }
    s.assert_same("net-list --all");
    s.assert_rules_agree("destroyed");
    let deadline = Instant::now() + Duration::from_secs(5);
    while reaper.0.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!reaper.0.iter().any(|p| alive(*p)), "dnsmasq left running");
}

/// Stock virsh following network lifecycle events over rvirtd's unix
/// socket (reachable from outside the namespace).
fn watch_network_events(rv: &QemuHost) -> std::process::Child {
    let socket = format!(
        "qemu:///system?socket={}",
        rv.host.path("libvirt-sock").display()
    );
    let child = spawn_shell(
        "virsh",
        &socket,
        "net-event --event lifecycle --loop --timeout 600",
    );
    // Registered once virsh runs its loop; it says nothing before events.
    std::thread::sleep(Duration::from_secs(2));
    child
}

/// Stop the watcher (Ctrl-C) and find `what` (Started, Stopped) for the
/// network in what it printed.
fn assert_event(watcher: std::process::Child, what: &str) {
    std::thread::sleep(Duration::from_secs(1));
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(watcher.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    );
    let seen = wait(watcher).stdout;
    let line = format!("event 'lifecycle' for network {NET}: {what}");
    assert!(seen.contains(&line), "no `{line}` in:\n{seen}");
}

#[test]
fn guest_on_the_network_gets_a_lease() {
    if !tools_present() {
        eprintln!("dnsmasq or iptables missing: skipped");
        return;
    }
    let Some(lan) = Lan::create() else { return };
    let dir = NetworkDirs::new("netguest");
    let mut rv = QemuHost::start_with(&lan.a, "netguest", &dir.conf());
    let mut reaper = Reaper::default();
    let events = watch_network_events(&rv);
    let file = dir.write("net.xml", NET_XML);
    rv.ok(&format!("net-create {}", file.display()));
    reaper
        .0
        .extend(read_pid(&dir.join(format!("state/{NET}.pid"))));

    let args = GuestArgs {
        dhcp: true,
        ..GuestArgs::default()
    };
    let (guest, xml_file) = TestGuest::new(&dir, "leaser", &args);
    let mac = "52:54:00:ab:cd:ef";
    let xml = std::fs::read_to_string(&xml_file).unwrap().replace(
        "  </devices>",
        &format!(
            "    <interface type='network'>\n      <mac address='{mac}'/>\n      \
             <source network='{NET}'/>\n      <model type='virtio'/>\n    </interface>\n  </devices>"
        ),
    );
    std::fs::write(&xml_file, xml).unwrap();
    rv.ok(&format!("define {}", xml_file.display()));
    rv.ok("start leaser");

    let live = rv.ok("dumpxml leaser");
    assert!(
        live.contains(&format!("<source network='{NET}' bridge='{BRIDGE}'/>")),
        "{live}"
    );
    assert!(live.contains("<target dev='vnet0'/>"), "{live}");
    let (_, link) = in_ns(&lan.a, "ip", &["-o", "link", "show", "dev", "vnet0"]);
    assert!(link.contains(&format!("master {BRIDGE}")), "{link}");

    // Whole lines only: the console may be read while the guest writes.
    let leased = guest.wait_for(0, 180, "a DHCP lease", |text| {
        text.split_inclusive('\n')
            .filter(|l| l.ends_with('\n'))
            .find_map(|l| l.trim_end().strip_prefix(DHCP_MARKER).map(str::to_string))
    });
    assert!(leased.starts_with("10.99.0."), "{leased}");
    let leases = rv.ok("net-dhcp-leases rvnat");
    let row = leases
        .lines()
        .find(|l| l.contains(mac))
        .unwrap_or_else(|| panic!("no lease for {mac}:\n{leases}"));
    assert!(row.contains(&format!("{leased}/24")), "{row}");
    assert!(row.contains("rvirt-guest"), "{row}");
    assert!(row.contains("ipv4"), "{row}");
    let one = rv.ok(&format!("net-dhcp-leases rvnat --mac {mac}"));
    assert!(one.contains(&leased), "{one}");

    assert_event(events, "Started");
    // A restarted daemon finds the running network (and its dnsmasq) again.
    let info = rv.ok("net-info rvnat");
    rv.host.restart();
    assert_eq!(rv.ok("net-info rvnat"), info);
    assert_eq!(rv.ok("net-dhcp-leases rvnat"), leases);
    // ... and the guest's port on the network's bridge.
    assert_eq!(rv.ok("dumpxml leaser"), live);

    rv.ok("destroy leaser");
    let (tap_left, _) = in_ns(&lan.a, "ip", &["link", "show", "dev", "vnet0"]);
    assert!(!tap_left, "the tap outlived the guest");
    let events = watch_network_events(&rv);
    rv.ok("net-destroy rvnat");
    assert_event(events, "Stopped");
    // A transient network is gone once stopped.
    let out = rv.virsh("net-info rvnat");
    assert!(
        out.stderr
            .contains("Network not found: no network with matching name 'rvnat'"),
        "{}",
        out.stderr
    );
}
