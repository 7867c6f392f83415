//! Stock libvirtd 9.0 with its QEMU driver as the reference for
//! `qemu:///system`, private to one test: it runs in its own mount
//! namespace with tmpfs over /run, /var/lib/libvirt, /var/cache/libvirt
//! and /var/log/libvirt, so the host's libvirtd, guests and caches are
//! never touched, and it is stopped by its own PID when the guard drops.

use crate::dirs::TempDir;
use crate::process::DaemonProcess;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The directories that get a private tmpfs.
const PRIVATE_DIRS: &[&str] = &[
    "/run",
    "/var/lib/libvirt",
    "/var/cache/libvirt",
    "/var/log/libvirt",
];

/// A private stock libvirtd reachable at [`QemuLibvirtd::uri`].
pub struct QemuLibvirtd {
    process: DaemonProcess,
    dir: TempDir,
}

impl QemuLibvirtd {
    /// Start one; `None` (with a note) where libvirtd, virsh or QEMU is
    /// missing or the user libvirt-qemu does not exist.
    pub fn start() -> Option<QemuLibvirtd> {
        if !stock_installed() {
            return None;
        }
        let dir = TempDir::new("libvirtd-qemu");
        let conf = dir.path().join("libvirtd.conf");
        let settings = format!(
            "unix_sock_dir = \"{}\"\nauth_unix_ro = \"none\"\nauth_unix_rw = \"none\"\n",
            dir.path().display()
        );
        std::fs::write(&conf, settings).expect("libvirtd.conf");
        let script = private_libvirtd_script(
            dir.path(),
            "",
            &format!(
                "-f {} -p {}",
                conf.display(),
                dir.path().join("libvirtd.pid").display()
            ),
        );
        // unshare execs sh, which execs libvirtd: the child's PID is the daemon's.
        let process = DaemonProcess::spawn(
            Command::new("unshare").args(["-m", "--propagation", "private", "sh", "-c", &script]),
            dir.path().join("daemon.log"),
        );
        let mut daemon = QemuLibvirtd { process, dir };
        let (socket, uri) = (daemon.socket(), daemon.uri());
        let serving = || socket.exists() && virsh(&uri, &["uri"]).is_ok();
        if !daemon.process.wait_serving(serving) {
            panic!("libvirtd not serving:\n{}", daemon.log());
        }
        Some(daemon)
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("libvirt-sock")
    }

    pub fn uri(&self) -> String {
        format!("qemu:///system?socket={}", self.socket().display())
    }

    /// `qemu:///system` on the read-only socket.
    pub fn uri_ro(&self) -> String {
        format!(
            "qemu:///system?socket={}",
            self.dir.path().join("libvirt-sock-ro").display()
        )
    }

    /// Its /etc/libvirt (a copy of the host's, bind-mounted there in its
    /// mount namespace): where it keeps secrets, networks, pools.
    pub fn etc_dir(&self) -> PathBuf {
        self.dir.path().join("etc-libvirt")
    }

    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Stock virsh against this daemon: stdout, or stderr as the error.
    pub fn virsh(&self, args: &[&str]) -> Result<String, String> {
        virsh(&self.uri(), args)
    }
}

/// Whether stock libvirtd, virsh and QEMU are installed (a note if not).
pub(crate) fn stock_installed() -> bool {
    let needed = [
        "/usr/sbin/libvirtd",
        "/usr/bin/virsh",
        "/usr/bin/qemu-system-x86_64",
    ];
    if let Some(missing) = needed.iter().find(|p| !Path::new(p).exists()) {
        eprintln!("{missing} not installed: skipping");
        return false;
    }
    true
}

/// The `sh -c` script that, run in a fresh mount namespace, gives libvirtd
/// its private directories and execs `libvirtd DAEMON_ARGS`: a qemu.conf
/// of `stdio_handler = "file"` and `qemu_conf` (written into `dir`), over a
/// copy of /etc/libvirt.
pub(crate) fn private_libvirtd_script(dir: &Path, qemu_conf: &str, daemon_args: &str) -> String {
    // No virtlogd here: QEMU's output goes straight to its log file.
    let qemu_conf_file = dir.join("qemu.conf");
    let etc = dir.join("etc-libvirt");
    let etc = etc.display();
    let settings = format!("stdio_handler = \"file\"\n{qemu_conf}");
    std::fs::write(&qemu_conf_file, settings).expect("qemu.conf");
    // A mount point the libvirt packages did not make is made (empty).
    let mounts: String = PRIVATE_DIRS
        .iter()
        .map(|d| format!("mkdir -p {d} && mount -t tmpfs tmpfs {d} && "))
        .collect();
    // libvirtd probes QEMU as libvirt-qemu, which cannot open the
    // host's root-only /dev/kvm; its cache check then finds KVM usable
    // (as root) but unprobed and re-probes QEMU on every call (tens of
    // seconds each on a loaded host). A private node libvirt-qemu can
    // open keeps probe and check in agreement.
    let kvm = if Path::new("/dev/kvm").exists() {
        "mknod -m 0666 /run/kvm c 10 232 && mount --bind /run/kvm /dev/kvm && "
    } else {
        ""
    };
    format!(
        "{mounts}{kvm}cp -a /etc/libvirt {etc} && cp {} {etc}/qemu.conf && \
         mount --bind {etc} /etc/libvirt && mkdir -p /var/lib/libvirt/qemu /var/cache/libvirt/qemu /var/log/libvirt/qemu && \
         exec /usr/sbin/libvirtd {daemon_args}",
        qemu_conf_file.display(),
    )
}

/// Stock virsh on `uri`: stdout, or stderr as the error.
pub(crate) fn virsh(uri: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new("/usr/bin/virsh")
        .arg("-c")
        .arg(uri)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
