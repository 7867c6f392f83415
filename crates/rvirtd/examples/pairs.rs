//! Load from rvirt's own client library: CLIENTS threads, each with its own
//! connection, each doing CALLS `lookup_by_name("test")` + `get_info()`
//! pairs, the same calls `scripts/bench-daemon.sh` makes from
//! python3-libvirt. The client costs far less CPU per call than libvirt's,
//! so on a small machine this shows what the daemon itself can serve.
//!
//!   cargo run --release -p rvirtd --example pairs -- URI [CLIENTS [CALLS]]
//!
//! Prints `pairs=N errors=E seconds=S rate=R client_cpu_us_per_pair=C`.

use rvirt::Connect;
use std::sync::{Arc, Barrier};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(uri) = args.next() else {
        eprintln!("usage: pairs URI [CLIENTS [CALLS]]");
        std::process::exit(2);
    };
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let calls: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5000);
    rvirt_driver_remote::register();

    let conns: Vec<Connect> = (0..clients)
        .map(|_| Connect::open(&uri).unwrap_or_else(|e| fail(&e.to_string())))
        .collect();
    let start = Arc::new(Barrier::new(clients + 1));
    let workers: Vec<_> = conns
        .into_iter()
        .map(|conn| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                let mut errors = 0usize;
                for _ in 0..calls {
                    if conn
                        .lookup_by_name("test")
                        .and_then(|d| d.get_info())
                        .is_err()
                    {
                        errors += 1;
                    }
                }
                errors
            })
        })
        .collect();
    let cpu_before = process_cpu_seconds();
    let began = Instant::now();
    start.wait();
    let errors: usize = workers.into_iter().map(|w| w.join().unwrap_or(calls)).sum();
    let seconds = began.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds() - cpu_before;
    let pairs = clients * calls - errors;
    println!(
        "pairs={pairs} errors={errors} seconds={seconds:.2} rate={:.0} client_cpu_us_per_pair={:.1}",
        pairs as f64 / seconds,
        cpu * 1e6 / (clients * calls) as f64
    );
    if errors > 0 {
        std::process::exit(1);
    }
}

/// User + system CPU of this process so far.
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th of the whole line.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    (ticks(11) + ticks(12)) / hz
}

fn fail(msg: &str) -> ! {
    eprintln!("pairs: {msg}");
    std::process::exit(1)
}
