//! The daemon before authentication, on a SASL listener: sequences of
//! AUTH_LIST, AUTH_SASL_INIT, AUTH_SASL_START and AUTH_SASL_STEP (with
//! mutated mechanism names, data, nil flags and orders) mixed with any
//! other procedure, through `rvirtd::dispatch::handle_message` on a fresh
//! client whose authentication is a SASL listener's (Cyrus SASL in
//! process, the daemon's own setup: no network).
//!
//! Input format as the dispatch target's (mode word, then length-prefixed
//! messages). Every call must be answered with an error or a success; the
//! other procedures must be refused while unauthenticated. A crash inside
//! Cyrus SASL (a signal, not a panic) kills the fuzzer: the runner's
//! current-input file names it (see runner.rs).

use super::dispatch::{encode, input, message, split};
use super::{mix, Target};
use rvirt_driver_remote::sasl::server::ServerContext;
use rvirt_rpc::remote::{self, AuthSaslStartArgs, AuthSaslStepArgs, Procedure};
use rvirt_rpc::remote::{ConnectOpenArgs, DomainLookupByNameArgs};
use rvirt_rpc::MessageStatus;
use rvirtd::auth::{ChannelInfo, ClientAuth, ListenerAuth, Method};
use rvirtd::dispatch::{handle_message, Client};
use std::sync::Arc;

pub struct Sasl {
    ctx: Arc<ServerContext>,
}

impl Sasl {
    pub fn new() -> Sasl {
        rvirt_driver_test::register();
        // The daemon's context: no allow-list (any proven identity).
        let ctx = ServerContext::new(None).expect("SASL server context");
        Sasl { ctx: Arc::new(ctx) }
    }
}

fn bytes(s: &[u8]) -> Vec<i8> {
    s.iter().map(|&b| b as i8).collect()
}

fn start(mech: &str, data: Option<&[u8]>) -> Vec<u8> {
    encode(&AuthSaslStartArgs {
        mech: mech.into(),
        nil: i32::from(data.is_none()),
        data: bytes(data.unwrap_or_default()),
    })
}

fn step(data: Option<&[u8]>) -> Vec<u8> {
    encode(&AuthSaslStepArgs {
        nil: i32::from(data.is_none()),
        data: bytes(data.unwrap_or_default()),
    })
}

/// Calls a client sends before (and instead of) authenticating.
fn calls() -> Vec<(Procedure, Vec<u8>)> {
    vec![
        (Procedure::AuthList, vec![]),
        (Procedure::AuthSaslInit, vec![]),
        (
            Procedure::AuthSaslStart,
            start("SCRAM-SHA-256", Some(b"n,,n=u,r=abcdefgh")),
        ),
        (Procedure::AuthSaslStart, start("DIGEST-MD5", None)),
        (
            Procedure::AuthSaslStart,
            start("PLAIN", Some(b"\0user\0pass")),
        ),
        (Procedure::AuthSaslStart, start("EXTERNAL", Some(b""))),
        (Procedure::AuthSaslStart, start("ANONYMOUS", Some(b"x"))),
        (
            Procedure::AuthSaslStep,
            step(Some(b"c=biws,r=abcdefgh,p=AAAA")),
        ),
        (Procedure::AuthSaslStep, step(None)),
        (
            Procedure::ConnectOpen,
            encode(&ConnectOpenArgs {
                name: Some("test:///default".into()),
                flags: 0,
            }),
        ),
        (Procedure::ConnectGetType, vec![]),
        (
            Procedure::DomainLookupByName,
            encode(&DomainLookupByNameArgs {
                name: "test".into(),
            }),
        ),
    ]
}

/// Whether a procedure is one libvirt allows before authentication.
fn pre_auth(proc_: i32) -> bool {
    [
        Procedure::AuthList,
        Procedure::AuthSaslInit,
        Procedure::AuthSaslStart,
        Procedure::AuthSaslStep,
        Procedure::AuthPolkit,
    ]
    .iter()
    .any(|p| *p as i32 == proc_)
}

impl Target for Sasl {
    fn name(&self) -> &'static str {
        "sasl"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        let all: Vec<Vec<u8>> = calls()
            .iter()
            .enumerate()
            .map(|(i, (p, body))| message(*p, i as u32 + 1, body))
            .collect();
        let mut seeds = vec![
            // The client's order: list, init, start, step.
            input(
                false,
                &[
                    all[0].clone(),
                    all[1].clone(),
                    all[2].clone(),
                    all[7].clone(),
                ],
            ),
            input(false, &[all[1].clone(), all[3].clone(), all[8].clone()]),
            input(false, &[all[1].clone(), all[4].clone(), all[9].clone()]),
        ];
        for m in &all {
            seeds.push(input(false, std::slice::from_ref(m)));
        }
        seeds
    }

    fn run(&mut self, input: &[u8]) -> u64 {
        let (readonly, msgs) = split(input);
        let (tx, rx) = rvirtd::outbox::outbox(1 << 20);
        let mut client = Client::new(readonly, "test:///default", tx);
        let listener = ListenerAuth {
            method: Method::Sasl,
            sasl: Some(self.ctx.clone()),
        };
        let channel = ChannelInfo {
            local: Some("127.0.0.1;16514".into()),
            remote: Some("127.0.0.1;40000".into()),
            tls_bits: Some(256),
        };
        client.set_auth(ClientAuth::new(&listener, channel));
        let mut sig = u64::from(readonly);
        for msg in msgs {
            let Some(reply) = handle_message(&client, msg) else {
                sig = mix(sig, 0);
                continue;
            };
            let h = rvirtd::dispatch::RawHeader::parse(msg);
            if let Some(h) = h.filter(|h| h.prog == remote::PROGRAM) {
                if reply.header.prog == remote::PROGRAM {
                    assert_eq!(reply.header.serial, h.serial, "reply serial");
                }
                // Nothing but the authentication calls (and the keepalive
                // program, not REMOTE) succeeds before authentication.
                if !client.auth().authenticated() && !pre_auth(h.proc_) {
                    assert_ne!(
                        reply.header.status,
                        MessageStatus::Ok,
                        "unauthenticated call ran"
                    );
                }
            }
            let code = reply.error().and_then(Result::ok).map_or(0, |e| e.code.0);
            sig = mix(sig, (reply.header.proc_ as u64) << 32 | code as u32 as u64);
        }
        sig = mix(sig, u64::from(client.auth().authenticated()));
        client.cleanup();
        drop(client);
        drop(rx);
        sig
    }
}
