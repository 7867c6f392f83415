//! Managed migration between two test-driver hosts: the client (this test)
//! calls each phase entry point in order, for V3 with params, V3, V2, V1.

mod migration_support;

use migration_support::*;
use rvirt::driver::{Begin3Args, FinishArgs, PerformArgs, PrepareArgs};
use rvirt::events::lifecycle as lc;
use rvirt::job::{field, job_type, stats_flags};
use rvirt::migration::{flags, params};
use rvirt::types::reason;
use rvirt::{Domain, DomainState, ErrorCode, TypedParamValue, TypedParams};
use rvirt_conf::MigrationCookie;

#[test]
fn managed_v3_params_moves_the_guest() {
    let (src, dst) = (host("v3p-src"), host("v3p-dst"));
    let ws = "<rvirt:working-set unit='KiB'>8192</rvirt:working-set>";
    let dom = start_guest(&src, "g1", 32, ws);
    let flags = flags::LIVE;
    let (cookie_a, xml) = dom
        .migrate_begin3_params(&TypedParams::new(), flags)
        .unwrap();
    let a = MigrationCookie::from_bytes(&cookie_a).unwrap();
    assert_eq!(a.name, "g1");
    assert_eq!(a.memory_bytes, 32 << 20);
    let dparams = dest_params(&xml, "g1");
    let (cookie_b, uri_out) = dst
        .conn
        .migrate_prepare3_params(&dparams, &cookie_a, flags)
        .unwrap();
    let uri_out = uri_out.unwrap();
    let host = rvirt_util::host::hostname().unwrap();
    assert!(uri_out.starts_with(&format!("tcp://{host}:")), "{uri_out}");
    // The destination holds the incoming guest paused meanwhile.
    assert_eq!(
        state(&dst, "g1"),
        Some((DomainState::Paused, reason::PAUSED_MIGRATION))
    );
    let pparams = TypedParams::new().with(params::URI, s(&uri_out));
    let cookie_c = dom
        .migrate_perform3_params(None, &pparams, &cookie_b, flags)
        .unwrap();
    let c = MigrationCookie::from_bytes(&cookie_c).unwrap();
    assert!(c.digest.is_some());
    assert_eq!(
        state(&src, "g1"),
        Some((DomainState::Paused, reason::PAUSED_MIGRATION)),
        "the source keeps the paused guest until confirm"
    );
    let (ddom, cookie_d) = dst
        .conn
        .migrate_finish3_params(&dparams, &cookie_c, flags, false)
        .unwrap();
    let d = MigrationCookie::from_bytes(&cookie_d).unwrap();
    assert_eq!(
        d.digest, c.digest,
        "destination verified the source's digest"
    );
    dom.migrate_confirm3_params(&TypedParams::new(), &cookie_d, flags, false)
        .unwrap();

    assert_moved(&src, &dst, "g1");
    assert_eq!(ddom.name(), "g1");
    assert_eq!(ddom.uuid(), dom.uuid());
    assert_eq!(
        state(&src, "g1"),
        Some((DomainState::Shutoff, reason::SHUTOFF_MIGRATED)),
        "the persistent source definition stays, shut off"
    );
    let got = ddom.get_xml_desc(0).unwrap();
    assert!(got.contains("<name>g1</name>") && got.contains("<memory unit='KiB'>32768</memory>"));
    assert!(!ddom.is_persistent().unwrap(), "no PERSIST_DEST: transient");

    let src_ev = lifecycle(&src, "g1");
    assert!(
        src_ev.contains(&(lc::SUSPENDED, lc::SUSPENDED_MIGRATED)),
        "{src_ev:?}"
    );
    assert!(
        src_ev.contains(&(lc::STOPPED, lc::STOPPED_MIGRATED)),
        "{src_ev:?}"
    );
    let dst_ev = lifecycle(&dst, "g1");
    assert_eq!(
        dst_ev,
        vec![
            (lc::STARTED, lc::STARTED_MIGRATED),
            (lc::RESUMED, lc::RESUMED_MIGRATED)
        ]
    );
    assert!(iterations(&src, "g1") >= 2, "a full pass and the final one");
    assert!(job_completed(&src, "g1") && job_completed(&dst, "g1"));

    let (t, stats) = dom.get_job_stats(stats_flags::COMPLETED).unwrap();
    assert_eq!(t, job_type::COMPLETED);
    assert_eq!(stats.get_u64(field::MEMORY_TOTAL), Some(32 << 20));
    assert_eq!(stats.get_u64(field::MEMORY_PAGE_SIZE), Some(4096));
    assert!(
        stats.get_u64(field::MEMORY_CONSTANT).unwrap() > 0,
        "zero pages as markers"
    );
    assert!(stats.get_u64(field::MEMORY_NORMAL).unwrap() > 0);
    assert!(stats.get_u64(field::DOWNTIME).is_some());
    assert_success(&stats, true);
}

#[test]
fn managed_v3_with_rename_and_persist() {
    let (src, dst) = (host("v3-src"), host("v3-dst"));
    let dom = start_guest(&src, "g2", 16, "");
    let flags = flags::LIVE | flags::PERSIST_DEST | flags::UNDEFINE_SOURCE;
    let dname = Some("g2new");
    let begin = Begin3Args {
        flags,
        dname,
        ..Default::default()
    };
    let (cookie_a, xml) = dom.migrate_begin3(&begin).unwrap();
    let prepare = PrepareArgs {
        cookie_in: &cookie_a,
        uri_in: Some("tcp://127.0.0.1"),
        flags,
        dname,
        bandwidth: 0,
        dom_xml: &xml,
    };
    let (cookie_b, uri_out) = dst.conn.migrate_prepare3(&prepare).unwrap();
    let uri_out = uri_out.unwrap();
    assert!(uri_out.starts_with("tcp://127.0.0.1:"), "{uri_out}");
    let perform = PerformArgs {
        cookie_in: &cookie_b,
        uri: Some(&uri_out),
        flags,
        dname,
        ..Default::default()
    };
    let cookie_c = dom.migrate_perform3(&perform).unwrap();
    let finish = FinishArgs {
        dname: "g2new",
        cookie_in: &cookie_c,
        uri: Some(&uri_out),
        flags,
        ..Default::default()
    };
    let (ddom, cookie_d) = dst.conn.migrate_finish3(&finish, false).unwrap();
    dom.migrate_confirm3(&cookie_d, flags, false).unwrap();
    assert!(src.conn.lookup_by_name("g2").is_err(), "UNDEFINE_SOURCE");
    assert_eq!(ddom.name(), "g2new");
    assert!(ddom.is_persistent().unwrap(), "PERSIST_DEST");
    assert_eq!(
        state(&dst, "g2new"),
        Some((DomainState::Running, reason::RUNNING_MIGRATED))
    );
    assert!(lifecycle(&dst, "g2new").contains(&(lc::DEFINED, lc::DEFINED_ADDED)));
}

/// A live V1/V2 prepare to this host's loopback (`dom_xml` empty for V1).
fn prepare_v2(dom_xml: &str) -> PrepareArgs<'_> {
    PrepareArgs {
        uri_in: Some("tcp://127.0.0.1"),
        flags: flags::LIVE,
        dom_xml,
        ..Default::default()
    }
}

fn perform_v2<'a>(cookie_in: &'a [u8], uri: &'a str) -> PerformArgs<'a> {
    PerformArgs {
        cookie_in,
        uri: Some(uri),
        flags: flags::LIVE,
        ..Default::default()
    }
}

fn finish_v2<'a>(dname: &'a str, cookie_in: &'a [u8], uri: &'a str) -> FinishArgs<'a> {
    FinishArgs {
        dname,
        cookie_in,
        uri: Some(uri),
        flags: flags::LIVE,
        ..Default::default()
    }
}

#[test]
fn managed_v2_and_v1() {
    let (src, dst) = (host("v2-src"), host("v2-dst"));
    // V2: src XML → prepare2 → perform → finish2.
    let dom = start_guest(&src, "g3", 16, "");
    let xml = dom.get_xml_desc(rvirt::flags::xml::MIGRATABLE).unwrap();
    let (cookie, uri) = dst.conn.migrate_prepare2(&prepare_v2(&xml)).unwrap();
    let uri = uri.unwrap();
    dom.migrate_perform(&perform_v2(&cookie, &uri)).unwrap();
    let ddom = dst
        .conn
        .migrate_finish2(&finish_v2("g3", &cookie, &uri), 0)
        .unwrap();
    assert_eq!(ddom.name(), "g3");
    assert_moved(&src, &dst, "g3");

    // V1: prepare → perform → finish; the XML travels in the stream.
    let dom = start_guest(&src, "g4", 16, "");
    let (cookie, uri) = dst.conn.migrate_prepare(&prepare_v2("")).unwrap();
    let uri = uri.unwrap();
    dom.migrate_perform(&perform_v2(&cookie, &uri)).unwrap();
    let ddom = dst
        .conn
        .migrate_finish(&finish_v2("g4", &cookie, &uri))
        .unwrap();
    assert_eq!(ddom.uuid(), dom.uuid());
    assert_moved(&src, &dst, "g4");
    assert!(lifecycle(&dst, "g4").contains(&(lc::STARTED, lc::STARTED_MIGRATED)));

    // V2 whose source failed: finish2 with a non-zero retcode discards.
    let dom = start_guest(&src, "g5", 16, "");
    let xml = dom.get_xml_desc(rvirt::flags::xml::MIGRATABLE).unwrap();
    let (cookie, uri) = dst.conn.migrate_prepare2(&prepare_v2(&xml)).unwrap();
    assert!(dst
        .conn
        .migrate_finish2(&finish_v2("g5", &cookie, &uri.unwrap()), -1)
        .is_err());
    assert_stayed_on_source(&src, &dst, "g5");
}

#[test]
fn refused_flags_and_params_name_themselves() {
    let src = host("refuse-src");
    let dom = start_guest(&src, "g6", 16, "");
    for (flag, name) in [
        (flags::RDMA_PIN_ALL, "VIR_MIGRATE_RDMA_PIN_ALL"),
        (flags::TLS, "VIR_MIGRATE_TLS"),
        (flags::NON_SHARED_DISK, "VIR_MIGRATE_NON_SHARED_DISK"),
        (flags::NON_SHARED_INC, "VIR_MIGRATE_NON_SHARED_INC"),
        (flags::ZEROCOPY, "VIR_MIGRATE_ZEROCOPY"),
        (flags::POSTCOPY_RESUME, "VIR_MIGRATE_POSTCOPY_RESUME"),
        (
            flags::NON_SHARED_SYNCHRONOUS_WRITES,
            "VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES",
        ),
    ] {
        let e = dom
            .migrate_begin3_params(&TypedParams::new(), flags::LIVE | flag)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::ARGUMENT_UNSUPPORTED);
        assert!(e.message.contains(name), "{}", e.message);
        let e = dom
            .migrate_perform3_params(
                Some("test:///default"),
                &TypedParams::new(),
                &[],
                flag | flags::PEER2PEER,
            )
            .unwrap_err();
        assert!(e.message.contains(name), "{}", e.message);
    }
    for (p, v) in [
        (params::MIGRATE_DISKS, s("vda")),
        (params::DISKS_PORT, TypedParamValue::Int(1)),
        (params::DISKS_URI, s("tcp://x")),
        (params::GRAPHICS_URI, s("spice://x")),
        (params::TLS_DESTINATION, s("x")),
        (
            params::COMPRESSION_XBZRLE_CACHE,
            TypedParamValue::ULLong(1 << 20),
        ),
    ] {
        let e = dom
            .migrate_begin3_params(&TypedParams::new().with(p, v), flags::LIVE)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::ARGUMENT_UNSUPPORTED);
        assert!(e.message.contains(&format!("'{p}'")), "{}", e.message);
    }
    // Nothing moved, no job was left behind.
    assert_eq!(state(&src, "g6").unwrap().0, DomainState::Running);
    assert_eq!(dom.get_job_stats(0).unwrap().0, job_type::NONE);
}

/// Begin a live migration of `dom` and prepare it on `host` with the
/// destination XML only, which `host` must refuse: the refusal.
fn refused_prepare(dom: &Domain, host: &Host) -> rvirt::Error {
    let (cookie_a, xml) = dom
        .migrate_begin3_params(&TypedParams::new(), flags::LIVE)
        .unwrap();
    let p = TypedParams::new().with(params::DEST_XML, s(&xml));
    host.conn
        .migrate_prepare3_params(&p, &cookie_a, flags::LIVE)
        .unwrap_err()
}

#[test]
fn same_host_clashes_and_destination_xml() {
    let (src, dst) = (host("same-src"), host("same-dst"));
    let dom = start_guest(&src, "g7", 16, "");
    // Preparing on the host the cookie came from: refused as libvirt does.
    let e = refused_prepare(&dom, &src);
    assert_error(
        &e,
        ErrorCode::INTERNAL_ERROR,
        "internal error: Attempt to migrate guest to the same host ",
    );
    dom.migrate_confirm3(&[], flags::LIVE, true).unwrap();

    // A running guest of that name on the destination: refused at prepare.
    start_guest(&dst, "g7", 16, "");
    let e = refused_prepare(&dom, &dst);
    assert!(e.message.contains("already"), "{}", e.message);
    dom.migrate_confirm3(&[], flags::LIVE, true).unwrap();
    assert_eq!(state(&src, "g7").unwrap().0, DomainState::Running);

    // destination_xml must keep the ABI, and may not rename.
    let orig = dom.get_xml_desc(rvirt::flags::xml::MIGRATABLE).unwrap();
    let begin_with = |dest_xml: String| {
        let p = TypedParams::new().with(params::DEST_XML, s(&dest_xml));
        dom.migrate_begin3_params(&p, flags::LIVE)
    };
    let renamed = orig.replace("<name>g7</name>", "<name>other</name>");
    assert_error(
        &begin_with(renamed).unwrap_err(),
        ErrorCode::CONFIG_UNSUPPORTED,
        "Target domain name 'other' does not match source 'g7'",
    );
    let e = begin_with(orig.replace("16384", "32768")).unwrap_err();
    assert!(e.message.contains("max memory"), "{}", e.message);
    let titled = orig.replace("<name>g7</name>", "<name>g7</name><title>moved</title>");
    let (_, xml) = begin_with(titled).unwrap();
    assert!(xml.contains("<title>moved</title>"));
    dom.migrate_confirm3(&[], flags::LIVE, true).unwrap();
}

#[test]
fn features_answered() {
    let h = host("features");
    use rvirt::flags::feature::*;
    for f in [
        MIGRATION_V1,
        MIGRATION_V2,
        MIGRATION_V3,
        MIGRATION_P2P,
        MIGRATION_DIRECT,
        MIGRATION_PARAMS,
        MIGRATION_OFFLINE,
        MIGRATE_CHANGE_PROTECTION,
    ] {
        assert!(h.conn.supports_feature(f).unwrap(), "feature {f}");
    }
    assert!(!h.conn.supports_feature(REMOTE).unwrap());
}

#[test]
fn change_protection_blocks_config_changes_until_the_end() {
    let (src, _dst) = (host("cp-src"), host("cp-dst"));
    let dom = start_guest(&src, "g8", 16, "");
    let xml = dom.get_xml_desc(rvirt::flags::xml::INACTIVE).unwrap();
    let f = flags::LIVE | flags::CHANGE_PROTECTION;
    dom.migrate_begin3_params(&TypedParams::new(), f).unwrap();
    let e = src.conn.define_xml(&xml, 0).unwrap_err();
    assert_eq!(e.code, ErrorCode::OPERATION_INVALID);
    assert!(dom.undefine(0).is_err());
    dom.migrate_confirm3_params(&TypedParams::new(), &[], f, true)
        .unwrap();
    src.conn.define_xml(&xml, 0).unwrap();
    // Without the flag, nothing is blocked.
    dom.migrate_begin3_params(&TypedParams::new(), flags::LIVE)
        .unwrap();
    src.conn.define_xml(&xml, 0).unwrap();
    dom.migrate_confirm3_params(&TypedParams::new(), &[], flags::LIVE, true)
        .unwrap();
}

/// libvirt ends begin's job when begin returns unless CHANGE_PROTECTION
/// asked it to last until confirm: a client that fails in prepare and
/// (without the flag) calls nothing else leaves no job behind.
#[test]
fn begin_without_change_protection_leaves_no_job() {
    let (src, dst) = (host("bj-src"), host("bj-dst"));
    let fault = "<rvirt:inject-fault phase='prepare' action='fail'/>";
    let dom = start_guest(&src, "g9", 16, fault);
    let (cookie_a, xml) = dom
        .migrate_begin3_params(&TypedParams::new(), flags::LIVE)
        .unwrap();
    assert_eq!(dom.get_job_stats(0).unwrap().0, job_type::NONE);
    let dparams = TypedParams::new().with(params::DEST_XML, s(&xml));
    let e = dst
        .conn
        .migrate_prepare3_params(&dparams, &cookie_a, flags::LIVE)
        .unwrap_err();
    assert!(e.message.contains("injected fault"), "{e}");
    assert_eq!(dom.get_job_stats(0).unwrap().0, job_type::NONE);
    assert_eq!(
        dom.get_job_stats(stats_flags::COMPLETED).unwrap().0,
        job_type::NONE,
        "begin alone completes no job"
    );
    assert_eq!(state(&src, "g9").unwrap().0, DomainState::Running);
    // A second begin is not refused as a clash.
    dom.migrate_begin3_params(&TypedParams::new(), flags::LIVE)
        .unwrap();
    // With the flag the job lasts until confirm.
    let f = flags::LIVE | flags::CHANGE_PROTECTION;
    dom.migrate_begin3_params(&TypedParams::new(), f).unwrap();
    assert_eq!(dom.get_job_stats(0).unwrap().0, job_type::UNBOUNDED);
    dom.migrate_confirm3_params(&TypedParams::new(), &[], f, true)
        .unwrap();
    assert_eq!(dom.get_job_stats(0).unwrap().0, job_type::NONE);
}
