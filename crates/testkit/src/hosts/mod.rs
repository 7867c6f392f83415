//! rvirtd "hosts" on one machine for migration tests: each daemon has its
//! own config, TCP port, relocation listener, host UUID and directory, and
//! runs in its own UTS namespace with its own host name; on request also in
//! its own network namespace, joined to a peer by a veth pair ([`Lan`]).
//! A stock virsh holds a connection to each daemon for the host's lifetime,
//! because the shared `test:///default` instance starts afresh when its
//! last connection closes. Everything started here is stopped by its own
//! PID on drop.

mod domains;
mod netns;
mod test_guest;

pub use domains::processed_bytes;
pub use netns::{Lan, NetNs};
pub use test_guest::{Guest, GUEST_NS};

use crate::dirs::{fresh_uuid, TempDir};
use crate::ports::free_port;
use crate::process::{derefs_to_process, DaemonProcess};
use crate::tools::{self, Output};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// One rvirtd "host"; its daemon process (PID, log, end) is what it derefs
/// to.
pub struct Host {
    process: DaemonProcess,
    holder: Option<(Child, ChildStdin, BufReader<ChildStdout>)>,
    pub hostname: String,
    pub host_uuid: String,
    /// The address it listens on: 127.0.0.1, or its network namespace's.
    pub addr: String,
    pub port: u16,
    pub reloc_port: u16,
    pub dir: PathBuf,
    net: Option<NetNs>,
    /// How the daemon was started, for [`Host::restart`].
    launch: Launch,
    _dir: TempDir,
}

/// The daemon's config file, whether it runs under its own host name, and
/// the bind mounts of its own mount namespace (a shell prefix).
struct Launch {
    conf: PathBuf,
    own_hostname: bool,
    mounts: String,
    starts: u32,
}

impl Host {
    /// Start rvirtd as host `hostname` (its own UTS namespace), serving
    /// test:///default over TCP with auth none and a relocation listener.
    pub fn start(hostname: &str) -> Host {
        Host::start_with(hostname, "")
    }

    /// As [`Host::start`], with `extra` appended to the config file.
    pub fn start_with(hostname: &str, extra: &str) -> Host {
        Host::start_in(None, hostname, extra)
    }

    /// A host that keeps this machine's host name (no UTS namespace):
    /// for tests where a migration must resolve the destination's name, as
    /// a managed migration without `--migrateuri` does. `tag` names its
    /// directory.
    pub fn start_keeping_hostname(tag: &str) -> Host {
        Host::start_named(None, tag, None, "")
    }

    /// As [`Host::start_with`], inside network namespace `net` (listening
    /// on its address) when given; every tool the host runs runs there too.
    pub fn start_in(net: Option<&NetNs>, hostname: &str, extra: &str) -> Host {
        Host::start_named(net, hostname, Some(hostname), extra)
    }

    /// As [`Host::start_in`], the daemon (and the QEMUs it starts) in its
    /// own mount namespace where each `(own, seen)` directory pair is
    /// bind-mounted: two hosts see different files at one path, as two
    /// machines without shared storage do.
    pub fn start_with_binds(
        net: Option<&NetNs>,
        hostname: &str,
        extra: &str,
        binds: &[(PathBuf, PathBuf)],
    ) -> Host {
        let mounts = bind_mounts(binds);
        Host::start_mounted(net, hostname, Some(hostname), (extra, &mounts))
    }

    fn start_named(net: Option<&NetNs>, tag: &str, hostname: Option<&str>, extra: &str) -> Host {
        Host::start_mounted(net, tag, hostname, (extra, ""))
    }

    fn start_mounted(
        net: Option<&NetNs>,
        tag: &str,
        hostname: Option<&str>,
        (extra, mounts): (&str, &str),
    ) -> Host {
        let mut last_log = String::new();
        for _ in 0..5 {
            let mut host = Host::spawn(net, tag, hostname, (extra, mounts));
            if host.wait_listening() {
                host.hold_connection();
                return host;
            }
            last_log = host.log();
        }
        panic!("rvirtd {tag} did not start:\n{last_log}");
    }

    fn spawn(
        net: Option<&NetNs>,
        tag: &str,
        hostname: Option<&str>,
        (extra, mounts): (&str, &str),
    ) -> Host {
        let (port, reloc_port) = (free_port(), free_port());
        let dir = TempDir::new(tag);
        let host_uuid = fresh_uuid();
        let addr = net.map_or("127.0.0.1".to_string(), |n| n.addr.clone());
        let conf = dir.write(
            "rvirtd.conf",
            format!(
                "listen_tcp = 1\nlisten_tls = 0\nauth_tcp = \"none\"\n\
                 tcp_port = \"{port}\"\nlisten_addr = \"{addr}\"\n\
                 unix_sock_dir = \"{d}\"\nstate_dir = \"{d}\"\n\
                 secret_config_dir = \"{d}/secrets\"\n\
                 nwfilter_config_dir = \"{d}/nwfilter\"\n\
                 nwfilter_binding_dir = \"{d}/nwfilter-binding\"\n\
                 host_uuid = \"{host_uuid}\"\n\
                 test_relocation_listen = \"{addr}:{reloc_port}\"\n{extra}",
                d = dir.path().display()
            ),
        );
        let mut cmd = daemon_command(net, hostname, &conf, mounts);
        Host {
            process: DaemonProcess::spawn(&mut cmd, dir.join("daemon.log")),
            holder: None,
            hostname: hostname.unwrap_or(tag).to_string(),
            host_uuid,
            addr,
            port,
            reloc_port,
            dir: dir.path().to_path_buf(),
            net: net.cloned(),
            launch: Launch {
                conf,
                own_hostname: hostname.is_some(),
                mounts: mounts.to_string(),
                starts: 1,
            },
            _dir: dir,
        }
    }

    /// Start the daemon again with the same config, address, port and
    /// state (after [`DaemonProcess::kill9`], say): it finds what the one
    /// before it left. Its log goes to `daemon.N.log`.
    pub fn restart(&mut self) {
        self.drop_holder();
        if self.is_running() {
            self.terminate();
        }
        // The dead daemon's socket file would look like the new one's.
        for socket in ["libvirt-sock", "libvirt-sock-ro"] {
            let _ = std::fs::remove_file(self.dir.join(socket));
        }
        self.launch.starts += 1;
        let hostname = self.launch.own_hostname.then_some(self.hostname.as_str());
        let mut cmd = daemon_command(
            self.net.as_ref(),
            hostname,
            &self.launch.conf,
            &self.launch.mounts,
        );
        let log = self.dir.join(format!("daemon.{}.log", self.launch.starts));
        self.process = DaemonProcess::spawn(&mut cmd, log);
        assert!(
            self.wait_listening(),
            "rvirtd did not restart:\n{}",
            self.log()
        );
        self.hold_connection();
    }

    fn drop_holder(&mut self) {
        if let Some((mut holder, stdin, out)) = self.holder.take() {
            drop((stdin, out));
            let _ = holder.kill();
            let _ = holder.wait();
        }
    }

    fn wait_listening(&mut self) -> bool {
        // A namespaced host is not reachable from here: its socket file (in
        // the shared file system) says it is up.
        let (namespaced, port) = (self.net.is_some(), self.port);
        let socket = self.dir.join("libvirt-sock");
        self.process.wait_serving(|| {
            (namespaced || TcpStream::connect(("127.0.0.1", port)).is_ok()) && socket.exists()
        })
    }

    /// An interactive virsh that keeps test:///default alive; returns once
    /// it has answered one command, so it is connected.
    fn hold_connection(&mut self) {
        let mut child = self
            .command("virsh")
            .args(["-q", "-c", &self.uri()])
            .env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run virsh");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"uri\n").expect("virsh stdin");
        let stdout = child.stdout.take().expect("stdout");
        // Non-interactive stdin still gets the prompt echoed: read until
        // the answer.
        let mut said = String::new();
        let mut reader = BufReader::new(stdout);
        let want = format!(":{}/default", self.port);
        while !said.contains(&want) {
            let mut line = String::new();
            let n = reader.read_line(&mut line).expect("virsh holder");
            assert!(n > 0, "holder virsh said {said:?}\n{}", self.log());
            said.push_str(&line);
        }
        // Kept open: a closed pipe would kill virsh at its next prompt.
        self.holder = Some((child, stdin, reader));
    }

    /// `program`, to run where this host's network is (its namespace).
    pub fn command(&self, program: &str) -> Command {
        in_netns(self.net.as_ref(), program)
    }

    pub fn uri(&self) -> String {
        format!("test+tcp://{}:{}/default", self.addr, self.port)
    }

    /// The direct-migration endpoint of this host's test driver.
    pub fn reloc_uri(&self) -> String {
        format!("test+reloc://{}:{}", self.addr, self.reloc_port)
    }

    /// A file in this host's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Stock virsh on this host's URI (from its network namespace).
    pub fn virsh(&self, commands: &str) -> Output {
        self.virsh_at(&self.uri(), commands)
    }

    /// Stock virsh on any `uri`, run where this host's network is.
    pub fn virsh_at(&self, uri: &str, commands: &str) -> Output {
        match &self.net {
            None => tools::virsh(uri, commands),
            Some(_) => self
                .command("virsh")
                .args(["-c", uri, commands])
                .env("LC_ALL", "C")
                .stdin(Stdio::null())
                .output()
                .expect("run virsh")
                .into(),
        }
    }

    /// `virsh CMD`, which must succeed; its stdout.
    pub fn ok(&self, commands: &str) -> String {
        let out = self.virsh(commands);
        assert!(
            out.ok,
            "{}: virsh {commands:?} failed: {}{}\n--- daemon log:\n{}",
            self.hostname,
            out.stdout,
            out.stderr,
            self.log()
        );
        out.stdout
    }
}

derefs_to_process!(Host);

impl Drop for Host {
    /// The holding virsh goes first; the daemon then ends as its process
    /// field drops.
    fn drop(&mut self) {
        self.drop_holder();
    }
}

/// rvirtd with config `conf`, in network namespace `net` and, given a
/// `hostname`, its own UTS namespace named so (and its own mount namespace
/// running `mounts` first, when given).
fn daemon_command(
    net: Option<&NetNs>,
    hostname: Option<&str>,
    conf: &std::path::Path,
    mounts: &str,
) -> Command {
    let rvirtd = format!(
        "exec {} --listen -f {}",
        crate::bins::rvirtd().display(),
        conf.display()
    );
    // `ip netns exec` and unshare exec their command, and sh execs
    // rvirtd: the child's PID is the daemon's.
    match hostname {
        Some(name) => {
            let mut c = in_netns(net, "unshare");
            if !mounts.is_empty() {
                c.args(["--mount", "--propagation", "private"]);
            }
            let script = format!("hostname {name} && {mounts}{rvirtd}");
            c.args(["--uts", "sh", "-c", &script]);
            c
        }
        None => {
            let mut c = in_netns(net, "sh");
            c.args(["-c", &rvirtd]);
            c
        }
    }
}

/// `program` as a command, inside network namespace `net` when given.
pub(crate) fn in_netns(net: Option<&NetNs>, program: &str) -> Command {
    match net {
        None => Command::new(program),
        Some(n) => {
            let mut cmd = Command::new("ip");
            cmd.args(["netns", "exec", &n.name, program]);
            cmd
        }
    }
}

/// A source host and a destination host.
pub struct Pair {
    pub src: Host,
    pub dst: Host,
}

impl Pair {
    /// Two hosts on this machine's loopback.
    pub fn start() -> Pair {
        Pair {
            src: Host::start("rvirt-src"),
            dst: Host::start("rvirt-dst"),
        }
    }

    /// Two hosts on either side of `lan`, each in its own network namespace.
    pub fn start_on(lan: &Lan) -> Pair {
        Pair {
            src: Host::start_in(Some(&lan.a), "rvirt-src", ""),
            dst: Host::start_in(Some(&lan.b), "rvirt-dst", ""),
        }
    }
}

/// The shell commands (each ending `&& `) that bind-mount each `(own,
/// seen)` directory pair, for a daemon's private mount namespace.
pub(crate) fn bind_mounts(binds: &[(PathBuf, PathBuf)]) -> String {
    binds
        .iter()
        .map(|(own, seen)| format!("mount --bind '{}' '{}' && ", own.display(), seen.display()))
        .collect()
}
