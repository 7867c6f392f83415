//! Every REMOTE procedure of libvirt 9.0 called on a read-write connection
//! to `test:///default` (issue 19: no procedure answers "unknown
//! procedure"). The read-only walk (readonly_table.rs) stops most writes
//! at the read-only check; here every call reaches its handler, or the
//! answer libvirtd gives when its driver lacks the call.
//!
//! Each call carries 4 KiB of zero bytes, which every procedure decodes
//! as well-formed, minimal arguments (empty strings and lists, NULL
//! optional strings, flags 0), so a call naming a domain, network or pool
//! names one called "" that does not exist. Skipped, because their minimal
//! call ends the walk rather than answering it:
//! - CONNECT_OPEN: a second open fails with "connection already open"
//!   and libvirtd 9.0 drops the connection;
//! - CONNECT_CLOSE: closes the connection (called last, on its own);
//! - DOMAIN_MIGRATE_FINISH, _FINISH2, _FINISH3, _FINISH3_PARAMS: after
//!   the zeroed PREPARE calls before them, neither libvirtd nor rvirtd
//!   answers a zeroed finish within 30 s (rvirt's test driver carries
//!   migration: its zeroed prepare succeeds and the finish waits up to
//!   600 s for the guest's data), which would stall the walk.
//!
//!
//! No other call has a side effect that disturbs the walk: the events
//! callbacks it registers stay silent (nothing changes state), and a
//! stream a call might open sends its packets to a client that ignores
//! them (no call here opens one: each fails on its zeroed arguments).

use rvirt_rpc::remote::{Access, Procedure};
use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::rpc::rpc_client::{self, RpcClient};
use rvirt_util::ErrorCode;
use std::path::Path;
use std::time::Duration;

const ZEROS: [u8; 4096] = [0; 4096];

/// The procedures the walk leaves out (see the module's documentation).
const SKIPPED: [Procedure; 6] = [
    Procedure::ConnectOpen,
    Procedure::ConnectClose,
    Procedure::DomainMigrateFinish,
    Procedure::DomainMigrateFinish2,
    Procedure::DomainMigrateFinish3,
    Procedure::DomainMigrateFinish3Params,
];

/// A reply as compared between daemons.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    Ok,
    Err { code: ErrorCode, message: String },
}

impl Answer {
    fn is_unknown_procedure(&self) -> bool {
        matches!(self, Answer::Err { message, .. } if message.starts_with("unknown procedure"))
    }
    fn is_no_support(&self) -> bool {
        matches!(self, Answer::Err { code, .. } if *code == ErrorCode::NO_SUPPORT)
    }
}

fn open(socket: &Path) -> RpcClient {
    let mut c = RpcClient::unix(socket);
    c.set_timeouts(Some(Duration::from_secs(30)), None);
    c.open("test:///default");
    c
}

fn call(c: &mut RpcClient, p: Procedure) -> Answer {
    match c.call_bytes(p as i32, &ZEROS) {
        rpc_client::Answer::Ok(_) => Answer::Ok,
        rpc_client::Answer::Err(e) => Answer::Err {
            code: e.code,
            message: e.message,
        },
        other => panic!("{}: the daemon did not answer: {other:?}", p.name()),
    }
}

/// Every procedure but CONNECT_OPEN and CONNECT_CLOSE, with the answer;
/// then the connection must still serve, and a new one open.
fn walk(socket: &Path) -> Vec<(Procedure, Answer)> {
    let mut c = open(socket);
    let answers: Vec<_> = Procedure::ALL
        .iter()
        .filter(|p| !SKIPPED.contains(p))
        .map(|p| (*p, call(&mut c, *p)))
        .collect();
    assert_eq!(call(&mut c, Procedure::ConnectGetLibVersion), Answer::Ok);
    assert_eq!(call(&mut c, Procedure::ConnectClose), Answer::Ok);
    let mut again = open(socket);
    assert_eq!(call(&mut again, Procedure::ConnectNumOfDomains), Answer::Ok);
    answers
}

/// rvirtd answers every procedure: events (which only the daemon sends)
/// are unknown, as in libvirtd; every other procedure runs, and one
/// rvirtd has no handler for is the public API's "not supported".
#[test]
fn no_procedure_is_unknown_on_a_read_write_connection() {
    let d = Daemon::rvirtd("");
    let answers = walk(&d.socket());
    assert_eq!(answers.len(), 443 - SKIPPED.len());
    let mut unsupported = 0;
    for (p, got) in &answers {
        let info = p.info();
        if info.access == Access::Event {
            assert!(got.is_unknown_procedure(), "{}: {got:?}", p.name());
            continue;
        }
        assert!(!got.is_unknown_procedure(), "{}: {got:?}", p.name());
        let implemented =
            rvirtd::dispatch::entry(*p).is_some() || rvirtd::dispatch::opens_stream(*p as i32);
        if !implemented && info.api.is_some() {
            let e = info.unsupported();
            let want = Answer::Err {
                code: ErrorCode::NO_SUPPORT,
                message: e.message,
            };
            assert_eq!(*got, want, "{}", p.name());
            unsupported += 1;
        }
    }
    eprintln!("{unsupported} procedures answer 'not supported'");
}

/// Beside a stock libvirtd 9.0 (test driver): where both lack a call, both
/// say "not supported" in the same words; neither answers a non-event
/// procedure "unknown procedure"; events are unknown to both alike; and
/// the procedures libvirtd answers otherwise where rvirtd is "not
/// supported" are listed (mostly what libvirt's test driver carries and
/// rvirt's does not yet).
#[test]
fn read_write_walk_matches_stock_libvirtd() {
    let Some((stock, ours)) = Daemon::libvirtd_and_rvirtd() else {
        return;
    };
    let theirs = walk(&stock.socket());
    let mine = walk(&ours.socket());
    let (mut both_lack, mut diffs, mut gaps) = (0, Vec::new(), Vec::new());
    for ((p, a), (_, b)) in theirs.iter().zip(&mine) {
        if p.info().access == Access::Event {
            assert_eq!(a, b, "{}", p.name());
            continue;
        }
        assert!(!a.is_unknown_procedure(), "libvirtd {}: {a:?}", p.name());
        match (a.is_no_support(), b.is_no_support()) {
            (true, true) => {
                both_lack += 1;
                if a != b {
                    diffs.push(format!("{}: libvirtd {a:?}, rvirtd {b:?}", p.name()));
                }
            }
            (false, true) => gaps.push(format!("{}: {a:?}", p.name())),
            _ => {}
        }
    }
    assert_eq!(diffs, Vec::<String>::new(), "differences from libvirtd");
    eprintln!("{both_lack} procedures neither daemon's test driver carries, answered alike");
    eprintln!(
        "{} procedures libvirtd answers otherwise but rvirtd 'not supported' \
         (its test driver carries them, or checks the zeroed arguments first):\n  {}",
        gaps.len(),
        gaps.join("\n  ")
    );
    // 98 on libvirt 9.0 with rvirtd's test driver of this writing.
    assert!(both_lack >= 90, "only {both_lack} compared");
    // Only ratchets down: 56 before the guest, save and host calls, 18
    // after (10 of them calls libvirt's test driver lacks too, where
    // libvirt's public API refuses the zeroed arguments first).
    assert!(gaps.len() <= 18, "{} gaps", gaps.len());
}
