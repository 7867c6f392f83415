//! Real QEMU guests under rvirtd, driven by stock virsh over
//! `qemu+tcp://` and `qemu+unix://`: the test kit's guest (kernel +
//! busybox initramfs, TCG, ticking on its serial console) defined, started,
//! paused (the ticks stop) and resumed (they count on), shut down through
//! ACPI, started again, destroyed and undefined; rvirtd killed with SIGKILL
//! and restarted under running guests, which keep ticking; bad input
//! refused with libvirt's errors and nothing left running.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::guest::READY_MARKER;
use rvirt_testkit::qemu_dirs::{test_image as image, QemuDirs};
use rvirt_testkit::tools::{virsh, virsh_ok};
use rvirt_testkit::wait::{poll, until};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `domstate NAME --reason` through stock virsh.
fn state(uri: &str, name: &str) -> String {
    virsh_ok(uri, &format!("domstate {name} --reason"))
        .trim()
        .to_string()
}

fn tcp(d: &Daemon) -> String {
    format!("qemu+tcp://127.0.0.1:{}/system", d.port)
}

fn unix(d: &Daemon) -> String {
    format!("qemu+unix:///system?socket={}", d.socket().display())
}

/// Every one of `wanted` appears in `text` (what printed it: `what`).
fn contains_all(text: &str, wanted: &[&str], what: &str) {
    let missing: Vec<&&str> = wanted.iter().filter(|w| !text.contains(**w)).collect();
    assert!(missing.is_empty(), "{what} lacks {missing:?}:\n{text}");
}

fn alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

/// Processes whose command line names guest `name` (`-name guest=NAME`)
/// and this test's directory (other tests may run a guest of that name).
fn qemu_processes_named(dirs: &QemuDirs, name: &str) -> Vec<i32> {
    let wanted = format!("guest={name},");
    let ours = dirs.root().display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            cmdline.contains(&wanted) && cmdline.contains(&ours)
        })
        .collect()
}

fn wait_gone(pid: i32) -> bool {
    let start = Instant::now();
    while alive(pid) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    !alive(pid)
}

/// How often the waits below look again.
const POLL: Duration = Duration::from_millis(200);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Wait until guest g1 has printed the kit's boot marker `boots` times.
fn wait_boots(dirs: &QemuDirs, boots: usize, why: &str) {
    let booted = || dirs.console_text("g1").matches(READY_MARKER).count() >= boots;
    until(secs(60), Duration::from_millis(100), booted, || {
        why.to_string()
    });
}

#[test]
fn virsh_defines_starts_pauses_and_destroys_a_real_guest() {
    let image = image();
    let dirs = QemuDirs::new();
    let d = Daemon::rvirtd(&dirs.conf());
    let uri = tcp(&d);
    let xml = dirs.write_guest("g1", &image, "");

    let argv = virsh_ok(
        &uri,
        &format!("domxml-to-native qemu-argv {}", xml.display()),
    );
    for want in [
        "LC_ALL=C ",
        "/usr/bin/qemu-system-x86_64 -name guest=g1,debug-threads=on -S ",
        " -sandbox on,",
        " -kernel ",
    ] {
        assert!(
            argv.contains(want),
            "domxml-to-native lacks '{want}':\n{argv}"
        );
    }
    let refused = virsh(&uri, &format!("domxml-to-native xen-xl {}", xml.display()));
    assert!(
        refused
            .stderr
            .contains("invalid argument: unsupported config type xen-xl"),
        "{}",
        refused.stderr
    );

    let domcaps = virsh_ok(&uri, "domcapabilities");
    for want in [
        "<path>/usr/bin/qemu-system-x86_64</path>",
        "<domain>qemu</domain>",
        "<machine>pc-i440fx-7.2</machine>",
        "<vcpu max='255'/>",
        "<mode name='host-passthrough' supported='no'/>",
        "<model usable='unknown'>qemu64</model>",
        "<value>virtio</value>",
    ] {
        assert!(
            domcaps.contains(want),
            "domcapabilities lack {want}:\n{domcaps}"
        );
    }
    let q35 = virsh_ok(&uri, "domcapabilities --machine q35");
    assert!(q35.contains("<machine>pc-q35-7.2</machine>"), "{q35}");
    let kvm = virsh(&uri, "domcapabilities --virttype kvm");
    assert!(
        kvm.stderr.contains(
            "invalid argument: the accel 'kvm' is not supported by '/usr/bin/qemu-system-x86_64' on this host"
        ),
        "{}",
        kvm.stderr
    );

    let caps = virsh_ok(&uri, "capabilities");
    contains_all(
        &caps,
        &[
            "<arch name='x86_64'>",
            "<emulator>/usr/bin/qemu-system-x86_64</emulator>",
            "<machine maxCpus='255'>pc-i440fx-7.2</machine>",
            "<machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>",
            "<domain type='qemu'/>",
        ],
        "caps",
    );
    assert!(!caps.contains("<domain type='kvm'"), "KVM never assumed");

    let out = virsh_ok(&uri, &format!("define {}", xml.display()));
    assert!(out.contains("Domain 'g1' defined from"), "{out}");
    assert!(dirs.path("config/g1.xml").exists(), "definition on disk");
    assert_eq!(state(&uri, "g1"), "shut off (unknown)");

    assert!(virsh_ok(&uri, "start g1").contains("Domain 'g1' started"));
    let pid = dirs.pid_of("g1").expect("pid file");
    assert!(alive(pid));
    dirs.wait_ready("g1");
    assert_eq!(state(&uri, "g1"), "running (booted)");
    let list = virsh_ok(&uri, "list --all");
    assert!(
        list.lines()
            .any(|l| l.contains(" g1 ") && l.contains("running")),
        "{list}"
    );
    let info = virsh_ok(&unix(&d), "dominfo g1");
    contains_all(
        &info,
        &[
            "Name:           g1",
            "OS Type:        hvm",
            "State:          running",
            "CPU(s):         1",
            "Max memory:     131072 KiB",
            "Persistent:     yes",
        ],
        "info",
    );

    virsh_ok(&uri, "setmem g1 98304 --live");
    // The guest's virtio_balloon driver inflates the balloon step by step;
    // dominfo reports QEMU's balloon figure as it moves, as libvirt does.
    poll(secs(60), POLL, || {
        let info = virsh_ok(&uri, "dominfo g1");
        match info.contains("Used memory:    98304 KiB") {
            true => Ok(()),
            false => Err(info),
        }
    });
    let big = virsh(&uri, "setmem g1 262144 --live");
    assert!(
        big.stderr
            .contains("invalid argument: cannot set memory higher than max memory"),
        "{}",
        big.stderr
    );

    // QEMU's balloon figure may still settle (a loaded host): wait for it.
    poll(secs(30), POLL, || {
        let memstat = virsh_ok(&uri, "dommemstat g1");
        let lines: Vec<&str> = memstat.lines().collect();
        match lines[0] == "actual 98304" && lines.iter().any(|l| l.starts_with("rss ")) {
            true => Ok(()),
            false => Err(memstat),
        }
    });
    assert!(virsh_ok(&uri, "domblklist g1").contains("Target   Source"));

    let stats = virsh_ok(&uri, "domstats g1");
    contains_all(
        &stats,
        &[
            "Domain: 'g1'",
            "  state.state=1",
            "  state.reason=1",
            "  cpu.time=",
            "  balloon.current=98304",
            "  balloon.maximum=131072",
            "  vcpu.current=1",
            "  vcpu.maximum=1",
            "  vcpu.0.state=1",
            "  vcpu.0.time=",
            "  net.count=0",
            "  block.count=0",
        ],
        "stats",
    );

    // The console shows the guest ticking; paused, it stops; resumed, it
    // counts on from where it stopped (the same boot).
    let before = dirs.wait_tick_above("g1", 0);
    dirs.wait_tick_above("g1", before);
    virsh_ok(&uri, "suspend g1");
    assert_eq!(state(&uri, "g1"), "paused (user)");
    let paused_at = dirs.tick("g1").unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(dirs.tick("g1"), Some(paused_at), "ticks while paused");
    virsh_ok(&uri, "resume g1");
    assert_eq!(state(&uri, "g1"), "running (unpaused)");
    assert_eq!(dirs.wait_tick_above("g1", paused_at), paused_at + 1);
    assert_eq!(dirs.console_text("g1").matches(READY_MARKER).count(), 1);

    assert!(virsh_ok(&uri, "reboot g1").contains("Domain 'g1' is being rebooted"));
    wait_boots(&dirs, 2, "no second boot after reboot");
    assert!(virsh_ok(&uri, "reset g1").contains("Domain 'g1' was reset"));
    wait_boots(&dirs, 3, "no boot after reset");
    assert_eq!(
        dirs.pid_of("g1"),
        Some(pid),
        "reboot and reset keep the same QEMU"
    );

    let live = virsh_ok(&uri, "dumpxml g1");
    assert!(live.starts_with("<domain type='qemu' id="), "{live}");
    assert!(
        live.contains("<type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>"),
        "{live}"
    );
    let inactive = virsh_ok(&uri, "dumpxml g1 --inactive");
    assert!(inactive.starts_with("<domain type='qemu'>"), "{inactive}");

    // The ACPI power button: the guest powers itself off.
    assert!(virsh_ok(&uri, "shutdown g1").contains("Domain 'g1' is being shutdown"));
    until(
        secs(60),
        POLL,
        || state(&uri, "g1") == "shut off (shutdown)",
        || format!("not shut off:\n{}", dirs.console_text("g1")),
    );
    assert!(wait_gone(pid), "QEMU {pid} outlived the guest's poweroff");
    for leftover in ["state/g1.pid", "state/g1.xml", "lib/g1.monitor"] {
        assert!(!dirs.path(leftover).exists(), "{leftover} left behind");
    }
    assert!(
        qemu_processes_named(&dirs, "g1").is_empty(),
        "QEMU left running"
    );
    std::fs::remove_file(dirs.console("g1")).unwrap();
    assert!(virsh_ok(&uri, "start g1").contains("Domain 'g1' started"));
    dirs.wait_ready("g1");
    dirs.wait_tick_above("g1", 0);
    let pid = dirs.pid_of("g1").expect("pid file");

    virsh_ok(&uri, "destroy g1");
    assert_eq!(state(&uri, "g1"), "shut off (destroyed)");
    assert!(wait_gone(pid), "QEMU {pid} outlived destroy");
    for leftover in ["state/g1.pid", "state/g1.xml", "lib/g1.monitor"] {
        assert!(!dirs.path(leftover).exists(), "{leftover} left behind");
    }
    assert!(dirs.path("log/g1.log").exists(), "QEMU's log is kept");

    assert!(virsh_ok(&uri, "undefine g1").contains("Domain 'g1' has been undefined"));
    assert!(!dirs.path("config/g1.xml").exists());
    assert!(!virsh_ok(&uri, "list --all").contains("g1"));
}

#[test]
fn guests_survive_a_daemon_killed_with_sigkill() {
    let image = image();
    let dirs = QemuDirs::new();
    let mut first = Daemon::rvirtd(&dirs.conf());
    let uri = tcp(&first);
    let names = ["k1", "k2", "k3"];
    for name in names {
        let xml = dirs.write_guest(name, &image, "");
        virsh_ok(&uri, &format!("define {}", xml.display()));
        virsh_ok(&uri, &format!("start {name}"));
    }
    for name in names {
        dirs.wait_ready(name);
    }
    let pids: Vec<i32> = names.iter().map(|n| dirs.pid_of(n).unwrap()).collect();
    virsh_ok(&uri, "suspend k2");
    // A shut-off autostart guest starts when the daemon does.
    let auto = dirs.write_guest("k4", &image, "");
    virsh_ok(&uri, &format!("define {}", auto.display()));
    virsh_ok(&uri, "autostart k4");

    // Stopping the daemon cleanly never stops guests either.
    assert!(first.terminate(), "rvirtd exits on SIGTERM");
    assert!(
        pids.iter().all(|p| alive(*p)),
        "SIGTERM on rvirtd stopped a guest"
    );
    let mut second = Daemon::rvirtd(&dirs.conf());
    let uri = tcp(&second);
    assert_eq!(state(&uri, "k2"), "paused (user)");
    let ticks: Vec<u64> = names.iter().map(|n| dirs.wait_tick_above(n, 0)).collect();
    second.kill9();

    // A daemon killed with SIGKILL under three guests: the next one lists
    // and controls all three, and they keep counting on (never restarted).
    let mut third = Daemon::rvirtd(&dirs.conf());
    let uri = tcp(&third);
    let list = virsh_ok(&uri, "list --all");
    for name in names {
        assert!(list.contains(&format!(" {name} ")), "{list}");
    }
    assert_eq!(state(&uri, "k1"), "running (booted)");
    assert_eq!(state(&uri, "k2"), "paused (user)");
    assert_eq!(state(&uri, "k3"), "running (booted)");
    dirs.wait_tick_above("k1", ticks[0]);
    dirs.wait_tick_above("k3", ticks[2]);
    assert_eq!(dirs.tick("k2"), Some(ticks[1]), "k2 ticked while paused");
    virsh_ok(&uri, "resume k2");
    assert_eq!(dirs.wait_tick_above("k2", ticks[1]), ticks[1] + 1);
    virsh_ok(&uri, "suspend k2");
    for (name, pid) in names.iter().zip(&pids) {
        assert_eq!(dirs.pid_of(name), Some(*pid), "{name}: same QEMU");
        assert_eq!(dirs.console_text(name).matches(READY_MARKER).count(), 1);
    }
    third.kill9();
    // While the daemon is down, k3's QEMU dies.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pids[2]),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(wait_gone(pids[2]));
    assert!(
        alive(pids[0]) && alive(pids[1]),
        "guests outlive the daemon"
    );

    let fourth = Daemon::rvirtd(&dirs.conf());
    let uri = tcp(&fourth);
    assert_eq!(state(&uri, "k1"), "running (booted)");
    assert_eq!(state(&uri, "k2"), "paused (user)");
    assert_eq!(state(&uri, "k3"), "shut off (crashed)");
    assert_eq!(dirs.pid_of("k1"), Some(pids[0]), "same QEMU, not restarted");
    assert_eq!(dirs.console_text("k1").matches(READY_MARKER).count(), 1);
    assert_eq!(state(&uri, "k4"), "running (booted)");
    dirs.wait_ready("k4");
    virsh_ok(&uri, "destroy k4");

    // Still controllable.
    virsh_ok(&uri, "resume k2");
    assert_eq!(state(&uri, "k2"), "running (unpaused)");
    virsh_ok(&uri, "destroy k1");
    virsh_ok(&uri, "destroy k2");
    assert!(wait_gone(pids[0]) && wait_gone(pids[1]));
    virsh_ok(&uri, "start k3");
    dirs.wait_ready("k3");
    virsh_ok(&uri, "destroy k3");
    let list = virsh_ok(&uri, "list --all");
    assert_eq!(list.matches("shut off").count(), 4, "{list}");
}

#[test]
fn bad_input_gets_libvirt_errors_and_leaves_nothing_running() {
    let image = image();
    let dirs = QemuDirs::new();
    let d = Daemon::rvirtd(&dirs.conf());
    let uri = tcp(&d);

    let define = |name: &str, xml: String| {
        let path = dirs.write(&format!("{name}.xml"), xml);
        virsh(&uri, &format!("define {}", path.display()))
    };
    let refused = |name: &str, xml: String, message: &str| {
        let out = define(name, xml);
        assert!(!out.ok && out.stderr.contains(message), "{}", out.stderr);
    };
    let guest = |name: &str| dirs.guest_xml(name, &image, "");

    refused(
        "bad1",
        guest("bad1").replace("/usr/bin/qemu-system-x86_64", "/usr/bin/no-such-qemu"),
        "Cannot check QEMU binary /usr/bin/no-such-qemu: No such file or directory",
    );
    refused(
        "bad2",
        guest("bad2").replace("<domain type='qemu'>", "<domain type='kvm'>"),
        "unsupported configuration: Emulator '/usr/bin/qemu-system-x86_64' does not support virt type 'kvm'",
    );

    let no_kernel = guest("bad3").replace(&image.kernel.display().to_string(), "/no/such/vmlinuz");
    let out = define("bad3", no_kernel);
    assert!(out.ok, "define bad3: {}", out.stderr);
    let out = virsh(&uri, "start bad3");
    assert!(!out.ok);
    // The DAC driver finds it missing first, as libvirt's does.
    assert!(
        out.stderr
            .contains("unable to stat: /no/such/vmlinuz: No such file or directory"),
        "{}",
        out.stderr
    );
    assert_eq!(virsh_ok(&uri, "domstate bad3").trim(), "shut off");
    assert!(
        qemu_processes_named(&dirs, "bad3").is_empty(),
        "QEMU left running"
    );
    assert!(dirs.pid_of("bad3").is_none(), "pid file left behind");

    let no_disk = guest("bad4").replace(
        "  <devices>\n",
        "  <devices>\n    <disk type='file' device='disk'>\n      \
         <driver name='qemu' type='raw'/>\n      <source file='/no/such/disk.img'/>\n      \
         <target dev='vda' bus='virtio'/>\n    </disk>\n",
    );
    let out = define("bad4", no_disk);
    assert!(out.ok, "define bad4: {}", out.stderr);
    let out = virsh(&uri, "start bad4");
    assert!(
        !out.ok && out.stderr.contains("/no/such/disk.img"),
        "{}",
        out.stderr
    );
    assert!(
        qemu_processes_named(&dirs, "bad4").is_empty(),
        "QEMU left running"
    );
    assert!(!dirs.path("lib/bad4.monitor").exists());

    // The daemon still serves.
    assert!(virsh_ok(&unix(&d), "list --all").contains("bad3"));
}

#[test]
fn python_libvirt_receives_the_lifecycle_events() {
    if !rvirt_testkit::tools::python_libvirt_ready() {
        return;
    }
    let image = image();
    let dirs = QemuDirs::new();
    let d = Daemon::rvirtd(&dirs.conf());
    let xml = dirs.write_guest("py1", &image, "");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/qemu_events.py");
    let pid_file = dirs.state().join("py1.pid");
    let out = rvirt_testkit::tools::python3([
        script.as_os_str(),
        tcp(&d).as_ref(),
        xml.as_os_str(),
        pid_file.as_os_str(),
    ]);
    rvirt_testkit::tools::assert_python_finished(
        &out,
        "ALL OK",
        &format!("--- daemon log:\n{}", d.log()),
    );
}

/// A QEMU that stops answering its monitor (SIGSTOP) costs the caller
/// libvirt's timeout error after qemu_monitor_timeout, while other clients
/// are served meanwhile; the guest is then still destroyed cleanly.
#[test]
fn a_hung_qemu_times_out_and_the_daemon_keeps_serving() {
    use nix::sys::signal::{kill, Signal};
    let image = image();
    let dirs = QemuDirs::new();
    let d = Daemon::rvirtd(&format!("{}qemu_monitor_timeout = 2\n", dirs.conf()));
    let uri = tcp(&d);
    let xml = dirs.write_guest("hung", &image, "");
    virsh_ok(&uri, &format!("define {}", xml.display()));
    virsh_ok(&uri, "start hung");
    let pid = nix::unistd::Pid::from_raw(dirs.pid_of("hung").unwrap());
    kill(pid, Signal::SIGSTOP).unwrap();

    let other = {
        let uri = unix(&d);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            let start = Instant::now();
            let out = virsh(&uri, "list --all");
            (out, start.elapsed())
        })
    };
    let start = Instant::now();
    let out = virsh(&uri, "suspend hung");
    let waited = start.elapsed();
    // domstats asks the monitor too: the hung guest costs one timeout,
    // and its record still has what the daemon knows.
    let start = Instant::now();
    let stats = virsh(&uri, "domstats hung");
    let stats_took = start.elapsed();
    kill(pid, Signal::SIGCONT).unwrap();
    assert!(
        stats.ok
            && stats.stdout.contains("state.state=1")
            && stats.stdout.contains("block.count=0"),
        "{stats:?}"
    );
    assert!(
        stats_took < Duration::from_secs(6),
        "domstats took {stats_took:?}"
    );
    assert!(!out.ok);
    assert!(
        out.stderr.contains("Timed out during operation: monitor")
            && out
                .stderr
                .contains("timed out after 2 s waiting for 'stop'"),
        "{}",
        out.stderr
    );
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    let (listed, took) = other.join().unwrap();
    assert!(
        listed.ok && listed.stdout.contains("hung"),
        "{}",
        listed.stderr
    );
    assert!(
        took < Duration::from_secs(1),
        "list waited {took:?} on the hung guest"
    );

    virsh_ok(&uri, "destroy hung");
    assert!(wait_gone(pid.as_raw()));
    assert!(qemu_processes_named(&dirs, "hung").is_empty());
}

/// `Uid:` and `Gid:` of /proc/PID/status: real, effective, saved, fs.
fn process_ids(pid: i32) -> (String, String) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line[name.len()..]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    (field("Uid:"), field("Gid:"))
}

fn owner(path: &std::path::Path) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).unwrap();
    (meta.uid(), meta.gid())
}

/// The DAC driver: QEMU runs as libvirt-qemu (the default user and group,
/// as Debian builds libvirt); a guest's disk image and console file are
/// its user's while it runs, the original owner remembered in libvirt's
/// extended attributes; a read-only image two guests share is labelled
/// but never given back; after rvirtd was killed and restarted, destroy
/// still gives the files back.
#[test]
fn qemu_runs_as_its_user_and_its_files_go_back() {
    use rvirt_driver_qemu::security::remember::peek;
    let image = image();
    let dirs = QemuDirs::new();
    let user = nix::unistd::User::from_name("libvirt-qemu")
        .unwrap()
        .expect("user libvirt-qemu");
    let group = nix::unistd::Group::from_name("libvirt-qemu")
        .unwrap()
        .expect("group");
    let (uid, gid) = (user.uid.as_raw(), group.gid.as_raw());
    let disk = |name: &str, owner: u32| {
        let path = dirs.write(name, vec![0u8; 1 << 20]);
        std::os::unix::fs::chown(&path, Some(owner), Some(owner)).unwrap();
        path
    };
    let (own, shared) = (disk("own.img", 4242), disk("shared.img", 0));
    let disk_xml = |path: &PathBuf, dev: &str, extra: &str| {
        format!(
            "    <disk type='file' device='disk'>\n      <driver name='qemu' type='raw'/>\n      \
             <source file='{}'/>\n      <target dev='{dev}' bus='virtio'/>{extra}\n    </disk>\n",
            path.display()
        )
    };
    let ro = disk_xml(&shared, "vdb", "<readonly/>");
    let mut first = Daemon::rvirtd(&dirs.conf());
    let uri = tcp(&first);
    for (name, devices) in [("o1", disk_xml(&own, "vda", "") + &ro), ("o2", ro.clone())] {
        let xml = dirs.write_guest(name, &image, &devices);
        virsh_ok(&uri, &format!("define {}", xml.display()));
        virsh_ok(&uri, &format!("start {name}"));
    }
    dirs.wait_ready("o1");
    let pid = dirs.pid_of("o1").unwrap();
    let (uids, gids) = process_ids(pid);
    assert_eq!(uids, format!("{uid} {uid} {uid} {uid}"), "QEMU's user");
    assert_eq!(gids, format!("{gid} {gid} {gid} {gid}"), "QEMU's group");

    assert_eq!(owner(&own), (uid, gid));
    assert_eq!(peek("dac", &own), (Some("+4242:+4242".into()), Some(1)));
    assert_eq!(owner(&shared), (uid, gid));
    assert_eq!(
        peek("dac", &shared),
        (None, None),
        "read-only: not remembered"
    );
    assert_eq!(owner(&dirs.console("o1")), (uid, gid));
    // The kernel is shared with every guest of every test (and daemon) on
    // the machine, so only its remembered owner is certain, not the count.
    let (kernel_owner, kernel_users) = peek("dac", &image.kernel);
    assert!(
        kernel_owner.is_some() && kernel_users.unwrap_or(0) >= 1,
        "the kernel's owner is remembered: {kernel_owner:?} {kernel_users:?}"
    );

    let label = format!("+{uid}:+{gid}");
    let live = virsh_ok(&uri, "dumpxml o1");
    let want = format!(
        "  <seclabel type='dynamic' model='dac' relabel='yes'>\n    <label>{label}</label>\n    \
         <imagelabel>{label}</imagelabel>\n  </seclabel>\n</domain>"
    );
    assert!(live.contains(&want), "{live}");
    assert!(!virsh_ok(&uri, "dumpxml o1 --inactive").contains("seclabel"));
    let caps = virsh_ok(&uri, "capabilities");
    let secmodel = format!(
        "<secmodel>\n      <model>dac</model>\n      <doi>0</doi>\n      \
         <baselabel type='kvm'>{label}</baselabel>\n      \
         <baselabel type='qemu'>{label}</baselabel>\n    </secmodel>"
    );
    assert!(caps.contains(&secmodel), "{caps}");
    // dominfo shows the primary model, "none", as libvirtd does here.
    contains_all(
        &virsh_ok(&uri, "dominfo o1"),
        &["Security model: none", "Security DOI:   0"],
        "dominfo",
    );
    if rvirt_testkit::tools::python_libvirt_ready() {
        let code = format!(
            "import libvirt\nc = libvirt.open('{uri}')\n\
             print(c.lookupByName('o1').securityLabelList())"
        );
        let out = rvirt_testkit::tools::python3(["-c", code.as_str()]);
        // One label per driver of the stack: none's is empty, DAC's the guest's.
        let listed = out.stdout.trim();
        assert!(
            listed.starts_with("[['', ") && listed.contains(&format!("['{label}', ")),
            "{listed}\n{}",
            out.stderr
        );
    }

    // A restarted daemon still knows what to give back.
    first.kill9();
    let second = Daemon::rvirtd(&dirs.conf());
    let uri = tcp(&second);
    virsh_ok(&uri, "destroy o1");
    assert!(wait_gone(pid));
    assert_eq!(owner(&own), (4242, 4242), "the image's owner is back");
    assert_eq!(peek("dac", &own), (None, None));
    assert_eq!(owner(&dirs.console("o1")), (0, 0));
    assert_eq!(
        owner(&shared),
        (uid, gid),
        "o2 still reads the shared image"
    );
    virsh_ok(&uri, "destroy o2");
    assert_eq!(
        owner(&shared),
        (uid, gid),
        "read-only images are never given back"
    );
}
