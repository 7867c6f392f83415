//! Golden bytes captured from a real `virsh` 9.0 <-> `libvirtd` 9.0 exchange
//! over TCP (`virsh -c test+tcp://127.0.0.1/default dominfo test` and
//! `dominfo nope`, recorded by a logging proxy). Every client call must be
//! reproduced byte for byte by this crate, and every server reply must decode
//! and re-encode to the same bytes.

use rvirt_rpc::remote::*;
// Many procedures take just the domain, the domain and flags, or return
// just a domain: one generated struct of each shape stands for all here
// (the bytes are what these tests check).
use rvirt_rpc::remote::{self, NonnullDomain, Procedure};
use rvirt_rpc::remote::{
    DomainGetInfoArgs as DomainArgs, DomainGetXmlDescArgs as DomainFlagsArgs,
    DomainLookupByNameRet as DomainRet,
};
use rvirt_rpc::{MessageStatus, MessageType, Packet, RemoteError, XdrDecode, XdrEncode};
use rvirt_util::{ErrorCode, ErrorDomain};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn test_dom() -> NonnullDomain {
    let uuid = rvirt_util::uuid::parse("6695eb01-f6a4-8304-79aa-97f2502e193f").unwrap();
    NonnullDomain::new("test", uuid, 1)
}

/// Encode a call like virsh did and compare.
fn check_call<A: XdrEncode>(proc_: Procedure, serial: u32, args: &A, want: &str) {
    let got = remote::call(proc_, serial, args)
        .unwrap()
        .to_bytes()
        .unwrap();
    assert_eq!(got, hex(want), "{proc_:?}");
    let back = Packet::from_bytes(&got).unwrap();
    assert_eq!(back.header.type_, MessageType::Call);
    assert_eq!(back.header.proc_, proc_ as i32);
}

/// Decode a reply libvirtd sent, and re-encode it.
fn check_reply<R: XdrDecode + XdrEncode>(proc_: Procedure, serial: u32, bytes: &str) -> R {
    let raw = hex(bytes);
    let p = Packet::from_bytes(&raw).unwrap();
    assert_eq!(p.header.prog, remote::PROGRAM);
    assert_eq!(p.header.proc_, proc_ as i32);
    assert_eq!(p.header.serial, serial);
    assert_eq!(p.header.type_, MessageType::Reply);
    assert_eq!(p.header.status, MessageStatus::Ok);
    let ret: R = p.body().unwrap();
    let again = Packet::reply(&p.header, &ret).unwrap().to_bytes().unwrap();
    assert_eq!(again, raw, "{proc_:?}");
    ret
}

/// One round trip of the recorded session: virsh's call, then
/// libvirtd's reply (decoded).
fn check_exchange<A: XdrEncode, R: XdrDecode + XdrEncode>(
    proc_: Procedure,
    serial: u32,
    args: &A,
    call: &str,
    reply: &str,
) -> R {
    check_call(proc_, serial, args, call);
    check_reply(proc_, serial, reply)
}

#[test]
fn handshake() {
    let auth: AuthListRet = check_exchange(
        Procedure::AuthList,
        0,
        &(),
        "0000001c200080860000000100000042000000000000000000000000",
        "000000242000808600000001000000420000000100000000000000000000000100000000",
    );
    assert_eq!(auth.types, vec![remote::AUTH_NONE]);
    // VIR_DRV_FEATURE_PROGRAM_KEEPALIVE (10), asked before CONNECT_OPEN.
    let f: ConnectSupportsFeatureRet = check_exchange(
        Procedure::ConnectSupportsFeature,
        1,
        &ConnectSupportsFeatureArgs { feature: 10 },
        "0000002020008086000000010000003c0000000000000001000000000000000a",
        "0000002020008086000000010000003c00000001000000010000000000000001",
    );
    assert_eq!(f.supported, 1);
    let () = check_exchange(
        Procedure::ConnectOpen,
        2,
        &ConnectOpenArgs {
            name: Some("test:///default".into()),
            flags: 0,
        },
        "00000038200080860000000100000001000000000000000200000000\
         000000010000000f746573743a2f2f2f64656661756c740000000000",
        "0000001c200080860000000100000001000000010000000200000000",
    );
    check_call(
        Procedure::ConnectRegisterCloseCallback,
        5,
        &(),
        "0000001c200080860000000100000168000000000000000500000000",
    );
    check_call(
        Procedure::ConnectClose,
        16,
        &(),
        "0000001c200080860000000100000002000000000000001000000000",
    );
}

#[test]
fn connect_open_by_hand() {
    // Computed from the spec: length 56, header, then remote_string name
    // (present flag 1, length 15, "test:///default", one pad byte), flags 0.
    #[rustfmt::skip]
    let mut want = vec![
        0, 0, 0, 56,
        0x20, 0x00, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0,
        0, 0, 0, 1, 0, 0, 0, 15,
    ];
    want.extend_from_slice(b"test:///default");
    want.extend_from_slice(&[0, 0, 0, 0, 0]);
    let args = ConnectOpenArgs {
        name: Some("test:///default".into()),
        flags: 0,
    };
    let got = remote::call(Procedure::ConnectOpen, 2, &args).unwrap();
    assert_eq!(got.to_bytes().unwrap(), want);
}

#[test]
fn domain_queries() {
    let r: DomainRet = check_exchange(
        Procedure::DomainLookupByName,
        6,
        &DomainLookupByNameArgs {
            name: "test".into(),
        },
        "000000242000808600000001000000170000000000000006000000000000000474657374",
        "0000003820008086000000010000001700000001000000060000000000000004\
         746573746695eb01f6a4830479aa97f2502e193f00000001",
    );
    assert_eq!(r.dom, test_dom());
    let d = DomainArgs { dom: test_dom() };
    let os: DomainGetOsTypeRet = check_exchange(
        Procedure::DomainGetOsType,
        7,
        &d,
        "0000003820008086000000010000001300000000000000070000000000000004\
         746573746695eb01f6a4830479aa97f2502e193f00000001",
        "00000028200080860000000100000013000000010000000700000000000000056c696e7578000000",
    );
    assert_eq!(os.type_, "linux");
    let info: DomainGetInfoRet = check_reply(
        Procedure::DomainGetInfo,
        8,
        "0000003c2000808600000001000000100000000100000008000000000000000100000000008000000\
         0000000002000000000000218ea3b62b8948d48",
    );
    assert_eq!(info.state, 1);
    assert_eq!(info.max_mem, 8_388_608);
    assert_eq!(info.memory, 2_097_152);
    assert_eq!(info.nr_virt_cpu, 2);
    let p: DomainIsPersistentRet = check_reply(
        Procedure::DomainIsPersistent,
        9,
        "0000002020008086000000010000009700000001000000090000000000000001",
    );
    assert_eq!(p.persistent, 1);
    check_call(
        Procedure::DomainHasManagedSaveImage,
        11,
        &DomainFlagsArgs {
            dom: test_dom(),
            flags: 0,
        },
        "0000003c2000808600000001000000b7000000000000000b0000000000000004\
         746573746695eb01f6a4830479aa97f2502e193f0000000100000000",
    );
}

#[test]
fn security_char_arrays() {
    let m: NodeGetSecurityModelRet = check_reply(
        Procedure::NodeGetSecurityModel,
        12,
        "0000005c20008086000000010000007a000000010000000c000000000000000d\
         0000007400000065000000730000007400000053000000650000006300000075\
         00000072000000690000007400000079000000000000000100000000",
    );
    assert_eq!(remote::chars_to_string(&m.model), "testSecurity");
    assert_eq!(m.model, remote::string_to_chars("testSecurity"));
    assert_eq!(m.doi, vec![0]);
    let l: DomainGetSecurityLabelRet = check_reply(
        Procedure::DomainGetSecurityLabel,
        13,
        "00000058200080860000000100000079000000010000000d000000000000000d\
         0000006c0000006900000062000000760000006900000072000000740000002d\
         000000740000006500000073000000740000000000000001",
    );
    assert_eq!(l.label_str(), "libvirt-test");
    assert_eq!(l.enforcing, 1);
}

#[test]
fn error_reply() {
    let raw = hex(
        "000000702000808600000001000000170000000100000006000000010000002a0000000c\
         0000000100000010446f6d61696e206e6f7420666f756e6400000002000000000000000100000010\
         446f6d61696e206e6f7420666f756e640000000000000000ffffffffffffffff00000000",
    );
    let p = Packet::from_bytes(&raw).unwrap();
    assert_eq!(p.header.status, MessageStatus::Error);
    let e = p.error().unwrap().unwrap();
    assert_eq!(e.code, ErrorCode::NO_DOMAIN);
    assert_eq!(e.domain, ErrorDomain::TEST);
    assert_eq!(e.message, "Domain not found");
    assert_eq!(e.str1.as_deref(), Some("Domain not found"));
    assert_eq!((e.int1, e.int2), (-1, -1));
    let again = Packet::error_reply(&p.header, &e)
        .unwrap()
        .to_bytes()
        .unwrap();
    assert_eq!(again, raw);
    assert_eq!(RemoteError::from_xdr(&p.payload).unwrap().dom, None);
}
