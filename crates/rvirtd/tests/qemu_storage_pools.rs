//! The host storage driver behind `qemu:///system`: the same pool-* and
//! vol-* command sequence through stock virsh against rvirtd and against
//! a stock libvirtd's own storage driver (private mount namespace, its
//! pools in a scratch directory of the test), output compared with the
//! pool directory, uuids, times and file-system figures masked; volume
//! data through vol-upload/vol-download on both; definitions, autostart
//! and volumes kept across an rvirtd restart; and a guest whose disk is
//! a pool volume (`<disk type='volume'>`) started under rvirtd.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::dirs::TempDir;
use rvirt_testkit::libvirtd_qemu::QemuLibvirtd;
use rvirt_testkit::qemu_dirs::{test_image, QemuDirs};
use rvirt_testkit::tools::{
    have_virsh, rvirsh, three_way_differences, virsh, virsh_ok, Normalise, Output,
};

/// rvirtd's storage directories under `dir`.
fn storage_conf(dir: &TempDir) -> String {
    format!(
        "storage_config_dir = \"{}\"\nstorage_state_dir = \"{}\"\n",
        dir.join("etc-storage").display(),
        dir.join("run-storage").display()
    )
}

fn rvirtd(qemu: &QemuDirs, storage: &TempDir) -> (Daemon, String) {
    let daemon = Daemon::rvirtd(&format!("{}{}", qemu.conf(), storage_conf(storage)));
    let uri = format!("qemu+unix:///system?socket={}", daemon.socket().display());
    (daemon, uri)
}

/// The sequence, `{P}` the pool's directory and `{X}` a scratch
/// directory for XML files (the same files on both daemons).
const CASES: &[&str] = &[
    "pool-define-as st dir --target {P}",
    "pool-list --all",
    "pool-start st",
    "pool-build st",
    "pool-start st",
    "pool-start st",
    "pool-info st",
    "pool-dumpxml st",
    "pool-autostart st",
    "pool-list --all --autostart",
    "pool-define-as st2 dir --target {P}",
    "pool-create-as bad dir --target {P}/missing",
    "vol-create-as st a.img 4M",
    "vol-create-as st a.img 4M",
    "vol-create-as st b.qcow2 8M --format qcow2",
    "vol-create-as st c.img 1M --allocation 0",
    "vol-create-as st d.qcow2 1M --format qcow2 --prealloc-metadata",
    "vol-create-as st e.img 1M --prealloc-metadata",
    "vol-create-as st f.vmdk 1M --format vmdk",
    "vol-create-as st g/h 1M",
    "vol-create-as st big 1M --format bogus",
    "vol-list st",
    "vol-list st --details",
    "vol-info a.img --pool st",
    "vol-info b.qcow2 --pool st",
    "vol-dumpxml a.img --pool st",
    "vol-dumpxml b.qcow2 --pool st",
    "vol-path c.img --pool st",
    "vol-key c.img --pool st",
    "vol-name {P}/c.img",
    "vol-pool {P}/c.img",
    "vol-info {P}//c.img",
    "vol-info {P}/nope",
    "vol-info nope --pool st",
    "vol-clone a.img a2.img --pool st",
    "vol-clone b.qcow2 b2.qcow2 --pool st",
    "vol-create-from st {X}/clone.xml b.qcow2 --inputpool st",
    "vol-create-from st {X}/clone.xml b.qcow2 --inputpool st",
    "vol-dumpxml b3.img --pool st",
    "vol-resize b.qcow2 16M --pool st",
    "vol-resize b.qcow2 1M --pool st",
    "vol-resize b.qcow2 1M --pool st --shrink",
    "vol-resize a.img 1M --pool st --shrink",
    "vol-resize c.img 2M --pool st",
    "vol-resize c.img 1M --pool st --delta",
    "vol-resize c.img 3M --pool st --allocate",
    "vol-resize b.qcow2 32M --pool st --allocate",
    "vol-info c.img --pool st",
    "vol-wipe a.img --pool st",
    "vol-wipe a.img --pool st --algorithm nnsa",
    "vol-wipe a.img --pool st --algorithm trim",
    "vol-create st {X}/bad.xml",
    "vol-create st {X}/nocap.xml",
    "pool-define {X}/badpool.xml",
    "vol-delete a2.img --pool st",
    "vol-delete a2.img --pool st",
    "pool-refresh st",
    "vol-list st --details",
    "vol-dumpxml b.qcow2 --pool st",
    "pool-delete st",
    "pool-undefine st",
    "pool-destroy st",
    "vol-list st",
    "pool-info st",
    "pool-start st",
    "vol-list st",
    "pool-destroy st",
    "pool-autostart st --disable",
    "pool-undefine st",
    "pool-list --all",
    "pool-info st",
];

const XML_FILES: &[(&str, &str)] = &[
    (
        "clone.xml",
        "<volume><name>b3.img</name><capacity>0</capacity><target><format type='raw'/></target></volume>",
    ),
    ("bad.xml", "<volume><name>x</name><capacity>1"),
    ("nocap.xml", "<volume><name>y</name></volume>"),
    ("badpool.xml", "<pool type='dir'><name>p</name></pool>"),
];

/// Masks for what differs between the two daemons legitimately.
fn rules(pool_dir: &str) -> Vec<Normalise> {
    vec![
        Normalise::Value(pool_dir.to_string(), "pooldir"),
        Normalise::Uuid,
        Normalise::XmlText("atime"),
        Normalise::XmlText("mtime"),
        Normalise::XmlText("ctime"),
        Normalise::LargeBytes,
        Normalise::Field("Capacity"),
        Normalise::Field("Allocation"),
        Normalise::Field("Available"),
    ]
}

/// The sequence through `shell` on `uri` with its pool in `pool_dir`:
/// each command's output, masked.
fn run_sequence(
    shell: fn(&str, &str) -> Output,
    uri: &str,
    pool_dir: &str,
    xml_dir: &str,
) -> Vec<(String, Output)> {
    let masks = rules(pool_dir);
    CASES
        .iter()
        .map(|c| {
            let cmd = c.replace("{P}", pool_dir).replace("{X}", xml_dir);
            let out = shell(uri, &cmd);
            (cmd.replace(pool_dir, "<pooldir>"), out.normalised(&masks))
        })
        .collect()
}

#[test]
fn pool_and_volume_commands_print_what_libvirtd_prints() {
    if !have_virsh() {
        return;
    }
    let Some(stock) = QemuLibvirtd::start() else {
        return;
    };
    let scratch = TempDir::new("storage-compare");
    for (name, text) in XML_FILES {
        scratch.write(name, text);
    }
    let xml_dir = scratch.path().display().to_string();
    let qemu = QemuDirs::new();
    let (daemon, uri) = rvirtd(&qemu, &scratch);
    let dir = |tag: &str| scratch.join(tag).display().to_string();
    let want = run_sequence(virsh, &stock.uri(), &dir("pool-lv"), &xml_dir);
    let got = run_sequence(virsh, &uri, &dir("pool-rv"), &xml_dir);
    // rvirsh prints what virsh prints, on rvirtd's host pools too.
    let own = run_sequence(rvirsh, &uri, &dir("pool-rs"), &xml_dir);
    // The reference really ran: volumes were made, errors were errors.
    let oks = want.iter().filter(|(_, o)| o.ok).count();
    let listing = &want
        .iter()
        .find(|(c, _)| c == "vol-list st --details")
        .unwrap()
        .1;
    assert!(
        listing.stdout.contains("b3.img") && listing.stdout.contains("qcow2") || listing.ok,
        "{listing:?}"
    );
    assert!(listing.stdout.contains("b.qcow2"), "{listing:?}");
    assert!(
        (35..CASES.len() - 10).contains(&oks),
        "{oks} of {} succeeded: {want:#?}",
        CASES.len()
    );
    eprintln!(
        "{oks} of {} commands succeeded on both daemons alike",
        CASES.len()
    );
    let failures = three_way_differences(&want, &got, &own);
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}\n--- rvirtd log:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n"),
        daemon.log()
    );
}

/// Upload a file into a fresh 256 KiB volume and download it back, whole
/// and in part; what came back.
fn round_trip(uri: &str, dir: &TempDir, tag: &str) -> Vec<u8> {
    let pool = dir.join(format!("pool-{tag}"));
    let (input, output) = (dir.join("input.bin"), dir.join(format!("out-{tag}")));
    virsh_ok(
        uri,
        &format!(
            "pool-create-as {tag} dir --target {} --build; vol-create-as {tag} v 256K --format raw",
            pool.display()
        ),
    );
    virsh_ok(
        uri,
        &format!("vol-upload v {} --pool {tag}", input.display()),
    );
    virsh_ok(
        uri,
        &format!("vol-download v {} --pool {tag}", output.display()),
    );
    virsh_ok(
        uri,
        &format!(
            "vol-download v {}.part --pool {tag} --offset 1000 --length 10",
            output.display()
        ),
    );
    let info = virsh_ok(uri, &format!("vol-info v --pool {tag}"));
    assert!(info.contains("256.00 KiB"), "{info}");
    virsh_ok(
        uri,
        &format!("vol-delete v --pool {tag}; pool-destroy {tag}"),
    );
    let mut got = std::fs::read(&output).unwrap();
    got.extend(std::fs::read(format!("{}.part", output.display())).unwrap());
    got
}

#[test]
fn volume_data_round_trips_as_through_libvirtd() {
    if !have_virsh() {
        return;
    }
    let dir = TempDir::new("storage-streams");
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    dir.write("input.bin", &data);
    let qemu = QemuDirs::new();
    let (_daemon, uri) = rvirtd(&qemu, &dir);
    let got = round_trip(&uri, &dir, "rv");
    assert_eq!(&got[..data.len()], &data[..]);
    assert_eq!(got.len(), 256 * 1024 + 10);
    assert_eq!(&got[256 * 1024..], &data[1000..1010]);
    if let Some(stock) = QemuLibvirtd::start() {
        assert_eq!(round_trip(&stock.uri(), &dir, "lv"), got);
    }
}

#[test]
fn pools_and_volumes_survive_an_rvirtd_restart() {
    if !have_virsh() {
        return;
    }
    let dir = TempDir::new("storage-restart");
    let qemu = QemuDirs::new();
    let pool = dir.join("pool");
    let transient = dir.join("transient");
    std::fs::create_dir(&transient).unwrap();
    {
        let (_daemon, uri) = rvirtd(&qemu, &dir);
        virsh_ok(
            &uri,
            &format!(
                "pool-define-as keep dir --target {}; pool-build keep; pool-start keep; \
                 pool-autostart keep; vol-create-as keep v.qcow2 2M --format qcow2; \
                 pool-define-as idle dir --target {}/idle; \
                 pool-create-as gone dir --target {}",
                pool.display(),
                dir.path().display(),
                transient.display()
            ),
        );
    }
    assert!(dir.join("etc-storage/keep.xml").exists());
    assert!(dir.join("etc-storage/autostart/keep.xml").exists());
    let (daemon, uri) = rvirtd(&qemu, &dir);
    let list = virsh_ok(&uri, "pool-list --all --autostart");
    assert!(list.contains(" keep ") && list.contains("active"), "{list}");
    let all = virsh_ok(&uri, "pool-list --all");
    // libvirt's start-up: a transient pool whose directory is there runs
    // on from its state file; a defined pool whose directory is missing
    // stays inactive.
    assert!(
        all.contains("gone") && all.contains("idle"),
        "{all}\n{}",
        daemon.log()
    );
    let vols = virsh_ok(&uri, "vol-list keep --details");
    assert!(
        vols.contains("v.qcow2") && vols.contains("2.00 MiB"),
        "{vols}"
    );
    let info = virsh_ok(&uri, "vol-dumpxml v.qcow2 --pool keep");
    assert!(info.contains("<format type='qcow2'/>"), "{info}");
}

#[test]
fn guest_with_a_pool_volume_disk_starts() {
    if !have_virsh() {
        return;
    }
    let dir = TempDir::new("storage-guest");
    let qemu = QemuDirs::new();
    let (_daemon, uri) = rvirtd(&qemu, &dir);
    let pool = dir.join("gp");
    virsh_ok(
        &uri,
        &format!(
            "pool-define-as gp dir --target {}; pool-build gp; pool-start gp; \
             vol-create-as gp d.qcow2 8M --format qcow2",
            pool.display()
        ),
    );
    let disk = "    <disk type='volume' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n      \
                <source pool='gp' volume='d.qcow2'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n";
    let xml = qemu.write_guest("vg", &test_image(), disk);
    virsh_ok(&uri, &format!("define {}", xml.display()));
    virsh_ok(&uri, "start vg");
    qemu.wait_ready("vg");
    let blk = virsh_ok(&uri, "domblklist vg");
    let row = blk.lines().find(|l| l.trim_start().starts_with("vda"));
    assert!(row.is_some_and(|r| r.contains("d.qcow2")), "{blk}");
    let live = virsh_ok(&uri, "dumpxml vg");
    assert!(
        live.contains("<source pool='gp' volume='d.qcow2'"),
        "{live}"
    );
    let pid = qemu.pid_of("vg").expect("QEMU pid");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let path = pool.join("d.qcow2").display().to_string();
    assert!(
        String::from_utf8_lossy(&cmdline).contains(&path),
        "QEMU does not open {path}"
    );
    virsh_ok(&uri, "destroy vg; pool-destroy gp");
    let refused = virsh(&uri, "start vg");
    assert!(
        refused.stderr.contains(
            "unsupported configuration: storage pool 'gp' containing volume 'd.qcow2' is not active"
        ),
        "{refused:?}"
    );
    // virsh removes the guest's volumes through the storage API.
    virsh_ok(&uri, "pool-start gp; undefine vg --remove-all-storage");
    assert!(!pool.join("d.qcow2").exists(), "the volume is still there");
    assert!(!virsh_ok(&uri, "vol-list gp").contains("d.qcow2"));
}

/// A loop device over an ext4 image file, detached when dropped.
struct LoopDevice(String);

impl LoopDevice {
    fn over_ext4(image: &std::path::Path) -> Option<LoopDevice> {
        std::fs::File::create(image)
            .and_then(|f| f.set_len(64 << 20))
            .ok()?;
        let mkfs = std::process::Command::new("mkfs.ext4")
            .args(["-q", "-F"])
            .arg(image)
            .status()
            .ok()?;
        let out = std::process::Command::new("losetup")
            .args(["--find", "--show"])
            .arg(image)
            .output()
            .ok()?;
        let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (mkfs.success() && out.status.success() && !dev.is_empty()).then_some(LoopDevice(dev))
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = std::process::Command::new("losetup")
            .args(["-d", &self.0])
            .status();
    }
}

fn mounted_at(target: &std::path::Path) -> bool {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let target = target.display().to_string();
    mounts
        .lines()
        .any(|l| l.split(' ').nth(1) == Some(target.as_str()))
}

#[test]
fn fs_pool_mounts_its_device() {
    if !have_virsh() {
        return;
    }
    let dir = TempDir::new("storage-fs");
    let Some(dev) = LoopDevice::over_ext4(&dir.join("fs.img")) else {
        eprintln!("no loop device or mkfs.ext4: skipping");
        return;
    };
    let qemu = QemuDirs::new();
    let (daemon, uri) = rvirtd(&qemu, &dir);
    let target = dir.join("mnt");
    virsh_ok(
        &uri,
        &format!(
            "pool-define-as fsp fs --source-dev {} --source-format ext4 --target {}; pool-build fsp",
            dev.0,
            target.display()
        ),
    );
    let refused = virsh(&uri, "pool-build fsp --no-overwrite");
    assert!(
        refused.stderr.contains(&format!(
            "Storage pool already built: Device '{}' already formatted using 'ext4'",
            dev.0
        )),
        "{refused:?}"
    );
    virsh_ok(&uri, "pool-start fsp");
    assert!(mounted_at(&target), "{}", daemon.log());
    virsh_ok(&uri, "vol-create-as fsp v.qcow2 4M --format qcow2");
    let vols = virsh_ok(&uri, "vol-list fsp");
    // ext4's lost+found is a directory volume, as libvirt lists it.
    assert!(
        vols.contains("v.qcow2") && vols.contains("lost+found"),
        "{vols}"
    );
    let info = virsh_ok(&uri, "pool-info fsp");
    assert!(info.contains("running"), "{info}");
    virsh_ok(&uri, "pool-destroy fsp");
    assert!(!mounted_at(&target));
    virsh_ok(&uri, "pool-start fsp");
    let vols = virsh_ok(&uri, "vol-list fsp");
    assert!(
        vols.contains("v.qcow2"),
        "the volume lives on the device: {vols}"
    );
    virsh_ok(&uri, "pool-destroy fsp; pool-undefine fsp");
    assert!(!mounted_at(&target));
}

/// `--copy-storage-all` of a guest whose disk is a pool volume: the
/// destination's pool gets the volume (libvirt's
/// qemuMigrationDstPrecreateDisk through the storage driver), the data
/// follows, and the guest runs on there with its volume disk.
#[test]
fn copy_storage_migration_creates_the_volume_in_the_destination_pool() {
    use rvirt_testkit::guest::GuestArgs;
    use rvirt_testkit::qemu_storage::{
        disk_counter_above, storage_hop, storage_setup_volume, DISK_MIB,
    };
    let args = GuestArgs {
        fill_mib: 8,
        sum_seconds: Some(2),
        disk: Some("vda".into()),
        ..GuestArgs::default()
    };
    let Some(s) = storage_setup_volume("qvol", &args) else {
        return;
    };
    let (a, b) = (&s.a, &s.b);
    disk_counter_above(&s.image_on(a), 0);
    assert!(
        b.ok("vol-list disks").lines().count() <= 3,
        "B's pool starts empty"
    );
    storage_hop(&s, a, b, "--copy-storage-all");
    let vols = b.ok("vol-list disks --details");
    assert!(vols.contains("qvol.qcow2"), "{vols}");
    let info = b.ok("vol-info qvol.qcow2 --pool disks");
    assert!(info.contains(&format!("{DISK_MIB}.00 MiB")), "{info}");
    let live = b.ok(&format!("dumpxml {}", s.g.name));
    assert!(
        live.contains("<source pool='disks' volume='qvol.qcow2'"),
        "{live}"
    );
}

/// python3-libvirt on qemu:///system: the host storage driver's calls,
/// errors (codes, domains, texts) and pool lifecycle and refresh events,
/// as libvirtd's own storage driver gives them.
#[test]
fn python_sees_what_it_sees_with_libvirtd() {
    use rvirt_testkit::tools::{assert_python_transcripts_agree, python_libvirt_ready};
    if !python_libvirt_ready() {
        return;
    }
    let Some(stock) = QemuLibvirtd::start() else {
        return;
    };
    let dir = TempDir::new("storage-python");
    let qemu = QemuDirs::new();
    let (daemon, uri) = rvirtd(&qemu, &dir);
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/host_storage.py");
    let want = assert_python_transcripts_agree(
        &script.display().to_string(),
        &stock.uri(),
        &[uri],
        &|| daemon.log(),
    );
    assert!(want.contains("event ('all', 'hp', 2, 0)"), "{want}");
}
