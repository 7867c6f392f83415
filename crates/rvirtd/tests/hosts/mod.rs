//! Two rvirtd "hosts" on one machine for migration tests: each daemon has
//! its own config, TCP port, relocation listener, host UUID and directory,
//! and runs in its own UTS namespace with its own host name. A stock virsh
//! holds a connection to each daemon for the host's lifetime, because the
//! shared `test:///default` instance starts afresh when its last connection
//! closes. Everything started here is stopped by its own PID on drop.
//!
//! Also: the guest fixture (a test-driver domain whose memory is really
//! dirtied), stock virsh, a watcher that samples both hosts' view of a guest
//! during a migration, and a TCP proxy that can cut a connection.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod proxy;
mod watch;
#[allow(unused_imports)]
pub use proxy::*;
#[allow(unused_imports)]
pub use watch::*;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A process-unique number, for directories, UUIDs and guest names.
pub fn unique() -> usize {
    SEQ.fetch_add(1, Ordering::Relaxed)
}

fn temp_dir(kind: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rvirtd-mig-{kind}-{}-{}",
        std::process::id(),
        unique()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A UUID no other host or guest of this test run has.
pub fn fresh_uuid() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        std::process::id(),
        unique() & 0xffff,
        (nanos >> 12) & 0xfff,
        nanos & 0xfff,
        nanos >> 16 & 0xffff_ffff_ffff
    )
}

/// Output of one stock virsh run.
#[derive(Debug, Clone)]
pub struct VirshOut {
    pub stdout: String,
    pub stderr: String,
    pub ok: bool,
}

/// Stock virsh (`virsh -c URI COMMANDS`).
pub fn virsh(uri: &str, commands: &str) -> VirshOut {
    let out = Command::new("virsh")
        .arg("-c")
        .arg(uri)
        .arg(commands)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .expect("run virsh (scripts/install-deps.sh installs it)");
    VirshOut {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ok: out.status.success(),
    }
}

/// Stock virsh in the background (a migration the test acts on meanwhile).
pub fn virsh_spawn(uri: &str, commands: &str) -> Child {
    Command::new("virsh")
        .arg("-c")
        .arg(uri)
        .arg(commands)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run virsh")
}

/// Wait for a background virsh and collect its output.
pub fn virsh_wait(child: Child) -> VirshOut {
    let out = child.wait_with_output().expect("wait virsh");
    VirshOut {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ok: out.status.success(),
    }
}

/// One rvirtd "host".
pub struct Host {
    child: Child,
    holder: Option<(Child, ChildStdin, BufReader<ChildStdout>)>,
    pub hostname: String,
    pub host_uuid: String,
    pub port: u16,
    pub reloc_port: u16,
    pub dir: PathBuf,
}

impl Host {
    /// Start rvirtd as host `hostname` (its own UTS namespace), serving
    /// test:///default over TCP with auth none and a relocation listener.
    pub fn start(hostname: &str) -> Host {
        Host::start_with(hostname, "")
    }

    /// As [`Host::start`], with `extra` appended to the config file.
    pub fn start_with(hostname: &str, extra: &str) -> Host {
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port();
            let reloc_port = free_port();
            let dir = temp_dir(hostname);
            let host_uuid = fresh_uuid();
            let conf = dir.join("rvirtd.conf");
            std::fs::write(
                &conf,
                format!(
                    "listen_tcp = 1\nlisten_tls = 0\nauth_tcp = \"none\"\n\
                     tcp_port = \"{port}\"\nlisten_addr = \"127.0.0.1\"\n\
                     unix_sock_dir = \"{d}\"\nstate_dir = \"{d}\"\n\
                     host_uuid = \"{host_uuid}\"\n\
                     test_relocation_listen = \"127.0.0.1:{reloc_port}\"\n{extra}",
                    d = dir.display()
                ),
            )
            .expect("config");
            let log = std::fs::File::create(dir.join("daemon.log")).expect("log");
            let script = format!(
                "hostname {hostname} && exec {} --listen -f {}",
                env!("CARGO_BIN_EXE_rvirtd"),
                conf.display()
            );
            // unshare execs sh, which execs rvirtd: the child's PID is the
            // daemon's.
            let child = Command::new("unshare")
                .args(["--uts", "sh", "-c", &script])
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .expect("spawn rvirtd");
            let mut host = Host {
                child,
                holder: None,
                hostname: hostname.to_string(),
                host_uuid,
                port,
                reloc_port,
                dir,
            };
            if host.wait_listening() {
                host.hold_connection();
                return host;
            }
            last_log = host.log();
        }
        panic!("rvirtd {hostname} did not start:\n{last_log}");
    }

    fn wait_listening(&mut self) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if !self.is_running() {
                return false;
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && self.dir.join("libvirt-sock").exists()
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// An interactive virsh that keeps test:///default alive; returns once
    /// it has answered one command, so it is connected.
    fn hold_connection(&mut self) {
        let mut child = Command::new("virsh")
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
            assert!(n > 0, "holder virsh said {said:?}");
            said.push_str(&line);
        }
        // Kept open: a closed pipe would kill virsh at its next prompt.
        self.holder = Some((child, stdin, reader));
    }

    pub fn uri(&self) -> String {
        format!("test+tcp://127.0.0.1:{}/default", self.port)
    }

    /// The direct-migration endpoint of this host's test driver.
    pub fn reloc_uri(&self) -> String {
        format!("test+reloc://127.0.0.1:{}", self.reloc_port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default()
    }

    pub fn virsh(&self, commands: &str) -> VirshOut {
        virsh(&self.uri(), commands)
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

    /// `domstate` of `name`, `None` when this host has no such domain.
    pub fn domstate(&self, name: &str) -> Option<String> {
        let out = self.virsh(&format!("domstate {name}"));
        out.ok.then(|| out.stdout.trim().to_string())
    }

    /// `list --all --name`.
    pub fn names(&self) -> Vec<String> {
        let out = self.ok("list --all --name");
        out.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }

    /// `list --name` (running guests only).
    pub fn running(&self) -> Vec<String> {
        self.ok("list --name")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }

    pub fn persistent(&self, name: &str) -> bool {
        self.ok("list --all --persistent --name")
            .lines()
            .any(|l| l.trim() == name)
    }

    pub fn dumpxml(&self, name: &str) -> String {
        self.ok(&format!("dumpxml {name}"))
    }

    pub fn dumpxml_inactive(&self, name: &str) -> String {
        self.ok(&format!("dumpxml --inactive {name}"))
    }

    /// Write `xml` to this host's directory and `virsh define` it.
    pub fn define(&self, xml: &str) -> String {
        let path = self.dir.join(format!("guest-{}.xml", unique()));
        std::fs::write(&path, xml).expect("write guest xml");
        self.ok(&format!("define {}", path.display()));
        path.display().to_string()
    }

    /// Define and start `guest` (a persistent running guest).
    pub fn define_and_start(&self, guest: &Guest) {
        self.define(&guest.xml());
        self.ok(&format!("start {}", guest.name));
    }

    /// Start `guest` as a transient domain (`virsh create`).
    pub fn create(&self, guest: &Guest) {
        let path = self.dir.join(format!("guest-{}.xml", unique()));
        std::fs::write(&path, guest.xml()).expect("write guest xml");
        self.ok(&format!("create {}", path.display()));
    }

    /// Wait until `name`'s migration job on this host has moved data.
    pub fn wait_transfer_started(&self, name: &str, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            let out = self.virsh(&format!("domjobinfo {name}"));
            if out.ok && processed_bytes(&out.stdout) > 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// SIGKILL the daemon (by its PID) and reap it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn stop(&mut self) {
        if let Some((mut holder, stdin, out)) = self.holder.take() {
            drop((stdin, out));
            let _ = holder.kill();
            let _ = holder.wait();
        }
        if self.is_running() {
            let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(5) && self.is_running() {
                std::thread::sleep(Duration::from_millis(20));
            }
            self.kill9();
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `Data processed:` of virsh domjobinfo, in bytes (0 when absent).
pub fn processed_bytes(jobinfo: &str) -> u64 {
    jobinfo
        .lines()
        .find_map(|l| l.strip_prefix("Data processed:"))
        .and_then(|v| {
            let mut it = v.split_whitespace();
            let n: f64 = it.next()?.parse().ok()?;
            let mult = match it.next()? {
                "B" => 1.0,
                "KiB" => 1024.0,
                "MiB" => 1024.0 * 1024.0,
                "GiB" => 1024.0 * 1024.0 * 1024.0,
                _ => return None,
            };
            Some((n * mult) as u64)
        })
        .unwrap_or(0)
}

/// A source host and a destination host.
pub struct Pair {
    pub src: Host,
    pub dst: Host,
}

impl Pair {
    pub fn start() -> Pair {
        Pair {
            src: Host::start("rvirt-src"),
            dst: Host::start("rvirt-dst"),
        }
    }
}

/// The four ways `virsh migrate` moves a guest.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    Managed,
    P2p,
    Tunnelled,
    Direct,
}

pub const MODES: [Mode; 4] = [Mode::Managed, Mode::P2p, Mode::Tunnelled, Mode::Direct];

impl Mode {
    /// `virsh migrate` arguments after the flags: mode options, domain,
    /// destination and migration URI.
    pub fn args(self, pair: &Pair, name: &str) -> String {
        self.args_via(&pair.dst.uri(), &pair.dst.reloc_uri(), name)
    }

    /// As [`Mode::args`] with the destination daemon's URI and relocation
    /// URI given (e.g. through a [`Proxy`]).
    pub fn args_via(self, dst: &str, reloc: &str, name: &str) -> String {
        match self {
            Mode::Managed => format!("--live {name} {dst} --migrateuri tcp://127.0.0.1"),
            Mode::P2p => format!("--live --p2p {name} {dst} --migrateuri tcp://127.0.0.1"),
            Mode::Tunnelled => format!("--live --p2p --tunnelled {name} {dst}"),
            // libvirt hands a direct migration only the migration URI.
            Mode::Direct => format!("--live --direct {name} {reloc} --migrateuri {reloc}"),
        }
    }
}

/// The rvirt test-guest metadata namespace (docs/migration.md).
pub const GUEST_NS: &str = "https://rvirt.dev/xmlns/test-guest/1";

/// A test-driver guest: memory really dirtied at `dirty_kib_s` over a
/// working set, and optional fault hooks.
#[derive(Clone, Debug)]
pub struct Guest {
    pub name: String,
    pub uuid: String,
    pub memory_mib: u64,
    pub dirty_kib_s: u64,
    pub working_set_kib: u64,
    pub description: Option<String>,
    /// Attributes of each `<rvirt:inject-fault/>` (crates/driver-test/README.md).
    pub faults: Vec<String>,
}

impl Guest {
    /// A 32 MiB guest dirtying 1 MiB/s of an 8 MiB working set, with a
    /// name unique to this test run.
    pub fn new(prefix: &str) -> Guest {
        Guest {
            name: format!("{prefix}{}", unique()),
            uuid: fresh_uuid(),
            memory_mib: 32,
            dirty_kib_s: 1024,
            working_set_kib: 8192,
            description: None,
            faults: Vec::new(),
        }
    }

    pub fn memory(mut self, mib: u64) -> Guest {
        self.memory_mib = mib;
        self
    }

    /// `phase` (begin, prepare, perform, finish, confirm) does `action`
    /// (fail).
    pub fn fault(mut self, phase: &str, action: &str) -> Guest {
        self.faults
            .push(format!("phase='{phase}' action='{action}'"));
        self
    }

    /// `phase` waits `ms` milliseconds first.
    pub fn delay(mut self, phase: &str, ms: u64) -> Guest {
        self.faults
            .push(format!("phase='{phase}' action='delay' ms='{ms}'"));
        self
    }

    /// One page arrives altered, so the destination's digest differs.
    pub fn corrupt_page(mut self) -> Guest {
        self.faults.push("action='corrupt-page'".into());
        self
    }

    pub fn description(mut self, text: &str) -> Guest {
        self.description = Some(text.into());
        self
    }

    pub fn xml(&self) -> String {
        let description = self
            .description
            .as_ref()
            .map(|d| format!("  <description>{d}</description>\n"))
            .unwrap_or_default();
        let faults: String = self
            .faults
            .iter()
            .map(|attrs| format!("      <rvirt:inject-fault {attrs}/>\n"))
            .collect();
        format!(
            "<domain type='test'>\n  <name>{name}</name>\n  <uuid>{uuid}</uuid>\n{description}\
             \x20 <metadata>\n    <rvirt:guest xmlns:rvirt='{GUEST_NS}'>\n\
             \x20     <rvirt:dirty-rate unit='KiB/s'>{rate}</rvirt:dirty-rate>\n\
             \x20     <rvirt:working-set unit='KiB'>{ws}</rvirt:working-set>\n{faults}\
             \x20   </rvirt:guest>\n  </metadata>\n\
             \x20 <memory unit='MiB'>{mem}</memory>\n  <currentMemory unit='MiB'>{mem}</currentMemory>\n\
             \x20 <vcpu>1</vcpu>\n  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n</domain>\n",
            name = self.name,
            uuid = self.uuid,
            rate = self.dirty_kib_s,
            ws = self.working_set_kib,
            mem = self.memory_mib,
        )
    }
}

/// The guest's source-side view before a migration, to compare after.
pub struct Before {
    pub xml: String,
    pub inactive: Option<String>,
    pub persistent: bool,
}

pub fn before(pair: &Pair, g: &Guest) -> Before {
    let persistent = pair.src.persistent(&g.name);
    Before {
        xml: pair.src.dumpxml(&g.name),
        inactive: persistent.then(|| pair.src.dumpxml_inactive(&g.name)),
        persistent,
    }
}

/// The guest is back where it was on the source and nowhere else.
pub fn assert_untouched(pair: &Pair, g: &Guest, b: &Before, what: &str) {
    assert_eq!(
        pair.src.domstate(&g.name).as_deref(),
        Some("running"),
        "{what}: source state"
    );
    assert_eq!(
        pair.src.running().iter().filter(|n| **n == g.name).count(),
        1,
        "{what}"
    );
    assert_eq!(pair.src.dumpxml(&g.name), b.xml, "{what}: source XML");
    assert_eq!(pair.src.persistent(&g.name), b.persistent, "{what}");
    if let Some(inactive) = &b.inactive {
        assert_eq!(
            &pair.src.dumpxml_inactive(&g.name),
            inactive,
            "{what}: source config"
        );
    }
    // The source's job is over: a new one could start.
    let job = pair.src.ok(&format!("domjobinfo {}", g.name));
    assert!(job.contains("Job type:         None"), "{what}: {job}");
}

/// Nothing of `name` on the destination (allowing `grace` for a
/// destination that learns of the failure from a closed connection).
pub fn assert_nothing_on_dst(pair: &Pair, name: &str, grace: Duration, what: &str) {
    let start = Instant::now();
    loop {
        match pair.dst.domstate(name) {
            None => return,
            Some(s) if start.elapsed() >= grace => {
                panic!(
                    "{what}: '{name}' left on the destination ({s})\n--- dst log:\n{}",
                    pair.dst.log()
                )
            }
            Some(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}
