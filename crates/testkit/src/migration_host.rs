//! What a QEMU migration test needs of a "host", whichever daemon serves
//! its `qemu:///system`: rvirtd ([`crate::qemu_hosts::QemuHost`]) or stock
//! libvirtd 9.0 ([`crate::libvirtd_host::LibvirtdHost`]), each in its own
//! network and UTS namespace on one side of a [`Lan`](crate::hosts::Lan).
//! The hop and migration helpers of [`crate::qemu_hosts`] take any of them,
//! so a test (or the benchmark) pairs the kinds as it likes.

use crate::hosts::NetNs;
use crate::libvirtd_host::LibvirtdHost;
use crate::qemu_hosts::QemuHost;
use crate::tools::Output;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Which daemon a host runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostKind {
    Rvirtd,
    Libvirtd,
}

impl HostKind {
    /// Start a host of this kind as `name` on `lan_side`.
    pub fn start(self, lan_side: &NetNs, name: &str) -> Box<dyn MigrationHost> {
        self.start_with(lan_side, name, "")
    }

    /// As [`HostKind::start`], with `extra` daemon config lines (the same
    /// keys for rvirtd and libvirtd, e.g. a TLS listener).
    pub fn start_with(self, lan_side: &NetNs, name: &str, extra: &str) -> Box<dyn MigrationHost> {
        match self {
            HostKind::Rvirtd => Box::new(QemuHost::start_with(lan_side, name, extra)),
            HostKind::Libvirtd => {
                Box::new(LibvirtdHost::start_with_conf(lan_side, name, None, extra))
            }
        }
    }

    /// The daemon's name: `rvirtd` or `libvirtd`.
    pub fn name(self) -> &'static str {
        match self {
            HostKind::Rvirtd => "rvirtd",
            HostKind::Libvirtd => "libvirtd",
        }
    }

    /// The kind [`HostKind::name`] names (for a script's `PAIR=A:B`).
    pub fn from_name(name: &str) -> HostKind {
        match name {
            "rvirtd" => HostKind::Rvirtd,
            "libvirtd" => HostKind::Libvirtd,
            other => panic!("unknown daemon {other} (rvirtd or libvirtd)"),
        }
    }

    /// `A:B` as a pair of kinds.
    pub fn pair(text: &str) -> (HostKind, HostKind) {
        let (a, b) = text.split_once(':').expect("a pair of daemons: A:B");
        (HostKind::from_name(a), HostKind::from_name(b))
    }
}

/// The environment variable `name`, else `default` (a script's knobs).
pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// A host serving `qemu:///system` over TCP (auth none) in its own network
/// namespace; every tool it runs runs there.
pub trait MigrationHost {
    fn kind(&self) -> HostKind;

    /// Its UTS host name.
    fn hostname(&self) -> &str;

    /// Its address on the LAN.
    fn addr(&self) -> &str;

    /// `qemu+tcp://ADDR:PORT/system`.
    fn uri(&self) -> String;

    /// `program`, to run in this host's network namespace.
    fn command(&self, program: &str) -> Command;

    /// The pid of the QEMU this host runs for guest `name`, if it is alive.
    fn qemu_pid(&self, name: &str) -> Option<i32>;

    /// The daemon's log (and, where the kit can read them, its QEMU logs).
    fn log(&self) -> String;

    /// The TCP ports the daemon itself listens on (which may fall in the
    /// migration port range).
    fn daemon_ports(&self) -> Vec<u16>;

    /// The host's own directory that storage tests bind-mount at the path
    /// both hosts see ([`crate::qemu_storage`]).
    fn disks_dir(&self) -> PathBuf;

    /// Stock virsh on this host's URI, run from its namespace.
    fn virsh(&self, commands: &str) -> Output {
        self.command("virsh")
            .args(["-c", &self.uri(), commands])
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .output()
            .expect("run virsh")
            .into()
    }

    /// `virsh COMMANDS`, which must succeed; its stdout.
    fn ok(&self, commands: &str) -> String {
        let out = self.virsh(commands);
        assert!(
            out.ok,
            "{} ({}): virsh {commands:?} failed: {}{}\n--- daemon log:\n{}",
            self.hostname(),
            self.kind().name(),
            out.stdout,
            out.stderr,
            self.log()
        );
        out.stdout
    }

    /// TCP listeners in this host's network namespace.
    fn listeners(&self) -> String {
        let out = self
            .command("ss")
            .args(["-Hltn"])
            .stdin(Stdio::null())
            .output()
            .expect("run ss");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// A boxed host is a host: `Setup<Box<dyn MigrationHost>, ..>`'s fields go
/// straight to the helpers.
impl<H: MigrationHost + ?Sized> MigrationHost for Box<H> {
    fn kind(&self) -> HostKind {
        (**self).kind()
    }
    fn hostname(&self) -> &str {
        (**self).hostname()
    }
    fn addr(&self) -> &str {
        (**self).addr()
    }
    fn uri(&self) -> String {
        (**self).uri()
    }
    fn command(&self, program: &str) -> Command {
        (**self).command(program)
    }
    fn qemu_pid(&self, name: &str) -> Option<i32> {
        (**self).qemu_pid(name)
    }
    fn log(&self) -> String {
        (**self).log()
    }
    fn daemon_ports(&self) -> Vec<u16> {
        (**self).daemon_ports()
    }
    fn disks_dir(&self) -> PathBuf {
        (**self).disks_dir()
    }
    fn virsh(&self, commands: &str) -> Output {
        (**self).virsh(commands)
    }
}

impl MigrationHost for QemuHost {
    fn kind(&self) -> HostKind {
        HostKind::Rvirtd
    }
    fn hostname(&self) -> &str {
        &self.host.hostname
    }
    fn addr(&self) -> &str {
        &self.host.addr
    }
    fn uri(&self) -> String {
        QemuHost::uri(self)
    }
    fn command(&self, program: &str) -> Command {
        self.host.command(program)
    }
    fn qemu_pid(&self, name: &str) -> Option<i32> {
        QemuHost::qemu_pid(self, name)
    }
    fn log(&self) -> String {
        self.host.log()
    }
    fn daemon_ports(&self) -> Vec<u16> {
        vec![self.host.port, self.host.reloc_port]
    }
    fn disks_dir(&self) -> PathBuf {
        self.dirs.path("disks")
    }
    fn virsh(&self, commands: &str) -> Output {
        QemuHost::virsh(self, commands)
    }
}
