//! A managed migration driven phase by phase from this test with rvirt's
//! public entry points (Connect::migrate_prepare3_params, ...) on remote
//! connections to two rvirtd hosts, with the cookie mangled between two
//! phases. The later phases clean up as libvirt's client does
//! (virDomainMigrateVersion3Full), and the guest must end where the contract
//! says: back on the source, unchanged, when any cookie up to finish is
//! bad; on the destination only when the last one (finish → confirm) is.

mod hosts;

use hosts::{
    assert_handed_over, assert_never_left_source, assert_nothing_on_dst, assert_untouched, before,
    ran_on_both, Guest, Pair, Watch,
};
use rvirt::migration::{flags, params};
use rvirt::Connect;
use rvirt_util::{TypedParamValue, TypedParams};
use std::time::Duration;

fn open(uri: &str) -> Connect {
    static REGISTER: std::sync::Once = std::sync::Once::new();
    REGISTER.call_once(rvirt_driver_remote::register);
    Connect::open(uri).unwrap_or_else(|e| panic!("open {uri}: {e}"))
}

/// Between which phases the cookie is mangled.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Hop {
    BeginToPrepare,
    PrepareToPerform,
    PerformToFinish,
    FinishToConfirm,
}

/// How it is mangled.
#[derive(Clone, Copy, Debug)]
enum Mangle {
    /// Not a cookie at all.
    Garbage,
    /// Cut in half.
    Truncated,
    /// Every byte's low bit flipped.
    Flipped,
    /// Well-formed, but the memory digest altered (perform → finish).
    Digest,
}

fn mangle(cookie: &[u8], how: Mangle) -> Vec<u8> {
    match how {
        Mangle::Garbage => b"\x00\xffnot a migration cookie".to_vec(),
        Mangle::Truncated => cookie[..cookie.len() / 2].to_vec(),
        Mangle::Flipped => cookie.iter().map(|b| b ^ 1).collect(),
        Mangle::Digest => {
            let text = String::from_utf8(cookie.to_vec()).expect("cookie is text");
            let at = text.find("<digest>").expect("cookie has a digest") + "<digest>".len();
            let mut bytes = text.into_bytes();
            bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
            bytes
        }
    }
}

/// What the hand-driven migration ended with.
#[derive(Debug)]
struct Outcome {
    /// The first error, as virDomainMigrate3 would report it.
    error: Option<rvirt_util::Error>,
}

/// virDomainMigrateVersion3Full with extensible parameters, by hand.
fn migrate_by_hand(pair: &Pair, name: &str, bad: Option<(Hop, Mangle)>) -> Outcome {
    let src = open(&pair.src.uri());
    let dst = open(&pair.dst.uri());
    let dom = src.lookup_by_name(name).expect("source domain");
    // As libvirt's client: the source keeps its job from begin to confirm
    // when it can (CHANGE_PROTECTION, source phases only), and is told
    // when prepare failed.
    let protection = src
        .supports_feature(rvirt::flags::feature::MIGRATE_CHANGE_PROTECTION)
        .expect("supports_feature");
    let fl = flags::LIVE;
    let sfl = fl
        | if protection {
            flags::CHANGE_PROTECTION
        } else {
            0
        };
    let at = |hop: Hop, c: Vec<u8>| match bad {
        Some((h, how)) if h == hop => mangle(&c, how),
        _ => c,
    };
    let mut p = TypedParams::new().with(
        params::URI,
        TypedParamValue::String("tcp://127.0.0.1".into()),
    );

    let (cookie, xml) = dom.migrate_begin3_params(&p, sfl).expect("begin");
    p.replace_string(params::DEST_XML, &xml);
    let (cookie, uri_out) =
        match dst.migrate_prepare3_params(&p, &at(Hop::BeginToPrepare, cookie), fl) {
            Ok(v) => v,
            Err(e) => {
                if protection {
                    // Begin started a job on the source: end it.
                    let _ = dom.migrate_confirm3_params(&p, &[], sfl, true);
                }
                return Outcome { error: Some(e) };
            }
        };
    if let Some(u) = uri_out {
        p.replace_string(params::URI, &u);
    }
    let performed = dom.migrate_perform3_params(None, &p, &at(Hop::PrepareToPerform, cookie), sfl);
    let (cookie, mut error, notify_source) = match performed {
        Ok(c) => (c, None, true),
        // A failed perform resumed the guest on the source already.
        Err(e) => (Vec::new(), Some(e), false),
    };
    p.replace_string(params::DEST_NAME, name);
    let cancelled = error.is_some();
    let finished = dst.migrate_finish3_params(&p, &at(Hop::PerformToFinish, cookie), fl, cancelled);
    let (ok, cookie) = match finished {
        Ok((_, c)) => (true, c),
        Err(e) => {
            error.get_or_insert(e);
            (false, Vec::new())
        }
    };
    if notify_source {
        if let Err(e) = dom.migrate_confirm3_params(&p, &at(Hop::FinishToConfirm, cookie), sfl, !ok)
        {
            error.get_or_insert(e);
        }
    }
    Outcome { error }
}

/// The hand-driven phases work when nothing is mangled, so the failures
/// below come from the cookies.
#[test]
fn phases_by_hand_migrate() {
    let pair = Pair::start();
    let g = Guest::new("byhand");
    pair.src.define_and_start(&g);
    let watch = Watch::guest(&pair, &g.name);
    let out = migrate_by_hand(&pair, &g.name, None);
    let samples = watch.finish();
    assert!(out.error.is_none(), "{:?}", out.error);
    assert!(!ran_on_both(&samples), "{samples:?}");
    assert_eq!(pair.dst.domstate(&g.name).as_deref(), Some("running"));
    assert_eq!(pair.src.domstate(&g.name).as_deref(), Some("shut off"));
}

#[test]
fn mangled_cookie_before_finish_keeps_guest_on_source() {
    let pair = Pair::start();
    let cases = [
        (Hop::BeginToPrepare, Mangle::Garbage),
        (Hop::BeginToPrepare, Mangle::Truncated),
        (Hop::BeginToPrepare, Mangle::Flipped),
        (Hop::PrepareToPerform, Mangle::Garbage),
        (Hop::PrepareToPerform, Mangle::Truncated),
        (Hop::PrepareToPerform, Mangle::Flipped),
        (Hop::PerformToFinish, Mangle::Garbage),
        (Hop::PerformToFinish, Mangle::Truncated),
        (Hop::PerformToFinish, Mangle::Flipped),
        (Hop::PerformToFinish, Mangle::Digest),
    ];
    for (hop, how) in cases {
        let what = format!("{hop:?} {how:?}");
        let g = Guest::new("cookie");
        pair.src.define_and_start(&g);
        let b = before(&pair, &g);
        let watch = Watch::guest(&pair, &g.name);
        let out = migrate_by_hand(&pair, &g.name, Some((hop, how)));
        let samples = watch.finish_apart(&what);
        let err = out
            .error
            .unwrap_or_else(|| panic!("{what}: migration succeeded"));
        let expect = match how {
            Mangle::Digest => "digest does not match",
            _ => "invalid migration cookie",
        };
        assert!(err.message.contains(expect), "{what}: {err}");
        assert_never_left_source(&samples);
        assert_untouched(&pair, &g, &b, &what);
        assert_nothing_on_dst(&pair, &g.name, Duration::ZERO, &what);
    }
}

/// The confirm cookie comes after the hand-over: the destination keeps the
/// guest, the source does not run it, and it never ran on both.
#[test]
fn mangled_confirm_cookie_leaves_guest_on_destination() {
    let pair = Pair::start();
    for how in [Mangle::Garbage, Mangle::Truncated, Mangle::Flipped] {
        let what = format!("FinishToConfirm {how:?}");
        let g = Guest::new("confirm");
        pair.src.define_and_start(&g);
        let watch = Watch::guest(&pair, &g.name);
        migrate_by_hand(&pair, &g.name, Some((Hop::FinishToConfirm, how)));
        watch.finish_apart(&what);
        assert_handed_over(&pair, &g.name, &what);
    }
}
