//! Protocol selection and phase order, against drivers that record what
//! they are asked and answer with a chosen feature set.

use super::*;
use crate::driver::{
    Begin3Args, DomainRef, FinishArgs, MigrationDriver, ParamsArgs, PerformArgs, PrepareArgs,
};
use crate::HypervisorConnection;
use std::sync::Mutex;

#[derive(Default)]
struct Recorder {
    features: Vec<i32>,
    calls: Mutex<Vec<String>>,
    /// Phase names that fail.
    failing: Vec<&'static str>,
}

fn dom() -> DomainRef {
    DomainRef {
        name: "guest".into(),
        uuid: [7; 16],
        id: 1,
    }
}

impl Recorder {
    fn log(&self, what: impl Into<String>) -> Result<()> {
        let what = what.into();
        self.calls.lock().unwrap().push(what.clone());
        let phase = what.split(':').next().unwrap_or("").to_string();
        if self.failing.iter().any(|f| *f == phase) {
            return Err(Error::new(
                ErrorDomain::DOMAIN,
                ErrorCode::OPERATION_FAILED,
                format!("{phase} failed"),
            ));
        }
        Ok(())
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

/// The domain the destination answers with, under the name it was given.
fn named(dname: &str) -> DomainRef {
    DomainRef {
        name: dname.into(),
        ..dom()
    }
}

fn cancelled_error() -> Error {
    Error::new(
        ErrorDomain::DOMAIN,
        ErrorCode::OPERATION_FAILED,
        "cancelled",
    )
}

fn text(cookie: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(cookie)
}

impl MigrationDriver for Recorder {
    fn domain_migrate_prepare(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        self.log("prepare")?;
        let uri_out = args.uri_in.is_none().then(|| "tcp://dst:1".into());
        Ok((b"c1".to_vec(), uri_out))
    }
    fn domain_migrate_perform(&self, _: &DomainRef, args: &PerformArgs) -> Result<()> {
        let (cookie, flags) = (text(args.cookie_in), args.flags);
        let uri = args.uri.unwrap_or_default();
        self.log(format!("perform:{cookie}:{uri}:{flags:#x}"))
    }
    fn domain_migrate_finish(&self, args: &FinishArgs) -> Result<DomainRef> {
        self.log(format!("finish:{}", args.dname))?;
        Ok(named(args.dname))
    }
    fn domain_migrate_prepare2(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        self.log(format!("prepare2:{}", args.dom_xml))?;
        Ok((Vec::new(), Some("tcp://dst:2".into())))
    }
    fn domain_migrate_finish2(&self, args: &FinishArgs, retcode: i32) -> Result<DomainRef> {
        self.log(format!("finish2:{retcode}"))?;
        if retcode != 0 {
            return Err(cancelled_error());
        }
        Ok(named(args.dname))
    }
    fn domain_migrate_begin3(&self, _: &DomainRef, _: &Begin3Args) -> Result<(Cookie, String)> {
        self.log("begin3")?;
        Ok((b"A".to_vec(), "<domain/>".into()))
    }
    fn domain_migrate_prepare3(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        self.log(format!("prepare3:{}", text(args.cookie_in)))?;
        Ok((b"B".to_vec(), Some("tcp://dst:3".into())))
    }
    fn domain_migrate_perform3(&self, _: &DomainRef, args: &PerformArgs) -> Result<Cookie> {
        let dconnuri = args.dconnuri.unwrap_or("-");
        let uri = args.uri.unwrap_or("-");
        self.log(format!(
            "perform3:{}:{dconnuri}:{uri}",
            text(args.cookie_in)
        ))?;
        Ok(b"C".to_vec())
    }
    fn domain_migrate_finish3(
        &self,
        args: &FinishArgs,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        self.log(format!("finish3:{}:{cancelled}", text(args.cookie_in)))?;
        if cancelled {
            return Err(cancelled_error());
        }
        Ok((named(args.dname), b"D".to_vec()))
    }
    fn domain_migrate_confirm3(
        &self,
        _: &DomainRef,
        c: &[u8],
        _: u32,
        cancelled: bool,
    ) -> Result<()> {
        self.log(format!("confirm3:{}:{cancelled}", text(c)))
    }
    fn domain_migrate_begin3_params(
        &self,
        _: &DomainRef,
        _: &TypedParams,
        _: u32,
    ) -> Result<(Cookie, String)> {
        self.log("begin3p")?;
        Ok((b"A".to_vec(), "<domain/>".into()))
    }
    fn domain_migrate_prepare3_params(&self, a: &ParamsArgs) -> Result<(Cookie, Option<String>)> {
        let xml = a.params.get_string(param::DEST_XML).unwrap_or("-");
        self.log(format!("prepare3p:{}:{xml}", text(a.cookie_in)))?;
        Ok((b"B".to_vec(), Some("tcp://dst:4".into())))
    }
    fn domain_migrate_perform3_params(
        &self,
        _: &DomainRef,
        dconnuri: Option<&str>,
        a: &ParamsArgs,
    ) -> Result<Cookie> {
        let dconnuri = dconnuri.unwrap_or("-");
        let uri = a.params.get_string(param::URI).unwrap_or("-");
        self.log(format!("perform3p:{}:{dconnuri}:{uri}", text(a.cookie_in)))?;
        Ok(b"C".to_vec())
    }
    fn domain_migrate_finish3_params(
        &self,
        a: &ParamsArgs,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        let dname = a.params.get_string(param::DEST_NAME).unwrap_or("-");
        self.log(format!(
            "finish3p:{}:{cancelled}:{dname}",
            text(a.cookie_in)
        ))?;
        if cancelled {
            return Err(cancelled_error());
        }
        Ok((named("guest"), b"D".to_vec()))
    }
    fn domain_migrate_confirm3_params(
        &self,
        _: &DomainRef,
        a: &ParamsArgs,
        cancelled: bool,
    ) -> Result<()> {
        self.log(format!("confirm3p:{}:{cancelled}", text(a.cookie_in)))
    }
}

impl HypervisorConnection for Recorder {
    fn get_type(&self) -> Result<String> {
        Ok("MOCK".into())
    }
    fn get_uri(&self) -> Result<String> {
        Ok("mock+tcp://dsthost/".into())
    }
    fn supports_feature(&self, f: i32) -> Result<bool> {
        Ok(self.features.contains(&f))
    }
    fn domain_get_state(&self, _: &DomainRef, _: u32) -> Result<(DomainState, i32)> {
        Ok((DomainState::Running, 1))
    }
    fn domain_get_xml_desc(&self, _: &DomainRef, _: u32) -> Result<String> {
        Ok("<domain>src</domain>".into())
    }
    fn domain_lookup_by_name(&self, name: &str) -> Result<DomainRef> {
        self.log(format!("lookup:{name}"))?;
        Ok(named(name))
    }
}

fn pair(
    features: &[i32],
    src_fail: &[&'static str],
    dst_fail: &[&'static str],
) -> (Arc<Recorder>, Arc<Recorder>, Domain, Connect) {
    let src = Arc::new(Recorder {
        features: features.to_vec(),
        failing: src_fail.to_vec(),
        ..Default::default()
    });
    let dst = Arc::new(Recorder {
        features: features.to_vec(),
        failing: dst_fail.to_vec(),
        ..Default::default()
    });
    let sconn = Connect::from_driver(src.clone(), false);
    let dconn = Connect::from_driver(dst.clone(), false);
    (src, dst, Domain::from_ref(&sconn, dom()), dconn)
}

use feature::*;

#[test]
fn v3_params_runs_five_phases_passing_cookies() {
    let (src, dst, d, dconn) = pair(&[MIGRATION_V3, MIGRATION_PARAMS], &[], &[]);
    let got = d
        .migrate3(&dconn, &TypedParams::new(), flags::LIVE)
        .unwrap();
    assert_eq!(got.name(), "guest");
    assert_eq!(
        src.calls(),
        ["begin3p", "perform3p:B:-:tcp://dst:4", "confirm3p:D:false"]
    );
    assert_eq!(
        dst.calls(),
        ["prepare3p:A:<domain/>", "finish3p:C:false:guest"]
    );
}

#[test]
fn v3_without_params_feature_uses_legacy_phases() {
    let (src, dst, d, dconn) = pair(&[MIGRATION_V3], &[], &[]);
    d.migrate(&dconn, flags::LIVE, None, None, 0).unwrap();
    assert_eq!(
        src.calls(),
        ["begin3", "perform3:B:-:tcp://dst:3", "confirm3:D:false"]
    );
    assert_eq!(dst.calls(), ["prepare3:A", "finish3:C:false"]);
}

#[test]
fn v2_and_v1_are_chosen_when_that_is_all_both_speak() {
    let (src, dst, d, dconn) = pair(&[MIGRATION_V2], &[], &[]);
    d.migrate(&dconn, 0, None, None, 0).unwrap();
    assert_eq!(dst.calls(), ["prepare2:<domain>src</domain>", "finish2:0"]);
    assert_eq!(src.calls(), ["perform::tcp://dst:2:0x0"]);

    let (src, dst, d, dconn) = pair(&[MIGRATION_V1], &[], &[]);
    d.migrate(&dconn, 0, Some("renamed"), None, 0).unwrap();
    assert_eq!(dst.calls(), ["prepare", "finish:renamed"]);
    assert_eq!(src.calls(), ["perform:c1:tcp://dst:1:0x0"]);
}

#[test]
fn extended_params_need_the_params_protocol() {
    let (_, _, d, dconn) = pair(&[MIGRATION_V3], &[], &[]);
    let p = TypedParams::new().with(param::LISTEN_ADDRESS, TypedParamValue::String("0".into()));
    let e = d.migrate3(&dconn, &p, 0).unwrap_err();
    assert_eq!(e.code, ErrorCode::ARGUMENT_UNSUPPORTED);
    let (_, _, d, dconn) = pair(&[MIGRATION_V2], &[], &[]);
    let e = d
        .migrate2(&dconn, Some("<x/>"), 0, None, None, 0)
        .unwrap_err();
    assert!(
        e.message.contains("Unable to change target guest XML"),
        "{}",
        e.message
    );
}

#[test]
fn failed_perform_cancels_finish_and_skips_confirm() {
    let (src, dst, d, dconn) = pair(&[MIGRATION_V3, MIGRATION_PARAMS], &["perform3p"], &[]);
    let e = d.migrate3(&dconn, &TypedParams::new(), 0).unwrap_err();
    assert_eq!(e.message, "operation failed: perform3p failed");
    assert_eq!(src.calls().len(), 2, "{:?}", src.calls());
    assert_eq!(dst.calls()[1], "finish3p::true:guest");
}

#[test]
fn failed_finish_confirms_cancelled_and_reports_finish_error() {
    let (src, _, d, dconn) = pair(&[MIGRATION_V3, MIGRATION_PARAMS], &[], &["finish3p"]);
    let e = d.migrate3(&dconn, &TypedParams::new(), 0).unwrap_err();
    assert_eq!(e.message, "operation failed: finish3p failed");
    assert_eq!(src.calls().last().unwrap(), "confirm3p::true");
}

#[test]
fn failed_prepare_ends_the_source_job_with_change_protection() {
    let feats = [MIGRATION_V3, MIGRATION_PARAMS, MIGRATE_CHANGE_PROTECTION];
    let (src, _, d, dconn) = pair(&feats, &[], &["prepare3p"]);
    d.migrate3(&dconn, &TypedParams::new(), 0).unwrap_err();
    assert_eq!(src.calls(), ["begin3p", "confirm3p::true"]);
    let (src, _, d, dconn) = pair(&[MIGRATION_V3, MIGRATION_PARAMS], &[], &["prepare3p"]);
    d.migrate3(&dconn, &TypedParams::new(), 0).unwrap_err();
    assert_eq!(src.calls(), ["begin3p"]);
}

#[test]
fn peer_to_peer_and_direct_are_one_perform_on_the_source() {
    let feats = [
        MIGRATION_V3,
        MIGRATION_PARAMS,
        MIGRATION_P2P,
        MIGRATION_DIRECT,
    ];
    let (src, dst, d, _) = pair(&feats, &[], &[]);
    d.migrate_to_uri3(
        Some("test+tcp://peer/default"),
        &TypedParams::new(),
        flags::PEER2PEER | flags::TUNNELLED,
    )
    .unwrap();
    assert_eq!(src.calls(), ["perform3p::test+tcp://peer/default:-"]);
    assert!(dst.calls().is_empty());

    let (src, _, d, _) = pair(&feats, &[], &[]);
    d.migrate_to_uri("test+reloc://h:1", 0, None, 0).unwrap();
    assert_eq!(src.calls(), ["perform3::-:test+reloc://h:1"]);

    // virDomainMigrate with PEER2PEER uses the destination connection's URI.
    let (src, dst, d, dconn) = pair(&feats, &[], &[]);
    d.migrate(&dconn, flags::PEER2PEER, None, None, 0).unwrap();
    assert_eq!(src.calls(), ["perform3p::mock+tcp://dsthost/:-"]);
    assert_eq!(dst.calls(), ["lookup:guest"]);
}

/// The checks of src/libvirt-domain.c, with the words and codes libvirt
/// 9.0 gives (probed through python3-libvirt on test:///default).
/// virReportInvalidArg texts carry no "invalid argument: " prefix.
#[test]
fn libvirts_request_rules() {
    let feats = [MIGRATION_V3, MIGRATION_PARAMS, MIGRATION_P2P];
    let (_, _, d, dconn) = pair(&feats, &[], &[]);
    let none = TypedParams::new();
    for f in [flags::PEER2PEER, flags::PEER2PEER | flags::TUNNELLED] {
        let e = d.migrate3(&dconn, &none, f).unwrap_err();
        assert_eq!(
            (e.code, e.domain, e.message.as_str()),
            (
                ErrorCode::INVALID_ARG,
                ErrorDomain::DOMAIN,
                "use virDomainMigrateToURI3 for peer-to-peer migration"
            )
        );
    }
    let e = d.migrate3(&dconn, &none, flags::TUNNELLED).unwrap_err();
    assert_eq!(
        (e.code, e.domain, e.message.as_str()),
        (
            ErrorCode::INVALID_ARG,
            ErrorDomain::DOMAIN,
            "cannot perform tunnelled migration without using peer2peer flag"
        )
    );
    // virDomainMigrate/2 use virReportError: OPERATION_INVALID, prefixed.
    for e in [
        d.migrate(&dconn, flags::TUNNELLED, None, None, 0),
        d.migrate2(&dconn, None, flags::TUNNELLED, None, None, 0),
    ] {
        let e = e.unwrap_err();
        assert_eq!(e.code, ErrorCode::OPERATION_INVALID);
        assert_eq!(
            e.message,
            "Requested operation is not valid: cannot perform tunnelled migration without using peer2peer flag"
        );
    }
    let e = d
        .migrate_to_uri3(None, &none, flags::PEER2PEER)
        .unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            ErrorCode::INVALID_ARG,
            "dconnuri in virDomainMigrateToURI3 must not be NULL"
        )
    );
    let e = d
        .migrate_to_uri2(None, None, None, flags::PEER2PEER, None, 0)
        .unwrap_err();
    assert_eq!(
        e.message,
        "dconnuri in virDomainMigrateToURI2 must not be NULL"
    );
    for local in [
        "test:///default",
        "test+tcp://localhost.localdomain/x",
        "foo",
    ] {
        let e = d
            .migrate_to_uri3(Some(local), &none, flags::PEER2PEER)
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                ErrorCode::INVALID_ARG,
                "Attempt to migrate guest to the same host"
            ),
            "{local}"
        );
    }
    // virDomainMigrateCheckNotLocal's virURIParse.
    let e = d
        .migrate_to_uri3(Some("a b"), &none, flags::PEER2PEER)
        .unwrap_err();
    assert_eq!(
        (e.code, e.domain, e.message.as_str()),
        (
            ErrorCode::INTERNAL_ERROR,
            ErrorDomain::URI,
            "internal error: Unable to parse URI a b"
        )
    );
    let e = d.migrate_to_uri3(None, &none, 0).unwrap_err();
    assert_eq!(
        e.message,
        "argument unsupported: direct migration is not supported by the source host"
    );
    let e = d.migrate3(&dconn, &none, flags::OFFLINE).unwrap_err();
    assert_eq!(
        e.message,
        "argument unsupported: offline migration is not supported by the source host"
    );
}

/// VIR_EXCLUSIVE_FLAGS_GOTO in every entry point.
#[test]
fn disk_copy_modes_are_exclusive_everywhere() {
    let feats = [
        MIGRATION_V3,
        MIGRATION_PARAMS,
        MIGRATION_P2P,
        MIGRATION_DIRECT,
    ];
    let (src, dst, d, dconn) = pair(&feats, &[], &[]);
    let both = flags::NON_SHARED_DISK | flags::NON_SHARED_INC;
    let none = TypedParams::new();
    let results = [
        d.migrate(&dconn, both, None, None, 0).map(drop),
        d.migrate2(&dconn, None, both, None, None, 0).map(drop),
        d.migrate3(&dconn, &none, both).map(drop),
        d.migrate_to_uri("test+tcp://h/x", both | flags::PEER2PEER, None, 0),
        d.migrate_to_uri2(Some("test+tcp://h/x"), None, None, both, None, 0),
        d.migrate_to_uri3(None, &none, both),
    ];
    for r in results {
        let e = r.unwrap_err();
        assert_eq!(
            (e.code, e.domain, e.message.as_str()),
            (
                ErrorCode::INVALID_ARG,
                ErrorDomain::DOMAIN,
                "Flags 'VIR_MIGRATE_NON_SHARED_DISK' and 'VIR_MIGRATE_NON_SHARED_INC' are mutually exclusive"
            )
        );
    }
    assert!(src.calls().is_empty() && dst.calls().is_empty());
}

/// Only virDomainMigrate3 refuses PEER2PEER: virDomainMigrate and
/// virDomainMigrate2 run it (the former with `uri` as the destination's
/// connection URI, the latter with it as the migration URI), as do the
/// ToURI calls, tunnelled or not.
#[test]
fn peer_to_peer_outside_migrate3() {
    let feats = [MIGRATION_V3, MIGRATION_PARAMS, MIGRATION_P2P];
    let (src, _, d, dconn) = pair(&feats, &[], &[]);
    d.migrate(&dconn, flags::PEER2PEER, None, Some("test+tcp://peer/x"), 0)
        .unwrap();
    assert_eq!(src.calls(), ["perform3p::test+tcp://peer/x:-"]);
    let (src, _, d, dconn) = pair(&feats, &[], &[]);
    d.migrate2(&dconn, None, flags::PEER2PEER, None, Some("tcp://m:1"), 0)
        .unwrap();
    assert_eq!(src.calls(), ["perform3p::mock+tcp://dsthost/:tcp://m:1"]);
    let (src, _, d, _) = pair(&feats, &[], &[]);
    d.migrate_to_uri(
        "test+tcp://peer/x",
        flags::PEER2PEER | flags::TUNNELLED,
        None,
        0,
    )
    .unwrap();
    assert_eq!(src.calls(), ["perform3p::test+tcp://peer/x:-"]);
}

/// virReportUnsupportedError names the entry point the caller called.
#[test]
fn no_support_names_the_api_called() {
    let (_, _, d, dconn) = pair(&[], &[], &[]);
    let none = TypedParams::new();
    let cases = [
        (d.migrate(&dconn, 0, None, None, 0), "virDomainMigrate"),
        (
            d.migrate(&dconn, flags::PEER2PEER, None, None, 0),
            "virDomainMigrate",
        ),
        (
            d.migrate2(&dconn, None, 0, None, None, 0),
            "virDomainMigrate2",
        ),
        (
            d.migrate2(&dconn, None, flags::PEER2PEER, None, None, 0),
            "virDomainMigrate2",
        ),
        (d.migrate3(&dconn, &none, 0), "virDomainMigrate3"),
    ];
    for (r, api) in cases {
        let e = r.unwrap_err();
        assert_eq!(
            (e.code, e.domain, e.message),
            (
                ErrorCode::NO_SUPPORT,
                ErrorDomain::DOMAIN,
                format!("this function is not supported by the connection driver: {api}")
            )
        );
    }
    // The job calls' default: virsh's domjobabort calls virDomainAbortJob,
    // and virDomainAbortJobFlags only with --postcopy.
    for (flags, api) in [(0, "virDomainAbortJob"), (1, "virDomainAbortJobFlags")] {
        let e = d.abort_job(flags).unwrap_err();
        assert_eq!(
            (e.code, e.domain, e.message),
            (
                ErrorCode::NO_SUPPORT,
                ErrorDomain::DOMAIN,
                format!("this function is not supported by the connection driver: {api}")
            )
        );
    }
}

/// Unknown bits: libvirt leaves them to the driver's virCheckFlags; rvirt's
/// client refuses them in those words, naming the API called.
#[test]
fn undefined_flags_are_refused_naming_the_api() {
    let feats = [
        MIGRATION_V3,
        MIGRATION_PARAMS,
        MIGRATION_P2P,
        MIGRATION_DIRECT,
    ];
    let (src, _, d, dconn) = pair(&feats, &[], &[]);
    let e = d
        .migrate3(&dconn, &TypedParams::new(), 1 << 25)
        .unwrap_err();
    assert_eq!(
        e.message,
        "unsupported flags (0x2000000) in function virDomainMigrate3"
    );
    let e = d.migrate_to_uri("tcp://h:1", 1 << 25, None, 0).unwrap_err();
    assert_eq!(
        e.message,
        "unsupported flags (0x2000000) in function virDomainMigrateToURI"
    );
    assert!(src.calls().is_empty());
}

/// An offline migration the source and destination both support runs begin,
/// prepare, finish and confirm, and no perform.
#[test]
fn offline_skips_perform() {
    let feats = [MIGRATION_V3, MIGRATION_PARAMS, MIGRATION_OFFLINE];
    let (src, dst, d, dconn) = pair(&feats, &[], &[]);
    d.migrate3(
        &dconn,
        &TypedParams::new(),
        flags::OFFLINE | flags::PERSIST_DEST,
    )
    .unwrap();
    assert_eq!(src.calls(), ["begin3p", "confirm3p:D:false"]);
    assert_eq!(dst.calls()[0], "prepare3p:A:<domain/>");
}

/// Params are checked against their libvirt types before any driver call.
#[test]
fn params_are_typed() {
    let feats = [MIGRATION_V3, MIGRATION_PARAMS, MIGRATION_P2P];
    let (src, _, d, dconn) = pair(&feats, &[], &[]);
    let wrong = TypedParams::new().with(param::BANDWIDTH, TypedParamValue::String("x".into()));
    assert_eq!(
        d.migrate3(&dconn, &wrong, 0).unwrap_err().code,
        ErrorCode::INVALID_ARG
    );
    let unknown = TypedParams::new().with("no_such_param", TypedParamValue::Int(1));
    assert_eq!(
        d.migrate_to_uri3(Some("test+tcp://h/x"), &unknown, flags::PEER2PEER)
            .unwrap_err()
            .code,
        ErrorCode::ARGUMENT_UNSUPPORTED
    );
    assert!(src.calls().is_empty());
    let disks = TypedParams::new()
        .with(param::MIGRATE_DISKS, TypedParamValue::String("vda".into()))
        .with(param::MIGRATE_DISKS, TypedParamValue::String("vdb".into()));
    d.migrate_to_uri3(Some("test+tcp://h/x"), &disks, flags::PEER2PEER)
        .unwrap();
}
