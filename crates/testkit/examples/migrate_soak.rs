//! Migration soak (a diagnostic, not a test): the test guest migrated back
//! and forth HOPS times between a pair of daemons, with EXTRA virsh options
//! (a bandwidth cap, say), DIRTY MiB the guest rewrites every tick, and
//! LOAD busy threads on the host beside it, and after every hop the guest must go on ticking with its memory checksum
//! unchanged and no kernel oops on its console. It tells a guest broken by
//! rvirtd's orchestration from one broken by QEMU under CPU starvation: run
//! the same soak on `libvirtd:libvirtd` and on `rvirtd:rvirtd`.
//!
//!   PAIR=rvirtd:rvirtd HOPS=10 LOAD=4 EXTRA='--bandwidth 4' \
//!     cargo run -p rvirt-testkit --example migrate_soak

use rvirt_testkit::guest::{self, GuestArgs};
use rvirt_testkit::migration_host::env_or;
use rvirt_testkit::qemu_hosts::{setup_kinds_with, virsh_migrate, HostKind, MigrationHost};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What a broken guest kernel prints.
const OOPS: [&str; 4] = ["BUG:", "Oops:", "Kernel panic", "general protection fault"];

/// `n` threads spinning until `stop`: the CPU starvation CI sees.
fn burn(n: usize, stop: &Arc<AtomicBool>) {
    for _ in 0..n {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut x = 0u64;
            while !stop.load(Ordering::Relaxed) {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        });
    }
}

fn main() {
    let pair = env_or("PAIR", "rvirtd:rvirtd");
    let hops: usize = env_or("HOPS", "10").parse().expect("HOPS");
    let load: usize = env_or("LOAD", "4").parse().expect("LOAD");
    let extra = env_or("EXTRA", "--bandwidth 4");
    let dirty_mib: u64 = env_or("DIRTY", "0").parse().expect("DIRTY");
    let args = GuestArgs {
        fill_mib: 32,
        dirty_mib,
        sum_seconds: Some(2),
        ..GuestArgs::default()
    };
    let s = setup_kinds_with("soak", &args, HostKind::pair(&pair), 128, &guest_emulator())
        .expect("the soak needs root, iproute2 (and stock libvirtd for a libvirtd pair)");
    let stop = Arc::new(AtomicBool::new(false));
    burn(load, &stop);
    let hosts: [&dyn MigrationHost; 2] = [&*s.a, &*s.b];
    let mut broken = 0;
    for hop in 0..hops {
        let (src, dst) = (hosts[hop % 2], hosts[(hop + 1) % 2]);
        let from = s.g.console_len();
        let before = guest::last_tick(&s.g.text()).unwrap_or(0);
        let started = Instant::now();
        let out = virsh_migrate(src, dst, &s.g.name, &extra);
        let took = started.elapsed();
        assert!(out.ok, "hop {hop} failed: {}", out.stderr);
        let healthy = std::panic::catch_unwind(|| {
            let after = s.g.console_len();
            s.g.tick_after(after, before);
            assert_eq!(s.g.sum_after(after), s.sum, "memory changed");
        })
        .is_ok();
        let moved = s.g.text_from(from);
        let oops = OOPS.iter().any(|o| moved.contains(o));
        let verdict = if healthy && !oops { "ok" } else { "BROKEN" };
        eprintln!(
            "hop {hop} {src_kind}->{dst_kind} {took:.1?}: {verdict}",
            src_kind = src.kind().name(),
            dst_kind = dst.kind().name()
        );
        if verdict != "ok" {
            broken += 1;
            eprintln!("{moved}");
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    println!("{pair} load={load} extra='{extra}': {broken} broken");
}

/// EMULATOR: a wrapper of QEMU to try (QEMU itself by default).
fn guest_emulator() -> std::path::PathBuf {
    std::path::PathBuf::from(env_or("EMULATOR", rvirt_testkit::qemu_hosts::QEMU))
}
