//! Migrations that must fail, in every mode, and what they must leave: the
//! guest running on the source exactly once with its state and definition
//! unchanged, nothing of it on the destination, and at no sampled moment
//! running on both hosts. Causes: an abort during the transfer, a fault
//! injected at each phase, a corrupted page (digest mismatch), the
//! destination daemon killed or its connection cut mid-transfer, and a
//! destination that refuses (name clash, bad XML).

mod hosts;

use hosts::{
    assert_never_left_source, assert_nothing_on_dst, assert_untouched, before, ran_on_both,
    spawn_shell, wait, Guest, Mode, Output, Pair, Proxy, Watch, MODES,
};
use std::time::Duration;

/// Run `virsh migrate FLAGS ARGS` in the background, `act` while it runs,
/// and check it failed without the guest leaving the source.
fn failing_migration(pair: &Pair, g: &Guest, cmd: &str, act: impl FnOnce(), what: &str) -> Output {
    let watch = Watch::start(&pair.src, &g.name, &pair.dst, &g.name);
    let child = spawn_shell("virsh", &pair.src.uri(), cmd);
    act();
    let out = wait(child);
    let samples = watch.finish();
    assert!(
        !out.ok,
        "{what}: `{cmd}` succeeded:\n{}\n--- src log:\n{}",
        out.stdout,
        pair.src.log()
    );
    assert!(!ran_on_both(&samples), "{what}: {samples:?}");
    assert_never_left_source(&samples);
    out
}

fn migrate_cmd(pair: &Pair, mode: Mode, flags: &str, name: &str) -> String {
    format!("migrate {flags} {}", mode.args(pair, name))
}

/// `virsh domjobabort` while memory is moving, in each mode.
#[test]
fn abort_during_transfer() {
    let pair = Pair::start();
    for mode in MODES {
        let g = Guest::new("abort");
        pair.src.define_and_start(&g);
        let b = before(&pair, &g);
        let what = format!("{mode:?} abort");
        let out = failing_migration(
            &pair,
            &g,
            &migrate_cmd(&pair, mode, "--bandwidth 1", &g.name),
            || {
                assert!(
                    pair.src
                        .wait_transfer_started(&g.name, Duration::from_secs(10)),
                    "{what}: transfer never started"
                );
                pair.src.ok(&format!("domjobabort {}", g.name));
            },
            &what,
        );
        assert!(
            out.stderr.contains("abort") || out.stderr.contains("cancel"),
            "{what}: {}",
            out.stderr
        );
        assert_untouched(&pair, &g, &b, &what);
        assert_nothing_on_dst(&pair, &g.name, Duration::ZERO, &what);
    }
}

/// A fault injected at begin, prepare, perform or finish fails the
/// migration, and the phases after it clean up.
#[test]
fn fault_at_each_phase() {
    let pair = Pair::start();
    for mode in MODES {
        for phase in ["begin", "prepare", "perform", "finish"] {
            let g = Guest::new(&format!("fail{phase}")).fault(phase, "fail");
            pair.src.define_and_start(&g);
            let b = before(&pair, &g);
            let what = format!("{mode:?} fail at {phase}");
            failing_migration(
                &pair,
                &g,
                &migrate_cmd(&pair, mode, "", &g.name),
                || {},
                &what,
            );
            assert_untouched(&pair, &g, &b, &what);
            assert_nothing_on_dst(&pair, &g.name, Duration::ZERO, &what);
        }
    }
}

/// A failed confirm comes after the hand-over: the destination runs the
/// guest and the source does not (libvirt's "guest probably left paused").
#[test]
fn fault_at_confirm_leaves_guest_on_destination() {
    let pair = Pair::start();
    for mode in MODES {
        let g = Guest::new("failconfirm").fault("confirm", "fail");
        pair.src.define_and_start(&g);
        let what = format!("{mode:?} fail at confirm");
        let watch = Watch::start(&pair.src, &g.name, &pair.dst, &g.name);
        pair.src.virsh(&migrate_cmd(&pair, mode, "", &g.name));
        let samples = watch.finish();
        assert!(!ran_on_both(&samples), "{what}: {samples:?}");
        assert_eq!(
            pair.dst.domstate(&g.name).as_deref(),
            Some("running"),
            "{what}"
        );
        assert!(!pair.src.running().contains(&g.name), "{what}");
    }
}

/// One page altered on the wire: the destination's digest differs, finish
/// refuses, the source resumes.
#[test]
fn corrupted_page_fails_digest() {
    let pair = Pair::start();
    for mode in MODES {
        let g = Guest::new("corrupt").corrupt_page();
        pair.src.define_and_start(&g);
        let b = before(&pair, &g);
        let what = format!("{mode:?} corrupt page");
        let out = failing_migration(
            &pair,
            &g,
            &migrate_cmd(&pair, mode, "", &g.name),
            || {},
            &what,
        );
        assert!(out.stderr.contains("digest"), "{what}: {}", out.stderr);
        assert_untouched(&pair, &g, &b, &what);
        assert_nothing_on_dst(&pair, &g.name, Duration::ZERO, &what);
    }
}

/// The destination daemon is SIGKILLed during a slow transfer.
#[test]
fn destination_killed_mid_transfer() {
    for mode in MODES {
        let mut pair = Pair::start();
        let g = Guest::new("dstkill");
        pair.src.define_and_start(&g);
        let b = before(&pair, &g);
        let what = format!("{mode:?} destination killed");
        let watch = Watch::start(&pair.src, &g.name, &pair.dst, &g.name);
        let child = spawn_shell(
            "virsh",
            &pair.src.uri(),
            &migrate_cmd(&pair, mode, "--bandwidth 1", &g.name),
        );
        assert!(
            pair.src
                .wait_transfer_started(&g.name, Duration::from_secs(10)),
            "{what}: transfer never started"
        );
        pair.dst.kill9();
        let out = wait(child);
        let samples = watch.finish();
        assert!(!out.ok, "{what}: migration succeeded");
        assert!(!ran_on_both(&samples), "{what}: {samples:?}");
        assert_never_left_source(&samples);
        assert_untouched(&pair, &g, &b, &what);
        assert!(!pair.dst.is_running());
    }
}

/// Which connection to the destination a [`Proxy`] cuts.
#[derive(Clone, Copy, Debug)]
enum Path {
    /// The daemon connection the phases use (the client's in managed mode,
    /// the source daemon's in p2p; tunnelled memory travels on it too).
    Control,
    /// The hypervisor's own memory connection (the migration URI; the
    /// relocation listener in direct mode).
    Memory,
}

/// The network to the destination breaks mid-transfer: a proxy in front of
/// the destination drops every connection through it.
fn connection_cut(mode: Mode, path: Path) {
    let pair = Pair::start();
    let g = Guest::new("cut");
    pair.src.define_and_start(&g);
    let b = before(&pair, &g);
    let what = format!("{mode:?} {path:?} connection cut");
    let (proxy, cmd) = match (mode, path) {
        (Mode::Direct, _) => {
            let proxy = Proxy::start(pair.dst.reloc_port);
            let reloc = format!("test+reloc://127.0.0.1:{}", proxy.port);
            let cmd = mode.args_via(&pair.dst.uri(), &reloc, &g.name);
            (proxy, cmd)
        }
        (_, Path::Control) => {
            let proxy = Proxy::start(pair.dst.port);
            let dst = format!("test+tcp://127.0.0.1:{}/default", proxy.port);
            let cmd = mode.args_via(&dst, &pair.dst.reloc_uri(), &g.name);
            (proxy, cmd)
        }
        (_, Path::Memory) => {
            // The destination listens on 127.0.0.1:PORT (--listen-address);
            // the source is sent to 127.0.0.2:PORT, where the proxy is.
            let port = hosts::free_port();
            let proxy = Proxy::on(&format!("127.0.0.2:{port}"), port);
            let p2p = if matches!(mode, Mode::P2p) {
                "--p2p "
            } else {
                ""
            };
            let cmd = format!(
                "--live {p2p}{} {} --migrateuri tcp://127.0.0.2:{port} --listen-address 127.0.0.1",
                g.name,
                pair.dst.uri()
            );
            (proxy, cmd)
        }
    };
    failing_migration(
        &pair,
        &g,
        &format!("migrate --bandwidth 1 {cmd}"),
        || {
            assert!(
                pair.src
                    .wait_transfer_started(&g.name, Duration::from_secs(10)),
                "{what}: transfer never started"
            );
            // Memory is moving through the proxy (1 MiB/s): cut it half-way.
            assert!(
                proxy.wait_bytes(1 << 20, Duration::from_secs(10)) || matches!(path, Path::Control),
                "{what}: nothing went through the proxy"
            );
            proxy.cut();
        },
        &what,
    );
    assert_untouched(&pair, &g, &b, &what);
    // The destination may hear of it only from the closed connection.
    assert_nothing_on_dst(&pair, &g.name, Duration::from_secs(5), &what);
}

#[test]
fn connection_cut_direct() {
    connection_cut(Mode::Direct, Path::Memory);
}

#[test]
fn connection_cut_tunnelled() {
    connection_cut(Mode::Tunnelled, Path::Control);
}

#[test]
fn connection_cut_managed_memory() {
    connection_cut(Mode::Managed, Path::Memory);
}

#[test]
fn connection_cut_p2p_memory() {
    connection_cut(Mode::P2p, Path::Memory);
}

#[test]
fn connection_cut_managed_control() {
    connection_cut(Mode::Managed, Path::Control);
}

#[test]
fn connection_cut_p2p_control() {
    connection_cut(Mode::P2p, Path::Control);
}

/// The destination refuses in prepare: a different domain of the same name
/// is defined there. It stays as it was.
#[test]
fn destination_name_clash() {
    let pair = Pair::start();
    for mode in MODES {
        let g = Guest::new("clash");
        pair.src.define_and_start(&g);
        let mut other = Guest::new("other");
        other.name = g.name.clone();
        pair.dst.define(&other.xml());
        let other_xml = pair.dst.dumpxml(&g.name);
        let b = before(&pair, &g);
        let what = format!("{mode:?} name clash");
        let out = failing_migration(
            &pair,
            &g,
            &migrate_cmd(&pair, mode, "", &g.name),
            || {},
            &what,
        );
        assert!(out.stderr.contains("already"), "{what}: {}", out.stderr);
        assert_untouched(&pair, &g, &b, &what);
        assert_eq!(pair.dst.domstate(&g.name).as_deref(), Some("shut off"));
        assert_eq!(pair.dst.dumpxml(&g.name), other_xml, "{what}");
        pair.dst.ok(&format!("undefine {}", g.name));
    }
}

/// --xml the destination cannot take: unparsable, another UUID, another
/// memory size (not ABI-compatible).
#[test]
fn destination_refuses_bad_xml() {
    let pair = Pair::start();
    for mode in MODES {
        let g = Guest::new("badxml");
        pair.src.define_and_start(&g);
        let b = before(&pair, &g);
        let mut other_uuid = g.clone();
        other_uuid.uuid = hosts::fresh_uuid();
        let bad = [
            ("truncated", "<domain type='test'>\n".to_string()),
            ("other uuid", other_uuid.xml()),
            ("other memory", g.clone().memory(g.memory_mib * 2).xml()),
        ];
        for (kind, xml) in bad {
            let what = format!("{mode:?} --xml {kind}");
            let path = pair.src.dir.join(format!("{}-bad.xml", g.name));
            std::fs::write(&path, xml).expect("write xml");
            failing_migration(
                &pair,
                &g,
                &migrate_cmd(&pair, mode, &format!("--xml {}", path.display()), &g.name),
                || {},
                &what,
            );
            assert_untouched(&pair, &g, &b, &what);
            assert_nothing_on_dst(&pair, &g.name, Duration::ZERO, &what);
        }
    }
}
