//! libvirt's rules on flag and parameter combinations, the job clash, a
//! confirm that would lose the guest, and the two stream options:
//! multithread compression (COMPRESSED, `compression` 'mt') and parallel
//! connections (PARALLEL, `parallel.connections`).

mod migration_support;

use migration_support::*;
use rvirt::job::{field, job_type};
use rvirt::migration::{flags, params};
use rvirt::{Domain, DomainState, ErrorCode, TypedParamValue, TypedParams};

const LIVE_P2P: u32 = flags::LIVE | flags::PEER2PEER;
/// A live migration whose job lasts from begin to confirm.
const PROTECTED: u32 = flags::LIVE | flags::CHANGE_PROTECTION;

fn mt(level: i32) -> TypedParams {
    TypedParams::new()
        .with(params::COMPRESSION, s("mt"))
        .with(params::COMPRESSION_MT_LEVEL, TypedParamValue::Int(level))
}

#[test]
fn combinations_are_refused_as_libvirt_does() {
    let (src, dst) = (host("rules-s"), host("rules-d"));
    let dom = start_guest(&src, "r1", 16, "");
    let cases: Vec<(u32, TypedParams, ErrorCode, &str)> = vec![
        (
            LIVE_P2P | flags::TUNNELLED | flags::POSTCOPY,
            TypedParams::new(),
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "post-copy is not supported with tunnelled migration",
        ),
        (
            flags::PEER2PEER | flags::POSTCOPY,
            TypedParams::new(),
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "post-copy migration is not supported with non-live or paused migration",
        ),
        (
            LIVE_P2P | flags::PAUSED | flags::POSTCOPY,
            TypedParams::new(),
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "post-copy migration is not supported with non-live or paused migration",
        ),
        (
            LIVE_P2P | flags::TUNNELLED | flags::PARALLEL,
            TypedParams::new(),
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "parallel migration is not supported with tunnelled migration",
        ),
        (
            LIVE_P2P,
            TypedParams::new().with(params::AUTO_CONVERGE_INITIAL, TypedParamValue::Int(30)),
            ErrorCode::INVALID_ARG,
            "Turn auto convergence on to tune it",
        ),
        (
            LIVE_P2P,
            TypedParams::new().with(params::PARALLEL_CONNECTIONS, TypedParamValue::Int(4)),
            ErrorCode::INVALID_ARG,
            "Turn parallel migration on to tune it",
        ),
        (
            LIVE_P2P | flags::COMPRESSED,
            TypedParams::new(),
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "selects xbzrle",
        ),
        (
            LIVE_P2P | flags::COMPRESSED,
            TypedParams::new().with(params::COMPRESSION, s("xbzrle")),
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "compression method 'xbzrle' is not supported",
        ),
        (
            LIVE_P2P,
            TypedParams::new().with(params::COMPRESSION, s("zstd")),
            ErrorCode::INVALID_ARG,
            "Unsupported compression method 'zstd'",
        ),
        (
            LIVE_P2P | flags::PARALLEL,
            mt(1),
            ErrorCode::INVALID_ARG,
            "Compression method 'mt' isn't supported with parallel migration",
        ),
        (
            LIVE_P2P,
            TypedParams::new().with(params::COMPRESSION_MT_THREADS, TypedParamValue::Int(2)),
            ErrorCode::INVALID_ARG,
            "Turn multithread compression on to tune it",
        ),
        (
            LIVE_P2P,
            mt(10),
            ErrorCode::INVALID_ARG,
            "Parameter 'compress_level' expects a value between 0 and 9",
        ),
        (
            LIVE_P2P | flags::PARALLEL,
            TypedParams::new().with(params::PARALLEL_CONNECTIONS, TypedParamValue::Int(256)),
            ErrorCode::INVALID_ARG,
            "Parameter 'multifd_channels' expects a value between 1 and 255",
        ),
    ];
    for (f, p, code, text) in cases {
        let e = dom
            .migrate_perform3_params(Some(&dst.uri), &p, &[], f)
            .unwrap_err();
        assert_eq!(e.code, code, "{e}");
        assert!(e.message.ends_with(text) || e.message.contains(text), "{e}");
        // The managed begin phase refuses the same way.
        if f & flags::TUNNELLED == 0 {
            let e = dom.migrate_begin3_params(&p, f & !flags::PEER2PEER);
            assert_eq!(e.unwrap_err().code, code);
        }
        assert_stayed_on_source(&src, &dst, "r1");
        assert_eq!(dom.get_job_stats(0).unwrap().0, job_type::NONE);
    }
    // Parallel direct migration is refused before anything starts.
    let e = dom
        .migrate_perform3_params(
            None,
            &TypedParams::new().with(params::URI, s("test+reloc://127.0.0.1:1")),
            &[],
            flags::LIVE | flags::PARALLEL,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ARGUMENT_UNSUPPORTED, "{e}");
    assert_eq!(dom.get_job_stats(0).unwrap().0, job_type::NONE);
}

/// Guest `name` on a new host `tag`, its migration begun with
/// CHANGE_PROTECTION: the job lasts until confirm.
fn protected_job(tag: &str, name: &str) -> (Host, Domain) {
    let src = host(tag);
    let dom = start_guest(&src, name, 16, "");
    dom.migrate_begin3_params(&TypedParams::new(), PROTECTED)
        .unwrap();
    (src, dom)
}

#[test]
fn a_second_job_names_the_domain() {
    let (_src, dom) = protected_job("clash-s", "r2");
    let e = dom
        .migrate_begin3_params(&TypedParams::new(), PROTECTED)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::OPERATION_INVALID);
    assert_eq!(
        e.message,
        "Requested operation is not valid: another migration job is already running for domain 'r2'"
    );
    dom.migrate_confirm3(&[], PROTECTED, true).unwrap();
}

#[test]
fn confirm_without_perform_keeps_the_guest() {
    let (src, dom) = protected_job("noperf-s", "r3");
    // A client that skips perform and confirms success: nothing moved, so
    // dropping the source's guest would lose it.
    let e = dom
        .migrate_confirm3_params(&TypedParams::new(), &[], PROTECTED, false)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::OPERATION_INVALID, "{e}");
    assert!(e.message.contains("perform phase did not complete"), "{e}");
    assert_eq!(state(&src, "r3").unwrap().0, DomainState::Running);
    assert_eq!(dom.get_job_stats(0).unwrap().0, job_type::NONE);
    // No migration at all: libvirt's qemuMigrationJobIsActive words.
    let e = dom
        .migrate_confirm3_params(&TypedParams::new(), &[], flags::LIVE, false)
        .unwrap_err();
    assert_eq!(
        e.message,
        "Requested operation is not valid: domain 'r3' is not being migrated"
    );
}

#[test]
fn compressed_mt_shrinks_what_travels() {
    let (src, dst) = (host("mt-s"), host("mt-d"));
    // Half the written pages are text-like (the default), a few are zero.
    let meta = "<rvirt:working-set unit='KiB'>24576</rvirt:working-set>";
    let plain = start_guest(&src, "c0", 32, meta);
    plain
        .migrate_perform3_params(Some(&dst.uri), &TypedParams::new(), &[], LIVE_P2P)
        .unwrap();
    let plain_stats = completed(&plain);
    assert!(plain_stats.get(field::DATA_PROCESSED).is_some());
    assert!(plain_stats.get("compression_pages").is_none());

    let dom = start_guest(&src, "c1", 32, meta);
    let p = mt(1)
        .with(params::COMPRESSION_MT_THREADS, TypedParamValue::Int(4))
        .with(params::COMPRESSION_MT_DTHREADS, TypedParamValue::Int(3));
    dom.migrate_perform3_params(Some(&dst.uri), &p, &[], LIVE_P2P | flags::COMPRESSED)
        .unwrap();
    assert_moved(&src, &dst, "c1");
    let st = completed(&dom);
    let data = st.get_u64(field::DATA_PROCESSED).unwrap();
    let mem = st.get_u64(field::MEMORY_PROCESSED).unwrap();
    let pages = st.get_u64("compression_pages").unwrap();
    let bytes = st.get_u64("compression_bytes").unwrap();
    assert!(data < mem * 3 / 4, "data {data} vs memory {mem}");
    // Per byte of guest memory moved: how many passes each run needed
    // depends on how busy the machine was, the ratio does not.
    let plain_data = plain_stats.get_u64(field::DATA_PROCESSED).unwrap() as f64;
    let plain_mem = plain_stats.get_u64(field::MEMORY_PROCESSED).unwrap() as f64;
    let (ratio, plain_ratio) = (data as f64 / mem as f64, plain_data / plain_mem);
    assert!(
        ratio < plain_ratio * 0.75,
        "compressed {data}/{mem} vs plain {plain_data}/{plain_mem}"
    );
    // About half of the 6144 written pages compress, to well under a page each.
    assert!(pages > 2000 && pages < 6144, "{pages}");
    assert!(bytes < pages * 4096 / 2, "{bytes} for {pages} pages");

    // Tunnelled (through a virStream) and without the flag (the param
    // alone turns it on, as in libvirt).
    let dom = start_guest(&src, "c2", 16, "");
    dom.migrate_perform3_params(Some(&dst.uri), &mt(9), &[], LIVE_P2P | flags::TUNNELLED)
        .unwrap();
    assert_moved(&src, &dst, "c2");
    assert!(completed(&dom).get_u64("compression_pages").unwrap() > 0);
}

#[test]
fn compressed_managed_v3_params_and_a_destination_that_did_not_ask() {
    let (src, dst) = (host("mtm-s"), host("mtm-d"));
    let dom = start_guest(&src, "c3", 16, "");
    let f = flags::LIVE | flags::COMPRESSED;
    let (ca, xml) = dom.migrate_begin3_params(&mt(6), f).unwrap();
    // The destination is prepared without compression: the stream's
    // compressed pages are refused and the guest stays on the source.
    let dp = dest_params(&xml, "c3");
    let (cb, uri) = dst
        .conn
        .migrate_prepare3_params(&dp, &ca, flags::LIVE)
        .unwrap();
    let pp = mt(6).with(params::URI, s(&uri.unwrap()));
    let e = dom.migrate_perform3_params(None, &pp, &cb, f).unwrap_err();
    assert!(e.message.contains("not negotiated"), "{e}");
    let _ = dst.conn.migrate_finish3_params(&dp, &[], flags::LIVE, true);
    assert_stayed_on_source(&src, &dst, "c3");

    // Both sides asked: it moves.
    let (ca, xml) = dom.migrate_begin3_params(&mt(6), f).unwrap();
    let dp = mt(6)
        .with(params::DEST_XML, s(&xml))
        .with(params::DEST_NAME, s("c3"));
    let (cb, uri) = dst.conn.migrate_prepare3_params(&dp, &ca, f).unwrap();
    let pp = mt(6).with(params::URI, s(&uri.unwrap()));
    let cc = dom.migrate_perform3_params(None, &pp, &cb, f).unwrap();
    let (_, cd) = dst.conn.migrate_finish3_params(&dp, &cc, f, false).unwrap();
    dom.migrate_confirm3_params(&TypedParams::new(), &cd, f, false)
        .unwrap();
    assert_moved(&src, &dst, "c3");
}

#[test]
fn parallel_moves_the_guest_over_several_connections() {
    let (src, dst) = (host("par-s"), host("par-d"));
    for (name, conns) in [("p1", None), ("p2", Some(5))] {
        let dom = start_guest(&src, name, 32, "");
        let mut p = TypedParams::new();
        if let Some(n) = conns {
            p.push(params::PARALLEL_CONNECTIONS, TypedParamValue::Int(n));
        }
        dom.migrate_perform3_params(Some(&dst.uri), &p, &[], LIVE_P2P | flags::PARALLEL)
            .unwrap();
        assert_moved(&src, &dst, name);
        let st = completed(&dom);
        assert_eq!(st.get_u64(field::MEMORY_TOTAL), Some(32 << 20));
    }
}

#[test]
fn parallel_failures_leave_the_guest_on_the_source() {
    let (src, dst) = (host("parf-s"), host("parf-d"));
    // Source and destination disagree on the number of connections.
    let dom = start_guest(&src, "p3", 16, "");
    let f = flags::LIVE | flags::PARALLEL;
    let (ca, dp) = begin(&dom, "p3", f);
    let (cb, uri) = dst.conn.migrate_prepare3_params(&dp, &ca, f).unwrap();
    let pp = TypedParams::new()
        .with(params::URI, s(&uri.unwrap()))
        .with(params::PARALLEL_CONNECTIONS, TypedParamValue::Int(3));
    let e = dom.migrate_perform3_params(None, &pp, &cb, f);
    assert!(e.is_err());
    let _ = dst.conn.migrate_finish3_params(&dp, &[], f, true);
    assert_stayed_on_source(&src, &dst, "p3");

    // A page corrupted on one of the channels: the digest catches it.
    let dom = start_guest(
        &src,
        "p4",
        16,
        "<rvirt:inject-fault action='corrupt-page'/>",
    );
    let e = dom
        .migrate_perform3_params(
            Some(&dst.uri),
            &TypedParams::new(),
            &[],
            LIVE_P2P | flags::PARALLEL,
        )
        .unwrap_err();
    assert!(e.message.contains("digest"), "{e}");
    assert_stayed_on_source(&src, &dst, "p4");

    // Aborted mid-transfer.
    let dom = start_guest(&src, "p5", 32, "");
    let p = TypedParams::new().with(params::BANDWIDTH, TypedParamValue::ULLong(4));
    let (d, uri) = (dom.clone(), dst.uri.clone());
    let t = std::thread::spawn(move || {
        d.migrate_perform3_params(Some(&uri), &p, &[], LIVE_P2P | flags::PARALLEL)
    });
    wait_for("progress", || {
        dom.get_job_stats(0)
            .unwrap()
            .1
            .get_u64(field::MEMORY_PROCESSED)
            .unwrap_or(0)
            > 0
    });
    dom.abort_job(0).unwrap();
    let e = t.join().unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::OPERATION_ABORTED, "{e}");
    assert_stayed_on_source(&src, &dst, "p5");
}
