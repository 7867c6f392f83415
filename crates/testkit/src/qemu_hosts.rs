//! Two rvirtd hosts serving `qemu:///system`, each in its own network and
//! UTS namespace, and the test guest (TCG, memory filled with random bytes
//! whose md5 it prints itself) that the QEMU migration tests move between
//! them: one hop checked end to end (QEMU only on the destination, ticks
//! going on, checksum unchanged, the completed job on both hosts), and
//! migrations run in the background for tests that act on the job.
//! The helpers take any [`MigrationHost`]: an rvirtd [`QemuHost`] or a
//! stock [`LibvirtdHost`](crate::libvirtd_host::LibvirtdHost), in any pair
//! ([`setup_kinds`]).

use crate::dirs::TempDir;
use crate::guest::{self, GuestArgs, READY_MARKER};
use crate::hosts::{Host, Lan, NetNs};
pub use crate::migration_host::{HostKind, MigrationHost};
use crate::qemu_dirs::{test_image, QemuDirs};
use crate::tools::Output;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The QEMU the test guest runs on.
pub const QEMU: &str = "/usr/bin/qemu-system-x86_64";

/// One rvirtd host serving `qemu:///system`, its driver's directories
/// (whose QEMUs are killed when the test ends) its own.
pub struct QemuHost {
    pub host: Host,
    pub dirs: QemuDirs,
}

impl QemuHost {
    pub fn start(lan_side: &NetNs, name: &str) -> QemuHost {
        QemuHost::start_with(lan_side, name, "")
    }

    /// As [`QemuHost::start`], with `extra` appended to the config.
    pub fn start_with(lan_side: &NetNs, name: &str, extra: &str) -> QemuHost {
        let dirs = QemuDirs::new();
        // QEMU as root and no relabelling, as the stock libvirtd hosts run
        // it: post-copy needs userfaultfd, which this kernel gives
        // unprivileged processes only with vm.unprivileged_userfaultfd = 1
        // (libvirt 9.0 likewise), and the test guest's kernel is shared by
        // every host, whose DAC labels would otherwise collide.
        let conf = format!("{}{MIGRATION_HOST_USER}{extra}", dirs.conf());
        let host = Host::start_in(Some(lan_side), name, &conf);
        QemuHost { host, dirs }
    }

    pub fn uri(&self) -> String {
        format!("qemu+tcp://{}:{}/system", self.host.addr, self.host.port)
    }

    /// Stock virsh on this host's `qemu:///system`, run from its namespace.
    pub fn virsh(&self, commands: &str) -> Output {
        self.host.virsh_at(&self.uri(), commands)
    }

    pub fn ok(&self, commands: &str) -> String {
        let out = self.virsh(commands);
        assert!(
            out.ok,
            "{}: virsh {commands:?} failed: {}{}\n--- daemon log:\n{}",
            self.host.hostname,
            out.stdout,
            out.stderr,
            self.host.log()
        );
        out.stdout
    }

    /// The pid of the QEMU this host runs for `name`, if it is alive.
    pub fn qemu_pid(&self, name: &str) -> Option<i32> {
        self.dirs.pid_of(name).filter(|pid| alive(*pid))
    }
}

pub fn alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

/// Daemons that PING a silent peer every second and give up after two
/// unanswered PINGs (libvirt's keepalive_interval and keepalive_count,
/// which a peer-to-peer source also uses for its connection to B): fault
/// tests notice a lost peer in seconds.
pub const FAST_KEEPALIVE: &str = "keepalive_interval = 1\nkeepalive_count = 2\n";

/// The guest of the fault tests: 32 MiB of random memory, its checksum
/// printed every 2 s.
pub fn fault_guest() -> GuestArgs {
    GuestArgs {
        fill_mib: 32,
        sum_seconds: Some(2),
        ..GuestArgs::default()
    }
}

/// The QEMU user of the migration hosts (see [`QemuHost::start_with`]).
const MIGRATION_HOST_USER: &str =
    "qemu_user = \"root\"\nqemu_group = \"root\"\nqemu_dynamic_ownership = 0\n";

/// QEMU's migration ports (libvirtd's `migration_port_min/max`), as an
/// `ss` filter.
pub const MIGRATION_PORTS: &str = "( dport >= :49152 and dport <= :49215 )";

/// `ss -K` in `a`'s namespace on its TCP connections to `b` that match
/// `ports` (an `ss` filter): the kernel resets both ends. What ss killed.
pub fn cut_connections(a: &QemuHost, b: &QemuHost, ports: &str) -> String {
    let filter = format!("dst {} {ports}", b.host.addr);
    let out = a
        .host
        .command("ss")
        .args(["-HKtn"])
        .args(filter.split_whitespace())
        .stdin(Stdio::null())
        .output()
        .expect("run ss -K");
    assert!(out.status.success(), "ss -K {filter} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Wait up to `secs` for process `pid` to end (and be reaped); whether it did.
pub fn wait_gone(pid: i32, secs: u64) -> bool {
    let start = Instant::now();
    while alive(pid) && start.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_millis(50));
    }
    !alive(pid)
}

/// The test guest: its name and the serial console file both QEMUs append
/// to (the same path on both hosts).
pub struct TestGuest {
    pub name: String,
    pub console: PathBuf,
}

impl TestGuest {
    /// The guest (128 MiB) and its definition's file in `base`.
    pub fn new(base: &TempDir, name: &str, args: &GuestArgs) -> (TestGuest, PathBuf) {
        TestGuest::sized(base, name, args, 128)
    }

    /// As [`TestGuest::new`], with `memory_mib` of RAM (at least 96: with
    /// less the kernel never reaches its console, more for a large fill).
    pub fn sized(
        base: &TempDir,
        name: &str,
        args: &GuestArgs,
        memory_mib: u64,
    ) -> (TestGuest, PathBuf) {
        TestGuest::with_emulator(base, name, args, memory_mib, Path::new(QEMU))
    }

    /// As [`TestGuest::sized`], run by `emulator` (a wrapper of QEMU, say).
    pub fn with_emulator(
        base: &TempDir,
        name: &str,
        args: &GuestArgs,
        memory_mib: u64,
        emulator: &Path,
    ) -> (TestGuest, PathBuf) {
        let image = test_image();
        let console = base.join(format!("{name}.console"));
        let xml = format!(
            "<domain type='qemu'>\n  <name>{name}</name>\n  <memory unit='MiB'>{memory_mib}</memory>\n  \
             <vcpu>1</vcpu>\n  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n    \
             <kernel>{}</kernel>\n    <initrd>{}</initrd>\n    <cmdline>{}</cmdline>\n  </os>\n  \
             <features>\n    <acpi/>\n  </features>\n  <devices>\n    \
             <emulator>{}</emulator>\n    \
             <serial type='file'>\n      <source path='{}' append='on'/>\n      \
             <target port='0'/>\n    </serial>\n  </devices>\n</domain>\n",
            image.kernel.display(),
            image.initramfs.display(),
            args.cmdline(),
            emulator.display(),
            console.display()
        );
        let file = base.write(&format!("{name}.xml"), xml);
        (
            TestGuest {
                name: name.to_string(),
                console,
            },
            file,
        )
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.console).unwrap_or_default()).into_owned()
    }

    /// The console from byte `from` on.
    pub fn text_from(&self, from: usize) -> String {
        let all = std::fs::read(&self.console).unwrap_or_default();
        String::from_utf8_lossy(&all[from.min(all.len())..]).into_owned()
    }

    pub fn console_len(&self) -> usize {
        std::fs::metadata(&self.console).map_or(0, |m| m.len() as usize)
    }

    /// Wait (up to `secs`) until `probe` of the console from `from` says yes.
    pub fn wait_for<T>(
        &self,
        from: usize,
        secs: u64,
        what: &str,
        probe: impl Fn(&str) -> Option<T>,
    ) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = probe(&self.text_from(from)) {
                return v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "{}: {what} never came:\n{}",
                self.name,
                self.text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The first checksum the guest prints after byte `from`.
    pub fn sum_after(&self, from: usize) -> String {
        self.wait_for(from, 60, "a checksum", |t| {
            guest::sums(t).into_iter().next()
        })
    }

    /// A tick above `above` printed after byte `from`.
    pub fn tick_after(&self, from: usize, above: u64) -> u64 {
        self.wait_for(from, 30, &format!("a tick above {above}"), |t| {
            guest::last_tick(t).filter(|n| *n > above)
        })
    }
}

/// The label's value in virsh's `Name:   value` output.
pub fn field<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        l.strip_prefix(label)
            .map(|v| v.trim_start_matches(':').trim())
    })
}

/// `domjobinfo --completed` on `host` shows a completed job with bytes
/// moved and a downtime.
pub fn check_completed(host: &dyn MigrationHost, name: &str) {
    let info = host.ok(&format!("domjobinfo {name} --completed"));
    eprintln!(
        "{} ({}): domjobinfo --completed\n{info}",
        host.hostname(),
        host.kind().name()
    );
    assert_eq!(field(&info, "Job type"), Some("Completed"), "{info}");
    assert!(field(&info, "Data processed").is_some(), "{info}");
    assert!(field(&info, "Total downtime").is_some(), "{info}");
    // The two ends exchanged their clocks through the cookies: each shows
    // the times without the delta between them (libvirt's timeDelta).
    assert!(field(&info, "Time elapsed w/o network").is_some(), "{info}");
    assert!(field(&info, "Downtime w/o network").is_some(), "{info}");
}

/// One hop, `migrate` run on `src` (its output returned): QEMU runs only on
/// `dst` afterwards, the ticks went on, the checksum is `sum`, and both
/// hosts report the completed job.
pub fn hop(
    src: &dyn MigrationHost,
    dst: &dyn MigrationHost,
    g: &TestGuest,
    sum: &str,
    migrate: impl FnOnce() -> Output,
) {
    hop_checked(src, dst, (g, sum), migrate, true);
}

/// A post-copy hop ([`postcopy_migration`] with `extra`), checked as
/// [`hop`] but for the destination's completed job: after post-copy
/// libvirt keeps none there (its figures would be obsolete).
pub fn hop_postcopy(
    src: &dyn MigrationHost,
    dst: &dyn MigrationHost,
    g: &TestGuest,
    sum: &str,
    extra: &str,
) {
    let migrate = || postcopy_migration(src, dst, g, extra);
    hop_checked(src, dst, (g, sum), migrate, false);
    let info = dst.ok(&format!("domjobinfo {} --completed", g.name));
    assert_eq!(field(&info, "Job type"), Some("None"), "{info}");
}

fn hop_checked(
    src: &dyn MigrationHost,
    dst: &dyn MigrationHost,
    (g, sum): (&TestGuest, &str),
    migrate: impl FnOnce() -> Output,
    dst_completed: bool,
) {
    let src_pid = src.qemu_pid(&g.name).expect("QEMU on the source");
    let from = g.console_len();
    let before = guest::last_tick(&g.text()).unwrap_or(0);
    let started = Instant::now();
    check_migrated(src, dst, &migrate(), started, "");
    let dst_pid = dst.qemu_pid(&g.name).expect("QEMU on the destination");
    assert_ne!(dst_pid, src_pid);
    assert!(!alive(src_pid), "the source QEMU {src_pid} still runs");
    assert!(src.qemu_pid(&g.name).is_none());
    let moved = g.text_from(from);
    assert!(
        !moved.contains(READY_MARKER),
        "the guest booted again:\n{moved}"
    );
    let first = guest::last_tick(moved.lines().next().unwrap_or_default());
    assert!(
        first.is_none_or(|t| t > before),
        "ticks restarted:\n{moved}"
    );
    let after = g.console_len();
    g.tick_after(after, guest::last_tick(&moved).unwrap_or(before));
    assert_eq!(g.sum_after(after), sum, "the guest's memory changed");
    if dst_completed {
        check_completed(dst, &g.name);
    }
    // A transient (or undefined) source domain is gone with its job.
    if src.ok("list --all --name").lines().any(|n| n == g.name) {
        check_completed(src, &g.name);
    }
}

/// The migration `out` (begun at `started`; `what` it was) succeeded,
/// else both daemons' logs; its time is noted.
pub fn check_migrated(
    src: &dyn MigrationHost,
    dst: &dyn MigrationHost,
    out: &Output,
    started: Instant,
    what: &str,
) {
    let logs = || format!("--- src:\n{}\n--- dst:\n{}", src.log(), dst.log());
    assert!(
        out.ok,
        "migration failed: {}{}\n{}",
        out.stdout,
        out.stderr,
        logs()
    );
    eprintln!(
        "{} ({}) -> {} ({}) {what}: {:?}",
        src.hostname(),
        src.kind().name(),
        dst.hostname(),
        dst.kind().name(),
        started.elapsed()
    );
}

/// `virsh migrate --live EXTRA` of guest `name` from `src` to `dst`, run on
/// `src`, natively to `dst`'s address (its host name resolves nowhere).
pub fn virsh_migrate(
    src: &dyn MigrationHost,
    dst: &dyn MigrationHost,
    name: &str,
    extra: &str,
) -> Output {
    let native = format!(" --migrateuri tcp://{}", dst.addr());
    migrate_live(src, dst, name, extra, &native)
}

/// `virsh migrate --live OPTIONS NAME DST-URI TAIL`, run on `src`.
fn migrate_live(
    src: &dyn MigrationHost,
    dst: &dyn MigrationHost,
    name: &str,
    options: &str,
    tail: &str,
) -> Output {
    src.virsh(&format!(
        "migrate --live {options} {name} {}{tail}",
        dst.uri()
    ))
}

/// `virsh migrate --live --p2p --tunnelled EXTRA` of guest `name`: the
/// memory rides the daemons' connection.
pub fn virsh_migrate_tunnelled(
    src: &dyn MigrationHost,
    dst: &dyn MigrationHost,
    name: &str,
    extra: &str,
) -> Output {
    migrate_live(src, dst, name, &format!("--p2p --tunnelled {extra}"), "")
}

/// Two hosts and a running test guest on the first, ready and summed;
/// dropped in field order: guests killed and daemons stopped before the
/// namespaces and the directory go.
pub struct Setup<A = QemuHost, B = QemuHost> {
    pub a: A,
    pub b: B,
    pub g: TestGuest,
    pub sum: String,
    lan: Lan,
    _base: TempDir,
}

impl<A, B> Setup<A, B> {
    /// The link between the hosts: down (silently, see [`Lan::set_link`])
    /// or up again.
    pub fn set_link(&self, up: bool) {
        self.lan.set_link(up);
    }
}

/// Two rvirtd hosts (`rvirt-qa`, `rvirt-qb`) and the guest (128 MiB) on A.
pub fn setup(tag: &str, args: &GuestArgs) -> Option<Setup> {
    setup_with(tag, args, "")
}

/// As [`setup`], both daemons' configs with `extra` appended.
pub fn setup_with(tag: &str, args: &GuestArgs, extra: &str) -> Option<Setup> {
    let lan = Lan::create()?;
    let a = QemuHost::start_with(&lan.a, "rvirt-qa", extra);
    let b = QemuHost::start_with(&lan.b, "rvirt-qb", extra);
    Some(setup_on(lan, a, b, tag, (args, 128, Path::new(QEMU))))
}

/// Host A of kind `a` and host B of kind `b` (named `rvirt-qa`, `rvirt-qb`
/// whichever daemon they run), and the guest with `memory_mib` of RAM
/// running on A; `None` (with a note) where namespaces or stock libvirtd
/// are not available.
pub fn setup_kinds(
    tag: &str,
    args: &GuestArgs,
    a: HostKind,
    b: HostKind,
    memory_mib: u64,
) -> Option<Setup<Box<dyn MigrationHost>, Box<dyn MigrationHost>>> {
    setup_kinds_with(tag, args, (a, b), memory_mib, Path::new(QEMU))
}

/// Stock libvirtd on A (`rvirt-qa`), rvirtd on B (`rvirt-qb`), as their
/// own types (a test can restart B's daemon), and the guest with
/// `memory_mib` of RAM running on A; `None` as [`setup_kinds`].
pub fn setup_libvirtd_rvirtd(
    tag: &str,
    args: &GuestArgs,
    memory_mib: u64,
) -> Option<Setup<crate::libvirtd_host::LibvirtdHost, QemuHost>> {
    if !crate::libvirtd_host::LibvirtdHost::available() {
        return None;
    }
    let lan = Lan::create()?;
    let a = crate::libvirtd_host::LibvirtdHost::start(&lan.a, "rvirt-qa");
    let b = QemuHost::start(&lan.b, "rvirt-qb");
    let guest = (args, memory_mib, Path::new(QEMU));
    Some(setup_on(lan, a, b, tag, guest))
}

/// As [`setup_kinds`], the guest run by `emulator`.
pub fn setup_kinds_with(
    tag: &str,
    args: &GuestArgs,
    (a, b): (HostKind, HostKind),
    memory_mib: u64,
    emulator: &Path,
) -> Option<Setup<Box<dyn MigrationHost>, Box<dyn MigrationHost>>> {
    setup_kinds_conf(tag, args, (a, b), (memory_mib, emulator), "")
}

/// As [`setup_kinds_with`] (memory and emulator as a pair), both daemons
/// started with `extra` config lines.
pub fn setup_kinds_conf(
    tag: &str,
    args: &GuestArgs,
    (a, b): (HostKind, HostKind),
    (memory_mib, emulator): (u64, &Path),
    extra: &str,
) -> Option<Setup<Box<dyn MigrationHost>, Box<dyn MigrationHost>>> {
    let stock = [a, b].contains(&HostKind::Libvirtd);
    if stock && !crate::libvirtd_host::LibvirtdHost::available() {
        return None;
    }
    let lan = Lan::create()?;
    let host_a = a.start_with(&lan.a, "rvirt-qa", extra);
    let host_b = b.start_with(&lan.b, "rvirt-qb", extra);
    let guest = (args, memory_mib, emulator);
    Some(setup_on(lan, host_a, host_b, tag, guest))
}

/// The guest (its args, MiB of RAM, emulator) defined and started on A.
fn setup_on<A: MigrationHost, B: MigrationHost>(
    lan: Lan,
    a: A,
    b: B,
    tag: &str,
    (args, memory_mib, emulator): (&GuestArgs, u64, &Path),
) -> Setup<A, B> {
    let base = TempDir::new(tag);
    let name = format!("{tag}-guest");
    let (g, xml) = TestGuest::with_emulator(&base, &name, args, memory_mib, emulator);
    a.ok(&format!("define {}", xml.display()));
    a.ok(&format!("start {}", g.name));
    g.wait_for(0, 90, READY_MARKER, |t| {
        t.contains(READY_MARKER).then_some(())
    });
    // A guest that sums nothing (no `sum_seconds`) has an empty sum.
    let sum = match args.sum_seconds {
        Some(_) => g.sum_after(0),
        None => String::new(),
    };
    Setup {
        a,
        b,
        g,
        sum,
        lan,
        _base: base,
    }
}

/// `virsh migrate --live EXTRA` from A to B in the background (natively,
/// to B's address), for a test that acts on the job while it runs.
pub fn spawn_migration(
    a: &dyn MigrationHost,
    b: &dyn MigrationHost,
    g: &TestGuest,
    extra: &str,
) -> Child {
    let migrate = format!(
        "migrate --live {extra} {} {} --migrateuri tcp://{}",
        g.name,
        b.uri(),
        b.addr()
    );
    spawn_virsh(a, &migrate)
}

/// Stock virsh running `commands` against `host` in the background.
pub fn spawn_virsh(host: &dyn MigrationHost, commands: &str) -> Child {
    host.command("virsh")
        .args(["-c", &host.uri(), commands])
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run virsh")
}

/// Whether `ss -ltn` output shows a listener on a migration port other
/// than `except` (the daemon's own ports, which may fall in the range).
pub fn listens_in_migration_range(ss: &str, except: &[u16]) -> bool {
    ss.lines()
        .filter_map(|l| l.split_whitespace().nth(3))
        .filter_map(|local| local.rsplit(':').next()?.parse::<u16>().ok())
        .any(|port| (49152..=49215).contains(&port) && !except.contains(&port))
}

/// The migration failed (`out`, whose error mentions `why`): the guest
/// runs on A, ticking on, and B has no QEMU, definition or listener left.
pub fn check_failed_cleanly(
    a: &dyn MigrationHost,
    b: &dyn MigrationHost,
    g: &TestGuest,
    out: Output,
    why: &str,
) {
    assert!(!out.ok && out.stderr.contains(why), "{}", out.stderr);
    check_left_on_source(a, b, g);
}

/// Abort A's migration job of `g` (virsh running it as `migrating`): it
/// fails "canceled by client", the guest is left running on A, nothing on B.
pub fn abort_and_check(
    a: &dyn MigrationHost,
    b: &dyn MigrationHost,
    g: &TestGuest,
    migrating: Child,
) {
    a.ok(&format!("domjobabort {}", g.name));
    let out: Output = migrating.wait_with_output().expect("virsh migrate").into();
    check_failed_cleanly(a, b, g, out, "canceled by client");
}

/// Kill (SIGKILL) B's incoming QEMU of `g` while A's job (virsh running
/// it as `migrating`) transfers: the migration fails, the guest is left
/// running on A, nothing on B.
pub fn kill_incoming_and_check(
    a: &dyn MigrationHost,
    b: &dyn MigrationHost,
    g: &TestGuest,
    migrating: Child,
) {
    let incoming = b.qemu_pid(&g.name).expect("incoming QEMU on B");
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(incoming),
        nix::sys::signal::Signal::SIGKILL,
    );
    let out: Output = migrating.wait_with_output().expect("virsh migrate").into();
    assert!(!out.ok, "the migration succeeded: {}", out.stdout);
    assert!(wait_gone(incoming, 10), "B's incoming QEMU lives on");
    eprintln!("destination QEMU killed: {}", out.stderr.trim());
    check_left_on_source(a, b, g);
}

/// `--postcopy EXTRA` from `src` to `dst`, switched to post-copy (`virsh
/// migrate-postcopy`) once bytes move; virsh's output.
pub fn postcopy_migration(
    src: &dyn MigrationHost,
    dst: &dyn MigrationHost,
    g: &TestGuest,
    extra: &str,
) -> Output {
    let migrating = spawn_migration(src, dst, g, &format!("--postcopy {extra}"));
    wait_transferring(src, dst, g);
    src.ok(&format!("migrate-postcopy {}", g.name));
    migrating.wait_with_output().expect("virsh migrate").into()
}

/// The guest runs on A (exactly once: B runs no QEMU for it) with its
/// counter going, its definition there; B has no definition or migration
/// listener left.
pub fn check_left_on_source(a: &dyn MigrationHost, b: &dyn MigrationHost, g: &TestGuest) {
    assert_eq!(a.ok(&format!("domstate {}", g.name)).trim(), "running");
    assert!(a.qemu_pid(&g.name).is_some(), "no QEMU on A");
    let from = g.console_len();
    g.tick_after(from, guest::last_tick(&g.text()).unwrap_or(0));
    assert!(b.qemu_pid(&g.name).is_none(), "QEMU left on B");
    let defined = b.ok("list --all --name");
    assert!(!defined.contains(&g.name), "definition left on B");
    assert!(
        a.ok("list --all --name").lines().any(|n| n == g.name),
        "A lost the definition"
    );
    let listening = b.listeners();
    let left = listens_in_migration_range(&listening, &b.daemon_ports());
    assert!(!left, "listener left on B:\n{listening}");
}

/// Wait until A's job has moved bytes and B runs the incoming QEMU.
pub fn wait_transferring(a: &dyn MigrationHost, b: &dyn MigrationHost, g: &TestGuest) {
    let start = Instant::now();
    loop {
        let info = a.ok(&format!("domjobinfo {}", g.name));
        let bytes = field(&info, "Data processed").unwrap_or("0.000");
        let unbounded = field(&info, "Job type") == Some("Unbounded");
        if unbounded && !bytes.starts_with("0.000") && b.qemu_pid(&g.name).is_some() {
            return;
        }
        let waited = start.elapsed();
        assert!(waited < Duration::from_secs(30), "no job on A: {info}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
