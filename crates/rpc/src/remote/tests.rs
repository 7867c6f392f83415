//! The REMOTE program's generated types and table, checked against the
//! bytes and facts of libvirt 9.0.

use super::*;
use rvirt_util::{ErrorCode, ErrorDomain};

#[test]
fn typed_param_bytes() {
    let params = TypedParams::new()
        .with("a", TypedParamValue::Int(-1))
        .with("b", TypedParamValue::Boolean(true))
        .with("c", TypedParamValue::String("x".into()))
        .with("d", TypedParamValue::ULLong(1 << 32))
        .with("e", TypedParamValue::Double(1.0));
    let mut e = Encoder::new();
    params.encode_bounded(&mut e, 8).unwrap();
    #[rustfmt::skip]
    let want: Vec<u8> = [
        &[0, 0, 0, 5][..],
        &[0, 0, 0, 1, b'a', 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff],
        &[0, 0, 0, 1, b'b', 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 1],
        &[0, 0, 0, 1, b'c', 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, b'x', 0, 0, 0],
        &[0, 0, 0, 1, b'd', 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0],
        &[0, 0, 0, 1, b'e', 0, 0, 0, 0, 0, 0, 5, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0],
    ]
    .concat();
    assert_eq!(e.as_bytes(), &want[..]);
    let mut d = Decoder::new(&want);
    assert_eq!(TypedParams::decode_bounded(&mut d, 8).unwrap(), params);
    let mut d = Decoder::new(&want);
    assert!(TypedParams::decode_bounded(&mut d, 4).is_err());
    // Unknown union discriminant.
    let bad = [0, 0, 0, 1, b'a', 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0];
    assert_eq!(
        TypedParam::from_xdr(&bad),
        Err(XdrError::InvalidDiscriminant(9))
    );
}

#[test]
fn domain_uuid_and_chars() {
    let u = rvirt_util::uuid::parse("6695eb01-f6a4-8304-79aa-97f2502e193f").unwrap();
    let d = NonnullDomain::new("test", u, 1);
    assert_eq!(d.uuid(), u);
    let bytes = d.to_xdr().unwrap();
    assert_eq!(&bytes[..8], [0, 0, 0, 4, b't', b'e', b's', b't']);
    assert_eq!(&bytes[8..24], u.as_bytes());
    assert_eq!(&bytes[24..], [0, 0, 0, 1]);
    assert_eq!(string_to_chars("ab"), [97, 98, 0]);
    assert_eq!(chars_to_string(&[97, 98, 0, 99]), "ab");
}

#[test]
fn table() {
    assert_eq!(Procedure::ALL.len(), 443);
    for (i, p) in Procedure::ALL.iter().enumerate() {
        assert_eq!(*p as i32, i as i32 + 1);
        assert_eq!(Procedure::from_i32(*p as i32), Some(*p));
    }
    assert_eq!(Procedure::from_i32(0), None);
    assert_eq!(Procedure::from_i32(444), None);
    let open = procedure_info(1).unwrap();
    assert_eq!(open.name, "REMOTE_PROC_CONNECT_OPEN");
    assert_eq!(open.priority, Priority::High);
    assert!(open.readonly_ok());
    assert!(!Procedure::DomainDefineXml.info().readonly_ok());
    assert!(!Procedure::DomainMigrateGetMaxSpeed.info().readonly_ok());
    assert_eq!(Procedure::DomainAbortJobFlags as i32, 442);
    assert_eq!(
        Procedure::DomainEventCallbackLifecycle.info().access,
        Access::Event
    );
    assert_eq!(Procedure::ConnectListAllDomains as i32, 273);
}

/// Every procedure has a class, an API to name in errors unless it is
/// an event or daemon-only, and the counts are libvirt 9.0's.
#[test]
fn every_procedure_is_classified() {
    let count = |a: Access| {
        Procedure::ALL
            .iter()
            .filter(|p| p.info().access == a)
            .count()
    };
    assert_eq!(count(Access::Read), 189);
    assert_eq!(count(Access::ReadUnlessFlags), 6);
    assert_eq!(count(Access::Write), 197);
    assert_eq!(count(Access::Event), 51);
    let without_api: Vec<_> = Procedure::ALL
        .iter()
        .filter(|p| p.info().api.is_none() && p.info().access != Access::Event)
        .map(|p| p.name())
        .collect();
    assert_eq!(
        without_api,
        [
            "REMOTE_PROC_CONNECT_CLOSE",
            "REMOTE_PROC_AUTH_LIST",
            "REMOTE_PROC_AUTH_SASL_INIT",
            "REMOTE_PROC_AUTH_SASL_START",
            "REMOTE_PROC_AUTH_SASL_STEP",
            "REMOTE_PROC_AUTH_POLKIT",
        ]
    );
}

#[test]
fn refusals_name_the_api_in_its_domain() {
    let destroy = Procedure::DomainDestroy.info();
    assert_eq!(destroy.access, Access::Write);
    let e = destroy.readonly_denied();
    assert_eq!(e.code, ErrorCode::OPERATION_DENIED);
    assert_eq!(e.domain, ErrorDomain::DOMAIN);
    assert_eq!(
        e.message,
        "operation forbidden: read only access prevents virDomainDestroy"
    );
    // libvirt-network.c reports from VIR_FROM_NETWORK (19).
    let net = Procedure::NetworkCreate.info();
    assert_eq!(net.api, Some("virNetworkCreate"));
    assert_eq!(net.readonly_denied().domain, ErrorDomain(19));
    // virNodeDeviceDettach keeps its historic spelling.
    assert_eq!(
        Procedure::NodeDeviceDettach.info().api,
        Some("virNodeDeviceDettach")
    );
    let e = Procedure::NodeGetSevInfo.info().unsupported();
    assert_eq!(e.code, ErrorCode::NO_SUPPORT);
    assert_eq!(
        e.message,
        "this function is not supported by the connection driver: virNodeGetSEVInfo"
    );
    assert_eq!(
        Procedure::DomainGetXmlDesc.info().access,
        Access::ReadUnlessFlags
    );
    assert!(Procedure::DomainGetXmlDesc.info().readonly_ok());
}

fn dom() -> NonnullDomain {
    NonnullDomain {
        name: "g".into(),
        uuid: [0xab; 16],
        id: 3,
    }
}

/// remote_nonnull_domain "g", uuid ab.., id 3.
fn dom_bytes() -> Vec<u8> {
    let mut v = vec![0, 0, 0, 1, b'g', 0, 0, 0];
    v.extend_from_slice(&[0xab; 16]);
    v.extend_from_slice(&[0, 0, 0, 3]);
    v
}

#[test]
fn perform3_params_layout() {
    // dom, remote_string dconnuri, params<>, opaque cookie_in<>, u32 flags
    let a = DomainMigratePerform3ParamsArgs {
        dom: dom(),
        dconnuri: Some("x".into()),
        params: TypedParams::new().with("bandwidth", TypedParamValue::ULLong(5)),
        cookie_in: vec![1, 2],
        flags: 0x103,
    };
    #[rustfmt::skip]
    let want: Vec<u8> = [
        dom_bytes(),
        vec![0, 0, 0, 1, 0, 0, 0, 1, b'x', 0, 0, 0],
        vec![0, 0, 0, 1, 0, 0, 0, 9],
        b"bandwidth\0\0\0".to_vec(),
        vec![0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 5],
        vec![0, 0, 0, 2, 1, 2, 0, 0],
        vec![0, 0, 1, 3],
    ]
    .concat();
    assert_eq!(a.to_xdr().unwrap(), want);
    assert_eq!(DomainMigratePerform3ParamsArgs::from_xdr(&want).unwrap(), a);
}

#[test]
fn v1_flags_are_hyper_and_finish3_cancelled_is_int() {
    // remote_domain_migrate_prepare_args: remote_string uri_in,
    // unsigned hyper flags, remote_string dname, unsigned hyper bandwidth.
    let a = DomainMigratePrepareArgs {
        uri_in: None,
        flags: 1,
        dname: None,
        resource: 2,
    };
    #[rustfmt::skip]
    assert_eq!(
        a.to_xdr().unwrap(),
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    );
    let r = DomainMigrateFinish3ParamsRet {
        dom: dom(),
        cookie_out: vec![],
    };
    let mut want = dom_bytes();
    want.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(r.to_xdr().unwrap(), want);
    let c = DomainMigrateConfirm3ParamsArgs {
        dom: dom(),
        params: TypedParams::new(),
        cookie_in: vec![],
        flags: 0,
        cancelled: 1,
    };
    let mut want = dom_bytes();
    want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(c.to_xdr().unwrap(), want);
}

#[test]
fn job_info_is_int_and_eleven_hypers() {
    let r = DomainGetJobInfoRet {
        type_: 2,
        time_elapsed: 7,
        ..Default::default()
    };
    let bytes = r.to_xdr().unwrap();
    assert_eq!(bytes.len(), 4 + 11 * 8);
    assert_eq!(&bytes[..12], [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 7]);
    // Cookies above REMOTE_MIGRATE_COOKIE_MAX are refused.
    let big = DomainMigratePerform3Ret {
        cookie_out: vec![0; MIGRATE_COOKIE_MAX + 1],
    };
    assert!(big.to_xdr().is_err());
}
