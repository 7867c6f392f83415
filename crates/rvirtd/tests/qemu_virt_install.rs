//! virt-install against `qemu:///system`, as a new user runs it: rvirtd
//! in a network namespace the test makes (namespace A) and a private
//! stock libvirtd 9.0 (namespace B), each with the `default` NAT network
//! and a `default` dir pool. `virt-install --import --disk size=1
//! --network network=default` (booting the kit's test guest, which asks
//! for a DHCP lease; once for an unknown OS, once for one virt-install
//! knows, which gets a q35 machine) creates the volume in the pool, starts the guest and
//! the guest gets its lease; virsh then shows the same volume, guest
//! devices and lease on both daemons; `destroy`, `undefine
//! --remove-all-storage` and `net-destroy` remove it all again.

use rvirt_testkit::dirs::TempDir;
use rvirt_testkit::guest::{GuestArgs, DHCP_MARKER};
use rvirt_testkit::hosts::Lan;
use rvirt_testkit::libvirtd_host::LibvirtdHost;
use rvirt_testkit::network_dirs::NetworkDirs;
use rvirt_testkit::qemu_dirs::test_image;
use rvirt_testkit::qemu_hosts::{MigrationHost, QemuHost};
use rvirt_testkit::tools::{Normalise, Output};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const GUEST: &str = "vinst";
const MAC: &str = "52:54:00:6e:a1:01";
/// libvirt's own default network (`/usr/share/libvirt/networks/default.xml`)
/// with a fixed identity, so nothing needs masking.
const DEFAULT_NET: &str = "<network>
  <name>default</name>
  <uuid>5d3b0c7e-1f0e-4b53-9c7c-4a1f0e7c2b10</uuid>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <mac address='52:54:00:0a:0b:0c'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
";

fn tools_present() -> bool {
    ["virt-install", "dnsmasq", "iptables", "qemu-img"]
        .iter()
        .all(|t| {
            Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// rvirtd's network and storage directories under `dir`.
fn host_driver_conf(dir: &NetworkDirs) -> String {
    format!(
        "{}storage_config_dir = \"{}\"\nstorage_state_dir = \"{}\"\n",
        dir.conf(),
        dir.join("storage-etc").display(),
        dir.join("storage-run").display()
    )
}

/// What virt-install is told of the guest's OS, and what the NIC then
/// needs added.
struct Os {
    args: &'static [&'static str],
    nic: &'static str,
}

/// No OS known: an i440fx machine with an IDE disk, ICH9 USB2 controllers
/// and an e1000 NIC, which the test guest's kernel has no driver for
/// (hence virtio).
const GENERIC: Os = Os {
    args: &["--osinfo", "detect=on,require=off"],
    nic: ",model=virtio",
};

/// A Linux virt-install knows: q35 with fourteen pcie-root-ports, virtio
/// disk and NIC, a guest agent channel, an RNG, a balloon.
const DEBIAN11: Os = Os {
    args: &["--os-variant", "debian11"],
    nic: "",
};

/// One daemon of the comparison: its virsh, the unix socket virt-install
/// talks to, its pool directory and the guest's console file.
struct Side<'a> {
    who: &'static str,
    os: &'a Os,
    host: &'a dyn MigrationHost,
    socket: PathBuf,
    pool: PathBuf,
    console: PathBuf,
}

impl Side<'_> {
    fn virsh(&self, cmd: &str) -> Output {
        self.host.virsh(cmd)
    }

    fn ok(&self, cmd: &str) -> String {
        let out = self.virsh(cmd);
        assert!(
            out.ok,
            "{}: virsh {cmd}: {}{}\n--- log:\n{}",
            self.who,
            out.stdout,
            out.stderr,
            self.host.log()
        );
        out.stdout
    }

    /// The default network and pool, as a fresh libvirt host has them.
    fn prepare(&self, dir: &TempDir) {
        let net = dir.write("default-net.xml", DEFAULT_NET);
        self.ok(&format!(
            "net-define {}; net-start default; net-autostart default",
            net.display()
        ));
        self.ok(&format!(
            "pool-define-as default dir --target {}; pool-build default; pool-start default; \
             pool-autostart default",
            self.pool.display()
        ));
    }

    /// virt-install over the daemon's unix socket (a local connection,
    /// as virt-install on the host itself makes it).
    fn virt_install(&self) -> Output {
        let image = test_image();
        let args = GuestArgs {
            dhcp: true,
            ..GuestArgs::default()
        };
        let uri = format!("qemu+unix:///system?socket={}", self.socket.display());
        let home = self.pool.with_file_name(format!("home-{}", self.who));
        std::fs::create_dir_all(&home).unwrap();
        Command::new("virt-install")
            .env("HOME", &home)
            .args(["--connect", &uri, "--name", GUEST, "--memory", "128"])
            .args(["--vcpus", "1", "--virt-type", "qemu", "--import"])
            .args(["--disk", "size=1"])
            .args([
                "--network",
                &format!("network=default,mac={MAC}{}", self.os.nic),
            ])
            .args([
                "--boot",
                &format!(
                    "kernel={},initrd={},kernel_args=\"{}\"",
                    image.kernel.display(),
                    image.initramfs.display(),
                    args.cmdline()
                ),
            ])
            .args(self.os.args)
            .arg("--noautoconsole")
            .args(["--graphics", "none"])
            .args(["--serial", &format!("file,path={}", self.console.display())])
            .output()
            .expect("run virt-install")
            .into()
    }

    /// The address the guest says it leased (its console), waited for.
    fn wait_lease(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let text = std::fs::read_to_string(&self.console).unwrap_or_default();
            // Whole lines only: the guest may be writing this one.
            if let Some(addr) = text
                .split_inclusive('\n')
                .filter(|l| l.ends_with('\n'))
                .find_map(|l| l.trim_end().strip_prefix(DHCP_MARKER))
            {
                return addr.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "{}: no DHCP lease on the console:\n{text}\n--- log:\n{}",
                self.who,
                self.host.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// What virsh shows of the installed guest, its volume and its lease,
    /// with what legitimately differs masked.
    fn views(&self) -> Vec<(String, Output)> {
        let masks = [
            Normalise::Value(self.pool.display().to_string(), "pool"),
            Normalise::Value(self.console.display().to_string(), "console"),
            Normalise::Uuid,
            Normalise::Timestamp,
            Normalise::XmlText("atime"),
            Normalise::XmlText("mtime"),
            Normalise::XmlText("ctime"),
            Normalise::LargeBytes,
            Normalise::Field("Allocation"),
            Normalise::Field("Available"),
            Normalise::Field("Capacity"),
        ];
        [
            "list --all",
            "domstate vinst",
            "domblklist vinst --details",
            "domiflist vinst",
            "vol-list default --details",
            "vol-info vinst.qcow2 --pool default",
            "pool-list --all --details",
            "net-list --all",
            "net-dhcp-leases default",
        ]
        .iter()
        .map(|cmd| {
            let out = self.virsh(cmd).normalised(&masks);
            (cmd.to_string(), mask_allocations(mask_lease_expiry(out)))
        })
        .collect()
    }
}

/// net-dhcp-leases' expiry column (`2026-12-04 23:59:59`): when each
/// daemon's dnsmasq granted the lease.
fn mask_lease_expiry(out: Output) -> Output {
    let stdout = out
        .stdout
        .lines()
        .map(|l| match l.get(..20) {
            Some(head)
                if head.as_bytes().get(5) == Some(&b'-') && head.trim_start().starts_with("20") =>
            {
                format!(" <expiry>{}", &l[20..])
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    Output { stdout, ..out }
}

/// The sizes the file systems behind the pools decide: a volume's
/// allocation (the last two columns of its `vol-list --details` row) and
/// the pool's capacity, allocation and available space (`pool-list
/// --details` after the persistent column). Columns are compared as
/// words, since their widths follow the masked sizes.
fn mask_allocations(out: Output) -> Output {
    let stdout = out
        .stdout
        .lines()
        .map(|l| {
            let mut cols: Vec<&str> = l.split_whitespace().collect();
            let n = cols.len();
            if n >= 6 && cols.iter().any(|c| c.starts_with("<pool>/")) {
                cols[n - 2] = "<allocation>";
                cols.truncate(n - 1);
            } else if cols.first() == Some(&"default") && cols.get(1) == Some(&"running") {
                cols.truncate(4);
            }
            cols.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n");
    Output { stdout, ..out }
}

fn bridge_present(host: &dyn MigrationHost) -> bool {
    host.command("ip")
        .args(["link", "show", "dev", "virbr0"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The whole install and removal on one side; the views while the guest
/// runs with its lease.
fn install_and_remove(side: &Side, dir: &TempDir) -> (String, Vec<(String, Output)>) {
    side.prepare(dir);
    let out = side.virt_install();
    assert!(
        out.ok,
        "{}: virt-install failed:\n{}{}\n--- log:\n{}",
        side.who,
        out.stdout,
        out.stderr,
        side.host.log()
    );
    let volume = side.pool.join(format!("{GUEST}.qcow2"));
    assert!(volume.exists(), "{}: no {}", side.who, volume.display());
    let leased = side.wait_lease();
    // dnsmasq has written the lease file by the time the client has it.
    let leases = side.ok("net-dhcp-leases default");
    let row = leases.lines().find(|l| l.contains(MAC));
    assert!(
        row.is_some_and(|r| r.contains(&format!("{leased}/24")) && r.contains("rvirt-guest")),
        "{}: lease {leased} not listed:\n{leases}",
        side.who
    );
    let views = side.views();

    side.ok(&format!("destroy {GUEST}"));
    let undefined = side.ok(&format!("undefine {GUEST} --remove-all-storage"));
    assert!(
        undefined.contains(&format!("({}) removed.", volume.display())),
        "{}: {undefined}",
        side.who
    );
    assert!(!volume.exists(), "{}: the volume is left", side.who);
    side.ok("net-destroy default");
    assert!(!bridge_present(side.host), "{}: virbr0 is left", side.who);
    let after = side.ok("list --all; vol-list default; net-list --all");
    assert!(!after.contains(GUEST), "{}: {after}", side.who);
    (leased, views)
}

/// The install on rvirtd, then (where stock libvirtd is installed) on
/// libvirtd, and what virsh showed on both compared.
fn install_on_both(tag: &str, os: &Os) {
    if !tools_present() {
        eprintln!("virt-install, dnsmasq, iptables or qemu-img missing: skipped");
        return;
    }
    let Some(lan) = Lan::create() else { return };
    let dir = NetworkDirs::with_prefix(&format!("virt-install-{tag}"), "net-");
    let rv = QemuHost::start_with(&lan.a, &format!("{tag}rv"), &host_driver_conf(&dir));
    let rv_side = Side {
        who: "rvirtd",
        os,
        host: &rv,
        socket: rv.host.path("libvirt-sock"),
        pool: dir.join("pool-rv"),
        console: dir.join("rv.console"),
    };
    let (rv_addr, rv_views) = install_and_remove(&rv_side, &dir);
    assert!(rv_addr.starts_with("192.168.122."), "{rv_addr}");
    if !LibvirtdHost::available() {
        eprintln!("stock libvirtd missing: compared with nothing");
        return;
    }
    let lv = LibvirtdHost::start(&lan.b, &format!("{tag}lv"));
    let lv_side = Side {
        who: "libvirtd",
        os,
        host: &lv,
        socket: lv_socket(&lv),
        pool: dir.join("pool-lv"),
        console: dir.join("lv.console"),
    };
    let (lv_addr, lv_views) = install_and_remove(&lv_side, &dir);
    assert_eq!(
        rv_addr, lv_addr,
        "dnsmasq leased the same MAC the same address"
    );
    let differ: Vec<String> = rv_views
        .iter()
        .zip(&lv_views)
        .filter(|(a, b)| a != b)
        .map(|((cmd, rv), (_, lv))| format!("`{cmd}`:\n rvirtd:   {rv:?}\n libvirtd: {lv:?}"))
        .collect();
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn virt_install_creates_a_volume_and_gets_a_lease_as_with_libvirtd() {
    install_on_both("vinst", &GENERIC);
}

#[test]
fn virt_install_of_a_known_os_on_q35_as_with_libvirtd() {
    install_on_both("vq35", &DEBIAN11);
}

/// The stock libvirtd's unix socket (beside its config in its directory).
fn lv_socket(lv: &LibvirtdHost) -> PathBuf {
    Path::new(&lv.disks_dir())
        .parent()
        .expect("host directory")
        .join("libvirt-sock")
}
