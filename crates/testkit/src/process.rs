//! A daemon process the kit started, known by its own PID: its log, whether
//! it still runs, and its end (SIGTERM when dropped, SIGKILL on request).
//! [`crate::daemon::Daemon`] and [`crate::hosts::Host`] are each one of
//! these plus what they listen on.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a daemon may take to serve; libvirtd loads all its drivers.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// `Deref` (and `DerefMut`) to the [`DaemonProcess`] in field `process`:
/// for the kit's daemon types, whose process is what they are.
macro_rules! derefs_to_process {
    ($daemon:ty) => {
        impl std::ops::Deref for $daemon {
            type Target = $crate::process::DaemonProcess;

            fn deref(&self) -> &$crate::process::DaemonProcess {
                &self.process
            }
        }

        impl std::ops::DerefMut for $daemon {
            fn deref_mut(&mut self) -> &mut $crate::process::DaemonProcess {
                &mut self.process
            }
        }
    };
}
pub(crate) use derefs_to_process;

pub struct DaemonProcess {
    child: Child,
    log: PathBuf,
}

impl DaemonProcess {
    /// Run `cmd` with stdin closed and stdout and stderr written to `log`.
    pub fn spawn(cmd: &mut Command, log: PathBuf) -> DaemonProcess {
        let file = std::fs::File::create(&log).expect("log");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.get_program()));
        DaemonProcess { child, log }
    }

    /// Wait up to [`START_TIMEOUT`] until `serving` says the daemon serves;
    /// false if it exited first or never did.
    pub fn wait_serving(&mut self, serving: impl Fn() -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < START_TIMEOUT {
            if !self.is_running() {
                return false;
            }
            if serving() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Everything the daemon wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM by its PID, then wait up to 5 s and SIGKILL. Returns whether
    /// it exited by itself.
    pub fn terminate(&mut self) -> bool {
        let pid = nix::unistd::Pid::from_raw(self.pid() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill9();
        false
    }

    /// SIGKILL now (by its PID) and reap it: a daemon that dies mid-session.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        if self.is_running() {
            self.terminate();
        }
    }
}

/// Signal every process whose pid file (`*.pid`) is in `dir`, by its PID:
/// what a driver left running when a test ends, even on failure.
pub fn signal_recorded(dir: &std::path::Path, signal: nix::sys::signal::Signal) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let pids = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pid"))
        .filter_map(|p| std::fs::read_to_string(p).ok()?.trim().parse::<i32>().ok());
    for pid in pids {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
    }
}
