//! Stock virsh migrates test-driver guests between two rvirtd hosts in
//! every mode (managed, peer-to-peer, tunnelled, direct) with the flags and
//! parameters that change the outcome (--persistent, --undefinesource,
//! --dname, --xml, --bandwidth). After each migration the guest runs on the
//! destination only, under the right name and XML, and the source holds
//! what the flags say. The destination verifies the memory digest before it
//! runs the guest, so each success also shows the memory arrived intact.

mod hosts;

use hosts::{ran_on_both, Guest, Host, Mode, Pair, Watch, MODES};
use std::time::{Duration, Instant};

/// What the source should hold after a successful migration.
#[derive(Debug, PartialEq)]
enum SourceAfter {
    Gone,
    ShutOff,
}

/// The XML of a running domain without its run-time `id`.
fn without_id(xml: &str) -> String {
    let mut out = String::new();
    for (i, line) in xml.lines().enumerate() {
        if i == 0 {
            let mut l = line.to_string();
            if let Some(pos) = l.find(" id='") {
                if let Some(end) = l[pos + 5..].find('\'') {
                    l.replace_range(pos..pos + 5 + end + 1, "");
                }
            }
            out.push_str(&l);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Run one migration with a watcher and check the outcome.
#[allow(clippy::too_many_arguments)]
fn migrate_and_check(
    pair: &Pair,
    guest: &Guest,
    mode: Mode,
    flags: &str,
    dst_name: &str,
    dst_persistent: bool,
    src_after: SourceAfter,
    expect_xml: &str,
) {
    let watch = Watch::start(&pair.src, &guest.name, &pair.dst, dst_name);
    let cmd = format!("migrate {flags} {}", mode.args(pair, &guest.name));
    let out = pair.src.virsh(&cmd);
    let samples = watch.finish();
    assert!(
        out.ok,
        "{mode:?} `{cmd}` failed: {}{}\n--- src log:\n{}\n--- dst log:\n{}",
        out.stdout,
        out.stderr,
        pair.src.log(),
        pair.dst.log()
    );
    assert!(!ran_on_both(&samples), "{mode:?}: ran on both: {samples:?}");

    // Destination: running, under the right name, persistent as asked,
    // with the XML it was given.
    assert_eq!(
        pair.dst.domstate(dst_name).as_deref(),
        Some("running"),
        "{mode:?} {flags}"
    );
    assert!(pair.dst.running().contains(&dst_name.to_string()));
    assert_eq!(
        pair.dst.persistent(dst_name),
        dst_persistent,
        "{mode:?} {flags}"
    );
    assert_eq!(
        without_id(&pair.dst.dumpxml(dst_name)),
        without_id(expect_xml),
        "{mode:?} {flags}: destination XML"
    );

    // Source: not running; gone or a shut-off definition.
    assert!(
        !pair.src.running().contains(&guest.name),
        "{mode:?} {flags}"
    );
    match src_after {
        SourceAfter::Gone => assert_eq!(pair.src.domstate(&guest.name), None, "{mode:?} {flags}"),
        SourceAfter::ShutOff => {
            assert_eq!(
                pair.src.domstate(&guest.name).as_deref(),
                Some("shut off"),
                "{mode:?} {flags}"
            );
            assert!(pair.src.persistent(&guest.name));
        }
    }
    // The guest's name is on the destination once, the source's other
    // guests untouched.
    assert_eq!(
        pair.dst.names().iter().filter(|n| *n == dst_name).count(),
        1
    );
    assert!(pair.src.names().contains(&"test".to_string()));
}

/// The XML the destination should show: the source's, renamed if asked.
fn expected_xml(host: &Host, guest: &Guest, dname: Option<&str>) -> String {
    let xml = host.dumpxml(&guest.name);
    match dname {
        Some(d) => xml.replace(
            &format!("<name>{}</name>", guest.name),
            &format!("<name>{d}</name>"),
        ),
        None => xml,
    }
}

fn plain_persistent_source(mode: Mode) {
    let pair = Pair::start();
    let g = Guest::new("plain");
    pair.src.define_and_start(&g);
    let xml = expected_xml(&pair.src, &g, None);
    migrate_and_check(
        &pair,
        &g,
        mode,
        "",
        &g.name,
        false,
        SourceAfter::ShutOff,
        &xml,
    );

    // A transient source guest leaves nothing behind.
    let t = Guest::new("transient");
    pair.src.create(&t);
    let xml = expected_xml(&pair.src, &t, None);
    migrate_and_check(&pair, &t, mode, "", &t.name, false, SourceAfter::Gone, &xml);
}

fn persistent_undefinesource_dname_xml(mode: Mode) {
    let pair = Pair::start();

    let g = Guest::new("persist");
    pair.src.define_and_start(&g);
    let xml = expected_xml(&pair.src, &g, None);
    migrate_and_check(
        &pair,
        &g,
        mode,
        "--persistent --undefinesource",
        &g.name,
        true,
        SourceAfter::Gone,
        &xml,
    );

    let g = Guest::new("renamed");
    pair.src.define_and_start(&g);
    let dname = format!("{}-new", g.name);
    let xml = expected_xml(&pair.src, &g, Some(&dname));
    migrate_and_check(
        &pair,
        &g,
        mode,
        &format!("--persistent --dname {dname}"),
        &dname,
        true,
        SourceAfter::ShutOff,
        &xml,
    );

    // --xml: a changed but ABI-compatible definition for the destination.
    let g = Guest::new("newxml");
    pair.src.define_and_start(&g);
    let changed = g.clone().description("moved with a new description");
    let path = pair.src.dir.join(format!("{}-dst.xml", g.name));
    std::fs::write(&path, changed.xml()).expect("write xml");
    let before = pair.src.dumpxml(&g.name);
    let xml = before.replace(
        &format!("<uuid>{}</uuid>\n", g.uuid),
        &format!(
            "<uuid>{}</uuid>\n  <description>moved with a new description</description>\n",
            g.uuid
        ),
    );
    assert_ne!(xml, before, "fixture XML layout changed");
    migrate_and_check(
        &pair,
        &g,
        mode,
        &format!("--xml {}", path.display()),
        &g.name,
        false,
        SourceAfter::ShutOff,
        &xml,
    );
}

#[test]
fn managed_migration() {
    plain_persistent_source(Mode::Managed);
}

#[test]
fn p2p_migration() {
    plain_persistent_source(Mode::P2p);
}

#[test]
fn tunnelled_migration() {
    plain_persistent_source(Mode::Tunnelled);
}

#[test]
fn direct_migration() {
    plain_persistent_source(Mode::Direct);
}

#[test]
fn managed_migration_flags() {
    persistent_undefinesource_dname_xml(Mode::Managed);
}

#[test]
fn p2p_migration_flags() {
    persistent_undefinesource_dname_xml(Mode::P2p);
}

#[test]
fn tunnelled_migration_flags() {
    persistent_undefinesource_dname_xml(Mode::Tunnelled);
}

#[test]
fn direct_migration_flags() {
    persistent_undefinesource_dname_xml(Mode::Direct);
}

/// --bandwidth (MiB/s) limits the transfer: 8 MiB of written memory at
/// 4 MiB/s takes about two seconds in every mode, and the completed job on
/// the source says how much moved.
#[test]
fn bandwidth_limits_every_mode() {
    let pair = Pair::start();
    for mode in MODES {
        let g = Guest::new("slow");
        pair.src.define_and_start(&g);
        let xml = expected_xml(&pair.src, &g, None);
        let start = Instant::now();
        migrate_and_check(
            &pair,
            &g,
            mode,
            "--bandwidth 4",
            &g.name,
            false,
            SourceAfter::ShutOff,
            &xml,
        );
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(1500),
            "{mode:?}: 8 MiB at 4 MiB/s took only {took:?}"
        );
        let done = pair.src.ok(&format!("domjobinfo --completed {}", g.name));
        assert!(
            done.contains("Job type:         Completed"),
            "{mode:?}: {done}"
        );
        assert!(
            hosts::processed_bytes(&done) >= 8 << 20,
            "{mode:?}: less than the working set moved: {done}"
        );
    }
}

/// Unlimited bandwidth is quick: the limit above is what made it slow.
#[test]
fn unlimited_bandwidth_is_quick() {
    let pair = Pair::start();
    let g = Guest::new("quick");
    pair.src.define_and_start(&g);
    let xml = expected_xml(&pair.src, &g, None);
    let start = Instant::now();
    migrate_and_check(
        &pair,
        &g,
        Mode::Tunnelled,
        "",
        &g.name,
        false,
        SourceAfter::ShutOff,
        &xml,
    );
    assert!(start.elapsed() < Duration::from_millis(1500));
}

/// Back again: the destination becomes the source of a second migration,
/// and the guest lands on the first host running.
#[test]
fn migrate_there_and_back() {
    let pair = Pair::start();
    let g = Guest::new("roundtrip");
    pair.src.define_and_start(&g);
    let xml = expected_xml(&pair.src, &g, None);
    migrate_and_check(
        &pair,
        &g,
        Mode::P2p,
        "--persistent --undefinesource",
        &g.name,
        true,
        SourceAfter::Gone,
        &xml,
    );
    let out = pair.dst.virsh(&format!(
        "migrate --live --p2p --persistent --undefinesource {} {} --migrateuri tcp://127.0.0.1",
        g.name,
        pair.src.uri()
    ));
    assert!(out.ok, "{}{}", out.stdout, out.stderr);
    assert_eq!(pair.src.domstate(&g.name).as_deref(), Some("running"));
    assert_eq!(pair.dst.domstate(&g.name), None);
    assert_eq!(without_id(&pair.src.dumpxml(&g.name)), without_id(&xml));
}
