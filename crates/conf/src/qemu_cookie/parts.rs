//! The small cookie parts: graphics, lockstate, network, capabilities and
//! block dirty bitmaps (`qemuMigrationCookie*XMLParse/Format`).

use super::cookie_error;
use crate::xml::{escape, Attrs, Element, Writer};
use rvirt_util::Result;

/// `virDomainGraphicsType` names.
const GRAPHICS_TYPES: [&str; 7] = [
    "sdl",
    "vnc",
    "rdp",
    "desktop",
    "spice",
    "egl-headless",
    "dbus",
];

/// `<graphics type port listen tlsPort>`: where the destination's
/// display listens, for clients to follow the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieGraphics {
    pub kind: String,
    pub port: i32,
    /// Only for spice.
    pub tls_port: i32,
    pub listen: String,
    pub tls_subject: Option<String>,
}

fn int_attr(e: &Element, name: &str) -> Option<i32> {
    e.attr(name).and_then(|v| v.trim().parse().ok())
}

impl CookieGraphics {
    pub(super) fn parse(e: &Element) -> Result<CookieGraphics> {
        let kind = e
            .attr("type")
            .ok_or_else(|| cookie_error("missing type attribute in migration data"))?;
        if !GRAPHICS_TYPES.contains(&kind) {
            return Err(cookie_error(format!("unknown graphics type {kind}")));
        }
        let port = int_attr(e, "port")
            .ok_or_else(|| cookie_error("missing port attribute in migration data"))?;
        let tls_port = if kind == "spice" {
            int_attr(e, "tlsPort")
                .ok_or_else(|| cookie_error("missing tlsPort attribute in migration data"))?
        } else {
            0
        };
        let listen = e
            .attr_string("listen")
            .ok_or_else(|| cookie_error("missing listen attribute in migration data"))?;
        let tls_subject = e
            .children_named("cert")
            .find(|c| c.attr("info") == Some("subject"))
            .and_then(|c| c.attr_string("value"));
        Ok(CookieGraphics {
            kind: kind.to_string(),
            port,
            tls_port,
            listen,
            tls_subject,
        })
    }

    pub(super) fn format(&self, w: &mut Writer) {
        // libvirt prints type, port and listen unescaped.
        let mut attrs = format!(
            " type='{}' port='{}' listen='{}'",
            self.kind, self.port, self.listen
        );
        if self.kind == "spice" {
            attrs.push_str(&format!(" tlsPort='{}'", self.tls_port));
        }
        w.elem_with("graphics", &attrs, |w| {
            if let Some(s) = &self.tls_subject {
                w.line(&format!("<cert info='subject' value='{}'/>", escape(s)));
            }
        });
    }
}

/// `<lockstate driver><leases>`: the lock manager's state of the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieLockState {
    pub driver: String,
    /// Not sent when empty (the "nop" manager has none).
    pub leases: Option<String>,
}

impl CookieLockState {
    pub(super) fn parse(e: &Element) -> Result<CookieLockState> {
        let driver = e
            .attr_string("driver")
            .ok_or_else(|| cookie_error("Missing lock driver name in migration cookie"))?;
        let leases = e
            .child("leases")
            .map(|l| l.text())
            .filter(|l| !l.is_empty());
        Ok(CookieLockState { driver, leases })
    }

    /// libvirt writes the part only when there is a lease state.
    pub(super) fn format(&self, w: &mut Writer) {
        if let Some(leases) = &self.leases {
            w.line(&format!("<lockstate driver='{}'>", self.driver));
            w.indent();
            w.line(&format!("<leases>{leases}</leases>"));
            w.dedent();
            w.line("</lockstate>");
        }
    }
}

/// One NIC's `<interface vporttype><portdata>` (the virtual port's data
/// the destination's switch needs); "none" is not sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieNetData {
    pub vporttype: String,
    pub portdata: Option<String>,
}

const VPORT_TYPES: [&str; 5] = ["none", "802.1Qbg", "802.1Qbh", "openvswitch", "midonet"];

pub(super) fn parse_network(e: &Element) -> Result<Vec<CookieNetData>> {
    e.children_named("interface")
        .map(|i| {
            let vporttype = i
                .attr("vporttype")
                .ok_or_else(|| cookie_error("missing vporttype attribute in migration data"))?;
            // libvirt keeps an unknown type as "not set".
            let vporttype = if VPORT_TYPES.contains(&vporttype) {
                vporttype
            } else {
                "none"
            };
            Ok(CookieNetData {
                vporttype: vporttype.to_string(),
                portdata: i.child("portdata").map(|p| p.text()),
            })
        })
        .collect()
}

pub(super) fn format_network(nets: &[CookieNetData], w: &mut Writer) {
    let mut body = child_writer(w);
    for (i, n) in nets.iter().enumerate() {
        if n.vporttype == "none" {
            continue;
        }
        let attrs = format!(" index='{i}' vporttype='{}'", n.vporttype);
        body.elem_with("interface", &attrs, |w| {
            if let Some(p) = &n.portdata {
                w.line(&format!("<portdata>{}</portdata>", escape(p)));
            }
        });
    }
    wrap_nonempty(w, "network", body);
}

/// A writer for the children of an element at `w`'s level.
pub(super) fn child_writer(w: &Writer) -> Writer {
    let mut c = Writer::new();
    for _ in 0..=w.current_indent() / 2 {
        c.indent();
    }
    c
}

/// `virXMLFormatElement` without attributes: nothing when no children.
pub(super) fn wrap_nonempty(w: &mut Writer, name: &str, body: Writer) {
    let body = body.finish();
    if body.is_empty() {
        return;
    }
    w.line(&format!("<{name}>"));
    w.raw(&body);
    w.line(&format!("</{name}>"));
}

/// `qemuMigrationCapability` names, in libvirt 9.0's order.
pub const MIGRATION_CAPS: [&str; 12] = [
    "xbzrle",
    "auto-converge",
    "rdma-pin-all",
    "events",
    "postcopy-ram",
    "compress",
    "pause-before-switchover",
    "late-block-activate",
    "multifd",
    "dirty-bitmaps",
    "return-path",
    "zero-copy-send",
];

/// `<cap name auto>`: a migration capability the sender's QEMU supports,
/// and whether libvirt turns it on by itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieCap {
    pub name: String,
    pub auto: bool,
}

/// `qemuMigrationCookieCapsXMLParse`: known capabilities only, in
/// libvirt's order; an absent element is an empty list.
pub(super) fn parse_caps(e: Option<&Element>) -> Result<Vec<CookieCap>> {
    let mut found: Vec<(usize, bool)> = Vec::new();
    for c in e.into_iter().flat_map(|e| e.children_named("cap")) {
        let name = c
            .attr("name")
            .ok_or_else(|| cookie_error("missing migration capability name"))?;
        let Some(idx) = MIGRATION_CAPS.iter().position(|n| *n == name) else {
            continue;
        };
        let auto = c.attr("auto") == Some("yes");
        match found.iter_mut().find(|(i, _)| *i == idx) {
            Some(entry) => entry.1 |= auto,
            None => found.push((idx, auto)),
        }
    }
    found.sort_by_key(|(i, _)| *i);
    Ok(found
        .into_iter()
        .map(|(i, auto)| CookieCap {
            name: MIGRATION_CAPS[i].to_string(),
            auto,
        })
        .collect())
}

pub(super) fn format_caps(caps: &[CookieCap], w: &mut Writer) {
    w.line("<capabilities>");
    w.indent();
    for c in caps {
        let auto = if c.auto { "yes" } else { "no" };
        w.line(&format!("<cap name='{}' auto='{auto}'/>", c.name));
    }
    w.dedent();
    w.line("</capabilities>");
}

/// `<blockDirtyBitmaps><disk target><bitmap name alias/>`: the bitmaps
/// that travel with a storage migration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitmapDisk {
    pub target: String,
    /// (bitmap name, alias on the wire).
    pub bitmaps: Vec<(String, String)>,
}

fn malformed_bitmaps() -> rvirt_util::Error {
    cookie_error("malformed <blockDirtyBitmaps> in migration cookie")
}

pub(super) fn parse_bitmaps(e: &Element) -> Result<Vec<BitmapDisk>> {
    e.children_named("disk")
        .map(|d| {
            let bitmaps = d
                .children_named("bitmap")
                .map(|b| match (b.attr_string("name"), b.attr_string("alias")) {
                    (Some(n), Some(a)) => Ok((n, a)),
                    _ => Err(malformed_bitmaps()),
                })
                .collect::<Result<Vec<_>>>()?;
            let target = d.attr_string("target").ok_or_else(malformed_bitmaps)?;
            Ok(BitmapDisk { target, bitmaps })
        })
        .collect()
}

pub(super) fn format_bitmaps(disks: &[BitmapDisk], w: &mut Writer) {
    let mut body = child_writer(w);
    for d in disks.iter().filter(|d| !d.bitmaps.is_empty()) {
        let mut a = Attrs::new();
        a.add("target", &d.target);
        body.elem_with("disk", a.as_str(), |w| {
            for (name, alias) in &d.bitmaps {
                w.line(&format!("<bitmap name='{name}' alias='{alias}'/>"));
            }
        });
    }
    wrap_nonempty(w, "blockDirtyBitmaps", body);
}
