//! The two-host harness the migration tests stand on: two rvirtd daemons
//! with their own host names, kept-alive test:///default instances that do
//! not share guests, the guest fixture, and the cutting proxy.

mod hosts;

use hosts::{Guest, Host, Pair, Proxy};
use std::time::Duration;

#[test]
fn two_hosts_with_own_names_and_guests() {
    let pair = Pair::start();
    assert_eq!(pair.src.ok("hostname").trim(), "rvirt-src");
    assert_eq!(pair.dst.ok("hostname").trim(), "rvirt-dst");
    assert_ne!(pair.src.port, pair.dst.port);
    assert_ne!(pair.src.host_uuid, pair.dst.host_uuid);

    // The guest defined and started by one virsh is still there for the
    // next (the held connection keeps test:///default alive) and only on
    // its own host.
    let g = Guest::new("harness");
    pair.src.define_and_start(&g);
    assert_eq!(pair.src.domstate(&g.name).as_deref(), Some("running"));
    assert!(pair.src.persistent(&g.name));
    assert_eq!(pair.dst.domstate(&g.name), None);
    assert_eq!(pair.dst.names(), vec!["test".to_string()]);
    let xml = pair.src.dumpxml(&g.name);
    assert!(xml.contains(&format!("<uuid>{}</uuid>", g.uuid)), "{xml}");
    assert!(xml.contains("<memory unit='KiB'>32768</memory>"), "{xml}");
    assert!(xml.contains(hosts::GUEST_NS), "metadata kept: {xml}");
}

#[test]
fn host_stops_by_pid_and_cleans_up() {
    let mut h = Host::start("rvirt-solo");
    let (pid, dir) = (h.pid(), h.dir.clone());
    assert!(h.is_running());
    h.kill9();
    assert!(!h.is_running());
    drop(h);
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists() || {
            // A reaped PID may be reused by an unrelated process.
            std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .map(|c| !c.contains("rvirtd"))
                .unwrap_or(true)
        }
    );
}

#[test]
fn proxy_forwards_and_cuts() {
    let h = Host::start("rvirt-proxied");
    let proxy = Proxy::start(h.port);
    let uri = format!("test+tcp://127.0.0.1:{}/default", proxy.port);
    let out = hosts::virsh(&uri, "hostname");
    assert!(out.ok, "{out:?}");
    assert_eq!(out.stdout.trim(), "rvirt-proxied");
    assert!(proxy.bytes() > 0);
    proxy.cut();
    std::thread::sleep(Duration::from_millis(50));
    let out = hosts::virsh(&uri, "hostname");
    assert!(!out.ok, "connection through a cut proxy worked: {out:?}");
}
