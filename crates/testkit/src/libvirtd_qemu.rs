//! Stock libvirtd 9.0 with its QEMU driver as the reference for
//! `qemu:///system`, private to one test: it runs in its own mount
//! namespace with tmpfs over /run, /var/lib/libvirt, /var/cache/libvirt
//! and /var/log/libvirt, so the host's libvirtd, guests and caches are
//! never touched, and it is stopped by its own PID when the guard drops.

use crate::dirs::TempDir;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long libvirtd may take to make its socket (it probes QEMU first).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The directories that get a private tmpfs.
const PRIVATE_DIRS: &[&str] = &[
    "/run",
    "/var/lib/libvirt",
    "/var/cache/libvirt",
    "/var/log/libvirt",
];

/// A private stock libvirtd reachable at [`QemuLibvirtd::uri`].
pub struct QemuLibvirtd {
    child: Child,
    dir: TempDir,
}

impl QemuLibvirtd {
    /// Start one; `None` (with a note) where libvirtd, virsh or QEMU is
    /// missing or the user libvirt-qemu does not exist.
    pub fn start() -> Option<QemuLibvirtd> {
        let needed = [
            "/usr/sbin/libvirtd",
            "/usr/bin/virsh",
            "/usr/bin/qemu-system-x86_64",
        ];
        if let Some(missing) = needed.iter().find(|p| !Path::new(p).exists()) {
            eprintln!("{missing} not installed: skipping");
            return None;
        }
        let dir = TempDir::new("libvirtd-qemu");
        let conf = dir.path().join("libvirtd.conf");
        let settings = format!(
            "unix_sock_dir = \"{}\"\nauth_unix_ro = \"none\"\nauth_unix_rw = \"none\"\n",
            dir.path().display()
        );
        std::fs::write(&conf, settings).expect("libvirtd.conf");
        let mounts: String = PRIVATE_DIRS
            .iter()
            .map(|d| format!("mount -t tmpfs tmpfs {d} && "))
            .collect();
        let script = format!(
            "{mounts}mkdir -p /var/lib/libvirt/qemu /var/cache/libvirt/qemu /var/log/libvirt/qemu && \
             exec /usr/sbin/libvirtd -f {} -p {}",
            conf.display(),
            dir.path().join("libvirtd.pid").display()
        );
        let log = std::fs::File::create(dir.path().join("daemon.log")).expect("log");
        // unshare execs sh, which execs libvirtd: the child's PID is the daemon's.
        let child = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn libvirtd");
        let mut daemon = QemuLibvirtd { child, dir };
        daemon.wait_ready();
        Some(daemon)
    }

    fn wait_ready(&mut self) {
        let start = Instant::now();
        while start.elapsed() < START_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("libvirtd exited ({status}):\n{}", self.log());
            }
            if self.socket().exists() && self.virsh(&["uri"]).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "libvirtd not ready after {START_TIMEOUT:?}:\n{}",
            self.log()
        );
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("libvirt-sock")
    }

    pub fn uri(&self) -> String {
        format!("qemu:///system?socket={}", self.socket().display())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// Stock virsh against this daemon: stdout, or stderr as the error.
    pub fn virsh(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("/usr/bin/virsh")
            .arg("-c")
            .arg(self.uri())
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

impl Drop for QemuLibvirtd {
    fn drop(&mut self) {
        crate::daemon::terminate(&mut self.child);
    }
}
