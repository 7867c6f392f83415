//! Peer-to-peer protocol choice: the source asks the destination's
//! features (as libvirt's virDomainMigratePeer2PeerFull does) and uses V3
//! with params, plain V3 or V2. A wrapper driver in front of a test-driver
//! host answers fewer features, and records which phases were called.

mod migration_support;

use migration_support::*;
use rvirt::driver::{
    ConnectDriver, Cookie, DomainRef, FinishArgs, HypervisorConnection, OpenOutcome, PrepareArgs,
};
use rvirt::flags::feature;
use rvirt::migration::flags;
use rvirt::{Connect, Stream, TypedParams};
use rvirt_util::{Result, Uri};
use std::sync::{Arc, Mutex};

static CALLS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn called(what: &str) {
    CALLS.lock().unwrap().push(what.to_string());
}

/// `v2only:///PATH.xml` (V2 only) and `v3only:///PATH.xml` (V3, no params)
/// in front of `test:///PATH.xml`.
struct Limited;

struct LimitedConn {
    inner: Connect,
    v3: bool,
}

impl ConnectDriver for Limited {
    fn name(&self) -> &'static str {
        "Limited"
    }
    fn open(&self, uri: &Uri, _flags: u32) -> Result<OpenOutcome> {
        let v3 = match uri.scheme.as_str() {
            "v2only" => false,
            "v3only" => true,
            _ => return Ok(OpenOutcome::Declined),
        };
        let inner = Connect::open(&format!("test://{}", uri.path))?;
        Ok(OpenOutcome::Opened(Arc::new(LimitedConn { inner, v3 })))
    }
}

impl HypervisorConnection for LimitedConn {
    fn get_type(&self) -> Result<String> {
        Ok("TEST".into())
    }
    fn get_uri(&self) -> Result<String> {
        self.inner.get_uri()
    }
    fn supports_feature(&self, f: i32) -> Result<bool> {
        Ok(match f {
            feature::MIGRATION_P2P | feature::MIGRATION_V2 => true,
            feature::MIGRATION_V3 => self.v3,
            _ => false,
        })
    }
}

impl rvirt::MigrationDriver for LimitedConn {
    fn domain_migrate_prepare2(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        called("prepare2");
        self.inner.driver().domain_migrate_prepare2(args)
    }
    fn domain_migrate_prepare_tunnel(&self, st: &Stream, args: &PrepareArgs) -> Result<()> {
        called("prepare_tunnel");
        self.inner.driver().domain_migrate_prepare_tunnel(st, args)
    }
    fn domain_migrate_finish2(&self, args: &FinishArgs, rc: i32) -> Result<DomainRef> {
        called("finish2");
        self.inner.driver().domain_migrate_finish2(args, rc)
    }
    fn domain_migrate_prepare3(&self, args: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        called("prepare3");
        self.inner.driver().domain_migrate_prepare3(args)
    }
    fn domain_migrate_prepare_tunnel3(&self, st: &Stream, args: &PrepareArgs) -> Result<Cookie> {
        called("prepare_tunnel3");
        self.inner.driver().domain_migrate_prepare_tunnel3(st, args)
    }
    fn domain_migrate_finish3(
        &self,
        args: &FinishArgs,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        called("finish3");
        self.inner.driver().domain_migrate_finish3(args, cancelled)
    }
}

fn run(scheme: &str, tag: &str, extra: u32) -> Vec<String> {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| rvirt::registry::register(Arc::new(Limited)));
    let (src, dst) = (host(&format!("{tag}-s")), host(&format!("{tag}-d")));
    let dom = start_guest(&src, tag, 16, "");
    CALLS.lock().unwrap().clear();
    let dconnuri = dst.uri.replacen("test:", &format!("{scheme}:"), 1);
    dom.migrate_perform3_params(
        Some(&dconnuri),
        &TypedParams::new(),
        &[],
        flags::LIVE | flags::PEER2PEER | extra,
    )
    .unwrap();
    assert_moved(&src, &dst, tag);
    CALLS.lock().unwrap().clone()
}

#[test]
fn p2p_falls_back_to_v3_and_v2() {
    assert_eq!(run("v3only", "pv3", 0), ["prepare3", "finish3"]);
    assert_eq!(
        run("v3only", "pv3t", flags::TUNNELLED),
        ["prepare_tunnel3", "finish3"]
    );
    assert_eq!(run("v2only", "pv2", 0), ["prepare2", "finish2"]);
    assert_eq!(
        run("v2only", "pv2t", flags::TUNNELLED),
        ["prepare_tunnel", "finish2"]
    );
}
