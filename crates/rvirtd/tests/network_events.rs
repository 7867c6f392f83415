//! python3-libvirt's network API and network lifecycle events
//! (tests/python/network_events.py) through rvirtd, over TCP and the unix
//! socket, give the transcript a stock libvirtd gives.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::tools::{assert_python_finished, python3, python_libvirt_ready, python_script};

#[test]
fn python_network_events_match_libvirtd() {
    if !python_libvirt_ready() {
        return;
    }
    let ours = Daemon::rvirtd("");
    let mut want = None;
    if let Some(stock) = Daemon::libvirtd() {
        let out = python3([python_script("network_events.py"), stock.tcp_uri()]);
        assert_python_finished(&out, "DONE", "(libvirtd)");
        want = Some(out.stdout);
    }
    for uri in [ours.tcp_uri(), ours.unix_uri()] {
        let got = python3([python_script("network_events.py"), uri.clone()]);
        assert_python_finished(
            &got,
            "DONE",
            &format!("({uri}) daemon log:\n{}", ours.log()),
        );
        // The events this script must see, whatever the reference.
        for line in [
            "events = [('all', 'evnet', 0, 0)]",
            "events = [('all', 'evnet', 2, 0)]",
            "events = [('all', 'evnet', 1, 0), ('all', 'evnet', 3, 0)]",
            "events = [('all', 'default', 2, 0), ('all', 'default', 3, 0), ('default', 'default', 2, 0), ('default', 'default', 3, 0)]",
            "events = [('all', 'default', 3, 0)]",
        ] {
            assert!(got.stdout.contains(line), "{uri}: no {line}\n{}", got.stdout);
        }
        if let Some(want) = &want {
            assert_eq!(&got.stdout, want, "{uri} differs from libvirtd");
        }
    }
}
