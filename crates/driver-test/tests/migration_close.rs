//! An incoming migration belongs to the connection that prepared it: when
//! that connection closes before finish, the destination discards the
//! incoming guest (libvirt's close callback from `qemuMigrationDstPrepare`).
//! The destination host lives on through a second connection.

mod migration_support;

use migration_support::*;
use rvirt::events::lifecycle as lc;
use rvirt::job::{job_type, stats_flags};
use rvirt::migration::{flags, params};
use rvirt::types::reason;
use rvirt::{Connect, Domain, DomainState, TypedParams};

/// A live migration of `dom` begun, and prepared as `name` over a new
/// connection of its own to the destination.
struct Prepared {
    /// The preparing connection.
    conn: Connect,
    dparams: TypedParams,
    cookie: Vec<u8>,
    uri: Option<String>,
}

fn prepare_over_own_connection(dst: &Host, dom: &Domain, name: &str) -> Prepared {
    let conn = Connect::open(&dst.uri).unwrap();
    let (cookie_a, dparams) = begin(dom, name, flags::LIVE);
    let (cookie, uri) = conn
        .migrate_prepare3_params(&dparams, &cookie_a, flags::LIVE)
        .unwrap();
    Prepared {
        conn,
        dparams,
        cookie,
        uri,
    }
}

#[test]
fn closing_the_preparing_connection_discards_the_incoming_guest() {
    let (src, dst) = (host("close-src"), host("close-dst"));
    let dom = start_guest(&src, "c1", 16, "");
    let f = flags::LIVE;
    let prepared = prepare_over_own_connection(&dst, &dom, "c1");
    assert_eq!(
        state(&dst, "c1"),
        Some((DomainState::Paused, reason::PAUSED_MIGRATION))
    );
    let ddom = dst.conn.lookup_by_name("c1").unwrap();
    assert_eq!(ddom.get_job_stats(0).unwrap().0, job_type::UNBOUNDED);

    drop(prepared.conn);

    assert!(
        dst.conn.lookup_by_name("c1").is_err(),
        "the incoming guest is gone"
    );
    assert_eq!(
        lifecycle(&dst, "c1"),
        vec![
            (lc::STARTED, lc::STARTED_MIGRATED),
            (lc::STOPPED, lc::STOPPED_FAILED)
        ]
    );
    // Finish has nothing left to finish.
    assert!(dst
        .conn
        .migrate_finish3_params(&prepared.dparams, &[], f, false)
        .is_err());
    // The source's perform finds nobody listening and keeps the guest.
    let pparams = TypedParams::new().with(params::URI, s(&prepared.uri.unwrap()));
    assert!(dom.migrate_perform3_params(None, &pparams, &[], f).is_err());
    assert_stayed_on_source(&src, &dst, "c1");
    assert_eq!(dom.get_job_stats(0).unwrap().0, job_type::NONE);
}

#[test]
fn a_finished_migration_survives_its_connection() {
    let (src, dst) = (host("closeok-src"), host("closeok-dst"));
    let dom = start_guest(&src, "c2", 16, "");
    let f = flags::LIVE;
    let prepared = prepare_over_own_connection(&dst, &dom, "c2");
    let pparams = TypedParams::new().with(params::URI, s(&prepared.uri.unwrap()));
    let cookie_c = dom
        .migrate_perform3_params(None, &pparams, &prepared.cookie, f)
        .unwrap();
    let (_, cookie_d) = prepared
        .conn
        .migrate_finish3_params(&prepared.dparams, &cookie_c, f, false)
        .unwrap();
    dom.migrate_confirm3_params(&TypedParams::new(), &cookie_d, f, false)
        .unwrap();
    drop(prepared.conn);
    assert_moved(&src, &dst, "c2");
    let ddom = dst.conn.lookup_by_name("c2").unwrap();
    let (t, stats) = ddom.get_job_stats(stats_flags::COMPLETED).unwrap();
    assert_eq!(t, job_type::COMPLETED);
    assert_success(&stats, true);
}

#[test]
fn closing_discards_only_what_that_connection_prepared() {
    let (src, dst) = (host("closetwo-src"), host("closetwo-dst"));
    let a = start_guest(&src, "c3", 16, "");
    let b = start_guest(&src, "c4", 16, "");
    let first = prepare_over_own_connection(&dst, &a, "c3");
    let second = prepare_over_own_connection(&dst, &b, "c4");
    drop(first);
    assert!(dst.conn.lookup_by_name("c3").is_err());
    assert_eq!(
        state(&dst, "c4"),
        Some((DomainState::Paused, reason::PAUSED_MIGRATION)),
        "the other connection's incoming guest stays"
    );
    // Its client cancels it the ordinary way.
    assert!(second
        .conn
        .migrate_finish3_params(&second.dparams, &[], flags::LIVE, true)
        .is_err());
    assert!(dst.conn.lookup_by_name("c4").is_err());
}
