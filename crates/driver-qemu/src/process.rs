//! QEMU processes (libvirt's `qemu_process.c`): spawn with the log file as
//! stderr, wait for the monitor, stop with SIGTERM then SIGKILL, and tell
//! whether a pid recorded earlier is still our QEMU.

use crate::monitor::{Monitor, MonitorEvent};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Child;
use tokio::sync::mpsc::UnboundedSender;

/// How long QEMU may take to open its monitor after exec.
pub const MONITOR_WAIT: Duration = Duration::from_secs(30);
/// libvirt's `virProcessKillPainfully`: 10 s after SIGTERM, then SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(10);
const KILL_GRACE: Duration = Duration::from_secs(5);
/// How many lines of QEMU's log an error message quotes.
const LOG_TAIL_LINES: usize = 10;

/// Who QEMU runs as (the DAC label: qemu.conf's `user` / `group`, or a
/// static `<seclabel>`), with the supplementary groups of that user.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// `virSetUIDGID` in the child, before exec: group, supplementary groups,
/// then user (dropping root's capabilities with it).
fn drop_privileges(cmd: &mut tokio::process::Command, creds: Credentials) {
    let groups: Vec<libc::gid_t> = creds.groups.clone();
    // SAFETY: the closure runs in the forked child before exec and only
    // makes async-signal-safe system calls on data prepared beforehand.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setregid(creds.gid, creds.gid) < 0
                || libc::setgroups(groups.len(), groups.as_ptr()) < 0
                || libc::setreuid(creds.uid, creds.uid) < 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// A private directory removed with everything in it on drop.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(tag: &str) -> Result<ScratchDir> {
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("rvirt-qemu-{tag}-{}-{n}", std::process::id()));
        crate::files::ensure_dir(&dir)?;
        Ok(ScratchDir(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Start `binary` in a session of its own (so the daemon's terminal
/// signals and its death do not reach the guest), stderr and stdout to
/// `log` when given.
pub fn spawn(
    binary: &Path,
    args: &[String],
    env: &[(String, String)],
    log: Option<std::fs::File>,
    (creds, policy, cpus): (
        Option<Credentials>,
        Option<crate::numa_policy::MemPolicy>,
        Option<&[u32]>,
    ),
    pass_fds: &[i32],
) -> Result<Child> {
    let mut cmd = tokio::process::Command::new(binary);
    if let Some(cpus) = cpus {
        // libvirt pins QEMU before it execs (qemuProcessInitCpuAffinity
        // while the child waits at its handshake), so every thread QEMU
        // starts early, such as the monitor's I/O thread, inherits the
        // emulator pinning; pinning after the start would race with them.
        // A failure is left to the emulator setup after the start, which
        // reports it in libvirt's words.
        let mut set = nix::sched::CpuSet::new();
        for cpu in cpus {
            let _ = set.set(*cpu as usize);
        }
        // SAFETY: sched_setaffinity is one system call on a set built
        // beforehand.
        unsafe {
            cmd.pre_exec(move || {
                let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set);
                Ok(())
            })
        };
    }
    if !pass_fds.is_empty() {
        let fds = pass_fds.to_vec();
        // SAFETY: fcntl on descriptors the daemon keeps open until QEMU
        // has started; async-signal-safe, in the child only (the daemon's
        // copies stay close-on-exec for every other child).
        unsafe {
            cmd.pre_exec(move || {
                for fd in &fds {
                    if libc::fcntl(*fd, libc::F_SETFD, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            })
        };
    }
    if let Some(policy) = policy {
        // SAFETY: apply is one system call on data prepared beforehand.
        unsafe { cmd.pre_exec(move || policy.apply()) };
    }
    cmd.args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .process_group(0)
        .kill_on_drop(false);
    match log {
        Some(file) => {
            let err = file.try_clone().map_err(|e| {
                Error::system(ErrorDomain::QEMU, "cannot duplicate the log file", &e)
            })?;
            cmd.stdout(file).stderr(err);
        }
        None => {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
    }
    if let Some(creds) = creds {
        drop_privileges(&mut cmd, creds);
    }
    cmd.spawn().map_err(|e| {
        Error::system(
            ErrorDomain::QEMU,
            format!("Cannot find QEMU binary {}", binary.display()),
            &e,
        )
    })
}

/// [`spawn`] with an inherited environment and no log, for probes.
pub fn spawn_plain(binary: &Path, args: &[String], log: Option<std::fs::File>) -> Result<Child> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    spawn(binary, args, &env, log, (None, None, None), &[])
}

/// `-qmp unix:SOCKET,server=on,wait=off`: QEMU listens on `socket` and
/// starts without waiting for a client.
pub fn qmp_server_args(socket: &Path) -> [String; 2] {
    [
        "-qmp".to_string(),
        format!("unix:{},server=on,wait=off", socket.display()),
    ]
}

/// Connect to the monitor QEMU opens at `socket`, retrying until it
/// listens; fails at once if QEMU exits first.
pub async fn connect_when_ready(
    socket: &Path,
    child: &mut Child,
    timeout: Duration,
    events: UnboundedSender<MonitorEvent>,
) -> Result<Monitor> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(exited_early(&status.to_string()));
        }
        if socket.exists() {
            match Monitor::connect(socket, timeout, events.clone()).await {
                Ok(mon) => return Ok(mon),
                Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
                Err(_) => {}
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::new(
                ErrorDomain::QEMU,
                ErrorCode::OPERATION_TIMEOUT,
                format!("monitor socket '{}' did not appear", socket.display()),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn exited_early(detail: &str) -> Error {
    Error::internal(
        ErrorDomain::QEMU,
        format!("process exited while connecting to monitor: {detail}"),
    )
}

/// The error for a start that failed, quoting QEMU's last log lines as
/// libvirt does (`qemuProcessReportLogError`).
pub fn start_failure(err: Error, log: &Path, from: u64) -> Error {
    let tail = log_tail(log, from);
    if tail.is_empty() {
        return err;
    }
    if err.message.contains("process exited") || err.message.contains("End of file") {
        return exited_early(&tail);
    }
    err.prefixed(tail)
}

/// The last lines QEMU wrote to `log` after byte `from`.
pub fn log_tail(log: &Path, from: u64) -> String {
    let data = std::fs::read(log).unwrap_or_default();
    let from = usize::try_from(from).unwrap_or(0).min(data.len());
    let text = String::from_utf8_lossy(&data[from..]);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

/// The last lines QEMU wrote to `log` in its latest run: after the
/// "starting up" header and command line the driver writes at each start.
pub fn log_tail_of_last_run(log: &Path) -> String {
    let data = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&data);
    let run = match text.rfind(": starting up\n") {
        Some(at) => text[at..].splitn(3, '\n').nth(2).unwrap_or_default(),
        None => &text,
    };
    let lines: Vec<&str> = run.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

/// Kill a probe or failed child and reap it.
pub async fn kill_child(child: &mut Child) {
    let _ = child.start_kill();
    let _ = tokio::time::timeout(KILL_GRACE, child.wait()).await;
}

pub fn is_alive(pid: i32) -> bool {
    pid > 0 && kill(Pid::from_raw(pid), None).is_ok()
}

/// Whether `pid` is still the QEMU whose monitor is `socket` (a pid can
/// be reused while the daemon is down).
pub fn is_our_qemu(pid: i32, socket: &Path) -> bool {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let wanted = socket.to_string_lossy();
    is_alive(pid) && String::from_utf8_lossy(&cmdline).contains(wanted.as_ref())
}

async fn wait_gone(pid: i32, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while is_alive(pid) {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// Stop QEMU: SIGTERM, and unless `graceful`, SIGKILL when it outlives the
/// grace period (libvirt's `qemuProcessKill`).
pub async fn terminate(pid: i32, graceful: bool) -> Result<()> {
    if !is_alive(pid) {
        return Ok(());
    }
    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    if wait_gone(pid, TERM_GRACE).await {
        return Ok(());
    }
    if graceful {
        return Err(Error::new(
            ErrorDomain::QEMU,
            ErrorCode::OPERATION_FAILED,
            format!("Failed to terminate process {pid} with SIGTERM: Device or resource busy"),
        ));
    }
    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    if wait_gone(pid, KILL_GRACE).await {
        return Ok(());
    }
    Err(Error::new(
        ErrorDomain::QEMU,
        ErrorCode::SYSTEM_ERROR,
        format!("Failed to kill process {pid}: Device or resource busy"),
    ))
}
