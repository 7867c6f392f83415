//! What TLS costs (run by scripts/bench-tls.sh; not a test): the release
//! rvirtd and a stock libvirtd 9.0 in one run, each listening on plain TCP
//! and on TLS (certificates from [`Pki`], a client certificate checked
//! against the CA and CRL), driven by python3-libvirt with one connection:
//! calls per second of `getLibVersion()` and of `lookupByName('test')`,
//! and connections opened and closed per second (the handshake). Then a
//! peer-to-peer tunnelled migration of a test-driver guest between two
//! rvirtd hosts (own UTS namespaces), MiB/s over `+tcp` and over `+tls`.
//! libvirt's own test driver has no migration, so libvirtd has no
//! migration figure on the test driver (scripts/bench-migrate.sh measures
//! libvirtd's tunnelled QEMU migrations).
//!
//! Each figure is the median of ROUNDS runs, the daemons and transports
//! alternating within a round.
//!
//!   CALLS=20000 OPENS=300 ROUNDS=5 MIB=512 target/release/examples/bench_tls

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::hosts::{processed_bytes, Guest, Host};
use rvirt_testkit::migration_host::env_or;
use rvirt_testkit::pki::Pki;
use rvirt_testkit::ports::free_port;
use rvirt_testkit::tools::python3;

/// One connection, CALLS calls of each kind, then OPENS opens and closes:
/// "getlibversion=R lookup=R open=R" (per second).
const RPC_LOOP: &str = r#"
import sys, time, libvirt
uri, calls, opens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = libvirt.open(uri)
def rate(n, f):
    t = time.perf_counter()
    for _ in range(n):
        f()
    return n / (time.perf_counter() - t)
v = rate(calls, c.getLibVersion)
l = rate(calls, lambda: c.lookupByName("test"))
c.close()
o = rate(opens, lambda: libvirt.open(uri).close())
print("getlibversion=%.0f lookup=%.0f open=%.1f" % (v, l, o))
"#;

const MEASURES: [&str; 3] = ["getlibversion", "lookup", "open"];

fn number(n: &str) -> usize {
    env_or(n, "").parse().unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The three rates over `uri`.
fn rpc_rates(uri: &str, calls: usize, opens: usize) -> [f64; 3] {
    let out = python3(["-c", RPC_LOOP, uri, &calls.to_string(), &opens.to_string()]);
    assert!(out.ok, "{uri}: {}", out.stderr);
    let field = |name: &str| {
        let word = out
            .stdout
            .split_whitespace()
            .find_map(|w| w.strip_prefix(name));
        word.and_then(|w| w.strip_prefix('=')?.parse().ok())
            .unwrap_or(f64::NAN)
    };
    MEASURES.map(field)
}

/// A daemon with TCP and TLS; its TCP and TLS URIs.
fn daemon(pki: &Pki, stock: bool) -> Option<(Daemon, [String; 2])> {
    let tls_port = free_port();
    let conf = pki.server_conf(tls_port);
    let d = if stock {
        Daemon::libvirtd_with(&conf)?
    } else {
        Daemon::rvirtd(&conf)
    };
    let tls = format!(
        "test+tls://127.0.0.1:{tls_port}/default?pkipath={}",
        pki.client_dir("client").display()
    );
    let tcp = d.tcp_uri();
    Some((d, [tcp, tls]))
}

/// Two rvirtd hosts, each with TCP and TLS, and a guest on the first.
struct MigrationBench {
    hosts: [(Host, [String; 2]); 2],
    guest: Guest,
}

impl MigrationBench {
    fn start(pki: &Pki, mib: u64) -> MigrationBench {
        let host = |name: &str| {
            let tls_port = free_port();
            let h = Host::start_with(name, &pki.server_conf(tls_port));
            let tls = format!(
                "test+tls://127.0.0.1:{tls_port}/default?pkipath={}",
                pki.client_dir("client").display()
            );
            let tcp = h.uri();
            (h, [tcp, tls])
        };
        let hosts = [host("bench-a"), host("bench-b")];
        // Every page holds data (the working set is all of memory), so
        // the tunnel carries MIB MiB, not constant-page markers.
        let guest = Guest::new("tlsbench").memory(mib).working_set(mib * 1024);
        hosts[0].0.define_and_start(&guest);
        MigrationBench { hosts, guest }
    }

    /// Migrate the guest from host `from` to the other over transport
    /// `t` (0 TCP, 1 TLS): MiB/s as the destination's completed job
    /// reports (data processed over time elapsed).
    fn migrate(&self, from: usize, t: usize) -> f64 {
        let (src, dst) = (&self.hosts[from].0, &self.hosts[1 - from]);
        let cmd = format!(
            "migrate --live --p2p --tunnelled {} {}",
            self.guest.name, dst.1[t]
        );
        let start = std::time::Instant::now();
        let out = src.virsh(&cmd);
        let wall = start.elapsed();
        assert!(out.ok, "{cmd}: {out:?}\n{}", dst.0.log());
        let info = dst
            .0
            .virsh(&format!("domjobinfo --completed {}", self.guest.name));
        let bytes = processed_bytes(&info.stdout) as f64;
        let ms = info
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("Time elapsed:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        eprintln!("{cmd}: {wall:?} (virsh)");
        bytes / (1024.0 * 1024.0) / (ms / 1000.0)
    }
}

/// TLS's cost: the rate's change, and the time it adds to each operation
/// (each MiB, for a migration) in microseconds.
fn cost(tcp: f64, tls: f64) -> String {
    if tcp.is_nan() || tls.is_nan() {
        return "-".into();
    }
    let added_us = (1.0 / tls - 1.0 / tcp) * 1e6;
    format!("{:+.0}% {added_us:+.1}us", (tls / tcp - 1.0) * 100.0)
}

const HEADER: [[&str; 7]; 2] = [
    [
        "per second",
        "rvirtd",
        "rvirtd",
        "TLS cost",
        "libvirtd",
        "libvirtd",
        "TLS cost",
    ],
    [
        "",
        "TCP",
        "TLS",
        "(rate, time/op)",
        "TCP",
        "TLS",
        "(rate, time/op)",
    ],
];

/// The columns' widths.
const WIDTHS: [usize; 7] = [28, 8, 8, 16, 8, 8, 16];

fn line(cells: [&str; 7]) {
    let padded: Vec<String> = cells
        .iter()
        .zip(WIDTHS)
        .enumerate()
        .map(|(i, (c, w))| match i {
            0 => format!("{c:<w$}"),
            _ => format!("{c:>w$}"),
        })
        .collect();
    println!("| {} |", padded.join(" | "));
}

fn row(label: &str, r: [f64; 2], l: Option<[f64; 2]>) {
    let fmt = |x: f64| {
        if x.is_nan() {
            "n/a".to_string()
        } else {
            format!("{x:.0}")
        }
    };
    let [lt, ll] = l.unwrap_or([f64::NAN; 2]);
    let cells = [
        label.to_string(),
        fmt(r[0]),
        fmt(r[1]),
        cost(r[0], r[1]),
        fmt(lt),
        fmt(ll),
        cost(lt, ll),
    ];
    line(cells.each_ref().map(String::as_str));
}

fn main() {
    let calls = number("CALLS").max(1);
    let opens = number("OPENS").max(1);
    let rounds = number("ROUNDS").max(1);
    let mib = number("MIB").max(1) as u64;
    let pki = Pki::new();
    let rvirtd = daemon(&pki, false).expect("rvirtd");
    let libvirtd = daemon(&pki, true);
    // samples[daemon][transport][measure]
    let mut samples = vec![vec![vec![Vec::new(); 3]; 2]; 2];
    for _ in 0..rounds {
        for (i, d) in [Some(&rvirtd), libvirtd.as_ref()].iter().enumerate() {
            let Some((_, uris)) = d else { continue };
            for (t, uri) in uris.iter().enumerate() {
                for (m, rate) in rpc_rates(uri, calls, opens).into_iter().enumerate() {
                    samples[i][t][m].push(rate);
                }
            }
        }
    }
    let bench = MigrationBench::start(&pki, mib);
    let mut migration = [Vec::new(), Vec::new()];
    let mut from = 0;
    for _ in 0..rounds {
        for (t, rates) in migration.iter_mut().enumerate() {
            rates.push(bench.migrate(from, t));
            from = 1 - from;
        }
    }
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("{calls} calls and {opens} opens per run, median of {rounds}; {cpus} CPUs shared by daemons and clients");
    println!();
    HEADER.into_iter().for_each(line);
    let rule = WIDTHS.map(|w| format!("{}:", "-".repeat(w + 1)));
    println!("|{}|{}|", "-".repeat(30), rule[1..].join("|"));
    let labels = [
        "getLibVersion() calls",
        "lookupByName('test') calls",
        "open+close (handshakes)",
    ];
    for (m, label) in labels.iter().enumerate() {
        let med = |i: usize| [0, 1].map(|t| median(samples[i][t][m].clone()));
        row(label, med(0), libvirtd.as_ref().map(|_| med(1)));
    }
    let mig = [0, 1].map(|t| median(migration[t].clone()));
    row(&format!("p2p tunnelled MiB/s, {mib} MiB"), mig, None);
    println!();
    println!("libvirtd: n/a for migration (libvirt's test driver cannot migrate).");
}
