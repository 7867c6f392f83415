//! rvirtd's QEMU driver directories for one test (config, state, cache,
//! log, lib) in a temporary directory, with the test guest's definition
//! and its serial console in a file there. Any QEMU still recorded in the
//! state directory is killed, by its PID, when the test ends, even on
//! failure, so a test never leaves a guest behind.

use crate::dirs::TempDir;
use crate::guest::{self, GuestArgs, GuestImage, READY_MARKER};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a guest may take to boot to its marker under TCG on 2 loaded cores.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(90);

/// The test guest's image, built once per test process (the kit builds it
/// in a directory named after the process, which parallel tests share).
pub fn test_image() -> GuestImage {
    static IMAGE: OnceLock<GuestImage> = OnceLock::new();
    IMAGE
        .get_or_init(|| guest::image().expect("test guest image"))
        .clone()
}

pub struct QemuDirs {
    dir: TempDir,
}

impl Default for QemuDirs {
    fn default() -> Self {
        Self::new()
    }
}

impl QemuDirs {
    pub fn new() -> QemuDirs {
        QemuDirs {
            dir: TempDir::new("qemu"),
        }
    }

    /// The daemon config lines pointing the driver here.
    pub fn conf(&self) -> String {
        ["config", "state", "cache", "log", "lib"]
            .iter()
            .map(|k| format!("qemu_{k}_dir = \"{}\"\n", self.dir.join(k).display()))
            .collect()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The directory itself.
    pub fn root(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Write `text` to `name` here; its path.
    pub fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        self.dir.write(name, text)
    }

    pub fn state(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// The PID of `name`'s QEMU, from the driver's pidfile.
    pub fn pid_of(&self, name: &str) -> Option<i32> {
        std::fs::read_to_string(self.state().join(format!("{name}.pid")))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// Where `name`'s serial console is written.
    pub fn console(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.console"))
    }

    pub fn console_text(&self, name: &str) -> String {
        String::from_utf8_lossy(&std::fs::read(self.console(name)).unwrap_or_default()).into_owned()
    }

    /// Wait until `name` has booted to the kit's marker.
    pub fn wait_ready(&self, name: &str) {
        let start = Instant::now();
        while !self.console_text(name).contains(READY_MARKER) {
            assert!(
                start.elapsed() < BOOT_TIMEOUT,
                "{name} never printed {READY_MARKER}:\n{}",
                self.console_text(name)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The tick counter the guest last printed on its console.
    pub fn tick(&self, name: &str) -> Option<u64> {
        guest::last_tick(&self.console_text(name))
    }

    /// Wait until `name`'s tick counter passes `above`; its new value.
    pub fn wait_tick_above(&self, name: &str, above: u64) -> u64 {
        let start = Instant::now();
        loop {
            if let Some(t) = self.tick(name).filter(|t| *t > above) {
                return t;
            }
            // Generous: several TCG guests booting at once on two CPUs
            // beside the other tests can take well over 30 s.
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "{name}'s tick never passed {above}:\n{}",
                self.console_text(name)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The guest's definition: the kit's kernel and initramfs (ticking
    /// every second), ACPI (without it libvirt turns ACPI off and the
    /// power button never reaches the guest), serial console to a file in
    /// this directory, and `devices` (extra device XML) appended.
    pub fn guest_xml(&self, name: &str, image: &GuestImage, devices: &str) -> String {
        format!(
            "<domain type='qemu'>\n  <name>{name}</name>\n  <memory unit='MiB'>128</memory>\n  \
             <vcpu>1</vcpu>\n  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n    \
             <kernel>{}</kernel>\n    <initrd>{}</initrd>\n    \
             <cmdline>{}</cmdline>\n  </os>\n  <features>\n    <acpi/>\n  </features>\n  \
             <on_poweroff>destroy</on_poweroff>\n  <devices>\n    \
             <emulator>/usr/bin/qemu-system-x86_64</emulator>\n    \
             <serial type='file'>\n      <source path='{}'/>\n      <target port='0'/>\n    \
             </serial>\n{devices}  </devices>\n</domain>\n",
            image.kernel.display(),
            image.initramfs.display(),
            GuestArgs::default().cmdline(),
            self.console(name).display()
        )
    }

    /// [`Self::guest_xml`] written to `NAME.xml` here; its path.
    pub fn write_guest(&self, name: &str, image: &GuestImage, devices: &str) -> PathBuf {
        self.dir
            .write(&format!("{name}.xml"), self.guest_xml(name, image, devices))
    }
}

impl Drop for QemuDirs {
    fn drop(&mut self) {
        crate::process::signal_recorded(&self.state(), nix::sys::signal::Signal::SIGKILL);
    }
}
