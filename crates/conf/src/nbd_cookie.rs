//! The `<nbd>` element of the migration cookie (libvirt's
//! `qemuMigrationCookieNBD`), shaped as libvirt writes it so it moves into
//! `<qemu-migration>` unchanged:
//!
//! ```xml
//! <nbd port='49153'>
//!   <disk target='vda' capacity='16777216'/>
//! </nbd>
//! ```
//!
//! The source's begin cookie lists the disks it will copy with their
//! virtual size (the destination creates a missing image that large); the
//! destination's prepare cookie gives the port its NBD server listens on.

use crate::xml::{escape, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// One disk to copy: its target (`vda`) and capacity in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NbdDisk {
    pub target: String,
    pub capacity: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CookieNbd {
    /// The destination's NBD server port (its prepare answer); 0 is "not
    /// set". Typed as s7-mixed's `<qemu-migration>` model has it.
    pub port: Option<i32>,
    pub disks: Vec<NbdDisk>,
}

fn malformed(text: String) -> Error {
    Error::new(ErrorDomain::QEMU, ErrorCode::INTERNAL_ERROR, text)
}

impl CookieNbd {
    /// `qemuMigrationCookieNBDXMLFormat`.
    pub fn format(&self, w: &mut Writer) {
        let port = match self.port.filter(|p| *p != 0) {
            None => String::new(),
            Some(p) => format!(" port='{p}'"),
        };
        if self.disks.is_empty() {
            w.line(&format!("<nbd{port}/>"));
            return;
        }
        w.line(&format!("<nbd{port}>"));
        w.indent();
        for d in &self.disks {
            w.line(&format!(
                "<disk target='{}' capacity='{}'/>",
                escape(&d.target),
                d.capacity
            ));
        }
        w.dedent();
        w.line("</nbd>");
    }

    /// `qemuMigrationCookieNBDXMLParse`, with libvirt's messages.
    pub fn parse(nbd: &Element) -> Result<CookieNbd> {
        let port = match nbd.attr("port") {
            None => None,
            Some(p) => Some(
                p.parse()
                    .map_err(|_| malformed(format!("Malformed nbd port '{p}'")))?,
            ),
        };
        let disks = nbd
            .children_named("disk")
            .map(|d| {
                let target = d
                    .attr("target")
                    .ok_or_else(|| malformed("Malformed disk target".into()))?;
                let capacity = d.attr("capacity");
                let capacity = capacity.and_then(|c| c.parse().ok()).ok_or_else(|| {
                    malformed(format!(
                        "Malformed disk capacity: '{}'",
                        capacity.unwrap_or("<null>")
                    ))
                })?;
                Ok(NbdDisk {
                    target: target.to_string(),
                    capacity,
                })
            })
            .collect::<Result<_>>()?;
        Ok(CookieNbd { port, disks })
    }

    /// The capacity the source gave for disk `target`.
    pub fn capacity_of(&self, target: &str) -> Option<u64> {
        self.disks
            .iter()
            .find(|d| d.target == target)
            .map(|d| d.capacity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_in_libvirts_shape() {
        let c = CookieNbd {
            port: Some(49153),
            disks: vec![NbdDisk {
                target: "vda".into(),
                capacity: 16 << 20,
            }],
        };
        let mut w = Writer::new();
        c.format(&mut w);
        let text = w.finish();
        assert_eq!(
            text,
            "<nbd port='49153'>\n  <disk target='vda' capacity='16777216'/>\n</nbd>\n"
        );
        let el = crate::xml::parse_raw(&text).unwrap();
        assert_eq!(CookieNbd::parse(&el).unwrap(), c);
        assert_eq!(c.capacity_of("vda"), Some(16 << 20));
        let bare = crate::xml::parse_raw("<nbd/>").unwrap();
        assert_eq!(CookieNbd::parse(&bare).unwrap(), CookieNbd::default());
        let bad = crate::xml::parse_raw("<nbd port='x'/>").unwrap();
        let e = CookieNbd::parse(&bad).unwrap_err();
        assert!(
            e.message.contains("Malformed nbd port 'x'"),
            "{}",
            e.message
        );
        let bad = crate::xml::parse_raw("<nbd><disk target='vda'/></nbd>").unwrap();
        let e = CookieNbd::parse(&bad).unwrap_err();
        assert!(
            e.message.contains("Malformed disk capacity"),
            "{}",
            e.message
        );
    }
}
