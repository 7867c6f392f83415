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
use rvirt::{Connect, DomainState, TypedParamValue, TypedParams};

#[test]
fn closing_the_preparing_connection_discards_the_incoming_guest() {
    let (src, dst) = (host("close-src"), host("close-dst"));
    let dom = start_guest(&src, "c1", 16, "");
    let f = flags::LIVE;
    let (cookie_a, dparams) = begin(&dom, "c1", f);
    let preparing = Connect::open(&dst.uri).unwrap();
    let (_, uri_out) = preparing
        .migrate_prepare3_params(&dparams, &cookie_a, f)
        .unwrap();
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
    let (cookie_a, dparams) = begin(&dom, "c2", f);
    let preparing = Connect::open(&dst.uri).unwrap();
    let (cookie_b, uri_out) = preparing
        .migrate_prepare3_params(&dparams, &cookie_a, f)
        .unwrap();
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
    let f = flags::LIVE;
    let prep = |dom: &rvirt::Domain, conn: &Connect, name: &str| {
        let (cookie_a, dparams) = begin(dom, name, f);
        conn.migrate_prepare3_params(&dparams, &cookie_a, f)
            .unwrap();
        dparams
    };
    let first = Connect::open(&dst.uri).unwrap();
    let second = Connect::open(&dst.uri).unwrap();
    prep(&a, &first, "c3");
    let kept = prep(&b, &second, "c4");
    drop(first);
    assert!(dst.conn.lookup_by_name("c3").is_err());
    assert_eq!(
        state(&dst, "c4"),
        Some((DomainState::Paused, reason::PAUSED_MIGRATION)),
        "the other connection's incoming guest stays"
    );
    // Its client cancels it the ordinary way.
    assert!(second.migrate_finish3_params(&kept, &[], f, true).is_err());
    assert!(dst.conn.lookup_by_name("c4").is_err());
}
