//! rvirt-fuzz: a deterministic, seeded, mutation-based fuzzer that runs on
//! the stable toolchain (what CI runs), for what a hostile client reaches
//! first: the packet framers, the XDR decoders, the daemon's dispatch, the
//! XML reader, SASL before authentication and the TLS handshake.
//!
//!     rvirt-fuzz TARGET|all [--runs N] [--seed S] [--slow-ms MS]
//!                [--max-rss-mb MB] [--out DIR]
//!     rvirt-fuzz TARGET --replay FILE...
//!
//! Exit status: 0 clean; 1 findings (crashes, slow runs) or peak memory
//! over the bound; 2 usage; 3 a hang (the watchdog's).

mod mutate;
mod rng;
mod runner;
mod signals;
mod targets;

use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Args {
    targets: Vec<String>,
    opts: runner::Options,
    max_rss_mb: u64,
    replay: Vec<PathBuf>,
}

fn usage(msg: &str) -> ! {
    eprintln!("rvirt-fuzz: {msg}");
    eprintln!(
        "usage: rvirt-fuzz {{{}|all}} [--runs N] [--seed S] [--slow-ms MS] \
         [--max-rss-mb MB] [--out DIR] [--replay FILE...]",
        targets::NAMES.join("|")
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let target = it.next().unwrap_or_else(|| usage("no target"));
    let targets = if target == "all" {
        targets::NAMES.iter().map(|s| s.to_string()).collect()
    } else if targets::NAMES.contains(&target.as_str()) {
        vec![target]
    } else {
        usage(&format!("unknown target '{target}'"))
    };
    let mut a = Args {
        targets,
        opts: runner::Options {
            runs: 100_000,
            seed: 0x5eed,
            slow: Duration::from_secs(1),
            out: PathBuf::from("target/fuzz-findings"),
        },
        max_rss_mb: 1024,
        replay: Vec::new(),
    };
    let num = |v: Option<String>, what: &str| -> u64 {
        v.and_then(|s| s.replace('_', "").parse().ok())
            .unwrap_or_else(|| usage(&format!("{what} needs a number")))
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--runs" => a.opts.runs = num(it.next(), "--runs"),
            "--seed" => a.opts.seed = num(it.next(), "--seed"),
            "--slow-ms" => a.opts.slow = Duration::from_millis(num(it.next(), "--slow-ms")),
            "--max-rss-mb" => a.max_rss_mb = num(it.next(), "--max-rss-mb"),
            "--out" => {
                a.opts.out = it
                    .next()
                    .map(PathBuf::from)
                    .unwrap_or_else(|| usage("--out DIR"))
            }
            "--replay" => a.replay.extend(it.by_ref().map(PathBuf::from)),
            other => usage(&format!("unknown option '{other}'")),
        }
    }
    a
}

/// Peak resident memory of this process (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Run saved inputs once each (a finding's reproducer); panics propagate.
fn replay(names: &[String], files: &[PathBuf]) {
    for name in names {
        let mut target = targets::by_name(name).expect("known target");
        for file in files {
            let input =
                std::fs::read(file).unwrap_or_else(|e| usage(&format!("{}: {e}", file.display())));
            let start = Instant::now();
            let sig = target.run(&input);
            println!(
                "{name}: {} ok in {:?} (signature {sig:016x})",
                file.display(),
                start.elapsed()
            );
        }
    }
}

fn main() {
    let args = parse_args();
    if !args.replay.is_empty() {
        return replay(&args.targets, &args.replay);
    }
    // Findings are reported once, with their file; the default hook's
    // backtrace for each of thousands of panics would drown the log.
    // A panic outside a run (the fuzzer's own) is still printed.
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !runner::in_run() {
            default(info)
        }
    }));
    let mut failed = false;
    for name in &args.targets {
        let mut target = targets::by_name(name).expect("known target");
        let mut opts = args.opts.clone();
        if args.targets.len() > 1 {
            opts.runs = (opts.runs / target.all_runs_divisor()).max(1);
        }
        let start = Instant::now();
        let stats = runner::fuzz(target.as_mut(), &opts);
        println!(
            "{name}: {} execs in {:.1}s ({:.0}/s), corpus {}, signatures {}, slowest {:?}, \
             crashes {}, slow {}, peak RSS so far {} MiB",
            stats.execs,
            start.elapsed().as_secs_f64(),
            stats.execs as f64 / start.elapsed().as_secs_f64().max(1e-9),
            stats.corpus,
            stats.signatures,
            stats.slowest,
            stats.crashes,
            stats.slow,
            peak_rss_kib() / 1024
        );
        failed |= stats.crashes > 0 || stats.slow > 0;
    }
    let peak_mb = peak_rss_kib() / 1024;
    if peak_mb > args.max_rss_mb {
        eprintln!(
            "peak RSS {peak_mb} MiB over the bound of {} MiB",
            args.max_rss_mb
        );
        failed = true;
    }
    if failed {
        eprintln!("findings in {}", args.opts.out.display());
        std::process::exit(1);
    }
}
