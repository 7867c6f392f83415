//! The cookie's `<nbd>` part: storage migration (`--copy-storage-all`,
//! `--copy-storage-inc`). The source lists the disks to copy and their
//! capacity (the destination creates them that big); the destination
//! answers with the port of its NBD server.
//!
//! ```xml
//! <nbd port='49153'>
//!   <disk target='vda' capacity='10485760'/>
//! </nbd>
//! ```

use super::cookie_error;
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

/// `qemuMigrationCookieNBD`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CookieNbd {
    /// The destination's NBD server port (its prepare answer).
    pub port: Option<i32>,
    /// The disks the source copies (may be empty: older senders).
    pub disks: Vec<NbdDisk>,
}

/// One disk to copy: its target name and capacity in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NbdDisk {
    pub target: String,
    pub capacity: u64,
}

impl CookieNbd {
    /// `qemuMigrationCookieNBDXMLParse`.
    pub(super) fn parse(e: &Element) -> Result<CookieNbd> {
        let port = match e.attr("port") {
            None => None,
            Some(p) => Some(
                p.parse::<i32>()
                    .map_err(|_| cookie_error(format!("Malformed nbd port '{p}'")))?,
            ),
        };
        let disks = e
            .children_named("disk")
            .map(|d| {
                let target = d
                    .attr_string("target")
                    .ok_or_else(|| cookie_error("Malformed disk target"))?;
                let capacity = d.attr("capacity");
                let capacity = capacity
                    .and_then(|c| c.parse::<u64>().ok())
                    .ok_or_else(|| {
                        cookie_error(format!(
                            "Malformed disk capacity: '{}'",
                            capacity.unwrap_or("<null>")
                        ))
                    })?;
                Ok(NbdDisk { target, capacity })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(CookieNbd { port, disks })
    }

    /// `qemuMigrationCookieNBDXMLFormat` (always written, `<nbd/>` when
    /// empty); port 0 is "not set".
    pub(super) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.opt("port", self.port.filter(|p| *p != 0));
        w.elem_with("nbd", a.as_str(), |w| {
            for d in &self.disks {
                let mut a = Attrs::new();
                a.add("target", &d.target).add("capacity", d.capacity);
                w.line(&format!("<disk{}/>", a.as_str()));
            }
        });
    }
}
