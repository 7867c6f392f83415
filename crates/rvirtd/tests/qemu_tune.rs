//! Resource tunables of a QEMU guest under rvirtd and under a private
//! stock libvirtd 9.0 with its QEMU driver, on this hybrid cgroup host:
//! the same `<cputune>` (shares, bandwidth at every level, vCPU,
//! emulator and IOThread pinning), `<memtune>`, `<blkiotune>` device throttles and a
//! strict `<numatune>` give the same cgroup files and thread affinities,
//! and stock virsh's schedinfo, memtune, blkiotune, numatune, vcpupin,
//! emulatorpin, iothreadinfo, iothreadpin, iothreadadd and iothreaddel
//! print the same (output or error) before and after a set of
//! `--live` changes. The guest runs on one daemon at a time, so both use
//! the same group name without sharing it.

use rvirt_testkit::cgroups::{
    affinity, hybrid_host, qemu_with, v1_files, vcpu_threads, wait_removed,
};
use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::libvirtd_qemu::QemuLibvirtd;
use rvirt_testkit::qemu_dirs::{test_image as image, QemuDirs};
use rvirt_testkit::tools::{rvirsh, virsh};

const NAME: &str = "tune";
/// The same UUID on both daemons (their dumpxml is compared).
const UUID: &str = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b";
/// A block device every host of ours has; its throttles are harmless.
const BLOCK_DEVICE: &str = "/dev/loop7";

/// The tunables, for a 2-vCPU guest on a 2-CPU, one-node host.
fn tunables() -> String {
    format!(
        "<vcpu placement='static'>2</vcpu>\n  <iothreads>1</iothreads>\n  <cputune>\n    <shares>512</shares>\n    \
         <vcpupin vcpu='0' cpuset='1'/>\n    <vcpupin vcpu='1' cpuset='0-1'/>\n    \
         <emulatorpin cpuset='0'/>\n    <period>100000</period>\n    <quota>50000</quota>\n    \
         <global_period>100000</global_period>\n    <global_quota>150000</global_quota>\n    \
         <emulator_period>100000</emulator_period>\n    <emulator_quota>40000</emulator_quota>\n    \
         <iothreadpin iothread='1' cpuset='1'/>\n    \
         <iothread_period>100000</iothread_period>\n    <iothread_quota>30000</iothread_quota>\n  \
         </cputune>\n  <memtune>\n    <soft_limit unit='KiB'>262144</soft_limit>\n  \
         </memtune>\n  \
         <blkiotune>\n    <device>\n      <path>{BLOCK_DEVICE}</path>\n      \
         <read_iops_sec>1000</read_iops_sec>\n      <write_bytes_sec>1048576</write_bytes_sec>\n    \
         </device>\n  </blkiotune>\n  <numatune>\n    <memory mode='strict' nodeset='0'/>\n  \
         </numatune>"
    )
}

/// The queries compared, before and after the live changes.
const QUERIES: &[&str] = &[
    "schedinfo tune",
    "schedinfo tune --config",
    "memtune tune",
    "memtune tune --config",
    "blkiotune tune",
    "blkiotune tune --config",
    "numatune tune",
    "vcpupin tune",
    "vcpupin tune --config",
    "emulatorpin tune",
    "iothreadinfo tune",
    "iothreadinfo tune --config",
];

/// The live changes, each compared by its own output or error.
const CHANGES: &[&str] = &[
    "schedinfo tune --live cpu_shares=1024 vcpu_quota=60000 emulator_period=50000 global_quota=-1",
    "schedinfo tune --live vcpu_period=10",
    "memtune tune --live --hard-limit 600000 --soft-limit 300000 --swap-hard-limit 1200000",
    "memtune tune --live --hard-limit 2000000",
    "blkiotune tune --live --device-read-iops-sec /dev/loop7,2000",
    "blkiotune tune --live --weight 300",
    "numatune tune --live --nodeset 0",
    "numatune tune --live --mode interleave",
    "vcpupin tune --live 0 0",
    "vcpupin tune --live 1 1",
    "emulatorpin tune --live 1",
    "emulatorpin tune --live 0-1 --config",
    "schedinfo tune --live iothread_quota=20000 iothread_period=50000",
    "iothreadpin tune 1 0 --live",
    "iothreadpin tune 1 0-1 --config",
    "iothreadpin tune 5 0 --live",
    "iothreadpin tune 5 0 --config",
    "iothreadadd tune 4 --live",
    "iothreadadd tune 4 --live",
    "iothreadadd tune 6 --config",
    "iothreaddel tune 1 --live",
    "iothreaddel tune 9 --live",
    "iothreaddel tune 9 --config",
];

/// What one daemon's guest looked like: each command's output (or
/// error) and the cgroup files and affinities after each stage.
fn transcript(uri: &str, pid_of: &dyn Fn() -> i32) -> String {
    let mut out = String::new();
    let run = |out: &mut String, cmd: &str| {
        let r = virsh(uri, cmd);
        let text = if r.ok {
            r.stdout
        } else {
            format!("error: {}", r.stderr)
        };
        out.push_str(&format!("$ virsh {cmd}\n{text}\n"));
    };
    let id = virsh(uri, &format!("domid {NAME}"))
        .stdout
        .trim()
        .to_string();
    let rel = format!("/machine/qemu-{id}-{NAME}.libvirt-qemu");
    let pid = pid_of();
    for cmd in QUERIES {
        run(&mut out, cmd);
    }
    out.push_str(&snapshot(&rel, pid));
    for cmd in CHANGES {
        run(&mut out, cmd);
    }
    for cmd in QUERIES {
        run(&mut out, cmd);
    }
    out.push_str(&snapshot(&rel, pid));
    out.push_str(&virsh(uri, &format!("dumpxml {NAME} --inactive")).stdout);
    out.replace(&rel, "GROUP")
}

/// The tunable files of the guest's groups and the threads' affinities.
fn snapshot(rel: &str, pid: i32) -> String {
    let mut out = String::new();
    let cpu = ["cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us"];
    let cpuset = ["cpuset.cpus", "cpuset.mems"];
    for sub in ["", "/emulator", "/vcpu0", "/vcpu1", "/iothread1"] {
        let group = format!("{rel}{sub}");
        out.push_str(&v1_files("cpu", &group, &cpu));
        out.push_str(&v1_files("cpuset", &group, &cpuset));
    }
    let memory = [
        "memory.limit_in_bytes",
        "memory.soft_limit_in_bytes",
        "memory.memsw.limit_in_bytes",
    ];
    out.push_str(&v1_files("memory", rel, &memory));
    let blkio = [
        "blkio.throttle.read_iops_device",
        "blkio.throttle.write_bps_device",
    ];
    out.push_str(&v1_files("blkio", rel, &blkio));
    out.push_str(&format!("main thread affinity {}\n", affinity(pid)));
    for (index, tid) in vcpu_threads(pid) {
        out.push_str(&format!("vCPU {index} affinity {}\n", affinity(tid)));
    }
    for (name, tid) in io_threads(pid) {
        out.push_str(&format!("{name} affinity {}\n", affinity(tid)));
    }
    out
}

/// QEMU's IOThreads (threads named `IO iothreadN`): (name, thread id).
fn io_threads(pid: i32) -> Vec<(String, i32)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut found: Vec<(String, i32)> = tasks
        .flatten()
        .filter_map(|t| {
            let tid = t.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(t.path().join("comm")).ok()?;
            let name = comm.trim().strip_prefix("IO ")?.to_string();
            Some((name, tid))
        })
        .collect();
    found.sort();
    found
}

/// python3-libvirt's tunable events (VIR_DOMAIN_EVENT_ID_TUNABLE) while
/// stock virsh makes live changes: (field, value) per event, in order.
const EVENTS_PY: &str = r#"
import libvirt, subprocess, sys, threading, time
libvirt.virEventRegisterDefaultImpl()
uri = sys.argv[1]
conn = libvirt.open(uri)
got = []
def cb(conn, dom, params, opaque):
    got.append(sorted(params.items()))
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_TUNABLE, cb, None)
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
for cmd in sys.argv[2:]:
    subprocess.run(["virsh", "-c", uri] + cmd.split(), capture_output=True)
deadline = time.time() + 5
while len(got) < 3 and time.time() < deadline:
    time.sleep(0.1)
time.sleep(0.5)  # and any event past the three expected
for event in got:
    print(event)
"#;

fn tunable_events(uri: &str) -> String {
    let changes = [
        "schedinfo tune --live cpu_shares=700 emulator_quota=30000",
        "vcpupin tune --live 1 0",
        "emulatorpin tune --live 1",
        "memtune tune --live --soft-limit 320000",
        "schedinfo tune --config cpu_shares=800",
    ];
    let mut args = vec!["-c", EVENTS_PY, uri];
    args.extend(changes);
    let out = rvirt_testkit::tools::python3(args);
    assert!(out.ok, "python3: {}", out.stderr);
    out.stdout
}

/// rvirsh (through the remote driver) prints what stock virsh prints
/// for the queries and a live change and its errors.
fn rvirsh_agrees(uri: &str) {
    let changes = [
        "schedinfo tune --live cpu_shares=2048",
        "schedinfo tune --live vcpu_period=10",
        "memtune tune --live --soft-limit 310000",
        "memtune tune --live --hard-limit 2000000",
        "blkiotune tune --live --weight 300",
        "numatune tune --live --mode interleave",
        "vcpupin tune 1 0",
        "vcpupin tune 5 0",
        "emulatorpin tune 0",
        "emulatorpin tune 7",
        "iothreadpin tune 1 0 --live",
        "iothreadpin tune 5 0 --live",
    ];
    for cmd in changes.iter().chain(QUERIES) {
        let (v, r) = (virsh(uri, cmd), rvirsh(uri, cmd));
        assert_eq!(
            (v.ok, &v.stdout, &v.stderr),
            (r.ok, &r.stdout, &r.stderr),
            "{cmd}: virsh, then rvirsh"
        );
    }
}

/// The NUMA policies of a QEMU started with interleaved memory, as its
/// /proc/PID/numa_maps shows them: the RAM backend's (host-nodes) and the
/// process's own, which libvirt sets before exec (virNumaSetupMemoryPolicy).
fn numa_policies(uri: &str, dirs: &QemuDirs) -> String {
    let xml = dirs.guest_xml("numa", &image(), "").replace(
        "<vcpu>1</vcpu>",
        "<vcpu>1</vcpu><numatune><memory mode='interleave' nodeset='0'/></numatune>",
    );
    let path = dirs.write("numa.xml", xml);
    for cmd in [
        format!("define {}", path.display()),
        "start numa".to_string(),
    ] {
        let r = virsh(uri, &cmd);
        assert!(r.ok, "{cmd}: {}", r.stderr);
    }
    let pid = qemu_with(&["guest=numa,"]).expect("QEMU of numa");
    let maps = std::fs::read_to_string(format!("/proc/{pid}/numa_maps")).unwrap_or_default();
    let _ = virsh(uri, "destroy numa");
    let _ = virsh(uri, "undefine numa");
    let mut policies: Vec<&str> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    policies.sort();
    policies.dedup();
    policies.join(" ")
}

/// A `<hard_limit>` is also QEMU's RLIMIT_MEMLOCK; where the daemon may
/// not raise that (no CAP_SYS_RESOURCE in this container, 8 MiB hard
/// limit) the start fails. The failure's own words, QEMU's pid blanked
/// (libvirtd reports it from the child before exec, wrapped in "Process
/// exited prior to exec: libvirt:  error : ").
fn hard_limit_error(uri: &str, dirs: &QemuDirs) -> String {
    let xml = dirs.guest_xml("hard", &image(), "").replace(
        "<vcpu>1</vcpu>",
        "<vcpu>1</vcpu><memtune><hard_limit unit='KiB'>524288</hard_limit></memtune>",
    );
    let path = dirs.write("hard.xml", xml);
    let define = virsh(uri, &format!("define {}", path.display()));
    assert!(define.ok, "{}", define.stderr);
    let r = virsh(uri, "start hard");
    let _ = virsh(uri, "undefine hard");
    if r.ok {
        let _ = virsh(uri, "destroy hard");
        return "started".into();
    }
    let text = r.stderr;
    let core = text
        .find("cannot limit")
        .map_or(text.as_str(), |i| &text[i..]);
    let words: Vec<&str> = core.split_whitespace().collect();
    words
        .iter()
        .map(|w| {
            if w.parse::<u32>().is_ok() && *w != "536870912" {
                "PID"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn with_uuid(xml: &str) -> String {
    xml.replacen(
        &format!("<name>{NAME}</name>"),
        &format!("<name>{NAME}</name>\n  <uuid>{UUID}</uuid>"),
        1,
    )
}

/// Destroys the guest when dropped, so a failing test leaves no QEMU
/// (libvirtd's outlive the daemon) and no group behind.
struct Running(String);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = virsh(&self.0, &format!("destroy {NAME}"));
    }
}

fn start(uri: &str, xml: &std::path::Path) {
    for cmd in [format!("define {}", xml.display()), format!("start {NAME}")] {
        let r = virsh(uri, &cmd);
        assert!(r.ok, "virsh {cmd} on {uri}: {}", r.stderr);
    }
}

/// Destroy the guest; what the tuning commands print for it shut off
/// (its configuration, and the errors of live requests); undefine it.
fn stop(uri: &str) -> String {
    let id = virsh(uri, &format!("domid {NAME}"))
        .stdout
        .trim()
        .to_string();
    let _ = virsh(uri, &format!("destroy {NAME}"));
    wait_removed(&format!("/machine/qemu-{id}-{NAME}.libvirt-qemu"));
    let mut out = String::new();
    let live = QUERIES
        .iter()
        .map(|q| q.replace(" --config", "") + " --live");
    let offline = [
        "schedinfo tune --config cpu_shares=300",
        "vcpupin tune 0 1 --config",
    ];
    let all = QUERIES.iter().map(|q| q.to_string()).chain(live);
    for cmd in all.chain(offline.iter().map(|c| c.to_string())) {
        let r = virsh(uri, &cmd);
        let text = if r.ok {
            r.stdout
        } else {
            format!("error: {}", r.stderr)
        };
        out.push_str(&format!("$ virsh {cmd}\n{text}\n"));
    }
    out.push_str(&virsh(uri, &format!("dumpxml {NAME}")).stdout);
    let _ = virsh(uri, &format!("undefine {NAME}"));
    out
}

#[test]
fn tunables_match_stock_libvirtd() {
    if !hybrid_host() || !std::path::Path::new(BLOCK_DEVICE).exists() {
        eprintln!("not root on a v1 + cgroup2 host with {BLOCK_DEVICE}: skipping");
        return;
    }
    let Some(stock) = QemuLibvirtd::start() else {
        return;
    };
    let image = image();
    let stock_dirs = QemuDirs::new();
    let xml = stock_dirs.guest_xml(NAME, &image, "");
    let xml = with_uuid(&xml).replace("<vcpu>1</vcpu>", &tunables());
    let stock_xml = stock_dirs.write("tune.xml", &xml);
    assert_eq!(
        qemu_with(&["guest=tune,"]),
        None,
        "a QEMU named tune is running"
    );
    start(&stock.uri(), &stock_xml);
    let running = Running(stock.uri());
    stock_dirs.wait_ready(NAME);
    let want = transcript(&stock.uri(), &|| {
        // The only guest of that name here (libvirtd passes the console
        // file as an fd, so no path of ours marks its command line).
        qemu_with(&["guest=tune,"]).expect("libvirtd's QEMU")
    });
    let want_events = rvirt_testkit::tools::python_libvirt_ready().then(|| {
        let events = tunable_events(&stock.uri());
        assert!(events.contains("cputune.cpu_shares"), "{events}");
        events
    });
    let stock_offline = stop(&stock.uri());
    drop(running);
    let stock_hard = hard_limit_error(&stock.uri(), &stock_dirs);
    let stock_policies = numa_policies(&stock.uri(), &stock_dirs);
    assert!(stock_policies.contains("interleave:0"), "{stock_policies}");

    let dirs = QemuDirs::new();
    let daemon = Daemon::rvirtd(&dirs.conf());
    let uri = format!("qemu+unix:///system?socket={}", daemon.socket().display());
    let ours = with_uuid(&dirs.guest_xml(NAME, &image, "")).replace("<vcpu>1</vcpu>", &tunables());
    let path = dirs.write("tune.xml", ours);
    start(&uri, &path);
    let running = Running(uri.clone());
    dirs.wait_ready(NAME);
    let got = transcript(&uri, &|| dirs.pid_of(NAME).expect("rvirtd's QEMU"));
    rvirsh_agrees(&uri);
    if let Some(want_events) = want_events {
        assert_eq!(tunable_events(&uri), want_events, "tunable events");
    }
    let offline = stop(&uri);
    drop(running);
    assert_eq!(hard_limit_error(&uri, &dirs), stock_hard);
    assert_eq!(numa_policies(&uri, &dirs), stock_policies);

    let (offline, stock_offline) = (
        offline.replace(&dirs.root().display().to_string(), "DIR"),
        stock_offline.replace(&stock_dirs.root().display().to_string(), "DIR"),
    );
    assert_eq!(offline, stock_offline, "shut off: rvirtd, then libvirtd");
    // The console paths differ by directory only.
    let got = got.replace(&dirs.root().display().to_string(), "DIR");
    let want = want.replace(&stock_dirs.root().display().to_string(), "DIR");
    let differing: Vec<String> = want
        .lines()
        .zip(got.lines())
        .filter(|(w, g)| w != g)
        .map(|(w, g)| format!("- {w}\n+ {g}"))
        .collect();
    assert!(
        differing.is_empty() && want.lines().count() == got.lines().count(),
        "rvirtd differs from libvirtd (- libvirtd, + rvirtd):\n{}\n--- libvirtd:\n{want}\n--- rvirtd:\n{got}",
        differing.join("\n")
    );
}

/// Without the controller a tunable needs, the start fails as libvirt's
/// does (virDomainCgroupSetup*Cgroup, qemuProcessSetupPid) and leaves no
/// QEMU behind.
#[test]
fn tunables_without_their_controller_fail_the_start() {
    if !hybrid_host() {
        eprintln!("not root on a v1 + cgroup2 host: skipping");
        return;
    }
    let image = image();
    let dirs = QemuDirs::new();
    let conf = format!("{}qemu_cgroup_controllers = [ \"cpuset\" ]\n", dirs.conf());
    let daemon = Daemon::rvirtd(&conf);
    let uri = format!("qemu+unix:///system?socket={}", daemon.socket().display());
    for (name, tune, error) in [
        (
            "nomem",
            "<memtune><soft_limit unit='KiB'>524288</soft_limit></memtune>",
            "unsupported configuration: Memory cgroup is not available on this host",
        ),
        (
            "nocpu",
            "<cputune><shares>512</shares></cputune>",
            "unsupported configuration: CPU tuning is not available on this host",
        ),
        (
            "nobw",
            "<cputune><emulator_period>100000</emulator_period></cputune>",
            "unsupported configuration: cgroup cpu is required for scheduler tuning",
        ),
    ] {
        let xml = dirs
            .guest_xml(name, &image, "")
            .replace("<vcpu>1</vcpu>", &format!("<vcpu>1</vcpu>{tune}"));
        let path = dirs.write(&format!("{name}.xml"), xml);
        let r = virsh(&uri, &format!("define {}", path.display()));
        assert!(r.ok, "define {name}: {}", r.stderr);
        let r = virsh(&uri, &format!("start {name}"));
        assert!(!r.ok, "{name} started");
        assert!(r.stderr.contains(error), "{name}: {}", r.stderr);
        assert_eq!(
            dirs.pid_of(name)
                .filter(|p| std::path::Path::new(&format!("/proc/{p}")).exists()),
            None
        );
    }
}
