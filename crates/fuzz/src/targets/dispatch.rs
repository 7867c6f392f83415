//! The daemon's dispatch: a sequence of messages with arbitrary procedure
//! numbers, headers and payloads through `rvirtd::dispatch::handle_message`,
//! on a fresh client (read-only or read-write, the input's first word says)
//! that has `test:///default` open. A fresh client per input means a fresh
//! test host (libvirt's test driver drops it with its last connection), so
//! every finding replays from its input alone.
//!
//! Only the registered test driver is reachable (no remote driver: no
//! network). Migration phases are skipped: they bind listeners, connect to
//! the URIs they are given and sleep on injected delays, which a fuzzer must
//! not do on the machine it runs on. What remains reads node files at most
//! (CONNECT_OPEN test:///PATH, bounded) and never writes to the filesystem.

use super::{mix, Target};
use rvirt_rpc::remote::*;
use rvirt_rpc::remote::{ConnectListAllDomainsArgs, ConnectOpenArgs};
// Seeds are bytes: one generated struct of each shape (just the domain; the
// domain and flags) serves every procedure taking it.
use rvirt_rpc::remote::ConnectDomainEventCallbackRegisterAnyArgs;
use rvirt_rpc::remote::{self, NonnullDomain, Procedure};
use rvirt_rpc::remote::{DomainGetInfoArgs as DomainArgs, DomainGetXmlDescArgs as DomainFlagsArgs};
use rvirt_rpc::xdr::XdrEncode;
use rvirt_rpc::MessageStatus;
use rvirtd::dispatch::{handle_message, Client};

/// Messages run per input, at most.
const MAX_MESSAGES: usize = 16;

const FOO: &str = "<domain type='test'><name>foo</name>\
    <uuid>11111111-2222-3333-4444-555555555555</uuid><memory>1024</memory>\
    <os><type>hvm</type></os><devices><interface type='network'>\
    <source network='default'/></interface></devices></domain>";

pub struct Dispatch;

impl Dispatch {
    pub fn new() -> Dispatch {
        rvirt_driver_test::register();
        Dispatch
    }
}

fn domain(name: &str, uuid: &str, id: i32) -> NonnullDomain {
    NonnullDomain::new(name, rvirt_util::uuid::parse(uuid).expect("uuid"), id)
}

fn test_dom() -> NonnullDomain {
    domain("test", "6695eb01-f6a4-8304-79aa-97f2502e193f", 1)
}

fn foo_dom() -> NonnullDomain {
    domain("foo", "11111111-2222-3333-4444-555555555555", -1)
}

pub(super) fn encode<T: XdrEncode + ?Sized>(v: &T) -> Vec<u8> {
    v.to_xdr().expect("seed encodes")
}

/// Valid calls: the procedures a client uses most, with real arguments.
fn calls() -> Vec<(Procedure, Vec<u8>)> {
    let t = || DomainArgs { dom: test_dom() };
    let f = || DomainArgs { dom: foo_dom() };
    let flags = |dom| DomainFlagsArgs { dom, flags: 0 };
    vec![
        (Procedure::ConnectGetType, vec![]),
        (
            Procedure::ConnectListAllDomains,
            encode(&ConnectListAllDomainsArgs {
                need_results: 1,
                flags: 0,
            }),
        ),
        (
            Procedure::DomainLookupByName,
            encode(&DomainLookupByNameArgs {
                name: "test".into(),
            }),
        ),
        (Procedure::DomainGetInfo, encode(&t())),
        (Procedure::DomainGetXmlDesc, encode(&flags(test_dom()))),
        (Procedure::DomainGetState, encode(&flags(test_dom()))),
        (
            Procedure::DomainDefineXmlFlags,
            encode(&DomainDefineXmlFlagsArgs {
                xml: FOO.into(),
                flags: 0,
            }),
        ),
        (
            Procedure::DomainCreateXml,
            encode(&DomainCreateXmlArgs {
                xml_desc: FOO.replace("foo", "bar"),
                flags: 0,
            }),
        ),
        (Procedure::DomainCreate, encode(&f())),
        (Procedure::DomainSuspend, encode(&f())),
        (Procedure::DomainResume, encode(&f())),
        (Procedure::DomainDestroy, encode(&f())),
        (Procedure::DomainUndefine, encode(&f())),
        (
            Procedure::DomainSetAutostart,
            encode(&DomainSetAutostartArgs {
                dom: test_dom(),
                autostart: 1,
            }),
        ),
        (
            Procedure::ConnectDomainEventCallbackRegisterAny,
            encode(&ConnectDomainEventCallbackRegisterAnyArgs {
                event_id: 0,
                dom: None,
            }),
        ),
        (
            Procedure::ConnectOpen,
            encode(&ConnectOpenArgs {
                name: Some("test:///dev/zero".into()),
                flags: 0,
            }),
        ),
    ]
}

/// The argument payloads alone (seeds of the XDR target too).
pub fn call_payloads() -> Vec<Vec<u8>> {
    calls()
        .into_iter()
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty())
        .collect()
}

/// One message (header and payload, no length word).
pub(super) fn message(proc_: Procedure, serial: u32, payload: &[u8]) -> Vec<u8> {
    let packet = remote::call(proc_, serial, &()).expect("header encodes");
    let mut bytes = packet.to_bytes().expect("frame")[4..].to_vec();
    bytes.extend_from_slice(payload);
    bytes
}

/// An input: the mode word, then each message behind its own length.
pub(super) fn input(readonly: bool, msgs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = u32::from(readonly).to_be_bytes().to_vec();
    for m in msgs {
        out.extend((m.len() as u32).to_be_bytes());
        out.extend(m);
    }
    out
}

/// Split an input into its mode and messages; lengths past the end are cut.
pub(super) fn split(input: &[u8]) -> (bool, Vec<&[u8]>) {
    let readonly = input.get(3).is_some_and(|b| b & 1 == 1);
    let mut rest = input.get(4..).unwrap_or(&[]);
    let mut msgs = Vec::new();
    while rest.len() >= 4 && msgs.len() < MAX_MESSAGES {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let len = len.min(rest.len() - 4);
        msgs.push(&rest[4..4 + len]);
        rest = &rest[4 + len..];
    }
    (readonly, msgs)
}

/// Migration phases: skipped (see the module comment).
fn skipped(msg: &[u8]) -> bool {
    let Some(word) = msg.get(8..12) else {
        return false;
    };
    let proc_ = i32::from_be_bytes([word[0], word[1], word[2], word[3]]);
    Procedure::from_i32(proc_).is_some_and(|p| {
        let name = p.name();
        [
            "PREPARE",
            "PERFORM",
            "FINISH",
            "CONFIRM",
            "BEGIN",
            "POST_COPY",
        ]
        .iter()
        .any(|phase| name.starts_with("DOMAIN_MIGRATE") && name.contains(phase))
    })
}

impl Target for Dispatch {
    fn name(&self) -> &'static str {
        "dispatch"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        let all: Vec<Vec<u8>> = calls()
            .iter()
            .enumerate()
            .map(|(i, (p, body))| message(*p, i as u32 + 2, body))
            .collect();
        let mut seeds: Vec<Vec<u8>> = Vec::new();
        for m in &all {
            seeds.push(input(false, std::slice::from_ref(m)));
            seeds.push(input(true, std::slice::from_ref(m)));
        }
        seeds.push(input(false, &all[..MAX_MESSAGES.min(all.len())]));
        seeds.push(input(
            false,
            &[rvirt_rpc::keepalive::ping().to_bytes().unwrap()[4..].to_vec()],
        ));
        seeds
    }

    fn run(&mut self, input: &[u8]) -> u64 {
        let (readonly, msgs) = split(input);
        // Bounded as a session's is; events past it are dropped, not queued.
        let (tx, rx) = rvirtd::outbox::outbox(1 << 20);
        let client = Client::new(readonly, "test:///default", tx);
        let open = encode(&ConnectOpenArgs {
            name: Some("test:///default".into()),
            flags: u32::from(readonly),
        });
        let opened = handle_message(&client, &message(Procedure::ConnectOpen, 1, &open));
        assert!(
            opened.is_some_and(|p| p.header.status == MessageStatus::Ok),
            "open test:///default"
        );
        let mut sig = u64::from(readonly);
        for msg in msgs {
            if skipped(msg) {
                sig = mix(sig, 0x5c1);
                continue;
            }
            let Some(reply) = handle_message(&client, msg) else {
                sig = mix(sig, 0);
                continue;
            };
            // A REMOTE reply answers the call it was for (a keepalive
            // PONG carries serial 0 whatever the PING's).
            if let Some(h) = rvirtd::dispatch::RawHeader::parse(msg) {
                if reply.header.prog == remote::PROGRAM && h.prog == remote::PROGRAM {
                    assert_eq!(reply.header.serial, h.serial, "reply serial");
                }
            }
            let code = reply.error().and_then(Result::ok).map_or(0, |e| e.code.0);
            sig = mix(sig, (reply.header.proc_ as u64) << 32 | code as u32 as u64);
        }
        client.cleanup();
        drop(client);
        drop(rx);
        sig
    }
}
