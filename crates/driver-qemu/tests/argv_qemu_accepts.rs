//! The installed QEMU accepts the command line rvirt builds: a BIOS guest
//! with a raw virtio disk (no qemu-img needed), a cdrom, user networking, a guest-agent channel,
//! a tablet, video, RNG and balloon starts paused (`-S`), answers on its
//! QMP socket, runs its RAM in libvirt's `pc.ram` backend and shows the
//! PCI slots libvirt would assign. Nothing boots; the process is ended by
//! its PID.

use rvirt_conf::domain::DomainDef;
use rvirt_driver_qemu::caps_model::{machines_from_help, Accel, QemuCaps};
use rvirt_driver_qemu::command::{build, write_master_key, RunContext};
use rvirt_testkit::dirs::TempDir;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const QEMU: &str = "/usr/bin/qemu-system-x86_64";

/// tests/argv/accept.xml.in with its files in `dir`.
fn guest_xml(dir: &Path) -> String {
    include_str!("argv/accept.xml.in").replace("@DIR@", &dir.to_string_lossy())
}

/// One QMP exchange per line; events are skipped.
struct Qmp(BufReader<UnixStream>);

impl Qmp {
    fn command(&mut self, cmd: &str) -> serde_json::Value {
        writeln!(self.0.get_mut(), "{cmd}").unwrap();
        loop {
            let mut line = String::new();
            self.0.read_line(&mut line).unwrap();
            let reply: serde_json::Value = serde_json::from_str(&line).unwrap();
            if reply.get("event").is_none() {
                return reply;
            }
        }
    }
}

fn connect(socket: &Path, qemu: &mut Child) -> Qmp {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if let Ok(Some(status)) = qemu.try_wait() {
            panic!("QEMU exited: {status}");
        }
        if let Ok(stream) = UnixStream::connect(socket) {
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            let mut qmp = Qmp(BufReader::new(stream));
            let mut greeting = String::new();
            qmp.0.read_line(&mut greeting).unwrap();
            assert!(greeting.contains("QMP"), "{greeting}");
            return qmp;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no QMP socket at {}", socket.display());
}

fn prepare_files(dir: &Path) {
    std::fs::write(dir.join("disk.img"), vec![0u8; 1 << 20]).unwrap();
    std::fs::write(dir.join("empty.iso"), vec![0u8; 1 << 20]).unwrap();
}

#[test]
fn qemu_starts_paused_with_libvirts_device_tree() {
    if !Path::new(QEMU).exists() {
        eprintln!("{QEMU} not installed: skipping");
        return;
    }
    let tmp = TempDir::new("argv-qemu");
    prepare_files(tmp.path());
    let lib_dir = tmp.path().join("qemu/domain-1-accept");
    std::fs::create_dir_all(&lib_dir).unwrap();
    std::fs::create_dir_all(tmp.path().join("qemu/channel/target/domain-1-accept")).unwrap();
    let ctx = RunContext {
        accel: Accel::Tcg,
        monitor_socket: lib_dir.join("monitor.sock"),
        lib_dir,
        domain_id: 1,
        incoming: None,
        tap_fds: Default::default(),
    };
    let help = Command::new(QEMU)
        .args(["-machine", "help"])
        .output()
        .unwrap();
    let caps = QemuCaps {
        binary: PathBuf::from(QEMU),
        machines: machines_from_help(&String::from_utf8_lossy(&help.stdout)),
        ..QemuCaps::default()
    };
    let def = DomainDef::parse(&guest_xml(tmp.path())).unwrap();
    let cmd = build(&def, &caps, &ctx).unwrap();
    write_master_key(&ctx).unwrap();
    let mut qemu = Command::new(&cmd.program)
        .args(&cmd.args)
        .env_clear()
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(tmp.path().join("qemu.log")).unwrap())
        .spawn()
        .unwrap();
    let mut qmp = connect(&ctx.monitor_socket, &mut qemu);
    qmp.command(r#"{"execute":"qmp_capabilities"}"#);
    let status = qmp.command(r#"{"execute":"query-status"}"#);
    assert_eq!(status["return"]["status"], "prelaunch", "{status}");
    let ram = qmp.command(
        r#"{"execute":"qom-get","arguments":{"path":"/objects/pc.ram","property":"size"}}"#,
    );
    assert_eq!(ram["return"], 64 << 20, "{ram}");
    let pci = qmp.command(r#"{"execute":"query-pci"}"#);
    let slots: Vec<(u64, String)> = pci["return"][0]["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["function"] == 0)
        .map(|d| {
            (
                d["slot"].as_u64().unwrap(),
                d["qdev_id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    // libvirt's i440fx layout: video 2, NIC 3, virtio-serial 4, disk 5,
    // balloon 6, RNG 7.
    let ids: Vec<(u64, &str)> = slots.iter().map(|(s, id)| (*s, id.as_str())).collect();
    for expected in [
        (2, "video0"),
        (3, "net0"),
        (4, "virtio-serial0"),
        (5, "virtio-disk0"),
        (6, "balloon0"),
        (7, "rng0"),
    ] {
        assert!(ids.contains(&expected), "{expected:?} not in {ids:?}");
    }
    eprintln!("PCI function-0 devices: {ids:?}");
    qmp.command(r#"{"execute":"quit"}"#);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && matches!(qemu.try_wait(), Ok(None)) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = qemu.kill();
    let _ = qemu.wait();
}
