//! Two rvirtd hosts without shared storage, for the storage-migration
//! tests: each daemon (and its QEMUs) runs in its own mount namespace
//! where its own `disks` directory is bind-mounted at one path, so the
//! guest's disk has the same path name on both hosts (as libvirt expects)
//! but is a different file on each. The test guest writes its disk counter
//! to that disk (`vda`, qcow2, 8 MiB of random data under it so a copy
//! takes time). Images are read from outside with `qemu-img -U`.

use crate::dirs::TempDir;
use crate::guest::{self, GuestArgs, READY_MARKER};
use crate::hosts::{Host, Lan, NetNs};
use crate::libvirtd_host::LibvirtdHost;
use crate::qemu_dirs::QemuDirs;
use crate::qemu_hosts::{
    alive, check_completed, check_migrated, field, virsh_migrate, HostKind, MigrationHost,
    QemuHost, TestGuest,
};
use crate::tools::Output;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The disk's virtual size.
pub const DISK_MIB: u64 = 16;
/// Random bytes written under the guest's counter, so a mirror has data
/// to move.
pub const DATA_MIB: u64 = 8;

/// An rvirtd host whose `disks` directory is its own, seen at `seen`,
/// `extra` appended to its config.
fn start_rvirtd(lan_side: &NetNs, name: &str, seen: &Path, extra: &str) -> QemuHost {
    let dirs = QemuDirs::new();
    let own = dirs.path("disks");
    std::fs::create_dir_all(&own).expect("host disks directory");
    let binds = [(own, seen.to_path_buf())];
    let conf = format!("{}{extra}", dirs.conf());
    let host = Host::start_with_binds(Some(lan_side), name, &conf, &binds);
    QemuHost { host, dirs }
}

/// A host of `kind` whose `disks` directory is its own, seen at `seen`. A
/// libvirtd host gets a directory pool there: libvirt creates a missing
/// disk image of an incoming guest only through a storage pool
/// (`qemuMigrationDstPrecreateDisk`).
fn start_host(kind: HostKind, lan_side: &NetNs, name: &str, seen: &Path) -> Box<dyn MigrationHost> {
    match kind {
        HostKind::Rvirtd => Box::new(start_rvirtd(lan_side, name, seen, "")),
        HostKind::Libvirtd => {
            let host = LibvirtdHost::start_with_disks(lan_side, name, Some(seen));
            host.ok(&format!(
                "pool-create-as disks dir --target {}",
                seen.display()
            ));
            Box::new(host)
        }
    }
}

/// The two hosts and the running guest with its disk on A; dropped in
/// field order (guests killed, daemons stopped, then namespaces and files).
pub struct StorageSetup<A = QemuHost, B = QemuHost> {
    pub a: A,
    pub b: B,
    pub g: TestGuest,
    pub sum: String,
    /// The disk's path as both hosts see it.
    pub disk: PathBuf,
    _lan: Lan,
    _base: TempDir,
}

impl<A, B> StorageSetup<A, B> {
    /// `host`'s own file behind [`StorageSetup::disk`].
    pub fn image_on(&self, host: &dyn MigrationHost) -> PathBuf {
        host.disks_dir()
            .join(self.disk.file_name().expect("disk file name"))
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {cmd:?}: {e}"))
        .into()
}

fn qemu_img(args: &[&str]) -> Output {
    run(Command::new("qemu-img").args(args))
}

/// A qcow2 image of [`DISK_MIB`] with [`DATA_MIB`] of random bytes.
fn make_image(path: &Path) {
    let raw = path.with_extension("raw");
    let data = (0..DATA_MIB << 20).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8);
    std::fs::write(&raw, data.collect::<Vec<u8>>()).expect("write raw image");
    let size = format!("{DISK_MIB}M");
    let out = qemu_img(&["resize", "-f", "raw", &raw.to_string_lossy(), &size]);
    assert!(out.ok, "qemu-img resize: {}", out.stderr);
    let (from, to) = (raw.to_string_lossy(), path.to_string_lossy());
    let out = qemu_img(&["convert", "-f", "raw", "-O", "qcow2", &from, &to]);
    assert!(out.ok, "qemu-img convert: {}", out.stderr);
    let _ = std::fs::remove_file(&raw);
}

/// Two rvirtd hosts in network namespaces, each with its own `disks`,
/// and the test guest running on A with its disk counter on `vda`. `None`
/// where namespaces or `qemu-img` are missing.
pub fn storage_setup(tag: &str, args: &GuestArgs) -> Option<StorageSetup> {
    storage_setup_with(tag, args, "")
}

/// As [`storage_setup`], both daemons' configs with `extra` appended.
pub fn storage_setup_with(tag: &str, args: &GuestArgs, extra: &str) -> Option<StorageSetup> {
    storage_setup_bitmaps(tag, args, extra, &[])
}

/// As [`storage_setup_with`], the guest's image given persistent dirty
/// bitmaps before the guest starts: (name, recording).
pub fn storage_setup_bitmaps(
    tag: &str,
    args: &GuestArgs,
    extra: &str,
    bitmaps: &[(&str, bool)],
) -> Option<StorageSetup> {
    let lan = storage_lan()?;
    let base = TempDir::new(tag);
    let seen = disks_mount_point(&base);
    let a = start_rvirtd(&lan.a, "rvirt-qa", &seen, extra);
    let b = start_rvirtd(&lan.b, "rvirt-qb", &seen, extra);
    Some(start_guest(tag, args, (a, b), (lan, base), bitmaps))
}

/// As [`storage_setup`], the guest's disk a volume of a `dir` pool
/// `disks` each host runs over its own `disks` directory
/// (`<disk type='volume'>`): B's pool starts empty.
pub fn storage_setup_volume(tag: &str, args: &GuestArgs) -> Option<StorageSetup> {
    let lan = storage_lan()?;
    let base = TempDir::new(tag);
    let seen = disks_mount_point(&base);
    let a = start_rvirtd(&lan.a, "rvirt-qa", &seen, "");
    let b = start_rvirtd(&lan.b, "rvirt-qb", &seen, "");
    let pool = format!("pool-create-as disks dir --target {}", seen.display());
    b.ok(&pool);
    Some(start_guest_on(
        tag,
        args,
        (a, b),
        (lan, base),
        Some(&pool),
        &[],
    ))
}

/// As [`storage_setup`], host A of kind `a` and host B of kind `b`;
/// `None` also where stock libvirtd is missing.
pub fn storage_setup_kinds(
    tag: &str,
    args: &GuestArgs,
    kinds: (HostKind, HostKind),
) -> Option<StorageSetup<Box<dyn MigrationHost>, Box<dyn MigrationHost>>> {
    storage_setup_kinds_bitmaps(tag, args, kinds, &[])
}

/// As [`storage_setup_kinds`], the image given the dirty `bitmaps` of
/// [`storage_setup_bitmaps`].
pub fn storage_setup_kinds_bitmaps(
    tag: &str,
    args: &GuestArgs,
    (a, b): (HostKind, HostKind),
    bitmaps: &[(&str, bool)],
) -> Option<StorageSetup<Box<dyn MigrationHost>, Box<dyn MigrationHost>>> {
    let stock = [a, b].contains(&HostKind::Libvirtd);
    if stock && !LibvirtdHost::available() {
        return None;
    }
    let lan = storage_lan()?;
    let base = TempDir::new(tag);
    let seen = disks_mount_point(&base);
    let host_a = start_host(a, &lan.a, "rvirt-qa", &seen);
    let host_b = start_host(b, &lan.b, "rvirt-qb", &seen);
    Some(start_guest(
        tag,
        args,
        (host_a, host_b),
        (lan, base),
        bitmaps,
    ))
}

/// The LAN, if namespaces and `qemu-img` are there.
fn storage_lan() -> Option<Lan> {
    if Command::new("qemu-img").arg("--version").output().is_err() {
        eprintln!("qemu-img missing (qemu-utils): skipped");
        return None;
    }
    Lan::create()
}

/// The path at which each host sees its own `disks`.
fn disks_mount_point(base: &TempDir) -> PathBuf {
    let seen = base.join("disks");
    std::fs::create_dir_all(&seen).expect("disks mount point");
    seen
}

/// The guest, its disk image made on A (with `bitmaps`), defined and
/// started there.
fn start_guest<A: MigrationHost, B: MigrationHost>(
    tag: &str,
    args: &GuestArgs,
    hosts: (A, B),
    (lan, base): (Lan, TempDir),
    bitmaps: &[(&str, bool)],
) -> StorageSetup<A, B> {
    start_guest_on(tag, args, hosts, (lan, base), None, bitmaps)
}

/// As [`start_guest`]; with `pool` (the command making A's pool over its
/// `disks`, run once the image is there) the disk is that pool's volume.
fn start_guest_on<A: MigrationHost, B: MigrationHost>(
    tag: &str,
    args: &GuestArgs,
    (a, b): (A, B),
    (lan, base): (Lan, TempDir),
    pool: Option<&str>,
    bitmaps: &[(&str, bool)],
) -> StorageSetup<A, B> {
    let t0 = Instant::now();
    let disk = base.join("disks").join(format!("{tag}.qcow2"));
    let s = StorageSetup {
        g: TestGuest::new(&base, &format!("{tag}-guest"), args).0,
        a,
        b,
        sum: String::new(),
        disk,
        _lan: lan,
        _base: base,
    };
    make_image(&s.image_on(&s.a));
    for (name, recording) in bitmaps {
        add_bitmap(&s.image_on(&s.a), name, *recording);
    }
    let source = match pool {
        Some(cmd) => {
            s.a.ok(cmd);
            let name = s.disk.file_name().expect("disk file name").to_string_lossy();
            format!("<disk type='volume' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n      <source pool='disks' volume='{name}'/>")
        }
        None => format!(
            "<disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n      <source file='{}'/>",
            s.disk.display()
        ),
    };
    let xml = base_xml_with_disk(&s.g, &source);
    s.a.ok(&format!("define {}", xml.display()));
    s.a.ok(&format!("start {}", s.g.name));
    s.g.wait_for(0, 90, READY_MARKER, |t| {
        t.contains(READY_MARKER).then_some(())
    });
    let sum = s.g.sum_after(0);
    eprintln!("{:?}: guest ready on A", t0.elapsed());
    StorageSetup { sum, ..s }
}

/// The guest's XML (written by [`TestGuest::new`]) with its disk added:
/// `source`, the disk's opening up to its `<source>`.
fn base_xml_with_disk(g: &TestGuest, source: &str) -> PathBuf {
    let path = g.console.with_file_name(format!("{}.xml", g.name));
    let xml = std::fs::read_to_string(&path).expect("guest XML");
    let disk =
        format!("    {source}\n      <target dev='vda' bus='virtio'/>\n    </disk>\n  </devices>");
    std::fs::write(&path, xml.replace("  </devices>", &disk)).expect("write guest XML");
    path
}

/// The counter the guest last wrote to the qcow2 image at `image`
/// (read while QEMU may hold it: `-U`).
pub fn disk_counter(image: &Path) -> u64 {
    let first = image.with_extension("head");
    let _ = std::fs::remove_file(&first);
    let (i, o) = (
        format!("if={}", image.display()),
        format!("of={}", first.display()),
    );
    let out = qemu_img(&[
        "dd", "-U", "-f", "qcow2", "-O", "raw", "bs=512", "count=1", &i, &o,
    ]);
    assert!(out.ok, "qemu-img dd: {}", out.stderr);
    let head = std::fs::read(&first).unwrap_or_default();
    let _ = std::fs::remove_file(&first);
    let text = String::from_utf8_lossy(&head);
    text.strip_prefix("rvirt-disk ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Wait (up to 30 s) until the counter on `image` is above `above`.
pub fn disk_counter_above(image: &Path, above: u64) -> u64 {
    let start = Instant::now();
    loop {
        let now = disk_counter(image);
        if now > above {
            return now;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the disk counter on {} stays at {now}",
            image.display()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// `qemu-img compare`: whether the two images hold the same guest data.
pub fn images_identical(one: &Path, other: &Path) -> Output {
    let (x, y) = (one.to_string_lossy(), other.to_string_lossy());
    qemu_img(&["compare", "-U", &x, &y])
}

/// `qemu-img info`'s format and virtual size (bytes) of `image`.
pub fn image_format_and_size(image: &Path) -> (String, u64) {
    let out = qemu_img(&["info", "-U", &image.to_string_lossy()]);
    assert!(out.ok, "qemu-img info: {}", out.stderr);
    let value = |label: &str| {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    // "virtual size: 16 MiB (16777216 bytes)"
    let size = value("virtual size:");
    let bytes = size
        .split('(')
        .nth(1)
        .and_then(|b| b.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (value("file format:"), bytes)
}

/// One hop with its disks (`how`: `--copy-storage-all` or `-inc`, and any
/// other options), from `src` to `dst` of `s`: the guest arrives paused
/// (`--suspend`), the source QEMU is gone, both images are identical;
/// resumed, its ticks and its disk counter go on on `dst`, its memory
/// unchanged.
/// The source's completed job counts the disk copy (libvirt's mirror
/// stats: `File total` is the copied disks' size), when the source still
/// lists the guest.
fn check_disk_figures(src: &dyn MigrationHost, name: &str) {
    if !src.ok("list --all --name").lines().any(|n| n == name) {
        return;
    }
    let info = src.ok(&format!("domjobinfo {name} --completed --keep-completed"));
    let total = field(&info, "File total").unwrap_or_else(|| panic!("no disk figures:\n{info}"));
    assert!(!total.starts_with("0.000"), "{info}");
    eprintln!(
        "{} ({}): File total {total}",
        src.hostname(),
        src.kind().name()
    );
}

pub fn storage_hop<A, B>(
    s: &StorageSetup<A, B>,
    src: &dyn MigrationHost,
    dst: &dyn MigrationHost,
    how: &str,
) {
    let g = &s.g;
    let src_pid = src.qemu_pid(&g.name).expect("QEMU on the source");
    let counted = disk_counter(&s.image_on(src));
    let from = g.console_len();
    let ticked = guest::last_tick(&g.text()).unwrap_or(0);
    let started = Instant::now();
    let out = virsh_migrate(src, dst, &g.name, &format!("{how} --suspend"));
    check_migrated(src, dst, &out, started, how);
    assert!(!alive(src_pid), "the source QEMU {src_pid} still runs");
    assert_eq!(dst.ok(&format!("domstate {}", g.name)).trim(), "paused");
    let same = images_identical(&s.image_on(src), &s.image_on(dst));
    assert!(same.ok, "images differ: {}{}", same.stdout, same.stderr);
    let at_switch = disk_counter(&s.image_on(dst));
    assert!(at_switch >= counted, "{at_switch} < {counted}");
    check_completed(dst, &g.name);
    check_disk_figures(src, &g.name);
    dst.ok(&format!("resume {}", g.name));
    let moved = g.text_from(from);
    assert!(!moved.contains(READY_MARKER), "the guest booted again");
    g.tick_after(g.console_len(), guest::last_tick(&moved).unwrap_or(ticked));
    disk_counter_above(&s.image_on(dst), at_switch);
    assert_eq!(g.sum_after(g.console_len()), s.sum, "memory changed");
}

/// `qemu-img bitmap --add` (then `--enable` or `--disable`: qemu-img's
/// new bitmaps record): a persistent dirty bitmap in the qcow2 image at
/// `image`, not in use.
pub fn add_bitmap(image: &Path, name: &str, recording: bool) {
    let path = image.to_string_lossy();
    let state = if recording { "--enable" } else { "--disable" };
    let mut args = vec!["bitmap", "--add", state];
    args.extend([&*path, name]);
    let out = qemu_img(&args);
    assert!(out.ok, "qemu-img bitmap: {}", out.stderr);
}

/// The qcow2 image at `image` (not in use) becomes the backing file
/// `base.qcow2` beside it of a new overlay at `image`.
pub fn make_overlay(image: &Path) -> PathBuf {
    let base = image.with_file_name("base.qcow2");
    std::fs::rename(image, &base).expect("move the image to base.qcow2");
    let (b, top) = (base.to_string_lossy(), image.to_string_lossy());
    let out = qemu_img(&["create", "-q", "-f", "qcow2", "-b", &b, "-F", "qcow2", &top]);
    assert!(out.ok, "qemu-img create: {}", out.stderr);
    base
}

/// One dirty bitmap as QEMU or the image reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bitmap {
    pub name: String,
    pub recording: bool,
    pub persistent: bool,
}

fn bitmap_of(v: &serde_json::Value) -> Option<Bitmap> {
    let flag = |k: &str| v[k].as_bool().unwrap_or(false);
    // qemu-img reports the qcow2 flags ("auto": recording, stored).
    let flags = v["flags"].as_array();
    let has = |f: &str| flags.is_some_and(|l| l.iter().any(|x| x == f));
    Some(Bitmap {
        name: v["name"].as_str()?.to_string(),
        recording: flag("recording") || has("auto"),
        persistent: flag("persistent") || flags.is_some(),
    })
}

/// The dirty bitmaps the QEMU that `host` runs for guest `name` has on its
/// qcow2 nodes (QMP `query-named-block-nodes`), sorted by name.
pub fn live_bitmaps(host: &dyn MigrationHost, name: &str) -> Vec<Bitmap> {
    let query = r#"{"execute":"query-named-block-nodes","arguments":{"flat":true}}"#;
    let text = host.ok(&format!("qemu-monitor-command {name} '{query}'"));
    let reply: serde_json::Value = serde_json::from_str(&text).expect("QMP reply");
    let mut found: Vec<Bitmap> = (reply["return"].as_array().into_iter().flatten())
        .filter(|n| n["drv"] == "qcow2")
        .flat_map(|n| n["dirty-bitmaps"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| bitmap_of(&b))
        .collect();
    found.sort_by(|x, y| x.name.cmp(&y.name));
    found.dedup();
    found
}

/// The bitmaps stored in the qcow2 image at `image` (`qemu-img info`).
pub fn image_bitmaps(image: &Path) -> Vec<Bitmap> {
    let path = image.to_string_lossy();
    let out = qemu_img(&["info", "-U", "--output=json", &path]);
    assert!(out.ok, "qemu-img info: {}", out.stderr);
    let info: serde_json::Value = serde_json::from_str(&out.stdout).expect("qemu-img JSON");
    let list = info["format-specific"]["data"]["bitmaps"]
        .as_array()
        .cloned();
    let mut found: Vec<Bitmap> = list
        .into_iter()
        .flatten()
        .filter_map(|b| bitmap_of(&b))
        .collect();
    found.sort_by(|x, y| x.name.cmp(&y.name));
    found
}

/// Wait until B runs the incoming QEMU and A's job is under way, then a
/// little longer (A's monitor is the job's until it ends): the disk copy
/// runs, no memory has moved yet.
pub fn wait_mirroring(a: &dyn MigrationHost, b: &dyn MigrationHost, g: &TestGuest) {
    let start = Instant::now();
    loop {
        let info = a.ok(&format!("domjobinfo {}", g.name));
        let unbounded = field(&info, "Job type") == Some("Unbounded");
        if unbounded && b.qemu_pid(&g.name).is_some() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no job: {info}");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    let info = a.ok(&format!("domjobinfo {}", g.name));
    let memory = field(&info, "Memory processed").unwrap_or("0.000");
    assert!(memory.starts_with("0.000"), "memory moving already: {info}");
    // The mirrors' progress is the job's disk part (libvirt's mirror stats).
    let disks = field(&info, "File total").unwrap_or("0.000");
    assert!(!disks.starts_with("0.000"), "no disk progress: {info}");
}
