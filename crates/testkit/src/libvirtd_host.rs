//! A stock libvirtd 9.0 "host" with its QEMU driver, for migration tests
//! and the migration benchmark beside (or instead of) rvirtd hosts: the
//! daemon runs in one side's network namespace of a [`Lan`](crate::hosts::Lan),
//! in its own UTS namespace (its own host name) and in its own mount
//! namespace with private /run, /var/lib/libvirt, /var/cache/libvirt and
//! /var/log/libvirt (as [`crate::libvirtd_qemu`] runs it), listening on TCP
//! (auth none) at the side's address with its own host UUID, so two of
//! them on one machine migrate to each other as two machines would.
//!
//! Its QEMUs run as root without relabelling (the guest's kernel, initrd
//! and console file are shared by both hosts of a test); libvirtd leaves
//! them running when it stops, so the host kills them (by the PIDs in its
//! private /run) before it stops the daemon.

use crate::dirs::{fresh_uuid, TempDir};
use crate::hosts::{bind_mounts, in_netns, NetNs};
use crate::libvirtd_qemu::{private_libvirtd_script, stock_installed, virsh};
use crate::migration_host::{HostKind, MigrationHost};
use crate::ports::free_port;
use crate::process::DaemonProcess;
use crate::qemu_hosts::alive;
use std::path::PathBuf;
use std::process::Command;

/// The QEMU driver's settings: QEMU as root, nothing relabelled.
const QEMU_CONF: &str = "user = \"root\"\ngroup = \"root\"\ndynamic_ownership = 0\n\
                         remember_owner = 0\nsecurity_driver = \"none\"\n";

pub struct LibvirtdHost {
    process: DaemonProcess,
    pub hostname: String,
    pub host_uuid: String,
    /// Its address on the LAN.
    pub addr: String,
    pub port: u16,
    net: NetNs,
    dir: TempDir,
}

impl LibvirtdHost {
    /// Start libvirtd as host `hostname` on `lan_side`; panics (with its
    /// log) if it never serves. Stock libvirtd must be installed
    /// ([`LibvirtdHost::available`]).
    pub fn start(lan_side: &NetNs, hostname: &str) -> LibvirtdHost {
        LibvirtdHost::start_with_disks(lan_side, hostname, None)
    }

    /// As [`LibvirtdHost::start`], its own `disks` directory
    /// ([`MigrationHost::disks_dir`]) bind-mounted at `seen` in its mount
    /// namespace when given: two hosts see different files at one path.
    pub fn start_with_disks(
        lan_side: &NetNs,
        hostname: &str,
        seen: Option<&std::path::Path>,
    ) -> LibvirtdHost {
        LibvirtdHost::start_with_conf(lan_side, hostname, seen, "")
    }

    /// As [`LibvirtdHost::start_with_disks`], with `extra` libvirtd.conf
    /// lines, which take precedence over the host's own (libvirt's config
    /// reader keeps the first of a repeated setting).
    pub fn start_with_conf(
        lan_side: &NetNs,
        hostname: &str,
        seen: Option<&std::path::Path>,
        extra: &str,
    ) -> LibvirtdHost {
        let mut last_log = String::new();
        // A free port can be taken before libvirtd binds it: a new one then.
        for _ in 0..3 {
            let mut host = LibvirtdHost::spawn(lan_side, hostname, seen, extra);
            if host.wait_serving() {
                return host;
            }
            last_log = host.log();
        }
        panic!("libvirtd {hostname} did not serve:\n{last_log}");
    }

    /// Whether stock libvirtd, virsh and QEMU are installed (a note if not).
    pub fn available() -> bool {
        stock_installed()
    }

    fn spawn(
        net: &NetNs,
        hostname: &str,
        seen: Option<&std::path::Path>,
        extra: &str,
    ) -> LibvirtdHost {
        let dir = TempDir::new(&format!("libvirtd-{hostname}"));
        let own = dir.join("disks");
        std::fs::create_dir_all(&own).expect("host disks directory");
        let binds: Vec<_> = seen
            .map(|seen| (own, seen.to_path_buf()))
            .into_iter()
            .collect();
        let (port, host_uuid) = (free_port(), fresh_uuid());
        let conf = dir.write(
            "libvirtd.conf",
            format!(
                "{extra}listen_tls = 0\nlisten_tcp = 1\nauth_tcp = \"none\"\n\
                 tcp_port = \"{port}\"\nlisten_addr = \"{}\"\n\
                 unix_sock_dir = \"{}\"\nauth_unix_ro = \"none\"\nauth_unix_rw = \"none\"\n\
                 host_uuid = \"{host_uuid}\"\n",
                net.addr,
                dir.path().display()
            ),
        );
        let daemon_args = format!(
            "--listen -f {} -p {}",
            conf.display(),
            dir.join("libvirtd.pid").display()
        );
        let mounts = bind_mounts(&binds);
        let script = format!(
            "hostname {hostname} && {mounts}{}",
            private_libvirtd_script(dir.path(), QEMU_CONF, &daemon_args)
        );
        // `ip netns exec` and unshare exec their command, and sh execs
        // libvirtd: the child's PID is the daemon's.
        let mut cmd = in_netns(Some(net), "unshare");
        cmd.args(["-m", "--uts", "--propagation", "private", "sh", "-c"])
            .arg(&script);
        LibvirtdHost {
            process: DaemonProcess::spawn(&mut cmd, dir.join("daemon.log")),
            hostname: hostname.to_string(),
            host_uuid,
            addr: net.addr.clone(),
            port,
            net: net.clone(),
            dir,
        }
    }

    /// Serving on its unix socket (reachable from here) and on TCP (from
    /// its namespace).
    fn wait_serving(&mut self) -> bool {
        let socket = self.dir.join("libvirt-sock");
        let local = format!("qemu:///system?socket={}", socket.display());
        if !self
            .process
            .wait_serving(|| socket.exists() && virsh(&local, &["uri"]).is_ok())
        {
            return false;
        }
        self.virsh("uri").ok
    }

    /// A path as this libvirtd sees it (its private /run, /var/...).
    fn private_path(&self, path: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root{path}", self.process.pid()))
    }

    /// The QEMU pidfiles in its private /run: (guest name, pid).
    fn qemu_pids(&self) -> Vec<(String, i32)> {
        let Ok(entries) = std::fs::read_dir(self.private_path("/run/libvirt/qemu")) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| {
                let path = e.path();
                let name = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".pid")?
                    .to_string();
                let pid = std::fs::read_to_string(&path).ok()?.trim().parse().ok()?;
                Some((name, pid))
            })
            .collect()
    }
}

impl MigrationHost for LibvirtdHost {
    fn kind(&self) -> HostKind {
        HostKind::Libvirtd
    }
    fn hostname(&self) -> &str {
        &self.hostname
    }
    fn addr(&self) -> &str {
        &self.addr
    }
    fn uri(&self) -> String {
        format!("qemu+tcp://{}:{}/system", self.addr, self.port)
    }
    fn command(&self, program: &str) -> Command {
        in_netns(Some(&self.net), program)
    }
    fn qemu_pid(&self, name: &str) -> Option<i32> {
        self.qemu_pids()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, pid)| pid)
            .filter(|pid| alive(*pid))
    }

    fn daemon_ports(&self) -> Vec<u16> {
        vec![self.port]
    }
    fn disks_dir(&self) -> PathBuf {
        self.dir.join("disks")
    }

    /// The daemon's log, then each QEMU log in its private /var/log.
    fn log(&self) -> String {
        let mut log = self.process.log();
        let qemu_logs = self.private_path("/var/log/libvirt/qemu");
        for entry in std::fs::read_dir(qemu_logs).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            log.push_str(&format!("--- {}:\n{text}", entry.path().display()));
        }
        log
    }
}

impl Drop for LibvirtdHost {
    /// Its QEMUs first (libvirtd would leave them running); the daemon then
    /// stops as its process field drops.
    fn drop(&mut self) {
        for (_, pid) in self.qemu_pids() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
