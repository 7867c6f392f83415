//! Peer-to-peer migration: the source driver opens the destination host by
//! its URI and drives every phase itself; natively over TCP and tunnelled
//! through a `virStream`; offline.

mod migration_support;

use migration_support::*;
use rvirt::events::lifecycle as lc;
use rvirt::job::{field, stats_flags};
use rvirt::migration::{flags, params};
use rvirt::types::reason;
use rvirt::{DomainState, TypedParamValue, TypedParams};

fn p2p(src: &Host, dst: &Host, name: &str, extra: u32, p: &TypedParams) -> rvirt::Result<()> {
    let dom = src.conn.lookup_by_name(name).unwrap();
    dom.migrate_perform3_params(
        Some(&dst.uri),
        p,
        &[],
        flags::LIVE | flags::PEER2PEER | extra,
    )
    .map(|_| ())
}

#[test]
fn p2p_native_moves_the_guest() {
    let (src, dst) = (host("p2p-src"), host("p2p-dst"));
    let dom = start_guest(
        &src,
        "p1",
        32,
        "<rvirt:working-set unit='KiB'>16384</rvirt:working-set>",
    );
    let p = TypedParams::new().with(
        params::URI,
        TypedParamValue::String("tcp://127.0.0.1".into()),
    );
    p2p(&src, &dst, "p1", 0, &p).unwrap();
    assert_moved(&src, &dst, "p1");
    assert_eq!(
        state(&src, "p1"),
        Some((DomainState::Shutoff, reason::SHUTOFF_MIGRATED))
    );
    assert!(lifecycle(&src, "p1").contains(&(lc::STOPPED, lc::STOPPED_MIGRATED)));
    assert_eq!(
        lifecycle(&dst, "p1"),
        vec![
            (lc::STARTED, lc::STARTED_MIGRATED),
            (lc::RESUMED, lc::RESUMED_MIGRATED)
        ]
    );
    let (_, stats) = dom.get_job_stats(stats_flags::COMPLETED).unwrap();
    assert_success(&stats, true);
    assert!(
        stats.get_u64(field::DATA_PROCESSED).unwrap() > 16 << 20,
        "real bytes moved"
    );
}

#[test]
fn p2p_tunnelled_moves_the_guest() {
    let (src, dst) = (host("tun-src"), host("tun-dst"));
    start_guest(&src, "t1", 16, "");
    p2p(
        &src,
        &dst,
        "t1",
        flags::TUNNELLED | flags::PERSIST_DEST,
        &TypedParams::new(),
    )
    .unwrap();
    assert_moved(&src, &dst, "t1");
    assert!(dst
        .conn
        .lookup_by_name("t1")
        .unwrap()
        .is_persistent()
        .unwrap());
    assert!(job_completed(&dst, "t1"));
}

#[test]
fn p2p_paused_and_destination_name() {
    let (src, dst) = (host("pause-src"), host("pause-dst"));
    start_guest(&src, "t2", 16, "");
    let p = TypedParams::new().with(params::DEST_NAME, TypedParamValue::String("t2b".into()));
    p2p(&src, &dst, "t2", flags::PAUSED | flags::TUNNELLED, &p).unwrap();
    assert_eq!(
        state(&dst, "t2b"),
        Some((DomainState::Paused, reason::PAUSED_USER)),
        "VIR_MIGRATE_PAUSED keeps it paused"
    );
    assert!(dst.conn.lookup_by_name("t2").is_err());
}

#[test]
fn offline_moves_only_the_definition() {
    let (src, dst) = (host("off-src"), host("off-dst"));
    let dom = src.conn.define_xml(&guest_xml("o1", 16, ""), 0).unwrap();
    let f = flags::OFFLINE | flags::PERSIST_DEST | flags::PEER2PEER | flags::UNDEFINE_SOURCE;
    dom.migrate_perform3_params(Some(&dst.uri), &TypedParams::new(), &[], f)
        .unwrap();
    let d = dst.conn.lookup_by_name("o1").unwrap();
    assert!(d.is_persistent().unwrap() && !d.is_active().unwrap());
    assert!(src.conn.lookup_by_name("o1").is_err());
}

#[test]
fn p2p_to_an_unknown_destination_keeps_the_guest() {
    let src = host("nodst-src");
    let dom = start_guest(&src, "t3", 16, "");
    let e = dom
        .migrate_perform3_params(
            Some("nosuch:///x"),
            &TypedParams::new(),
            &[],
            flags::LIVE | flags::PEER2PEER,
        )
        .unwrap_err();
    assert_eq!(e.code, rvirt::ErrorCode::NO_CONNECT);
    assert_eq!(state(&src, "t3").unwrap().0, DomainState::Running);
}
