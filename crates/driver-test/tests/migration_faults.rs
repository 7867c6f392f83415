//! Fault hooks (`<rvirt:inject-fault>` in the guest metadata) and aborts:
//! whatever fails, the guest keeps running on the source, exactly once,
//! and the destination keeps nothing.

mod migration_support;

use migration_support::*;
use rvirt::migration::{flags, params};
use rvirt::{DomainState, ErrorCode, TypedParamValue, TypedParams};
use std::time::{Duration, Instant};

const LIVE_P2P: u32 = flags::LIVE | flags::PEER2PEER;

fn fault(phase: &str, action: &str) -> String {
    format!("<rvirt:inject-fault phase='{phase}' action='{action}'/>")
}

fn p2p(src: &Host, dst: &Host, name: &str, extra: u32) -> rvirt::Result<()> {
    let dom = src.conn.lookup_by_name(name).unwrap();
    dom.migrate_perform3_params(Some(&dst.uri), &TypedParams::new(), &[], LIVE_P2P | extra)
        .map(|_| ())
}

#[test]
fn failing_phases_leave_the_guest_on_the_source() {
    for (i, phase) in ["begin", "prepare", "perform", "finish"].iter().enumerate() {
        for tunnelled in [0, flags::TUNNELLED] {
            let tag = format!("fail-{phase}-{tunnelled}");
            let (src, dst) = (host(&format!("{tag}-s")), host(&format!("{tag}-d")));
            let name = format!("f{i}");
            let xml_before = {
                start_guest(&src, &name, 16, &fault(phase, "fail"))
                    .get_xml_desc(0)
                    .unwrap()
            };
            let e = p2p(&src, &dst, &name, tunnelled).unwrap_err();
            assert_eq!(e.code, ErrorCode::OPERATION_FAILED, "{phase}: {e}");
            assert!(
                e.message
                    .contains(&format!("injected fault in migration {phase} phase")),
                "{}",
                e.message
            );
            assert_stayed_on_source(&src, &dst, &name);
            let dom = src.conn.lookup_by_name(&name).unwrap();
            assert_eq!(dom.get_xml_desc(0).unwrap(), xml_before, "config intact");
            assert!(dom.is_persistent().unwrap());
        }
    }
}

#[test]
fn failing_phases_in_managed_v3() {
    for phase in ["prepare", "perform", "finish"] {
        let (src, dst) = (
            host(&format!("mf-{phase}-s")),
            host(&format!("mf-{phase}-d")),
        );
        let dom = start_guest(&src, "m1", 16, &fault(phase, "fail"));
        let f = flags::LIVE;
        let (ca, dp) = begin(&dom, "m1", f);
        let dp = dp.with(params::URI, s("tcp://127.0.0.1"));
        let prepared = dst.conn.migrate_prepare3_params(&dp, &ca, f);
        let Ok((cb, uri)) = prepared else {
            dom.migrate_confirm3_params(&TypedParams::new(), &[], f, true)
                .unwrap();
            assert_stayed_on_source(&src, &dst, "m1");
            continue;
        };
        let pp = TypedParams::new().with(params::URI, TypedParamValue::String(uri.unwrap()));
        let performed = dom.migrate_perform3_params(None, &pp, &cb, f);
        let cancelled = performed.is_err();
        let cc = performed.unwrap_or_default();
        let finished = dst.conn.migrate_finish3_params(&dp, &cc, f, cancelled);
        assert!(finished.is_err(), "{phase}");
        dom.migrate_confirm3_params(&TypedParams::new(), &[], f, true)
            .unwrap();
        assert_stayed_on_source(&src, &dst, "m1");
    }
}

#[test]
fn corrupted_page_fails_the_digest() {
    let (src, dst) = (host("corrupt-s"), host("corrupt-d"));
    start_guest(
        &src,
        "c1",
        16,
        "<rvirt:inject-fault action='corrupt-page'/>",
    );
    let e = p2p(&src, &dst, "c1", 0).unwrap_err();
    assert!(e.message.contains("digest mismatch"), "{}", e.message);
    assert_stayed_on_source(&src, &dst, "c1");
    // Tunnelled: the stream's finish reports the receiver's error.
    let e = p2p(&src, &dst, "c1", flags::TUNNELLED).unwrap_err();
    assert!(e.message.contains("digest mismatch"), "{}", e.message);
    assert_stayed_on_source(&src, &dst, "c1");
}

#[test]
fn confirm_fault_never_runs_the_guest_twice() {
    let (src, dst) = (host("confirm-s"), host("confirm-d"));
    start_guest(&src, "k1", 16, &fault("confirm", "fail"));
    let e = p2p(&src, &dst, "k1", 0).unwrap_err();
    assert!(e.message.contains("confirm"), "{}", e.message);
    // The destination already runs it: the source copy is gone regardless.
    assert_moved(&src, &dst, "k1");
}

#[test]
fn abort_during_a_delayed_perform() {
    let (src, dst) = (host("abort-s"), host("abort-d"));
    let dom = start_guest(&src, "a1", 16, &fault("perform", "delay' ms='5000"));
    let d2 = dom.clone();
    let t = std::thread::spawn(move || {
        d2.migrate_perform3_params(
            Some(&dst_uri_of("abort-d")),
            &TypedParams::new(),
            &[],
            LIVE_P2P,
        )
    });
    wait_for("the job", || dom.get_job_info().unwrap().type_ != 0);
    let started = Instant::now();
    dom.abort_job(0).unwrap();
    let e = t.join().unwrap().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(e.code, ErrorCode::OPERATION_ABORTED);
    assert_eq!(
        e.message,
        "operation aborted: migration out job: canceled by client"
    );
    assert_stayed_on_source(&src, &dst, "a1");
    let e = dom.abort_job(0).unwrap_err();
    assert_eq!(e.code, ErrorCode::OPERATION_INVALID);
}

#[test]
fn delayed_begin_and_finish_still_migrate() {
    let (src, dst) = (host("delay-s"), host("delay-d"));
    let meta = format!(
        "{}{}",
        fault("begin", "delay' ms='30"),
        fault("finish", "delay' ms='30")
    );
    start_guest(&src, "d1", 16, &meta);
    let t = Instant::now();
    p2p(&src, &dst, "d1", 0).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(60));
    assert_moved(&src, &dst, "d1");
}

#[test]
fn destination_cleans_up_when_the_source_vanishes() {
    let dst = host("vanish-d");
    let src = host("vanish-s");
    let dom = start_guest(&src, "v1", 16, "");
    let (ca, xml) = dom
        .migrate_begin3_params(&TypedParams::new(), flags::LIVE)
        .unwrap();
    let dp = TypedParams::new()
        .with(params::DEST_XML, s(&xml))
        .with(params::URI, s("tcp://127.0.0.1"));
    let (_, uri) = dst
        .conn
        .migrate_prepare3_params(&dp, &ca, flags::LIVE)
        .unwrap();
    assert_eq!(state(&dst, "v1").unwrap().0, DomainState::Paused);
    // A "source" that connects, sends half a header and goes away.
    let uri = uri.unwrap();
    let port = uri.rsplit(':').next().unwrap();
    let mut c = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    std::io::Write::write_all(&mut c, &[1, 0, 0, 0, 200, b'R']).unwrap();
    drop(c);
    wait_for("the destination to clean up", || {
        dst.conn.lookup_by_name("v1").is_err()
    });
    let e = dst
        .conn
        .migrate_finish3_params(
            &TypedParams::new().with(params::DEST_NAME, TypedParamValue::String("v1".into())),
            &[],
            flags::LIVE,
            false,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::OPERATION_FAILED, "{e}");
    dom.migrate_confirm3(&[], flags::LIVE, true).unwrap();
    assert_stayed_on_source(&src, &dst, "v1");
}

/// The URI of the host `host(tag)` created (same process, same file name).
fn dst_uri_of(tag: &str) -> String {
    format!(
        "test://{}",
        std::env::temp_dir()
            .join(format!("rvirt-mig-{}-{tag}.xml", std::process::id()))
            .display()
    )
}
