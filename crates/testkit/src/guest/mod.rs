//! The QEMU test guest: Debian 12's cloud kernel (downloaded with
//! `apt-get download` at test time into target/testkit-guest, reused
//! between runs, never committed), the virtio, power-button and evdev
//! modules of the same package, and a busybox-static initramfs whose /init
//! ([`INIT`]) mounts proc, sys and devtmpfs, loads the modules, optionally
//! fills memory with random bytes (QEMU sends zero pages as markers, so a
//! migration test needs real bytes), prints [`READY_MARKER`] on the serial
//! console and then a tick counter ([`TICK_PREFIX`]) every period, so a test
//! sees the guest keep running (or stop, when paused). What it does is set
//! on the kernel command line ([`GuestArgs`]). The ACPI power button powers
//! it off, so `virsh shutdown` works.

mod agent;
mod boot;
mod cpio;
mod modules;

pub use boot::{boot, Accel, BootOptions, RunningGuest};

use std::path::{Path, PathBuf};
use std::process::Command;

/// What /init prints on the console once the guest is up (and filled).
pub const READY_MARKER: &str = "RVIRT-GUEST-READY";

/// Each tick line is this prefix and the count since boot: `rvirt-tick 7`.
pub const TICK_PREFIX: &str = "rvirt-tick ";

/// The guest's kernel and initramfs.
#[derive(Clone, Debug)]
pub struct GuestImage {
    pub kernel: PathBuf,
    pub initramfs: PathBuf,
}

/// What the guest does, as `rvirt.*` kernel command line arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuestArgs {
    /// MiB of random bytes written into guest memory before the ready marker.
    pub fill_mib: u64,
    /// MiB rewritten with random bytes on every tick (a migration that must
    /// converge against a guest that keeps dirtying its memory).
    pub dirty_mib: u64,
    /// A block device (`vda`) whose first bytes hold a counter the guest
    /// bumps on every tick and continues from after a restart.
    pub disk: Option<String>,
    /// Seconds between ticks (busybox sleep: fractions allowed); 1 when None.
    pub tick_seconds: Option<String>,
    /// Seconds between [`SUM_PREFIX`] lines: the md5 of the filled region,
    /// computed inside the guest (needs `fill_mib`); none when None.
    pub sum_seconds: Option<u32>,
    /// Bring up `eth0` and ask for a DHCP lease (busybox udhcpc, sending
    /// host name `rvirt-guest`); the console then says [`DHCP_MARKER`].
    pub dhcp: bool,
}

impl GuestArgs {
    /// 16 MiB filled and summed every 2 s, 32 MiB rewritten every tick:
    /// far more than a capped migration moves, so pre-copy never ends by
    /// itself and a test can act on the job.
    pub fn dirtying() -> GuestArgs {
        GuestArgs {
            fill_mib: 16,
            dirty_mib: 32,
            sum_seconds: Some(2),
            ..GuestArgs::default()
        }
    }

    /// 8 MiB filled and summed every 2 s, a counter on disk `vda`: the
    /// storage migration tests' guest, whose disk and memory are checked
    /// on the destination.
    pub fn with_disk() -> GuestArgs {
        GuestArgs {
            fill_mib: 8,
            sum_seconds: Some(2),
            disk: Some("vda".into()),
            ..GuestArgs::default()
        }
    }

    /// The kernel command line: serial console, and the `rvirt.*` settings.
    pub fn cmdline(&self) -> String {
        let mut line = "console=ttyS0 panic=-1".to_string();
        if self.fill_mib > 0 {
            line.push_str(&format!(" rvirt.fill_mib={}", self.fill_mib));
        }
        if self.dirty_mib > 0 {
            line.push_str(&format!(" rvirt.dirty_mib={}", self.dirty_mib));
        }
        if let Some(disk) = &self.disk {
            line.push_str(&format!(" rvirt.disk={disk}"));
        }
        if let Some(period) = &self.tick_seconds {
            line.push_str(&format!(" rvirt.tick={period}"));
        }
        if let Some(period) = self.sum_seconds {
            line.push_str(&format!(" rvirt.sum={period}"));
        }
        if self.dhcp {
            line.push_str(" rvirt.dhcp=1");
        }
        line
    }
}

/// What the guest prints once udhcpc holds a lease (`rvirt.dhcp=1`),
/// followed by the address.
pub const DHCP_MARKER: &str = "rvirt-guest: dhcp lease ";

/// Each checksum line is this prefix and the md5 (hex) of the guest's
/// filled memory: `rvirt-sum 0123...`.
pub const SUM_PREFIX: &str = "rvirt-sum ";

/// The checksums a console log shows, in order.
pub fn sums(console: &str) -> Vec<String> {
    console
        .lines()
        .filter_map(|l| l.trim_end_matches('\r').strip_prefix(SUM_PREFIX))
        .map(|s| s.trim().to_string())
        .filter(|s| s.len() == 32 && s.bytes().all(|c| c.is_ascii_hexdigit()))
        .collect()
}

/// The highest tick a console log shows, if any.
pub fn last_tick(console: &str) -> Option<u64> {
    console
        .lines()
        .filter_map(|l| l.trim_end_matches('\r').strip_prefix(TICK_PREFIX))
        .filter_map(|n| n.trim().parse().ok())
        .max()
}

/// The guest's /init (busybox sh as PID 1).
pub const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko; done
arg() { sed -n "s/.*rvirt\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
fill=$(arg fill_mib)
dirty=$(arg dirty_mib)
if [ -n "$fill$dirty" ]; then
    mount -t tmpfs -o size=$((${fill:-0} + ${dirty:-0} + 1))m fill /fill
fi
if [ -n "$fill" ]; then
    dd if=/dev/urandom of=/fill/data bs=1M count="$fill" 2>/dev/null
    echo "rvirt-guest: filled $fill MiB"
fi
# rvirt.sum=SECONDS: the md5 of the filled region every SECONDS, so a test
# sees memory a migration moved checked from inside the guest.
sum=$(arg sum)
if [ -n "$sum" ] && [ -n "$fill" ]; then
    (while :; do echo "rvirt-sum $(md5sum /fill/data | cut -d' ' -f1)"; sleep "$sum"; done) &
fi
# The ACPI power button (virsh shutdown) powers the guest off.
for e in /sys/class/input/event*; do
    [ "$(cat $e/device/name 2>/dev/null)" = "Power Button" ] && button=/dev/input/${e##*/}
done
if [ -n "$button" ]; then
    (dd if=$button bs=24 count=1 >/dev/null 2>&1; echo "rvirt-guest: power button"; sync; poweroff -f) &
fi
/bin/rvirt-agent &
disk=$(arg disk)
if [ -n "$disk" ]; then
    base=$(dd if=/dev/$disk bs=64 count=1 2>/dev/null | sed -n 's/^rvirt-disk \([0-9]*\).*/\1/p')
    echo "rvirt-guest: disk counter continues from ${base:-0}"
fi
# rvirt.dhcp=1: a DHCP lease for eth0 (udhcpc runs the script on "bound"
# with the address in $ip).
if [ -n "$(arg dhcp)" ]; then
    printf '#!/bin/sh\n[ "$1" = bound ] && echo "rvirt-guest: dhcp lease $ip" > /dev/console\nexit 0\n' > /tmp/dhcp.sh
    chmod +x /tmp/dhcp.sh
    ip link set eth0 up
    udhcpc -i eth0 -q -n -t 30 -T 2 -x hostname:rvirt-guest -s /tmp/dhcp.sh >/dev/null 2>&1 &
fi
period=$(arg tick)
echo RVIRT-GUEST-READY
tick=0
# init must never exit: the kernel panics when it does.
while :; do
    tick=$((tick + 1))
    echo "rvirt-tick $tick"
    if [ -n "$disk" ]; then
        echo "rvirt-disk $((${base:-0} + tick))" | dd of=/dev/$disk conv=notrunc,fsync 2>/dev/null
    fi
    if [ -n "$dirty" ]; then
        dd if=/dev/urandom of=/fill/dirty bs=1M count="$dirty" conv=notrunc 2>/dev/null
    fi
    sleep ${period:-1}
done
"#;

/// Where the image is cached: target/testkit-guest of this workspace.
pub fn cache_dir() -> PathBuf {
    let target = crate::bins::profile_dir()
        .parent()
        .expect("target dir")
        .to_path_buf();
    target.join("testkit-guest")
}

/// The image, built (and the kernel downloaded) on first use. Concurrent
/// test processes each build in a private directory and rename into place.
pub fn image() -> Result<GuestImage, String> {
    // Scratch names carry the process id: threads of one test binary take
    // turns, other processes use their own names.
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = BUILDING.lock().unwrap_or_else(|p| p.into_inner());
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let kernel = dir.join("vmlinuz");
    let modules = dir.join("modules");
    if !kernel.exists() || !modules.join(modules::ORDER_FILE).exists() {
        let (vmlinuz, module_dir) = download_kernel(&dir)?;
        publish_dir(&module_dir, &modules)?;
        publish(&vmlinuz, &kernel)?;
    }
    let initramfs = dir.join("initramfs.cpio");
    let wanted = build_initramfs(&modules)?;
    if std::fs::read(&initramfs).ok().as_deref() != Some(&wanted[..]) {
        let scratch = dir.join(format!("initramfs.{}", std::process::id()));
        std::fs::write(&scratch, &wanted).map_err(|e| e.to_string())?;
        publish(&scratch, &initramfs)?;
    }
    Ok(GuestImage { kernel, initramfs })
}

/// Rename a finished module directory into place; another test process
/// that got there first is as good.
fn publish_dir(from: &Path, to: &Path) -> Result<(), String> {
    let complete = |d: &Path| d.join(modules::ORDER_FILE).exists();
    if !complete(to) {
        let _ = std::fs::remove_dir_all(to);
    }
    if std::fs::rename(from, to).is_err() {
        let _ = std::fs::remove_dir_all(from);
        if !complete(to) {
            return Err(format!("could not publish {}", to.display()));
        }
    }
    Ok(())
}

fn publish(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::rename(from, to).map_err(|e| format!("{} -> {}: {e}", from.display(), to.display()))
}

/// The initramfs: busybox-static, /init, the modules in `module_dir`,
/// the mount points and a console.
fn build_initramfs(module_dir: &Path) -> Result<Vec<u8>, String> {
    use cpio::Entry;
    let busybox = std::fs::read("/bin/busybox").map_err(|e| {
        format!("/bin/busybox: {e} (scripts/install-deps.sh installs busybox-static)")
    })?;
    let mut a = cpio::Archive::default();
    for d in [
        "bin",
        "dev",
        "proc",
        "sys",
        "tmp",
        "fill",
        "lib",
        "lib/modules",
    ] {
        a.add(d, Entry::Dir);
    }
    let mut names: Vec<String> = std::fs::read_dir(module_dir)
        .map_err(|e| format!("{}: {e}", module_dir.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    for name in names {
        let data = std::fs::read(module_dir.join(&name)).map_err(|e| e.to_string())?;
        let path = format!("lib/modules/{name}");
        let entry = Entry::File {
            data: &data,
            executable: false,
        };
        a.add(&path, entry);
    }
    // The kernel opens /dev/console for init before devtmpfs is mounted.
    a.add("dev/console", Entry::CharDev(5, 1));
    a.add(
        "bin/busybox",
        Entry::File {
            data: &busybox,
            executable: true,
        },
    );
    a.add(
        agent::AGENT_PATH,
        Entry::File {
            data: agent::AGENT_SCRIPT.as_bytes(),
            executable: true,
        },
    );
    a.add(
        "init",
        Entry::File {
            data: INIT.as_bytes(),
            executable: true,
        },
    );
    Ok(a.finish())
}

/// `apt-get download` the cloud kernel's current package into a private
/// directory under `cache`, `dpkg -x` it, and return its vmlinuz and a
/// directory with the guest's modules (both private until published).
fn download_kernel(cache: &Path) -> Result<(PathBuf, PathBuf), String> {
    let package = kernel_package()?;
    let work = cache.join(format!("download.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    run(Command::new("apt-get")
        .args(["download", "-q", &package])
        .current_dir(&work))
    .map_err(|e| format!("{e} (apt-get update, as scripts/install-deps.sh does, first?)"))?;
    let deb = std::fs::read_dir(&work)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or("apt-get download left no .deb")?;
    let root = work.join("root");
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(&root))?;
    let boot = std::fs::read_dir(root.join("boot")).map_err(|e| e.to_string())?;
    let vmlinuz = boot
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .ok_or("no boot/vmlinuz-* in the kernel package")?;
    let kept = cache.join(format!("vmlinuz.{}", std::process::id()));
    std::fs::rename(&vmlinuz, &kept).map_err(|e| e.to_string())?;
    let module_dir = cache.join(format!("modules.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&module_dir);
    modules::collect(&root, &module_dir)?;
    let _ = std::fs::remove_dir_all(&work);
    Ok((kept, module_dir))
}

/// The versioned package `linux-image-cloud-amd64` depends on today
/// (e.g. linux-image-6.1.0-57-cloud-amd64).
fn kernel_package() -> Result<String, String> {
    let out = Command::new("apt-cache")
        .args(["depends", "linux-image-cloud-amd64"])
        .output()
        .map_err(|e| format!("apt-cache: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| p.starts_with("linux-image-") && p.ends_with("-cloud-amd64"))
        .map(str::to_string)
        .ok_or_else(|| "apt-cache knows no linux-image-cloud-amd64 (apt-get update?)".into())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
