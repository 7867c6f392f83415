//! The dispatcher in-process: libvirtd's answers to malformed and
//! out-of-order calls, and a proptest that random messages never panic.

use super::*;
use proptest::prelude::*;
use rvirt_rpc::remote::ConnectOpenArgs;
use rvirt_rpc::remote::{DomainLookupByNameArgs, DomainLookupByNameRet};

fn client(readonly: bool) -> (Client, crate::outbox::OutboxReceiver) {
    rvirt_driver_test::register();
    let (tx, rx) = crate::outbox::outbox(1 << 20);
    (Client::new(readonly, "test:///default", tx), rx)
}

/// The header fields of a raw message: program, version, procedure,
/// type, serial, status.
type RawFields = (u32, u32, i32, i32, u32, i32);

/// A raw message as dispatch sees it: the kit's packet without its
/// length word.
fn msg(header: RawFields, body: &[u8]) -> Vec<u8> {
    let (prog, vers, proc_, type_, serial, status) = header;
    rvirt_testkit::rpc::wire::message(prog, vers, proc_, type_, serial, status, body)[4..].to_vec()
}

fn call<T: XdrEncode>(proc_: Procedure, serial: u32, args: &T) -> Vec<u8> {
    let header = (remote::PROGRAM, 1, proc_ as i32, 0, serial, 0);
    msg(header, &args.to_xdr().unwrap())
}

fn error_of(p: &Packet) -> Error {
    assert_eq!(p.header.status, MessageStatus::Error, "{p:?}");
    p.error().unwrap().unwrap()
}

/// The reply is libvirt's error with this code, domain and message.
fn assert_error(reply: &Packet, (code, domain): (ErrorCode, ErrorDomain), message: &str) {
    let e = error_of(reply);
    assert_eq!((e.code, e.domain), (code, domain), "{}", e.message);
    assert_eq!(e.message, message);
}

fn open(c: &Client) {
    let args = ConnectOpenArgs {
        name: Some("test:///default".into()),
        flags: 0,
    };
    let reply = handle_message(c, &call(Procedure::ConnectOpen, 1, &args)).unwrap();
    assert_eq!(
        reply.header.status,
        MessageStatus::Ok,
        "{:?}",
        reply.error()
    );
}

#[test]
fn libvirtd_error_texts() {
    let (c, _rx) = client(false);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            msg((remote::PROGRAM, 1, 9999, 0, 5, 0), &[]),
            "unknown procedure: 9999",
        ),
        (
            msg((0x12345, 1, 1, 0, 6, 0), &[]),
            "Cannot find program 74565 version 1",
        ),
        (
            msg((remote::PROGRAM, 2, 1, 0, 7, 0), &[]),
            "Cannot find program 536903814 version 2",
        ),
        (
            msg((remote::PROGRAM, 1, 3, 0, 8, 0), &[]),
            "internal error: hypervisor connection not open",
        ),
        (
            msg((remote::PROGRAM, 1, 3, 0, 9, 7), &[]),
            "Unexpected message status 7",
        ),
        (
            msg((remote::PROGRAM, 1, 23, 0, 10, 0), &[0xff; 4]),
            "Unable to decode message payload",
        ),
        (
            msg((keepalive::PROGRAM, 1, 1, 0, 14, 0), &[]),
            "Cannot find program 1801807216 version 1",
        ),
    ];
    for (m, want) in cases {
        let reply = handle_message(&c, &m).expect("an error reply");
        let h = RawHeader::parse(&m).unwrap();
        assert_eq!(reply.header.serial, h.serial);
        assert_eq!(reply.header.proc_, h.proc_);
        assert_eq!(reply.header.type_, MessageType::Reply);
        assert_eq!(error_of(&reply).message, want);
    }
    // Stray replies and unknown types get no answer; PING gets PONG.
    assert!(handle_message(&c, &msg((remote::PROGRAM, 1, 3, 1, 12, 0), &[])).is_none());
    assert!(handle_message(&c, &msg((remote::PROGRAM, 1, 3, 9, 13, 0), &[])).is_none());
    let ping = keepalive::ping().to_bytes().unwrap();
    let pong = handle_message(&c, &ping[4..]).unwrap();
    assert_eq!(keepalive::classify(&pong), Some(keepalive::Procedure::Pong));
}

#[test]
fn open_lookup_and_readonly() {
    let (c, _rx) = client(false);
    // AUTH_LIST with trailing bytes still works, as libvirt ignores them.
    let reply = handle_message(&c, &msg((remote::PROGRAM, 1, 66, 0, 2, 0), &[0; 4])).unwrap();
    assert_eq!(reply.payload, [0, 0, 0, 1, 0, 0, 0, 0]);
    open(&c);
    let args = ConnectOpenArgs {
        name: None,
        flags: 0,
    };
    let again = handle_message(&c, &call(Procedure::ConnectOpen, 3, &args)).unwrap();
    assert_eq!(
        error_of(&again).message,
        "internal error: connection already open"
    );
    // libvirtd's failed second open clears the first connection too.
    let lookup = DomainLookupByNameArgs {
        name: "test".into(),
    };
    let closed = handle_message(&c, &call(Procedure::DomainLookupByName, 4, &lookup)).unwrap();
    assert_eq!(
        error_of(&closed).message,
        "internal error: hypervisor connection not open"
    );
    open(&c);
    let lookup = DomainLookupByNameArgs {
        name: "test".into(),
    };
    let reply = handle_message(&c, &call(Procedure::DomainLookupByName, 4, &lookup)).unwrap();
    let dom: DomainLookupByNameRet = reply.body().unwrap();
    assert_eq!(dom.dom.name, "test");

    let (ro, _rx) = client(true);
    open(&ro);
    let reply = handle_message(&ro, &call(Procedure::DomainDestroy, 5, &dom)).unwrap();
    assert_error(
        &reply,
        (ErrorCode::OPERATION_DENIED, ErrorDomain::DOMAIN),
        "operation forbidden: read only access prevents virDomainDestroy",
    );
    let reply = handle_message(&ro, &call(Procedure::DomainGetInfo, 6, &dom)).unwrap();
    assert_eq!(reply.header.status, MessageStatus::Ok);
}

#[test]
fn lifecycle_events_reach_the_outbox() {
    use rvirt_rpc::remote::{
        ConnectDomainEventCallbackDeregisterAnyArgs, ConnectDomainEventCallbackRegisterAnyArgs,
        ConnectDomainEventCallbackRegisterAnyRet, DomainEventCallbackLifecycleMsg,
    };
    let (c, mut rx) = client(false);
    open(&c);
    let reg = ConnectDomainEventCallbackRegisterAnyArgs {
        event_id: 0,
        dom: None,
    };
    let reply = handle_message(
        &c,
        &call(Procedure::ConnectDomainEventCallbackRegisterAny, 2, &reg),
    )
    .unwrap();
    let id: ConnectDomainEventCallbackRegisterAnyRet = reply.body().unwrap();
    let lookup = DomainLookupByNameArgs {
        name: "test".into(),
    };
    let dom: DomainLookupByNameRet =
        handle_message(&c, &call(Procedure::DomainLookupByName, 3, &lookup))
            .unwrap()
            .body()
            .unwrap();
    let reply = handle_message(&c, &call(Procedure::DomainSuspend, 4, &dom)).unwrap();
    assert_eq!(
        reply.header.status,
        MessageStatus::Ok,
        "{:?}",
        reply.error()
    );
    let ev = rx.try_recv().expect("an event");
    assert_eq!(
        ev.header.proc_,
        Procedure::DomainEventCallbackLifecycle as i32
    );
    let msg: DomainEventCallbackLifecycleMsg = ev.body().unwrap();
    assert_eq!(msg.callback_id, id.callback_id);
    assert_eq!(msg.msg.event, rvirt::events::lifecycle::SUSPENDED);
    let _ = handle_message(&c, &call(Procedure::DomainResume, 5, &dom));
    let bad = ConnectDomainEventCallbackDeregisterAnyArgs { callback_id: 777 };
    let reply = handle_message(
        &c,
        &call(Procedure::ConnectDomainEventCallbackDeregisterAny, 6, &bad),
    )
    .unwrap();
    assert_eq!(
        error_of(&reply).message,
        "internal error: domain event callback 777 not registered"
    );
}

fn any_message() -> impl Strategy<Value = Vec<u8>> {
    let header = (
        prop_oneof![
            Just(remote::PROGRAM),
            Just(keepalive::PROGRAM),
            any::<u32>()
        ],
        prop_oneof![Just(1u32), any::<u32>()],
        prop_oneof![1i32..450, any::<i32>()],
        prop_oneof![0i32..7, any::<i32>()],
        any::<u32>(),
        prop_oneof![Just(0i32), any::<i32>()],
    );
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        // Plausible XDR: small words, huge counts, negative numbers.
        proptest::collection::vec(
            prop_oneof![
                Just(0u32),
                Just(1),
                Just(4),
                Just(u32::MAX),
                Just(0x8000_0000),
                any::<u32>()
            ],
            0..16
        )
        .prop_map(|ws| ws.into_iter().flat_map(|w| w.to_be_bytes()).collect()),
    ];
    (header, body).prop_map(|((p, v, pr, t, s, st), body)| msg((p, v, pr, t, s, st), &body))
}

/// A SASL listener's client: AUTH_LIST says SASL, every other call is
/// refused until it authenticates, and SASL steps out of order fail as
/// libvirtd's do.
#[test]
fn unauthenticated_sasl_client_gets_libvirts_answers() {
    use crate::auth::{ChannelInfo, ClientAuth, ListenerAuth, Method};
    use rvirt_rpc::remote::{AuthListRet, AuthSaslStepArgs};
    let (mut c, _rx) = client(false);
    let listener = ListenerAuth {
        method: Method::Sasl,
        sasl: None,
    };
    c.set_auth(ClientAuth::new(&listener, ChannelInfo::default()));
    let reply = handle_message(&c, &call(Procedure::AuthList, 1, &())).unwrap();
    let ret: AuthListRet = reply.body().unwrap();
    assert_eq!(ret.types, vec![remote::AUTH_SASL]);
    let args = ConnectOpenArgs {
        name: Some("test:///default".into()),
        flags: 0,
    };
    let reply = handle_message(&c, &call(Procedure::ConnectOpen, 2, &args)).unwrap();
    assert_error(
        &reply,
        (ErrorCode::RPC, ErrorDomain::RPC),
        "authentication required",
    );
    let step = AuthSaslStepArgs {
        nil: 1,
        data: vec![],
    };
    let reply = handle_message(&c, &call(Procedure::AuthSaslStep, 3, &step)).unwrap();
    assert_error(
        &reply,
        (ErrorCode::AUTH_FAILED, ErrorDomain::RPC),
        "authentication failed: authentication failed",
    );
    // An unknown procedure is still unknown, before the auth check.
    let reply = handle_message(&c, &call(Procedure::DomainEventLifecycle, 4, &())).unwrap();
    assert_eq!(error_of(&reply).message, "unknown procedure: 107");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Random messages, before and after CONNECT_OPEN, on read-write and
    /// read-only clients: the dispatcher always answers or ignores, never
    /// panics, and any reply echoes the call's serial.
    #[test]
    fn random_messages_never_panic(msgs in proptest::collection::vec(any_message(), 1..8), ro in any::<bool>(), opened in any::<bool>()) {
        let (c, _rx) = client(ro);
        if opened {
            open(&c);
        }
        for m in &msgs {
            if let Some(reply) = handle_message(&c, m) {
                let h = RawHeader::parse(m).unwrap();
                if reply.header.prog != keepalive::PROGRAM {
                    prop_assert_eq!(reply.header.serial, h.serial);
                }
            }
        }
        c.cleanup();
    }
}

#[test]
fn only_quick_reads_on_a_promising_driver_run_inline() {
    let (c, _rx) = client(false);
    let header = |p: Procedure| RawHeader::parse(&call(p, 1, &())).unwrap();
    // Before CONNECT_OPEN nothing runs inline: the error comes from a worker
    // like every other answer to a call.
    assert!(!runs_inline(&c, &header(Procedure::DomainGetInfo)));
    open(&c);
    for p in [
        Procedure::DomainLookupByName,
        Procedure::DomainGetInfo,
        Procedure::DomainGetXmlDesc,
        Procedure::ConnectListAllDomains,
    ] {
        assert!(runs_inline(&c, &header(p)), "{p:?}");
    }
    for p in [
        Procedure::ConnectOpen,
        Procedure::DomainDestroy,
        Procedure::DomainCreateXml,
        Procedure::DomainGetJobStats,
        Procedure::DomainMigratePerform3Params,
        Procedure::DomainMigratePrepareTunnel3Params,
    ] {
        assert!(!runs_inline(&c, &header(p)), "{p:?}");
    }
    // An unknown procedure goes the long way, to its error reply.
    let mut unknown = header(Procedure::DomainGetInfo);
    unknown.proc_ = 99_999;
    assert!(!runs_inline(&c, &unknown));
}

/// Procedures without a handler answer as libvirtd does when its driver
/// lacks them: refused first on a read-only connection if the API checks
/// read-only, else "not supported" naming the API; events stay unknown.
#[test]
fn unimplemented_procedures_answer_from_the_table() {
    let (ro, _rx) = client(true);
    // Before CONNECT_OPEN the dispatcher has no connection to call on.
    let reply = handle_message(
        &ro,
        &call(Procedure::ConnectListAllNwfilterBindings, 1, &[0u8; 8]),
    )
    .unwrap();
    assert_eq!(
        error_of(&reply).message,
        "internal error: hypervisor connection not open"
    );
    open(&ro);
    let reply = handle_message(
        &ro,
        &call(Procedure::ConnectListAllNwfilterBindings, 2, &[0u8; 8]),
    )
    .unwrap();
    assert_error(
        &reply,
        (ErrorCode::NO_SUPPORT, ErrorDomain(33)),
        "this function is not supported by the connection driver: virConnectListAllNWFilterBindings",
    );
    let reply =
        handle_message(&ro, &call(Procedure::NwfilterBindingDelete, 3, &[0u8; 20])).unwrap();
    assert_error(
        &reply,
        (ErrorCode::OPERATION_DENIED, ErrorDomain(33)),
        "operation forbidden: read only access prevents virNWFilterBindingDelete",
    );
    let reply = handle_message(&ro, &call(Procedure::DomainEventLifecycle, 4, &())).unwrap();
    assert_eq!(error_of(&reply).message, "unknown procedure: 107");
    let reply = handle_message(&ro, &call(Procedure::AuthSaslInit, 5, &())).unwrap();
    let e = error_of(&reply);
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            ErrorCode::AUTH_FAILED,
            "authentication failed: authentication failed"
        )
    );

    // A read-write connection reaches the driver: not supported.
    let (rw, _rx) = client(false);
    open(&rw);
    let reply =
        handle_message(&rw, &call(Procedure::NwfilterBindingDelete, 6, &[0u8; 20])).unwrap();
    assert_eq!(error_of(&reply).code, ErrorCode::NO_SUPPORT);
}

/// libvirtd decodes the arguments before the API can refuse the call.
#[test]
fn arguments_are_decoded_before_the_readonly_refusal() {
    let (ro, _rx) = client(true);
    open(&ro);
    let header = (remote::PROGRAM, 1, Procedure::DomainDestroy as i32, 0, 2, 0);
    let garbage = msg(header, &[0xff; 4]);
    let reply = handle_message(&ro, &garbage).unwrap();
    assert_eq!(error_of(&reply).message, "Unable to decode message payload");
}

/// Handlers exist only for calls: an event procedure in a table would
/// answer what libvirtd calls an unknown procedure.
#[test]
fn handlers_are_for_calls_only() {
    let handled: Vec<_> = Procedure::ALL
        .iter()
        .filter(|p| entry(**p).is_some())
        .collect();
    assert!(handled.len() > 80, "{}", handled.len());
    for p in handled {
        assert_ne!(p.info().access, Access::Event, "{}", p.name());
    }
}

#[test]
fn the_qemu_program_answers_as_libvirtd_without_a_monitor() {
    use rvirt_rpc::qemu::{self, DomainMonitorCommandArgs};
    let qcall =
        |proc_: qemu::Procedure, body: &[u8]| msg((qemu::PROGRAM, 1, proc_ as i32, 0, 9, 0), body);
    let (c, _rx) = client(false);
    open(&c);
    let dom = c
        .conn()
        .unwrap()
        .lookup_by_name("test")
        .map(|d| nonnull(&d))
        .unwrap();
    let args = DomainMonitorCommandArgs {
        dom,
        cmd: r#"{"execute":"query-status"}"#.into(),
        flags: 0,
    };
    let body = args.to_xdr().unwrap();
    let reply = handle_message(&c, &qcall(qemu::Procedure::DomainMonitorCommand, &body));
    let e = error_of(&reply.expect("reply"));
    assert_eq!(e.code, ErrorCode::NO_SUPPORT);
    assert_eq!(
        e.message,
        "this function is not supported by the connection driver: virDomainQemuMonitorCommand"
    );
    // Undecodable arguments, the event (never called), no registration.
    let bad = handle_message(&c, &qcall(qemu::Procedure::DomainMonitorCommand, &[1]));
    assert_eq!(
        error_of(&bad.unwrap()).message,
        "Unable to decode message payload"
    );
    let ev = handle_message(&c, &qcall(qemu::Procedure::DomainMonitorEvent, &[]));
    assert_eq!(error_of(&ev.unwrap()).message, "unknown procedure: 6");
    let dereg = qcall(
        qemu::Procedure::ConnectDomainMonitorEventDeregister,
        &[0, 0, 0, 3],
    );
    let e = error_of(&handle_message(&c, &dereg).unwrap());
    assert_eq!(
        e.message,
        "internal error: qemu monitor event callback 3 not registered"
    );
    // The read-only socket: refused before the driver is asked.
    let (ro, _rx) = client(true);
    open(&ro);
    let reply = handle_message(&ro, &qcall(qemu::Procedure::DomainMonitorCommand, &body));
    assert_eq!(
        error_of(&reply.unwrap()).message,
        "operation forbidden: read only access prevents virDomainQemuMonitorCommand"
    );
}
