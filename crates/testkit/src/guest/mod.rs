//! The QEMU test guest: Debian 12's cloud kernel (downloaded with
//! `apt-get download` at test time into target/testkit-guest, reused
//! between runs, never committed) and a busybox-static initramfs whose
//! /init mounts proc, sys and devtmpfs, optionally fills N MiB of memory
//! with random bytes (`rvirt.fill_mib=N` on the kernel command line: QEMU
//! sends zero pages as markers, so a migration test needs real bytes),
//! prints [`READY_MARKER`] on the serial console and idles.

mod boot;
mod cpio;

pub use boot::{boot, Accel, BootOptions, RunningGuest};

use std::path::{Path, PathBuf};
use std::process::Command;

/// What /init prints on the console once the guest is up (and filled).
pub const READY_MARKER: &str = "RVIRT-GUEST-READY";

/// The guest's kernel and initramfs.
#[derive(Clone, Debug)]
pub struct GuestImage {
    pub kernel: PathBuf,
    pub initramfs: PathBuf,
}

const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
fill=$(sed -n 's/.*rvirt\.fill_mib=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "$fill" ]; then
    mount -t tmpfs -o size=$((fill + 1))m fill /fill
    dd if=/dev/urandom of=/fill/data bs=1M count="$fill" 2>/dev/null
    echo "rvirt-guest: filled $fill MiB"
fi
echo RVIRT-GUEST-READY
# init must never exit: the kernel panics when it does.
while :; do sleep 3600; done
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
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let kernel = dir.join("vmlinuz");
    if !kernel.exists() {
        let vmlinuz = download_kernel(&dir)?;
        publish(&vmlinuz, &kernel)?;
    }
    let initramfs = dir.join("initramfs.cpio");
    let wanted = build_initramfs()?;
    if std::fs::read(&initramfs).ok().as_deref() != Some(&wanted[..]) {
        let scratch = dir.join(format!("initramfs.{}", std::process::id()));
        std::fs::write(&scratch, &wanted).map_err(|e| e.to_string())?;
        publish(&scratch, &initramfs)?;
    }
    Ok(GuestImage { kernel, initramfs })
}

fn publish(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::rename(from, to).map_err(|e| format!("{} -> {}: {e}", from.display(), to.display()))
}

/// The initramfs: busybox-static, /init, the mount points and a console.
fn build_initramfs() -> Result<Vec<u8>, String> {
    use cpio::Entry;
    let busybox = std::fs::read("/bin/busybox").map_err(|e| {
        format!("/bin/busybox: {e} (scripts/install-deps.sh installs busybox-static)")
    })?;
    let mut a = cpio::Archive::default();
    for d in ["bin", "dev", "proc", "sys", "tmp", "fill"] {
        a.add(d, Entry::Dir);
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
        "init",
        Entry::File {
            data: INIT.as_bytes(),
            executable: true,
        },
    );
    Ok(a.finish())
}

/// `apt-get download` the cloud kernel's current package into a private
/// directory under `cache`, `dpkg -x` it, and return its vmlinuz.
fn download_kernel(cache: &Path) -> Result<PathBuf, String> {
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
    let _ = std::fs::remove_dir_all(&work);
    Ok(kept)
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
