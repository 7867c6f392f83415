//! Every REMOTE procedure of libvirt 9.0 called on a read-only connection
//! (`libvirt-sock-ro`): rvirtd answers as the generated procedure table
//! says, and as a stock libvirtd (test driver) does.
//!
//! Each call carries 4 KiB of zero bytes: libvirt's XDR filters ignore what
//! follows the arguments, so every procedure decodes well-formed, all-zero
//! arguments (empty strings and lists, NULL optional strings, flags 0).
//! libvirtd decodes before its dispatcher calls the public API, so these
//! calls reach the API's read-only check, or its driver.

use rvirt_rpc::remote::{Access, Procedure};
use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::rpc::rpc_client::{self, RpcClient};
use rvirt_util::{ErrorCode, ErrorDomain};
use std::path::Path;
use std::time::Duration;

const ZEROS: [u8; 4096] = [0; 4096];

/// A reply as compared between daemons.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    Ok,
    Err {
        code: ErrorCode,
        domain: ErrorDomain,
        message: String,
    },
}

/// A client on `socket` with `test:///default` opened on it.
fn open(socket: &Path) -> RpcClient {
    let mut c = RpcClient::unix(socket);
    c.set_timeouts(Some(Duration::from_secs(30)), None);
    c.open("test:///default");
    c
}

/// Call procedure number `proc_` with `payload`; the answer as compared.
fn call(c: &mut RpcClient, proc_: i32, payload: &[u8]) -> Answer {
    match c.call_bytes(proc_, payload) {
        rpc_client::Answer::Ok(_) => Answer::Ok,
        rpc_client::Answer::Err(e) => Answer::Err {
            code: e.code,
            domain: e.domain,
            message: e.message,
        },
        other => panic!("procedure {proc_}: {other:?}"),
    }
}

/// Every procedure with the daemon's answer, but CONNECT_CLOSE and
/// CONNECT_OPEN: either ends the walk (libvirtd 9.0 drops the connection
/// when a second open fails with "connection already open").
fn walk(socket: &Path) -> Vec<(Procedure, Answer)> {
    let mut c = open(socket);
    Procedure::ALL
        .iter()
        .filter(|p| !matches!(p, Procedure::ConnectClose | Procedure::ConnectOpen))
        .map(|p| (*p, call(&mut c, *p as i32, &ZEROS)))
        .collect()
}

fn refused(p: Procedure) -> Answer {
    let e = p.info().readonly_denied();
    Answer::Err {
        code: e.code,
        domain: e.domain,
        message: e.message,
    }
}

fn unknown(n: i32) -> Answer {
    Answer::Err {
        code: ErrorCode::RPC,
        domain: ErrorDomain::RPC,
        message: format!("unknown procedure: {n}"),
    }
}

fn is_readonly_refusal(a: &Answer) -> bool {
    matches!(a, Answer::Err { code, message, .. }
        if *code == ErrorCode::OPERATION_DENIED && message.contains("read only access prevents"))
}

/// rvirtd's answer to each of the 443 procedures follows its access class:
/// events are unknown, writes are refused with the API's text and domain,
/// reads are never refused, and a read rvirtd has no handler for is the
/// API's "not supported".
#[test]
fn every_procedure_answers_by_its_class() {
    let d = Daemon::rvirtd("");
    let answers = walk(&d.socket_ro());
    assert_eq!(answers.len(), 441);
    for (p, got) in &answers {
        let info = p.info();
        let implemented =
            rvirtd::dispatch::entry(*p).is_some() || rvirtd::dispatch::opens_stream(*p as i32);
        match info.access {
            Access::Event => assert_eq!(*got, unknown(*p as i32), "{}", p.name()),
            Access::Write => assert_eq!(*got, refused(*p), "{}", p.name()),
            Access::Read | Access::ReadUnlessFlags => {
                assert!(!is_readonly_refusal(got), "{}: {got:?}", p.name());
                if !implemented && info.api.is_some() {
                    let e = info.unsupported();
                    let want = Answer::Err {
                        code: ErrorCode::NO_SUPPORT,
                        domain: e.domain,
                        message: e.message,
                    };
                    assert_eq!(*got, want, "{}", p.name());
                }
            }
        }
    }
    // Numbers outside the table, and closing, on the same kind of client.
    let mut c = open(&d.socket_ro());
    for n in [0, 444, -1, 100_000] {
        assert_eq!(call(&mut c, n, &ZEROS), unknown(n));
    }
    assert_eq!(
        call(&mut c, Procedure::ConnectClose as i32, &[]),
        Answer::Ok
    );
}

/// Write procedures whose public API validates an argument before
/// `virCheckReadOnlyGoto` (virCheckNonNullArgGoto, virCheckNonZeroArgGoto),
/// or whose dispatcher first takes a passed descriptor (OPEN_GRAPHICS: "No
/// FD available at slot 0"), so libvirtd answers zeroed arguments with that
/// error; with real arguments it refuses them for read-only access.
const ARGS_CHECKED_FIRST: [Procedure; 6] = [
    Procedure::DomainOpenGraphics,
    Procedure::DomainSendProcessSignal,
    Procedure::DomainRename,
    Procedure::ConnectBaselineHypervisorCpu,
    Procedure::DomainSetLaunchSecurityState,
    Procedure::DomainFdAssociate,
];

/// rvirtd and a stock libvirtd 9.0 give the same refusals on a read-only
/// connection: wherever either refuses a call for read-only access or does
/// not know it, both answer the same code, domain and text; and where both
/// lack the call, both say "not supported" alike.
#[test]
fn refusals_match_stock_libvirtd() {
    let Some(stock) = Daemon::libvirtd() else {
        return;
    };
    let ours = Daemon::rvirtd("");
    let theirs = walk(&stock.socket_ro());
    let mine = walk(&ours.socket_ro());
    let (mut compared, mut diffs) = (0, Vec::new());
    for ((p, a), (_, b)) in theirs.iter().zip(&mine) {
        let no_support =
            |x: &Answer| matches!(x, Answer::Err { code, .. } if *code == ErrorCode::NO_SUPPORT);
        let unknown_proc = |x: &Answer| *x == unknown(*p as i32);
        let relevant = is_readonly_refusal(a)
            || is_readonly_refusal(b)
            || unknown_proc(a)
            || unknown_proc(b)
            || (no_support(a) && no_support(b));
        if *p == Procedure::AuthPolkit {
            // libvirtd fails this step without setting an error, so its
            // reply carries whatever error its worker thread raised last
            // (often the previous call's read-only refusal) or, on a fresh
            // thread, the generic text rvirtd always gives.
            assert!(
                matches!(b, Answer::Err { message, .. }
                    if message == "Library function returned error but did not set virError"),
                "AUTH_POLKIT: rvirtd {b:?}"
            );
        } else if relevant && ARGS_CHECKED_FIRST.contains(p) {
            // libvirtd rejects the zeroed arguments before the read-only
            // check; rvirtd, without a handler, refuses first.
            assert!(
                matches!(a, Answer::Err { code, .. }
                    if *code == ErrorCode::INVALID_ARG || *code == ErrorCode::INTERNAL_ERROR),
                "{}: libvirtd {a:?}",
                p.name()
            );
            assert_eq!(*b, refused(*p), "{}", p.name());
        } else if relevant {
            compared += 1;
            if a != b {
                diffs.push(format!("{}: libvirtd {a:?}, rvirtd {b:?}", p.name()));
            }
        }
    }
    assert_eq!(diffs, Vec::<String>::new(), "differences from libvirtd");
    // 191 refusals and 51 events at least, plus the reads both lack.
    eprintln!("{compared} procedures answered alike");
    assert!(compared >= 242, "only {compared} procedures compared");
}
