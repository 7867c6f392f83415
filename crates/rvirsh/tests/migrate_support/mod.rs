//! Two rvirtd "hosts" for comparing rvirsh with stock virsh on migration
//! and job commands: each daemon has its own port, directory, host UUID and
//! relocation listener, and a stock virsh holding a connection so its
//! `test:///default` lives as long as the host. Everything started here is
//! stopped by its own PID on drop.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// rvirtd beside the rvirsh binary; built first if a narrower build left it
/// out.
fn rvirtd_binary() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_rvirsh")).with_file_name("rvirtd");
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "rvirtd", "--bin", "rvirtd"])
            .status()
            .expect("run cargo build -p rvirtd");
        assert!(status.success(), "cargo build -p rvirtd failed");
    }
    path
}

pub struct Out {
    pub stdout: String,
    pub stderr: String,
    pub ok: bool,
}

pub fn run(program: &str, uri: &str, commands: &str) -> Out {
    let out = Command::new(program)
        .arg("-c")
        .arg(uri)
        .arg(commands)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    Out {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ok: out.status.success(),
    }
}

pub fn virsh(uri: &str, commands: &str) -> Out {
    run("virsh", uri, commands)
}

pub fn rvirsh(uri: &str, commands: &str) -> Out {
    run(env!("CARGO_BIN_EXE_rvirsh"), uri, commands)
}

/// Run `commands` through both shells; describe any difference.
pub fn diff(uri: &str, commands: &str) -> Option<String> {
    let want = virsh(uri, commands);
    let got = rvirsh(uri, commands);
    let mut d = Vec::new();
    if want.stdout != got.stdout {
        d.push(format!(
            "stdout:\n--- virsh\n{}--- rvirsh\n{}",
            want.stdout, got.stdout
        ));
    }
    if want.stderr != got.stderr {
        d.push(format!(
            "stderr:\n--- virsh\n{}--- rvirsh\n{}",
            want.stderr, got.stderr
        ));
    }
    if want.ok != got.ok {
        d.push(format!("exit: virsh ok={} rvirsh ok={}", want.ok, got.ok));
    }
    (!d.is_empty()).then(|| format!("== {commands}\n{}", d.join("\n")))
}

pub struct Host {
    child: Child,
    holder: Option<(Child, ChildStdin, BufReader<ChildStdout>)>,
    pub port: u16,
    pub reloc_port: u16,
    dir: PathBuf,
}

impl Host {
    pub fn start(tag: &str, n: u32) -> Host {
        let binary = rvirtd_binary();
        for attempt in 0..5 {
            let port = free_port();
            let reloc_port = free_port();
            let dir = std::env::temp_dir().join(format!(
                "rvirsh-migd-{tag}-{}-{attempt}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("temp dir");
            let conf = dir.join("rvirtd.conf");
            std::fs::write(
                &conf,
                format!(
                    "listen_tcp = 1\nlisten_tls = 0\nauth_tcp = \"none\"\n\
                     tcp_port = \"{port}\"\nlisten_addr = \"127.0.0.1\"\n\
                     unix_sock_dir = \"{d}\"\nstate_dir = \"{d}\"\n\
                     host_uuid = \"{:08x}-1111-4222-8333-{:012x}\"\n\
                     test_relocation_listen = \"127.0.0.1:{reloc_port}\"\n",
                    std::process::id(),
                    n,
                    d = dir.display()
                ),
            )
            .expect("config");
            let log = std::fs::File::create(dir.join("daemon.log")).expect("log");
            let child = Command::new(&binary)
                .arg("--listen")
                .arg("-f")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .expect("spawn rvirtd");
            let mut host = Host {
                child,
                holder: None,
                port,
                reloc_port,
                dir,
            };
            if host.wait_listening() {
                host.hold_connection();
                return host;
            }
        }
        panic!("rvirtd did not start");
    }

    fn wait_listening(&mut self) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return false;
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// An interactive stock virsh that keeps the daemon's test:///default
    /// alive between the shells' separate connections.
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
        let stdout: ChildStdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let want = format!(":{}/default", self.port);
        let mut said = String::new();
        while !said.contains(&want) {
            let mut line = String::new();
            let n = reader.read_line(&mut line).expect("holder virsh");
            assert!(n > 0, "holder virsh said {said:?}");
            said.push_str(&line);
        }
        // Kept open: a closed pipe would kill virsh at its next prompt.
        self.holder = Some((child, stdin, reader));
    }

    pub fn uri(&self) -> String {
        format!("test+tcp://127.0.0.1:{}/default", self.port)
    }

    pub fn reloc_uri(&self) -> String {
        format!("test+reloc://127.0.0.1:{}", self.reloc_port)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some((mut child, stdin, _reader)) = self.holder.take() {
            drop(stdin);
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A test-driver guest whose 8 MiB working set really travels.
pub fn guest_xml(name: &str) -> String {
    format!(
        "<domain type='test'><name>{name}</name><metadata>\
         <rvirt:guest xmlns:rvirt='https://rvirt.dev/xmlns/test-guest/1'>\
         <rvirt:working-set unit='KiB'>8192</rvirt:working-set></rvirt:guest>\
         </metadata><memory unit='MiB'>64</memory><vcpu>1</vcpu>\
         <os><type>hvm</type></os></domain>"
    )
}
