//! Migrations that must fail, in every mode, and what they must leave: the
//! guest running on the source exactly once with its state and definition
//! unchanged, nothing of it on the destination, and at no sampled moment
//! running on both hosts. Causes: an abort during the transfer, a fault
//! injected at each phase, a corrupted page (digest mismatch), the
//! destination daemon killed or its connection cut mid-transfer, and a
//! destination that refuses (name clash, bad XML).

mod hosts;

use hosts::{
    assert_handed_over, assert_never_left_source, assert_nothing_on_dst, assert_untouched, before,
    spawn_shell, wait, Before, Guest, Mode, Output, Pair, Proxy, Watch, MODES,
};
use std::time::Duration;

fn migrate_cmd(pair: &Pair, mode: Mode, flags: &str, name: &str) -> String {
    format!("migrate {flags} {}", mode.args(pair, name))
}

/// A guest running on the source for a migration that must fail, and the
/// source's view of it to compare with afterwards.
struct Doomed {
    g: Guest,
    before: Before,
    what: String,
}

impl Doomed {
    fn start(pair: &Pair, g: Guest, what: String) -> Doomed {
        pair.src.define_and_start(&g);
        let before = before(pair, &g);
        Doomed { g, before, what }
    }

    /// Run `virsh CMD` in the background, `act` while it runs, and check it
    /// failed without the guest leaving the source.
    fn migrate(&self, pair: &mut Pair, cmd: &str, act: impl FnOnce(&mut Pair)) -> Output {
        let (g, what) = (&self.g, &self.what);
        let watch = Watch::guest(pair, &g.name);
        let child = spawn_shell("virsh", &pair.src.uri(), cmd);
        act(pair);
        let out = wait(child);
        let samples = watch.finish_apart(what);
        assert!(
            !out.ok,
            "{what}: `{cmd}` succeeded:\n{}\n--- src log:\n{}",
            out.stdout,
            pair.src.log()
        );
        assert_never_left_source(&samples);
        out
    }

    /// `virsh migrate FLAGS` in `mode`, which must fail by itself.
    fn migrate_in(&self, pair: &mut Pair, mode: Mode, flags: &str) -> Output {
        let cmd = migrate_cmd(pair, mode, flags, &self.g.name);
        self.migrate(pair, &cmd, |_| {})
    }

    /// Wait until the source is moving the guest's memory.
    fn wait_transfer_started(&self, pair: &Pair) {
        assert!(
            pair.src
                .wait_transfer_started(&self.g.name, Duration::from_secs(10)),
            "{}: transfer never started",
            self.what
        );
    }

    /// The guest is as it was on the source and, after `grace`, nothing of
    /// it is on the destination.
    fn assert_left_alone(&self, pair: &Pair, grace: Duration) {
        assert_untouched(pair, &self.g, &self.before, &self.what);
        assert_nothing_on_dst(pair, &self.g.name, grace, &self.what);
    }
}

/// `virsh domjobabort` while memory is moving, in each mode.
#[test]
fn abort_during_transfer() {
    let mut pair = Pair::start();
    for mode in MODES {
        let d = Doomed::start(&pair, Guest::new("abort"), format!("{mode:?} abort"));
        let cmd = migrate_cmd(&pair, mode, "--bandwidth 1", &d.g.name);
        let out = d.migrate(&mut pair, &cmd, |pair| {
            d.wait_transfer_started(pair);
            pair.src.ok(&format!("domjobabort {}", d.g.name));
        });
        assert!(
            out.stderr.contains("abort") || out.stderr.contains("cancel"),
            "{}: {}",
            d.what,
            out.stderr
        );
        d.assert_left_alone(&pair, Duration::ZERO);
    }
}

/// A fault injected at begin, prepare, perform or finish fails the
/// migration, and the phases after it clean up.
#[test]
fn fault_at_each_phase() {
    let mut pair = Pair::start();
    for mode in MODES {
        for phase in ["begin", "prepare", "perform", "finish"] {
            let g = Guest::new(&format!("fail{phase}")).fault(phase, "fail");
            let d = Doomed::start(&pair, g, format!("{mode:?} fail at {phase}"));
            d.migrate_in(&mut pair, mode, "");
            d.assert_left_alone(&pair, Duration::ZERO);
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
        let watch = Watch::guest(&pair, &g.name);
        pair.src.virsh(&migrate_cmd(&pair, mode, "", &g.name));
        watch.finish_apart(&what);
        assert_handed_over(&pair, &g.name, &what);
    }
}

/// One page altered on the wire: the destination's digest differs, finish
/// refuses, the source resumes.
#[test]
fn corrupted_page_fails_digest() {
    let mut pair = Pair::start();
    for mode in MODES {
        let g = Guest::new("corrupt").corrupt_page();
        let d = Doomed::start(&pair, g, format!("{mode:?} corrupt page"));
        let out = d.migrate_in(&mut pair, mode, "");
        assert!(out.stderr.contains("digest"), "{}: {}", d.what, out.stderr);
        d.assert_left_alone(&pair, Duration::ZERO);
    }
}

/// The destination daemon is SIGKILLed during a slow transfer.
#[test]
fn destination_killed_mid_transfer() {
    for mode in MODES {
        let mut pair = Pair::start();
        let d = Doomed::start(
            &pair,
            Guest::new("dstkill"),
            format!("{mode:?} destination killed"),
        );
        let cmd = migrate_cmd(&pair, mode, "--bandwidth 1", &d.g.name);
        d.migrate(&mut pair, &cmd, |pair| {
            d.wait_transfer_started(pair);
            pair.dst.kill9();
        });
        assert_untouched(&pair, &d.g, &d.before, &d.what);
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
    let mut pair = Pair::start();
    let d = Doomed::start(
        &pair,
        Guest::new("cut"),
        format!("{mode:?} {path:?} connection cut"),
    );
    let name = &d.g.name;
    let (proxy, cmd) = match (mode, path) {
        (Mode::Direct, _) => {
            let proxy = Proxy::start(pair.dst.reloc_port);
            let reloc = format!("test+reloc://127.0.0.1:{}", proxy.port);
            let cmd = mode.args_via(&pair.dst.uri(), &reloc, name);
            (proxy, cmd)
        }
        (_, Path::Control) => {
            let proxy = Proxy::start(pair.dst.port);
            let dst = format!("test+tcp://127.0.0.1:{}/default", proxy.port);
            let cmd = mode.args_via(&dst, &pair.dst.reloc_uri(), name);
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
                "--live {p2p}{name} {} --migrateuri tcp://127.0.0.2:{port} --listen-address 127.0.0.1",
                pair.dst.uri()
            );
            (proxy, cmd)
        }
    };
    d.migrate(&mut pair, &format!("migrate --bandwidth 1 {cmd}"), |pair| {
        d.wait_transfer_started(pair);
        // Memory is moving through the proxy (1 MiB/s): cut it half-way.
        assert!(
            proxy.wait_bytes(1 << 20, Duration::from_secs(10)) || matches!(path, Path::Control),
            "{}: nothing went through the proxy",
            d.what
        );
        proxy.cut();
    });
    // The destination may hear of it only from the closed connection.
    d.assert_left_alone(&pair, Duration::from_secs(5));
}

/// One test per mode and cut connection, so their host pairs run in
/// parallel.
macro_rules! connection_cut_tests {
    ($($test:ident: $mode:ident, $path:ident;)*) => {$(
        #[test]
        fn $test() {
            connection_cut(Mode::$mode, Path::$path);
        }
    )*};
}

connection_cut_tests! {
    connection_cut_direct: Direct, Memory;
    connection_cut_tunnelled: Tunnelled, Control;
    connection_cut_managed_memory: Managed, Memory;
    connection_cut_p2p_memory: P2p, Memory;
    connection_cut_managed_control: Managed, Control;
    connection_cut_p2p_control: P2p, Control;
}

/// The destination refuses in prepare: a different domain of the same name
/// is defined there. It stays as it was.
#[test]
fn destination_name_clash() {
    let mut pair = Pair::start();
    for mode in MODES {
        let d = Doomed::start(&pair, Guest::new("clash"), format!("{mode:?} name clash"));
        let name = &d.g.name;
        let mut other = Guest::new("other");
        other.name = name.clone();
        pair.dst.define(&other.xml());
        let other_xml = pair.dst.dumpxml(name);
        let out = d.migrate_in(&mut pair, mode, "");
        assert!(out.stderr.contains("already"), "{}: {}", d.what, out.stderr);
        assert_untouched(&pair, &d.g, &d.before, &d.what);
        assert_eq!(pair.dst.domstate(name).as_deref(), Some("shut off"));
        assert_eq!(pair.dst.dumpxml(name), other_xml, "{}", d.what);
        pair.dst.ok(&format!("undefine {name}"));
    }
}

/// --xml the destination cannot take: unparsable, another UUID, another
/// memory size (not ABI-compatible).
#[test]
fn destination_refuses_bad_xml() {
    let mut pair = Pair::start();
    for mode in MODES {
        let g = Guest::new("badxml");
        pair.src.define_and_start(&g);
        let before = before(&pair, &g);
        let mut other_uuid = g.clone();
        other_uuid.uuid = hosts::fresh_uuid();
        let bad = [
            ("truncated", "<domain type='test'>\n".to_string()),
            ("other uuid", other_uuid.xml()),
            ("other memory", g.clone().memory(g.memory_mib * 2).xml()),
        ];
        for (kind, xml) in bad {
            // The same running guest, refused once for each kind of XML.
            let d = Doomed {
                g: g.clone(),
                before: before.clone(),
                what: format!("{mode:?} --xml {kind}"),
            };
            let path = pair.src.dir.join(format!("{}-bad.xml", g.name));
            std::fs::write(&path, xml).expect("write xml");
            d.migrate_in(&mut pair, mode, &format!("--xml {}", path.display()));
            d.assert_left_alone(&pair, Duration::ZERO);
        }
    }
}
