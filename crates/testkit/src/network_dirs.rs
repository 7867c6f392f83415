//! rvirtd's network driver directories for one test (config, state and
//! dnsmasq, named `PREFIXconfig` & co in a temporary directory). rvirtd,
//! like libvirtd, leaves a network's dnsmasq running when the daemon
//! stops, so a test that fails before `net-destroy` would leave one
//! behind: every dnsmasq whose pid file is in the state directory is
//! killed, by its PID, when the directories go, even on failure.

use crate::dirs::TempDir;
use std::ops::Deref;
use std::path::PathBuf;

pub struct NetworkDirs {
    dir: TempDir,
    prefix: &'static str,
}

impl NetworkDirs {
    /// The directories as `config`, `state` and `dnsmasq` in a fresh
    /// temporary directory named after `kind`.
    pub fn new(kind: &str) -> NetworkDirs {
        NetworkDirs::with_prefix(kind, "")
    }

    /// As [`NetworkDirs::new`], the names prefixed (the directory holds
    /// other drivers' directories too).
    pub fn with_prefix(kind: &str, prefix: &'static str) -> NetworkDirs {
        NetworkDirs {
            dir: TempDir::new(kind),
            prefix,
        }
    }

    /// One of `config`, `state`, `dnsmasq`.
    pub fn dir(&self, kind: &str) -> PathBuf {
        self.dir.join(format!("{}{kind}", self.prefix))
    }

    /// The daemon config lines pointing the network driver here.
    pub fn conf(&self) -> String {
        ["config", "state", "dnsmasq"]
            .iter()
            .map(|k| format!("network_{k}_dir = \"{}\"\n", self.dir(k).display()))
            .collect()
    }
}

/// The temporary directory itself, for the test's other files.
impl Deref for NetworkDirs {
    type Target = TempDir;
    fn deref(&self) -> &TempDir {
        &self.dir
    }
}

impl Drop for NetworkDirs {
    fn drop(&mut self) {
        crate::process::signal_recorded(&self.dir("state"), nix::sys::signal::Signal::SIGTERM);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_recorded_in_the_state_directory_ends_with_the_directories() {
        let dirs = NetworkDirs::with_prefix("netdirs", "net-");
        assert!(dirs.conf().contains("network_state_dir = \""));
        assert!(dirs.conf().contains("/net-dnsmasq\"\n"));
        std::fs::create_dir_all(dirs.dir("state")).unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        let pid_file = dirs.dir("state").join("rvnat.pid");
        std::fs::write(&pid_file, format!("{}\n", child.id())).unwrap();
        drop(dirs);
        let status = child.wait().unwrap();
        assert!(!status.success(), "sleep was not ended: {status}");
    }
}
