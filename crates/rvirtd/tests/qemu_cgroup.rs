//! Cgroup placement of rvirtd's QEMU guests, checked in /proc and
//! /sys/fs/cgroup: the groups stock libvirtd 9.0 uses on this hybrid host
//! (v1 controllers plus a cgroup2 mount), the live XML's partition, the
//! groups' removal on destroy and for a guest that died while rvirtd was
//! down, placement kept across a SIGKILLed daemon, `cgroup_controllers`,
//! and the partition errors.

use rvirt_testkit::cgroups::{
    existing, group_of, hybrid_host, threads, vcpu_threads, wait_removed,
};
use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::qemu_dirs::{test_image as image, QemuDirs};
use rvirt_testkit::tools::{virsh, virsh_ok};

fn uri(d: &Daemon) -> String {
    format!("qemu+tcp://127.0.0.1:{}/system", d.port)
}

/// The guest's group as libvirt names it: `qemu-ID-NAME.libvirt-qemu`.
fn group(uri: &str, name: &str, partition: &str) -> String {
    let id = virsh_ok(uri, &format!("domid {name}"));
    format!("{partition}/qemu-{}-{name}.libvirt-qemu", id.trim())
}

/// Where stock libvirtd 9.0 put its QEMU on this host: the cpu and cpuset
/// emulator groups, memory, blkio and freezer in the guest's group,
/// cgroup2's emulator group; cpuacct and devices belong to cgroup2 there,
/// pids is no libvirt controller.
fn assert_libvirt_placement(pid: i32, rel: &str) {
    let emulator = format!("{rel}/emulator");
    for (controller, want) in [
        ("cpu", &emulator),
        ("cpuset", &emulator),
        ("", &emulator),
        ("memory", &rel.to_string()),
        ("blkio", &rel.to_string()),
        ("freezer", &rel.to_string()),
    ] {
        assert_eq!(
            group_of(pid, controller).as_deref(),
            Some(want.as_str()),
            "QEMU {pid} in {controller:?}"
        );
    }
    for outside in ["cpuacct", "devices", "pids"] {
        let g = group_of(pid, outside).unwrap_or_default();
        assert!(!g.starts_with(rel), "QEMU {pid} in {outside} group {g}");
    }
}

/// The vCPU threads in their `vcpuN` groups, every other thread in
/// `emulator` (libvirt places QEMU there before it starts any).
fn assert_threads_placed(pid: i32, rel: &str) {
    let vcpus = vcpu_threads(pid);
    assert!(!vcpus.is_empty(), "QEMU {pid} has no vCPU threads");
    let emulator = format!("{rel}/emulator");
    for tid in threads(pid) {
        if vcpus.iter().all(|(_, t)| *t != tid) {
            assert_eq!(
                group_of(tid, "cpu").as_deref(),
                Some(emulator.as_str()),
                "thread {tid}"
            );
            assert_eq!(
                group_of(tid, "").as_deref(),
                Some(emulator.as_str()),
                "thread {tid}"
            );
        }
    }
    for (index, tid) in vcpus {
        let want = format!("{rel}/vcpu{index}");
        assert_eq!(group_of(tid, "cpu"), Some(want.clone()), "vCPU {index}");
        assert_eq!(group_of(tid, "cpuset"), Some(want.clone()), "vCPU {index}");
        assert_eq!(group_of(tid, ""), Some(want), "vCPU {index}");
    }
}

#[test]
fn qemu_runs_in_libvirts_groups_and_they_go_with_it() {
    if !hybrid_host() {
        eprintln!("not root on a v1 + cgroup2 host: skipping");
        return;
    }
    let image = image();
    let dirs = QemuDirs::new();
    let mut first = Daemon::rvirtd(&dirs.conf());
    let uri = uri(&first);
    for name in ["cg1", "cg2"] {
        // cg2 can take a second vCPU live.
        let xml = dirs
            .guest_xml(name, &image, "")
            .replace("<vcpu>1</vcpu>", "<vcpu current='1'>2</vcpu>");
        let path = dirs.write(&format!("{name}.xml"), xml);
        virsh_ok(&uri, &format!("define {}", path.display()));
        virsh_ok(&uri, &format!("start {name}"));
    }
    let (pid1, pid2) = (dirs.pid_of("cg1").unwrap(), dirs.pid_of("cg2").unwrap());
    let rel1 = group(&uri, "cg1", "/machine");
    let rel2 = group(&uri, "cg2", "/machine");
    assert_libvirt_placement(pid1, &rel1);
    assert_threads_placed(pid1, &rel1);

    // The partition is the running definition's only.
    let resource = "  <resource>\n    <partition>/machine</partition>\n  </resource>\n";
    assert!(virsh_ok(&uri, "dumpxml cg1").contains(resource));
    assert!(!virsh_ok(&uri, "dumpxml cg1 --inactive").contains("<resource>"));

    virsh_ok(&uri, "destroy cg1");
    wait_removed(&rel1);
    assert!(!virsh_ok(&uri, "dumpxml cg1").contains("<resource>"));

    // A SIGKILLed daemon: the next one keeps cg2 where it was and removes
    // its groups when it stops; a guest that died meanwhile loses its
    // groups when the daemon finds it dead.
    virsh_ok(&uri, "start cg1");
    let pid1 = dirs.pid_of("cg1").unwrap();
    let rel1 = group(&uri, "cg1", "/machine");
    first.kill9();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid1),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let second = Daemon::rvirtd(&dirs.conf());
    let uri = self::uri(&second);
    assert_eq!(
        virsh_ok(&uri, "domstate cg1 --reason").trim(),
        "shut off (crashed)"
    );
    wait_removed(&rel1);
    assert_libvirt_placement(pid2, &rel2);
    // A vCPU plugged after the restart goes to its group too.
    virsh_ok(&uri, "setvcpus cg2 2 --live");
    assert_eq!(vcpu_threads(pid2).len(), 2);
    assert_threads_placed(pid2, &rel2);
    assert!(virsh_ok(&uri, "dumpxml cg2").contains(resource));
    assert!(!virsh_ok(&uri, "dumpxml cg2 --inactive").contains("<resource>"));
    virsh_ok(&uri, "destroy cg2");
    wait_removed(&rel2);
}

#[test]
fn cgroup_controllers_and_partitions() {
    if !hybrid_host() {
        eprintln!("not root on a v1 + cgroup2 host: skipping");
        return;
    }
    let image = image();
    let dirs = QemuDirs::new();
    let conf = format!("{}qemu_cgroup_controllers = [ \"memory\" ]\n", dirs.conf());
    let d = Daemon::rvirtd(&conf);
    let uri = uri(&d);
    let guest = |name: &str, resource: &str| {
        let xml = dirs.guest_xml(name, &image, "");
        let xml = xml.replacen("</memory>\n", &format!("</memory>\n{resource}"), 1);
        let path = dirs.write(&format!("{name}.xml"), xml);
        virsh_ok(&uri, &format!("define {}", path.display()));
    };

    // Only the memory controller: no thread groups, nothing in cpu.
    guest("cm1", "");
    virsh_ok(&uri, "start cm1");
    let pid = dirs.pid_of("cm1").unwrap();
    let rel = group(&uri, "cm1", "/machine");
    assert_eq!(group_of(pid, "memory"), Some(rel.clone()));
    for outside in ["cpu", "cpuset", "blkio", ""] {
        let g = group_of(pid, outside).unwrap_or_default();
        assert!(!g.starts_with(&rel), "QEMU in {outside:?} group {g}");
    }
    virsh_ok(&uri, "destroy cm1");
    wait_removed(&rel);

    // A partition other than /machine must exist already; one that is not
    // absolute is refused. Neither leaves a QEMU behind.
    guest(
        "cm2",
        "  <resource>\n    <partition>/no-such-part</partition>\n  </resource>\n",
    );
    let refused = virsh(&uri, "start cm2");
    assert!(
        refused
            .stderr
            .contains("Failed to create v1 controller memory for group: No such file or directory"),
        "{}",
        refused.stderr
    );
    assert!(existing("/no-such-part.partition").is_empty());
    guest(
        "cm3",
        "  <resource>\n    <partition>rel</partition>\n  </resource>\n",
    );
    let refused = virsh(&uri, "start cm3");
    assert!(
        refused
            .stderr
            .contains("unsupported configuration: Resource partition 'rel' must start with '/'"),
        "{}",
        refused.stderr
    );
    assert!(dirs.pid_of("cm2").is_none() && dirs.pid_of("cm3").is_none());
    let list = virsh_ok(&uri, "list --all");
    assert_eq!(list.matches("shut off").count(), 3, "{list}");
}
