//! Direct migration (no PEER2PEER, uri `test+reloc://HOST:PORT`): the
//! source speaks to the relocation listener, which migrates the guest into
//! this process's `test:///default`.

mod migration_support;

use migration_support::*;
use rvirt::driver::PerformArgs;
use rvirt::migration::{flags, params};
use rvirt::types::reason;
use rvirt::{Connect, DomainState, TypedParams};

/// The listener a daemon's test driver would own, for this process's
/// `test:///default`.
fn relocation_listener() -> rvirt_driver_test::RelocationListener {
    let uuid = rvirt_driver_test::migration::derived_host_uuid();
    rvirt_driver_test::RelocationListener::start("127.0.0.1:0", uuid, 8).unwrap()
}

/// Perform parameters sending a direct migration to relocation address `a`.
fn to_reloc(a: std::net::SocketAddr) -> TypedParams {
    TypedParams::new().with(params::URI, s(&format!("test+reloc://{a}")))
}

#[test]
fn direct_migration_into_the_default_host() {
    let src = host("direct-s");
    let listener = relocation_listener();
    let addr = listener.addr();
    // Keep test:///default open to look at it afterwards.
    let default = Connect::open("test:///default").unwrap();
    let events = record(&default);
    let dom = start_guest(&src, "r1", 16, "");
    let p = to_reloc(addr);
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
    let uri = format!("test+reloc://{addr}");
    let v1 = PerformArgs {
        uri: Some(&uri),
        flags: flags::LIVE,
        ..Default::default()
    };
    dom.migrate_perform(&v1).unwrap();
    assert!(default.lookup_by_name("r3").unwrap().is_active().unwrap());

    // Compressed ('mt') direct migration: the listener inflates.
    let dom = start_guest(&src, "r5", 16, "");
    let pz = p.clone().with(params::COMPRESSION, s("mt"));
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

/// A proxy in front of the relocation listener that forwards the
/// destination's answer to the request and `extra` bytes after it, then
/// cuts both connections.
fn cutting_proxy(target: std::net::SocketAddr, extra: usize) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut src, _) = l.accept().unwrap();
        let mut dst = TcpStream::connect(target).unwrap();
        let (mut s2, mut d2) = (src.try_clone().unwrap(), dst.try_clone().unwrap());
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut s2, &mut d2);
            let _ = d2.shutdown(Shutdown::Write);
        });
        // The answer: kind, field kind, u32 length, cookie.
        let mut head = [0u8; 6];
        dst.read_exact(&mut head).unwrap();
        let len = u32::from_be_bytes([head[2], head[3], head[4], head[5]]) as usize;
        let mut body = vec![0u8; len];
        dst.read_exact(&mut body).unwrap();
        src.write_all(&head).unwrap();
        src.write_all(&body).unwrap();
        let mut after = vec![0u8; extra];
        if dst.read_exact(&mut after).is_ok() {
            let _ = src.write_all(&after);
        }
        let mut more = [0u8; 1];
        let _ = dst.read(&mut more);
        let _ = src.shutdown(Shutdown::Both);
        let _ = dst.shutdown(Shutdown::Both);
    });
    addr
}

#[test]
fn a_cut_connection_never_runs_the_guest_twice() {
    let src = host("direct-cut-s");
    let listener = relocation_listener();
    let reloc = listener.addr();
    let default = Connect::open("test:///default").unwrap();

    // Cut before the destination's first verdict: it never got the go, so
    // it discards the guest and the source resumes its own.
    let dom = start_guest(&src, "x1", 16, "");
    let e = dom
        .migrate_perform3_params(None, &to_reloc(cutting_proxy(reloc, 0)), &[], flags::LIVE)
        .unwrap_err();
    assert!(!e.message.is_empty());
    assert_eq!(state(&src, "x1").unwrap().0, DomainState::Running);
    wait_for("the destination to discard x1", || {
        default.lookup_by_name("x1").is_err()
    });

    // Cut after the go: the destination runs the guest, the source never
    // hears so and leaves its own paused instead of resuming it.
    let dom = start_guest(&src, "x2", 16, "");
    let e = dom
        .migrate_perform3_params(None, &to_reloc(cutting_proxy(reloc, 1)), &[], flags::LIVE)
        .unwrap_err();
    assert!(!e.message.is_empty());
    wait_for("the destination to run x2", || {
        default
            .lookup_by_name("x2")
            .is_ok_and(|d| d.is_active().unwrap())
    });
    assert_eq!(
        state(&src, "x2"),
        Some((DomainState::Paused, reason::PAUSED_MIGRATION)),
        "never running on both"
    );
    assert_eq!(dom.get_job_stats(0).unwrap().0, rvirt::job::job_type::NONE);
}
