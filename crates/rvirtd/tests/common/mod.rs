//! Helpers for tests that start real processes: an rvirtd and a stock
//! libvirtd on 127.0.0.1 with their unix sockets in temporary directories,
//! each killed by its own PID when its guard drops; running stock virsh.

#![allow(dead_code)]

pub mod rpc_client;
pub mod wire;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn temp_dir(kind: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rvirtd-test-{kind}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A daemon process (rvirtd or libvirtd) and its directory.
pub struct Daemon {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    pub name: &'static str,
}

impl Daemon {
    /// Start rvirtd with `extra` appended to a config listening on TCP.
    pub fn rvirtd(extra: &str) -> Daemon {
        Daemon::rvirtd_with(env!("CARGO_BIN_EXE_rvirtd"), extra)
    }

    pub fn rvirtd_with(binary: &str, extra: &str) -> Daemon {
        for _ in 0..5 {
            let port = free_port();
            let dir = temp_dir("rvirtd");
            let conf = write_conf(
                &dir,
                port,
                &format!("state_dir = \"{}\"\n{extra}", dir.display()),
            );
            let mut cmd = Command::new(binary);
            cmd.arg("--listen").arg("-f").arg(&conf);
            if let Some(d) = Daemon::spawn(cmd, port, dir, "rvirtd") {
                return d;
            }
        }
        panic!("rvirtd did not start");
    }

    /// Start a stock libvirtd (Debian's 9.0), in a private mount namespace
    /// with its own /run so it neither meets nor locks out another libvirtd
    /// on the host. `None` (with a note) where that is impossible.
    pub fn libvirtd() -> Option<Daemon> {
        if !Path::new("/usr/sbin/libvirtd").exists() {
            eprintln!("libvirtd not installed (scripts/install-deps.sh): skipping");
            return None;
        }
        let _ = Command::new("useradd")
            .args(["--system", "--no-create-home", "libvirt-qemu"])
            .stderr(Stdio::null())
            .status();
        for _ in 0..5 {
            let port = free_port();
            let dir = temp_dir("libvirtd");
            let conf = write_conf(
                &dir,
                port,
                "auth_unix_ro = \"none\"\nauth_unix_rw = \"none\"\n",
            );
            let script = format!(
                "mount -t tmpfs tmpfs /run && exec /usr/sbin/libvirtd --listen -f {} -p {}",
                conf.display(),
                dir.join("libvirtd.pid").display()
            );
            let mut cmd = Command::new("unshare");
            cmd.args(["-m", "--propagation", "private", "sh", "-c", &script]);
            if let Some(d) = Daemon::spawn(cmd, port, dir, "libvirtd") {
                return Some(d);
            }
        }
        eprintln!("stock libvirtd did not start: skipping");
        None
    }

    fn spawn(mut cmd: Command, port: u16, dir: PathBuf, name: &'static str) -> Option<Daemon> {
        let log = std::fs::File::create(dir.join("daemon.log")).expect("log");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn daemon");
        let mut d = Daemon {
            child,
            port,
            dir,
            name,
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = d.child.try_wait() {
                eprintln!("{name} exited early:\n{}", d.log());
                return None;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() && d.socket().exists() {
                return Some(d);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
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

    pub fn tcp_uri(&self) -> String {
        format!("test+tcp://127.0.0.1:{}/default", self.port)
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("libvirt-sock")
    }

    pub fn socket_ro(&self) -> PathBuf {
        self.dir.join("libvirt-sock-ro")
    }

    pub fn unix_uri(&self) -> String {
        format!("test+unix:///default?socket={}", self.socket().display())
    }

    /// SIGTERM, then wait (SIGKILL after 5 s). Returns whether it exited
    /// by itself.
    pub fn terminate(&mut self) -> bool {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.is_running() {
            self.terminate();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn write_conf(dir: &Path, port: u16, extra: &str) -> PathBuf {
    let conf = dir.join("daemon.conf");
    std::fs::write(
        &conf,
        format!(
            "listen_tcp = 1\nlisten_tls = 0\nauth_tcp = \"none\"\ntcp_port = \"{port}\"\n\
             listen_addr = \"127.0.0.1\"\nunix_sock_dir = \"{}\"\n{extra}",
            dir.display()
        ),
    )
    .expect("config");
    conf
}

pub struct VirshOutput {
    pub stdout: String,
    pub stderr: String,
    pub ok: bool,
}

/// Stock virsh; the `CPU time:` value (a clock reading) is blanked and
/// `uri_text` (the URI as printed) replaced by `<uri>`.
pub fn virsh(uri: &str, commands: &str) -> VirshOutput {
    let out: Output = Command::new("virsh")
        .arg("-c")
        .arg(uri)
        .arg(commands)
        .env("LC_ALL", "C")
        .output()
        .expect("run virsh (scripts/install-deps.sh installs it)");
    let clean = |s: &[u8]| {
        String::from_utf8_lossy(s)
            .lines()
            .map(|l| {
                if l.starts_with("CPU time:") {
                    "CPU time: <clock>".to_string()
                } else {
                    l.replace(uri, "<uri>")
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    VirshOutput {
        stdout: clean(&out.stdout),
        stderr: clean(&out.stderr),
        ok: out.status.success(),
    }
}

/// Describe how two virsh runs differ, if they do.
pub fn diff(
    case: &str,
    a_name: &str,
    a: &VirshOutput,
    b_name: &str,
    b: &VirshOutput,
) -> Option<String> {
    let mut d = Vec::new();
    if a.stdout != b.stdout {
        d.push(format!(
            "  stdout:\n--- {a_name}\n{}\n--- {b_name}\n{}",
            a.stdout, b.stdout
        ));
    }
    if a.stderr != b.stderr {
        d.push(format!(
            "  stderr:\n--- {a_name}\n{}\n--- {b_name}\n{}",
            a.stderr, b.stderr
        ));
    }
    if a.ok != b.ok {
        d.push(format!("  exit: {a_name} ok={} {b_name} ok={}", a.ok, b.ok));
    }
    (!d.is_empty()).then(|| format!("== {case}\n{}", d.join("\n")))
}

/// Domain XML files for define/create cases.
pub struct Fixtures {
    pub dir: PathBuf,
}

impl Fixtures {
    pub fn write() -> Fixtures {
        let dir = temp_dir("fixtures");
        let files: &[(&str, &str)] = &[
            ("foo.xml", "<domain type='test'>\n  <name>foo</name>\n  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>\n  <memory unit='MiB'>128</memory>\n  <os><type>hvm</type></os>\n</domain>\n"),
            ("dup-name.xml", "<domain type='test'><name>test</name><uuid>11111111-2222-3333-4444-555555555555</uuid><memory>1024</memory><os><type>hvm</type></os></domain>\n"),
            ("dup-uuid.xml", "<domain type='test'><name>other</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid><memory>1024</memory><os><type>hvm</type></os></domain>\n"),
            ("truncated.xml", "<domain\n"),
            ("no-name.xml", "<domain type='test'><memory>1024</memory><os><type>hvm</type></os></domain>\n"),
        ];
        for (name, text) in files {
            std::fs::write(dir.join(name), text).expect("fixture");
        }
        Fixtures { dir }
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for Fixtures {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The spine command strings (after crates/rvirsh/tests/virsh_compat.rs):
/// each is one virsh invocation.
pub fn spine_cases(f: &Fixtures) -> Vec<String> {
    let mut cases: Vec<String> = [
        "uri",
        "hostname",
        "version",
        "version --daemon",
        "nodeinfo",
        "capabilities",
        "list",
        "list --all",
        "list --inactive",
        "list --transient",
        "list --persistent",
        "list --name",
        "list --uuid",
        "list --table",
        "list --title",
        "list --state-running",
        "list --state-paused",
        "list --state-shutoff --all",
        "list --autostart",
        "list --no-autostart --all",
        "dominfo test",
        "dominfo 1",
        "domstate test",
        "domstate test --reason",
        "domid test",
        "domname 1",
        "domuuid test",
        "dumpxml test",
        "dumpxml --inactive test",
        "dumpxml test --security-info",
        "suspend test; domstate --reason test; list; resume test; domstate --reason test",
        "shutdown test; domstate test --reason; dominfo test; list --all; start test; domstate --reason test; domid test",
        "destroy test; domstate --reason test; list --inactive; domid test; dumpxml test",
        "reboot test; domstate --reason test",
        "autostart test; dominfo test; list --autostart; autostart --disable test; list --autostart",
        "undefine test; list --all; dominfo test; destroy test; list --all",
        "destroy test; undefine test; list --all",
        "dominfo nosuch",
        "domstate nosuch",
        "domid 1",
        "domname nosuch",
        "domuuid 11111111-1111-1111-1111-111111111111",
        "start test",
        "resume test",
        "suspend test; suspend test",
        "destroy test; destroy test",
        "destroy test; reboot test",
        "dominfo 6695eb01-f6a4-8304-79aa-97f2502e193f",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let fx = |n: &str| f.path(n);
    cases.extend([
        format!(
            "define {}; list --all; dominfo foo; dumpxml foo; domstate foo --reason",
            fx("foo.xml")
        ),
        format!(
            "define {}; start foo; list --all; dominfo foo",
            fx("foo.xml")
        ),
        format!("define {}; undefine foo; list --all", fx("foo.xml")),
        format!(
            "create {}; list --all; list --transient; dominfo foo; destroy foo; list --all",
            fx("foo.xml")
        ),
        format!(
            "create {} --paused; domstate foo --reason; destroy foo",
            fx("foo.xml")
        ),
        format!("define {}", fx("dup-name.xml")),
        format!("define {}", fx("dup-uuid.xml")),
        format!("create {}", fx("dup-uuid.xml")),
        format!("define {}", fx("truncated.xml")),
        format!("define {}", fx("no-name.xml")),
    ]);
    cases
}
