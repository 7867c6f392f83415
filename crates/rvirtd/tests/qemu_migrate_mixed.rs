//! A mixed fleet: the test guest (TCG, its memory filled with random bytes
//! whose md5 it prints itself) started by stock libvirtd 9.0 on host A
//! migrates live to rvirtd on host B and back, each host in its own network,
//! UTS (and, for libvirtd, mount) namespace. Both daemons' QEMU drivers
//! speak libvirt's `<qemu-migration>` cookie, and rvirtd starts the
//! incoming QEMU with the device tree, RAM blocks, machine type and CPU the
//! libvirtd-started one has (and the other way round: the command lines
//! are compared). After every hop the serial tick counter went on without
//! a reboot, the checksum computed inside the guest is unchanged, and
//! `domjobinfo --completed` reports the job on both hosts (`hop`).

use rvirt_testkit::dirs::TempDir;
use rvirt_testkit::guest::{self, GuestArgs, READY_MARKER};
use rvirt_testkit::hosts::Lan;
use rvirt_testkit::qemu_hosts::{
    abort_and_check, hop, hop_postcopy, kill_incoming_and_check, setup_kinds,
    setup_libvirtd_rvirtd, spawn_migration, virsh_migrate, virsh_migrate_tunnelled,
    wait_transferring, HostKind, MigrationHost, QemuHost, TestGuest,
};
use rvirt_testkit::qemu_storage::{
    image_format_and_size, storage_hop, storage_setup_kinds, DISK_MIB,
};
use rvirt_testkit::tools::{python_libvirt_ready, Output};
use std::process::Stdio;

fn guest_args() -> GuestArgs {
    GuestArgs {
        fill_mib: 32,
        sum_seconds: Some(2),
        ..GuestArgs::default()
    }
}

/// python3-libvirt: `migrateToURI3` peer-to-peer with params, natively
/// to the destination's address or tunnelled.
const PYTHON_P2P: &str = r#"import libvirt
src = libvirt.open('SRC')
params = {libvirt.VIR_MIGRATE_PARAM_URI: 'tcp://ADDR'} if 'ADDR' else {}
flags = libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER
if 'THROUGH_TUNNEL' == 'yes':
    flags |= libvirt.VIR_MIGRATE_TUNNELLED
src.lookupByName('NAME').migrateToURI3('DST', params, flags)
"#;

/// `rvirsh migrate --live` of guest `name` from `src` to `dst` (managed:
/// rvirsh drives both daemons), run in `src`'s namespaces.
fn rvirsh_managed(
    rvirsh: &std::path::Path,
    src: &dyn MigrationHost,
    dst: &dyn MigrationHost,
    name: &str,
) -> Output {
    let uri = format!("{} --migrateuri tcp://{}", dst.uri(), dst.addr());
    rvirsh_migrate(rvirsh, src, &format!("migrate --live {name} {uri}"))
}

/// `rvirsh migrate --live --p2p --tunnelled` of guest `name` from `src` to
/// `dst`: the source daemon carries the memory over its connection to the
/// destination daemon.
fn rvirsh_tunnelled(
    rvirsh: &std::path::Path,
    src: &dyn MigrationHost,
    dst: &dyn MigrationHost,
    name: &str,
) -> Output {
    let how = "--live --p2p --tunnelled";
    rvirsh_migrate(rvirsh, src, &format!("migrate {how} {name} {}", dst.uri()))
}

/// rvirsh connected to `src` runs `command` in `src`'s namespaces.
fn rvirsh_migrate(rvirsh: &std::path::Path, src: &dyn MigrationHost, command: &str) -> Output {
    run_in(src, rvirsh, |c| {
        c.args(["-c", &src.uri()]).arg(command);
    })
}

/// python3-libvirt's `migrateToURI3` of guest `name` from `src` to `dst`
/// peer-to-peer (`tunnelled` or natively), run in `src`'s namespaces.
fn python_p2p(
    src: &dyn MigrationHost,
    dst: &dyn MigrationHost,
    name: &str,
    tunnelled: bool,
) -> Output {
    assert!(python_libvirt_ready(), "python3-libvirt is not installed");
    let code = PYTHON_P2P
        .replace("SRC", &src.uri())
        .replace("DST", &dst.uri())
        .replace("NAME", name)
        .replace("ADDR", if tunnelled { "" } else { dst.addr() })
        .replace("THROUGH_TUNNEL", if tunnelled { "yes" } else { "no" });
    run_in(src, std::path::Path::new("/usr/bin/python3"), |c| {
        c.args(["-c", &code]);
    })
}

/// Run `program` (set up by `args`) in `host`'s namespaces.
fn run_in(
    host: &dyn MigrationHost,
    program: &std::path::Path,
    args: impl FnOnce(&mut std::process::Command),
) -> Output {
    let mut cmd = host.command(program.to_str().expect("UTF-8 path"));
    args(&mut cmd);
    cmd.env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .expect("run the client")
        .into()
}

/// The running QEMU's arguments for guest `name` on `host`.
fn qemu_argv(host: &dyn MigrationHost, name: &str) -> Vec<String> {
    let pid = host.qemu_pid(name).expect("QEMU runs");
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).expect("QEMU's cmdline");
    raw.split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// What decides the migration stream's layout: machine, CPU, memory
/// (backend ids are RAM block names), SMP, and the devices (drivers and
/// bus addresses). Paths, sockets, secrets and `-incoming` differ by host.
/// The `-cpu` features QEMU's qemu64 has on anyway are left out: libvirtd
/// starts a guest with a bare `qemu64` and its migration destinations
/// with them named (from the cookie's CPU), as rvirtd names them on every
/// start; the guest sees the same CPU.
fn layout(argv: &[String]) -> Vec<String> {
    const SHAPING: &[&str] = &[
        "-machine", "-cpu", "-m", "-object", "-smp", "-device", "-global",
    ];
    argv.windows(2)
        .filter(|w| SHAPING.contains(&w[0].as_str()))
        .filter(|w| !w[1].contains("\"qom-type\":\"secret\""))
        .map(|w| match w[0].as_str() {
            "-cpu" => format!("-cpu {}", without_qemu64_defaults(&w[1])),
            _ => format!("{} {}", w[0], w[1]),
        })
        .collect()
}

/// A `-cpu` argument without the features qemu64 enables by itself.
fn without_qemu64_defaults(cpu: &str) -> String {
    cpu.split(',')
        .filter(|part| !["hypervisor=on", "lahf-lm=on"].contains(part))
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn libvirtd_to_rvirtd_and_back_managed_p2p_and_tunnelled() {
    let Some(s) = setup_kinds(
        "mixmig",
        &guest_args(),
        HostKind::Libvirtd,
        HostKind::Rvirtd,
        128,
    ) else {
        return;
    };
    let (a, b, g, sum) = (&s.a, &s.b, &s.g, &s.sum);
    assert_eq!((a.kind(), b.kind()), (HostKind::Libvirtd, HostKind::Rvirtd));
    let state = |h: &dyn MigrationHost| h.ok(&format!("domstate {}", g.name)).trim().to_string();
    let started_by_libvirtd = layout(&qemu_argv(a, &g.name));

    // Managed (virsh drives both daemons); the definition moves along in
    // the perform cookie's <domain> and leaves the source.
    let moving = "--persistent --undefinesource";
    hop(a, b, g, sum, || virsh_migrate(a, b, &g.name, moving));
    assert_eq!(state(b), "running");
    assert_eq!(layout(&qemu_argv(b, &g.name)), started_by_libvirtd);
    assert!(b.ok("list --persistent --name").contains(&g.name));
    assert!(!a.ok("list --all --name").contains(&g.name));
    hop(b, a, g, sum, || virsh_migrate(b, a, &g.name, moving));
    assert_eq!(state(a), "running");
    assert_eq!(layout(&qemu_argv(a, &g.name)), started_by_libvirtd);
    assert!(a.ok("list --persistent --name").contains(&g.name));
    assert!(!b.ok("list --all --name").contains(&g.name));

    // Peer-to-peer: each source daemon talks to the other kind itself.
    // The definition stays on each host it leaves, so both ends of every
    // later hop report the completed job (rvirtd as the source reads
    // libvirtd's finish statistics).
    let p2p = "--p2p --auto-converge --persistent";
    hop(a, b, g, sum, || virsh_migrate(a, b, &g.name, p2p));
    hop(b, a, g, sum, || virsh_migrate(b, a, &g.name, p2p));
    // A QEMU libvirtd started as a migration destination names its CPU's
    // features from the cookie; rvirtd starts the next one with exactly
    // that CPU.
    let cpu_on_a = cpu_arg(&qemu_argv(a, &g.name));

    // Tunnelled: the memory rides the daemons' connection.
    let tunnelled = "--persistent --auto-converge";
    hop(a, b, g, sum, || {
        virsh_migrate_tunnelled(a, b, &g.name, tunnelled)
    });
    assert_eq!(cpu_arg(&qemu_argv(b, &g.name)), cpu_on_a);
    hop(b, a, g, sum, || {
        virsh_migrate_tunnelled(b, a, &g.name, tunnelled)
    });
    assert_eq!(state(a), "running");
    assert_eq!(layout(&qemu_argv(a, &g.name)), started_by_libvirtd);

    // rvirsh drives a managed migration off libvirtd; python3-libvirt's
    // migrateToURI3 has rvirtd drive libvirtd peer-to-peer.
    let rvirsh = rvirt_testkit::bins::rvirsh(); // built before the clock runs
    hop(a, b, g, sum, || rvirsh_managed(&rvirsh, a, b, &g.name));
    hop(b, a, g, sum, || python_p2p(b, a, &g.name, false));
    assert_eq!(state(a), "running");
    // And the other way round: rvirsh drives rvirtd's managed migration to
    // libvirtd, python3-libvirt has libvirtd drive rvirtd peer-to-peer.
    hop(a, b, g, sum, || python_p2p(a, b, &g.name, false));
    hop(b, a, g, sum, || rvirsh_managed(&rvirsh, b, a, &g.name));
    // Tunnelled, each client each way.
    hop(a, b, g, sum, || rvirsh_tunnelled(&rvirsh, a, b, &g.name));
    hop(b, a, g, sum, || python_p2p(b, a, &g.name, true));
    hop(a, b, g, sum, || python_p2p(a, b, &g.name, true));
    hop(b, a, g, sum, || rvirsh_tunnelled(&rvirsh, b, a, &g.name));
    assert_eq!(state(a), "running");

    refused_before_anything_moves(a, b);
}

/// The `-cpu` argument of a QEMU command line.
fn cpu_arg(argv: &[String]) -> String {
    let at = argv.iter().position(|a| a == "-cpu").expect("-cpu");
    argv[at + 1].clone()
}

/// A guest whose vCPUs were plugged while it ran (`setvcpus --live`)
/// moves both ways: each destination starts QEMU with the boot vCPU in
/// `-smp` and plugs the others (`vcpuN`) from `<vcpus>` before the
/// memory arrives, so the device trees match. rvirtd plugs vCPU 1, the
/// guest goes to libvirtd, libvirtd plugs vCPU 2, the guest comes back.
/// After each hop the destination's `vcpucount`, `<vcpus>` and QEMU's
/// own vCPUs (`query-cpus-fast`) are what the source had, the ticks went
/// on and the memory checksum is unchanged.
#[test]
fn hot_plugged_vcpus_move_both_ways() {
    let Some((_lan, a, b)) = libvirtd_and_rvirtd() else {
        return;
    };
    let base = TempDir::new("mixvcpu");
    let name = "mixvcpu-guest";
    let vcpus = "<vcpu placement='static' current='1'>3</vcpu>";
    let (g, sum, _) = boot_on(b.as_ref(), &base, name, &[("<vcpu>1</vcpu>", vcpus)]);
    b.ok(&format!("setvcpus {name} 2 --live"));
    let on_b = vcpu_view(b.as_ref(), name);
    assert_eq!((on_b.count.as_str(), on_b.qemu_count), ("2", 2), "{on_b:?}");
    assert_eq!(on_b.qemu_vcpus, ["/machine/peripheral/vcpu1"], "{on_b:?}");
    assert_eq!(
        on_b.states,
        [
            "<vcpu id='0' enabled='yes' hotpluggable='no' order='1'/>",
            "<vcpu id='1' enabled='yes' hotpluggable='yes' order='2'/>",
            "<vcpu id='2' enabled='no' hotpluggable='yes'/>",
        ]
    );
    let smp = |h: &dyn MigrationHost| {
        let argv = qemu_argv(h, name);
        let at = argv.iter().position(|a| a == "-smp").expect("-smp");
        argv[at + 1].clone()
    };
    assert_eq!(smp(b.as_ref()), "1,maxcpus=3,sockets=3,cores=1,threads=1");

    hop(b.as_ref(), a.as_ref(), &g, &sum, || {
        virsh_migrate(b.as_ref(), a.as_ref(), name, "")
    });
    assert_eq!(vcpu_view(a.as_ref(), name), on_b);
    assert_eq!(smp(a.as_ref()), "1,maxcpus=3,sockets=3,cores=1,threads=1");
    a.ok(&format!("setvcpus {name} 3 --live"));
    let on_a = vcpu_view(a.as_ref(), name);
    assert_eq!(on_a.count, "3");
    assert_eq!(on_a.qemu_count, 3, "{on_a:?}");
    assert_eq!(on_a.qemu_vcpus.len(), 2, "{on_a:?}");
    let started_by_libvirtd = layout(&qemu_argv(a.as_ref(), name));

    hop(a.as_ref(), b.as_ref(), &g, &sum, || {
        virsh_migrate(a.as_ref(), b.as_ref(), name, "")
    });
    assert_eq!(vcpu_view(b.as_ref(), name), on_a);
    assert_eq!(layout(&qemu_argv(b.as_ref(), name)), started_by_libvirtd);

    // A start (not a migration) from that XML, <vcpus> and all, plugs
    // the hotpluggable vCPUs too, in their order.
    let xml = b.ok(&format!("dumpxml {name} --migratable"));
    let file = base.write("mixvcpu-again.xml", xml);
    b.ok(&format!("destroy {name}"));
    b.ok(&format!("create {}", file.display()));
    let again = vcpu_view(b.as_ref(), name);
    assert_eq!(
        (again.count.as_str(), again.qemu_count),
        ("3", 3),
        "{again:?}"
    );
    assert_eq!(again.qemu_vcpus, on_a.qemu_vcpus);
    assert_eq!(again.states, on_a.states);
    b.ok(&format!("destroy {name}"));
}

/// A LAN (dropped last) with stock libvirtd on A and rvirtd on B.
type MixedHosts = (Lan, Box<dyn MigrationHost>, Box<dyn MigrationHost>);

/// Stock libvirtd on A, rvirtd on B; `None` where either is not
/// available.
fn libvirtd_and_rvirtd() -> Option<MixedHosts> {
    if !rvirt_testkit::libvirtd_host::LibvirtdHost::available() {
        return None;
    }
    let lan = Lan::create()?;
    let a = HostKind::Libvirtd.start(&lan.a, "rvirt-qa");
    let b = HostKind::Rvirtd.start(&lan.b, "rvirt-qb");
    Some((lan, a, b))
}

/// The test guest (summing its memory) with `edits` to its XML, created
/// on `host` and booted; its checksum.
fn boot_on(
    host: &dyn MigrationHost,
    base: &TempDir,
    name: &str,
    edits: &[(&str, &str)],
) -> (TestGuest, String, std::path::PathBuf) {
    let args = GuestArgs {
        fill_mib: 8,
        sum_seconds: Some(2),
        ..GuestArgs::default()
    };
    let (g, file) = TestGuest::sized(base, name, &args, 128);
    let mut xml = std::fs::read_to_string(&file).unwrap();
    for (from, to) in edits {
        assert!(xml.contains(from), "{from} in {xml}");
        xml = xml.replacen(from, to, 1);
    }
    std::fs::write(&file, xml).unwrap();
    host.ok(&format!("create {}", file.display()));
    g.wait_for(0, 90, READY_MARKER, |t| {
        t.contains(READY_MARKER).then_some(())
    });
    let sum = g.sum_after(0);
    (g, sum, file)
}

/// A guest with two NUMA cells (a RAM backend `ram-nodeN` each, the
/// RAM blocks migration names), started by libvirtd, moves to rvirtd and
/// back: rvirtd starts its QEMU with libvirtd's memory objects, `-numa`
/// nodes and distances, the guest ticks on with its memory unchanged,
/// and rvirtd's live XML keeps the cells. rvirtd then starts the guest
/// from the same XML with libvirtd's layout.
#[test]
fn numa_cells_move_both_ways() {
    let Some((_lan, a, b)) = libvirtd_and_rvirtd() else {
        return;
    };
    let base = TempDir::new("mixnuma");
    let name = "mixnuma-guest";
    let cells = "<vcpu>2</vcpu>\n  <cpu>\n    <numa>\n      \
                 <cell id='0' cpus='0' memory='64' unit='MiB'>\n        <distances>\n          \
                 <sibling id='0' value='10'/>\n          <sibling id='1' value='21'/>\n        \
                 </distances>\n      </cell>\n      \
                 <cell id='1' cpus='1' memory='64' unit='MiB'/>\n    </numa>\n  </cpu>";
    let (g, sum, file) = boot_on(a.as_ref(), &base, name, &[("<vcpu>1</vcpu>", cells)]);
    let started_by_libvirtd = layout(&qemu_argv(a.as_ref(), name));
    let cells_on_a = numa_xml(a.as_ref(), name);
    assert!(cells_on_a.contains("<cell id='1' cpus='1' memory='65536' unit='KiB'>"));
    let numa = |argv: &[String]| {
        argv.windows(2)
            .filter(|w| w[0] == "-numa")
            .map(|w| w[1].clone())
            .collect::<Vec<_>>()
    };
    let nodes = numa(&qemu_argv(a.as_ref(), name));
    assert_eq!(nodes.len(), 2 + 4, "{nodes:?}");
    assert!(started_by_libvirtd
        .iter()
        .any(|o| o.contains(r#""id":"ram-node1""#)));
    hop(a.as_ref(), b.as_ref(), &g, &sum, || {
        virsh_migrate(a.as_ref(), b.as_ref(), name, "")
    });
    let on_b = qemu_argv(b.as_ref(), name);
    assert_eq!(layout(&on_b), started_by_libvirtd);
    assert_eq!(numa(&on_b), nodes);
    assert_eq!(numa_xml(b.as_ref(), name), cells_on_a);
    hop(b.as_ref(), a.as_ref(), &g, &sum, || {
        virsh_migrate(b.as_ref(), a.as_ref(), name, "")
    });
    assert_eq!(layout(&qemu_argv(a.as_ref(), name)), started_by_libvirtd);
    a.ok(&format!("destroy {name}"));
    // Started by rvirtd from the same XML: libvirtd's layout too.
    b.ok(&format!("create {}", file.display()));
    assert_eq!(layout(&qemu_argv(b.as_ref(), name)), started_by_libvirtd);
    b.ok(&format!("destroy {name}"));
}

/// The `<numa>` element of a guest's live XML.
fn numa_xml(host: &dyn MigrationHost, name: &str) -> String {
    let xml = host.ok(&format!("dumpxml {name}"));
    let start = xml.find("<numa>").expect("<numa>");
    let end = xml.find("</numa>").expect("</numa>");
    xml[start..end].to_string()
}

/// A host's view of a guest's vCPUs: `vcpucount --live --active`, the
/// `<vcpus>` lines of its live XML, and the hot-plugged vCPUs' QOM paths
/// among QEMU's own (`query-cpus-fast`, which counts them all).
#[derive(Debug, PartialEq, Eq)]
struct VcpuView {
    count: String,
    states: Vec<String>,
    qemu_count: usize,
    qemu_vcpus: Vec<String>,
}

fn vcpu_view(host: &dyn MigrationHost, name: &str) -> VcpuView {
    let count = host.ok(&format!("vcpucount {name} --live --active"));
    let xml = host.ok(&format!("dumpxml {name}"));
    let states = xml
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("<vcpu id="))
        .map(str::to_string)
        .collect();
    let query = r#"'{"execute":"query-cpus-fast"}'"#;
    let cpus = host.ok(&format!("qemu-monitor-command {name} {query}"));
    let paths: Vec<&str> = cpus
        .split(r#""qom-path":""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let mut qemu_vcpus: Vec<String> = paths
        .iter()
        .filter(|p| p.starts_with("/machine/peripheral/"))
        .map(|p| p.to_string())
        .collect();
    qemu_vcpus.sort();
    VcpuView {
        count: count.trim().to_string(),
        states,
        qemu_count: paths.len(),
        qemu_vcpus,
    }
}

/// Guests libvirtd runs that rvirtd cannot reproduce exactly: memory
/// hotplug (libvirt's begin cookie marks it mandatory) and a shared memfd
/// RAM backend (rvirt's command line has neither). The migration fails in
/// prepare; the guest runs on on libvirtd and nothing is left on rvirtd.
fn refused_before_anything_moves(a: &dyn MigrationHost, b: &dyn MigrationHost) {
    let base = TempDir::new("mixref");
    let memory = "<memory unit='MiB'>128</memory>";
    let cases = [
        (
            "mixref-hotplug",
            format!(
                "<maxMemory slots='2' unit='MiB'>512</maxMemory>\n  {memory}\n  \
                 <cpu>\n    <numa>\n      <cell id='0' cpus='0' memory='128' unit='MiB'/>\n    \
                 </numa>\n  </cpu>"
            ),
            "Unsupported migration cookie feature memory-hotplug",
        ),
        (
            "mixref-memfd",
            format!(
                "{memory}\n  <memoryBacking>\n    <source type='memfd'/>\n    \
                 <access mode='shared'/>\n  </memoryBacking>"
            ),
            "memoryBacking",
        ),
    ];
    for (name, replacement, refusal) in cases {
        let (g, file) = TestGuest::sized(&base, name, &GuestArgs::default(), 128);
        let xml = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, xml.replacen(memory, &replacement, 1)).unwrap();
        a.ok(&format!("create {}", file.display()));
        let pid = a.qemu_pid(&g.name).expect("QEMU on libvirtd");
        let out = virsh_migrate(a, b, &g.name, "");
        assert!(!out.ok, "{name} migrated: {}", out.stdout);
        assert!(out.stderr.contains(refusal), "{name}: {}", out.stderr);
        eprintln!("{name} refused: {}", out.stderr.trim());
        assert_eq!(a.qemu_pid(&g.name), Some(pid));
        assert_eq!(a.ok(&format!("domstate {name}")).trim(), "running");
        assert!(!b.ok("list --all --name").contains(name));
        assert!(b.qemu_pid(name).is_none());
        a.ok(&format!("destroy {name}"));
    }
}

/// `--copy-storage-all` both ways with a disk-backed guest, each host its
/// own file at the disk's path: rvirtd creates the image libvirtd's begin
/// cookie describes and serves it over NBD for libvirtd's mirror; back on
/// libvirtd (its image removed meanwhile), libvirtd creates it in its
/// directory pool and rvirtd's mirror fills it. Then `--copy-storage-inc`
/// both ways onto the images already there. The images are identical at
/// each switch-over and the guest's disk counter goes on; rvirtd starts
/// the disk-backed QEMU with libvirtd's device tree. A tunnelled copy is
/// refused both ways, as libvirt refuses it.
#[test]
fn a_disk_backed_guest_moves_with_its_storage_both_ways() {
    let args = GuestArgs {
        fill_mib: 8,
        sum_seconds: Some(2),
        disk: Some("vda".into()),
        ..GuestArgs::default()
    };
    let kinds = (HostKind::Libvirtd, HostKind::Rvirtd);
    let Some(s) = storage_setup_kinds("mixstor", &args, kinds) else {
        return;
    };
    let (a, b) = (&s.a, &s.b);
    assert!(!s.image_on(b).exists());
    // The disk's device, drive and node names are part of the layout too.
    let started_by_libvirtd = layout(&qemu_argv(a.as_ref(), &s.g.name));
    tunnelled_copy_refused(a, b, &s.g);
    storage_hop(&s, a, b, "--copy-storage-all");
    assert_eq!(
        layout(&qemu_argv(b.as_ref(), &s.g.name)),
        started_by_libvirtd
    );
    tunnelled_copy_refused(b, a, &s.g);
    let created = image_format_and_size(&s.image_on(b));
    assert_eq!((created.0.as_str(), created.1), ("qcow2", DISK_MIB << 20));
    std::fs::remove_file(s.image_on(a)).expect("remove A's image");
    storage_hop(&s, b, a, "--copy-storage-all --p2p");
    let created = image_format_and_size(&s.image_on(a));
    assert_eq!((created.0.as_str(), created.1), ("qcow2", DISK_MIB << 20));
    // Incremental: each side's image is there already; only the top layer
    // (here the whole image, it has no backing file) is copied.
    storage_hop(&s, a, b, "--copy-storage-inc");
    storage_hop(&s, b, a, "--copy-storage-inc --p2p");
}

/// libvirt 9.0 copies no storage through a tunnel with this QEMU: both
/// kinds refuse in begin with libvirt's error, the guest untouched on
/// `src` and nothing started on `dst`.
fn tunnelled_copy_refused(src: &dyn MigrationHost, dst: &dyn MigrationHost, g: &TestGuest) {
    let pid = src.qemu_pid(&g.name).expect("QEMU on the source");
    let state = src.ok(&format!("domstate {}", g.name));
    let out = virsh_migrate_tunnelled(src, dst, &g.name, "--copy-storage-all");
    assert!(!out.ok, "migrated: {}", out.stdout);
    let refusal = "Operation not supported: migration of non-shared storage is not \
                   supported with tunnelled migration and this QEMU";
    assert!(out.stderr.contains(refusal), "{}", out.stderr);
    assert_eq!(src.qemu_pid(&g.name), Some(pid));
    assert_eq!(src.ok(&format!("domstate {}", g.name)), state);
    assert!(dst.qemu_pid(&g.name).is_none());
}

/// The bandwidth cap of the jobs the test acts on.
const CAP: &str = "--bandwidth 8";

/// In each direction: an aborted job and a killed destination QEMU leave
/// the guest running on the source and nothing on the destination; then
/// post-copy (`virsh migrate-postcopy` once bytes move) completes the
/// move, the destination pulling the rest, the tick counter continuing,
/// the definition moving along. Between the directions the guest that
/// came from libvirtd survives a SIGKILLed and restarted rvirtd. Then
/// post-copy once more each way, in the other mode.
#[test]
fn failures_leave_the_guest_on_the_source_and_postcopy_moves_it_both_ways() {
    let Some(mut s) = setup_libvirtd_rvirtd("mixfail", &GuestArgs::dirtying(), 128) else {
        return;
    };
    fail_then_postcopy(&s.a, &s.b, &s.g, &s.sum, "");
    survives_a_killed_rvirtd(&mut s.b, &s.g);
    fail_then_postcopy(&s.b, &s.a, &s.g, &s.sum, "--p2p");
    // Post-copy in the other mode each way: peer-to-peer from libvirtd,
    // managed from rvirtd.
    let moving = format!("--persistent --undefinesource {CAP}");
    hop_postcopy(&s.a, &s.b, &s.g, &s.sum, &format!("--p2p {moving}"));
    hop_postcopy(&s.b, &s.a, &s.g, &s.sum, &moving);
}

/// From `src` to `dst`: an abort, a killed destination QEMU (each leaving
/// the guest on `src`), then post-copy (`how`: managed or `--p2p`) with
/// the definition moving along (so failures the other way find none on
/// `src`).
fn fail_then_postcopy(
    src: &dyn MigrationHost,
    dst: &dyn MigrationHost,
    g: &TestGuest,
    sum: &str,
    how: &str,
) {
    let migrating = spawn_migration(src, dst, g, CAP);
    wait_transferring(src, dst, g);
    abort_and_check(src, dst, g, migrating);
    let migrating = spawn_migration(src, dst, g, CAP);
    wait_transferring(src, dst, g);
    kill_incoming_and_check(src, dst, g, migrating);
    let moving = format!("{how} --persistent --undefinesource {CAP}");
    hop_postcopy(src, dst, g, sum, &moving);
}

/// rvirtd, running the guest that came from libvirtd, is SIGKILLed and
/// started again: the guest is still listed (persistent, running), the
/// same QEMU, controllable (suspend, resume), its ticks never restarted.
fn survives_a_killed_rvirtd(b: &mut QemuHost, g: &TestGuest) {
    let pid = b.qemu_pid(&g.name).expect("QEMU on rvirtd");
    let from = g.console_len();
    let before = guest::last_tick(&g.text()).unwrap_or(0);
    b.host.kill9();
    b.host.restart();
    assert!(b.ok("list --persistent --name").contains(&g.name));
    assert_eq!(b.qemu_pid(&g.name), Some(pid));
    assert_eq!(b.ok(&format!("domstate {}", g.name)).trim(), "running");
    b.ok(&format!("suspend {}", g.name));
    assert_eq!(b.ok(&format!("domstate {}", g.name)).trim(), "paused");
    b.ok(&format!("resume {}", g.name));
    let after = g.tick_after(g.console_len(), before);
    let since = g.text_from(from);
    assert!(!since.contains(READY_MARKER), "the guest booted again");
    eprintln!("rvirtd restarted: the guest ticks on ({before} -> {after})");
}
