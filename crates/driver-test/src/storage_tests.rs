//! The test driver's storage semantics (libvirt's test_driver.c): the
//! default pool, pool lifecycle with its events, volume accounting, and
//! the test driver's refusals.

use crate::state::TestState;
use crate::storage_driver::TestStorage;
use rvirt::driver::storage::{pool_event, PoolEvent, PoolRef};
use rvirt::driver::StorageDriver;
use std::sync::{Arc, Mutex};

fn storage() -> TestStorage {
    TestStorage::new(Arc::new(TestState::default_config([0; 16]).unwrap()))
}

const P1: &str = "<pool type='dir'><name>p1</name><target><path>/p1</path></target></pool>";

#[test]
fn default_pool_is_running_and_persistent() {
    let s = storage();
    let p = s.pool_lookup_by_name("default-pool").unwrap();
    assert_eq!(p.uuid_string(), "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566");
    let info = s.pool_get_info(&p).unwrap();
    assert_eq!(
        (info.state, info.capacity, info.available),
        (2, 100 << 30, 100 << 30)
    );
    assert!(s.pool_is_persistent(&p).unwrap());
    assert!(!s.pool_get_autostart(&p).unwrap());
    assert!(s
        .pool_get_xml_desc(&p, 0)
        .unwrap()
        .contains("<path>/default-pool</path>"));
    assert_eq!(
        s.pool_get_xml_desc(&p, 1).unwrap_err().message,
        "unsupported flags (0x1) in function testStoragePoolGetXMLDesc"
    );
    assert_eq!(
        s.pool_lookup_by_name("x").unwrap_err().message,
        "Storage pool not found: no storage pool with matching name 'x'"
    );
}

#[test]
fn pool_lifecycle_raises_libvirts_events() {
    let s = storage();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    s.pool_event_register_any(
        None,
        pool_event::ID_LIFECYCLE,
        Arc::new(move |p: &PoolRef, e: &PoolEvent| {
            sink.lock().unwrap().push((p.name.clone(), e.clone()))
        }),
    )
    .unwrap();
    let p = s.pool_define_xml(P1, 0).unwrap();
    s.pool_build(&p, 0).unwrap();
    s.pool_create(&p, 0).unwrap();
    assert_eq!(
        s.pool_create(&p, 0).unwrap_err().message,
        "Requested operation is not valid: storage pool 'p1' is active"
    );
    s.pool_refresh(&p, 0).unwrap();
    s.pool_destroy(&p).unwrap();
    s.pool_delete(&p, 0).unwrap();
    s.pool_undefine(&p).unwrap();
    let kinds: Vec<i32> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, e)| match e {
            PoolEvent::Lifecycle { event, .. } => *event,
            PoolEvent::Refresh => -1,
        })
        .collect();
    use pool_event::*;
    assert_eq!(
        kinds,
        [DEFINED, CREATED, STARTED, STOPPED, DELETED, UNDEFINED]
    );
}

#[test]
fn transient_pools_go_away_when_destroyed() {
    let s = storage();
    let p = s.pool_create_xml(P1, 0).unwrap();
    assert!(!s.pool_is_persistent(&p).unwrap());
    assert_eq!(
        s.pool_set_autostart(&p, true).unwrap_err().message,
        "invalid argument: pool has no config file"
    );
    s.pool_destroy(&p).unwrap();
    assert!(s.pool_lookup_by_name("p1").is_err());
}

#[test]
fn duplicates_and_source_conflicts_are_refused() {
    let s = storage();
    let refusals = [
        (
            "<pool type='dir'><name>p2</name><target><path>/default-pool</path></target></pool>",
            "operation failed: Storage source conflict with pool: 'default-pool'",
        ),
        (
            "<pool type='dir'><name>default-pool</name><target><path>/x</path></target></pool>",
            "operation failed: pool 'default-pool' already exists with uuid dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566",
        ),
    ];
    for (xml, message) in refusals {
        assert_eq!(s.pool_define_xml(xml, 0).unwrap_err().message, message);
    }
}

#[test]
fn volumes_are_accounted_in_their_pool() {
    let s = storage();
    let p = s.pool_lookup_by_name("default-pool").unwrap();
    let v = s
        .vol_create_xml(
            &p,
            "<volume><name>v</name><capacity unit='M'>10</capacity></volume>",
            0,
        )
        .unwrap();
    assert_eq!(v.key, "/default-pool/v");
    assert_eq!(s.pool_get_info(&p).unwrap().allocation, 10 << 20);
    assert_eq!(s.vol_lookup_by_path("/default-pool/v").unwrap(), v);
    assert_eq!(
        s.vol_create_xml(
            &p,
            "<volume><name>v</name><capacity>1</capacity></volume>",
            0
        )
        .unwrap_err()
        .message,
        "operation failed: storage vol already exists"
    );
    assert_eq!(
        s.vol_create_xml(
            &p,
            "<volume><name>w</name><capacity unit='T'>1</capacity></volume>",
            0
        )
        .unwrap_err()
        .message,
        "internal error: Not enough free space in pool for volume 'w'"
    );
    let c = s
        .vol_create_xml_from(
            &p,
            "<volume><name>c</name><capacity>5</capacity></volume>",
            &v,
            0,
        )
        .unwrap();
    assert_eq!(s.vol_get_path(&c).unwrap(), "/default-pool/c");
    s.vol_delete(&v, 0).unwrap();
    assert_eq!(s.pool_get_info(&p).unwrap().allocation, 5);
    assert_eq!(
        s.vol_wipe(&c, 0).unwrap_err().message,
        "this function is not supported by the connection driver: virStorageVolWipe"
    );
    s.pool_destroy(&p).unwrap();
    assert_eq!(
        s.pool_list_all_volumes(&p, 0).unwrap_err().message,
        "Requested operation is not valid: storage pool is not active"
    );
    assert!(s.vol_lookup_by_key("/default-pool/c").is_err());
}
