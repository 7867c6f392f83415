//! The migration cookie: what the two sides of one migration tell each other
//! between the phases (libvirt's `qemuMigrationCookie`, ours in rvirt's own
//! `<rvirt-migration>` XML). The bytes are opaque to the public API and the
//! daemons; only the hypervisor driver reads them.
//!
//! ```xml
//! <rvirt-migration version='1'>
//!   <name>guest</name>
//!   <uuid>…</uuid>
//!   <hostname>src-host</hostname>
//!   <hostuuid>…</hostuuid>
//!   <memory unit='bytes' page-size='4096'>67108864</memory>
//!   <digest>sha256 hex</digest>
//!   <persistent>escaped domain XML</persistent>
//!   <stats>
//!     <stat name='time_elapsed'>1234</stat>
//!   </stats>
//! </rvirt-migration>
//! ```

use crate::xml::{self, escape, Writer};
use rvirt_util::uuid::{self, Uuid};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// The only cookie version this build writes and reads.
pub const VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationCookie {
    /// The guest's name and UUID as the sender knows them.
    pub name: String,
    pub uuid: Uuid,
    /// The sending host's name and UUID (same-host detection).
    pub hostname: String,
    pub host_uuid: Uuid,
    /// Guest memory the destination must hold, and its page size.
    pub memory_bytes: u64,
    pub page_size: u64,
    /// sha256 (hex) of the guest memory at switch-over (perform → finish).
    pub digest: Option<String>,
    /// The persistent definition for `VIR_MIGRATE_PERSIST_DEST`.
    pub persistent: Option<String>,
    /// Completed-job figures (`VIR_DOMAIN_JOB_*` name, value) for the peer.
    pub stats: Vec<(String, u64)>,
    /// What only libvirt's `<qemu-migration>` carries (graphics, NBD, CPU,
    /// capabilities, ...), as received or to send; the QEMU driver's cookie
    /// format. Never written in rvirt's own format.
    pub qemu: Option<Box<crate::QemuMigrationCookie>>,
}

/// libvirt's wording for a cookie that cannot be read.
fn invalid(detail: &str) -> Error {
    Error::new(
        ErrorDomain::DOMAIN,
        ErrorCode::INTERNAL_ERROR,
        format!("invalid migration cookie: {detail}"),
    )
}

fn missing(what: &str) -> Error {
    Error::new(
        ErrorDomain::DOMAIN,
        ErrorCode::INTERNAL_ERROR,
        format!("missing {what} element in migration data"),
    )
}

impl MigrationCookie {
    /// The storage-migration part (libvirt's `<nbd>`), carried in the
    /// `<qemu-migration>` part: only the QEMU driver migrates storage.
    pub fn nbd(&self) -> Option<&crate::qemu_cookie::CookieNbd> {
        self.qemu.as_ref().and_then(|q| q.nbd.as_ref())
    }

    /// The `<qemu-migration>` part, made if needed.
    fn qemu_mut(&mut self) -> &mut crate::QemuMigrationCookie {
        let (name, uuid, host, host_uuid) = (&self.name, self.uuid, &self.hostname, self.host_uuid);
        self.qemu.get_or_insert_with(|| {
            Box::new(crate::QemuMigrationCookie::new(name, uuid, host, host_uuid))
        })
    }

    /// The `<capabilities>` part (qemuMigrationCookieAddCaps): the
    /// migration capabilities the sender's QEMU reports, among those libvirt
    /// knows, in libvirt's order; `automatic` is the one its party turns on
    /// by itself.
    pub fn set_capabilities(&mut self, supported: &[String], automatic: &str) {
        let caps = crate::qemu_cookie::MIGRATION_CAPS
            .iter()
            .filter(|name| supported.iter().any(|s| s == *name))
            .map(|name| crate::qemu_cookie::CookieCap {
                name: name.to_string(),
                auto: *name == automatic,
            })
            .collect();
        self.qemu_mut().capabilities = Some(caps);
    }

    /// Set the `<nbd>` part.
    pub fn set_nbd(&mut self, nbd: Option<crate::qemu_cookie::CookieNbd>) {
        self.qemu_mut().nbd = nbd;
    }

    /// The guest CPU the source's QEMU runs (libvirt's cookie `<cpu>`):
    /// the destination starts QEMU with it rather than with the CPU of
    /// the definition, which stays as configured.
    pub fn cpu(&self) -> Option<&crate::domain::cpu::CpuDef> {
        self.qemu.as_ref().and_then(|q| q.cpu.as_ref())
    }

    pub fn set_cpu(&mut self, cpu: Option<crate::domain::cpu::CpuDef>) {
        self.qemu_mut().cpu = cpu;
    }

    /// Mark `cpu-hotplug` mandatory (libvirt's begin does when vCPUs were
    /// plugged out of order): a destination that cannot plug them in that
    /// order refuses the cookie.
    pub fn mark_cpu_hotplug(&mut self) {
        let q = self.qemu_mut();
        q.mandatory = q
            .mandatory
            .with(crate::qemu_cookie::CookieFeature::CpuHotplug);
    }

    /// The block dirty bitmaps offered (begin) or accepted (prepare) for
    /// a storage migration (libvirt's `<blockDirtyBitmaps>`).
    pub fn bitmaps(&self) -> Option<&[crate::qemu_cookie::BitmapDisk]> {
        self.qemu
            .as_ref()
            .and_then(|q| q.block_dirty_bitmaps.as_deref())
    }

    /// Set the `<blockDirtyBitmaps>` part (none when `disks` is empty).
    pub fn set_bitmaps(&mut self, disks: Vec<crate::qemu_cookie::BitmapDisk>) {
        self.qemu_mut().block_dirty_bitmaps = (!disks.is_empty()).then_some(disks);
    }

    pub fn format(&self) -> String {
        let mut w = Writer::new();
        w.line(&format!("<rvirt-migration version='{VERSION}'>"));
        w.indent();
        w.text_elem("name", Some(&self.name));
        w.line(&format!("<uuid>{}</uuid>", self.uuid.hyphenated()));
        w.text_elem("hostname", Some(&self.hostname));
        w.line(&format!(
            "<hostuuid>{}</hostuuid>",
            self.host_uuid.hyphenated()
        ));
        w.line(&format!(
            "<memory unit='bytes' page-size='{}'>{}</memory>",
            self.page_size, self.memory_bytes
        ));
        w.text_elem("digest", self.digest.as_deref());
        w.text_elem("persistent", self.persistent.as_deref());
        if !self.stats.is_empty() {
            w.block("stats", "", |w| {
                for (name, value) in &self.stats {
                    w.line(&format!("<stat name='{}'>{value}</stat>", escape(name)));
                }
            });
        }
        w.dedent();
        w.line("</rvirt-migration>");
        w.finish()
    }

    /// Read a cookie; anything malformed is `VIR_ERR_INTERNAL_ERROR`.
    pub fn parse(text: &str) -> Result<MigrationCookie> {
        let root = xml::parse_raw(text).map_err(|e| invalid(&e.message))?;
        if root.name != "rvirt-migration" {
            return Err(invalid(&format!("unexpected root element <{}>", root.name)));
        }
        match root.attr("version").map(str::parse::<u32>) {
            Some(Ok(VERSION)) => {}
            _ => return Err(invalid("unsupported version")),
        }
        let text_of = |name: &str| root.child_text(name).map(|t| t.trim().to_string());
        // Empty when the sender does not know it yet (V1/V2 prepare).
        let name = text_of("name").ok_or_else(|| missing("name"))?;
        let uuid = text_of("uuid").ok_or_else(|| missing("uuid"))?;
        let uuid = uuid::parse(&uuid).ok_or_else(|| invalid("malformed uuid"))?;
        let hostname = text_of("hostname").ok_or_else(|| missing("hostname"))?;
        let host_uuid = text_of("hostuuid").ok_or_else(|| missing("hostuuid"))?;
        let host_uuid = uuid::parse(&host_uuid).ok_or_else(|| {
            Error::new(
                ErrorDomain::DOMAIN,
                ErrorCode::INTERNAL_ERROR,
                "malformed hostuuid element in migration data",
            )
        })?;
        let mem = root.child("memory").ok_or_else(|| missing("memory"))?;
        if mem.attr("unit").is_some_and(|u| u != "bytes") {
            return Err(invalid("memory unit must be bytes"));
        }
        let memory_bytes: u64 = mem
            .text()
            .trim()
            .parse()
            .map_err(|_| invalid("malformed memory size"))?;
        let page_size: u64 = mem
            .attr("page-size")
            .unwrap_or("4096")
            .parse()
            .map_err(|_| invalid("malformed page size"))?;
        if page_size == 0 || !page_size.is_power_of_two() {
            return Err(invalid("malformed page size"));
        }
        let digest = text_of("digest");
        if let Some(d) = &digest {
            if d.len() != 64 || !d.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(invalid("malformed digest"));
            }
        }
        let persistent = root.child_text("persistent");
        let mut stats = Vec::new();
        if let Some(s) = root.child("stats") {
            for stat in s.children_named("stat") {
                let name = stat
                    .attr("name")
                    .ok_or_else(|| invalid("stat without name"))?;
                let value = stat
                    .text()
                    .trim()
                    .parse()
                    .map_err(|_| invalid("malformed stat value"))?;
                stats.push((name.to_string(), value));
            }
        }
        Ok(MigrationCookie {
            name,
            uuid,
            hostname,
            host_uuid,
            memory_bytes,
            page_size,
            digest,
            persistent,
            stats,
            qemu: None,
        })
    }

    /// Parse cookie bytes as they arrive from a phase (must be UTF-8).
    pub fn from_bytes(bytes: &[u8]) -> Result<MigrationCookie> {
        let text = std::str::from_utf8(bytes).map_err(|_| invalid("not UTF-8"))?;
        MigrationCookie::parse(text.trim_end_matches('\0'))
    }

    /// The value of one completed-job figure.
    pub fn stat(&self, name: &str) -> Option<u64> {
        self.stats.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> MigrationCookie {
        MigrationCookie {
            name: "guest <1> & co".into(),
            uuid: uuid::parse("6695eb01-f6a4-8304-79aa-97f2502e193f").unwrap(),
            hostname: "src-host".into(),
            host_uuid: uuid::parse("00000000-1111-2222-3333-444444444444").unwrap(),
            memory_bytes: 64 << 20,
            page_size: 4096,
            digest: Some("ab".repeat(32)),
            persistent: Some("<domain type='test'><name>g</name></domain>".into()),
            stats: vec![("time_elapsed".into(), 1234), ("downtime".into(), 7)],
            qemu: None,
        }
    }

    #[test]
    fn round_trip() {
        let c = sample();
        let text = c.format();
        assert!(text.starts_with("<rvirt-migration version='1'>\n  <name>"));
        assert_eq!(MigrationCookie::parse(&text).unwrap(), c);
        assert_eq!(MigrationCookie::from_bytes(text.as_bytes()).unwrap(), c);
        let bare = MigrationCookie {
            digest: None,
            persistent: None,
            stats: Vec::new(),
            ..c
        };
        assert_eq!(MigrationCookie::parse(&bare.format()).unwrap(), bare);
        assert_eq!(sample().stat("downtime"), Some(7));
    }

    #[test]
    fn garbage_is_an_internal_error() {
        for bad in [
            "",
            "garbage",
            "<rvirt-migration",
            "<other version='1'/>",
            "<rvirt-migration version='9'/>",
            "<rvirt-migration version='1'><name>a</name></rvirt-migration>",
            "<rvirt-migration version='1'><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid></rvirt-migration>",
        ] {
            let e = MigrationCookie::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::INTERNAL_ERROR, "{bad}: {e}");
        }
        let text = sample().format().replace("67108864", "lots");
        let e = MigrationCookie::parse(&text).unwrap_err();
        assert_eq!(
            e.message,
            "internal error: invalid migration cookie: malformed memory size"
        );
        let text = sample().format().replace("00000000-1111", "zz");
        let e = MigrationCookie::parse(&text).unwrap_err();
        assert_eq!(
            e.message,
            "internal error: malformed hostuuid element in migration data"
        );
        assert!(MigrationCookie::from_bytes(&[0xff, 0xfe]).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,200}") {
            let _ = MigrationCookie::parse(&s);
        }
    }
}
