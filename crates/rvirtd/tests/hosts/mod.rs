//! The migration tests' own parts of the two-host harness (the hosts
//! themselves, their guests and stock virsh come from rvirt-testkit): the
//! four ways `virsh migrate` moves a guest, what a failed migration must
//! leave behind, a watcher that samples both hosts' view of a guest during
//! a migration, and a TCP proxy that can cut a connection.

#![allow(dead_code)]

use std::time::{Duration, Instant};

mod proxy;
mod watch;
#[allow(unused_imports)]
pub use proxy::*;
#[allow(unused_imports)]
pub use watch::*;

#[allow(unused_imports)]
pub use rvirt_testkit::dirs::{fresh_uuid, unique};
#[allow(unused_imports)]
pub use rvirt_testkit::hosts::{processed_bytes, Guest, Host, Pair, GUEST_NS};
#[allow(unused_imports)]
pub use rvirt_testkit::ports::free_port;
#[allow(unused_imports)]
pub use rvirt_testkit::tools::{spawn_shell, virsh, wait, Output};

/// The four ways `virsh migrate` moves a guest.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    Managed,
    P2p,
    Tunnelled,
    Direct,
}

pub const MODES: [Mode; 4] = [Mode::Managed, Mode::P2p, Mode::Tunnelled, Mode::Direct];

impl Mode {
    /// `virsh migrate` arguments after the flags: mode options, domain,
    /// destination and migration URI.
    pub fn args(self, pair: &Pair, name: &str) -> String {
        self.args_via(&pair.dst.uri(), &pair.dst.reloc_uri(), name)
    }

    /// As [`Mode::args`] with the destination daemon's URI and relocation
    /// URI given (e.g. through a [`Proxy`]).
    pub fn args_via(self, dst: &str, reloc: &str, name: &str) -> String {
        match self {
            Mode::Managed => format!("--live {name} {dst} --migrateuri tcp://127.0.0.1"),
            Mode::P2p => format!("--live --p2p {name} {dst} --migrateuri tcp://127.0.0.1"),
            Mode::Tunnelled => format!("--live --p2p --tunnelled {name} {dst}"),
            // libvirt hands a direct migration only the migration URI.
            Mode::Direct => format!("--live --direct {name} {reloc} --migrateuri {reloc}"),
        }
    }
}

/// The guest's source-side view before a migration, to compare after.
#[derive(Clone)]
pub struct Before {
    pub xml: String,
    pub inactive: Option<String>,
    pub persistent: bool,
}

pub fn before(pair: &Pair, g: &Guest) -> Before {
    let persistent = pair.src.persistent(&g.name);
    Before {
        xml: pair.src.dumpxml(&g.name),
        inactive: persistent.then(|| pair.src.dumpxml_inactive(&g.name)),
        persistent,
    }
}

/// The guest is back where it was on the source and nowhere else.
pub fn assert_untouched(pair: &Pair, g: &Guest, b: &Before, what: &str) {
    assert_eq!(
        pair.src.domstate(&g.name).as_deref(),
        Some("running"),
        "{what}: source state"
    );
    assert_eq!(
        pair.src.running().iter().filter(|n| **n == g.name).count(),
        1,
        "{what}"
    );
    assert_eq!(pair.src.dumpxml(&g.name), b.xml, "{what}: source XML");
    assert_eq!(pair.src.persistent(&g.name), b.persistent, "{what}");
    if let Some(inactive) = &b.inactive {
        assert_eq!(
            &pair.src.dumpxml_inactive(&g.name),
            inactive,
            "{what}: source config"
        );
    }
    // The source's job is over: a new one could start.
    let job = pair.src.ok(&format!("domjobinfo {}", g.name));
    assert!(job.contains("Job type:         None"), "{what}: {job}");
}

/// After a hand-over whose last step failed: the guest runs on the
/// destination and not on the source.
pub fn assert_handed_over(pair: &Pair, name: &str, what: &str) {
    assert_eq!(
        pair.dst.domstate(name).as_deref(),
        Some("running"),
        "{what}"
    );
    assert!(!pair.src.running().iter().any(|n| n == name), "{what}");
}

/// Nothing of `name` on the destination (allowing `grace` for a
/// destination that learns of the failure from a closed connection).
pub fn assert_nothing_on_dst(pair: &Pair, name: &str, grace: Duration, what: &str) {
    let start = Instant::now();
    loop {
        match pair.dst.domstate(name) {
            None => return,
            Some(s) if start.elapsed() >= grace => {
                panic!(
                    "{what}: '{name}' left on the destination ({s})\n--- dst log:\n{}",
                    pair.dst.log()
                )
            }
            Some(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}
