//! `virsh console` through rvirtd (`virDomainOpenConsole`, procedure 201):
//! the test kit's guest prints `rvirt-tick N` every second on its pty
//! serial port; stock virsh, rvirsh and python3-libvirt read those lines
//! through the daemon's stream, `^]` ends a session, and a second session
//! on the same console gets libvirt's error unless it forces its way in.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::dirs::TempDir;
use rvirt_testkit::guest::{self, TICK_PREFIX};
use rvirt_testkit::tools::{python3, python_libvirt_ready, virsh_ok};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a freshly started guest may take to print its first tick (TCG).
const BOOT: Duration = Duration::from_secs(90);

/// The driver's directories, in a temporary directory; QEMU processes
/// recorded there are killed when the test ends, even on failure.
struct Guests(TempDir);

impl Guests {
    fn conf(&self) -> String {
        let dir = |k: &str| self.0.join(k).display().to_string();
        ["config", "state", "cache", "log", "lib"]
            .map(|k| format!("qemu_{k}_dir = \"{}\"\n", dir(k)))
            .concat()
    }

    fn xml(&self, name: &str) -> std::path::PathBuf {
        let image = guest::image().expect("test guest image");
        let xml = format!(
            "<domain type='qemu'><name>{name}</name><memory unit='MiB'>128</memory>\
             <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>\
             <kernel>{}</kernel><initrd>{}</initrd><cmdline>console=ttyS0 panic=-1</cmdline>\
             </os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator>\
             <serial type='pty'><target port='0'/></serial>\
             <console type='pty'><target type='serial' port='0'/></console>\
             </devices></domain>",
            image.kernel.display(),
            image.initramfs.display()
        );
        self.0.write(&format!("{name}.xml"), xml)
    }
}

impl Drop for Guests {
    fn drop(&mut self) {
        let pid_files = std::fs::read_dir(self.0.join("state"))
            .into_iter()
            .flatten();
        for entry in pid_files.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if let (true, Ok(pid)) = (
                entry.path().extension().is_some_and(|x| x == "pid"),
                text.trim().parse::<i32>(),
            ) {
                let pid = nix::unistd::Pid::from_raw(pid);
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            }
        }
    }
}

/// A shell's `console` command running on a pseudo-terminal, as a user
/// would run it: what it printed so far, and the keyboard.
struct Session {
    child: Child,
    keyboard: std::fs::File,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Session {
    fn start(program: &str, uri: &str, args: &str) -> Session {
        let pty = nix::pty::openpty(None, None).expect("openpty");
        let slave = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup pty"));
        let mut cmd = Command::new(program);
        cmd.arg("-c")
            .arg(uri)
            .arg(format!("console {args}"))
            .env("LC_ALL", "C")
            .stdin(slave(&pty.slave))
            .stdout(slave(&pty.slave))
            .stderr(slave(&pty.slave));
        // Its own session, away from the test's terminal signals.
        unsafe {
            cmd.pre_exec(|| {
                nix::unistd::setsid()
                    .map(|_| ())
                    .map_err(std::io::Error::from)
            });
        }
        let child = cmd.spawn().expect("spawn console");
        drop(pty.slave);
        let master = std::fs::File::from(pty.master);
        let keyboard = master.try_clone().expect("dup master");
        let screen = Arc::new(Mutex::new(Vec::new()));
        let shown = screen.clone();
        std::thread::spawn(move || {
            let mut master = master;
            let mut buf = [0u8; 4096];
            // EIO once the last process holding the terminal is gone.
            while let Ok(n @ 1..) = master.read(&mut buf) {
                shown.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Session {
            child,
            keyboard,
            screen,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Wait until the screen shows `wanted`.
    fn expect(&self, wanted: &str, within: Duration) {
        let start = Instant::now();
        while !self.text().contains(wanted) {
            assert!(
                start.elapsed() < within,
                "console never showed {wanted:?}:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Wait for the shell to exit; its status code.
    fn exit_code(&mut self, within: Duration) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < within {
            if let Some(status) = self.child.try_wait().expect("wait console") {
                // Let the reader drain what was printed last.
                std::thread::sleep(Duration::from_millis(200));
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Type the escape character (`^]`).
    fn escape(&mut self) {
        self.keyboard.write_all(&[0x1d]).expect("type ^]");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A new tick line appears after the session started (the guest runs).
fn expect_ticks(s: &Session) {
    s.expect(TICK_PREFIX, BOOT);
    let seen = s.text().matches(TICK_PREFIX).count();
    let start = Instant::now();
    while s.text().matches(TICK_PREFIX).count() <= seen {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "ticks stopped:\n{}",
            s.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Open a console, see ticks, refuse a second session, force one in, end
/// it with `^]`: the same with stock virsh and with rvirsh.
fn console_round(program: &str, d: &Daemon, uri: &str, name: &str) {
    let mut first = Session::start(program, uri, name);
    first.expect(
        &format!("Connected to domain '{name}'"),
        Duration::from_secs(10),
    );
    first.expect("Escape character is ^] (Ctrl + ])", Duration::from_secs(5));
    expect_ticks(&first);

    let mut second = Session::start(program, uri, &format!("{name} --devname serial0"));
    assert_eq!(
        second.exit_code(Duration::from_secs(10)),
        Some(1),
        "{}",
        second.text()
    );
    assert!(
        second
            .text()
            .contains("error: operation failed: Active console session exists for this domain"),
        "{program}: {}",
        second.text()
    );
    first.escape();
    assert_eq!(
        first.exit_code(Duration::from_secs(10)),
        Some(0),
        "{}",
        first.text()
    );

    // With ^] gone the console is free again; --force takes it over.
    let mut third = Session::start(program, uri, name);
    expect_ticks(&third);
    let mut forced = Session::start(program, uri, &format!("{name} --force"));
    expect_ticks(&forced);
    assert!(
        third.exit_code(Duration::from_secs(10)).is_some(),
        "{}\ndaemon log:\n{}",
        third.text(),
        d.log()
    );
    forced.escape();
    assert_eq!(
        forced.exit_code(Duration::from_secs(10)),
        Some(0),
        "{}",
        forced.text()
    );
}

const PYTHON_READER: &str = r#"
import sys, time, libvirt
conn = libvirt.open(sys.argv[1])
dom = conn.lookupByName(sys.argv[2])
st = conn.newStream()
dom.openConsole(None, st, 0)
got = b""
deadline = time.time() + 30
while got.count(b"rvirt-tick ") < 2 and time.time() < deadline:
    got += st.recv(4096)
st.abort()
print(got.decode(errors="replace"))
"#;

#[test]
fn console_of_a_running_guest() {
    let guests = Guests(TempDir::new("qemu"));
    let d = Daemon::rvirtd(&guests.conf());
    let uri = format!("qemu+unix:///system?socket={}", d.socket().display());
    virsh_ok(&uri, &format!("define {}", guests.xml("c1").display()));
    virsh_ok(&uri, "start c1");
    let live = virsh_ok(&uri, "dumpxml c1");
    assert!(live.contains("<source path='/dev/pts/"), "{live}");
    let inactive = virsh_ok(&uri, "dumpxml --inactive c1");
    assert!(!inactive.contains("/dev/pts/"), "{inactive}");

    console_round("virsh", &d, &uri, "c1");
    console_round(
        rvirt_testkit::bins::rvirsh().to_str().unwrap(),
        &d,
        &uri,
        "c1",
    );

    let unknown = Session::start("virsh", &uri, "c1 --devname parallel3").exit_code_text();
    assert!(
        unknown.contains("error: internal error: cannot find character device parallel3"),
        "{unknown}"
    );

    // A daemon killed and started again finds the pty again (QEMU tells it).
    let mut d = d;
    d.kill9();
    let d = Daemon::rvirtd(&guests.conf());
    let uri = format!("qemu+unix:///system?socket={}", d.socket().display());
    let live = virsh_ok(&uri, "dumpxml c1");
    assert!(live.contains("<source path='/dev/pts/"), "{live}");
    if python_libvirt_ready() {
        let out = python3(["-c", PYTHON_READER, uri.as_str(), "c1"]);
        assert!(out.ok, "{}", out.stderr);
        assert!(
            out.stdout.matches(TICK_PREFIX).count() >= 2,
            "{}",
            out.stdout
        );
    }

    // The guest going away ends an open session.
    let mut open = Session::start("virsh", &uri, "c1");
    expect_ticks(&open);
    virsh_ok(&uri, "destroy c1");
    assert!(
        open.exit_code(Duration::from_secs(10)).is_some(),
        "{}",
        open.text()
    );
    let stopped = Session::start("virsh", &uri, "c1").exit_code_text();
    assert!(
        stopped.contains("error: The domain is not running"),
        "{stopped}"
    );
    virsh_ok(&uri, "undefine c1");
}

impl Session {
    /// Run to the end (a refused session); what it printed.
    fn exit_code_text(mut self) -> String {
        let code = self.exit_code(Duration::from_secs(10));
        assert_eq!(code, Some(1), "{}", self.text());
        self.text()
    }
}
