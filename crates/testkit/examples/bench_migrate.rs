//! The live-migration benchmark (run by scripts/bench-migrate.sh; not a
//! test): the test guest filled with MIB MiB of random bytes migrated back
//! and forth between two hosts on this machine (each in its own network,
//! UTS and, for libvirtd, mount namespace, joined by a veth pair), for each
//! pair of daemons in PAIRS, natively (`virsh migrate --live --p2p
//! --migrateuri tcp://DST`) and tunnelled (`--p2p --tunnelled`), ROUNDS
//! times each way, the modes alternating.
//!
//! Per migration: wall time of stock virsh; QEMU's own total-time and
//! bytes sent (`query-migrate` on a second QMP monitor of the source QEMU,
//! [`rvirt_testkit::qemu_events`]); the guest-visible downtime (destination
//! QEMU's RESUME minus the source QEMU's STOP); the daemon's own figures
//! (`domjobinfo --completed` on the destination). Prints the medians as a
//! table with ratios against libvirtd, the loopback TCP bandwidth (one
//! stream, as QEMU's) as the physical limit, and issue 15's targets.
//!
//!   MIB=256 ROUNDS=2 PAIRS=rvirtd:rvirtd,libvirtd:libvirtd,libvirtd:rvirtd
//!   MODES=tunnelled (any of native,tunnelled,tls; all by default)
//!
//! PAIRS takes any `A:B` of rvirtd and libvirtd; the default has the
//! homogeneous rows and the mixed ones (libvirtd -> rvirtd and back,
//! issue 17).
//!
//! With TLS=1 (the default where certtool is installed) every daemon also
//! listens on TLS (port 16514, a certificate of the test kit's PKI naming
//! both hosts), and a third mode runs the tunnelled migration over
//! `qemu+tls://` (issue 16: what TLS costs each daemon).

use rvirt_testkit::guest::{self, GuestArgs};
use rvirt_testkit::migration_host::env_or;
use rvirt_testkit::pki::{have_certtool, Pki};
use rvirt_testkit::qemu_events::{EventTap, QemuMigration};
use rvirt_testkit::qemu_hosts::{
    alive, field, setup_kinds_conf, virsh_migrate, virsh_migrate_tunnelled, HostKind,
    MigrationHost, TestGuest,
};
use rvirt_testkit::tools::Output;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Native,
    Tunnelled,
    TunnelledTls,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Native => "native",
            Mode::Tunnelled => "tunnelled",
            Mode::TunnelledTls => "tunnelled, TLS",
        }
    }
}

/// Both daemons' TLS listener (config lines) and the client credentials
/// the source daemon opens the destination with (`pkipath`).
struct Tls {
    _pki: Pki,
    conf: String,
    client_dir: PathBuf,
}

impl Tls {
    /// The kit's PKI with one server certificate for both LAN hosts
    /// (`rvirt-qa` 10.77.0.1, `rvirt-qb` 10.77.0.2), unless TLS=0 or
    /// certtool is missing.
    fn from_env() -> Option<Tls> {
        if env_or("TLS", "1") == "0" || !have_certtool() {
            return None;
        }
        let pki = Pki::new();
        let hosts = [("rvirt-qa", "10.77.0.1"), ("rvirt-qb", "10.77.0.2")];
        Some(Tls {
            conf: pki.lan_server_conf(16514, &hosts),
            client_dir: pki.client_dir("client"),
            _pki: pki,
        })
    }

    /// `virsh migrate --live --p2p --tunnelled` to `dst` over TLS.
    fn migrate(&self, src: &dyn MigrationHost, dst: &dyn MigrationHost, name: &str) -> Output {
        src.virsh(&format!(
            "migrate --live --p2p --tunnelled {name} qemu+tls://{}/system?pkipath={}",
            dst.addr(),
            self.client_dir.display()
        ))
    }
}

/// Source daemon, destination daemon, mode.
type Key = (HostKind, HostKind, Mode);

/// One migration's figures (milliseconds, MiB).
struct Sample {
    wall_ms: f64,
    qemu: QemuMigration,
    /// From the daemon's completed job on the destination.
    daemon_downtime_ms: Option<f64>,
    daemon_mib: Option<f64>,
}

impl Sample {
    fn mib(&self) -> Option<f64> {
        let sent = self.qemu.transferred.filter(|b| *b > 0);
        let sent = sent.map(|b| b as f64 / 1048576.0);
        sent.or(self.daemon_mib)
    }
    fn mib_s(&self) -> Option<f64> {
        Some(self.mib()? / (self.qemu.total_ms()? / 1e3))
    }
    fn overhead_ms(&self) -> Option<f64> {
        Some(self.wall_ms - self.qemu.total_ms()?)
    }
}

/// Both homogeneous pairs and the mixed one (measured both ways).
const DEFAULT_PAIRS: &str = "rvirtd:rvirtd,libvirtd:libvirtd,libvirtd:rvirtd";

fn main() {
    let mib: u64 = env_or("MIB", "256").parse().expect("MIB");
    let rounds: usize = env_or("ROUNDS", "2").parse().expect("ROUNDS");
    let pairs: Vec<(HostKind, HostKind)> = env_or("PAIRS", DEFAULT_PAIRS)
        .split(',')
        .map(HostKind::pair)
        .collect();
    let loopback = loopback_mib_s();
    eprintln!("loopback TCP: {loopback:.0} MiB/s");
    let tap = EventTap::new();
    let tls = Tls::from_env();
    let mut samples: BTreeMap<Key, Vec<Sample>> = BTreeMap::new();
    for (a, b) in pairs {
        run_pair((a, b), (mib, rounds), &tap, tls.as_ref(), &mut samples);
    }
    print_report(&samples, mib, rounds, loopback);
}

/// Start the pair with the guest on A, then ROUNDS x (native, tunnelled,
/// tunnelled over TLS if `tls`) x (A -> B, B -> A).
fn run_pair(
    kinds: (HostKind, HostKind),
    (mib, rounds): (u64, usize),
    tap: &EventTap,
    tls: Option<&Tls>,
    samples: &mut BTreeMap<Key, Vec<Sample>>,
) {
    let args = GuestArgs {
        fill_mib: mib,
        // No checksums: md5 of the fill under TCG would load the guest
        // while it migrates (the tests check the memory moves intact).
        ..GuestArgs::default()
    };
    eprintln!(
        "{} / {}: booting the guest ({mib} MiB filled)",
        kinds.0.name(),
        kinds.1.name()
    );
    let conf = tls.map_or("", |t| t.conf.as_str());
    let s = setup_kinds_conf("bench", &args, kinds, (mib + 96, &tap.emulator()), conf)
        .expect("the benchmark needs root, iproute2 and stock libvirtd (scripts/install-deps.sh)");
    let (a, b): (&dyn MigrationHost, &dyn MigrationHost) = (&s.a, &s.b);
    for _ in 0..rounds {
        let modes = [Mode::Native, Mode::Tunnelled, Mode::TunnelledTls];
        for mode in modes
            .into_iter()
            .filter(|m| tls.is_some() || *m != Mode::TunnelledTls)
            .filter(|m| wanted(*m))
        {
            for (src, dst) in [(a, b), (b, a)] {
                let sample = migrate((src, dst), &s.g, mode, tap, tls);
                eprintln!(
                    "{} -> {} {}: wall {:.0} ms, QEMU {:.0} ms, {:.0} MiB/s, downtime {:.0} ms ({})",
                    src.kind().name(),
                    dst.kind().name(),
                    mode.name(),
                    sample.wall_ms,
                    sample.qemu.total_ms().unwrap_or(f64::NAN),
                    sample.mib_s().unwrap_or(f64::NAN),
                    sample.qemu.guest_downtime_ms().unwrap_or(f64::NAN),
                    sample.qemu.timeline(),
                );
                let key = (src.kind(), dst.kind(), mode);
                samples.entry(key).or_default().push(sample);
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// Is `m` among MODES (`native`, `tunnelled`, `tls`, comma-separated;
/// all by default)? One mode alone lets a profiler see only its work.
fn wanted(m: Mode) -> bool {
    let modes = env_or("MODES", "native,tunnelled,tls");
    let name = match m {
        Mode::Native => "native",
        Mode::Tunnelled => "tunnelled",
        Mode::TunnelledTls => "tls",
    };
    modes.split(',').any(|w| w.trim() == name)
}

/// One timed migration; afterwards QEMU runs only on `dst` and the guest
/// ticks on.
fn migrate(
    (src, dst): (&dyn MigrationHost, &dyn MigrationHost),
    g: &TestGuest,
    mode: Mode,
    tap: &EventTap,
    tls: Option<&Tls>,
) -> Sample {
    let src_pid = src.qemu_pid(&g.name).expect("QEMU on the source");
    let before = guest::last_tick(&g.text()).unwrap_or(0);
    let watch = tap.watch(src_pid);
    let started = Instant::now();
    let out = match mode {
        Mode::Native => virsh_migrate(src, dst, &g.name, "--p2p"),
        Mode::Tunnelled => virsh_migrate_tunnelled(src, dst, &g.name, ""),
        Mode::TunnelledTls => tls.expect("TLS set up").migrate(src, dst, &g.name),
    };
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    assert!(
        out.ok,
        "{} migration failed: {}\n--- source:\n{}\n--- destination:\n{}",
        mode.name(),
        out.stderr,
        src.log(),
        dst.log()
    );
    let qemu = watch.finish();
    let info = dst.ok(&format!(
        "domjobinfo {} --completed --keep-completed",
        g.name
    ));
    assert!(
        dst.qemu_pid(&g.name).is_some(),
        "no QEMU on the destination"
    );
    assert!(!alive(src_pid), "the source QEMU still runs");
    g.tick_after(g.console_len(), before);
    Sample {
        wall_ms,
        qemu,
        daemon_downtime_ms: field(&info, "Total downtime").and_then(millis),
        daemon_mib: field(&info, "Data processed").and_then(mebibytes),
    }
}

/// virsh's `45 ms`.
fn millis(text: &str) -> Option<f64> {
    text.strip_suffix(" ms")?.trim().parse().ok()
}

/// virsh's `256.123 MiB` (B, KiB, MiB, GiB).
fn mebibytes(text: &str) -> Option<f64> {
    let (value, unit) = text.split_once(' ')?;
    let scale = match unit.trim() {
        "B" => 1.0 / 1048576.0,
        "KiB" => 1.0 / 1024.0,
        "MiB" => 1.0,
        "GiB" => 1024.0,
        _ => return None,
    };
    Some(value.parse::<f64>().ok()? * scale)
}

/// One TCP stream on 127.0.0.1 (1 MiB writes, 4 GiB), best of three.
fn loopback_mib_s() -> f64 {
    const TOTAL: usize = 4 << 30;
    (0..3)
        .map(|_| {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            let started = Instant::now();
            let writer = std::thread::spawn(move || {
                let mut out = TcpStream::connect(addr).expect("connect");
                let buf = vec![0x5au8; 1 << 20];
                for _ in 0..TOTAL >> 20 {
                    out.write_all(&buf).expect("write");
                }
            });
            let (mut input, _) = listener.accept().expect("accept");
            let mut buf = vec![0u8; 1 << 20];
            let mut got = 0;
            while got < TOTAL {
                match input.read(&mut buf).expect("read") {
                    0 => break,
                    n => got += n,
                }
            }
            writer.join().expect("writer");
            (got >> 20) as f64 / started.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// The medians of one row.
struct Row {
    mib_s: Option<f64>,
    qemu_s: Option<f64>,
    wall_s: Option<f64>,
    overhead_s: Option<f64>,
    downtime_ms: Option<f64>,
    daemon_downtime_ms: Option<f64>,
    n: usize,
}

fn row(samples: &[Sample]) -> Row {
    let of = |f: &dyn Fn(&Sample) -> Option<f64>| median(samples.iter().filter_map(f).collect());
    Row {
        mib_s: of(&|s| s.mib_s()),
        qemu_s: of(&|s| s.qemu.total_ms().map(|m| m / 1e3)),
        wall_s: of(&|s| Some(s.wall_ms / 1e3)),
        overhead_s: of(&|s| s.overhead_ms().map(|m| m / 1e3)),
        downtime_ms: of(&|s| s.qemu.guest_downtime_ms()),
        daemon_downtime_ms: of(&|s| s.daemon_downtime_ms),
        n: samples.len(),
    }
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.decimals$}"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    a.zip(b).filter(|(_, b)| *b > 0.0).map(|(a, b)| a / b)
}

fn print_report(samples: &BTreeMap<Key, Vec<Sample>>, mib: u64, rounds: usize, loopback: f64) {
    let rows: BTreeMap<Key, Row> = samples.iter().map(|(k, v)| (*k, row(v))).collect();
    let stock = |mode| rows.get(&(HostKind::Libvirtd, HostKind::Libvirtd, mode));
    println!();
    println!(
        "Live migration, test guest {} MiB RAM with {mib} MiB random, TCG, two hosts (netns + veth) \
         on this machine, medians of {} migrations ({rounds} rounds each way); {}, {} CPUs",
        mib + 96,
        2 * rounds,
        date(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("Loopback TCP, one stream: {loopback:.0} MiB/s");
    println!();
    println!(
        "| migration | mode | MiB/s | QEMU s | wall s | wall - QEMU s | downtime ms | \
         daemon's downtime ms | MiB/s vs libvirtd | overhead vs libvirtd | downtime vs libvirtd |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for ((src, dst, mode), r) in &rows {
        let base = stock(*mode);
        let vs = |f: &dyn Fn(&Row) -> Option<f64>| num(ratio(f(r), base.and_then(f)), 2);
        println!(
            "| {} -> {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            src.name(),
            dst.name(),
            mode.name(),
            num(r.mib_s, 0),
            num(r.qemu_s, 2),
            num(r.wall_s, 2),
            num(r.overhead_s, 2),
            num(r.downtime_ms, 0),
            num(r.daemon_downtime_ms, 0),
            vs(&|r| r.mib_s),
            vs(&|r| r.overhead_s),
            vs(&|r| r.downtime_ms),
        );
        debug_assert!(r.n > 0);
    }
    print_targets(&rows, loopback);
}

fn print_targets(rows: &BTreeMap<Key, Row>, loopback: f64) {
    let get = |k: HostKind, mode| rows.get(&(k, k, mode));
    let (rn, rt) = (
        get(HostKind::Rvirtd, Mode::Native),
        get(HostKind::Rvirtd, Mode::Tunnelled),
    );
    let (ln, lt) = (
        get(HostKind::Libvirtd, Mode::Native),
        get(HostKind::Libvirtd, Mode::Tunnelled),
    );
    let pick = |r: Option<&Row>, f: fn(&Row) -> Option<f64>| r.and_then(f);
    let mib_s: fn(&Row) -> Option<f64> = |r| r.mib_s;
    let overhead: fn(&Row) -> Option<f64> = |r| r.overhead_s;
    let downtime: fn(&Row) -> Option<f64> = |r| r.downtime_ms;
    // (what, figure, numerator row, denominator row, wanted).
    let mut targets = vec![
        (
            "rvirt tunnelled / rvirt native throughput".to_string(),
            mib_s,
            rt,
            rn,
            ">=",
            0.95,
        ),
        (
            "rvirt tunnelled / libvirtd tunnelled throughput".to_string(),
            mib_s,
            rt,
            lt,
            ">=",
            1.5,
        ),
    ];
    // rvirt against libvirtd in each mode: wall time less QEMU's, downtime.
    for (label, figure, limit) in [("wall - QEMU", overhead, 0.25), ("downtime", downtime, 1.0)] {
        for (mode, r, l) in [("native", rn, ln), ("tunnelled", rt, lt)] {
            let what = format!("rvirt / libvirtd {label}, {mode}");
            targets.push((what, figure, r, l, "<=", limit));
        }
    }
    // What TLS costs each daemon's tunnel: rvirt keeps at least the share
    // of its plain-TCP throughput that libvirtd keeps.
    let tls_share = |k| {
        let (over_tls, plain) = (get(k, Mode::TunnelledTls), get(k, Mode::Tunnelled));
        ratio(pick(over_tls, mib_s), pick(plain, mib_s))
    };
    let tls_cost = ratio(tls_share(HostKind::Rvirtd), tls_share(HostKind::Libvirtd));
    println!();
    println!("| target | value | wanted | met? |");
    println!("|---|---|---|---|");
    for (what, figure, of, to, op, limit) in targets {
        let value = ratio(pick(of, figure), pick(to, figure));
        let met = value.map(|v| if op == ">=" { v >= limit } else { v <= limit });
        let met = match met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "n/a",
        };
        println!("| {what} | {} | {op} {limit} | {met} |", num(value, 2));
    }
    if let Some(v) = tls_cost {
        println!(
            "| rvirt's TLS / TCP tunnelled throughput ({}) against libvirtd's ({}) | {v:.2} | >= 1 | {} |",
            num(tls_share(HostKind::Rvirtd), 2),
            num(tls_share(HostKind::Libvirtd), 2),
            if v >= 1.0 { "yes" } else { "NO" }
        );
    }
    for (name, r) in [("rvirt native", rn), ("rvirt tunnelled", rt)] {
        if let Some(v) = pick(r, mib_s) {
            println!("{name}: {:.0}% of loopback TCP", 100.0 * v / loopback);
        }
    }
}

/// Today's date (UTC), from `date`.
fn date() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
