//! rvirsh against stock virsh on the same rvirtd and the same real guest
//! (the test kit's kernel + initramfs under TCG): dommemstat, domstats,
//! setmem, setvcpus, vcpucount, reset, domxml-to-native,
//! domcapabilities and qemu-monitor-command print the same through both
//! shells, and a live `setvcpus` hot-plugs a vCPU into the running QEMU.
//! `shutdown` and `reboot --mode agent` go through the guest's agent (the
//! test guest's busybox responder), with libvirt's errors where there is
//! none.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::guest::READY_MARKER;
use rvirt_testkit::qemu_dirs::{test_image, QemuDirs};
use rvirt_testkit::tools::{diff, differing_cases, rvirsh, virsh, virsh_ok, Output};
use rvirt_testkit::wait::until;
use std::time::Duration;

/// The kit's guest with one of two vCPUs online, a raw disk, a user-mode
/// NIC and `extra` devices; its UUID and MAC fixed, so two conversions of
/// its file print the same.
fn guest_xml(dirs: &QemuDirs, name: &str, extra: &str) -> String {
    let disk = dirs.path(&format!("{name}.img"));
    let uuid_tail = name.bytes().fold(0u64, |acc, b| acc << 8 | u64::from(b));
    let devices = format!(
        "    <disk type='file' device='disk'>\n      <driver name='qemu' type='raw'/>\n      \
         <source file='{}'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n    \
         <interface type='user'>\n      <mac address='52:54:00:12:34:56'/>\n      \
         <model type='virtio'/>\n    </interface>\n{extra}",
        disk.display()
    );
    dirs.guest_xml(name, &test_image(), &devices)
        .replace("<vcpu>1</vcpu>", "<vcpu current='1'>2</vcpu>")
        .replace(
            "</name>",
            &format!("</name>\n  <uuid>7b0e3c4a-5d6f-4a8b-9c0d-{uuid_tail:012x}</uuid>"),
        )
}

/// Values that move between two runs a moment apart (times, resident
/// memory), blanked; field names and everything else kept.
fn steady(out: Output) -> Output {
    let moving = |key: &str| {
        [".time", ".user", ".system", ".delay", ".wait", "rss"]
            .iter()
            .any(|m| key.trim().ends_with(m))
    };
    // `  key=value` (domstats) or `key value` (dommemstat).
    let blank = |line: &str| -> String {
        let split = line.split_once('=').or_else(|| line.split_once(' '));
        match split {
            Some((key, _)) if !key.is_empty() && moving(key) => {
                format!("{}<moving>", &line[..=key.len()])
            }
            _ => line.to_string(),
        }
    };
    Output {
        stdout: out.stdout.lines().map(|l| blank(l) + "\n").collect(),
        ..out
    }
}

/// Each of `cases` through stock virsh, then rvirsh; the differences.
fn compare(uri: &str, cases: &[&str]) -> Vec<String> {
    differing_cases(cases, |c| {
        diff(
            c,
            ("virsh", &steady(virsh(uri, c))),
            ("rvirsh", &steady(rvirsh(uri, c))),
        )
    })
}

fn wait_for(what: &str, done: impl FnMut() -> bool) {
    until(
        Duration::from_secs(60),
        Duration::from_millis(200),
        done,
        || what.to_string(),
    );
}

/// A daemon of its own for one test, with guest `name` (its devices plus
/// `extra`) defined. Its QEMUs are killed when the test ends.
struct Setup {
    dirs: QemuDirs,
    /// Kept running for the test's length.
    _daemon: Daemon,
    uri: String,
    xml: std::path::PathBuf,
}

impl Setup {
    fn new(name: &str, extra: &str) -> Setup {
        let dirs = QemuDirs::new();
        let daemon = Daemon::rvirtd(&dirs.conf());
        let uri = format!("qemu+unix:///system?socket={}", daemon.socket().display());
        let xml = dirs.path(&format!("{name}.xml"));
        let setup = Setup {
            dirs,
            _daemon: daemon,
            uri,
            xml,
        };
        setup.define(name, extra);
        setup
    }

    /// Define guest `name` (with its disk) on this daemon.
    fn define(&self, name: &str, extra: &str) {
        std::fs::File::create(self.dirs.path(&format!("{name}.img")))
            .and_then(|f| f.set_len(1 << 20))
            .expect("disk");
        let xml = self.dirs.path(&format!("{name}.xml"));
        std::fs::write(&xml, guest_xml(&self.dirs, name, extra)).expect("guest XML");
        virsh_ok(&self.uri, &format!("define {}", xml.display()));
    }

    fn console(&self, name: &str) -> String {
        self.dirs.console_text(name)
    }

    /// Start `name` and wait until its console shows `marker`.
    fn start(&self, name: &str, marker: &str) {
        virsh_ok(&self.uri, &format!("start {name}"));
        self.wait_console(name, marker);
    }

    fn wait_console(&self, name: &str, marker: &str) {
        wait_for(&format!("{name} never printed {marker}"), || {
            self.console(name).contains(marker)
        });
    }
}

#[test]
fn rvirsh_prints_what_virsh_prints_for_a_real_guest() {
    let setup = Setup::new("sh", "");
    let (uri, xml) = (&setup.uri, &setup.xml);
    let to_native = format!("domxml-to-native qemu-argv {}", xml.display());
    let mut failures = compare(
        uri,
        &[
            "vcpucount sh",
            "vcpucount sh --maximum --config",
            "setvcpus sh 3 --config",
            "setvcpus sh 2 --maximum",
            "setvcpus sh 0 --config",
            "setvcpus sh 2 --config; vcpucount sh; setvcpus sh 1 --config; vcpucount sh",
            "setvcpus sh 1 --live",
            "setmem sh 100M --config; dominfo sh; setmem sh 128MiB --config",
            "setmem sh 1x",
            "dommemstat sh",
            "reset sh",
            "domstats sh",
            "domstats --list-inactive --state --balloon",
            "domstats --list-running",
            "domstats --state nosuch",
            &to_native,
            "domxml-to-native qemu-argv --domain sh",
            "domxml-to-native qemu-argv",
            "domcapabilities",
            "domcapabilities --machine q35 --arch x86_64",
            "domcapabilities --virttype kvm",
        ],
    );

    setup.start("sh", READY_MARKER);
    failures.extend(compare(
        uri,
        &[
            "dommemstat sh",
            "domstats sh --state --balloon --cpu-total",
            "domstats --vcpu --list-running sh",
            "domstats --list-active --raw",
            "vcpucount sh",
            "vcpucount sh --live --active",
            "setvcpus sh 3",
            "setvcpus sh 2 --maximum --config --live",
            "setmem sh 120M; setmem sh 128M --current",
            "reset sh",
            // QMP wrapped by the shell, the reply's `return` compact or
            // pretty (libvirt's yajl layout); HMP as is.
            "qemu-monitor-command sh query-status --return-value",
            "qemu-monitor-command sh query-status --return-value --pretty",
            "qemu-monitor-command sh '{\"execute\":\"query-name\"}' --return-value --pretty",
            "qemu-monitor-command sh query-block --return-value --pretty",
            "qemu-monitor-command sh query-cpus-fast --return-value",
            "qemu-monitor-command sh --hmp info status",
            "qemu-monitor-command sh human-monitor-command '\"command-line\":\"info status\"' --return-value",
            "qemu-monitor-command sh no-such-command --return-value",
            "qemu-monitor-command sh --hmp --pretty info",
        ],
    ));

    // A live setvcpus hot-plugs vCPU 1 (virsh's, then rvirsh's output is
    // compared for what follows).
    let plugged = rvirsh(uri, "setvcpus sh 2 --live");
    assert!(plugged.ok, "setvcpus --live: {}", plugged.stderr);
    let counts = virsh_ok(uri, "vcpucount sh");
    assert!(
        counts.contains("current      live           2"),
        "vcpucount after hot-plug:\n{counts}"
    );
    let stats = virsh_ok(uri, "domstats sh --vcpu");
    assert!(
        stats.contains("vcpu.current=2") && stats.contains("vcpu.1.state=1"),
        "{stats}"
    );
    failures.extend(compare(
        uri,
        &["vcpucount sh", "domstats sh --vcpu", "setvcpus sh 2"],
    ));
    virsh_ok(uri, "destroy sh");
    virsh_ok(uri, "undefine sh");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The agent channel, its socket where libvirt would put it.
const AGENT_CHANNEL: &str = "    <channel type='unix'>\n      \
    <target type='virtio' name='org.qemu.guest_agent.0'/>\n    </channel>\n";

#[test]
fn shutdown_and_reboot_through_the_guest_agent() {
    // "ag" has an agent, "na" has none; both boot at once.
    let setup = Setup::new("ag", AGENT_CHANNEL);
    setup.define("na", "");
    let uri = &setup.uri;
    let refused = virsh(uri, "shutdown ag --mode agent");
    assert_eq!(
        refused.stderr.trim_end(),
        "error: Failed to shutdown domain 'ag'\nerror: Requested operation is not valid: domain is not running"
    );
    virsh_ok(uri, "start na");
    setup.start("ag", "rvirt-guest: agent on");
    setup.wait_console("na", READY_MARKER);

    // Without an agent channel, libvirt's refusal; the guest keeps running.
    for (cmd, verb) in [("shutdown", "shutdown"), ("reboot", "reboot")] {
        let out = rvirsh(uri, &format!("{cmd} na --mode agent"));
        assert_eq!(
            out.stderr.trim_end(),
            format!("error: Failed to {verb} domain 'na'\nerror: argument unsupported: QEMU guest agent is not configured"),
        );
        let want = virsh(uri, &format!("{cmd} na --mode agent"));
        assert_eq!(want.stderr.trim_end(), out.stderr.trim_end());
    }
    assert_eq!(virsh_ok(uri, "domstate na").trim(), "running");
    virsh_ok(uri, "destroy na");

    // rvirsh reboots through the agent: the guest boots again.
    let rebooted = rvirsh(uri, "reboot ag --mode agent");
    assert!(rebooted.ok, "reboot --mode agent: {}", rebooted.stderr);
    assert_eq!(rebooted.stdout.trim_end(), "Domain 'ag' is being rebooted");
    assert!(setup.console("ag").contains("rvirt-guest: agent reboot"));
    wait_for("the agent never came back after the reboot", || {
        setup.console("ag").matches("rvirt-guest: agent on").count() == 2
    });

    // Stock virsh shuts it down through the agent.
    let shut = virsh(uri, "shutdown ag --mode agent");
    assert!(shut.ok, "shutdown --mode agent: {}", shut.stderr);
    assert_eq!(shut.stdout.trim_end(), "Domain 'ag' is being shutdown");
    assert!(setup.console("ag").contains("rvirt-guest: agent powerdown"));
    wait_for("the guest never shut off", || {
        virsh_ok(uri, "domstate ag --reason").trim() == "shut off (shutdown)"
    });
}
