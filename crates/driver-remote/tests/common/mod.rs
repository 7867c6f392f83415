//! A private stock libvirtd for the tests: TCP on 127.0.0.1 with
//! `auth_tcp = "none"` and its UNIX sockets in a temporary directory,
//! killed (by its PID) when the guard drops.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub struct Libvirtd {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    /// Only one libvirtd can run on a host (its drivers lock pid files in
    /// /run/libvirt), and test:///default is shared by its clients: tests
    /// that need one take turns.
    turn: Option<MutexGuard<'static, ()>>,
}

static TURN: Mutex<()> = Mutex::new(());

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn have_user(name: &str) -> bool {
    Command::new("id")
        .arg(name)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

impl Libvirtd {
    /// Start one, or `None` (with a note on stderr) where that is not
    /// possible: no libvirtd binary, or not root.
    pub fn start() -> Option<Libvirtd> {
        if !Path::new("/usr/sbin/libvirtd").exists() {
            eprintln!("libvirtd not installed (scripts/install-deps.sh): skipping");
            return None;
        }
        if !have_user("libvirt-qemu") {
            let _ = Command::new("useradd")
                .args(["--system", "--no-create-home", "libvirt-qemu"])
                .status();
        }
        let mut turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
        // A daemon that just died may still hold its locks for a moment.
        for _attempt in 0..20 {
            match Libvirtd::try_start(turn) {
                Ok(d) => return Some(d),
                Err(t) => turn = t,
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("libvirtd did not start (is another libvirtd running on this host?)");
    }

    fn try_start(turn: MutexGuard<'static, ()>) -> Result<Libvirtd, MutexGuard<'static, ()>> {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "rvirt-remote-libvirtd-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let conf = dir.join("libvirtd.conf");
        std::fs::write(
            &conf,
            format!(
                "listen_tcp = 1\nlisten_tls = 0\nauth_tcp = \"none\"\ntcp_port = \"{port}\"\n\
                 listen_addr = \"127.0.0.1\"\nunix_sock_dir = \"{}\"\n\
                 keepalive_interval = 1\nkeepalive_count = 2\n",
                dir.display()
            ),
        )
        .expect("config");
        let log = std::fs::File::create(dir.join("libvirtd.log")).expect("log");
        let child = Command::new("/usr/sbin/libvirtd")
            .arg("--listen")
            .arg("-f")
            .arg(&conf)
            .arg("-p")
            .arg(dir.join("libvirtd.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn libvirtd");
        let mut d = Libvirtd {
            child,
            port,
            dir,
            turn: Some(turn),
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = d.child.try_wait() {
                break; // e.g. the port was taken meanwhile
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() && d.socket().exists() {
                return Ok(d);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(d.stop())
    }

    pub fn tcp_uri(&self) -> String {
        format!("test+tcp://127.0.0.1:{}/default", self.port)
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("libvirt-sock")
    }

    pub fn unix_uri(&self) -> String {
        format!("test+unix:///default?socket={}", self.socket().display())
    }
}

impl Libvirtd {
    /// Stop and clean up, handing back the turn.
    fn stop(mut self) -> MutexGuard<'static, ()> {
        self.cleanup();
        self.turn.take().expect("turn")
    }

    fn cleanup(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Libvirtd {
    fn drop(&mut self) {
        self.cleanup();
    }
}

impl Libvirtd {
    /// Kill the daemon now (the guard still cleans up).
    pub fn child_kill(&mut self) -> std::io::Result<()> {
        self.child.kill()?;
        self.child.wait().map(|_| ())
    }
}
