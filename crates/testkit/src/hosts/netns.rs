//! Two network namespaces joined by a veth pair: a private two-host LAN, so
//! a migration crosses a real (virtual) link between two network stacks
//! rather than loopback. Needs root and iproute2 (scripts/install-deps.sh).

use crate::dirs::unique;
use std::process::{Command, Stdio};

/// One side of a [`Lan`]: a network namespace and its address on the link.
#[derive(Clone, Debug)]
pub struct NetNs {
    pub name: String,
    pub addr: String,
}

/// Namespaces `a` (10.77.0.1) and `b` (10.77.0.2) on one /24 over a veth
/// pair; both deleted on drop (which removes the veth pair with them).
/// Each LAN is its own pair of stacks, so the fixed addresses never clash
/// with another test's.
pub struct Lan {
    pub a: NetNs,
    pub b: NetNs,
    /// B's end of the veth pair.
    veth_b: String,
}

impl Lan {
    /// Create the namespaces and the link; `None` (with a note) where this
    /// process may not (not root, no `ip`).
    pub fn create() -> Option<Lan> {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("network namespaces need root: skipping");
            return None;
        }
        let tag = format!("rvt{}-{}", std::process::id(), unique());
        let side = |s: &str, n: u8| NetNs {
            name: format!("{tag}{s}"),
            addr: format!("10.77.0.{n}"),
        };
        // Built before the first `ip` call so a failure half-way still
        // deletes what was made.
        let (veth_a, veth_b) = (format!("{tag}x"), format!("{tag}y"));
        let lan = Lan {
            a: side("a", 1),
            b: side("b", 2),
            veth_b: veth_b.clone(),
        };
        let (a, b) = (&lan.a.name, &lan.b.name);
        let steps: Vec<Vec<&str>> = vec![
            vec!["netns", "add", a],
            vec!["netns", "add", b],
            vec![
                "link", "add", &veth_a, "netns", a, "type", "veth", "peer", "name", &veth_b,
                "netns", b,
            ],
        ];
        for args in &steps {
            if let Err(e) = ip(args) {
                eprintln!("cannot build the LAN ({e}): skipping");
                return None;
            }
        }
        for (ns, veth) in [(&lan.a, &veth_a), (&lan.b, &veth_b)] {
            let cidr = format!("{}/24", ns.addr);
            ip(&["-n", &ns.name, "addr", "add", &cidr, "dev", veth]).expect("veth address");
            ip(&["-n", &ns.name, "link", "set", veth, "up"]).expect("veth up");
            // Tools inside talk to 127.0.0.1 too (e.g. a daemon's own sockets).
            ip(&["-n", &ns.name, "link", "set", "lo", "up"]).expect("lo up");
        }
        Some(lan)
    }
}

impl Lan {
    /// Take the link down (B's end of the veth pair, so A keeps its
    /// address and its own connections; A's end loses carrier) or up
    /// again: a network that fails silently, no reset sent, so only
    /// timeouts notice.
    pub fn set_link(&self, up: bool) {
        let state = if up { "up" } else { "down" };
        ip(&["-n", &self.b.name, "link", "set", &self.veth_b, state]).expect("link state");
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let _ = ip(&["netns", "delete", &ns.name]);
        }
    }
}

/// Run `ip ARGS`; its stderr on failure.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
