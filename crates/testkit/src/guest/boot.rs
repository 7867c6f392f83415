//! Booting the test guest with qemu-system-x86_64 and waiting for its
//! ready marker on the serial console.

use super::{GuestArgs, GuestImage, READY_MARKER};
use crate::dirs::TempDir;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How QEMU runs the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    Tcg,
    Kvm,
}

/// How long a KVM boot may take before KVM counts as not working. A nested
/// KVM guest kernel hangs at boot on some machines (this one), so /dev/kvm
/// alone proves nothing.
const KVM_PROOF_TIMEOUT: Duration = Duration::from_secs(8);

impl Accel {
    /// KVM if /dev/kvm exists and a short boot under it reaches the marker
    /// in time, else TCG; decided once per test process.
    pub fn detect(image: &GuestImage) -> Accel {
        static DECIDED: OnceLock<Accel> = OnceLock::new();
        *DECIDED.get_or_init(|| {
            if !std::path::Path::new("/dev/kvm").exists() {
                return Accel::Tcg;
            }
            let probe = BootOptions {
                accel: Accel::Kvm,
                timeout: KVM_PROOF_TIMEOUT,
                ..BootOptions::default()
            };
            match boot(image, &probe) {
                Ok(_) => Accel::Kvm,
                Err(e) => {
                    eprintln!("KVM does not boot the guest ({e}): using TCG");
                    Accel::Tcg
                }
            }
        })
    }

    fn arg(self) -> &'static str {
        match self {
            Accel::Tcg => "tcg",
            Accel::Kvm => "kvm",
        }
    }
}

/// What to boot the guest with.
#[derive(Clone, Debug)]
pub struct BootOptions {
    pub accel: Accel,
    pub memory_mib: u64,
    /// What the guest does (fill, dirty, disk counter, tick period).
    pub guest: GuestArgs,
    /// More QEMU arguments (e.g. `-incoming`, `-qmp`).
    pub extra_args: Vec<String>,
    /// How long the marker may take.
    pub timeout: Duration,
}

impl Default for BootOptions {
    fn default() -> BootOptions {
        BootOptions {
            accel: Accel::Tcg,
            memory_mib: 256,
            guest: GuestArgs::default(),
            extra_args: Vec::new(),
            timeout: Duration::from_secs(60),
        }
    }
}

/// A booted guest: QEMU, killed by its PID on drop, and its console log.
pub struct RunningGuest {
    child: Child,
    pub console: PathBuf,
    /// From QEMU's start to the ready marker.
    pub boot_time: Duration,
    _dir: TempDir,
}

impl RunningGuest {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait up to `timeout` for QEMU to exit by itself (the guest powered
    /// off); whether it did.
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// What the guest printed on its serial console so far.
    pub fn console_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.console).unwrap_or_default()).into_owned()
    }
}

impl Drop for RunningGuest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Boot `image` and wait for the ready marker; the console log on failure.
pub fn boot(image: &GuestImage, opts: &BootOptions) -> Result<RunningGuest, String> {
    let dir = TempDir::new("guest");
    let console = dir.join("console.log");
    let append = opts.guest.cmdline();
    let child = Command::new("qemu-system-x86_64")
        .args(["-machine", "pc", "-accel", opts.accel.arg()])
        .args([
            "-m",
            &opts.memory_mib.to_string(),
            "-nographic",
            "-monitor",
            "none",
        ])
        .arg("-serial")
        .arg(format!("file:{}", console.display()))
        .arg("-no-reboot")
        .arg("-kernel")
        .arg(&image.kernel)
        .arg("-initrd")
        .arg(&image.initramfs)
        .args(["-append", &append])
        .args(&opts.extra_args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("qemu-system-x86_64: {e}"))?;
    let mut guest = RunningGuest {
        child,
        console,
        boot_time: Duration::ZERO,
        _dir: dir,
    };
    let start = Instant::now();
    while start.elapsed() < opts.timeout {
        if guest.console_text().contains(READY_MARKER) {
            guest.boot_time = start.elapsed();
            return Ok(guest);
        }
        if let Ok(Some(status)) = guest.child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = guest.child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            return Err(format!(
                "QEMU exited ({status}): {err}\n{}",
                guest.console_text()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "no {READY_MARKER} within {:?} ({:?}); console:\n{}",
        opts.timeout,
        opts.accel,
        guest.console_text()
    ))
}
