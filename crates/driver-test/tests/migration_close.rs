//! An incoming migration belongs to the connection that prepared it: when
//! that connection closes before finish, the destination discards the
//! incoming guest (libvirt's close callback from `qemuMigrationDstPrepare`).
//! The destination host lives on through a second connection.

mod migration_support;

use migration_support::*;
use rvirt::events::lifecycle as lc;
use rvirt::job::{field, job_type, stats_flags};
use rvirt::migration::{flags, params};
use rvirt::types::reason;
use rvirt::{Connect, Domain, DomainState, TypedParamValue, TypedParams};

/// Begin a live migration of `dom` and prepare it as `name` over `conn`, a
/// connection of its own to the destination: the destination's params,
/// prepare's cookie and its migration URI.
fn prepare_over(
    conn: &Connect,
    dom: &Domain,
    name: &str,
) -> (TypedParams, Vec<u8>, Option<String>) {
    let (cookie_a, dparams) = begin(dom, name, flags::LIVE);
    let (cookie_b, uri_out) = conn
        .migrate_prepare3_params(&dparams, &cookie_a, flags::LIVE)
        .unwrap();
    (dparams, cookie_b, uri_out)
}

#[test]
fn closing_the_preparing_connection_discards_the_incoming_guest() {
    let (src, dst) = (host("close-src"), host("close-dst"));
    let dom = start_guest(&src, "c1", 16, "");
    let f = flags::LIVE;
    let preparing = Connect::open(&dst.uri).unwrap();
    let (dparams, _, uri_out) = prepare_over(&preparing, &dom, "c1");
    assert_eq!(
        state(&dst, "c1"),
        Some((DomainState::Paused, reason::PAUSED_MIGRATION))
    );
    let ddom = dst.conn.lookup_by_name("c1").unwrap();
    assert_eq!(ddom.get_job_stats(0).unwrap().0, job_type::UNBOUNDED);

    drop(preparing);

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
        .migrate_finish3_params(&dparams, &[], f, false)
        .is_err());
    // The source's perform finds nobody listening and keeps the guest.
    let pparams = TypedParams::new().with(params::URI, s(&uri_out.unwrap()));
    assert!(dom.migrate_perform3_params(None, &pparams, &[], f).is_err());
    assert_stayed_on_source(&src, &dst, "c1");
    assert_eq!(dom.get_job_stats(0).unwrap().0, job_type::NONE);
}

#[test]
fn a_finished_migration_survives_its_connection() {
    let (src, dst) = (host("closeok-src"), host("closeok-dst"));
    let dom = start_guest(&src, "c2", 16, "");
    let f = flags::LIVE;
    let preparing = Connect::open(&dst.uri).unwrap();
    let (dparams, cookie_b, uri_out) = prepare_over(&preparing, &dom, "c2");
    let pparams = TypedParams::new().with(params::URI, s(&uri_out.unwrap()));
    let cookie_c = dom
        .migrate_perform3_params(None, &pparams, &cookie_b, f)
        .unwrap();
    let (_, cookie_d) = preparing
        .migrate_finish3_params(&dparams, &cookie_c, f, false)
        .unwrap();
    dom.migrate_confirm3_params(&TypedParams::new(), &cookie_d, f, false)
        .unwrap();
    drop(preparing);
    assert_moved(&src, &dst, "c2");
    let ddom = dst.conn.lookup_by_name("c2").unwrap();
    let (t, stats) = ddom.get_job_stats(stats_flags::COMPLETED).unwrap();
    assert_eq!(t, job_type::COMPLETED);
    assert_eq!(
        stats.get(field::SUCCESS),
        Some(&TypedParamValue::Boolean(true))
    );
}

#[test]
fn closing_discards_only_what_that_connection_prepared() {
    let (src, dst) = (host("closetwo-src"), host("closetwo-dst"));
    let a = start_guest(&src, "c3", 16, "");
    let b = start_guest(&src, "c4", 16, "");
    let first = Connect::open(&dst.uri).unwrap();
    let second = Connect::open(&dst.uri).unwrap();
    prepare_over(&first, &a, "c3");
    let (kept, ..) = prepare_over(&second, &b, "c4");
    drop(first);
    assert!(dst.conn.lookup_by_name("c3").is_err());
    assert_eq!(
        state(&dst, "c4"),
        Some((DomainState::Paused, reason::PAUSED_MIGRATION)),
        "the other connection's incoming guest stays"
    );
    // Its client cancels it the ordinary way.
    assert!(second
        .migrate_finish3_params(&kept, &[], flags::LIVE, true)
        .is_err());
    assert!(dst.conn.lookup_by_name("c4").is_err());
}
