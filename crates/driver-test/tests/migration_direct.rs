//! Direct migration (no PEER2PEER, uri `test+reloc://HOST:PORT`): the
//! source speaks to the relocation listener, which migrates the guest into
//! this process's `test:///default`.

mod migration_support;

use migration_support::*;
use rvirt::migration::{flags, params};
use rvirt::types::reason;
use rvirt::{Connect, DomainState, TypedParamValue, TypedParams};

#[test]
fn direct_migration_into_the_default_host() {
    let src = host("direct-s");
    let addr = rvirt_driver_test::start_relocation_listener("127.0.0.1:0").unwrap();
    // Keep test:///default open to look at it afterwards.
    let default = Connect::open("test:///default").unwrap();
    let events = record(&default);
    let dom = start_guest(&src, "r1", 16, "");
    let p = TypedParams::new().with(
        params::URI,
        TypedParamValue::String(format!("test+reloc://{addr}")),
    );
    dom.migrate_perform3_params(None, &p, &[], flags::LIVE)
        .unwrap();
    let moved = default.lookup_by_name("r1").unwrap();
    assert_eq!(
        moved.get_state().unwrap(),
        (DomainState::Running, reason::RUNNING_MIGRATED)
    );
    assert_eq!(moved.uuid(), dom.uuid());
    assert_eq!(
        state(&src, "r1"),
        Some((DomainState::Shutoff, reason::SHUTOFF_MIGRATED))
    );
    assert!(!events.lock().unwrap().is_empty());

    // A failure on the destination side leaves the guest on the source.
    let dom = start_guest(
        &src,
        "r2",
        16,
        "<rvirt:inject-fault phase='finish' action='fail'/>",
    );
    let e = dom
        .migrate_perform3_params(None, &p, &[], flags::LIVE)
        .unwrap_err();
    assert!(e.message.contains("finish"), "{}", e.message);
    assert_eq!(state(&src, "r2").unwrap().0, DomainState::Running);
    assert!(default.lookup_by_name("r2").is_err());

    // The same through V1's perform with the URI as its argument.
    let dom = start_guest(&src, "r3", 16, "");
    dom.migrate_perform(&[], &format!("test+reloc://{addr}"), flags::LIVE, None, 0)
        .unwrap();
    assert!(default.lookup_by_name("r3").unwrap().is_active().unwrap());

    // Compressed ('mt') direct migration: the listener inflates.
    let dom = start_guest(&src, "r5", 16, "");
    let pz = p
        .clone()
        .with(params::COMPRESSION, TypedParamValue::String("mt".into()));
    dom.migrate_perform3_params(None, &pz, &[], flags::LIVE | flags::COMPRESSED)
        .unwrap();
    assert!(default.lookup_by_name("r5").unwrap().is_active().unwrap());
    let (_, st) = dom
        .get_job_stats(rvirt::job::stats_flags::COMPLETED)
        .unwrap();
    assert!(st.get_u64("compression_pages").unwrap() > 0);

    // A node-file source that is in fact this host is refused.
    let same = Connect::open("test:///default").unwrap();
    let xml = guest_xml("r4", 16, "");
    let d = same.create_xml(&xml, 0).unwrap();
    let e = d
        .migrate_perform3_params(None, &p, &[], flags::LIVE)
        .unwrap_err();
    assert!(e.message.contains("same host"), "{}", e.message);
    assert!(d.is_active().unwrap());
}
