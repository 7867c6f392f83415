//! A daemon under test: rvirtd, or Debian's stock libvirtd 9.0 as the
//! reference, each listening on 127.0.0.1 (TCP, auth none) with its unix
//! sockets and log in a temporary directory, and stopped by its own PID
//! when the guard drops.

use crate::dirs::TempDir;
use crate::ports::free_port;
use crate::process::{derefs_to_process, DaemonProcess, START_TIMEOUT};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How often a daemon is started on a fresh port before the kit gives up
/// (a free port may be taken by another test before the daemon binds it).
const ATTEMPTS: usize = 5;

/// A running daemon (rvirtd or libvirtd) and its directory; its process
/// (PID, log, end) is what it derefs to.
pub struct Daemon {
    process: DaemonProcess,
    pub port: u16,
    /// Holds config, sockets, log and state; removed on drop.
    pub dir: PathBuf,
    pub name: &'static str,
    _dir: TempDir,
}

impl Daemon {
    /// This workspace's rvirtd with `extra` appended to a config that
    /// listens on TCP and keeps its state in the daemon's directory.
    pub fn rvirtd(extra: &str) -> Daemon {
        Daemon::rvirtd_with(&crate::bins::rvirtd(), extra)
    }

    /// As [`Daemon::rvirtd`] with a given rvirtd binary.
    pub fn rvirtd_with(binary: &Path, extra: &str) -> Daemon {
        Daemon::rvirtd_env(binary, extra, &[])
    }

    /// As [`Daemon::rvirtd_with`] with extra environment variables (e.g.
    /// `SASL_CONF_PATH` for a private SASL config).
    pub fn rvirtd_env(binary: &Path, extra: &str, env: &[(&str, &Path)]) -> Daemon {
        // The QEMU driver runs QEMU as libvirt-qemu unless told otherwise.
        ensure_libvirt_qemu_user();
        let mut last_log = String::new();
        for _ in 0..ATTEMPTS {
            let port = free_port();
            let dir = TempDir::new("rvirtd");
            // The host storage, secret and nwfilter drivers' files stay in
            // the daemon's directory unless `extra` says otherwise (rvirtd
            // takes a key's last value).
            let d = dir.path().display();
            let state = format!(
                "state_dir = \"{d}\"\nstorage_config_dir = \"{d}/storage\"\n\
                 storage_state_dir = \"{d}/storage-run\"\nsecret_config_dir = \"{d}/secrets\"\n\
                 nwfilter_config_dir = \"{d}/nwfilter\"\nnwfilter_binding_dir = \"{d}/nwfilter-binding\"\n{extra}"
            );
            let conf = write_conf(dir.path(), port, &state);
            let mut cmd = Command::new(binary);
            cmd.arg("--listen").arg("-f").arg(&conf);
            cmd.envs(env.iter().copied());
            match Daemon::spawn(cmd, port, dir, "rvirtd") {
                Ok(d) => return d,
                Err(log) => last_log = log,
            }
        }
        panic!("rvirtd did not start:\n{last_log}");
    }

    /// A stock libvirtd with the kit's default config; `None` (with a note)
    /// where libvirtd is not installed.
    pub fn libvirtd() -> Option<Daemon> {
        Daemon::libvirtd_with("")
    }

    /// A stock libvirtd and an rvirtd, both with the default config, for
    /// a side-by-side test; `None` where libvirtd is not installed.
    pub fn libvirtd_and_rvirtd() -> Option<(Daemon, Daemon)> {
        let stock = Daemon::libvirtd()?;
        Some((stock, Daemon::rvirtd("")))
    }

    /// A stock libvirtd with `extra` appended to its config. It runs in a
    /// private mount namespace with its own /run, so it neither meets nor
    /// locks out another libvirtd on the host (its drivers lock pid files
    /// in /run/libvirt) and tests can run several at once.
    pub fn libvirtd_with(extra: &str) -> Option<Daemon> {
        Daemon::libvirtd_env(extra, &[])
    }

    /// As [`Daemon::libvirtd_with`] with extra environment variables.
    pub fn libvirtd_env(extra: &str, env: &[(&str, &Path)]) -> Option<Daemon> {
        Daemon::libvirtd_mounted(extra, env, None)
    }

    /// As [`Daemon::libvirtd_with`], with `pki` mounted over `/etc/pki` in
    /// its mount namespace: libvirt's default TLS files (`CA/cacert.pem`,
    /// `CA/cacrl.pem`, `libvirt/servercert.pem`,
    /// `libvirt/private/serverkey.pem`), the only ones libvirtd 9.0
    /// reloads on `virt-admin server-update-tls`.
    /// The host's /etc is left as it is: an overlay on /etc in the
    /// daemon's namespace holds the mount point.
    pub fn libvirtd_with_pki(extra: &str, pki: &Path) -> Option<Daemon> {
        Daemon::libvirtd_mounted(extra, &[], Some(pki))
    }

    fn libvirtd_mounted(extra: &str, env: &[(&str, &Path)], pki: Option<&Path>) -> Option<Daemon> {
        if !Path::new("/usr/sbin/libvirtd").exists() {
            eprintln!("libvirtd not installed (scripts/install-deps.sh): skipping");
            return None;
        }
        ensure_libvirt_qemu_user();
        let mut last_log = String::new();
        for _ in 0..ATTEMPTS {
            let port = free_port();
            let dir = TempDir::new("libvirtd");
            // libvirtd's own default as root is polkit; the first value of
            // a key counts, so an `extra` that sets them keeps its own.
            let mut auth = String::new();
            for key in ["auth_unix_ro", "auth_unix_rw"] {
                if !extra.contains(key) {
                    auth += &format!("{key} = \"none\"\n");
                }
            }
            let auth = format!("{auth}{extra}");
            let conf = write_conf(dir.path(), port, &auth);
            let mounts = pki.map_or(String::new(), |pki| {
                let (upper, work) = (dir.join("etc-upper"), dir.join("etc-work"));
                std::fs::create_dir_all(upper.join("pki")).expect("overlay upper");
                std::fs::create_dir_all(&work).expect("overlay work");
                format!(
                    "mount -t overlay overlay -o lowerdir=/etc,upperdir={},workdir={} /etc && \
                     mount --bind {} /etc/pki && ",
                    upper.display(),
                    work.display(),
                    pki.display()
                )
            });
            let script = format!(
                "mount -t tmpfs tmpfs /run && {mounts}exec /usr/sbin/libvirtd --listen -f {} -p {}",
                conf.display(),
                dir.join("libvirtd.pid").display()
            );
            // unshare execs sh, which execs libvirtd: the child's PID is the daemon's.
            let mut cmd = Command::new("unshare");
            cmd.args(["-m", "--propagation", "private", "sh", "-c", &script]);
            cmd.envs(env.iter().copied());
            match Daemon::spawn(cmd, port, dir, "libvirtd") {
                Ok(d) => return Some(d),
                Err(log) => last_log = log,
            }
        }
        panic!("stock libvirtd did not start:\n{last_log}");
    }

    /// Stock libvirtd started (as [`Daemon::libvirtd_with`] starts it)
    /// with a configuration it must refuse: its log (stderr). None
    /// without libvirtd.
    pub fn libvirtd_refusal(extra: &str) -> Option<String> {
        if !Path::new("/usr/sbin/libvirtd").exists() {
            eprintln!("libvirtd not installed (scripts/install-deps.sh): skipping");
            return None;
        }
        let dir = TempDir::new("libvirtd-refusal");
        let conf = write_conf(
            dir.path(),
            free_port(),
            &format!("auth_unix_ro = \"none\"\nauth_unix_rw = \"none\"\n{extra}"),
        );
        let script = format!(
            "mount -t tmpfs tmpfs /run && exec timeout 60 /usr/sbin/libvirtd --listen -f {} -p {}",
            conf.display(),
            dir.join("libvirtd.pid").display()
        );
        let out = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .output()
            .expect("run libvirtd");
        assert!(!out.status.success(), "libvirtd accepted {extra}");
        Some(String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// Start `cmd` and wait until it listens on `port` and has made its
    /// socket; its log on failure.
    fn spawn(
        mut cmd: Command,
        port: u16,
        dir: TempDir,
        name: &'static str,
    ) -> Result<Daemon, String> {
        let mut d = Daemon {
            process: DaemonProcess::spawn(&mut cmd, dir.join("daemon.log")),
            port,
            dir: dir.path().to_path_buf(),
            name,
            _dir: dir,
        };
        let socket = d.socket();
        let listening = || TcpStream::connect(("127.0.0.1", port)).is_ok() && socket.exists();
        if d.process.wait_serving(listening) {
            return Ok(d);
        }
        match d.is_running() {
            true => Err(format!(
                "{name} not listening after {START_TIMEOUT:?}:\n{}",
                d.log()
            )),
            false => Err(d.log()),
        }
    }

    pub fn tcp_uri(&self) -> String {
        self.tcp_uri_of("test", "/default")
    }

    /// Another driver's URI over TCP on this daemon, e.g. `("secret",
    /// "/system")` gives `secret+tcp://127.0.0.1:PORT/system`.
    pub fn tcp_uri_of(&self, driver: &str, path: &str) -> String {
        format!("{driver}+tcp://127.0.0.1:{}{path}", self.port)
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("libvirt-sock")
    }

    pub fn socket_ro(&self) -> PathBuf {
        self.dir.join("libvirt-sock-ro")
    }

    /// `libvirt-admin-sock`: both daemons keep it in their own directory
    /// (`unix_sock_dir`).
    pub fn admin_socket(&self) -> PathBuf {
        self.dir.join("libvirt-admin-sock")
    }

    /// The URI virt-admin reaches this daemon's admin server with.
    pub fn admin_uri(&self) -> String {
        format!(
            "libvirtd:///system?socket={}",
            self.admin_socket().display()
        )
    }

    /// The client ids virt-admin's `srv-clients-list libvirtd` shows, in
    /// order.
    pub fn admin_client_ids(&self) -> Vec<String> {
        let out = crate::tools::virt_admin(&self.admin_uri(), "srv-clients-list libvirtd");
        assert!(out.ok, "{}: {out:?}", self.name);
        out.stdout
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|w| w.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_string)
            .collect()
    }

    pub fn unix_uri(&self) -> String {
        format!("test+unix:///default?socket={}", self.socket().display())
    }
}

derefs_to_process!(Daemon);

/// rvirtd run with `args` and `-f` a config of `conf` (sockets and state in
/// a fresh directory), which it must refuse to start with: its stderr.
pub fn rvirtd_refusal(args: &[&str], conf: &str) -> String {
    let dir = TempDir::new("rvirtd-refusal");
    let path = dir.write(
        "r.conf",
        format!(
            "unix_sock_dir = \"{0}\"\nstate_dir = \"{0}\"\n{conf}",
            dir.path().display()
        ),
    );
    let out = Command::new(crate::bins::rvirtd())
        .args(args)
        .arg("-f")
        .arg(&path)
        .output()
        .expect("run rvirtd");
    assert!(!out.status.success(), "{conf} was accepted");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The config every test daemon starts from: TCP on 127.0.0.1:`port`
/// without auth (unless `extra` sets `auth_tcp`), sockets in `dir`, no TLS unless `extra` sets `listen_tls`
/// (libvirtd takes a key's first value); `extra` appended (rvirtd takes a
/// key's last value).
pub fn write_conf(dir: &Path, port: u16, extra: &str) -> PathBuf {
    let conf = dir.join("daemon.conf");
    let tls = if extra.contains("listen_tls") {
        ""
    } else {
        "listen_tls = 0\n"
    };
    // libvirtd takes a key's first value: an `extra` that sets auth_tcp
    // keeps its own.
    let auth_tcp = if extra.contains("auth_tcp") {
        ""
    } else {
        "auth_tcp = \"none\"\n"
    };
    std::fs::write(
        &conf,
        format!(
            "listen_tcp = 1\n{tls}{auth_tcp}tcp_port = \"{port}\"\n\
             listen_addr = \"127.0.0.1\"\nunix_sock_dir = \"{}\"\n{extra}",
            dir.display()
        ),
    )
    .expect("config");
    conf
}

/// libvirtd's QEMU driver refuses to start without this user, and
/// rvirtd's runs QEMU as it by default.
pub fn ensure_libvirt_qemu_user() {
    let known = Command::new("id")
        .arg("libvirt-qemu")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !known {
        let _ = Command::new("useradd")
            .args(["--system", "--no-create-home", "libvirt-qemu"])
            .stderr(Stdio::null())
            .status();
    }
}
